"""Vocabularies: tokens <-> ids, with one convention for the whole book.

The special tokens come first, always in this order: ``<pad>`` = 0, ``<unk>`` = 1 and, where a task
reads or writes whole sequences, ``<bos>`` = 2 and ``<eos>`` = 3. The real tokens follow, sorted, so
that the ids are the same in every run.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import torch

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocab:
    """Tokens <-> ids. ``pad_id`` = 0 and ``unk_id`` = 1 always; ``bos_id`` = 2 and ``eos_id`` = 3 when
    ``sequences=True`` (a decoder needs to know where a sequence starts and ends), else None."""

    pad_id, unk_id = 0, 1

    def __init__(self, tokens: Iterable[str], sequences: bool = True):
        specials = list(SPECIALS if sequences else SPECIALS[:2])
        self.itos = specials + sorted(set(tokens) - set(SPECIALS))
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.n_special = len(specials)
        self.bos_id, self.eos_id = (2, 3) if sequences else (None, None)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Sequence[str], eos: bool = False) -> list[int]:
        """Token ids; an unknown token becomes ``unk_id``; ``eos=True`` appends ``eos_id``."""
        if eos and self.eos_id is None:
            raise ValueError("Vocab.encode: this vocabulary has no <eos> (built with sequences=False)")
        return [self.stoi.get(t, self.unk_id) for t in tokens] + ([self.eos_id] if eos else [])

    def decode(self, ids, sep: str = "") -> str:
        """ids -> text, stopping at the first ``<eos>`` and skipping ``<pad>`` and ``<bos>``."""
        out = []
        for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.bos_id):
                out.append(self.itos[i])
        return sep.join(out)


class CharVocab(Vocab):
    """The characters of a text <-> ids (``<pad>`` = 0, ``<unk>`` = 1; a text stream has no ``<bos>``/``<eos>``).

    ``min_count``: characters seen fewer times become ``<unk>``.
    """

    def __init__(self, text: str, min_count: int = 1):
        counts = Counter(text)
        super().__init__([c for c, n in counts.items() if n >= min_count], sequences=False)

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor([self.stoi.get(c, self.unk_id) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """ids -> text; ``<unk>`` shows as "?" and ``<pad>`` as nothing."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join("?" if i == self.unk_id else "" if i == self.pad_id else self.itos[i] for i in ids)
