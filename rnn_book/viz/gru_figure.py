"""The GRU cell drawn by code (the source has no figure for it), in the visual language of Fig. 6-4.

Drawn with :mod:`rnn_book.viz.diagram` like :mod:`rnn_book.viz.lstm_figure`: the state the cell
carries runs along the top -- for the GRU that is the hidden state H itself, there is no memory
cell -- X_t enters from below and meets H_{t-1} on a bus that feeds the two σ gates (purple), the
tanh candidate is orange, element-wise operations are circles, and the ``1−`` circle turns Z_t
into 1 − Z_t. ``reset_after=True`` draws cuDNN's form, where the reset gate multiplies
H_{t-1} W_hh + b_hh instead of H_{t-1}.
"""
from __future__ import annotations

from .diagram import Diagram
from ..fonts import caption

# Every symbol of the equations that the figure must show (the tests check this list).
SYMBOLS = ("$X_t$", "$H_{t-1}$", "$R_t$", "$Z_t$", r"$\tilde{H}_t$", "$H_t$", "1−")


def gru_cell_figure(reset_after: bool = False, title: str | None = None) -> Diagram:
    """Draw the GRU cell; returns the :class:`Diagram` (its ``.fig`` is the matplotlib Figure)."""
    if not isinstance(reset_after, bool):
        raise TypeError(f"gru_cell_figure: reset_after must be True or False; got {reset_after!r}")
    if title is None:
        title = (caption("本书补充图（原书无此图）：GRU 单元，cuDNN 的形式",
                         "Added by this book (no figure in the source): the GRU cell, cuDNN form "
                         "(reset gate after the product)") if reset_after
                 else caption("本书补充图（原书无此图）：GRU 单元，教材的形式",
                              "Added by this book (no figure in the source): the GRU cell, "
                              "textbook form (Cho et al. 2014)"))
    d = Diagram(12.4, 7.6, title)
    d.box(6.15, 3.55, 8.1, 5.9, "", role="#f9fafb")      # the cell's outline, under everything else
    y_top, y_mid, y_gate, y_bus, y_x = 5.9, 4.5, 3.1, 1.7, 0.95
    x_drop, x_in, x_r, x_z, x_keep, x_one, x_new = 1.5, 2.3, 3.1, 4.6, 6.6, 8.0, 9.6

    # --- the hidden state runs along the top: H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t -----------------
    d.text(0.55, y_top, "$H_{t-1}$", fontsize=12)
    keep = d.op(x_keep, y_top, "⊙")                       # Z_t ⊙ H_{t-1}: the part of the past kept
    plus = d.op(x_new, y_top, "+")
    d.arrow((0.95, y_top), keep, shrink=4)
    d.arrow(keep, plus)
    d.arrow(plus, (11.6, y_top), shrink=12)
    d.text(11.95, y_top, "$H_t$", fontsize=12)
    d.line([(10.6, y_top), (10.6, 7.25)])                 # H_t also leaves upwards as the output
    d.text(10.95, 7.15, "$H_t$", fontsize=10)
    d.dot(10.6, y_top)

    # --- X_t and H_{t-1} meet on one bus that feeds both gates -------------------------------------
    d.line([(x_drop, y_top), (x_drop, y_bus), (x_z, y_bus)], arrow_end=False)
    d.dot(x_drop, y_top)
    d.text(x_in, 0.12, "$X_t$", fontsize=12)
    d.line([(x_in, 0.35), (x_in, y_bus)], arrow_end=False)
    d.dot(x_in, y_bus)
    d.text(3.85, y_bus - 0.3, r"$[X_t,\ H_{t-1}]$", fontsize=8, color="#6b7280")
    for x, label, name in ((x_r, "$R_t$", "reset"), (x_z, "$Z_t$", "update")):
        d.line([(x, y_bus), (x, y_bus + 0.5), (x, y_gate - 0.47)])
        d.box(x, y_gate, 1.0, 0.9, r"$\sigma$" + "\n" + label, role="gate", fontsize=10)
        d.text(x - 0.1, y_gate - 0.78, name, fontsize=7, color="#6b7280", ha="right")

    # --- reset gate: which part of H_{t-1} the candidate may see -----------------------------------
    reset = d.op(x_r, y_mid, "⊙")
    d.arrow((x_r, y_gate + 0.45), reset, shrink=6)
    if reset_after:
        # cuDNN: the product comes first, R_t multiplies H_{t-1} W_hh + b_hh
        d.line([(x_r, y_top), (x_r, 5.55)], arrow_end=False)
        d.box(x_r, 5.22, 1.15, 0.42, r"$\cdot W_{hh}{+}b_{hh}$", role="op", fontsize=7)
        d.arrow((x_r, 5.0), reset, shrink=4)
    else:
        d.arrow((x_r, y_top), reset, shrink=6)
    d.dot(x_r, y_top)

    # --- the candidate H̃_t from X_t and the reset-filtered past ------------------------------------
    cand_label = "tanh\n" + r"$\tilde{H}_t$"
    d.box(x_new, y_gate, 1.0, 0.9, cand_label, role="candidate", fontsize=10)
    d.text(x_new - 0.1, y_gate - 0.78, "candidate", fontsize=7, color="#6b7280", ha="right")
    d.line([(x_r + 0.22, y_mid), (8.7, y_mid), (8.7, y_gate), (x_new - 0.5, y_gate)])
    d.text(6.6 if reset_after else 5.9, y_mid + 0.15,
           r"$R_t\odot(H_{t-1}W_{hh}+b_{hh})$" if reset_after else r"$R_t\odot H_{t-1}$",
           fontsize=8, color="#6b7280", va="bottom")
    d.line([(x_in, y_x), (x_new, y_x), (x_new, y_gate - 0.47)])
    d.dot(x_in, y_x)

    # --- update gate: Z_t keeps the past, 1 − Z_t lets the candidate in ----------------------------
    d.line([(x_z, y_gate + 0.45), (x_z, 5.2), (x_keep, 5.2), (x_keep, y_top - 0.22)])
    one_minus = d.op(x_one, 5.2, "1−", fontsize=8)
    d.arrow((x_keep, 5.2), one_minus, shrink=4)
    d.dot(x_keep, 5.2)
    new = d.op(x_new, y_mid, "⊙")                          # (1 − Z_t) ⊙ H̃_t: the part of the candidate taken
    d.arrow(one_minus, new, shrink=6)
    d.arrow((x_new, y_gate + 0.45), new, shrink=6)
    d.arrow(new, plus)

    d.text(6.7, 0.12, "σ gates take values in (0, 1); ⊙ is element-wise multiplication; 1− gives $1-Z_t$",
           fontsize=8, color="#6b7280")
    return d
