"""Connectionist temporal classification (CTC): read a digit string from frames without aligning it.

The network emits, at every frame, a distribution over the labels plus one extra symbol, the blank
``-``. A frame-level path such as ``- 3 3 - - 1 - 4 4 -`` is read by merging repeated symbols and then
deleting blanks, giving ``3 1 4``; two equal digits in a row need a blank between them (``7 - 7``).
CTC's loss sums the probability of every path that reads as the target (``torch.nn.CTCLoss`` does
this with a forward recursion); greedy decoding takes the most likely symbol at each frame and reads
that single path.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

BLANK = 0


def collapse(path: Sequence[int], blank: int = BLANK) -> list[int]:
    """Read a frame-level path: merge runs of the same symbol, then drop blanks. [0,3,3,0,1,1] -> [3,1]."""
    out, prev = [], None
    for s in (int(p) for p in path):
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return out


def greedy_decode(log_probs: torch.Tensor, lengths=None, blank: int = BLANK) -> list[list[int]]:
    """Best-path decoding: argmax at every frame, then :func:`collapse`.

    log_probs: (batch, time, classes) scores (log-probabilities or logits: argmax is the same);
    lengths: valid frames per sequence (frames past it are padding and ignored).
    """
    if not isinstance(log_probs, torch.Tensor) or log_probs.dim() != 3:
        got = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else type(log_probs).__name__
        raise ValueError(f"greedy_decode: expected scores of shape (batch, time, classes); got {got}")
    B, T, C = log_probs.shape
    if not 0 <= blank < C:
        raise ValueError(f"greedy_decode: blank must be a class index in 0..{C - 1}; got {blank}")
    if lengths is None:
        lengths = [T] * B
    lengths = [int(n) for n in lengths]
    if len(lengths) != B or any(not 0 <= n <= T for n in lengths):
        raise ValueError(f"greedy_decode: expected {B} lengths in 0..{T}; got {lengths}")
    best = log_probs.argmax(-1).tolist()
    return [collapse(best[b][:lengths[b]], blank) for b in range(B)]


def ctc_loss(logits: torch.Tensor, lengths: torch.Tensor, targets: Sequence[Sequence[int]],
             blank: int = BLANK) -> torch.Tensor:
    """Mean CTC loss per target symbol for batch-first ``logits`` (B, T, C) and label lists.

    ``torch.nn.functional.ctc_loss`` wants time-first log-probabilities and the targets concatenated.
    """
    if logits.dim() != 3:
        raise ValueError(f"ctc_loss: expected logits of shape (batch, time, classes); got {tuple(logits.shape)}")
    if len(targets) != logits.shape[0]:
        raise ValueError(f"ctc_loss: expected {logits.shape[0]} targets (one per sequence); got {len(targets)}")
    if any(blank in t for t in targets):
        raise ValueError(f"ctc_loss: a target contains the blank symbol {blank}; labels must avoid it")
    log_probs = F.log_softmax(logits.float(), dim=-1).transpose(0, 1)          # (T, B, C)
    dev = logits.device
    target_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long, device=dev)
    flat = torch.tensor([s for t in targets for s in t], dtype=torch.long, device=dev)
    return F.ctc_loss(log_probs, flat, torch.as_tensor(lengths, dtype=torch.long).to(dev), target_lengths,
                      blank=blank, reduction="mean", zero_infinity=True)


def min_frames(target: Sequence[int]) -> int:
    """Fewest frames a CTC path needs for ``target``: one per symbol, plus a blank between equal neighbours."""
    t = list(target)
    return len(t) + sum(a == b for a, b in zip(t, t[1:]))


def path_probability(probs: torch.Tensor, target: Sequence[int], blank: int = BLANK) -> torch.Tensor:
    """P(target | frames) under CTC by the forward recursion over the blank-padded target ``- y1 - y2 ... -``.

    probs: (time, classes) per-frame probabilities. alpha[s] is the probability of all path prefixes
    ending in position s of the padded target; each step stays, moves one on, or skips a blank
    between two different symbols.
    """
    if probs.dim() != 2:
        raise ValueError(f"path_probability: expected probs of shape (time, classes); got {tuple(probs.shape)}")
    ext = [blank]
    for s in target:
        ext += [int(s), blank]
    S, T = len(ext), probs.shape[0]
    alpha = torch.zeros(S, dtype=probs.dtype)
    alpha[0] = probs[0, blank]
    if S > 1:
        alpha[1] = probs[0, ext[1]]
    for t in range(1, T):
        prev = alpha.clone()
        for s in range(S):
            a = prev[s] + (prev[s - 1] if s >= 1 else 0)
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                a = a + prev[s - 2]                  # skip the blank between two different symbols
            alpha[s] = a * probs[t, ext[s]]
    return alpha[-1] + (alpha[-2] if S > 1 else 0)   # end on the last symbol or the final blank


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance: fewest substitutions, insertions and deletions turning ``hyp`` into ``ref``."""
    ref, hyp = list(ref), list(hyp)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
    return row[-1]


def error_rate(refs: Sequence[Sequence], hyps: Sequence[Sequence]) -> float:
    """Token (digit) error rate: total edit distance over total reference length."""
    if len(refs) != len(hyps):
        raise ValueError(f"error_rate: expected as many hypotheses as references; got {len(hyps)} and {len(refs)}")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("error_rate: the references are all empty")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / total
