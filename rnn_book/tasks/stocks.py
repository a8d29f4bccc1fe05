"""Daily stock prices: loading, leak-free windows, baselines, and one-step / recursive forecasts.

We forecast the next day's *log return* r_t = log(p_t / p_{t-1}), not the price: returns keep the
same scale across the years while prices drift to levels the training span never saw, and a
price forecast follows from a return forecast as p̂_{t+1} = p_t · exp(r̂_{t+1}).
"""
from __future__ import annotations

import csv
import functools
import gzip
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import torch

from ..settings import device_of

TICKERS = ("AAPL", "GOOG", "IBM", "MSFT")
MIN_PATIENCE = 3                # early stopping waits at least this many epochs (a quarter of the run otherwise)


@dataclass
class Series:
    ticker: str
    dates: np.ndarray        # ISO date strings, ascending
    price: np.ndarray        # split- and dividend-adjusted close, dollars

    @property
    def log_returns(self) -> np.ndarray:
        """r_t = log(p_t / p_{t-1}) for t = 1..n-1 (one shorter than ``price``)."""
        return np.diff(np.log(self.price))


def load_prices(ticker: str = "AAPL") -> Series:
    """Adjusted daily closes of one ticker (Quandl WIKI, up to March 2013; ``dates`` says from when; see
    DATA_LICENSE.md)."""
    if ticker not in TICKERS:
        raise ValueError(f"load_prices: ticker must be one of {', '.join(TICKERS)}; got {ticker!r}")
    s = _load(ticker)
    return Series(s.ticker, s.dates.copy(), s.price.copy())


@functools.lru_cache(maxsize=None)
def _load(ticker: str) -> Series:
    raw = resources.files("rnn_book.data").joinpath("stocks", "daily_prices.csv.gz").read_bytes()
    rows = [r for r in csv.DictReader(io.StringIO(gzip.decompress(raw).decode())) if r["ticker"] == ticker]
    rows.sort(key=lambda r: r["date"])
    return Series(ticker, np.array([r["date"] for r in rows]), np.array([float(r["adj_close"]) for r in rows]))


@dataclass
class Split:
    """Chronological split of a return series into windows. Index t of ``target`` is the return of day t+1."""

    window: int
    mean: float                  # normalisation statistics: from the training span only
    std: float
    x: dict[str, torch.Tensor]   # part -> (n, window, 1) standardised returns
    y: dict[str, torch.Tensor]   # part -> (n,) standardised next-day return
    last_price: dict[str, np.ndarray]   # part -> price on the day each window ends
    next_price: dict[str, np.ndarray]   # part -> the true price of the following day
    day: dict[str, np.ndarray]          # part -> index into the price series of the forecast day

    def to_return(self, z) -> np.ndarray:
        return np.asarray(z, dtype=float) * self.std + self.mean


def spans(n: int, window: int, fractions=(0.7, 0.15, 0.15)) -> dict[str, tuple[int, int]]:
    """part -> [first, last) index of the returns forecast in that part: train, valid, test in time
    order, each forecast needing ``window`` returns before it."""
    if window < 1:
        raise ValueError(f"chronological_split: window must be >= 1; got {window}")
    if abs(sum(fractions) - 1) > 1e-9 or len(fractions) != 3:
        raise ValueError(f"chronological_split: fractions must be three numbers summing to 1; got {fractions}")
    cut1, cut2 = int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))
    return {"train": (window, cut1), "valid": (max(window, cut1), cut2), "test": (max(window, cut2), n)}


def chronological_split(series: Series, window: int = 20, fractions=(0.7, 0.15, 0.15)) -> Split:
    """Windows of ``window`` past returns -> next return; train, valid, test in time order, no overlap
    of forecast days, and mean/std computed on the training span alone (no look-ahead)."""
    r = series.log_returns
    bounds = spans(len(r), window, fractions)
    cut1 = bounds["train"][1]
    mean, std = float(r[:cut1].mean()), float(r[:cut1].std())
    z = (r - mean) / std
    xs, ys, last, nxt, days = {}, {}, {}, {}, {}
    for part, (a, b) in bounds.items():
        t = np.arange(a, b)                       # forecast the return r[t] from r[t-window:t]
        xs[part] = torch.tensor(np.stack([z[i - window:i] for i in t]), dtype=torch.float32).unsqueeze(-1)
        ys[part] = torch.tensor(z[t], dtype=torch.float32)
        # r[t] = log(p[t+1]/p[t]): the window ends on price day t, the forecast day is t+1
        last[part], nxt[part], days[part] = series.price[t], series.price[t + 1], t + 1
    return Split(window, mean, std, xs, ys, last, nxt, days)


# -- baselines -------------------------------------------------------------------------------------
def persistence(split: Split, part: str = "test") -> np.ndarray:
    """Tomorrow's price = today's price (a zero return forecast)."""
    return split.last_price[part].copy()


def moving_average(series: Series, split: Split, k: int, part: str = "test") -> np.ndarray:
    """Tomorrow's price = mean of the last k prices."""
    return np.array([series.price[d - k:d].mean() for d in split.day[part]])


