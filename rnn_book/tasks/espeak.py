"""Speech synthesised in-process with eSpeak NG, for the speech chapter's training voices.

eSpeak NG is a formant synthesiser: it builds speech from rules, so it can say any word in dozens of
voices (English accents x voice variants), at any speed and pitch, in milliseconds, without
downloading anything. The library and its voice data come in the PyPI wheel ``espeakng-loader``;
this module drives it through ``ctypes``::

    wave, sr = say("seven", voice="en-us+f3", rate=160, pitch=60)
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import torch

from . import audio

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
