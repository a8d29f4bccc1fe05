"""Character-level text: shipped corpora, a vocabulary, a leak-free split, stateful TBPTT batches."""
from __future__ import annotations

import gzip
from importlib import resources
from dataclasses import dataclass
from typing import Iterator

import torch

from .vocab import CharVocab

# name -> file in rnn_book/data/corpora (sources and licences: rnn_book/data/DATA_LICENSE.md)
CORPORA = {
    "moby_dick": "moby_dick.txt.gz",   # Melville, Moby-Dick (1851), ~1.19 M characters of English prose
    "shijing": "shijing.txt.gz",       # 诗经, the 305 poems, simplified characters, one poem per line
}


def load_corpus(name: str, max_chars: int | None = None) -> str:
    """The text of a shipped corpus (``CORPORA`` lists them), optionally only its first ``max_chars``."""
    if name not in CORPORA:
        raise ValueError(f"load_corpus: unknown corpus {name!r}; shipped: {', '.join(sorted(CORPORA))}")
    raw = resources.files("rnn_book.data").joinpath("corpora", CORPORA[name]).read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    return text[:max_chars] if max_chars else text


def split_contiguous(ids: torch.Tensor, valid_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Training = the first part of the text, validation = the last block: no sentence is in both."""
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1); got {valid_fraction}")
    cut = int(len(ids) * (1 - valid_fraction))
    return ids[:cut], ids[cut:]


class StatefulBatches:
    """Batches for truncated BPTT in which row b of batch k+1 continues row b of batch k.

    The id stream is cut into ``batch_size`` equal streams laid side by side (a (batch, n) matrix);
    batch k is columns [k*seq_len, (k+1)*seq_len) and its target is the same window shifted by one.
    The last batch is shorter in time when ``seq_len`` does not divide the stream, never dropped, and
    never mis-aligned: because the rows keep their order, a carried hidden state is always the
    state of the same stream.
    """

    def __init__(self, ids: torch.Tensor, batch_size: int, seq_len: int):
        if ids.dim() != 1:
            raise ValueError(f"StatefulBatches: expected a 1-D stream of ids; got shape {tuple(ids.shape)}")
        for name, v in (("batch_size", batch_size), ("seq_len", seq_len)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"StatefulBatches: {name} must be a positive int; got {v!r}")
        n = (len(ids) - 1) // batch_size
        if n < 1:
            raise ValueError(f"StatefulBatches: {len(ids)} ids are too few for batch_size={batch_size}")
        self.batch_size, self.seq_len = batch_size, seq_len
        self.x = ids[: n * batch_size].view(batch_size, n)
        # row b of y is row b of x shifted by one id: ids[b*n+1 : (b+1)*n+1]
        self.y = ids[1: n * batch_size + 1].view(batch_size, n)

    def __len__(self) -> int:
        return -(-self.x.shape[1] // self.seq_len)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, self.x.shape[1], self.seq_len):
            yield self.x[:, start:start + self.seq_len], self.y[:, start:start + self.seq_len]


@dataclass
class SmallCorpus:
    """A deliberately small training text and a separate, larger validation text, as id streams."""

    vocab: CharVocab
    train: torch.Tensor
    valid: torch.Tensor

    def __repr__(self) -> str:
        return f"SmallCorpus({len(self.train):,} training and {len(self.valid):,} validation characters, " \
               f"{len(self.vocab)} symbols)"


def small_corpus(train_chars: int, valid_chars: int, corpus: str = "moby_dick", offset: int = 20_000) -> SmallCorpus:
    """The ``train_chars`` characters after ``offset`` for training, the ``valid_chars`` after them for validation.

    The vocabulary is built from the training text only; a character it lacks becomes ``<unk>``.
    ``offset`` skips the book's front matter (title page, contents, etymology).
    """
    for name, v in (("train_chars", train_chars), ("valid_chars", valid_chars)):
        if not isinstance(v, int) or v < 100:
            raise ValueError(f"small_corpus: {name} must be an int of at least 100; got {v!r}")
    text = load_corpus(corpus)
    if offset + train_chars + valid_chars > len(text):
        raise ValueError(f"small_corpus: offset + train_chars + valid_chars = {offset + train_chars + valid_chars} "
                         f"exceeds the {len(text)} characters of {corpus!r}")
    train_text = text[offset:offset + train_chars]
    valid_text = text[offset + train_chars:offset + train_chars + valid_chars]
    vocab = CharVocab(train_text)
    return SmallCorpus(vocab, vocab.encode(train_text), vocab.encode(valid_text))
