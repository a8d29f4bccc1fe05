"""Chapter 6's numbers on trained models over seeds and thread counts, and the thresholds it asserts.

    python -m rnn_book stocks-spread --mode full --seeds 0 1 2 --threads 1 2

trains what chapter 6 trains (RNN, LSTM and GRU return forecasters on AAPL, the GRU on the sine
control, the GRU volatility forecaster) once per seed and thread count, and merges the records into
``results/ch06_spread.json`` and the summary ``results/ch06_spread.md``.
"""
from __future__ import annotations


from ..settings import pick
from . import stocks as S, volatility as V
from .spread import Check, command, thresholds

NAME = "ch06_spread"
WINDOW = 20

CHECKS = (
    Check("best ÷ persistence", ">", 0.98, 0.98, "no forecaster beats persistence by more than 2%"),
    Check("worst ÷ persistence", "<", 1.05, 1.05, "no forecaster is more than 5% worse than persistence"),
    Check("direction: distance from a coin", "<", 0.08, 0.08, "every model calls the direction like a coin (within 8 points of 50%)"),
    Check("sine ÷ persistence", "<", 0.7, 0.7, "on the predictable control the GRU beats persistence clearly"),
    Check("GRU 20-day ÷ 1-day error", ">", 2.5, 2.5, "the recursive GRU forecast compounds its errors"),
    Check("vol: GRU ÷ best constant", "<", 0.9, 0.9, "the GRU tracks the volatility: it beats the best constant in hindsight"),
    Check("vol: GRU ÷ yesterday's size", "<", 0.6, 0.6, "... and far better than yesterday's size"),
    Check("vol: GRU ÷ 20-day mean", "<", 1.0, 1.03, "... it beats the 20-day mean (quick: comes within 3% of it)"),
    Check("vol: GRU ÷ EWMA", "<", 1.02, 1.05, "... and comes within 2% of the EWMA (quick: 5%)"),
    Check("vol: EWMA ÷ GRU", "<", 1.05, 1.05, "... without beating the EWMA clearly (by 5% or more)"),
)


def limits(mode: str | None = None) -> dict[str, float]:
    """The thresholds chapter 6 asserts, in the mode that runs."""
    return thresholds(CHECKS, mode)


def measure(seed: int) -> dict[str, float]:
    """Chapter 6's asserted numbers on trained models, for one seed."""
    epochs = pick(full=30, quick=4)
    aapl = S.load_prices("AAPL")
    split = S.chronological_split(aapl, WINDOW)
    ratios = {"linear AR(20)": S.scores(split, S.price_from_return(
        split, S.predict_autoregressive(S.fit_autoregressive(split), split.x["test"])))["÷ persistence"]}
    coin, models = 0.0, {}
    for kind in ("RNN", "LSTM", "GRU"):
        models[kind], _ = S.train_forecaster(kind, split, hidden_size=32, epochs=epochs, seed=seed)
        sc = S.scores(split, S.price_from_return(split, S.predict(models[kind], split.x["test"])))
        ratios[kind] = sc["÷ persistence"]
        coin = max(coin, abs(sc["direction accuracy"] - 0.5))
    sine_split = S.chronological_split(S.synthetic_series(), WINDOW)
    gru, _ = S.train_forecaster("GRU", sine_split, hidden_size=32, epochs=pick(full=30, quick=6), seed=seed)
    sine = S.scores(sine_split, S.price_from_return(sine_split, S.predict(gru, sine_split.x["test"])))["÷ persistence"]
    per_h = S.horizon_rmse(lambda x: S.predict(models["GRU"], x), split, [1, 20])

    vol = V.volatility_split(aapl, WINDOW)
    size = vol.size["test"]
    vol_gru, _ = S.train_forecaster("GRU", vol, hidden_size=32, epochs=epochs, seed=seed)
    gru_mse = V.mse(vol.to_size(S.predict(vol_gru, vol.x["test"])), size)
    base = {k: V.mse(v, size) for k, v in V.baselines(aapl, vol).items()}
    return {**{f"{k} ÷ persistence": v for k, v in ratios.items()},
            "best ÷ persistence": min(ratios.values()), "worst ÷ persistence": max(ratios.values()),
            "direction: distance from a coin": coin, "sine ÷ persistence": sine,
            "GRU 20-day ÷ 1-day error": per_h[20] / per_h[1],
            "vol: GRU ÷ best constant": gru_mse / V.mse(V.hindsight_constant(vol), size),
            "vol: GRU ÷ yesterday's size": gru_mse / base["yesterday's size"],
            "vol: GRU ÷ 20-day mean": gru_mse / base["mean size, last 20 days"],
            "vol: GRU ÷ EWMA": gru_mse / base[f"EWMA, decay {V.RISKMETRICS_DECAY}"],
            "vol: EWMA ÷ GRU": base[f"EWMA, decay {V.RISKMETRICS_DECAY}"] / gru_mse}


def main(argv=None):
    return command(argv, NAME, "python -m rnn_book stocks-spread", 6, measure, CHECKS, __doc__)
