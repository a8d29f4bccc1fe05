"""Generated sequence tasks. Each returns tensors ready for a batch-first model.

All take a ``torch.Generator`` (or a seed) so that a chapter's experiment repeats exactly.
"""
from __future__ import annotations

import math

import torch


def _gen(seed) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator()
    g.manual_seed(0 if seed is None else int(seed))
    return g


def running_parity(n: int, T: int, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Bits x (n, T, 1) and y (n, T): y_t = x_1 xor ... xor x_t -- every output needs the whole prefix."""
    bits = torch.randint(0, 2, (n, T), generator=_gen(seed))
    y = torch.cumsum(bits, dim=1) % 2
    return bits.unsqueeze(-1).float(), y


def delayed_recall(n: int, T: int, lag: int, n_symbols: int = 8, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids x (n, T) from 0..n_symbols-1 and y (n,): the token ``lag`` steps before the last one.

    Chance accuracy is 1/n_symbols; a model must carry that token for ``lag`` steps.
    """
    if not 0 <= lag < T:
        raise ValueError(f"delayed_recall: lag must lie in 0..{T - 1}; got {lag}")
    x = torch.randint(0, n_symbols, (n, T), generator=_gen(seed))
    return x, x[:, T - 1 - lag].clone()


def adding_problem(n: int, T: int, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem (Hochreiter & Schmidhuber 1997; set-up of Le, Jaitly & Hinton 2015).

    x (n, T, 2): channel 0 holds U(0, 1) numbers, channel 1 marks two positions, one in each half.
    y (n,): the sum of the two marked numbers. Always predicting the mean 1 scores MSE = 1/6 ≈ 0.167.
    """
    if T < 2:
        raise ValueError(f"adding_problem: T must be at least 2; got {T}")
    g = _gen(seed)
    values = torch.rand(n, T, generator=g)
    half = T // 2
    first = torch.randint(0, half, (n,), generator=g)
    second = torch.randint(half, T, (n,), generator=g)
    marks = torch.zeros(n, T)
    rows = torch.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return torch.stack([values, marks], dim=-1), y


ADDING_BASELINE_MSE = 1.0 / 6.0


def copy_memory(n: int, T: int, n_symbols: int = 8, copy_len: int = 10, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """The copy-memory task (Arjovsky, Shah & Bengio 2016), as token ids of length T + 2*copy_len.

    x: ``copy_len`` symbols from 1..n_symbols, then T-1 blanks (0), a delimiter (n_symbols+1), then
    ``copy_len`` blanks. y: blanks everywhere except the last ``copy_len`` steps, which repeat the symbols.
    Vocabulary size n_symbols + 2.
    """
    g = _gen(seed)
    L = T + 2 * copy_len
    symbols = torch.randint(1, n_symbols + 1, (n, copy_len), generator=g)
    x = torch.zeros(n, L, dtype=torch.long)
    y = torch.zeros(n, L, dtype=torch.long)
    x[:, :copy_len] = symbols
    x[:, T + copy_len - 1] = n_symbols + 1
    y[:, -copy_len:] = symbols
    return x, y


def copy_memory_baseline(T: int, n_symbols: int = 8, copy_len: int = 10) -> float:
    """Cross-entropy per step of the memoryless strategy: blanks, then uniform guesses (copy_len·log n / (T+2·copy_len))."""
    return copy_len * math.log(n_symbols) / (T + 2 * copy_len)
