"""Recurrent cells written as the book's equations, one time step at a time.

Row-vector convention, as in the chapters: ``x_t`` is ``(batch, input)``, ``h`` is ``(batch, hidden)``,
and ``x_t @ W_xh`` maps input to hidden. Each parameter is named after its symbol.

Every cell has the same two methods so that one unrolling loop serves all of them:

* ``project(x)`` -- work that does not depend on the previous state, done for all time steps at once
  (nothing for these textbook cells; the fused cells hoist the input matrix products here);
* ``forward(xp_t, state)`` -- one time step: ``(x_t, state_{t-1}) -> state_t``.

``to_torch_layout`` / ``load_torch_layout`` translate to and from the weight layout of ``torch.nn``
(and cuDNN): one stacked ``weight_ih``/``weight_hh`` per layer with gates in the order
RNN: h; LSTM: i, f, g, o; GRU: r, z, n; and two bias vectors, ``bias_ih`` and ``bias_hh``.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class Cell(nn.Module):
    """Shared plumbing: parameter creation, initialisation, optional gate tracing."""

    kind = ""
    n_gates = 1

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.trace: list[dict[str, torch.Tensor]] | None = None  # set to [] to record gate values

    def _param(self, *shape) -> nn.Parameter:
        # torch.nn's default: U(-1/sqrt(hidden), 1/sqrt(hidden)) for every weight and bias.
        k = 1.0 / math.sqrt(self.hidden_size)
        return nn.Parameter(torch.empty(*shape).uniform_(-k, k))

    def _record(self, **values) -> None:
        if self.trace is not None:
            self.trace.append({k: v.detach() for k, v in values.items()})

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def init_state(self, batch: int, ref: torch.Tensor):
        return ref.new_zeros(batch, self.hidden_size)

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"

    # -- torch.nn's layout, for cells that keep one bias where torch.nn has two -----------------------
    def one_bias_params(self):
        """``(W_x, W_h, b)``: the parameters in torch.nn's gate order, in the book's layout."""
        raise NotImplementedError(f"{type(self).__name__} defines its own torch layout")

    def to_torch_layout(self, grad: bool = False):
        g = _getter(grad)
        return one_bias_layout(*(g(p) for p in self.one_bias_params()), grad)

    @torch.no_grad()
    def load_torch_layout(self, w_ih, w_hh, b_ih, b_hh) -> None:
        load_one_bias(*self.one_bias_params(), w_ih, w_hh, b_ih, b_hh)


class RNNCell(Cell):
    r"""Vanilla (Elman) RNN: $h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$."""

    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.W_xh = self._param(input_size, hidden_size)
        self.W_hh = self._param(hidden_size, hidden_size)
        self.b_h = self._param(hidden_size)

    def forward(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        phi = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        # h_t = φ(x_t W_xh + h_{t-1} W_hh + b_h)
        h_t = phi(x_t @ self.W_xh + h @ self.W_hh + self.b_h)
        self._record(h=h_t)
        return h_t

    def one_bias_params(self):
        return self.W_xh, self.W_hh, self.b_h


class LSTMCell(Cell):
    r"""Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    The state is the pair (H, C): hidden state and memory cell.
    """

    kind = "LSTM"
    n_gates = 4

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        for g in "ifoc":  # input, forget, output gate; candidate memory c̃
            setattr(self, f"W_x{g}", self._param(input_size, hidden_size))
            setattr(self, f"W_h{g}", self._param(hidden_size, hidden_size))
            setattr(self, f"b_{g}", self._param(hidden_size))

    def init_state(self, batch, ref):
        z = ref.new_zeros(batch, self.hidden_size)
        return (z, z.clone())

    def forward(self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        h, c = state
        # I_t = σ(X_t W_xi + H_{t-1} W_hi + b_i)            input gate
        i = torch.sigmoid(x_t @ self.W_xi + h @ self.W_hi + self.b_i)
        # F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)            forget gate
        f = torch.sigmoid(x_t @ self.W_xf + h @ self.W_hf + self.b_f)
        # O_t = σ(X_t W_xo + H_{t-1} W_ho + b_o)            output gate
        o = torch.sigmoid(x_t @ self.W_xo + h @ self.W_ho + self.b_o)
        # C̃_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)         candidate memory
        c_tilde = torch.tanh(x_t @ self.W_xc + h @ self.W_hc + self.b_c)
        # C_t = I_t ⊙ C̃_t + F_t ⊙ C_{t-1}                   memory cell
        c_t = i * c_tilde + f * c
        # H_t = O_t ⊙ tanh(C_t)                              hidden state
        h_t = o * torch.tanh(c_t)
        self._record(i=i, f=f, o=o, c_tilde=c_tilde, c=c_t, h=h_t)
        return h_t, c_t

    def to_torch_layout(self, grad: bool = False):
        g = _getter(grad)
        order = "ifco"  # torch/cuDNN order: i, f, g (= candidate c̃), o
        w_ih = torch.cat([g(getattr(self, f"W_x{k}")) for k in order], 1).T
        w_hh = torch.cat([g(getattr(self, f"W_h{k}")) for k in order], 1).T
        b = torch.cat([g(getattr(self, f"b_{k}")) for k in order])
        return one_bias_layout(w_ih.T, w_hh.T, b, grad)

    @torch.no_grad()
    def load_torch_layout(self, w_ih, w_hh, b_ih, b_hh) -> None:
        H = self.hidden_size
        for n, k in enumerate("ifco"):
            rows = slice(n * H, (n + 1) * H)
            load_one_bias(getattr(self, f"W_x{k}"), getattr(self, f"W_h{k}"), getattr(self, f"b_{k}"),
                          w_ih[rows], w_hh[rows], b_ih[rows], b_hh[rows])


class GRUCell(Cell):
    r"""Gated recurrent unit (Cho et al. 2014) in the book's convention $H_t = Z_t⊙H_{t-1} + (1-Z_t)⊙\tilde H_t$.

    ``reset_after=False`` is the textbook form: the reset gate multiplies $H_{t-1}$ *before* its
    matrix product. ``reset_after=True`` is the form of cuDNN and ``torch.nn.GRU``: the reset gate
    multiplies $H_{t-1} W_{hh} + b_{hh}$, which needs its own bias ``b_hh``.
    """

    kind = "GRU"
    n_gates = 3

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = False):
        super().__init__(input_size, hidden_size)
        self.reset_after = reset_after
        for g in "rzh":  # reset gate, update gate, candidate hidden state h̃
            setattr(self, f"W_x{g}", self._param(input_size, hidden_size))
            setattr(self, f"W_h{g}", self._param(hidden_size, hidden_size))
            setattr(self, f"b_{g}", self._param(hidden_size))
        if reset_after:
            self.b_hh = self._param(hidden_size)

    def forward(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        # R_t = σ(X_t W_xr + H_{t-1} W_hr + b_r)            reset gate
        r = torch.sigmoid(x_t @ self.W_xr + h @ self.W_hr + self.b_r)
        # Z_t = σ(X_t W_xz + H_{t-1} W_hz + b_z)            update gate
        z = torch.sigmoid(x_t @ self.W_xz + h @ self.W_hz + self.b_z)
        if self.reset_after:
            # H̃_t = tanh(X_t W_xh + R_t ⊙ (H_{t-1} W_hh + b_hh) + b_h)     cuDNN form
            h_tilde = torch.tanh(x_t @ self.W_xh + r * (h @ self.W_hh + self.b_hh) + self.b_h)
        else:
            # H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t-1}) W_hh + b_h)            textbook form
            h_tilde = torch.tanh(x_t @ self.W_xh + (r * h) @ self.W_hh + self.b_h)
        # H_t = Z_t ⊙ H_{t-1} + (1 - Z_t) ⊙ H̃_t
        h_t = z * h + (1 - z) * h_tilde
        self._record(r=r, z=z, h_tilde=h_tilde, h=h_t)
        return h_t

    def to_torch_layout(self, grad: bool = False):
        if not self.reset_after:
            raise ValueError(_GRU_FORM_MSG)
        g = _getter(grad)
        w_ih = torch.cat([g(self.W_xr), g(self.W_xz), g(self.W_xh)], 1).T
        w_hh = torch.cat([g(self.W_hr), g(self.W_hz), g(self.W_hh)], 1).T
        b_r, b_z = g(self.b_r), g(self.b_z)
        b_ih = torch.cat([b_r, b_z, g(self.b_h)])
        b_hh = torch.cat([b_r if grad else torch.zeros_like(b_r), b_z if grad else torch.zeros_like(b_z), g(self.b_hh)])
        return w_ih, w_hh, b_ih, b_hh

    @torch.no_grad()
    def load_torch_layout(self, w_ih, w_hh, b_ih, b_hh) -> None:
        if not self.reset_after:
            raise ValueError(_GRU_FORM_MSG)
        H = self.hidden_size
        for n, k in enumerate("rzh"):
            rows = slice(n * H, (n + 1) * H)
            getattr(self, f"W_x{k}").copy_(w_ih[rows].T)
            getattr(self, f"W_h{k}").copy_(w_hh[rows].T)
        self.b_r.copy_(b_ih[:H] + b_hh[:H])
        self.b_z.copy_(b_ih[H:2 * H] + b_hh[H:2 * H])
        self.b_h.copy_(b_ih[2 * H:])
        self.b_hh.copy_(b_hh[2 * H:])

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"


_GRU_FORM_MSG = (
    "GRU weights can only be exchanged with torch.nn.GRU / cuDNN when the scratch GRU uses "
    "reset_after=True (the reset gate applied after the hidden matrix product, as cuDNN does); "
    "this scratch GRU has reset_after=False (the textbook form of Cho et al. 2014), which computes a "
    "different function. Build it as scratch.GRU(..., reset_after=True)."
)


def one_bias_layout(W_x, W_h, b, grad: bool):
    """torch.nn's ``(weight_ih, weight_hh, bias_ih, bias_hh)`` for book-layout weights with one bias b.

    torch.nn adds two biases where the equations have one: b is reported as bias_ih and bias_hh is 0.
    Gradients (``grad=True``) are the other way round: each of the two torch biases would receive
    exactly the gradient of b, so both report it.
    """
    return W_x.T, W_h.T, b, (b if grad else torch.zeros_like(b))


def load_one_bias(W_x, W_h, b, w_ih, w_hh, b_ih, b_hh) -> None:
    """Copy torch.nn's layout into book-layout parameters with one bias b = bias_ih + bias_hh (no grad)."""
    W_x.copy_(w_ih.T)
    W_h.copy_(w_hh.T)
    b.copy_(b_ih + b_hh)


def _getter(grad: bool):
    if not grad:
        return lambda p: p.detach()

    def g(p):
        return p.grad if p.grad is not None else torch.zeros_like(p)
    return g
