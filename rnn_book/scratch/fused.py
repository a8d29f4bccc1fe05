"""The same cells arranged the way a fast library arranges them (``fused=True``).

Three changes, none of which alters the function computed:

* the input projection ``X W_x + b`` of *all* time steps is hoisted out of the time loop into one
  large matrix product (``project``), so the loop only does the part that truly depends on h_{t-1};
* the gates of a step share one weight matrix ``W_h`` of shape (hidden, gates*hidden), so a step
  costs one matrix product (``addmm``) instead of one per gate;
* nothing in a step costs time in proportion to the whole sequence: the projection is stored
  time-major and handed out as T contiguous pieces (:class:`Steps`), and a step's gates are split
  with one ``chunk``/``split``, whose backward is one concatenation rather than one zero-filled
  full-size tensor per slice.

For the RNN and the LSTM the backward pass is hoisted too: the gradient of ``W_h`` is computed for
all steps in one large product after the loop (:class:`_Hoisted`), as cuDNN does, instead of one
small product per step.

Gate order inside the stacked matrices is torch.nn's (LSTM: i, f, g, o; GRU: r, z, n), so the
weight layout of torch.nn is a plain transpose.
"""
from __future__ import annotations

import operator

import torch
from torch.autograd.function import once_differentiable

from .cells import _GRU_FORM_MSG, Cell, _getter


class Steps:
    """The hoisted projection, (time, batch, gates*hidden), handed out one step at a time as ``xp[:, t]``.

    Indexing a (batch, time, ...) tensor as ``xp[:, t]`` inside the loop would be correct but slow to
    differentiate: the backward of each such selection allocates a zero tensor the size of the whole
    sequence and adds it up, T times over -- quadratic in T. ``unbind`` splits the tensor into T views
    whose gradients autograd stacks back in one piece.
    """

    def __init__(self, time_major: torch.Tensor, tape: "_Tape | None" = None):
        self.time_major = time_major
        self.steps = time_major.unbind(0)
        if tape is not None:
            for t, step in enumerate(self.steps):
                step._tape_slot = (tape, t)     # lets the cell find where to record its h_{t-1}

    @property
    def shape(self) -> torch.Size:        # the (batch, time, features) shape the loop expects
        T, B, G = self.time_major.shape
        return torch.Size((B, T, G))

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None):
            try:
                return self.steps[operator.index(key[1])]
            except TypeError:
                pass
        raise TypeError(f"Steps: index it as xp[:, t] with an integer t; got {key!r}")


class _Tape:
    """The H_{t-1} that each step multiplied by W_h, kept for one weight-gradient product after the loop."""

    def __init__(self, W_h: torch.Tensor, T: int):
        self.W_h = W_h
        self.inputs: list[torch.Tensor | None] = [None] * T
        self.uses = [0] * T


