"""Checkers for chapter 3 (6.2.1.2 GRU): one step, the parameter count, the memory half-life, the two forms."""
from __future__ import annotations

import math

import torch

from .core import Wrong, call, exercise, step_cases

_NAMES = ("W_xr", "W_hr", "b_r", "W_xz", "W_hz", "b_z", "W_xh", "W_hh", "b_h")


def _params(D: int, H: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    shapes = {"W_x": (D, H), "W_h": (H, H), "b_": (H,)}
    return {n: torch.randn(*shapes[n[:3] if n[0] == "W" else "b_"], generator=g, dtype=torch.float64)
            for n in _NAMES}


@exercise
def ch03_gru_step(fn):
    """``fn(x_t, h_prev, p)``: one textbook GRU step; ``p`` maps W_xr, W_hr, b_r, W_xz, ... b_h to tensors."""
    for g, D, H, x, h in step_cases(3):
        B = x.shape[0]
        p = _params(D, H, g)
        r = torch.sigmoid(x @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        z = torch.sigmoid(x @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
        h_tilde = torch.tanh(x @ p["W_xh"] + (r * h) @ p["W_hh"] + p["b_h"])
        want = z * h + (1 - z) * h_tilde
        got = call(fn, x.clone(), h.clone(), {k: v.clone() for k, v in p.items()})
        if not isinstance(got, torch.Tensor):
            raise Wrong(f"return H_t as a torch.Tensor; got {type(got).__name__}")
        if tuple(got.shape) != (B, H):
            raise Wrong(f"with a batch of {B} and hidden_size {H}, H_t has shape ({B}, {H}); got {tuple(got.shape)}")
        got = got.double()
        if torch.allclose(got, want, atol=1e-10):
            continue
        mistakes = {
            "the update gate is the wrong way round: in this book Z_t keeps the past, "
            "H_t = Z⊙H_{t-1} + (1−Z)⊙H̃_t (makemore writes it the other way)": (1 - z) * h + z * h_tilde,
            "the reset gate is applied after the product, (H_{t-1} W_hh) ⊙ R_t -- that is cuDNN's form; "
            "the textbook resets H_{t-1} before it is multiplied":
                z * h + (1 - z) * torch.tanh(x @ p["W_xh"] + r * (h @ p["W_hh"]) + p["b_h"]),
            "the candidate ignores the reset gate: it should see R_t ⊙ H_{t-1}, not H_{t-1}":
                z * h + (1 - z) * torch.tanh(x @ p["W_xh"] + h @ p["W_hh"] + p["b_h"]),
            "H_t is missing the part of the past that Z_t keeps: add Z_t ⊙ H_{t-1}": (1 - z) * h_tilde,
        }
        for message, wrong in mistakes.items():
            if torch.allclose(got, wrong, atol=1e-10):
                raise Wrong(message)
        raise Wrong(f"for a batch of {B}, the largest difference from Z⊙H_{{t-1}} + (1−Z)⊙H̃_t is "
                    f"{float((got - want).abs().max()):.3g}")


@exercise
def ch03_param_count(fn):
    """``fn(input_size, hidden_size, engine)``: parameters of one GRU layer, engine "scratch" or "cudnn"."""
    from .. import cudnn, scratch

    for D, H in [(3, 5), (1, 1), (10, 32), (64, 128)]:
        for engine, layer in (("scratch", scratch.GRU(D, H)), ("cudnn", cudnn.GRU(D, H))):
            want = sum(p.numel() for p in layer.parameters())
            got = call(fn, D, H, engine)
            if isinstance(got, float) and got.is_integer():
                got = int(got)
            if not isinstance(got, int) or isinstance(got, bool):
                raise Wrong(f"return a whole number; for ({D}, {H}, {engine!r}) you returned {got!r}")
            if got == want:
                continue
            hint = ""
            if got == want // 3 * 4:
                hint = " -- that is an LSTM's count: a GRU has three blocks (R, Z, H̃), not four"
            elif engine == "cudnn" and got == 3 * (D * H + H * H + H):
                hint = " -- torch.nn / cuDNN keep two bias vectors per block (bias_ih and bias_hh)"
            elif engine == "scratch" and got == 3 * (D * H + H * H + 2 * H):
                hint = " -- the textbook GRU of rnn_book.scratch has one bias per block"
            elif got == 3 * (D * H + H * H):
                hint = " -- the biases are missing"
            raise Wrong(f"a GRU with input_size={D}, hidden_size={H} on the {engine} engine has {want} "
                        f"parameters; you counted {got}{hint}")


@exercise
def ch03_half_life(fn):
    """``fn(z)``: the fewest whole steps n >= 1 after which the old state's share z**n is at most 1/2."""
    for z in (0.9, 0.5, 0.6, 0.8, 0.95, 0.99, 0.999, 0.3):
        want = max(1, math.ceil(math.log(0.5) / math.log(z) - 1e-12))
        got = call(fn, z)
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if not isinstance(got, int) or isinstance(got, bool):
            raise Wrong(f"return a whole number of steps; for z={z} you returned {got!r}")
        if got == want:
            continue
        if got != want - 1 and got == max(1, math.ceil(math.log(0.5) / math.log(1 - z) - 1e-12)):
            raise Wrong(f"for z={z} you answered {got}: that treats 1 − z as the share kept. In this book "
                        "Z_t is the share of H_{t-1} kept each step, so after n steps z**n of it is left")
        raise Wrong(f"for z={z}: after {want} steps {z}**{want} = {z ** want:.3f} <= 0.5 but after {want - 1} "
                    f"it is {z ** (want - 1):.3f}; you answered {got}")


@exercise
def ch03_forms_agree(fn):
    """``fn(hidden_size)``: a W_hh for which the textbook and cuDNN forms agree (b_hh = 0) and H_{t-1} still counts."""
    from .. import scratch

    for H in (1, 4, 7):
        W = call(fn, H)
        if not isinstance(W, torch.Tensor) or tuple(W.shape) != (H, H):
            raise Wrong(f"return a ({H}, {H}) torch.Tensor for hidden_size={H}; got "
                        f"{tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__}")
        W = W.detach().double()
        if not torch.isfinite(W).all():
            raise Wrong("W_hh must be finite")
        if (W.diagonal() == 0).any():
            raise Wrong("with a zero on the diagonal some unit's own past never reaches its candidate: find a W_hh "
                        "whose every unit still sees its own H_{t-1} (e.g. keep the diagonal non-zero)")
        with torch.random.fork_rng(), torch.no_grad():   # leave the reader's random stream alone
            torch.manual_seed(H)
            book = scratch.GRU(3, H, reset_after=False).double()
            cudnn_form = scratch.GRU(3, H, reset_after=True).double()
            cudnn_form.load_state_dict(book.state_dict(), strict=False)      # same weights; only b_hh is new
            cudnn_form.cell(0).b_hh.zero_()
            book.cell(0).W_hh.copy_(W)
            cudnn_form.cell(0).W_hh.copy_(W)
            x = torch.randn(4, 6, 3, dtype=torch.float64)
            gap = (book(x)[0] - cudnn_form(x)[0]).abs().max().item()
        if gap > 1e-10:
            raise Wrong(f"with your W_hh (hidden_size={H}) the two forms still differ by {gap:.3g}: "
                        "(R⊙H)W and R⊙(HW) agree only if W never mixes one unit into another")
