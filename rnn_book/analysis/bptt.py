"""Backpropagation through time (BPTT) for the vanilla RNN, written out by hand, and truncated BPTT.

The model is the recurrent unit of 图 6-2 with its output layer (row vectors, as in the chapters)::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        # scratch.RNNCell
    o_t = h_t W_ho + b_o                             # RNNUnit.output

and the loss is the mean cross-entropy of softmax(o_t) against target classes y_t. :func:`forward`
keeps what the backward pass needs; :func:`backward` applies the chain rule step by step, from the
last time step to the first, without autograd (the way min-char-rnn does it in numpy).
:func:`backward` with ``window=k`` is truncated BPTT: the gradient is not passed back across the
start of each window of k steps, exactly what ``h.detach()`` does to autograd (the training loop's
version over stateful batches is :class:`rnn_book.tasks.lm.StatefulLoss`).

:func:`copy_blocks` makes a stream whose every second half repeats the first, the measuring stick
for what truncation costs: a dependency longer than the window gets no gradient.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..scratch.cells import RNNCell


class RNNUnit(nn.Module):
    """The recurrent unit with its output: ``(x_t, h_{t-1}) -> (o_t, h_t)`` (图 6-2)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        for name, n in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError(f"RNNUnit: {name} must be a positive int; got {n!r}")
        self.cell = RNNCell(input_size, hidden_size)
        k = 1.0 / math.sqrt(hidden_size)
        self.W_ho = nn.Parameter(torch.empty(hidden_size, output_size).uniform_(-k, k))
        self.b_o = nn.Parameter(torch.empty(output_size).uniform_(-k, k))

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    def output(self, h_t: torch.Tensor) -> torch.Tensor:
        # o_t = h_t W_ho + b_o
        return h_t @ self.W_ho + self.b_o

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h_t = self.cell(x_t, h_prev)       # h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)
        return self.output(h_t), h_t

    @torch.no_grad()
    def torch_modules(self) -> tuple[nn.RNNCell, nn.Linear]:
        """``torch.nn.RNNCell`` and ``torch.nn.Linear`` holding this unit's weights, in torch.nn's layout.

        torch.nn stores each matrix transposed (it multiplies column vectors) and splits b_h into two
        biases whose sum is b_h.
        """
        ref = self.W_ho
        cell = nn.RNNCell(self.cell.input_size, self.hidden_size).to(ref.device, ref.dtype)
        out = nn.Linear(self.hidden_size, self.W_ho.shape[1]).to(ref.device, ref.dtype)
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), self.cell.to_torch_layout()):
            getattr(cell, name).copy_(value)
        out.weight.copy_(self.W_ho.T)
        out.bias.copy_(self.b_o)
        return cell, out

    def params(self) -> dict[str, torch.Tensor]:
        """The five parameters by the names of their symbols (detached views)."""
        c = self.cell
        return {"W_xh": c.W_xh.detach(), "W_hh": c.W_hh.detach(), "b_h": c.b_h.detach(),
                "W_ho": self.W_ho.detach(), "b_o": self.b_o.detach()}

    def grads(self) -> dict[str, torch.Tensor]:
        """Autograd's gradients under the same names (after ``loss.backward()``)."""
        c = self.cell
        ps = {"W_xh": c.W_xh, "W_hh": c.W_hh, "b_h": c.b_h, "W_ho": self.W_ho, "b_o": self.b_o}
        return {k: (p.grad if p.grad is not None else torch.zeros_like(p)) for k, p in ps.items()}


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass."""

    x: torch.Tensor            # (B, T, D) inputs
    y: torch.Tensor            # (B, T) target classes
    h: list[torch.Tensor]      # h_0 .. h_T, each (B, H)
    p: list[torch.Tensor]      # softmax(o_1) .. softmax(o_T), each (B, Q)


def _check(unit, x, y, h0, who):
    if not isinstance(unit, RNNUnit):
        raise TypeError(f"{who}: expected an RNNUnit; got {type(unit).__name__}")
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != unit.cell.input_size:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who}: expected x of shape (batch, time, {unit.cell.input_size}); got {got}")
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != tuple(x.shape[:2]) or y.is_floating_point():
        got = f"{tuple(y.shape)} {y.dtype}" if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"{who}: expected integer targets y of shape {tuple(x.shape[:2])} (batch, time); got {got}")
    Q = unit.W_ho.shape[1]
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= Q):
        raise ValueError(f"{who}: targets must lie in 0..{Q - 1}; got values from {int(y.min())} to {int(y.max())}")
    if h0 is not None and tuple(h0.shape) != (x.shape[0], unit.hidden_size):
        raise ValueError(f"{who}: expected h0 of shape ({x.shape[0]}, {unit.hidden_size}); got {tuple(h0.shape)}")


@torch.no_grad()
def forward(unit: RNNUnit, x: torch.Tensor, y: torch.Tensor, h0: torch.Tensor | None = None):
    """Mean cross-entropy of the unit unrolled over x (B, T, D) against y (B, T); returns (loss, Cache)."""
    _check(unit, x, y, h0, "bptt.forward")
    B, T, _ = x.shape
    h = x.new_zeros(B, unit.hidden_size) if h0 is None else h0
    hs, ps, loss = [h], [], x.new_zeros(())
    for t in range(T):
        o, h = unit(x[:, t], h)
        p = torch.softmax(o, dim=1)
        loss -= torch.log(p[torch.arange(B), y[:, t]]).sum()
        hs.append(h)
        ps.append(p)
    return loss / (B * T), Cache(x, y, hs, ps)


@torch.no_grad()
def backward(unit: RNNUnit, cache: Cache, window: int | None = None):
    """Gradients of the loss of :func:`forward`, by the chain rule from t = T back to t = 1, without autograd.

    Returns ``(grads, dh0)``: a dict named like :meth:`RNNUnit.params`, and ∂L/∂h_0. With ``window=k``
    the gradient stops at the first step of every window [0, k), [k, 2k), ... (truncated BPTT).
    """
    if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window < 1):
        raise ValueError(f"bptt.backward: window must be a positive int or None; got {window!r}")
    P = unit.params()
    W_hh, W_ho = P["W_hh"], P["W_ho"]
    x, y, hs, ps = cache.x, cache.y, cache.h, cache.p
    B, T = y.shape
    g = {k: torch.zeros_like(v) for k, v in P.items()}
    dh_next = torch.zeros_like(hs[0])                     # ∂L/∂h_t arriving from step t+1
    for t in reversed(range(T)):                          # python index t is time step t+1
        h_t, h_prev = hs[t + 1], hs[t]
        do = ps[t].clone()                                # ∂L/∂o_t = (softmax(o_t) − onehot(y_t)) / (B·T)
        do[torch.arange(B), y[:, t]] -= 1
        do /= B * T
        g["W_ho"] += h_t.T @ do                           # ∂L/∂W_ho = Σ_t h_tᵀ ∂L/∂o_t
        g["b_o"] += do.sum(0)
        dh = do @ W_ho.T + dh_next                        # h_t feeds o_t and h_{t+1}: add both paths
        da = dh * (1 - h_t * h_t)                         # through tanh: tanh'(a_t) = 1 − h_t²
        g["W_xh"] += x[:, t].T @ da                       # ∂L/∂W_xh = Σ_t x_tᵀ ∂L/∂a_t
        g["W_hh"] += h_prev.T @ da                        # ∂L/∂W_hh = Σ_t h_{t−1}ᵀ ∂L/∂a_t
        g["b_h"] += da.sum(0)
        dh_next = da @ W_hh.T                             # ∂L/∂h_{t−1} = ∂L/∂a_t W_hhᵀ
        if window is not None and t % window == 0:
            dh_next = torch.zeros_like(dh_next)           # truncation: nothing crosses a window's start
    return g, dh_next


def loss_with_detach(unit: RNNUnit, x: torch.Tensor, y: torch.Tensor, window: int | None = None,
                     h0: torch.Tensor | None = None) -> torch.Tensor:
    """The same loss for autograd, with ``h.detach()`` at the start of every window of ``window`` steps."""
    _check(unit, x, y, h0, "bptt.loss_with_detach")
    B, T, _ = x.shape
    h = x.new_zeros(B, unit.hidden_size) if h0 is None else h0
    logits = []
    for t in range(T):
        if window is not None and t % window == 0:
            h = h.detach()                                # cut the graph: gradient stops here
        o, h = unit(x[:, t], h)
        logits.append(o)
    o = torch.stack(logits, dim=1)
    return F.cross_entropy(o.reshape(B * T, -1), y.reshape(-1))


def max_gap(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Largest absolute difference between two gradient dicts with the same names."""
    if set(a) != set(b):
        raise ValueError(f"max_gap: the two dicts name different parameters: {sorted(a)} vs {sorted(b)}")
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def cosine(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Cosine similarity of two gradients, each flattened into one long vector."""
    va = torch.cat([a[k].reshape(-1) for k in sorted(a)])
    vb = torch.cat([b[k].reshape(-1) for k in sorted(a)])
    return float(va @ vb / (va.norm() * vb.norm()))


def copy_blocks(n_blocks: int, lag: int, n_symbols: int = 8, seed: int = 0) -> torch.Tensor:
    """A stream of ids in blocks ``a_1..a_lag a_1..a_lag``: every second half repeats the first.

    Predicting the next id inside a second half needs the id from ``lag`` steps back, so a model
    can only learn it if the gradient reaches that far back.
    """
    if lag < 1 or n_blocks < 1:
        raise ValueError(f"copy_blocks: lag and n_blocks must be >= 1; got lag={lag}, n_blocks={n_blocks}")
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(0, n_symbols, (n_blocks, lag), generator=g)
    return torch.cat([a, a], dim=1).reshape(-1)


def copy_positions(n: int, lag: int) -> torch.Tensor:
    """For a stream of length ``n`` from :func:`copy_blocks`: True where the *next* id is a copy."""
    nxt = torch.arange(1, n)
    return nxt % (2 * lag) >= lag


@dataclass
class TruncationResult:
    """One character model trained with windows of ``window`` steps on :func:`copy_blocks`, scored on a fresh stream.

    ``correct`` and ``correct_before`` count the right next-id predictions at the ``total`` positions
    whose next id is a copy (whole counts; chance is 1/n_symbols of them).
    """

    window: int
    lag: int
    n_symbols: int
    total: int
    correct_before: int
    correct: int
    updates: int
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    def row(self) -> dict:
        return {"window k": self.window, "updates": self.updates, "seconds": self.seconds,
                "accuracy before": self.correct_before / self.total, "accuracy after": self.accuracy}


def truncation_run(window: int, seed: int = 0, lag: int = 5, n_symbols: int = 8, n_blocks: int = 6000,
                   epochs: int = 3, hidden_size: int = 64, lr: float = 1e-2, batch_size: int = 32,
                   test_blocks: int = 200) -> TruncationResult:
    """Train an RNN character model on a :func:`copy_blocks` stream with truncated BPTT of ``window`` steps.

    The stream is cut into ``batch_size`` rows read ``window`` steps at a time, the state carried from
    one window to the next and detached (:class:`rnn_book.tasks.lm.StatefulLoss`). The training stream
    is the same for every seed; ``seed`` sets the initial weights.
    """
    from ..data.text import StatefulBatches
    from ..models import SequenceModel
    from ..settings import device_of, seed as set_seed
    from ..tasks.lm import StatefulLoss
    from ..train import fit

    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"bptt.truncation_run: window must be a positive int; got {window!r}")
    train_ids = copy_blocks(n_blocks, lag, n_symbols, seed=0)
    test_ids = copy_blocks(test_blocks, lag, n_symbols, seed=1)
    on_copy = copy_positions(len(test_ids), lag)

    def correct(m) -> int:
        with torch.no_grad():
            logits, _ = m(test_ids[:-1].unsqueeze(0).to(device_of(m)))
        return int((logits[0].argmax(-1).cpu() == test_ids[1:])[on_copy].sum())

    set_seed(seed)
    model = SequenceModel("rnn", "cudnn", hidden_size, n_symbols, vocab_size=n_symbols)
    before = correct(model)
    carry = StatefulLoss()
    history = fit(model, carry.passes(StatefulBatches(train_ids, batch_size, window)), carry, epochs=epochs, lr=lr)
    return TruncationResult(window, lag, n_symbols, int(on_copy.sum()), before, correct(model),
                            len(history.step_loss), history.total_seconds)
