"""Exercises of the translation chapter (05): Chinese numerals, the masked loss, one beam step, BLEU's clipping."""
from __future__ import annotations

import random

import torch

from ..tasks.bleu import clipped_matches
from ..data.zh_numbers import to_chinese
from ..tasks.seq2seq import masked_cross_entropy
from .core import Wrong, call, exercise


@exercise
def ch05_chinese_below_10000(fn):
    """fn(n) -> the Chinese numeral of n for 0 <= n <= 9999 (十五 not 一十五, one 零 per run of zeros, 二 not 两)."""
    for n in [0, 2, 10, 15, 20, 101, 110, 305, 1001, 1010, 1100, 2222, 9999] + list(range(0, 10_000)):
        got, want = call(fn, n), to_chinese(n)
        if got != want:
            raise Wrong(f"fn({n}) returned {got!r}; expected {want!r}")


@exercise
def ch05_masked_loss(fn):
    """fn(logits (B,T,V), target (B,T), pad_id) -> mean cross-entropy over the non-padding target positions."""
    g = torch.Generator().manual_seed(5)
    for trial in range(6):
        B, T, V, pad_id = 3 + trial, 7, 6, trial % 2
        target = torch.randint(2, V, (B, T), generator=g)
        for i in range(B):
            target[i, torch.randint(1, T + 1, (1,), generator=g).item():] = pad_id
        logits = torch.randn(B, T, V, generator=g) * 3
        got, want = call(fn, logits, target, pad_id), masked_cross_entropy(logits, target, pad_id)
        got = torch.as_tensor(got, dtype=want.dtype)
        if got.numel() != 1:
            raise Wrong(f"expected one number (a scalar loss); got a tensor of shape {tuple(got.shape)}")
        if not torch.allclose(got.reshape(()), want, atol=1e-5):
            naive = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none").mean()
            hint = (" — that is the mean over every position, padding included" if torch.allclose(got, naive, atol=1e-5)
                    else "")
            raise Wrong(f"with {int((target != pad_id).sum())} real tokens out of {B * T} your loss is "
                        f"{float(got):.5f}; expected {float(want):.5f}{hint}")


@exercise
def ch05_beam_step(fn):
    """fn(scores (K,), log_probs (K,V), width) -> (new_scores, parents, tokens): the best ``width`` extensions."""
    rng = random.Random(1)
    for trial in range(8):
        K, V = rng.randint(1, 4), rng.randint(3, 7)
        width = rng.randint(1, K * V)
        scores = -torch.rand(K, dtype=torch.float64) * 5
        log_probs = torch.randn(K, V, dtype=torch.float64).log_softmax(-1)
        every = sorted(((float(scores[k] + log_probs[k, v]), k, v) for k in range(K) for v in range(V)), reverse=True)
        want = every[:width]
        out = call(fn, scores, log_probs, width)
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise Wrong("return a tuple (new_scores, parents, tokens)")
        s, p, t = (torch.as_tensor(x).flatten().tolist() for x in out)
        if len(s) != width:
            raise Wrong(f"with width={width} return {width} extensions; got {len(s)}")
        got = [(round(a, 9), int(b), int(c)) for a, b, c in zip(s, p, t)]
        expected = [(round(a, 9), b, c) for a, b, c in want]
        if got != expected:
            i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
            raise Wrong(f"K={K}, V={V}, width={width}: extension #{i + 1} is (score, parent, token) = {got[i]}; "
                        f"expected {expected[i]} (the best of ALL K*V extensions, scored by "
                        "log P(prefix) + log P(token | prefix), best first)")


@exercise
def ch05_clipped_precision(fn):
    """fn(hyp, ref, n) -> (clipped n-gram matches, n-grams in hyp), for strings of characters."""
    cases = [("零零零", "一百零五", 1), ("一百零五", "一百零五", 2), ("十万零一十", "十万零一", 2),
             ("", "一", 1), ("一二一二", "一二", 2), ("二二二二", "二二", 1), ("一二三", "一二", 4)]
    rng = random.Random(2)
    cases += [("".join(rng.choice("一二零") for _ in range(rng.randint(0, 8))),
               "".join(rng.choice("一二零") for _ in range(rng.randint(0, 8))), rng.randint(1, 3)) for _ in range(40)]
    for hyp, ref, n in cases:
        got, want = call(fn, hyp, ref, n), clipped_matches(hyp, ref, n)
        if tuple(got) != want:
            raise Wrong(f"fn({hyp!r}, {ref!r}, {n}) returned {tuple(got)}; expected {want} "
                        "(each n-gram counts at most as often as it occurs in the reference)")
