"""Checkers for chapter 9 (6.2.1, open problems): training FLOPs, log-uniform sampling, variational masks, early stopping."""
from __future__ import annotations

import math

import numpy as np
import torch

from .core import Wrong, call, exercise

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@exercise
def ch09_train_flops(fn):
    """``fn(kind, batch, time, input_size, hidden_size)``: matrix-product FLOPs of one forward+backward pass."""
    for kind, B, T, I, H in [("lstm", 32, 100, 64, 256), ("rnn", 2, 5, 3, 4), ("gru", 8, 7, 16, 32),
                             ("lstm", 1, 1, 1, 1), ("gru", 4, 50, 10, 20)]:
        G = _GATES[kind]
        forward = 2 * B * T * G * H * (I + H)          # a multiply-add is 2 FLOPs
        want = 3 * forward                             # backward: one product for dX/dH, one for dW
        got = call(fn, kind, B, T, I, H)
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            raise Wrong(f"return a whole number of FLOPs; for {kind} {B}x{T}x{I}x{H} you returned {got!r}")
        if got == want:
            continue
        hint = ""
        if got == forward:
            hint = " -- that is the forward pass alone; backward costs two more products per product"
        elif got == want // 2:
            hint = " -- a multiply-add counts as 2 FLOPs"
        elif G > 1 and got == want // G:
            hint = f" -- an {kind.upper()} computes {G} gate blocks per step, each with its own products"
        elif got == 3 * 2 * B * T * G * H * H:
            hint = " -- the input product X_t W_x counts too, not only H_{t-1} W_h"
        raise Wrong(f"{kind} with batch {B}, time {T}, input {I}, hidden {H}: expected {want:,} FLOPs, "
                    f"got {int(got):,}{hint}")


@exercise
def ch09_log_uniform(fn):
    """``fn(n, low, high, seed)``: n learning rates whose logarithm is uniform on [log low, log high]."""
    n, low, high = 4000, 1e-5, 1e-1
    got = np.asarray(call(fn, n, low, high, 0), dtype=float).ravel()
    if got.shape != (n,):
        raise Wrong(f"return {n} numbers for n={n}; got {got.size}")
    if not np.all((got >= low * (1 - 1e-9)) & (got <= high * (1 + 1e-9))):
        raise Wrong(f"every value must lie in [low, high] = [{low}, {high}]; yours range from {got.min():.3g} "
                    f"to {got.max():.3g} (sample the exponent between log(low) and log(high), then exponentiate)")
    decades = np.histogram(np.log10(got), bins=4, range=(-5, -1))[0] / n
    if decades[-1] > 0.5:
        raise Wrong(f"{decades[-1]:.0%} of your values fall in the top decade [0.01, 0.1]: that is uniform in "
                    "the value, not in its logarithm; each of the four decades should get about a quarter")
    if np.any(np.abs(decades - 0.25) > 0.04):
        raise Wrong("each decade should hold about a quarter of the values; yours hold "
                    + ", ".join(f"{d:.0%}" for d in decades))
    again = np.asarray(call(fn, n, low, high, 0), dtype=float).ravel()
    other = np.asarray(call(fn, n, low, high, 1), dtype=float).ravel()
    if not np.array_equal(got, again):
        raise Wrong("the same seed must give the same values (use np.random.default_rng(seed))")
    if np.array_equal(got, other):
        raise Wrong("different seeds must give different values")


@exercise
def ch09_variational_mask(fn):
    """``fn(batch, time, hidden, p, generator)``: a (batch, time, hidden) dropout mask, one per sequence."""
    B, T, H, p = 64, 12, 50, 0.3
    g = torch.Generator().manual_seed(0)
    m = call(fn, B, T, H, p, g)
    if not isinstance(m, torch.Tensor):
        raise Wrong(f"return a torch.Tensor; got {type(m).__name__}")
    if tuple(m.shape) != (B, T, H):
        raise Wrong(f"the mask has shape (batch, time, hidden) = {(B, T, H)}; got {tuple(m.shape)}")
    m = m.double()
    if not torch.equal(m, m[:, :1].expand_as(m)):
        raise Wrong("the mask changes from one time step to the next: that is ordinary dropout. A variational "
                    "mask is drawn once per sequence and reused at every step")
    values = set(torch.unique(m).tolist())
    keep_scale = 1 / (1 - p)
    if values <= {0.0, 1.0}:
        raise Wrong(f"kept units must be scaled by 1/(1-p) = {keep_scale:.4g} so that the expected value is unchanged")
    if not all(math.isclose(v, 0.0) or math.isclose(v, keep_scale, rel_tol=1e-6) for v in values):
        raise Wrong(f"every entry must be 0 or 1/(1-p) = {keep_scale:.4g}; got values {sorted(values)[:5]}")
    dropped = float((m[:, 0] == 0).double().mean())
    if abs(dropped - p) > 0.05:
        raise Wrong(f"about p = {p} of the units should be dropped; {dropped:.2f} are")
    if torch.equal(m[0], m[1]) and torch.equal(m[1], m[2]):
        raise Wrong("every sequence of the batch got the same mask; draw one per sequence")


@exercise
def ch09_early_stopping(fn):
    """``fn(valid_losses, patience)``: (epochs run, index of the epoch whose weights are kept), as ``fit`` does."""
    cases = [([3.0, 2.5, 2.4, 2.45, 2.5, 2.6, 2.0], 2, (5, 2)),
             ([3.0, 2.9, 2.8, 2.7], 2, (4, 3)),
             ([2.0, 2.0, 2.0, 1.0], 2, (3, 0)),
             ([1.0, 2.0, 0.5, 3.0, 3.0, 3.0], 3, (6, 2)),
             ([5.0], 1, (1, 0))]
    for losses, patience, want in cases:
        got = call(fn, list(losses), patience)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise Wrong(f"return a pair (epochs run, kept epoch index); got {got!r}")
        got = (int(got[0]), int(got[1]))
        if got != want:
            raise Wrong(f"for validation losses {losses} and patience {patience}: expected {want}, got {got} "
                        "(an epoch that only equals the best so far is not an improvement; stop once "
                        "`patience` epochs in a row did not improve)")
