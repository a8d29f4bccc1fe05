"""Parallel English→Chinese pairs for the translation chapter: tokens, vocabularies, padded batches.

English is cut into words, single digits and punctuation ("Nov 27, 2026" -> nov 2 7 , 2 0 2 6), so
that a year the model never saw is still made of tokens it knows. Chinese is cut into characters.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Sequence

import torch

from . import dates, zh_numbers
from ..settings import epoch_seed
from .vocab import Vocab



def tokenize_en(text: str) -> list[str]:
    """Lower-case words, one token per digit, punctuation on its own: "Nov 27, 2026" -> nov 2 7 , 2 0 2 6."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize_en: expected a string; got {type(text).__name__}")
    return re.findall(r"[a-z]+|\d|[^\sa-z\d]", text.lower())


def tokenize_zh(text: str) -> list[str]:
    """One token per character (spaces dropped): 2026年11月27日 -> 2 0 2 6 年 1 1 月 2 7 日."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize_zh: expected a string; got {type(text).__name__}")
    return [c for c in text if not c.isspace()]


@dataclass(frozen=True)
class Pair:
    en: str
    zh: str
    kind: str          # "number" or "date"
    value: object      # the int or datetime.date behind both sides


def number_pair(n: int, style: str = "uk") -> Pair:
    return Pair(zh_numbers.to_english(n, style), zh_numbers.to_chinese(n), "number", n)


def date_pair(d, style: str) -> Pair:
    return Pair(dates.to_english_date(d, style), dates.to_chinese_date(d), "date", d)


def make_pairs(split: str, numbers: int, dates_: int, max_number: int = zh_numbers.MAX_NUMBER, seed: int = 0,
               all_held_out: bool = False) -> list[Pair]:
    """``numbers`` number pairs and ``dates_`` date pairs of ``split``, English style drawn at random.

    With ``all_held_out`` the numbers are every number of ``split`` up to ``max_number`` (``numbers`` ignored).
    """
    rng = random.Random(f"{split}-{seed}")
    ns = (zh_numbers.all_numbers(split, max_number) if all_held_out
          else zh_numbers.sample_numbers(numbers, split, max_number, rng, distinct=split != "train"))
    pairs = [number_pair(n, rng.choice(("uk", "us"))) for n in ns]
    pairs += [date_pair(d, style) for d, style in dates.sample_dates(dates_, split, rng)]
    return pairs


def build_vocabs() -> tuple[Vocab, Vocab]:
    """Source and target vocabularies that cover every number, date and style the generators can make."""
    en = set(zh_numbers.ONES + [t for t in zh_numbers.TENS if t] + ["hundred", "thousand", "million", "and", "-"])
    en |= {m.lower() for m in dates.MONTHS} | {m[:3].lower() for m in dates.MONTHS} | {"sept", ","}
    en |= {w.lower() for w in dates.WEEKDAYS} | set("0123456789")
    zh = set(zh_numbers.DIGITS + "十百千万") | set("0123456789年月日")
    return Vocab(sorted(en)), Vocab(sorted(zh))


class Batch(NamedTuple):
    src: torch.Tensor          # (B, S) English ids, padded with 0
    src_lengths: torch.Tensor  # (B,)
    tgt_in: torch.Tensor       # (B, T) <bos> y_1 .. y_n, padded: what the decoder reads (teacher forcing)
    tgt_out: torch.Tensor      # (B, T) y_1 .. y_n <eos>, padded: what it must predict


def pad(seqs: Sequence[Sequence[int]], value: int = 0) -> torch.Tensor:
    T = max(len(s) for s in seqs)
    out = torch.full((len(seqs), T), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


def _batch(src: Sequence[list[int]], tgt: Sequence[list[int]], bos: int, eos: int) -> Batch:
    return Batch(pad(src), torch.tensor([len(s) for s in src]), pad([[bos] + t for t in tgt]),
                 pad([t + [eos] for t in tgt]))


def collate(pairs: Sequence[Pair], src_vocab: Vocab, tgt_vocab: Vocab) -> Batch:
    """Pairs -> one padded :class:`Batch`."""
    if not pairs:
        raise ValueError("collate: expected at least one pair; got an empty list")
    return _batch([src_vocab.encode(tokenize_en(p.en)) for p in pairs],
                  [tgt_vocab.encode(tokenize_zh(p.zh)) for p in pairs], tgt_vocab.bos_id, tgt_vocab.eos_id)


class PairBatches:
    """Shuffled padded batches of pairs, a new order every epoch; pass it to ``rnn_book.train.fit``."""

    def __init__(self, pairs: Sequence[Pair], src_vocab: Vocab, tgt_vocab: Vocab, batch_size: int = 64,
                 shuffle: bool = True, seed: int = 0, device=None, sort_within: int = 0):
        if batch_size < 1:
            raise ValueError(f"PairBatches: batch_size must be >= 1; got {batch_size}")
        if not isinstance(sort_within, int) or sort_within < 0:
            raise ValueError(f"PairBatches: sort_within must be an int >= 0; got {sort_within!r}")
        self.pairs, self.src_vocab, self.tgt_vocab = list(pairs), src_vocab, tgt_vocab
        self.batch_size, self.shuffle, self.seed, self.device = batch_size, shuffle, seed, device
        self.sort_within = sort_within     # > 0: batch pairs of similar length, within windows of this many batches
        self.src = [src_vocab.encode(tokenize_en(p.en)) for p in self.pairs]    # tokenised once, not every epoch
        self.tgt = [tgt_vocab.encode(tokenize_zh(p.zh)) for p in self.pairs]

    def __len__(self) -> int:
        return -(-len(self.pairs) // self.batch_size)

    def order(self, epoch: int) -> list[list[int]]:
        """The batches of one epoch, as lists of pair indices.

        Shuffled anew every epoch; with ``sort_within`` the shuffled pairs are cut into windows of
        ``sort_within`` batches, sorted by source length inside each window, batched, and the batches
        shuffled: short pairs then share batches with short ones, so little time goes into padding.
        """
        rng = random.Random(epoch_seed(self.seed, epoch))
        order = list(range(len(self.pairs)))
        if self.shuffle:
            rng.shuffle(order)
        if self.sort_within:
            window = self.sort_within * self.batch_size
            order = [i for k in range(0, len(order), window)
                     for i in sorted(order[k:k + window], key=lambda i: len(self.src[i]))]
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.sort_within and self.shuffle:
            rng.shuffle(batches)
        return batches

    def __call__(self, epoch: int = 0) -> Iterator[Batch]:
        for idx in self.order(epoch):
            b = _batch([self.src[j] for j in idx], [self.tgt[j] for j in idx], self.tgt_vocab.bos_id,
                       self.tgt_vocab.eos_id)
            yield Batch(*(t.to(self.device) for t in b)) if self.device is not None else b

    def __iter__(self) -> Iterator[Batch]:
        return self(0)


def fresh_batches(numbers: int, dates_: int, max_number: int, src_vocab: Vocab, tgt_vocab: Vocab,
                  batch_size: int = 64, seed: int = 0, device=None):
    """``epoch -> batches`` of pairs drawn anew every epoch (from the training split only).

    The generators never run out, so instead of showing the model the same pairs again we show it new
    ones: it cannot memorise, it has to learn the rule. Pass the result to ``fit`` as ``batches``.
    """
    def batches(epoch: int):
        pairs = make_pairs("train", numbers, dates_, max_number, seed=epoch_seed(seed, epoch))
        return PairBatches(pairs, src_vocab, tgt_vocab, batch_size, seed=epoch_seed(seed, epoch), device=device)()
    return batches
