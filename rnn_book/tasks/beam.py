"""Decoding a sequence model: greedy search, beam search, and exhaustive search to check them on toy vocabularies.

All three drive the model through one function, ``step(tokens, state) -> (log_probs, state)``:
``tokens`` holds the last token of each of K live hypotheses, ``log_probs`` is (K, V), log P(next | prefix).
Every tensor inside ``state`` keeps the hypotheses on dim 1, as recurrent states do (layers, K, hidden),
so that a beam can keep or copy rows of it with ``index_select(1, parents)``.

A hypothesis y_1..y_n ends with <eos> (n <= max_len) or is cut off at n = max_len. Its score is

    log P(y | x) = sum_t log P(y_t | y_<t, x)      (divided by n**alpha when alpha > 0)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

Step = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@dataclass(frozen=True)
class Hypothesis:
    tokens: tuple[int, ...]    # generated tokens, <eos> included when the hypothesis finished
    score: float               # summed log-probability (length-normalised if alpha > 0)
    log_prob: float            # summed log-probability


def reorder(state, index: torch.Tensor):
    """Keep/copy hypotheses: rows ``index`` of dim 1 of every tensor in a (nested) state."""
    if isinstance(state, torch.Tensor):
        return state.index_select(1, index)
    if isinstance(state, (tuple, list)):
        return type(state)(reorder(s, index) for s in state)
    if state is None:
        return None
    raise TypeError(f"reorder: a decoder state must be tensors in (nested) tuples; got {type(state).__name__}")


def normalised_score(log_prob: float, n: int, alpha: float) -> float:
    """The score that ranks finished hypotheses: log P / n**alpha (alpha = 0: log P itself).

    Every extra token adds a negative log-probability, so without normalisation shorter outputs win.
    """
    return log_prob / (max(n, 1) ** alpha) if alpha else log_prob


def _check(width: int, max_len: int, who: str) -> None:
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"{who}: width must be an int >= 1; got {width!r}")
    if not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"{who}: max_len must be an int >= 1; got {max_len!r}")


@torch.no_grad()
def greedy_search(step: Step, state, batch_size: int, bos: int, eos: int, max_len: int,
                  device=None) -> list[Hypothesis]:
    """At every step take the single most likely token, for a whole batch at once."""
    _check(1, max_len, "greedy_search")
    tokens = torch.full((batch_size,), bos, dtype=torch.long, device=device)
    out = [[] for _ in range(batch_size)]
    log_prob = torch.zeros(batch_size, dtype=torch.float64)
    done = torch.zeros(batch_size, dtype=torch.bool)
    for _ in range(max_len):
        logp, state = step(tokens, state)
        best, tokens = logp.max(dim=-1)
        best, nxt = best.double().cpu(), tokens.cpu()
        for i in torch.nonzero(~done).flatten().tolist():
            out[i].append(int(nxt[i]))
        log_prob += torch.where(done, torch.zeros_like(best), best)
        done |= nxt == eos
        if bool(done.all()):
            break
    return [Hypothesis(tuple(o), float(s), float(s)) for o, s in zip(out, log_prob)]


@torch.no_grad()
def beam_search(step: Step, state, bos: int, eos: int, width: int, max_len: int, alpha: float = 0.0,
                device=None) -> list[Hypothesis]:
    """Keep the ``width`` best prefixes at every step; return up to ``width`` finished hypotheses, best first.

    ``state`` is the decoder state of ONE source sentence (dim 1 of size 1). Candidates that end in
    <eos> leave the beam as finished hypotheses (they still take one of the ``width`` places at their
    step). With alpha = 0 the search stops as soon as no live prefix can still beat the ``width``-th
    best finished hypothesis, because extending a prefix never raises its log-probability.
    """
    _check(width, max_len, "beam_search")
    prefixes: list[tuple[int, ...]] = [()]
    scores = torch.zeros(1, dtype=torch.float64)                     # log P of each live prefix
    tokens = torch.tensor([bos], device=device)
    finished: list[Hypothesis] = []
    for t in range(1, max_len + 1):
        logp, state = step(tokens, state)                            # (K, V)
        V = logp.shape[-1]
        total = (scores[:, None] + logp.double().cpu()).flatten()    # log P(prefix) + log P(next | prefix)
        k = min(width, total.numel())
        top, flat = total.topk(k)                                    # best k of all K*V extensions
        parents, nxt = flat // V, flat % V
        keep, new_prefixes = [], []
        for s, p, y in zip(top.tolist(), parents.tolist(), nxt.tolist()):
            seq = prefixes[p] + (y,)
            if y == eos or t == max_len:                             # finished, or cut off at max_len
                finished.append(Hypothesis(seq, normalised_score(s, len(seq), alpha), s))
            else:
                keep.append(len(new_prefixes))
                new_prefixes.append((seq, p, y, s))
        if not new_prefixes:
            break
        prefixes = [q[0] for q in new_prefixes]
        scores = torch.tensor([q[3] for q in new_prefixes], dtype=torch.float64)
        index = torch.tensor([q[1] for q in new_prefixes], device=device)
        state = reorder(state, index)
        tokens = torch.tensor([q[2] for q in new_prefixes], device=device)
        if not alpha and len(finished) >= width:
            kth = sorted((h.score for h in finished), reverse=True)[width - 1]
            if float(scores.max()) <= kth:                           # no live prefix can still enter the top
                break
    finished.sort(key=lambda h: -h.score)
    return finished[:width]


@torch.no_grad()
def exhaustive_search(step: Step, state, bos: int, eos: int, max_len: int, alpha: float = 0.0,
                      device=None, limit: int = 200_000) -> list[Hypothesis]:
    """Score EVERY hypothesis (all sequences up to ``max_len``); for toy vocabularies only. Best first."""
    _check(1, max_len, "exhaustive_search")
    prefixes, scores = [()], torch.zeros(1, dtype=torch.float64)
    tokens = torch.tensor([bos], device=device)
    finished: list[Hypothesis] = []
    for t in range(1, max_len + 1):
        logp, state = step(tokens, state)
        V = logp.shape[-1]
        if len(prefixes) * V > limit:
            raise ValueError(f"exhaustive_search: {len(prefixes) * V} prefixes at step {t} exceed limit={limit}; "
                             "use a smaller vocabulary or max_len")
        total = scores[:, None] + logp.double().cpu()
        live = []
        for p in range(len(prefixes)):
            for y in range(V):
                seq, s = prefixes[p] + (y,), float(total[p, y])
                if y == eos or t == max_len:
                    finished.append(Hypothesis(seq, normalised_score(s, len(seq), alpha), s))
                else:
                    live.append((seq, p, y, s))
        if not live:
            break
        prefixes = [q[0] for q in live]
        scores = torch.tensor([q[3] for q in live], dtype=torch.float64)
        state = reorder(state, torch.tensor([q[1] for q in live], device=device))
        tokens = torch.tensor([q[2] for q in live], device=device)
    finished.sort(key=lambda h: -h.score)
    return finished


def count_hypotheses(vocab_size: int, eos_in_vocab: bool, max_len: int) -> int:
    """How many hypotheses exist: sequences ending in <eos> of length 1..max_len plus the cut-off ones."""
    if not eos_in_vocab:
        return vocab_size ** max_len
    other = vocab_size - 1                       # tokens that do not end a hypothesis
    return sum(other ** (n - 1) for n in range(1, max_len + 1)) + other ** max_len


class ToyDecoder:
    """A random recurrent decoder over a tiny vocabulary {<bos>=0, <eos>=1, 2, ..}: small enough to enumerate.

    ``sharp`` scales the logits; sharper distributions make it easier for greedy search to be led astray.
    """

    def __init__(self, seed: int = 0, vocab_size: int = 4, hidden_size: int = 6, sharp: float = 3.0):
        g = torch.Generator().manual_seed(seed)
        self.vocab_size, self.sharp = vocab_size, sharp
        self.emb = torch.randn(vocab_size, hidden_size, generator=g, dtype=torch.float64)
        self.cell = torch.nn.GRUCell(hidden_size, hidden_size).double()
        with torch.no_grad():
            for p in self.cell.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
        self.out = torch.randn(hidden_size, vocab_size, generator=g, dtype=torch.float64)

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, state):
        h = self.cell(self.emb[tokens], state[0])
        logits = self.sharp * h @ self.out
        logits[:, 0] = -float("inf")                 # <bos> is never generated
        return logits.log_softmax(-1), h[None]

    def start(self) -> torch.Tensor:
        return torch.zeros(1, 1, self.emb.shape[1], dtype=torch.float64)

    def log_prob(self, tokens) -> float:
        """log P of one sequence, token by token (an independent check of the searches' scores)."""
        state, tok, total = self.start(), torch.tensor([0]), 0.0
        for y in tokens:
            logp, state = self.step(tok, state)
            total += float(logp[0, y])
            tok = torch.tensor([y])
        return total
