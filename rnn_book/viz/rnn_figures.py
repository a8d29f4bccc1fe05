"""Figures 6-2 and 6-3 of the source, redrawn by code with :mod:`rnn_book.viz.diagram`.

* :func:`recurrent_unit` (图 6-2): one recurrent unit; x_t enters from below, o_t leaves upwards,
  and h_t loops back into the unit through a one-step delay (the black square), arriving as h_{t-1}.
* :func:`unrolled` (图 6-3): the same unit copied along the time axis, h_0 -> h_1 -> ... -> h_T,
  with the same three weight matrices written on every copy.
"""
from __future__ import annotations

from .diagram import Diagram
from ..fonts import caption

# Every symbol each figure must show (the tests check these lists).
UNIT_SYMBOLS = ("$x_t$", "$h_t$", "$h_{t-1}$", "$o_t$", "$W_{xh}$", "$W_{hh}$", "$W_{ho}$")

CELL_TEXT = r"$h_t=\tanh(x_tW_{xh}+h_{t-1}W_{hh}+b_h)$"


def unrolled_symbols(T: int) -> tuple[str, ...]:
    """The symbols :func:`unrolled` draws for ``T`` steps: x_t, h_t, o_t for every t, and h_0."""
    return ("$h_0$",) + tuple(f"${s}_{{{t}}}$" for t in range(1, T + 1) for s in "xho")


def recurrent_unit(title: str | None = None) -> Diagram:
    """Draw 图 6-2; returns the :class:`Diagram` (``.fig`` is the Figure, ``.labels()`` its texts)."""
    title = title or caption("图 6-2 循环单元：隐藏状态经一步延迟回到单元",
                             "Fig. 6-2 redrawn: the recurrent unit and its one-step delay")
    d = Diagram(8.0, 6.0, title)
    cx, cy, w, h = 3.4, 3.0, 3.6, 1.3
    d.box(cx, cy, w, h, "recurrent unit\n" + CELL_TEXT, role="hidden", fontsize=8)

    # input from below, output upwards
    d.box(cx, 0.5, 0.9, 0.6, "$x_t$", role="input")
    d.arrow((cx, 0.8), (cx, cy - h / 2), shrink=2)
    d.text(cx + 0.15, 1.45, "$W_{xh}$", fontsize=10, ha="left")
    d.box(cx, 5.35, 0.9, 0.6, "$o_t$", role="output")
    d.arrow((cx, cy + h / 2), (cx, 5.05), shrink=2)
    d.text(cx + 0.15, 4.45, "$W_{ho}$", fontsize=10, ha="left")
    d.text(cx - 0.15, 4.45, "$o_t=h_tW_{ho}+b_o$", fontsize=8, ha="right", color="#6b7280")

    # the recurrent loop on the right: h_t leaves, waits one step in the delay, re-enters as h_{t-1}
    right, loop_x = cx + w / 2, 7.0
    y_out, y_in = cy + 0.35, cy - 0.35
    d.line([(right, y_out), (loop_x, y_out), (loop_x, y_in)], arrow_end=False)
    d.arrow((loop_x, y_in), (right, y_in), shrink=1)
    d.delay(loop_x, cy)
    d.text(right + 0.55, y_out + 0.22, "$h_t$", fontsize=11)
    d.text(right + 0.65, y_in - 0.25, "$h_{t-1}$", fontsize=11)
    d.text(loop_x + 0.2, cy, "$W_{hh}$", fontsize=10, ha="left")
    d.text(loop_x, cy - 1.25, "■ = delay of\none time step", fontsize=8, color="#6b7280")
    return d


def unrolled(T: int = 3, title: str | None = None) -> Diagram:
    """Draw 图 6-3 for ``T`` time steps (1..6): the unit of 图 6-2 applied once per step, same weights."""
    if not isinstance(T, int) or isinstance(T, bool) or not 1 <= T <= 6:
        raise ValueError(f"unrolled: T must be an int from 1 to 6 (the figure's width); got {T!r}")
    title = title or caption(f"图 6-3 同一个单元沿时间展开 {T} 步，各步共用一组权重",
                             f"Fig. 6-3 redrawn: the unit unrolled over T = {T} steps, one set of weights")
    step = 2.6
    width = 2.2 + step * T + 0.4
    d = Diagram(width, 5.6, title)
    cy, w, h = 2.8, 1.5, 1.0
    d.box(0.55, cy, 0.8, 0.55, "$h_0$", role="hidden", fontsize=10)
    prev = (0.95, cy)
    for t in range(1, T + 1):
        cx = 0.6 + step * t
        d.box(cx, cy, w, h, "unit", role="hidden", fontsize=9)
        d.arrow(prev, (cx - w / 2, cy), shrink=2)
        label = "$W_{hh}$"
        d.text((prev[0] + cx - w / 2) / 2, cy + 0.22, label, fontsize=8)
        d.box(cx, 0.55, 0.8, 0.55, f"$x_{{{t}}}$", role="input", fontsize=10)
        d.arrow((cx, 0.83), (cx, cy - h / 2), shrink=2)
        d.text(cx + 0.12, 1.55, "$W_{xh}$", fontsize=8, ha="left")
        d.box(cx, 5.0, 0.8, 0.55, f"$o_{{{t}}}$", role="output", fontsize=10)
        d.arrow((cx, cy + h / 2), (cx, 4.72), shrink=2)
        d.text(cx + 0.12, 4.0, "$W_{ho}$", fontsize=8, ha="left")
        # h_t sits on the wire that leaves copy t, on its way to copy t+1
        d.text(cx + w / 2 + 0.45, cy - 0.3, f"$h_{{{t}}}$", fontsize=10)
        prev = (cx + w / 2, cy)
    d.arrow(prev, (prev[0] + 0.9, cy), shrink=2)
    d.text(width / 2, 0.02, "the same $W_{xh}$, $W_{hh}$, $W_{ho}$, $b_h$, $b_o$ at every step: "
           "the parameter count does not depend on T", fontsize=8, color="#6b7280")
    return d