class _Hoisted(torch.autograd.Function):
    r"""$A = X W_x + b$ for all steps at once; its backward also gives $\partial L/\partial W_h$ for all steps.

    Each step computes $G_t = A_t + H_{t-1} W_h$ with ``W_h`` detached, so the gradient that reaches
    $A_t$ is exactly $\partial L/\partial G_t$, and
    $\partial L/\partial W_h = \sum_t H_{t-1}^\top\, \partial L/\partial G_t$ is one product of
    the stacked $H_{t-1}$ with the stacked $\partial L/\partial A$ -- instead of T small products.
    """

    @staticmethod
    def forward(ctx, x2, W_x, b, W_h, tape):
        ctx.save_for_backward(x2, W_x)
        ctx.tape = tape
        return torch.addmm(b, x2, W_x)

    @staticmethod
    @once_differentiable
    def backward(ctx, dA):
        x2, W_x = ctx.saved_tensors
        tape, need = ctx.tape, ctx.needs_input_grad
        dx = dA @ W_x.T if need[0] else None
        dW_x = x2.T @ dA if need[1] else None
        db = dA.sum(0) if need[2] else None
        dW_h = None
        if need[3]:
            if max(tape.uses) > 1:
                raise RuntimeError("fused cell: a step of one projection was used twice; the hoisted weight "
                                   "gradient needs each xp[:, t] to enter exactly one step")
            zero = dA.new_zeros(dA.shape[0] // len(tape.inputs), tape.W_h.shape[0])
            H_prev = torch.cat([zero if h is None else h for h in tape.inputs])      # (T*B, H), time-major
            dW_h = H_prev.T @ dA
        return dx, dW_x, db, dW_h, None


class FusedCell(Cell):
    hoist_weight_grad = False            # RNN and LSTM: the gradient reaching A_t is dL/dG_t exactly

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        G = self.n_gates * hidden_size
        self.W_x = self._param(input_size, G)
        self.W_h = self._param(hidden_size, G)
        self.b = self._param(G)

    def project(self, x: torch.Tensor) -> "Steps":
        # X W_x + b for every time step at once, laid out time-major so that each step is contiguous
        B, T = x.shape[0], x.shape[1]
        x2 = x.transpose(0, 1).reshape(T * B, -1)
        if self.hoist_weight_grad and torch.is_grad_enabled() and self.W_h.requires_grad:
            tape = _Tape(self.W_h, T)
            return Steps(_Hoisted.apply(x2, self.W_x, self.b, self.W_h, tape).view(T, B, -1), tape)
        return Steps(torch.addmm(self.b, x2, self.W_x).view(T, B, -1))

    def recurrent_weight(self, xp_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """W_h for this step's product: detached, with h recorded, when the projection delivers its gradient."""
        slot = getattr(xp_t, "_tape_slot", None)
        if slot is None or slot[0].W_h is not self.W_h or not torch.is_grad_enabled():
            return self.W_h
        tape, t = slot
        tape.inputs[t] = h.detach()
        tape.uses[t] += 1
        return self.W_h.detach()

    def one_bias_params(self):
        return self.W_x, self.W_h, self.b


class FusedRNNCell(FusedCell):
    kind = "RNN"
    hoist_weight_grad = True

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, xp_t, h):
        phi = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        # h_t = φ(x_t W_xh + h_{t-1} W_hh + b_h)              (x_t W_xh + b_h computed for every step up front)
        h_t = phi(torch.addmm(xp_t, h, self.recurrent_weight(xp_t, h)))
        self._record(h=h_t)
        return h_t


class FusedLSTMCell(FusedCell):
    kind = "LSTM"
    n_gates = 4
    hoist_weight_grad = True

    def init_state(self, batch, ref):
        z = ref.new_zeros(batch, self.hidden_size)
        return (z, z.clone())

    def forward(self, xp_t, state):
        h, c = state
        # all four blocks (three gates, the candidate) in one product; one chunk, not four slices, so that
        # backward is one concatenation
        a_i, a_f, a_g, a_o = torch.addmm(xp_t, h, self.recurrent_weight(xp_t, h)).chunk(4, 1)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        # C_t = I_t ⊙ C̃_t + F_t ⊙ C_{t-1}                   (g is the candidate C̃_t)
        c_t = torch.addcmul(f * c, i, g)
        # H_t = O_t ⊙ tanh(C_t)
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
        x_rz, x_n = xp_t.split(2 * H, 1)                 # split, not slices: one node in the graph
        if self.reset_after:
            h_rz, h_n = torch.mm(h, self.W_h).split(2 * H, 1)   # one product for r, z and the candidate
            r, z = torch.sigmoid(x_rz + h_rz).chunk(2, 1)
            # H̃_t = tanh(X_t W_xh + R_t ⊙ (H_{t-1} W_hh + b_hh) + b_h)     cuDNN form
            h_tilde = torch.tanh(torch.addcmul(x_n, r, h_n + self.b_hh))
        else:
            W_rz, W_n = self.W_h.split(2 * H, 1)
            r, z = torch.sigmoid(torch.addmm(x_rz, h, W_rz)).chunk(2, 1)
            # the textbook form needs r before the candidate's product, so that product stays separate
            # H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t-1}) W_hh + b_h)            textbook form
            h_tilde = torch.tanh(torch.addmm(x_n, r * h, W_n))
        # H_t = Z_t ⊙ H_{t-1} + (1 - Z_t) ⊙ H̃_t              (lerp from H̃_t towards H_{t-1} by Z_t)
        h_t = torch.lerp(h_tilde, h, z)
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
