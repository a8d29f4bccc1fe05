"""Stacked and bidirectional networks, drawn in the visual language of 图 6-3 (rnn_figures.unrolled)."""
from __future__ import annotations

from .diagram import PALETTE, Diagram
from ..fonts import caption


def stacked(T: int = 3, layers: int = 2, title: str | None = None) -> Diagram:
    """Layers of unrolled units: layer l's h^(l)_t is layer l+1's input at step t."""
    if not (1 <= T <= 6 and 1 <= layers <= 4):
        raise ValueError(f"stacked: T must lie in 1..6 and layers in 1..4; got T={T}, layers={layers}")
    title = title or caption(f"本书补充图：深层（堆叠）RNN，{layers} 层沿时间展开 {T} 步",
                             f"Added by this book: a deep (stacked) RNN, {layers} layers unrolled over T = {T} steps")
    step, dy = 2.4, 1.7
    width, height = 1.6 + step * T + 0.6, 1.6 + dy * layers + 0.9
    d = Diagram(width, height, title)
    for t in range(1, T + 1):
        cx = 0.4 + step * t
        d.box(cx, 0.5, 0.8, 0.5, f"$x_{{{t}}}$", role="input", fontsize=10)
        below = (cx, 0.75)
        for l in range(1, layers + 1):
            cy = 0.6 + dy * l
            d.box(cx, cy, 1.3, 0.8, f"$h^{{({l})}}_{{{t}}}$", role="hidden", fontsize=10)
            d.arrow(below, (cx, cy - 0.4), shrink=2)
            below = (cx, cy + 0.4)
            if t == 1:
                d.box(0.55, cy, 0.8, 0.5, f"$h^{{({l})}}_0$", role="hidden", fontsize=9)
                d.arrow((0.95, cy), (cx - 0.65, cy), shrink=2)
            if t < T:
                d.arrow((cx + 0.65, cy), (cx + step - 0.65, cy), shrink=2)
        d.box(cx, height - 0.55, 0.8, 0.5, f"$o_{{{t}}}$", role="output", fontsize=10)
        d.arrow(below, (cx, height - 0.8), shrink=2)
    d.text(width / 2, 0.02, "each layer has its own weights, shared across time; "
           "layer l's outputs are layer l+1's inputs", fontsize=8, color="#6b7280")
    return d


def bidirectional(T: int = 3, title: str | None = None) -> Diagram:
    """A forward chain (left to right) and a backward chain (right to left); o_t reads both."""
    if not 1 <= T <= 6:
        raise ValueError(f"bidirectional: T must lie in 1..6; got {T}")
    title = title or caption(f"本书补充图：双向 RNN，{T} 步，正反两条链，输出同时读取两者",
                             f"Added by this book: a bidirectional RNN over T = {T} steps, two chains, outputs read both")
    step = 2.4
    width, height = 1.6 + step * T + 0.6, 6.0
    d = Diagram(width, height, title)
    yf, yb = 2.1, 3.6
    w = 0.9
    for t in range(1, T + 1):
        cx = 0.4 + step * t
        d.box(cx, 0.5, 0.8, 0.5, f"$x_{{{t}}}$", role="input", fontsize=10)
        d.box(cx, yf, w, 0.7, rf"$\overrightarrow{{h}}_{{{t}}}$", role="hidden", fontsize=10)
        d.box(cx, yb, w, 0.7, rf"$\overleftarrow{{h}}_{{{t}}}$", role=PALETTE["cell"], fontsize=10)
        d.box(cx, 5.3, 0.8, 0.5, f"$o_{{{t}}}$", role="output", fontsize=10)
        d.arrow((cx, 0.75), (cx, yf - 0.35), shrink=2)                       # x_t -> forward
        d.line([(cx - 0.2, 0.75), (cx - 0.2, 1.15), (cx - 0.75, 1.15), (cx - 0.75, yb), (cx - w / 2, yb)])
        d.arrow((cx, yb + 0.35), (cx, 5.05), shrink=2)                       # backward -> o_t
        d.line([(cx + w / 2, yf), (cx + 0.75, yf), (cx + 0.75, 4.75), (cx + 0.2, 4.75), (cx + 0.2, 5.05)])
        if t < T:
            d.arrow((cx + w / 2, yf - 0.2), (cx + step - w / 2, yf - 0.2), shrink=2)
            d.arrow((cx + step - w / 2, yb + 0.2), (cx + w / 2, yb + 0.2), shrink=2)
    d.text(0.6, yf, "forward\n→", fontsize=8)
    d.text(width - 0.3, yb, "←\nbackward", fontsize=8)
    d.text(width / 2, 0.02, r"$o_t$ reads $[\overrightarrow{h}_t ; \overleftarrow{h}_t]$: the past through one chain, "
           "the future through the other", fontsize=8, color="#6b7280")
    return d
