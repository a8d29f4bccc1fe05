"""A linear recurrence needs no step-by-step loop: evaluated as a parallel scan it takes log2(T) rounds.

The recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` (element-wise, as in the QRNN, the SRU and linear
state-space models) composes: two steps in a row are again one step of the same form,

    h_t = a_t ⊙ (a_{t-1} ⊙ h_{t-2} + b_{t-1}) + b_t = (a_t ⊙ a_{t-1}) ⊙ h_{t-2} + (a_t ⊙ b_{t-1} + b_t),

so every prefix can be combined in rounds that double the span each time (Hillis & Steele's scan;
Martin & Cundy 2018 for recurrent networks). A tanh recurrence does not compose this way: tanh of
a product with tanh inside is no longer of the form ``a ⊙ h + b``, so its T steps stay one after another.
"""
from __future__ import annotations

import torch


def _check(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> None:
    if a.shape != b.shape or a.dim() < 2:
        raise ValueError(f"scan: a and b must have one shape (batch, time, ...); got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    if h0.shape != a.shape[:1] + a.shape[2:]:
        raise ValueError(f"scan: h0 must have shape (batch, ...) = {tuple(a.shape[:1] + a.shape[2:])}; "
                         f"got {tuple(h0.shape)}")


def sequential(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` one step after another: (all h_t as (batch, time, ...), steps run)."""
    _check(a, b, h0)
    h, out = h0, []
    for t in range(a.shape[1]):
        # h_t = a_t ⊙ h_{t-1} + b_t
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return torch.stack(out, dim=1), a.shape[1]


def parallel(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The same recurrence as a scan: (all h_t, rounds run); every round is one element-wise pass over all t."""
    _check(a, b, h0)
    A, B = a.clone(), b.clone()          # after round k, (A_t, B_t) maps h_{t-2^k} (or h0) to h_t
    T, span, rounds = a.shape[1], 1, 0
    while span < T:
        # for t ≥ span: (A_t, B_t) ∘ (A_{t-span}, B_{t-span}) = (A_t ⊙ A_{t-span}, A_t ⊙ B_{t-span} + B_t)
        A_tail, B_tail = A[:, span:] * A[:, :-span], A[:, span:] * B[:, :-span] + B[:, span:]
        A, B = torch.cat([A[:, :span], A_tail], 1), torch.cat([B[:, :span], B_tail], 1)
        span, rounds = 2 * span, rounds + 1
    # every (A_t, B_t) now reaches back to the start: h_t = A_t ⊙ h0 + B_t
    return A * h0.unsqueeze(1) + B, rounds
