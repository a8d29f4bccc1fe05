"""Volatility: the part of daily returns that the past does predict.

The sign of tomorrow's return is close to a coin toss, but its size is not: large moves follow large
moves and calm follows calm (volatility clustering; Mandelbrot 1963, Engle 1982, Cont 2001). So the
size of the return, |r_t|, is autocorrelated even where r_t is not, and it can be forecast. This
module measures the clustering and forecasts |r_{t+1}| with the chapter's recurrent forecaster
against the classical estimates of the current volatility: yesterday's size, the mean size over the
last k days, and an exponentially weighted mean of the sizes (with the daily decay 0.94 that J.P.
Morgan's RiskMetrics uses for its exponentially weighted variance).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .stocks import Series, spans

RISKMETRICS_DECAY = 0.94        # the daily decay of J.P. Morgan's RiskMetrics volatility estimate
# train / valid / test fractions for volatility: the test span (from December 2007 for the tickers that start
# in 2000) holds the 2008 crisis. A calm test span would be fitted as well by one constant chosen in hindsight.
SPANS = (0.5, 0.1, 0.4)


def autocorrelation(x, lags) -> np.ndarray:
    """Sample autocorrelation of ``x`` at each lag k: corr(x_t, x_{t+k}), in float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"autocorrelation: expected a 1-D series; got shape {x.shape}")
    lags = [int(k) for k in lags]
    if any(not 1 <= k < len(x) - 1 for k in lags):
        raise ValueError(f"autocorrelation: lags must lie in 1..{len(x) - 2} for {len(x)} values; got {lags}")
    return np.array([np.corrcoef(x[:-k], x[k:])[0, 1] for k in lags])


def noise_band(n: int) -> float:
    """Half-width of the band that holds ~95% of the sample autocorrelations of n independent values: 1.96/√n."""
    return 1.96 / np.sqrt(n)


@dataclass
class VolSplit:
    """Windows of past returns -> the size of the next one, in time order (see :func:`volatility_split`).

    The attributes ``x``, ``y`` are named as in :class:`~rnn_book.tasks.stocks.Split`, so the same
    trainer (:func:`~rnn_book.tasks.stocks.train_forecaster`) reads either."""

    window: int
    mean: float                          # mean and std of |r| over the training span
    std: float
    x: dict[str, torch.Tensor]           # part -> (n, window, 2): standardised r and |r| of the window
    y: dict[str, torch.Tensor]           # part -> (n,) standardised |r| of the forecast day
    size: dict[str, np.ndarray]          # part -> |r| of the forecast day, float64
    t: dict[str, np.ndarray]             # part -> index into the returns of the forecast return

    def to_size(self, z) -> np.ndarray:
        """Standardised forecasts back to sizes of the log return."""
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


def volatility_split(series: Series, window: int = 20, fractions=SPANS) -> VolSplit:
    """A chronological split (train, valid, test in time order, :func:`~rnn_book.tasks.stocks.spans`) with
    |r_{t+1}| as the target and both r and |r| of the window as inputs, standardised with training
    statistics alone."""
    r = series.log_returns
    a = np.abs(r)
    bounds = spans(len(r), window, fractions)
    cut = bounds["train"][1]
    inputs = np.stack([(r - r[:cut].mean()) / r[:cut].std(), (a - a[:cut].mean()) / a[:cut].std()], axis=-1)
    mean, std = float(a[:cut].mean()), float(a[:cut].std())
    x, y, size, ts = {}, {}, {}, {}
    for part, (lo, hi) in bounds.items():
        t = np.arange(lo, hi)                       # forecast |r[t]| from r[t-window:t]
        x[part] = torch.tensor(np.stack([inputs[i - window:i] for i in t]), dtype=torch.float32)
        y[part] = torch.tensor((a[t] - mean) / std, dtype=torch.float32)
        size[part], ts[part] = a[t], t
    return VolSplit(window, mean, std, x, y, size, ts)


# -- the classical estimates, each a forecast of |r_t| from the returns before day t -------------------
def yesterday(r, t) -> np.ndarray:
    """|r_{t-1}|: persistence of the size."""
    return np.abs(np.asarray(r))[np.asarray(t) - 1]


def rolling_mean(r, t, k: int = 20) -> np.ndarray:
    """The mean of |r| over the last k days (a "historical volatility")."""
    a = np.abs(np.asarray(r, dtype=np.float64))
    return np.array([a[i - k:i].mean() for i in np.asarray(t)])


def ewma(r, t, decay: float = RISKMETRICS_DECAY) -> np.ndarray:
    """m_t = decay * m_{t-1} + (1 - decay) * |r_{t-1}|: an exponentially weighted mean of the past sizes,
    started at the first size; its memory is about 1 / (1 - decay) days."""
    if not 0 < decay < 1:
        raise ValueError(f"ewma: decay must lie in (0, 1); got {decay}")
    a = np.abs(np.asarray(r, dtype=np.float64))
    m = np.empty(len(a) + 1)
    m[0] = m[1] = a[0]
    for i in range(1, len(a)):
        # m_{i+1} = decay m_i + (1 - decay) |r_i|
        m[i + 1] = decay * m[i] + (1 - decay) * a[i]
    return m[np.asarray(t)]


def baselines(series: Series, split: VolSplit, part: str = "test", k: int = 20) -> dict[str, np.ndarray]:
    """Every classical forecast of |r| on ``part``, by name."""
    r, t = series.log_returns, split.t[part]
    return {"yesterday's size": yesterday(r, t), f"mean size, last {k} days": rolling_mean(r, t, k),
            f"EWMA, decay {RISKMETRICS_DECAY}": ewma(r, t)}


def hindsight_constant(split: VolSplit, part: str = "test") -> np.ndarray:
    """The best constant forecast of |r| on ``part``, its mean, known only in hindsight: not a forecast but a
    yardstick. A forecast that beats it has tracked how the volatility changed within the span."""
    return np.full(len(split.size[part]), split.size[part].mean())


def mse(pred, true) -> float:
    """Mean squared error in float64."""
    return float(np.mean((np.asarray(pred, dtype=np.float64) - np.asarray(true, dtype=np.float64)) ** 2))
