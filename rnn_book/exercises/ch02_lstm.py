"""Checkers for the exercises of chapter 2 (6.2.1.1 LSTM)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .core import Wrong, call, close, exercise


@exercise
def ch02_lstm_param_count(fn):
    """fn(input_size, hidden_size) -> the number of parameters of a one-layer torch.nn.LSTM."""
    for D, H in [(3, 5), (10, 32), (1, 1), (64, 7)]:
        want = sum(p.numel() for p in nn.LSTM(D, H, device="meta").parameters())   # meta: sizes only, no RNG
        got = call(fn, D, H)
        if got == want:
            continue
        if got == 4 * H * (D + H) + 4 * H:
            raise Wrong(f"for input {D}, hidden {H} you counted one bias vector per gate ({got}); torch.nn and "
                        f"cuDNN keep two, bias_ih and bias_hh, so the answer is {want}")
        raise Wrong(f"for input_size={D}, hidden_size={H} you gave {got}; torch.nn.LSTM has {want} "
                    "(four blocks, three gates and the candidate, each with an input matrix, a hidden "
                    "matrix and two biases)")


@exercise
def ch02_memory_half_life(fn):
    """fn(f) -> the number of steps after which C has halved, when I = 0 and the forget gate is held at f."""
    for f in (0.5, 0.731, 0.9, 0.99):
        want = math.log(0.5) / math.log(f)
        got = float(call(fn, f))
        if abs(got - want) <= 1e-3 * want:
            continue
        if abs(got - 1 / (1 - f)) < 1e-6:
            raise Wrong(f"for f={f} you gave 1/(1-f) = {got:.3f}, which approximates a time constant (fall to 1/e) "
                        "for f near 1; the question asks for the half-life: solve f^n = 1/2")
        raise Wrong(f"for f={f} you gave {got:.4g} steps; C_n = f^n C_0, so C halves when f^n = 1/2")


@exercise
def ch02_gate_order(fn):
    """fn(weight_ih, hidden_size) -> W_xo (input, hidden) taken out of torch's stacked weight_ih."""
    w = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))   # weight_ih of nn.LSTM(3, 5)
    got = call(fn, w, 5)
    want = w[15:20].T
    if not isinstance(got, torch.Tensor):
        raise Wrong(f"return a tensor; got {type(got).__name__}")
    if tuple(got.shape) != (3, 5):
        raise Wrong(f"W_xo maps the input (3) to the hidden units (5), so its shape is (3, 5) in the book's "
                    f"row-vector convention; got {tuple(got.shape)} (torch stores the transpose)")
    for n, g in enumerate("ifgo"):
        if close(got, w[n * 5:(n + 1) * 5].T, 1e-12) and g != "o":
            raise Wrong(f"those are the rows of gate {g!r}; torch's order is i, f, g, o, so O_t is the last block")
    if not close(got, want, 1e-12):
        raise Wrong("these numbers are not any block of weight_ih; rows 3H..4H, transposed, hold W_xo")


def _cifg_reference(cell, x_t, h, c):
    f = torch.sigmoid(x_t @ cell.W_xf + h @ cell.W_hf + cell.b_f)
    o = torch.sigmoid(x_t @ cell.W_xo + h @ cell.W_ho + cell.b_o)
    c_tilde = torch.tanh(x_t @ cell.W_xc + h @ cell.W_hc + cell.b_c)
    c_t = (1 - f) * c_tilde + f * c
    return o * torch.tanh(c_t), c_t


@exercise
def ch02_cifg_step(fn):
    """fn(cell, x_t, h, c) -> (h_t, c_t) of an LSTM whose input gate is coupled to the forget gate: I = 1 - F."""
    from ..scratch import LSTMCell

    with torch.random.fork_rng():            # leave the reader's random stream untouched
        torch.manual_seed(1)
        cell = LSTMCell(3, 4).double()
        x, h, c = torch.randn(2, 3).double(), torch.randn(2, 4).double(), 2 * torch.randn(2, 4).double()
    with torch.no_grad():
        got = call(fn, cell, x, h, c)
        want = _cifg_reference(cell, x, h, c)
        plain = cell(x, (h, c))
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Wrong(f"return the pair (h_t, c_t); got {type(got).__name__}")
    if close(got[1], plain[1], 1e-9):
        raise Wrong("that is the ordinary LSTM step: the input gate must be replaced by 1 - F_t")
    if not close(got[1], want[1], 1e-9):
        raise Wrong("C_t is not right: with coupled gates C_t = (1 - F_t) ⊙ C̃_t + F_t ⊙ C_{t-1}")
    if not close(got[0], want[0], 1e-9):
        raise Wrong("C_t is right but H_t is not: H_t = O_t ⊙ tanh(C_t), as before")


_PATTERNS = {
    "a": "an open input gate with a low forget gate writes at every step and keeps nothing: each distractor "
         "would overwrite the symbol",
    "c": "an open input gate keeps adding the distractors' candidates to C, so the stored symbol drowns",
    "d": "the output gate only decides what H shows; it does not decide what C keeps",
}


@exercise
def ch02_gate_pattern(answer):
    """Which gate pattern lets a unit carry one symbol across many distractors? a, b, c or d."""
    if not isinstance(answer, str) or answer.strip().lower() not in "abcd" or len(answer.strip()) != 1:
        raise Wrong(f"answer with one letter, 'a', 'b', 'c' or 'd'; got {answer!r}")
    a = answer.strip().lower()
    if a != "b":
        raise Wrong(_PATTERNS[a])
