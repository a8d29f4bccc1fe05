"""Two generated tasks of the LSTM chapter: one needs memory over a long lag, one needs a counter.

Both return token ids ready for :class:`rnn_book.models.SequenceModel` (``vocab_size=...``) and take a
seed or a ``torch.Generator`` so that an experiment repeats exactly.
"""
from __future__ import annotations

import torch

from .tasks import _gen


def marked_recall(n: int, T: int, n_symbols: int = 8, seed=0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Find the one symbol hidden among distractors and name it at the end of the sequence.

    x (n, T): distractors from the alphabet n_symbols..2*n_symbols-1, except at one random step, which
    holds the symbol from 0..n_symbols-1. y (n,): that symbol, to be read from the state after the
    last step. lag (n,): how many steps before the end it appeared (0..T-1, uniform), so one batch
    mixes easy short lags with hard long ones. Vocabulary size 2*n_symbols; chance is 1/n_symbols.
    """
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"marked_recall: T must be an int >= 1; got {T!r}")
    if not isinstance(n_symbols, int) or n_symbols < 2:
        raise ValueError(f"marked_recall: n_symbols must be an int >= 2; got {n_symbols!r}")
    g = _gen(seed)
    y = torch.randint(0, n_symbols, (n,), generator=g)
    x = torch.randint(n_symbols, 2 * n_symbols, (n, T), generator=g)
    lag = torch.randint(0, T, (n,), generator=g)
    x[torch.arange(n), T - 1 - lag] = y
    return x, y, lag


BRACKETS = ")("   # token 0 is ')', token 1 is '('


def bracket_balance(n: int, T: int, seed=0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Strings of brackets; at every step, say whether more '(' than ')' have been seen so far.

    x (n, T): token 1 for '(' and 0 for ')'; each string has its own probability of '(' drawn from
    U(0.25, 0.75), so the running balance often drifts far from zero.
    y (n, T): class 0 when the balance d_t = #'(' - #')' is negative, 1 when it is zero, 2 when positive.
    d (n, T): the balance itself. Knowing only its sign is not enough to go on: the model must count.
    """
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"bracket_balance: T must be an int >= 1; got {T!r}")
    g = _gen(seed)
    p_open = 0.25 + 0.5 * torch.rand(n, 1, generator=g)
    x = (torch.rand(n, T, generator=g) < p_open).long()
    d = torch.cumsum(2 * x - 1, dim=1)
    return x, torch.sign(d).long() + 1, d


def as_text(tokens: torch.Tensor) -> str:
    """One bracket string as text: ``as_text(x[0])`` -> '(()(...'."""
    if tokens.dim() != 1:
        raise ValueError(f"as_text: expected one sequence of shape (T,); got shape {tuple(tokens.shape)}")
    return "".join(BRACKETS[int(t)] for t in tokens)
