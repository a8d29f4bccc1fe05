"""Figure 6-4 of the source, redrawn by code: one LSTM cell with its three gates and its memory cell.

Drawn with :mod:`rnn_book.viz.diagram`, so it shares the book's visual language: the memory cell C
runs along the top, the hidden state H along the bottom, X_t enters from below, the σ gates are
purple, the tanh candidate is orange, element-wise operations are circles.
"""
from __future__ import annotations

from .diagram import Diagram

# Every symbol of the equations that the figure must show (the tests check this list).
SYMBOLS = ("X_t", "H_{t-1}", "C_{t-1}", "F_t", "I_t", "O_t", r"\tilde{C}_t", "C_t", "H_t")


def lstm_cell_figure(title: str = "Fig. 6-4 redrawn: the LSTM cell") -> Diagram:
    """Draw the LSTM cell; returns the :class:`Diagram` (its ``.fig`` is the matplotlib Figure)."""
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
    d.line([(9.4, yC), (9.4, 5.1), (9.4, 4.45 + 0.22)])
    ox = d.op(9.4, y_gate, "⊙")
    d.arrow(th, ox)
    d.arrow((7.9 + 0.5, y_gate), ox, shrink=4)
    d.line([(9.4, y_gate - 0.22), (9.4, yH), (11.6, yH)])
    d.text(11.95, yH, "$H_t$", fontsize=12)
    d.line([(10.6, yH), (10.6, 7.25)])                     # H_t also leaves upwards as the output
    d.text(10.95, 7.15, "$H_t$", fontsize=10)

    d.text(6.0, 0.12, "σ gates take values in (0, 1); ⊙ is element-wise multiplication",
           fontsize=8, color="#6b7280")
    return d


def gate_heatmaps(trace: dict, text: str, names=("i", "f", "o", "c", "h"), mark_unit: int | None = None,
                  title: str = "LSTM gate values along one input sequence"):
    """Heatmaps (hidden unit x time step) of traced LSTM values for one sequence; returns the Figure.

    ``trace`` maps names to (time, hidden) tensors (one row of :func:`rnn_book.analysis.lstm_probes.trace_gates`);
    ``text`` labels the time axis with the input characters; ``mark_unit`` outlines one unit's row.
    """
    import matplotlib.pyplot as plt

    from ..plots import heatmap

    T = len(text)
    labels = {"i": ("input gate $I_t$", "viridis", 0, 1), "f": ("forget gate $F_t$", "viridis", 0, 1),
              "o": ("output gate $O_t$", "viridis", 0, 1), "c_tilde": (r"candidate $\tilde C_t$", "coolwarm", -1, 1),
              "c": ("memory cell $C_t$", "coolwarm", None, None), "h": ("hidden state $H_t$", "coolwarm", -1, 1)}
    for n in names:
        if n not in trace or n not in labels:
            raise ValueError(f"gate_heatmaps: no traced values named {n!r}; have {sorted(trace)}")
        if trace[n].dim() != 2 or trace[n].shape[0] != T:
            raise ValueError(f"gate_heatmaps: trace[{n!r}] must be (time={T}, hidden); got {tuple(trace[n].shape)}")
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 2.0 * len(names)), sharex=True)
    for ax, n in zip(axes, names):
        label, cmap, lo, hi = labels[n]
        m = trace[n].T.detach().cpu().numpy()
        if n == "c":                                   # symmetric colour scale around 0 for the unbounded cell
            lo, hi = -abs(m).max(), abs(m).max()
        heatmap(m, label, "", "unit", ax=ax, cmap=cmap, vmin=lo, vmax=hi, colorbar="value")
        if mark_unit is not None:
            ax.add_patch(plt.Rectangle((-0.5, mark_unit - 0.5), T, 1, fill=False, ec="black", lw=1.5))
    axes[-1].set_xticks(range(T), list(text), fontsize=8)
    axes[-1].set_xlabel("time step t (the input character at each step)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
