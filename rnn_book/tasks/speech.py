"""Spoken digits for the speech chapter: synthetic voices (:mod:`rnn_book.tasks.espeak`) and real human
recordings, features, batches and the training helpers.

The real test set is ten recordings of a human voice (Allison Smith, from the Asterisk core sound
prompts, CC BY-SA 3.0; see ``rnn_book/data/DATA_LICENSE.md``): ``load_human_digits()``.
"""
from __future__ import annotations

import hashlib
import os
import random
import wave as wavfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from . import audio
from .espeak import ACCENTS, DIGITS, say, variants
from ..settings import device_of, epoch_seed, threads as settings_threads

# ------------------------------------------------------------------------------------- the human test set

def load_wav(path) -> tuple[torch.Tensor, int]:
    """A 16-bit PCM mono WAV file -> (float wave in [-1, 1], sample rate), with the standard library only."""
    with wavfile.open(str(path), "rb") as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1:
            raise ValueError(f"load_wav: expected 16-bit mono PCM; {path} has {8 * f.getsampwidth()}-bit, "
                             f"{f.getnchannels()} channel(s)")
        sr, raw = f.getframerate(), f.readframes(f.getnframes())
    return torch.from_numpy(np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0), sr


def load_human_digits() -> tuple[list[torch.Tensor], list[int], int]:
    """The ten human recordings "zero".."nine" (Allison Smith, 8 kHz): (waves, labels 0..9, sample rate)."""
    folder = resources.files("rnn_book.data").joinpath("speech")
    waves, labels = [], []
    for d in range(10):
        with resources.as_file(folder.joinpath(f"allison_{d}.wav")) as p:
            x, sr = load_wav(p)
        if sr != audio.SAMPLE_RATE:
            x = audio.resample(x, sr, audio.SAMPLE_RATE)
        waves.append(x)
        labels.append(d)
    return waves, labels, audio.SAMPLE_RATE


# ------------------------------------------------------------------------------------ synthetic data sets

@dataclass
class Utterance:
    text: str
    label: int | list[int]
    voice: str
    rate: int
    pitch: int
    wave: torch.Tensor = field(repr=False)


def voice_split(n_test_variants: int = 12, seed: int = 0) -> tuple[list[str], list[str]]:
    """Split eSpeak's variants into training voices and held-out test voices (no voice in both)."""
    vs = variants()
    rng = random.Random(seed)
    rng.shuffle(vs)
    if not 0 < n_test_variants < len(vs):
        raise ValueError(f"voice_split: n_test_variants must be in 1..{len(vs) - 1}; got {n_test_variants}")
    return sorted(vs[n_test_variants:]), sorted(vs[:n_test_variants])


def _cache_dir() -> Path:
    return Path(os.environ.get("RNN_BOOK_CACHE", Path.home() / ".cache" / "rnn_book")) / "speech"


def synthesise(texts: list[str], labels: list, variant_pool: list[str], per_text: int, seed: int = 0,
               rates=(120, 230), pitches=(20, 80), accents=ACCENTS, word_gap=(0, 0),
               cache: bool = True) -> list[Utterance]:
    """``per_text`` renditions of each text, each by a random accent+variant from the pools, at a random
    speed (words/min) and pitch, trimmed of silence, at 8 kHz.

    Results are cached on disk (``~/.cache/rnn_book/speech``, or ``$RNN_BOOK_CACHE``) keyed by every
    argument, so a second run reads them back; delete the folder at any time. (eSpeak NG itself is not
    bit-exact from call to call -- clips differ by a few samples -- so the cache is also what makes a
    data set repeat exactly.)
    """
    if len(texts) != len(labels):
        raise ValueError(f"synthesise: expected one label per text; got {len(texts)} texts, {len(labels)} labels")
    if not variant_pool:
        raise ValueError("synthesise: variant_pool is empty; expected variant names such as ['f3', 'm1']")
    if per_text < 1:
        raise ValueError(f"synthesise: per_text must be >= 1; got {per_text}")
    rng = random.Random(seed)
    plan = []
    for text, label in zip(texts, labels):
        for _ in range(per_text):
            voice = f"{rng.choice(list(accents))}+{rng.choice(list(variant_pool))}"
            plan.append((text, label, voice, rng.randint(*rates), rng.randint(*pitches), rng.randint(*word_gap),
                         rng.randrange(2 ** 31)))
    key = hashlib.sha1(repr(plan).encode()).hexdigest()[:16]
    path = _cache_dir() / f"{key}.pt"
    waves = None
    if cache and path.exists():
        try:
            waves = torch.load(path)
            waves = waves if len(waves) == len(plan) else None
        except Exception:
            waves = None                           # a damaged cache file is simply made again
    if waves is None:
        waves = [say(text, voice, rate=rate, pitch=pitch, word_gap=gap, seed=seed)[0]
                 for text, label, voice, rate, pitch, gap, seed in plan]
        if cache:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                torch.save(waves, tmp)
                os.replace(tmp, path)              # atomic: a reader never sees half a file
            except OSError:
                pass                               # a read-only home still works, just without the cache
    return [Utterance(t, lab, v, r, p, audio.trim(w)) for (t, lab, v, r, p, _, _), w in zip(plan, waves)]


