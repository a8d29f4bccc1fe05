"""Count-based character language models: the baseline an RNN has to beat.

An n-gram model predicts the next token from the previous ``n - 1`` tokens only, by counting:

    P(w | h) = c(h w) / c(h)

Raw counts give probability 0 to everything not seen in training (infinite perplexity), so the
counts are smoothed. Two classic ways are here:

* ``"add_k"``: pretend every token followed every context ``k`` more times,
  ``P(w | h) = (c(h w) + k) / (c(h) + k V)``.
* ``"kneser_ney"``: interpolated Kneser-Ney (Chen & Goodman 1998). Subtract a discount ``D`` from
  every seen count and hand the freed mass to the next-shorter context,

      P(w | h) = max(c(h w) - D, 0) / c(h) + D N1+(h .) / c(h) * P(w | h'),

  where ``h'`` drops the oldest token of ``h`` and ``N1+(h .)`` counts the distinct tokens seen after
  ``h``. Lower orders count *continuations* (in how many distinct contexts a gram occurs) instead of
  occurrences, and the chain ends in the uniform distribution ``1 / V``, so no token has probability 0.

Token ids are plain ints (the ids of :class:`rnn_book.data.text.CharVocab`), so a baseline and an RNN
are scored on exactly the same stream.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Sequence

import torch

SMOOTHINGS = ("kneser_ney", "add_k")


def _as_list(ids, who: str) -> list[int]:
    if isinstance(ids, torch.Tensor):
        if ids.dim() != 1:
            raise ValueError(f"{who}: expected a 1-D stream of token ids; got shape {tuple(ids.shape)}")
        return ids.tolist()
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{who}: expected token ids (a 1-D tensor or a list of ints); got a {type(ids).__name__} "
                        "-- encode the text with CharVocab.encode first")
    return list(ids)


def _grams(ids: list[int], n: int) -> Counter:
    """Occurrences of every n-gram (a tuple of n ids) in the stream."""
    return Counter(zip(*(ids[i:] for i in range(n))))


def _discount(counts: Counter) -> float:
    """Chen & Goodman's estimate D = n1 / (n1 + 2 n2) from how many grams occur once (n1) and twice (n2)."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    return n1 / (n1 + 2 * n2) if n1 + n2 else 0.75


class NGram:
    """An ``order``-gram model over ``vocab_size`` token ids. ``NGram(5, V).fit(train).perplexity(valid)``."""

    def __init__(self, order: int, vocab_size: int, smoothing: str = "kneser_ney", k: float = 0.1):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"NGram: order must be an int >= 1 (1 = unigram); got {order!r}")
        if not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"NGram: vocab_size must be a positive int; got {vocab_size!r}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"NGram: smoothing must be one of {SMOOTHINGS}; got {smoothing!r}")
        if smoothing == "add_k" and not k > 0:
            raise ValueError(f"NGram: add-k smoothing needs k > 0; got k={k!r}")
        self.order, self.vocab_size, self.smoothing, self.k = order, vocab_size, smoothing, k
        self.fitted = False

    def __repr__(self) -> str:
        extra = f", k={self.k}" if self.smoothing == "add_k" else ""
        return f"NGram(order={self.order}, vocab_size={self.vocab_size}, smoothing={self.smoothing!r}{extra})"

    @property
    def name(self) -> str:
        return f"{self.order}-gram, " + ("Kneser-Ney" if self.smoothing == "kneser_ney" else f"add-{self.k:g}")

    def fit(self, ids) -> "NGram":
        ids = _as_list(ids, "NGram.fit")
        if len(ids) < self.order:
            raise ValueError(f"NGram.fit: need at least order={self.order} tokens; got {len(ids)}")
        if max(ids) >= self.vocab_size or min(ids) < 0:
            raise ValueError(f"NGram.fit: token ids must lie in 0..{self.vocab_size - 1}; "
                             f"got values from {min(ids)} to {max(ids)}")
        # tables[n] holds, for the grams of length n: their counts, and per context (the first n-1
        # ids) the total count and the number of distinct next tokens.
        self.tables: dict[int, tuple[Counter, dict, dict]] = {}
        self.discounts: dict[int, float] = {}
        if self.smoothing == "add_k":
            self.tables[self.order] = self._context_stats(_grams(ids, self.order))
        else:
            counts = _grams(ids, self.order)
            for n in range(self.order, 0, -1):
                self.tables[n] = self._context_stats(counts)
                self.discounts[n] = _discount(counts)
                # the next-lower order counts continuations: in how many distinct contexts gram[1:] follows
                counts = Counter(g[1:] for g in counts)
        self.fitted = True
        return self

    @staticmethod
    def _context_stats(counts: Counter):
        total, types = defaultdict(int), defaultdict(int)
        for gram, c in counts.items():
            total[gram[:-1]] += c
            types[gram[:-1]] += 1
        return counts, dict(total), dict(types)

    def prob(self, context: Sequence[int], token: int) -> float:
        """P(token | the last order-1 ids of context)."""
        if not self.fitted:
            raise RuntimeError("NGram.prob: call fit(train_ids) first")
        context = tuple(context)[-(self.order - 1):] if self.order > 1 else ()
        if self.smoothing == "add_k":
            counts, total, _ = self.tables[self.order]
            return (counts.get(context + (token,), 0) + self.k) / (total.get(context, 0) + self.k * self.vocab_size)
        return self._kn(context, token)

    def _kn(self, context: tuple, token: int) -> float:
        p = 1.0 / self.vocab_size                                  # order 0: uniform
        for n in range(1, len(context) + 2):                        # unigram up to the full context
            counts, total, types = self.tables[n]
            h = context[len(context) - (n - 1):]
            t = total.get(h, 0)
            if t == 0:                                              # context never seen: keep the shorter one
                continue
            D = self.discounts[n]
            p = (max(counts.get(h + (token,), 0) - D, 0.0) + D * types[h] * p) / t
        return p

    def nll(self, ids) -> float:
        """Mean negative log-likelihood (nats per token) of ids[1:], each given the ids before it."""
        ids = _as_list(ids, "NGram.nll")
        if len(ids) < 2:
            raise ValueError(f"NGram.nll: need at least 2 tokens (a context and a target); got {len(ids)}")
        k = self.order - 1
        total = 0.0
        for t in range(1, len(ids)):
            total -= math.log(self.prob(ids[max(0, t - k):t], ids[t]))
        return total / (len(ids) - 1)

    def perplexity(self, ids) -> float:
        """exp(mean NLL): the number of equally likely tokens the model is as unsure as."""
        return math.exp(self.nll(ids))

    @torch.no_grad()
    def distribution(self, context: Sequence[int]) -> torch.Tensor:
        """The whole next-token distribution (sums to 1), e.g. to sample from the baseline."""
        return torch.tensor([self.prob(context, w) for w in range(self.vocab_size)], dtype=torch.float64)


def baseline_table(train, valid, vocab_size: int, orders: Sequence[int] = (1, 2, 3, 4, 5),
                   smoothings: Sequence[str] = SMOOTHINGS, k: float = 0.1) -> list[dict]:
    """Validation perplexity of every (order, smoothing) pair, fitted on ``train``: rows for plots.table."""
    rows = []
    for smoothing in smoothings:
        for n in orders:
            model = NGram(n, vocab_size, smoothing, k=k).fit(train)
            rows.append({"model": model.name, "order": n, "smoothing": smoothing,
                         "valid perplexity": model.perplexity(valid)})
    return rows
