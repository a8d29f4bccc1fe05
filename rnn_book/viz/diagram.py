"""A small drawing kit for cell diagrams, so every figure of the book speaks one visual language.

Conventions: inputs x_t enter from below, outputs leave upwards, state flows left to right;
learned layers are rounded boxes coloured by role (PALETTE), element-wise operations are circles
(⊙, +, 1−, tanh), the one-step delay is a small black square (as in the source's 图 6-2).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

PALETTE = {
    "input": "#dbeafe",      # x_t
    "hidden": "#fde68a",     # h_t, the hidden state
    "cell": "#fecaca",       # C_t, the LSTM memory cell
    "output": "#d1fae5",     # o_t
    "gate": "#e9d5ff",       # σ gates: i, f, o, r, z
    "candidate": "#fed7aa",  # tanh candidates: C̃_t, H̃_t
    "op": "#ffffff",         # element-wise operations
    "edge": "#374151",
}


class Diagram:
    """Axes in data units with helpers for boxes, operation circles, arrows and the delay square."""

    def __init__(self, width: float, height: float, title: str, scale: float = 0.9):
        self.fig, self.ax = plt.subplots(figsize=(width * scale, height * scale))
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(0, height)
        self.ax.set_aspect("equal")
        self.ax.axis("off")
        self.ax.set_title(title)

    def box(self, x, y, w, h, label, role="hidden", fontsize=11, rounded=True):
        """A box centred at (x, y); returns its centre for arrows."""
        style = "round,pad=0.02,rounding_size=0.15" if rounded else "square,pad=0.0"
        self.ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style,
                                         fc=PALETTE.get(role, role), ec=PALETTE["edge"], lw=1.2))
        self.ax.text(x, y, label, ha="center", va="center", fontsize=fontsize)
        return (x, y)

    def op(self, x, y, symbol, r=0.22, fontsize=11):
        """An element-wise operation as a circle: '⊙', '+', '1−', 'tanh'."""
        self.ax.add_patch(Circle((x, y), r, fc=PALETTE["op"], ec=PALETTE["edge"], lw=1.2))
        self.ax.text(x, y, symbol, ha="center", va="center", fontsize=fontsize if len(symbol) < 3 else 7)
        return (x, y)

    def delay(self, x, y, size=0.22):
        """The one-step delay on a recurrent edge: a small black square."""
        self.ax.add_patch(Rectangle((x - size / 2, y - size / 2), size, size, fc="black", ec="black"))
        return (x, y)

    def arrow(self, start, end, label=None, curve=0.0, label_offset=(0.0, 0.15), color=None, style="-|>", lw=1.3,
              shrink=12, shrink_start=None):
        """An arrow from start to end, pulled back by ``shrink`` points at both ends (``shrink_start``
        overrides the start: 0 for an arrow that leaves a wire, so that it stays attached to it)."""
        self.ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, lw=lw,
                                          color=color or PALETTE["edge"], connectionstyle=f"arc3,rad={curve}",
                                          shrinkA=shrink if shrink_start is None else shrink_start, shrinkB=shrink))
        if label:
            mx, my = (start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1]
            self.ax.text(mx, my, label, ha="center", va="bottom", fontsize=9)

    def line(self, points, color=None, lw=1.3, arrow_end=True):
        """A wire through points (corners allowed), with an arrowhead on the last segment.

        The wire starts exactly at its first point (where it leaves another wire or a box edge);
        only a one-segment wire's arrowhead stops short of its end point.
        """
        xs, ys = zip(*points)
        self.ax.plot(xs[:-1] if arrow_end else xs, ys[:-1] if arrow_end else ys, color=color or PALETTE["edge"], lw=lw)
        if arrow_end:
            self.arrow(points[-2], points[-1], color=color, shrink=0 if len(points) > 2 else 12, shrink_start=0)

    def dot(self, x, y):
        """A junction: the wire splits (or two wires join) here."""
        self.ax.plot([x], [y], "o", ms=4, color=PALETTE["edge"], zorder=3)

    def text(self, x, y, s, **kw):
        kw.setdefault("ha", "center")
        kw.setdefault("va", "center")
        self.ax.text(x, y, s, **kw)

    def labels(self) -> list[str]:
        """Every text drawn, for tests that a figure shows the symbols it should."""
        return [t.get_text() for t in self.ax.texts]
