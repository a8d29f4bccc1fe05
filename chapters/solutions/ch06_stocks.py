"""Reference solutions for chapter 06 (stock prices)."""
import numpy as np


def log_returns(prices):
    prices = np.asarray(prices, dtype=float)
    return np.diff(np.log(prices))


def standardise(returns, n_train):
    train = returns[:n_train]
    return (returns - train.mean()) / train.std()


def horizon_std(sigma, h):
    return sigma * np.sqrt(h)


def abs_autocorrelation(returns, k):
    a = np.abs(np.asarray(returns, dtype=float))
    return np.corrcoef(a[:-k], a[k:])[0, 1]


SOLUTIONS = {
    "ch06_log_returns": log_returns,
    "ch06_standardise_without_lookahead": standardise,
    "ch06_random_walk_horizon_std": horizon_std,
    "ch06_abs_autocorrelation": abs_autocorrelation,
}
WRONG = {
    "ch06_log_returns": [lambda p: np.asarray(p)[1:] / np.asarray(p)[:-1] - 1, lambda p: np.log(np.asarray(p))],
    "ch06_standardise_without_lookahead": [lambda r, n: (r - r.mean()) / r.std(), lambda r, n: r - r[:n].mean()],
    "ch06_random_walk_horizon_std": [lambda s, h: s * h, lambda s, h: s],
    "ch06_abs_autocorrelation": [lambda r, k: np.corrcoef(r[:-k], r[k:])[0, 1],
                                 lambda r, k: np.corrcoef(np.abs(r)[:-k], np.abs(r)[1:len(r) - k + 1])[0, 1]],
}
