"""Figure 6-4 of the source, redrawn by code: one LSTM cell with its three gates and its memory cell.

Drawn with :mod:`rnn_book.viz.diagram`, so it shares the book's visual language: the memory cell C
runs along the top, the hidden state H along the bottom, X_t enters from below, the σ gates are
purple, the tanh candidate is orange, element-wise operations are circles.

The LSTM chapter's two views of a trained cell are drawn here too: :func:`gate_heatmaps` (every
gate along one sequence) and :func:`count_probe_figure` (one unit's cell and hidden state against
the count it keeps).
"""
from __future__ import annotations

from numbers import Integral

from .diagram import Diagram
from ..fonts import caption

# Every symbol of the equations that the figure must show (the tests check this list).
SYMBOLS = ("X_t", "H_{t-1}", "C_{t-1}", "F_t", "I_t", "O_t", r"\tilde{C}_t", "C_t", "H_t")


def lstm_cell_figure(title: str | None = None) -> Diagram:
    """Draw the LSTM cell; returns the :class:`Diagram` (its ``.fig`` is the matplotlib Figure)."""
    title = title or caption("图 6-4 LSTM 单元：三个门与记忆单元", "Fig. 6-4 redrawn: the LSTM cell, three gates and a memory cell")
    d = Diagram(12.4, 7.6, title)
    # the cell's outline, drawn first so that everything else sits on top of it
    d.box(6.15, 3.55, 8.1, 5.9, "", role="#f9fafb")
    yC, yH, y_bus, y_gate = 5.8, 0.9, 1.7, 3.1

    # --- the memory cell C: left to right along the top ----------------------------------------
    d.text(0.55, yC, "$C_{t-1}$", fontsize=12)
    fx = d.op(3.0, yC, "⊙")                               # F_t ⊙ C_{t-1}
    plus = d.op(6.2, yC, "+")                             # ... + I_t ⊙ C̃_t
    d.arrow((0.95, yC), fx, shrink=4)
    d.arrow(fx, plus)
    d.arrow(plus, (11.6, yC), shrink=12)
    d.text(11.95, yC, "$C_t$", fontsize=12)

    # --- X_t and H_{t-1} meet on one bus that feeds every gate -------------------------------------
    d.text(0.55, yH, "$H_{t-1}$", fontsize=12)
    d.line([(1.0, yH), (1.7, yH), (1.7, y_bus), (7.9, y_bus)], arrow_end=False)
    d.text(2.4, 0.12, "$X_t$", fontsize=12)
    d.line([(2.4, 0.35), (2.4, y_bus)], arrow_end=False)
    d.ax.plot([2.4], [y_bus], "o", ms=4, color="#374151")   # X_t joins H_{t-1} on the bus
    d.text(5.4, y_bus - 0.3, r"$[X_t,\ H_{t-1}]$", fontsize=8, color="#6b7280")

    # --- the three σ gates and the tanh candidate -------------------------------------------------
    gates = [(3.0, r"$\sigma$" + "\n" + "$F_t$", "gate", "forget"),
             (4.6, r"$\sigma$" + "\n" + "$I_t$", "gate", "input"),
             (6.2, "tanh\n" + r"$\tilde{C}_t$", "candidate", "candidate"),
             (7.9, r"$\sigma$" + "\n" + "$O_t$", "gate", "output")]
    for x, label, role, name in gates:
        d.line([(x, y_bus), (x, y_bus + 0.5), (x, y_gate - 0.47)])
        d.box(x, y_gate, 1.0, 0.9, label, role=role, fontsize=10)
        d.text(x - 0.1, y_gate - 0.78, name, fontsize=7, color="#6b7280", ha="right")

    d.arrow((3.0, y_gate + 0.45), fx, shrink=6)           # F_t into the forget product
    ix = d.op(6.2, 4.45, "⊙")                              # I_t ⊙ C̃_t
    d.arrow((4.6, y_gate + 0.45), ix, curve=-0.25, shrink=6)
    d.arrow((6.2, y_gate + 0.45), ix, shrink=6)
    d.arrow(ix, plus)

    # --- output: H_t = O_t ⊙ tanh(C_t) -------------------------------------------------------------
    th = d.op(9.4, 4.45, "tanh")
    d.line([(9.4, yC), (9.4, 5.1), (9.4, 4.45 + 0.22)])   # C_t branches off the cell line into tanh
    d.dot(9.4, yC)
    ox = d.op(9.4, y_gate, "⊙")
    d.arrow(th, ox)
    d.arrow((7.9 + 0.5, y_gate), ox, shrink=4)
    d.line([(9.4, y_gate - 0.22), (9.4, yH), (11.6, yH)])
    d.text(11.95, yH, "$H_t$", fontsize=12)
    # H_t also leaves upwards as the output: it branches off the H line and passes under the cell line
    d.dot(10.6, yH)
    d.line([(10.6, yH), (10.6, yC - 0.15)], arrow_end=False)
    d.line([(10.6, yC + 0.15), (10.6, 7.25)])
    d.text(10.95, 7.15, "$H_t$", fontsize=10)

    d.text(6.0, 0.12, "σ gates take values in (0, 1); ⊙ is element-wise multiplication",
           fontsize=8, color="#6b7280")
    return d


