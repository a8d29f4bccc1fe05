"""Checkers for chapter 8: gradients over time, clipping, and the LSTM's forget-gate path."""
from __future__ import annotations

import math

import torch

from .core import Wrong, call, exercise


@exercise
def ch08_steps_to_shrink(fn):
    """``fn(rho, factor)``: the fewest steps k after which ρ^k has fallen below ``factor`` (for ρ < 1)."""
    for rho, factor in [(0.9, 1e-3), (0.5, 1e-6), (0.99, 0.1), (0.55, 1e-2), (0.95, 0.5)]:
        want = math.ceil(math.log(factor) / math.log(rho))
        got = call(fn, rho, factor)
        if not isinstance(got, (int,)) and not (hasattr(got, "__index__")):
            if isinstance(got, float) and got.is_integer():
                got = int(got)
            else:
                raise Wrong(f"return a whole number of steps; for rho={rho}, factor={factor} you returned {got!r}")
        if int(got) != want:
            raise Wrong(f"for rho={rho}, factor={factor} the answer is the smallest k with rho**k <= factor; "
                        f"you returned {got} (rho**{got} = {rho ** int(got):.6g})")


@exercise
def ch08_rnn_step_jacobian(fn):
    """``fn(h_t, W_hh)``: ∂h_t/∂h_{t-1} of h_t = tanh(x_t W_xh + h_{t-1} W_hh + b), one sequence (H,) -> (H, H)."""
    g = torch.Generator().manual_seed(8)
    H = 5
    W_xh, W_hh, b = (torch.randn(3, H, generator=g, dtype=torch.float64), 0.6 * torch.randn(H, H, generator=g,
                     dtype=torch.float64), torch.randn(H, generator=g, dtype=torch.float64))
    x = torch.randn(3, generator=g, dtype=torch.float64)
    h_prev = torch.randn(H, generator=g, dtype=torch.float64)
    step = lambda h: torch.tanh(x @ W_xh + h @ W_hh + b)  # noqa: E731
    want = torch.autograd.functional.jacobian(step, h_prev)
    got = call(fn, step(h_prev), W_hh.clone())
    got = torch.as_tensor(got, dtype=torch.float64)
    if got.shape != (H, H):
        raise Wrong(f"expected an (H, H) = ({H}, {H}) matrix whose entry [i, j] is ∂h_t[i]/∂h_(t-1)[j]; "
                    f"got shape {tuple(got.shape)}")
    if torch.allclose(got, want.T, atol=1e-8) and not torch.allclose(got, want, atol=1e-8):
        raise Wrong("rows and columns are swapped: entry [i, j] must be ∂h_t[i]/∂h_(t-1)[j]")
    if torch.allclose(got, W_hh.T, atol=1e-8) or torch.allclose(got, W_hh, atol=1e-8):
        raise Wrong("that is W_hh alone: the tanh in between multiplies row i by tanh'(a_i) = 1 - h_t[i]**2")
    if not torch.allclose(got, want, atol=1e-8):
        raise Wrong(f"largest difference from the autograd Jacobian is {float((got - want).abs().max()):.3g}")


@exercise
def ch08_clip_by_norm(fn):
    """``fn(grads, max_norm)``: the list of gradient tensors rescaled together so their joint norm is ≤ max_norm."""
    g = torch.Generator().manual_seed(12)
    for scale, max_norm in [(10.0, 1.0), (0.01, 1.0), (3.0, 0.5)]:
        grads = [scale * torch.randn(4, 3, generator=g), scale * torch.randn(3, generator=g),
                 scale * torch.randn(2, 2, generator=g)]
        total = torch.sqrt(sum((t ** 2).sum() for t in grads))
        want = [t * min(1.0, max_norm / float(total)) for t in grads]
        got = call(fn, [t.clone() for t in grads], max_norm)
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            raise Wrong(f"return a list of {len(grads)} tensors, one per gradient; got {type(got).__name__}")
        got = [torch.as_tensor(t) for t in got]
        if any(a.shape != b.shape for a, b in zip(got, want)):
            raise Wrong("every returned tensor must keep the shape of its gradient")
        if all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, want)):
            continue
        norm_got = float(torch.sqrt(sum((t ** 2).sum() for t in got)))
        if float(total) <= max_norm:
            raise Wrong(f"a gradient whose norm {float(total):.3g} is already below max_norm={max_norm} must be "
                        "returned unchanged")
        if norm_got <= max_norm + 1e-4:
            raise Wrong("the joint norm is small enough, but the direction changed: scale every tensor by the same "
                        "factor max_norm / ‖g‖ (one norm over all tensors, not one per tensor, and no clamping)")
        raise Wrong(f"the joint norm after clipping is {norm_got:.3g}; it must be at most max_norm={max_norm}")


@exercise
def ch08_forget_path(fn):
    """``fn(f)``: forget gates f of shape (T, H), rows f_0..f_{T-1}; with the gates held fixed, the gain
    ∂c_{T-1}/∂c_t along the cell path for every t = 0..T-1.

    The answer has shape (T, H): row t holds f_{t+1} ⊙ ... ⊙ f_{T-1} (an empty product, all ones, for t = T-1).
    """
    g = torch.Generator().manual_seed(5)
    f = torch.sigmoid(2 + torch.randn(12, 4, generator=g, dtype=torch.float64))
    T = f.shape[0]
    want = torch.stack([f[t + 1:].prod(0) for t in range(T)])
    got = torch.as_tensor(call(fn, f.clone()), dtype=torch.float64)
    if got.shape != want.shape:
        raise Wrong(f"expected shape (T, H) = {tuple(want.shape)}; got {tuple(got.shape)}")
    with_own = torch.stack([f[t:].prod(0) for t in range(T)])
    if torch.allclose(got, with_own):
        raise Wrong("row t includes f_t itself; the gate that multiplies c_t on its way to c_(t+1) is f_(t+1)")
    if not torch.allclose(got, want):
        raise Wrong(f"row T-1 must be all ones and row t the product f_(t+1) ⊙ ... ⊙ f_(T-1); "
                    f"largest difference {float((got - want).abs().max()):.3g}")
