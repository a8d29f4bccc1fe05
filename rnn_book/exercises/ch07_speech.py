"""Chapter 07, speech recognition (语音识别): STFT frames, CTC collapse and frame count, noise at a given SNR."""
from __future__ import annotations

import math

import torch

from .core import Wrong, call, exercise


@exercise
def ch07_frame_count(fn):
    """fn(n_samples, n_fft, hop) -> number of STFT frames without centring (each frame spans n_fft samples)."""
    from ..tasks.audio import power_spectrogram
    for n, n_fft, hop in ((8000, 256, 80), (4000, 256, 80), (256, 256, 80), (1000, 200, 100), (5000, 512, 128)):
        got = call(fn, n, n_fft, hop)
        want = 1 + (n - n_fft) // hop
        if not isinstance(got, int) and not (hasattr(got, "__index__") and not isinstance(got, bool)):
            raise Wrong(f"return a whole number of frames (an int); got {got!r}")
        if int(got) != want:
            hint = " (a frame needs n_fft samples, so the last start position is n_samples - n_fft)" \
                if int(got) == n // hop or int(got) == math.ceil(n / hop) else ""
            raise Wrong(f"for {n} samples, n_fft={n_fft}, hop={hop} expected {want} frames; got {got}{hint}")
    x = torch.randn(8000)
    if power_spectrogram(x).shape[0] != call(fn, 8000, 256, 80):
        raise Wrong("your count disagrees with rnn_book.tasks.audio.power_spectrogram on a 1 s clip")


@exercise
def ch07_ctc_collapse(fn):
    """fn(path, blank) -> the label sequence a CTC path reads as: merge repeats, then drop blanks."""
    cases = [([0, 3, 3, 0, 0, 1, 0, 4, 4, 0], 0, [3, 1, 4]), ([7, 0, 7], 0, [7, 7]), ([7, 7, 7], 0, [7]),
             ([0, 0, 0], 0, []), ([2, 2, 5, 10, 5], 10, [2, 5, 5]), ([], 0, [])]
    for path, blank, want in cases:
        got = [int(s) for s in call(fn, list(path), blank)]
        if got != want:
            why = ""
            if path == [7, 0, 7] and got == [7]:
                why = ": drop blanks only after merging repeats, or '7 - 7' (two sevens) reads as one"
            elif path == [7, 7, 7] and got == [7, 7, 7]:
                why = ": consecutive equal symbols on neighbouring frames are one label"
            raise Wrong(f"path {path} with blank={blank} should read {want}; got {got}{why}")


@exercise
def ch07_ctc_min_frames(fn):
    """fn(target) -> the fewest frames a CTC path needs to produce ``target``."""
    for target, want in (([3, 1, 4], 3), ([7, 7], 3), ([5, 5, 5], 5), ([1, 1, 2, 2], 6), ([9], 1), ([], 0)):
        got = call(fn, list(target))
        if got != want:
            hint = " (equal neighbours need a blank between them)" if got == len(target) else ""
            raise Wrong(f"target {target} needs {want} frames; got {got}{hint}")


@exercise
def ch07_add_noise(fn):
    """fn(x, snr_db, generator) -> x plus white noise at the given signal-to-noise ratio in decibels."""
    t = torch.arange(16000) / 8000
    x = 0.3 * torch.sin(2 * math.pi * 440 * t) + 0.1 * torch.sin(2 * math.pi * 1300 * t)
    for snr in (0.0, 10.0, 25.0):
        y = call(fn, x.clone(), snr, torch.Generator().manual_seed(1))
        if not isinstance(y, torch.Tensor) or y.shape != x.shape:
            raise Wrong(f"return a tensor shaped like x {tuple(x.shape)}; got "
                        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
        noise = y - x
        got = 10 * math.log10(float(x.pow(2).mean()) / max(float(noise.pow(2).mean()), 1e-30))
        if abs(got - snr) > 0.5:
            hint = " (SNR in dB compares powers: 10*log10(P_signal/P_noise); amplitudes scale by 10^(snr/20))" \
                if abs(got - 2 * snr) < 1 or abs(got - snr / 2) < 1 else ""
            raise Wrong(f"asked for {snr} dB, measured {got:.2f} dB{hint}")
        if abs(float(noise.mean())) > 0.05 * float(noise.std()) + 1e-3:
            raise Wrong("the noise should have zero mean")
