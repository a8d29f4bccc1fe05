"""Exercises of chapter 5b (translating sentences): the additive score, masked attention weights, length normalisation."""
from __future__ import annotations

import random

import torch

from ..tasks.attention import AdditiveScore, masked_softmax
from ..tasks.beam import normalised_score
from .core import Wrong, call, close, exercise


def _score_cases():
    g = torch.Generator().manual_seed(11)
    for S, Q, K, A in ((5, 3, 4, 6), (1, 2, 2, 2), (7, 4, 8, 5)):
        layer = AdditiveScore(Q, K, A).double()
        with torch.no_grad():
            for p in layer.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
        s = torch.randn(Q, generator=g, dtype=torch.float64)
        H = torch.randn(S, K, generator=g, dtype=torch.float64)
        want = layer(s[None, None], layer.prepare(H[:, None]))[0, :, 0]          # (T=1, S, B=1) -> (S,)
        yield s, H, layer.W_q.weight.detach(), layer.W_k.weight.detach(), layer.W_k.bias.detach(), \
            layer.v.weight.detach()[0], want


@exercise
def ch05b_additive_score(fn):
    """fn(s, H, W_q, W_k, b_k, v) -> e with e_j = v · tanh(W_q s + W_k h_j + b_k) for every row h_j of H."""
    for s, H, W_q, W_k, b_k, v, want in _score_cases():
        got = torch.as_tensor(call(fn, s, H, W_q, W_k, b_k, v), dtype=torch.float64)
        if got.shape != want.shape:
            raise Wrong(f"with {H.shape[0]} source positions return {H.shape[0]} scores, shape {tuple(want.shape)}; "
                        f"got shape {tuple(got.shape)}")
        if not close(got, want, 1e-9):
            dot = torch.tanh(H @ W_k.T + b_k) @ v
            hint = " — the query s is missing from inside the tanh" if close(got, dot, 1e-9) else ""
            raise Wrong(f"scores {got.numpy().round(4).tolist()}; expected {want.numpy().round(4).tolist()}{hint}")


@exercise
def ch05b_masked_weights(fn):
    """fn(e (S, B), mask (S, B) bool) -> α: softmax over the real positions of each column, exactly 0 on padding."""
    g = torch.Generator().manual_seed(12)
    for S, B in ((6, 3), (1, 1), (9, 4)):
        e = torch.randn(S, B, generator=g, dtype=torch.float64) * 3
        lengths = torch.randint(1, S + 1, (B,), generator=g)
        mask = torch.arange(S)[:, None] < lengths[None]
        e[~mask] = 1e3 * torch.rand(int((~mask).sum()), generator=g, dtype=torch.float64)   # large junk on padding
        want = masked_softmax(e, mask)
        got = torch.as_tensor(call(fn, e.clone(), mask.clone()), dtype=torch.float64)
        if got.shape != want.shape:
            raise Wrong(f"return one weight per score, shape {tuple(want.shape)}; got {tuple(got.shape)}")
        if bool((got[~mask] != 0).any()):
            raise Wrong("a padded position got a weight that is not exactly 0: the decoder would read padding")
        if not close(got.sum(0), torch.ones(B), 1e-9):
            raise Wrong(f"each sentence's weights must sum to 1; got sums {got.sum(0).numpy().round(4).tolist()}")
        if not close(got, want, 1e-9):
            raise Wrong(f"weights {got.numpy().round(4).tolist()}; expected {want.numpy().round(4).tolist()}")


@exercise
def ch05b_length_normalised(fn):
    """fn(hypotheses [(tokens, log_prob), ...], alpha) -> the hypotheses sorted best first by log_prob / len**alpha."""
    rng = random.Random(13)
    for trial in range(30):
        alpha = [0.0, 0.6, 1.0, rng.uniform(0, 1.5)][trial % 4]
        hyps = []
        for _ in range(rng.randint(2, 7)):
            n = rng.randint(1, 9)
            hyps.append((tuple(rng.randint(4, 20) for _ in range(n)), -sum(rng.uniform(0.05, 2.0) for _ in range(n))))
        want = sorted(hyps, key=lambda h: -normalised_score(h[1], len(h[0]), alpha))
        got = call(fn, list(hyps), alpha)
        try:
            got = [tuple(h) for h in got]
        except TypeError:
            raise Wrong("return a list of the (tokens, log_prob) pairs, best first") from None
        if [h[0] for h in got] != [h[0] for h in want]:
            shortest = min(hyps, key=lambda h: len(h[0]))
            hint = (" — without normalisation the shortest hypothesis usually wins" if got and got[0] == shortest
                    and alpha > 0 else "")
            raise Wrong(f"alpha={alpha:.2f}: best first should be lengths {[len(h[0]) for h in want]}, got "
                        f"{[len(h[0]) for h in got]} (score = log P / length**alpha){hint}")
