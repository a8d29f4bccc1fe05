"""Reference solutions for chapter 06 (stock prices)."""
import numpy as np


def stock_log_returns(prices):
    prices = np.asarray(prices, dtype=float)
    return np.diff(np.log(prices))


def standardise_without_lookahead(returns, n_train):
    train = returns[:n_train]
    return (returns - train.mean()) / train.std()


def random_walk_horizon_std(sigma, h):
    return sigma * np.sqrt(h)


SOLUTIONS = {
    "stock_log_returns": stock_log_returns,
    "standardise_without_lookahead": standardise_without_lookahead,
    "random_walk_horizon_std": random_walk_horizon_std,
}
WRONG = {
    "stock_log_returns": [lambda p: np.asarray(p)[1:] / np.asarray(p)[:-1] - 1, lambda p: np.log(np.asarray(p))],
    "standardise_without_lookahead": [lambda r, n: (r - r.mean()) / r.std(), lambda r, n: r - r[:n].mean()],
    "random_walk_horizon_std": [lambda s, h: s * h, lambda s, h: s],
}