def digit_set(variant_pool: list[str], per_digit: int, seed: int = 0, **kw) -> list[Utterance]:
    """``per_digit`` synthetic renditions of each of "zero".."nine", labels 0..9."""
    return synthesise(list(DIGITS), list(range(10)), variant_pool, per_digit, seed=seed, **kw)


def digit_strings(variant_pool: list[str], n: int, min_len: int = 2, max_len: int = 5, seed: int = 0,
                  **kw) -> list[Utterance]:
    """``n`` spoken digit strings such as "three one four" (label [3, 1, 4]), for CTC."""
    rng = random.Random(seed)
    seqs = [[rng.randrange(10) for _ in range(rng.randint(min_len, max_len))] for _ in range(n)]
    texts = [" ".join(DIGITS[d] for d in s) for s in seqs]
    kw.setdefault("word_gap", (0, 8))
    return synthesise(texts, seqs, variant_pool, 1, seed=seed, **kw)


# ------------------------------------------------------------------------------------ training helpers

def featurise(waves, copies: int = 0, generator: torch.Generator | None = None, threads: int | None = 1,
              stack: int = 1, feature_kw: dict | None = None, **augment_kw) -> list[torch.Tensor]:
    """MFCC frames of every clip, plus ``copies`` augmented variants of each (:func:`audio.augment`),
    in the order clean..., copy 1..., copy 2....

    threads: torch threads while extracting (small FFTs gain nothing from more; see the chapter).
    stack: concatenate this many neighbouring frames into one step (:func:`audio.stack_frames`).
    feature_kw: passed to :func:`audio.features`, e.g. ``dict(fmin=250, fmax=3600)`` for a band.
    """
    waves = [u.wave if isinstance(u, Utterance) else u for u in waves]
    if copies and generator is None:
        generator = torch.Generator().manual_seed(0)

    def one(x):
        F = audio.features(x, **(feature_kw or {}))
        return audio.stack_frames(F, stack) if stack > 1 else F
    with settings_threads(threads):
        out = [one(x) for x in waves]
        for _ in range(copies):
            out += [one(audio.augment(x, generator, **augment_kw)) for x in waves]
    return out


def batches(feats: list[torch.Tensor], labels: list, batch_size: int = 32, seed: int = 0, mask=None):
    """``epoch -> iterator of (X, lengths, y)`` for :func:`rnn_book.train.fit`, shuffled anew each epoch.

    y is a tensor of class ids, or a list of label lists (for CTC) when the labels are lists.
    mask: ``(features, generator) -> features``, applied afresh to every example each epoch.
    """
    if len(feats) != len(labels):
        raise ValueError(f"batches: expected one label per example; got {len(feats)} examples, {len(labels)} labels")

    def epoch_batches(epoch: int):
        g = torch.Generator().manual_seed(epoch_seed(seed, epoch))
        order = torch.randperm(len(feats), generator=g).tolist()
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            X, L = audio.pad_batch([mask(feats[j], g) if mask else feats[j] for j in idx])
            ys = [labels[j] for j in idx]
            yield X, L, (ys if isinstance(ys[0], (list, tuple)) else torch.tensor(ys))
    return epoch_batches


@torch.no_grad()
def probabilities(model, feats: list[torch.Tensor]) -> torch.Tensor:
    """Class probabilities (clips, classes) from a ``head="last"`` model, or the mean over a list of models
    (an ensemble: each model votes with its whole distribution, not just its top class)."""
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models:
        raise ValueError("probabilities: expected a model or a non-empty list of models; got an empty list")
    if not feats:
        raise ValueError("probabilities: expected a non-empty list of (frames, features) tensors; got none")
    X, L = audio.pad_batch(feats)
    total = 0
    for m in models:
        was_training = m.training
        m.eval()
        total = total + m(X.to(device_of(m)), lengths=L)[0].softmax(-1).double().cpu()
        m.train(was_training)
    return total / len(models)


def predict(model, feats: list[torch.Tensor]) -> torch.Tensor:
    """Class ids predicted for each clip's frames by a ``head="last"`` model or an ensemble (a list)."""
    return probabilities(model, feats).argmax(-1)


def correct(model, feats: list[torch.Tensor], labels) -> int:
    """How many clips the model (or ensemble) labels right: a count, to compare with counts."""
    labels = torch.as_tensor(labels)
    if labels.shape != (len(feats),):
        raise ValueError(f"correct: expected one label per clip ({len(feats)}); got shape {tuple(labels.shape)}")
    return int((predict(model, feats) == labels).sum())


def accuracy(model, feats: list[torch.Tensor], labels) -> float:
    """The share of clips labelled right, as a Python float from the integer count (7 of 10 is exactly 0.7)."""
    return correct(model, feats, labels) / len(feats)
