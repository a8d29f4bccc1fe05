"""Real English→Chinese sentence pairs: 4,354 graded HSK sentences with English translations and glosses.

The text comes from the PyPI package ``hsk-sentences-audio`` 1.0.0 (data CC BY-SA 4.0; see
DATA_LICENSE.md): its ``sentences.json`` trimmed to what translation needs (id, HSK level, topic,
Chinese, English and the per-word English glosses; no pinyin, no audio) and shipped gzipped in
``corpora/hsk_sentences.json.gz``. :func:`trim` is the function that made that file.

The split is the book's one split (:func:`rnn_book.data.split.split_of`) of each sentence's id. Five
Chinese sentences occur twice under different ids; a duplicate follows the split of the smallest id
of its Chinese text, so no Chinese sentence of the test split is ever trained on.

Tokens: English words lower-cased with punctuation split off (``tokenize_en`` of the number chapter);
Chinese characters, punctuation included (``tokenize_zh``).
"""
from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Sequence

from .parallel import Pair, tokenize_en, tokenize_zh
from .split import SPLITS, check_split, split_of
from .vocab import Vocab

FILE = "hsk_sentences.json.gz"
SALT = 0                     # the split's salt: the same fixed split as every other string key in the book


@dataclass(frozen=True)
class Sentence:
    id: str                                   # "hsk3-0282"
    level: int                                # HSK level 1..6
    topic: str
    zh: str
    en: str
    glosses: tuple[tuple[str, str], ...]      # (Chinese word, its English dictionary gloss), in sentence order

    def pair(self) -> Pair:
        return Pair(self.en, self.zh, "sentence", self.id)


def trim(records: Sequence[dict]) -> list[dict]:
    """The package's records -> the fields shipped here (how ``corpora/hsk_sentences.json.gz`` was made)::

        records = json.load(open(".../hsk_sentences_audio/data/sentences.json", encoding="utf-8"))
        gzip.open(path, "wt", encoding="utf-8").write(json.dumps(trim(records), ensure_ascii=False))
    """
    return [{"id": r["id"], "level": r["hsk_level"], "topic": r["topic"], "zh": r["chinese"],
             "en": r["translation"]["en"], "glosses": [[t["word"], t["gloss_en"]] for t in r["tokens"]]}
            for r in records]


@lru_cache(maxsize=1)
def load() -> tuple[Sentence, ...]:
    """Every shipped sentence, in the package's order."""
    raw = resources.files("rnn_book.data").joinpath("corpora", FILE).read_bytes()
    return tuple(Sentence(r["id"], r["level"], r["topic"], r["zh"], r["en"], tuple(map(tuple, r["glosses"])))
                 for r in json.loads(gzip.decompress(raw).decode("utf-8")))


def split_key(sentences: Sequence[Sentence]) -> dict[str, str]:
    """id -> the id whose split it follows: the smallest id that has the same Chinese text."""
    first: dict[str, str] = {}
    for s in sorted(sentences, key=lambda s: s.id):
        first.setdefault(s.zh, s.id)
    return {s.id: first[s.zh] for s in sentences}


@lru_cache(maxsize=1)
def splits() -> dict[str, tuple[Sentence, ...]]:
    """{"train": ..., "valid": ..., "test": ...}: the fixed split of the sentences by a hash of their ids."""
    sentences = load()
    key = split_key(sentences)
    out = defaultdict(list)
    for s in sentences:
        out[split_of(key[s.id], SALT)].append(s)
    return {name: tuple(out[name]) for name in SPLITS}


def sentences(split: str) -> tuple[Sentence, ...]:
    return splits()[check_split(split, "hsk.sentences")]


def pairs(split: str) -> list[Pair]:
    """The sentences of ``split`` as translation pairs (English, Chinese), kind "sentence"."""
    return [s.pair() for s in sentences(split)]


def gloss_senses(gloss: str) -> list[str]:
    """A dictionary gloss -> its senses, cleaned: "to ask; to invite (sb) [qing3]" -> ["to ask", "to invite"]."""
    gloss = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", gloss)                  # drop "(informal ...)", "[ni3]"
    return [" ".join(sense.split()) for sense in gloss.split(";") if sense.strip()]


def gloss_pairs(sentences: Sequence[Sentence]) -> list[Pair]:
    """Each distinct (English sense, Chinese word) of the glosses of ``sentences``, as a tiny translation pair."""
    seen = {(sense, w) for s in sentences for w, gloss in s.glosses for sense in gloss_senses(gloss)}
    return [Pair(en, zh, "gloss", None) for en, zh in sorted(seen)]


def build_vocabs(min_count: int = 1, glosses: bool = False) -> tuple[Vocab, Vocab]:
    """English words and Chinese characters seen at least ``min_count`` times in the TRAINING split only
    (with ``glosses``, in its sentences and in their glosses)."""
    train = [s.pair() for s in sentences("train")] + (gloss_pairs(sentences("train")) if glosses else [])
    en = Counter(t for p in train for t in tokenize_en(p.en))
    zh = Counter(c for p in train for c in tokenize_zh(p.zh))
    return (Vocab([t for t, n in en.items() if n >= min_count]),
            Vocab([c for c, n in zh.items() if n >= min_count]))


def unk_rate(texts: Sequence[str], vocab: Vocab, tokenize) -> tuple[int, int]:
    """(tokens of ``texts`` that ``vocab`` does not know, all tokens): integers, so rates are exact."""
    tokens = [t for text in texts for t in tokenize(text)]
    return sum(t not in vocab for t in tokens), len(tokens)


def vocab_report(src: Vocab, tgt: Vocab) -> list[dict]:
    """One row per split: sentence count and the <unk> counts of both sides under the training vocabularies."""
    rows = []
    for split in SPLITS:
        ss = sentences(split)
        en_unk, en_n = unk_rate([s.en for s in ss], src, tokenize_en)
        zh_unk, zh_n = unk_rate([s.zh for s in ss], tgt, tokenize_zh)
        rows.append({"split": split, "sentences": len(ss), "English tokens": en_n, "English <unk>": en_unk,
                     "English <unk> %": 100 * en_unk / en_n, "Chinese characters": zh_n, "Chinese <unk>": zh_unk,
                     "Chinese <unk> %": 100 * zh_unk / zh_n})
    return rows
