"""Writing with a trained language model: prime it with a prompt, then pick one character at a time.

At each step the model gives logits ``z`` over the vocabulary. Three ways to choose the next one:

* greedy: ``argmax z`` -- deterministic, and it soon loops on the most common phrase;
* temperature ``T``: sample from ``softmax(z / T)`` -- T < 1 sharpens the distribution (safer, duller),
  T > 1 flattens it (bolder, more mistakes), T = 1 samples the model's own belief;
* top-k: keep the k largest logits, sample among them -- cuts off the long tail of unlikely characters.
"""
from __future__ import annotations

import re

import torch

from ..data.vocab import CharVocab
from ..settings import device_of


def next_token_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """The distribution to sample the next token from: softmax(logits / T), restricted to the top k."""
    if not isinstance(logits, torch.Tensor) or logits.dim() != 1:
        raise ValueError(f"next_token_probs: expected a 1-D tensor of logits (vocab,); got "
                         f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}")
    if not temperature > 0:
        raise ValueError(f"next_token_probs: temperature must be > 0 (use greedy=True for argmax); got {temperature!r}")
    z = logits.double() / temperature
    if top_k is not None:
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"next_token_probs: top_k must be a positive int or None; got {top_k!r}")
        if top_k < z.numel():
            kth = torch.topk(z, top_k).values[-1]
            z = z.masked_fill(z < kth, float("-inf"))
    return torch.softmax(z, dim=0)


def _encode_prompt(vocab: CharVocab, prompt: str) -> torch.Tensor:
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str; got {type(prompt).__name__}")
    prompt = prompt or "\n"            # an empty prompt starts the model at the beginning of a line
    unknown = sorted({c for c in prompt if c not in vocab.stoi})
    if unknown:
        raise ValueError(f"prompt has characters the model never saw in training: {''.join(unknown)!r}; "
                         f"use characters of its vocabulary ({len(vocab) - 2} characters)")
    return vocab.encode(prompt)


@torch.no_grad()
def generate(model, vocab: CharVocab, prompt: str, length: int = 200, *, temperature: float = 1.0,
             top_k: int | None = None, greedy: bool = False, stop: str | None = None,
             generator: torch.Generator | None = None, context: int | None = None) -> str:
    """Continue ``prompt`` by ``length`` characters (the prompt itself is not included in the result).

    The prompt is read in one forward pass ("priming"); its final hidden state and last logits start
    the generation, and each new character updates the carried state. ``context=n`` instead re-reads
    the last n characters at every step from a zero state: slower, but it works for any model, also a
    bidirectional one, whose backward direction has no state to carry. ``stop`` ends the text early
    when that character is produced (e.g. "\\n": one poem). ``<unk>`` and ``<pad>`` are never produced.
    """
    if not isinstance(length, int) or length < 0:
        raise ValueError(f"generate: length must be an int >= 0; got {length!r}")
    if context is not None and (not isinstance(context, int) or context < 1):
        raise ValueError(f"generate: context must be a positive int or None; got {context!r}")
    was_training = model.training
    model.eval()
    dev = device_of(model)
    ids = _encode_prompt(vocab, prompt).to(dev)
    logits, state = model(ids[None, :] if context is None else ids[None, -context:])
    logits = logits[0, -1]
    out: list[int] = []
    for _ in range(length):
        logits = logits.clone()
        logits[[vocab.unk_id, vocab.pad_id]] = float("-inf")
        if greedy:
            nxt = int(torch.argmax(logits))
        else:
            p = next_token_probs(logits.cpu(), temperature, top_k)
            nxt = int(torch.multinomial(p, 1, generator=generator))
        out.append(nxt)
        if stop is not None and vocab.itos[nxt] == stop:
            break
        if context is None:
            logits, state = model(torch.tensor([[nxt]], device=dev), state)
        else:
            ids = torch.cat([ids, torch.tensor([nxt], device=dev)])
            logits, _ = model(ids[None, -context:])
        logits = logits[0, -1]
    model.train(was_training)
    return vocab.decode(out)


# the ways of choosing the next character that chapter 4 compares, in the order it draws them
STRATEGIES = (("greedy", {"greedy": True}), ("T = 0.5", {"temperature": 0.5}), ("T = 1.0", {"temperature": 1.0}),
              ("T = 1.5", {"temperature": 1.5}), ("top-k = 5", {"top_k": 5}))
# the prompts of chapter 4's poems: two characters of a 诗经 line, or nothing (the start of a line)
POEM_PROMPTS = ("关关", "青青", "南山", "采采", "", "我心", "彼黍", "日月")


def write_samples(model, vocab: CharVocab, prompt: str, length: int, generator: torch.Generator,
                  strategies=STRATEGIES) -> dict[str, str]:
    """One continuation of ``prompt`` per strategy, drawn one after the other from ``generator``."""
    return {label: generate(model, vocab, prompt, length, generator=generator, **kw) for label, kw in strategies}


def write_poems(model, vocab: CharVocab, generator: torch.Generator, prompts=POEM_PROMPTS, length: int = 96,
                temperature: float = 0.8) -> list[str]:
    """One poem per prompt (the prompt included), each ending where the model writes a line break."""
    return [p + generate(model, vocab, p, length, temperature=temperature, stop="\n", generator=generator)
            for p in prompts]


def distinct_share(text: str, n: int = 20) -> float:
    """Share of the n-character pieces of ``text`` that are different: low when the text repeats itself."""
    if len(text) <= n:
        raise ValueError(f"distinct_share: the text needs more than n={n} characters; got {len(text)}")
    pieces = [text[i:i + n] for i in range(len(text) - n)]
    return len(set(pieces)) / len(pieces)


def clause_lengths(text: str, marks: str = "，。！？；：、") -> list[int]:
    """Lengths of the clauses between punctuation marks, e.g. [4, 4, 4, 4] for 关关雎鸠，在河之洲。..."""
    lengths, n = [], 0
    for c in text:
        if c in marks or c == "\n":
            if n:
                lengths.append(n)
            n = 0
        else:
            n += 1
    return lengths


def form_score(text: str, length: int = 4) -> float:
    """Share of complete clauses with exactly ``length`` characters (诗经's lines are mostly four)."""
    lengths = clause_lengths(text)
    return sum(n == length for n in lengths) / len(lengths) if lengths else 0.0


def word_share(text: str, known: set[str]) -> float:
    """Share of the (lower-cased, letters-only) words in ``text`` that are words of ``known``."""
    words = re.findall(r"[a-z]+", text.lower())
    return sum(w in known for w in words) / len(words) if words else 0.0


def known_words(text: str) -> set[str]:
    """The set of lower-cased words of a text, e.g. of the training block."""
    return set(re.findall(r"[a-z]+", text.lower()))
