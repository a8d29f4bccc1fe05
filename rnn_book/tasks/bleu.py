"""Corpus BLEU (Papineni et al. 2002), here on characters, one reference per sentence.

    p_n  = clipped n-gram matches / n-grams in the hypotheses      (summed over the corpus)
    BP   = 1 if c > r else exp(1 - r/c)                              (c, r: total hypothesis / reference length)
    BLEU = 100 * BP * exp(mean_n log p_n),  n = 1..4

``smooth="exp"`` replaces a zero match count by 1/2^k of the n-gram total (k = 1, 2, ...), as sacrebleu
does by default; ``smooth="none"`` gives 0 when some p_n is 0.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence


def ngrams(tokens: Sequence, n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def clipped_matches(hyp: Sequence, ref: Sequence, n: int) -> tuple[int, int]:
    """(n-grams of ``hyp`` also in ``ref``, each counted at most as often as in ``ref``; n-grams of ``hyp``)."""
    h, r = ngrams(hyp, n), ngrams(ref, n)
    return sum(min(c, r[g]) for g, c in h.items()), sum(h.values())


def corpus_bleu(hyps: Sequence[Sequence], refs: Sequence[Sequence], max_n: int = 4, smooth: str = "none") -> float:
    """BLEU in 0..100 of token lists ``hyps`` against ``refs`` (for character BLEU pass strings or char lists)."""
    if len(hyps) != len(refs):
        raise ValueError(f"corpus_bleu: expected one reference per hypothesis; got {len(hyps)} hypotheses and "
                         f"{len(refs)} references")
    if not hyps:
        raise ValueError("corpus_bleu: expected at least one hypothesis; got none")
    if smooth not in ("none", "exp"):
        raise ValueError(f"corpus_bleu: smooth must be 'none' or 'exp'; got {smooth!r}")
    matches, totals = [0] * max_n, [0] * max_n
    for h, r in zip(hyps, refs):
        for n in range(1, max_n + 1):
            m, t = clipped_matches(h, r, n)
            matches[n - 1] += m
            totals[n - 1] += t
    c, r = sum(len(h) for h in hyps), sum(len(x) for x in refs)
    if c == 0 or not any(matches):     # nothing matched at all: 0, whatever the smoothing
        return 0.0
    log_p, k = 0.0, 1
    for m, t in zip(matches, totals):
        if t == 0:                      # no n-grams this long at all: BLEU is 0 (as in sacrebleu)
            return 0.0
        if m == 0:
            if smooth == "none":
                return 0.0
            m, k = 1 / 2 ** k, k + 1
        log_p += math.log(m / t) / max_n
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return 100 * bp * math.exp(log_p)


def char_bleu(hyps: Sequence[str], refs: Sequence[str], smooth: str = "none") -> float:
    """Character-level corpus BLEU of strings (spaces ignored), the usual choice for Chinese."""
    return corpus_bleu([[ch for ch in h if not ch.isspace()] for h in hyps],
                       [[ch for ch in r if not ch.isspace()] for r in refs], smooth=smooth)
