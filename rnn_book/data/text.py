"""Character-level text: shipped corpora, a vocabulary, a leak-free split, stateful TBPTT batches."""
from __future__ import annotations

import gzip
from importlib import resources
from typing import Iterator

import torch

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


class CharVocab:
    """Characters <-> ids. Id 0 is ``<unk>`` (a character never seen in training); id 1 is ``<pad>``."""

    UNK, PAD = "<unk>", "<pad>"

    def __init__(self, text: str, min_count: int = 1):
        from collections import Counter

        counts = Counter(text)
        self.itos = [self.UNK, self.PAD] + sorted(c for c, n in counts.items() if n >= min_count)
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def unk_id(self) -> int:
        return 0

    @property
    def pad_id(self) -> int:
        return 1

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor([self.stoi.get(c, 0) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join(self.itos[i] if i > 1 else ("?" if i == 0 else "") for i in ids)


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