def gate_heatmaps(trace: dict, text: str, names=("i", "f", "o", "c", "h"), mark_unit: int | None = None,
                  title: str | None = None):
    """Heatmaps (hidden unit x time step) of traced LSTM values for one sequence; returns the Figure.

    ``trace`` maps names to (time, hidden) tensors (one row of :func:`rnn_book.analysis.lstm_probes.trace_gates`);
    ``text`` labels the time axis with the input characters; ``mark_unit`` outlines one unit's row.
    """
    import matplotlib.pyplot as plt

    from ..plots import heatmap

    title = title or caption("LSTM 各门沿一条输入序列的取值", "LSTM gate values along one input sequence")

    T = len(text)
    labels = {"i": ("input gate $I_t$", "viridis", 0, 1), "f": ("forget gate $F_t$", "viridis", 0, 1),
              "o": ("output gate $O_t$", "viridis", 0, 1), "c_tilde": (r"candidate $\tilde C_t$", "coolwarm", -1, 1),
              "c": ("memory cell $C_t$", "coolwarm", None, None), "h": ("hidden state $H_t$", "coolwarm", -1, 1)}
    for n in names:
        if n not in trace or n not in labels:
            raise ValueError(f"gate_heatmaps: no traced values named {n!r}; have {sorted(trace)}")
        if trace[n].dim() != 2 or trace[n].shape[0] != T:
            raise ValueError(f"gate_heatmaps: trace[{n!r}] must be (time={T}, hidden); got {tuple(trace[n].shape)}")
    hidden = trace[names[0]].shape[1]
    if mark_unit is not None and not (_is_index(mark_unit) and 0 <= mark_unit < hidden):
        raise ValueError(f"gate_heatmaps: mark_unit must be a unit index in 0..{hidden - 1} or None; got {mark_unit!r}")
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 2.0 * len(names)), sharex=True, squeeze=False)
    axes = axes[:, 0]
    for ax, n in zip(axes, names):
        label, cmap, lo, hi = labels[n]
        m = trace[n].T.detach().cpu().numpy()
        if n == "c":                                   # symmetric colour scale around 0 for the unbounded cell
            lo, hi = -abs(m).max(), abs(m).max()
        heatmap(m, label, "", "unit", ax=ax, cmap=cmap, vmin=lo, vmax=hi, colorbar="value")
        if mark_unit is not None:
            _outline_row(ax, mark_unit, T)
    axes[-1].set_xticks(range(T), list(text), fontsize=8)
    axes[-1].set_xlabel("time step t (the input character at each step)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _is_index(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


MARK = "#e11d8f"     # the outline of a marked row: a colour neither viridis nor coolwarm uses, nor the frame


def _outline_row(ax, row: int, width: int) -> None:
    """Outline one row of a heatmap and point at it from the right.

    The outline is drawn above the axes frame and in its own colour, so that the first or last row,
    whose edge lies on the frame, stays visible.
    """
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    ax.add_patch(Rectangle((-0.5, row - 0.5), width, 1, fill=False, ec=MARK, lw=2.0, zorder=4, clip_on=False))
    ax.plot([1.014], [row], marker="<", ms=7, color=MARK, clip_on=False, zorder=4,
            transform=blended_transform_factory(ax.transAxes, ax.transData))


def count_probe_figure(balance, cell, hidden, unit: int, r2_cell: float, r2_hidden: float):
    """One unit's memory cell C_t and hidden state H_t plotted against the count they track; returns the Figure.

    ``balance`` is the count at every position (n,); ``cell`` and ``hidden`` are the traced C_t and
    H_t at the same positions (n, units); ``unit`` is the unit to plot; ``r2_cell`` and ``r2_hidden``
    score a linear read-out of the count from all units (:func:`rnn_book.analysis.lstm_probes.probe_r2`).
    """
    import matplotlib.pyplot as plt
    import torch

    balance, cell, hidden = (torch.as_tensor(v).detach().cpu().double() for v in (balance, cell, hidden))
    if balance.dim() != 1 or cell.dim() != 2 or cell.shape != hidden.shape or cell.shape[0] != balance.shape[0]:
        raise ValueError("count_probe_figure: expected balance (n,) and cell, hidden (n, units) of one shape; got "
                         f"{tuple(balance.shape)}, {tuple(cell.shape)}, {tuple(hidden.shape)}")
    units = cell.shape[1]
    if not (_is_index(unit) and 0 <= unit < units):
        raise ValueError(f"count_probe_figure: unit must be an index in 0..{units - 1}; got {unit!r}")
    # constrained layout keeps each panel's y-label clear of its tick labels and of the other panel
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True, layout="constrained")
    panels = (("memory cell $C_t$", "memory cell", cell, r2_cell, "#2563eb"),
              ("hidden state $H_t$", "hidden state", hidden, r2_hidden, "#d97706"))
    for ax, (name, short, values, r2, colour) in zip(axes, panels):
        ax.plot(balance, values[:, unit], ".", ms=2, color=colour)
        ax.set_title(f"unit {unit}: {name}\nlinear read-out of all {units} units: R² = {r2:.3f}", fontsize=10)
        ax.set_xlabel("bracket balance $d_t$ (count)")
        ax.set_ylabel(f"{short} value (unitless)")
        ax.grid(alpha=0.3)
    fig.suptitle(caption("括号计数：从记忆单元与隐藏状态中读出", "The bracket count read from the memory cell and from the hidden state"))
    return fig
