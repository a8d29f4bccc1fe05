"""The same cells arranged the way a fast library arranges them (``fused=True``).

Two changes, neither of which alters the function computed:

* the input projection ``X W_x + b`` of *all* time steps is hoisted out of the time loop into one
  large matrix product (``project``), so the loop only does the part that truly depends on h_{t-1};
* the gates of a step share one weight matrix ``W_h`` of shape (hidden, gates*hidden), so a step
  costs one matrix product (``addmm``) instead of one per gate.

Gate order inside the stacked matrices is torch.nn's (LSTM: i, f, g, o; GRU: r, z, n), so the
weight layout of torch.nn is a plain transpose.
"""
from __future__ import annotations

import torch
from torch import nn

from .cells import _GRU_FORM_MSG, Cell, _getter


class FusedCell(Cell):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        G = self.n_gates * hidden_size
        self.W_x = self._param(input_size, G)
        self.W_h = self._param(hidden_size, G)
        self.b = self._param(G)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        # X W_x + b for every time step at once: (batch, time, input) -> (batch, time, gates*hidden)
        return torch.addmm(self.b, x.reshape(-1, x.shape[-1]), self.W_x).view(x.shape[0], x.shape[1], -1)

    def to_torch_layout(self, grad: bool = False):
        g = _getter(grad)
        b = g(self.b)
        return g(self.W_x).T, g(self.W_h).T, b, (b if grad else torch.zeros_like(b))

    @torch.no_grad()
    def load_torch_layout(self, w_ih, w_hh, b_ih, b_hh) -> None:
        self.W_x.copy_(w_ih.T)
        self.W_h.copy_(w_hh.T)
        self.b.copy_(b_ih + b_hh)


class FusedRNNCell(FusedCell):
    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, xp_t, h):
        a = torch.addmm(xp_t, h, self.W_h)
        return torch.tanh(a) if self.nonlinearity == "tanh" else torch.relu(a)


class FusedLSTMCell(FusedCell):
    kind = "LSTM"
    n_gates = 4

    def init_state(self, batch, ref):
        z = ref.new_zeros(batch, self.hidden_size)
        return (z, z.clone())

    def forward(self, xp_t, state):
        h, c = state
        H = self.hidden_size
        gates = torch.addmm(xp_t, h, self.W_h)          # all four gates in one product
        i, f = torch.sigmoid(gates[:, :2 * H]).chunk(2, 1)
        g = torch.tanh(gates[:, 2 * H:3 * H])
        o = torch.sigmoid(gates[:, 3 * H:])
        c_t = torch.addcmul(f * c, i, g)                 # C_t = F⊙C_{t-1} + I⊙C̃_t
        h_t = o * torch.tanh(c_t)
        self._record(i=i, f=f, o=o, c_tilde=g, c=c_t, h=h_t)
        return h_t, c_t


class FusedGRUCell(FusedCell):
    kind = "GRU"
    n_gates = 3

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = False):
        super().__init__(input_size, hidden_size)
        self.reset_after = reset_after
        if reset_after:
            self.b_hh = self._param(hidden_size)

    def forward(self, xp_t, h):
        H = self.hidden_size
        if self.reset_after:
            hp = h @ self.W_h                            # one product for r, z and the candidate
            r, z = torch.sigmoid(xp_t[:, :2 * H] + hp[:, :2 * H]).chunk(2, 1)
            h_tilde = torch.tanh(xp_t[:, 2 * H:] + r * (hp[:, 2 * H:] + self.b_hh))
        else:
            rz = torch.addmm(xp_t[:, :2 * H], h, self.W_h[:, :2 * H])
            r, z = torch.sigmoid(rz).chunk(2, 1)
            # the textbook form needs r before the candidate's product, so that product stays separate
            h_tilde = torch.tanh(torch.addmm(xp_t[:, 2 * H:], r * h, self.W_h[:, 2 * H:]))
        h_t = torch.lerp(h_tilde, h, z)                  # Z⊙H_{t-1} + (1-Z)⊙H̃_t
        self._record(r=r, z=z, h_tilde=h_tilde, h=h_t)
        return h_t

    def to_torch_layout(self, grad: bool = False):
        if not self.reset_after:
            raise ValueError(_GRU_FORM_MSG)
        g = _getter(grad)
        b = g(self.b)
        H = self.hidden_size
        b_hh_rz = b[:2 * H] if grad else torch.zeros_like(b[:2 * H])
        return g(self.W_x).T, g(self.W_h).T, b, torch.cat([b_hh_rz, g(self.b_hh)])

    @torch.no_grad()
    def load_torch_layout(self, w_ih, w_hh, b_ih, b_hh) -> None:
        if not self.reset_after:
            raise ValueError(_GRU_FORM_MSG)
        H = self.hidden_size
        self.W_x.copy_(w_ih.T)
        self.W_h.copy_(w_hh.T)
        self.b.copy_(torch.cat([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]]))
        self.b_hh.copy_(b_hh[2 * H:])

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"