def fit_autoregressive(split: Split, order: int | None = None, ridge: float = 1e-3) -> np.ndarray:
    """Least-squares AR(order) on standardised training returns; returns coefficients (bias last)."""
    order = order or split.window
    X = split.x["train"][:, -order:, 0].double().numpy()
    A = np.hstack([X, np.ones((len(X), 1))])
    y = split.y["train"].double().numpy()
    return np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T @ y)


def predict_autoregressive(coef: np.ndarray, x: torch.Tensor) -> np.ndarray:
    order = len(coef) - 1
    X = x[:, -order:, 0].double().numpy()
    return X @ coef[:-1] + coef[-1]


def price_from_return(split: Split, z_pred, part: str = "test") -> np.ndarray:
    """p̂_{t+1} = p_t · exp(r̂_{t+1})."""
    return split.last_price[part] * np.exp(split.to_return(z_pred))


def rmse(pred, true) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(true)) ** 2)))


def direction_accuracy(split: Split, price_pred, part: str = "test") -> float:
    """Share of days where the forecast moves in the same direction as the price did (ties count half)."""
    up_true = np.sign(split.next_price[part] - split.last_price[part])
    up_pred = np.sign(np.asarray(price_pred) - split.last_price[part])
    return float(np.mean(np.where(up_pred == 0, 0.5, up_pred == up_true)))


def scores(split: Split, price_pred, part: str = "test") -> dict[str, float]:
    """A price forecast's test RMSE, the same divided by persistence's, and its direction accuracy."""
    truth = split.next_price[part]
    error = rmse(price_pred, truth)
    return {"test RMSE (USD)": error, "÷ persistence": error / rmse(persistence(split, part), truth),
            "direction accuracy": direction_accuracy(split, price_pred, part)}


# -- recurrent forecaster ----------------------------------------------------------------------------
def train_forecaster(kind: str, split: Split, hidden_size: int = 32, epochs: int = 20, lr: float = 3e-3,
                     engine: str = "cudnn", batch_size: int = 64, seed: int = 0):
    """A one-layer RNN/LSTM/GRU reading the window and predicting the next standardised target (MSE):
    the return for a :class:`Split`, the size of the return for a :class:`~rnn_book.tasks.volatility.VolSplit`.

    Early stopping on validation MSE keeps the epoch that generalised best.
    """
    from .. import seed as set_seed
    from ..models import SequenceModel
    from ..train import fit

    set_seed(seed)
    model = SequenceModel(kind, engine, hidden_size, 1, input_size=split.x["train"].shape[-1], head="last")
    xtr, ytr = split.x["train"], split.y["train"]
    gen = torch.Generator().manual_seed(seed)

    def batches(epoch):
        order = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            yield xtr[idx], ytr[idx]

    def loss_fn(m, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(m(x)[0].squeeze(-1), y)

    def evaluate(m):
        dev = device_of(m)
        return {"valid_mse": torch.nn.functional.mse_loss(m(split.x["valid"].to(dev))[0].squeeze(-1),
                                                          split.y["valid"].to(dev))}

    hist = fit(model, batches, loss_fn, epochs=epochs, lr=lr, evaluate=evaluate,
               early_stopping=("valid_mse", max(MIN_PATIENCE, epochs // 4)))
    return model, hist


@torch.no_grad()
def predict(model, x: torch.Tensor) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(x.to(device_of(model)))[0].squeeze(-1).double().cpu().numpy()


@torch.no_grad()
def recursive_forecast(step, split: Split, start: int, horizon: int, part: str = "test") -> np.ndarray:
    """Forecast ``horizon`` prices ahead from window ``start`` by feeding each predicted return back in.

    ``step`` maps a window tensor (n, window, 1) to the next standardised return (n,).
    Returns prices p̂_{t+1..t+horizon}.
    """
    window = split.x[part][start:start + 1].clone()
    price = float(split.last_price[part][start])
    out = []
    for _ in range(horizon):
        z = float(np.asarray(step(window))[0])
        price *= float(np.exp(split.to_return(z)))
        out.append(price)
        window = torch.cat([window[:, 1:], torch.full((1, 1, 1), z, dtype=window.dtype)], dim=1)
    return np.array(out)


def horizon_rmse(step, split: Split, horizons, part: str = "test", stride: int = 5) -> dict[int, float]:
    """RMSE of the recursive forecast at each horizon h, over forecast origins spaced ``stride`` apart."""
    H = max(horizons)
    n = len(split.x[part])
    prices = {h: ([], []) for h in horizons}
    price_series = np.concatenate([split.last_price[part][:1], split.next_price[part]])
    for s in range(0, n - H, stride):
        path = recursive_forecast(step, split, s, H, part)
        for h in horizons:
            prices[h][0].append(path[h - 1])
            prices[h][1].append(price_series[s + h])
    return {h: rmse(*prices[h]) for h in horizons}


def synthetic_series(n: int = 3000, seed: int = 0) -> Series:
    """A *predictable* price path (returns follow a noisy sine), to show the pipeline can forecast at all."""
    rng = np.random.default_rng(seed)
    t = np.arange(n - 1)
    r = 0.01 * np.sin(2 * np.pi * t / 25) + 0.002 * rng.standard_normal(n - 1)
    price = 100 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))
    dates = np.array([f"day {i}" for i in range(n)])
    return Series("SINE", dates, price)
