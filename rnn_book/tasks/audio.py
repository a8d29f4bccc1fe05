"""Sound -> features with torch alone: resampling, STFT, mel filterbank, log, MFCC; and augmentation.

The pipeline of the speech chapter, one small function per step::

    wave (samples) --stft--> power spectrogram (frames, n_fft//2+1)
                   --mel-->  mel energies (frames, n_mels)       # triangles spaced evenly in mels
                   --log-->  log-mel (frames, n_mels)            # loudness is heard in ratios
                   --dct-->  MFCC (frames, n_mfcc)               # decorrelated, smooth spectral shape

Every function takes and returns torch tensors (a 1-D wave, a 2-D time x feature matrix) so the
chapter can show each step as a picture.
"""
from __future__ import annotations

import math

import torch

SAMPLE_RATE = 8000          # telephone band: the human recordings are 8 kHz, so everything is brought there


def _as_wave(x, who: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except Exception as e:
            raise TypeError(f"{who}: expected a 1-D wave (tensor or array of samples); got {type(x).__name__}") from e
    if x.dim() != 1:
        raise ValueError(f"{who}: expected a 1-D wave of shape (samples,); got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{who}: the wave is empty; expected at least one sample")
    return x.float() if not x.is_floating_point() else x


def _check_rate(sr, who: str, name: str = "sample rate") -> int:
    if not isinstance(sr, int) or isinstance(sr, bool) or sr <= 0:
        raise ValueError(f"{who}: {name} must be a positive int (Hz); got {sr!r}")
    return sr


# ---------------------------------------------------------------------------------------------- resampling

def resample(x, orig_sr: int, new_sr: int) -> torch.Tensor:
    """Band-limited resampling by the FFT: keep (or zero-pad) the spectrum up to the new Nyquist frequency.

    Exact for a periodic signal; a clip that starts and ends in silence is close enough to one.
    """
    x = _as_wave(x, "resample")
    _check_rate(orig_sr, "resample", "orig_sr")
    _check_rate(new_sr, "resample", "new_sr")
    if orig_sr == new_sr:
        return x.clone()
    n = x.numel()
    m = max(1, round(n * new_sr / orig_sr))
    X = torch.fft.rfft(x.double())
    keep = min(X.numel(), m // 2 + 1)
    Y = torch.zeros(m // 2 + 1, dtype=X.dtype)
    Y[:keep] = X[:keep]
    return (torch.fft.irfft(Y, n=m) * (m / n)).to(x.dtype)


def change_speed(x, factor: float, sr: int = SAMPLE_RATE) -> torch.Tensor:
    """Play ``factor`` times faster (shorter and higher, like a tape run fast): resample to sr/factor."""
    if not (isinstance(factor, (int, float)) and 0.25 <= factor <= 4):
        raise ValueError(f"change_speed: factor must be a number in [0.25, 4]; got {factor!r}")
    return resample(x, sr, max(1, round(sr / factor)))


# ------------------------------------------------------------------------------------------- spectrograms

def frame_params(sr: int = SAMPLE_RATE, window_ms: float = 25.0, hop_ms: float = 10.0) -> tuple[int, int, int]:
    """(n_fft, win_length, hop_length) in samples: 25 ms windows every 10 ms, FFT size the next power of 2."""
    win = round(sr * window_ms / 1000)
    hop = round(sr * hop_ms / 1000)
    return 1 << (win - 1).bit_length(), win, hop


def power_spectrogram(x, sr: int = SAMPLE_RATE, window_ms: float = 25.0, hop_ms: float = 10.0) -> torch.Tensor:
    """|STFT|^2 with a Hann window: shape (frames, n_fft // 2 + 1)."""
    x = _as_wave(x, "power_spectrogram")
    n_fft, win, hop = frame_params(_check_rate(sr, "power_spectrogram"), window_ms, hop_ms)
    if x.numel() < win:                         # a clip shorter than one window still gives one frame
        x = torch.nn.functional.pad(x, (0, win - x.numel()))
    S = torch.stft(x, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win, dtype=x.dtype),
                   center=False, return_complex=True)
    return S.abs().pow(2).T                     # (frames, bins): time first, as the RNN reads it


def hz_to_mel(f):
    """The mel scale (O'Shaughnessy): roughly linear below 1 kHz, logarithmic above, like pitch perception."""
    return 2595.0 * torch.log10(1.0 + torch.as_tensor(f, dtype=torch.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (torch.as_tensor(m, dtype=torch.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int = 40, n_fft: int = 256, sr: int = SAMPLE_RATE, fmin: float = 20.0,
                   fmax: float | None = None) -> torch.Tensor:
    """Triangular filters evenly spaced in mels: shape (n_fft // 2 + 1, n_mels); power @ fb = mel energies."""
    fmax = sr / 2 if fmax is None else fmax
    if not (0 <= fmin < fmax <= sr / 2):
        raise ValueError(f"mel_filterbank: need 0 <= fmin < fmax <= sr/2 = {sr / 2}; got fmin={fmin}, fmax={fmax}")
    if n_mels < 1 or n_fft < 2:
        raise ValueError(f"mel_filterbank: need n_mels >= 1 and n_fft >= 2; got n_mels={n_mels}, n_fft={n_fft}")
    bins = torch.linspace(0, sr / 2, n_fft // 2 + 1, dtype=torch.float64)          # centre of each FFT bin, Hz
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(fmin)), float(hz_to_mel(fmax)), n_mels + 2, dtype=torch.float64))
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]                              # each triangle's three corners
    up = (bins[:, None] - lo) / (mid - lo)
    down = (hi - bins[:, None]) / (hi - mid)
    return torch.clamp(torch.minimum(up, down), min=0).float()


def log_mel(x, sr: int = SAMPLE_RATE, n_mels: int = 40, window_ms: float = 25.0, hop_ms: float = 10.0,
            fmin: float = 20.0, fmax: float | None = None, floor_db: float = -60.0) -> torch.Tensor:
    """log(power spectrogram @ mel filterbank): shape (frames, n_mels).

    The floor added before the log sits ``floor_db`` below the clip's mean band energy: it keeps log(0)
    away and scales with the clip, so a louder or quieter recording gives the same features up to a constant.
    """
    P = power_spectrogram(x, sr, window_ms, hop_ms)
    n_fft = 2 * (P.shape[1] - 1)
    E = P @ mel_filterbank(n_mels, n_fft, sr, fmin, fmax).to(P.dtype)
    return torch.log(E + E.mean().clamp_min(1e-20) * 10 ** (floor_db / 10))


def dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
    """Orthonormal DCT-II, shape (n_mels, n_mfcc): column k is cos(pi k (m + 1/2) / n_mels)."""
    if not 1 <= n_mfcc <= n_mels:
        raise ValueError(f"dct_matrix: need 1 <= n_mfcc <= n_mels; got n_mfcc={n_mfcc}, n_mels={n_mels}")
    m = torch.arange(n_mels, dtype=torch.float64)[:, None]
    k = torch.arange(n_mfcc, dtype=torch.float64)[None, :]
    D = torch.cos(math.pi * k * (m + 0.5) / n_mels) * math.sqrt(2.0 / n_mels)
    D[:, 0] /= math.sqrt(2.0)
    return D.float()


def mfcc(x, sr: int = SAMPLE_RATE, n_mfcc: int = 13, n_mels: int = 40, **kw) -> torch.Tensor:
    """Mel-frequency cepstral coefficients: DCT of the log-mel spectrum, shape (frames, n_mfcc)."""
    L = log_mel(x, sr, n_mels, **kw)
    return L @ dct_matrix(n_mfcc, n_mels).to(L.dtype)


def normalise(F: torch.Tensor) -> torch.Tensor:
    """Per-utterance mean and variance normalisation of each feature (CMVN).

    Subtracting the mean cepstrum removes a fixed channel (microphone, telephone line) and the overall
    loudness, which differ between the synthetic voices and a human recording.
    """
    if F.dim() != 2:
        raise ValueError(f"normalise: expected features of shape (frames, features); got shape {tuple(F.shape)}")
    return (F - F.mean(0)) / (F.std(0, unbiased=False) + 1e-5)


def features(x, sr: int = SAMPLE_RATE, kind: str = "mfcc", n_mfcc: int = 13, n_mels: int = 40,
             cmvn: bool = True, **kw) -> torch.Tensor:
    """The network's input: MFCC (or log-mel) frames of one clip, normalised per utterance."""
    if kind not in ("mfcc", "logmel"):
        raise ValueError(f"features: kind must be 'mfcc' or 'logmel'; got {kind!r}")
    F = mfcc(x, sr, n_mfcc, n_mels, **kw) if kind == "mfcc" else log_mel(x, sr, n_mels, **kw)
    return normalise(F) if cmvn else F


def pitch(x, sr: int = SAMPLE_RATE, fmin: float = 60.0, fmax: float = 400.0, window_ms: float = 40.0) -> float:
    """The clip's fundamental frequency in Hz: the median over its loud frames of the autocorrelation peak.

    For each 40 ms frame the lag (between sr/fmax and sr/fmin samples) at which the frame best matches a
    shifted copy of itself is one period of the voice; frames below a tenth of the loudest frame's energy
    (silence, unvoiced consonants) are left out.
    """
    x = _as_wave(x, "pitch")
    sr = _check_rate(sr, "pitch")
    if not 0 < fmin < fmax <= sr / 2:
        raise ValueError(f"pitch: need 0 < fmin < fmax <= sr/2 = {sr / 2}; got fmin={fmin}, fmax={fmax}")
    n, hop = int(window_ms / 1000 * sr), int(sr / 100)
    if x.numel() < n:
        raise ValueError(f"pitch: the clip has {x.numel()} samples, fewer than one {window_ms:g} ms window ({n})")
    frames = x[: (x.numel() - n) // hop * hop + n].unfold(0, n, hop)
    frames = frames - frames.mean(1, keepdim=True)
    energy = (frames ** 2).sum(1)
    frames = frames[energy > 0.1 * energy.max()]
    ac = torch.fft.irfft(torch.fft.rfft(frames, 2 * n).abs() ** 2, 2 * n)[:, :n]   # autocorrelation, lags 0..n-1
    lags = torch.arange(int(sr / fmax), min(int(sr / fmin), n - 1) + 1)
    period = lags[ac[:, lags].argmax(1)].double()
    return float((sr / period).median())


# ------------------------------------------------------------------------------------------- clip editing

def trim(x, sr: int = SAMPLE_RATE, threshold_db: float = -50.0, pad_ms: float = 30.0) -> torch.Tensor:
    """Cut leading and trailing silence: keep from the first to the last 10 ms frame within
    ``threshold_db`` of the loudest frame, plus ``pad_ms`` either side.

    The threshold is low on purpose: an /s/ or /f/ is 30-40 dB quieter than a vowel, and cutting
    the /s/ off "six" leaves something closer to "eight".
    """
    x = _as_wave(x, "trim")
    hop = max(1, round(sr * 0.01))
    n = x.numel() // hop
    if n == 0:
        return x.clone()
    energy = x[: n * hop].reshape(n, hop).pow(2).mean(1)
    db = 10 * torch.log10(energy + 1e-12)
    loud = (db > db.max() + threshold_db).nonzero().flatten()
    pad = round(sr * pad_ms / 1000)
    a = max(0, int(loud[0]) * hop - pad)
    b = min(x.numel(), (int(loud[-1]) + 1) * hop + pad)
    return x[a:b].clone()


def add_noise(x, snr_db: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """White noise at a signal-to-noise ratio of ``snr_db`` decibels (power ratio 10^(snr/10))."""
    x = _as_wave(x, "add_noise")
    signal = x.pow(2).mean()
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x + noise * torch.sqrt(signal / 10 ** (snr_db / 10))


def random_eq(x, sr: int = SAMPLE_RATE, max_db: float = 10.0, bands: int = 6,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """A random smooth boost/cut across the spectrum (up to +-max_db): a different microphone or line."""
    x = _as_wave(x, "random_eq")
    X = torch.fft.rfft(x)
    knots = (torch.rand(bands, generator=generator) * 2 - 1) * max_db
    gain_db = torch.nn.functional.interpolate(knots[None, None], size=X.numel(), mode="linear",
                                              align_corners=True)[0, 0]
    return torch.fft.irfft(X * 10 ** (gain_db / 20), n=x.numel())


def pad_batch(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of (T_i, F) tensors -> zero-padded (B, T_max, F) and the lengths (B,), for ``lengths=``."""
    if not seqs:
        raise ValueError("pad_batch: expected at least one sequence; got an empty list")
    if any(s.dim() != 2 for s in seqs):
        raise ValueError(f"pad_batch: every sequence must be 2-D (frames, features); got shapes "
                         f"{[tuple(s.shape) for s in seqs][:4]}...")
    lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.int64)
    return torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True), lengths


def augment(x, generator: torch.Generator, speed=(0.85, 1.15), snr_db=(10.0, 40.0), eq_db: float = 10.0,
            sr: int = SAMPLE_RATE) -> torch.Tensor:
    """One random variation of a clip: speed (tempo and pitch together), a random EQ, background noise.

    Each part is skipped when its range is None (or ``eq_db`` is 0), so the chapter can measure them one by one.
    """
    def uniform(lo, hi):
        return lo + (hi - lo) * float(torch.rand((), generator=generator))
    if speed is not None:
        x = change_speed(x, uniform(*speed), sr)
    if eq_db:
        x = random_eq(x, sr, eq_db, generator=generator)
    if snr_db is not None:
        x = add_noise(x, uniform(*snr_db), generator=generator)
    return x


def spec_mask(F: torch.Tensor, generator: torch.Generator, max_time: float = 0.12, max_freq: float = 0.2,
              masks: int = 2) -> torch.Tensor:
    """SpecAugment-style masking: zero ``masks`` random bands of frames and of features (a copy)."""
    F = F.clone()
    T, C = F.shape
    for _ in range(masks):
        for axis, size, frac in ((0, T, max_time), (1, C, max_freq)):
            w = int(torch.randint(0, max(1, int(size * frac)) + 1, (), generator=generator))
            s = int(torch.randint(0, max(1, size - w + 1), (), generator=generator))
            if axis == 0:
                F[s:s + w] = 0
            else:
                F[:, s:s + w] = 0
    return F


def stack_frames(F: torch.Tensor, k: int) -> torch.Tensor:
    """Concatenate every ``k`` neighbouring frames into one: (T, C) -> (T // k, k * C).

    A recurrent network then takes k times fewer steps (30 ms instead of 10 ms for k=3): faster, and a
    spoken digit still spans a dozen steps or more.
    """
    if F.dim() != 2 or not isinstance(k, int) or k < 1:
        raise ValueError(f"stack_frames: expected (frames, features) and an int k >= 1; got shape "
                         f"{tuple(F.shape)}, k={k!r}")
    T = F.shape[0] // k * k
    if T == 0:
        raise ValueError(f"stack_frames: {F.shape[0]} frames are fewer than k={k}")
    return F[:T].reshape(T // k, k * F.shape[1])
