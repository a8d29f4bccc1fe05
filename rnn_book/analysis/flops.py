"""How much work one time step of each cell does, counted from its equations.

Per sequence in the batch and per time step of the textbook cells (:mod:`rnn_book.scratch.cells`):

* ``matmul`` -- floating-point operations of the matrix products, a multiply-add counted as 2
  (the convention of ``torch.utils.flop_counter``, which :func:`measured_matmul_flops` uses to check us);
* ``elementwise`` -- additions, multiplications and ``1 - z`` on vectors of length ``hidden_size``;
* ``sigmoid`` / ``tanh`` -- evaluations of the nonlinearities (counted, not converted into flops).

``total`` adds the three as plain operation counts. With ``I = input_size`` and ``H = hidden_size``::

    RNN   2(IH + H²)     products, 2H additions,        H tanh
    LSTM  8(IH + H²)     products, 12H element-wise,    3H σ + 2H tanh
    GRU   6(IH + H²)     products, 11H element-wise,    2H σ +  H tanh   (12H with reset_after=True)
"""
from __future__ import annotations

from ..checks import check_kind


def _check(kind: str, input_size: int, hidden_size: int) -> str:
    check_kind(kind, "flops")
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int; got {v!r}")
    return kind.lower()


def step_ops(kind: str, input_size: int, hidden_size: int, *, reset_after: bool = False) -> dict[str, int]:
    """Operations of one time step for one sequence: ``{"matmul", "elementwise", "sigmoid", "tanh", "total"}``."""
    kind = _check(kind, input_size, hidden_size)
    I, H = input_size, hidden_size
    one_product = 2 * (I * H + H * H)       # x_t W_x· + h_{t-1} W_h·, multiply-adds counted twice
    if kind == "rnn":
        # h_t = tanh(x W_xh + h W_hh + b_h): two vector additions, one tanh
        ops = dict(matmul=one_product, elementwise=2 * H, sigmoid=0, tanh=H)
    elif kind == "lstm":
        # four pre-activations (2 additions each); C_t = I⊙C̃ + F⊙C (3); H_t = O⊙tanh(C_t) (1)
        ops = dict(matmul=4 * one_product, elementwise=4 * 2 * H + 3 * H + H, sigmoid=3 * H, tanh=2 * H)
    else:
        # three pre-activations (2 additions each); R⊙H_{t-1} (1); Z⊙H + (1-Z)⊙H̃ (1-, 2 products, +: 4)
        candidate_extra = 2 * H if reset_after else 0   # r ⊙ (h W_hh + b_hh): one more add and the product
        reset_product = 0 if reset_after else H         # ... which replaces (r ⊙ h) before the matmul
        ops = dict(matmul=3 * one_product, elementwise=3 * 2 * H + reset_product + candidate_extra + 4 * H,
                   sigmoid=2 * H, tanh=H)
    ops["total"] = sum(ops.values())
    return ops


def parameter_count(kind: str, input_size: int, hidden_size: int, *, engine: str = "scratch",
                    reset_after: bool = False) -> int:
    """Parameters of one layer, one direction.

    ``engine="scratch"``: one bias per gate (plus ``b_hh`` for a GRU with ``reset_after=True``);
    ``engine="cudnn"``: torch.nn / cuDNN keep two bias vectors per gate (``bias_ih`` and ``bias_hh``).
    """
    kind = _check(kind, input_size, hidden_size)
    if engine not in ("scratch", "cudnn"):
        raise ValueError(f"engine must be 'scratch' or 'cudnn'; got {engine!r}")
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    I, H = input_size, hidden_size
    biases = 2 if engine == "cudnn" else 1
    extra = H if (kind == "gru" and reset_after and engine == "scratch") else 0
    return gates * (I * H + H * H + biases * H) + extra


def measured_matmul_flops(cell, batch_size: int = 1) -> int:
    """Matrix-product flops of one ``cell`` step as PyTorch counts them (``torch.utils.flop_counter``), per batch row.

    ``cell`` is any cell of :mod:`rnn_book.scratch` (``layer.cell(0)``); the input projection of a fused
    cell is counted too. Used to check :func:`step_ops` against the code that runs.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    p = next(cell.parameters())
    x = torch.randn(batch_size, 1, cell.input_size, dtype=p.dtype, device=p.device)   # a sequence of one step
    state = cell.init_state(batch_size, x)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        cell(cell.project(x)[:, 0], state)
    return counter.get_total_flops() // batch_size


def products_per_step(cell, batch_size: int = 1) -> int:
    """How many matrix products one step of ``cell`` performs, its hoisted input projection not counted.

    Read from the autograd graph of one step: every matrix product leaves one ``Mm``/``Addmm`` node.
    A cell that needs two products in a row (the textbook GRU: R_t first, then (R_t ⊙ H_{t-1}) W_hh)
    cannot merge them into one larger product, whatever the flop count says.
    """
    import torch

    p = next(cell.parameters())
    x = torch.randn(batch_size, 1, cell.input_size, dtype=p.dtype, device=p.device)
    with torch.no_grad():
        xp = cell.project(x)[:, 0]
    with torch.enable_grad():
        out = cell(xp, cell.init_state(batch_size, x))
    out = out[0] if isinstance(out, tuple) else out
    seen, stack, n = set(), [out.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        n += type(node).__name__.startswith(("MmBackward", "AddmmBackward", "BmmBackward", "BaddbmmBackward"))
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return n
