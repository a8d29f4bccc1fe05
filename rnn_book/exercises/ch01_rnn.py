"""Checkers for chapter 1 (6.2.1 RNN): the parameter count, one step, the unrolled loop, the stateful layout."""
from __future__ import annotations

import torch

from .core import Wrong, call, exercise, step_cases


def _as_tensor(got, what: str) -> torch.Tensor:
    if not isinstance(got, torch.Tensor):
        raise Wrong(f"return {what} as a torch.Tensor; got {type(got).__name__}")
    return got


@exercise
def ch01_param_count(fn):
    """``fn(input_size, hidden_size, output_size)``: the number of parameters of the unit with its output layer."""
    for D, H, Q in [(3, 5, 2), (1, 1, 1), (10, 32, 7), (85, 128, 85), (4, 4, 4)]:
        want = D * H + H * H + H + H * Q + Q      # W_xh, W_hh, b_h, W_ho, b_o
        got = call(fn, D, H, Q)
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if not isinstance(got, int) or isinstance(got, bool):
            raise Wrong(f"return a whole number; for sizes ({D}, {H}, {Q}) you returned {got!r}")
        if got != want:
            hint = ""
            if got == want - H - Q:
                hint = " (the two bias vectors b_h and b_o are missing)"
            elif got == want - Q:
                hint = " (the output bias b_o is missing)"
            elif got == D * H + H * H + H:
                hint = " (the output layer W_ho, b_o is part of the unit too)"
            raise Wrong(f"for input_size={D}, hidden_size={H}, output_size={Q} the unit has {want} parameters "
                        f"(W_xh, W_hh, b_h, W_ho, b_o); you counted {got}{hint}")


@exercise
def ch01_rnn_step(fn):
    """``fn(x_t, h_prev, W_xh, W_hh, b_h)``: one step h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), batch rows."""
    for g, D, H, x, h in step_cases(1):
        B = x.shape[0]
        W_xh = torch.randn(D, H, generator=g, dtype=torch.float64)
        W_hh = torch.randn(H, H, generator=g, dtype=torch.float64)
        b_h = torch.randn(H, generator=g, dtype=torch.float64)
        want = torch.tanh(x @ W_xh + h @ W_hh + b_h)
        got = _as_tensor(call(fn, x.clone(), h.clone(), W_xh.clone(), W_hh.clone(), b_h.clone()), "h_t")
        if tuple(got.shape) != (B, H):
            raise Wrong(f"with a batch of {B} and hidden_size {H}, h_t has shape ({B}, {H}); got {tuple(got.shape)}")
        got = got.double()
        if torch.allclose(got, want, atol=1e-10):
            continue
        if torch.allclose(got, torch.tanh(x @ W_xh + h @ W_hh.T + b_h), atol=1e-10):
            raise Wrong("W_hh is transposed: with row vectors the product is h_prev @ W_hh")
        if torch.allclose(got, torch.tanh(x @ W_xh + b_h), atol=1e-10):
            raise Wrong("h_t does not depend on h_prev: the term h_prev @ W_hh is what makes the network recurrent")
        if torch.allclose(got, torch.sigmoid(x @ W_xh + h @ W_hh + b_h), atol=1e-10):
            raise Wrong("the nonlinearity is tanh, not the sigmoid")
        raise Wrong(f"for a batch of {B}, largest difference from tanh(x_t W_xh + h_prev W_hh + b_h) is "
                    f"{float((got - want).abs().max()):.3g}")


@exercise
def ch01_unroll(fn):
    """``fn(cell, x, h0)``: apply ``cell(x_t, h)`` at every step of x (B, T, D); return (outputs (B, T, H), h_T)."""
    from ..scratch.cells import RNNCell

    torch.manual_seed(11)
    cell = RNNCell(3, 4).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        h, outs = h0, []
        for t in range(x.shape[1]):
            h = cell(x[:, t], h)
            outs.append(h)
        want = torch.stack(outs, dim=1)
        got = call(fn, cell, x.clone(), h0.clone())
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Wrong(f"return a pair (outputs, h_T); got {type(got).__name__}")
    out, h_T = (_as_tensor(v, n) for v, n in zip(got, ("outputs", "h_T")))
    if tuple(out.shape) != (2, 6, 4):
        raise Wrong(f"outputs has one h_t per step: shape (batch, time, hidden) = (2, 6, 4); got {tuple(out.shape)}")
    out, h_T = out.detach().double(), h_T.detach().double()
    if torch.allclose(out[:, 0], want[:, 0], atol=1e-10) and torch.allclose(out[:, 1:], want[:, :-1], atol=1e-10):
        raise Wrong("outputs is shifted by one step: it should hold h_1..h_T, not h_0..h_(T-1)")
    if not torch.allclose(out, want, atol=1e-10):
        t = int((out - want).abs().amax(dim=(0, 2)).gt(1e-10).nonzero()[0])
        hint = " (is h carried from one step to the next, and is x[:, t] the input of step t?)"
        raise Wrong(f"outputs first differs at time index {t}{hint}")
    if tuple(h_T.shape) != (2, 4) or not torch.allclose(h_T, want[:, -1], atol=1e-10):
        raise Wrong("h_T must be the hidden state after the last step, shape (batch, hidden) = (2, 4)")


@exercise
def ch01_stateful_layout(fn):
    """``fn(ids, batch_size)``: a (batch_size, n) matrix, n = len(ids) // batch_size, row b = ids[b*n:(b+1)*n]."""
    for N, B in [(26, 3), (20, 4), (7, 7), (10, 1)]:
        ids = torch.arange(N)
        n = N // B
        want = ids[:n * B].view(B, n)
        got = _as_tensor(call(fn, ids.clone(), B), "the matrix")
        if tuple(got.shape) != (B, n):
            raise Wrong(f"for {N} ids and batch_size={B}: shape ({B}, {n}) (the last {N - n * B} ids are dropped); "
                        f"got {tuple(got.shape)}")
        if torch.equal(got, want):
            continue
        if torch.equal(got, ids[:n * B].view(n, B).T):
            raise Wrong("the rows interleave the stream (row 0 is ids 0, B, 2B, ...): each row must be one "
                        "contiguous piece, so that the next window of a row continues the text that row just read")
        raise Wrong(f"for ids 0..{N - 1} and batch_size={B}, row 0 should be {want[0].tolist()}; "
                    f"yours is {got[0].tolist()}")
