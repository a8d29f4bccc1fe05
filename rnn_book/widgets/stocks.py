"""Forecast explorer: pick a ticker, a window length and a horizon; see the forecast against the prices."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from ..tasks import stocks as S
from .base import Explorer


def render_forecast(ticker: str, window: int, horizon: int, origin: int = 60, models: dict | None = None):
    """Recursive forecasts from one origin in the test span: AR(window) refitted here, persistence, and a
    trained recurrent model when ``models`` holds one for (ticker, window)."""
    series = S.load_prices(ticker)
    split = S.chronological_split(series, window)
    origin = min(origin, len(split.x["test"]) - horizon - 1)
    coef = S.fit_autoregressive(split)
    paths = {"AR(%d), recursive" % window: S.recursive_forecast(lambda x: S.predict_autoregressive(coef, x),
                                                                 split, origin, horizon)}
    model = (models or {}).get((ticker, window))
    if model is not None:
        paths[f"{model.kind} (trained), recursive"] = S.recursive_forecast(lambda x: S.predict(model, x),
                                                                           split, origin, horizon)
    day0 = int(split.day["test"][origin]) - 1                 # the last price the forecasts know
    span = np.arange(day0 - 3 * horizon, day0 + horizon + 1)
    actual = series.price[day0 + 1: day0 + horizon + 1]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(span, series.price[span], color="black", lw=1.2, label="actual")
    ahead = np.arange(day0 + 1, day0 + horizon + 1)
    ax.plot(ahead, np.full(horizon, series.price[day0]), "--", label="persistence")
    for name, path in paths.items():
        ax.plot(ahead, path, label=name)
    ax.axvline(day0, color="grey", lw=0.8)
    ax.set_title(f"{ticker}: {horizon}-day forecast from {series.dates[day0]} (window {window} days)")
    ax.set_xlabel("trading day (index into the series)")
    ax.set_ylabel("adjusted close (USD)")
    ax.legend(fontsize=8)
    errors = {name: S.rmse(path, actual) for name, path in paths.items()}
    errors["persistence"] = S.rmse(np.full(horizon, series.price[day0]), actual)
    return fig, {"ticker": ticker, "window": window, "horizon": horizon, "rmse": errors,
                 "forecast": {k: v.tolist() for k, v in paths.items()}}


def forecast_explorer(models: dict | None = None, ticker: str = "AAPL", window: int = 20, horizon: int = 10) -> Explorer:
    controls = {
        "ticker": W.Dropdown(options=list(S.TICKERS), value=ticker, description="ticker"),
        "window": W.IntSlider(value=window, min=5, max=60, step=5, description="window"),
        "horizon": W.IntSlider(value=horizon, min=1, max=30, description="horizon"),
    }
    return Explorer(controls, lambda **v: render_forecast(models=models, **v), title="Forecast explorer")
