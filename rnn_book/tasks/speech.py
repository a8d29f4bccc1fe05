"""Spoken digits for the speech chapter: synthesised in-process with eSpeak NG, plus real human recordings.

eSpeak NG is a formant synthesiser: it builds speech from rules, so it can say any word in dozens of
voices (English accents x voice variants), at any speed and pitch, in milliseconds, without
downloading anything. The library and its voice data come in the PyPI wheel ``espeakng-loader``;
this module drives it through ``ctypes``::

    wave, sr = say("seven", voice="en-us+f3", rate=160, pitch=60)

The real test set is ten recordings of a human voice (Allison Smith, from the Asterisk core sound
prompts, CC BY-SA 3.0; see ``rnn_book/data/DATA_LICENSE.md``): ``load_human_digits()``.
"""
from __future__ import annotations

import ctypes
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
from ..settings import threads as settings_threads

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
WORDS = ("yes", "no", "up", "down", "left", "right", "stop", "go")     # a few words beyond the digits
ACCENTS = ("en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")

# eSpeak NG's C API (speak_lib.h): the few enums used here
_SYNCHRONOUS, _DONT_EXIT = 2, 0x8000
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_POS_CHARACTER, _CHARS_UTF8 = 1, 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """The eSpeak NG shared library, loaded once per process (the C library keeps global state)."""

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError as e:
            raise ImportError("the speech chapter needs eSpeak NG from PyPI: pip install espeakng-loader") from e
        self.data_path = Path(espeakng_loader.get_data_path())
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.sample_rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, str(self.data_path).encode(), _DONT_EXIT)
        if self.sample_rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise (data at {self.data_path})")
        self._chunks: list[np.ndarray] = []

        def collect(samples, n, events):      # called by the library with each block of 16-bit samples
            if n > 0:
                self._chunks.append(np.ctypeslib.as_array(samples, shape=(n,)).copy())
            return 0                          # 0 = keep going

        self._callback = _CALLBACK(collect)   # keep a reference: the library holds only a pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def synth(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int, word_gap: int,
              seed: int = 0) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"say: eSpeak NG has no voice {voice!r}; try an accent from ACCENTS, "
                             f"optionally with a variant: 'en-us+f3' (see variants())")
        for param, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range), (_WORDGAP, word_gap)):
            self.lib.espeak_SetParameter(param, int(value), 0)
        self._chunks = []
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))   # the seed of its noise source (breath, aspiration)
        text_b = text.encode("utf-8")
        err = self.lib.espeak_Synth(text_b, len(text_b) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if err != 0:
            raise RuntimeError(f"eSpeak NG could not synthesise {text!r} (error {err})")
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


_ENGINE: _Espeak | None = None


def engine() -> _Espeak:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


def variants() -> list[str]:
    """Names of eSpeak NG's voice variants (f1..f5 female, m1..m8 male, and many more), sorted."""
    return sorted(p.name for p in (engine().data_path / "voices" / "!v").iterdir() if " " not in p.name)


def say(text: str, voice: str = "en-us", rate: int = 170, pitch: int = 50, pitch_range: int = 50,
        word_gap: int = 0, sr: int | None = audio.SAMPLE_RATE, seed: int = 0) -> tuple[torch.Tensor, int]:
    """Speak ``text`` and return ``(wave, sample_rate)``, wave a float tensor in [-1, 1].

    voice: an accent (``ACCENTS``), optionally ``+variant`` (``variants()``), e.g. ``"en-gb-x-rp+m3"``.
    rate: words per minute (80..450); pitch, pitch_range: 0..100; word_gap: pause between words in 10 ms units.
    sr: resample to this rate (8 kHz by default, the rate of the human recordings); None keeps eSpeak's 22050 Hz.
    seed: for the synthesiser's noise source (breath, aspiration).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"say: expected a non-empty string to speak; got {text!r}")
    for name, v, lo, hi in (("rate", rate, 80, 450), ("pitch", pitch, 0, 100), ("pitch_range", pitch_range, 0, 100),
                            ("word_gap", word_gap, 0, 100)):
        if not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise ValueError(f"say: {name} must be an int in [{lo}, {hi}]; got {v!r}")
    e = engine()
    samples = e.synth(text, voice, rate, pitch, pitch_range, word_gap, int(seed))
    if samples.size == 0:
        raise RuntimeError(f"eSpeak NG produced no sound for {text!r} with voice {voice!r}")
    x = torch.from_numpy(samples.astype(np.float32) / 32768.0)
    if sr is None or sr == e.sample_rate:
        return x, e.sample_rate
    return audio.resample(x, e.sample_rate, sr), sr


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
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
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
        total = total + m(X, lengths=L)[0].softmax(-1)
        m.train(was_training)
    return total / len(models)


def predict(model, feats: list[torch.Tensor]) -> torch.Tensor:
    """Class ids predicted for each clip's frames by a ``head="last"`` model or an ensemble (a list)."""
    return probabilities(model, feats).argmax(-1)


def accuracy(model, feats: list[torch.Tensor], labels) -> float:
    return float((predict(model, feats) == torch.as_tensor(labels)).float().mean())
