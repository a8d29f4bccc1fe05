"""Chapter 06, stock prices (股票价格预测): log returns, standardising without look-ahead, the √h floor, volatility clustering."""
from __future__ import annotations

import numpy as np

from .core import Wrong, call, close, exercise


@exercise
def ch06_log_returns(fn):
    """fn(prices) -> log returns r_t = log(p_t / p_{t-1}), one shorter than prices."""
    prices = np.array([100.0, 110.0, 99.0, 99.0, 120.0])
    got = np.asarray(call(fn, prices), dtype=float)
    want = np.log(prices[1:] / prices[:-1])
    if got.shape != want.shape:
        raise Wrong(f"expected {len(want)} returns for {len(prices)} prices; got shape {got.shape}")
    if close(got, prices[1:] / prices[:-1] - 1, 1e-9):
        raise Wrong("those are simple returns p_t/p_{t-1} - 1; take the logarithm of the ratio instead")
    if not close(got, want, 1e-9):
        raise Wrong(f"for prices {prices.tolist()} expected {np.round(want, 4).tolist()}, got {np.round(got, 4).tolist()}")


@exercise
def ch06_standardise_without_lookahead(fn):
    """fn(returns, n_train) -> all returns standardised with the mean and std of the first n_train only."""
    rng = np.random.default_rng(0)
    r = np.concatenate([rng.normal(0.0, 1.0, 200), rng.normal(3.0, 2.0, 100)])   # the future looks different
    got = np.asarray(call(fn, r, 200), dtype=float)
    want = (r - r[:200].mean()) / r[:200].std()
    if got.shape != r.shape:
        raise Wrong(f"return one standardised value per return: shape {r.shape}; got {got.shape}")
    if close(got, (r - r.mean()) / r.std(), 1e-6):
        raise Wrong("the mean and std came from the whole series, test span included: that is look-ahead")
    if not close(got, want, 1e-6):
        raise Wrong("use mean and std of returns[:n_train] alone, then apply them to every return")


@exercise
def ch06_random_walk_horizon_std(fn):
    """fn(sigma, h) -> standard deviation of the h-day log return of a random walk with daily std sigma."""
    for sigma, h in ((0.02, 1), (0.02, 16), (0.01, 25), (0.03, 7)):
        got = float(call(fn, sigma, h))
        if abs(got - sigma * h) < 1e-12 and h > 1:
            raise Wrong("independent daily steps add their variances, not their standard deviations")
        if abs(got - sigma * np.sqrt(h)) > 1e-9:
            raise Wrong(f"for sigma={sigma}, h={h} expected {sigma * np.sqrt(h):.5f}; got {got:.5f}")


@exercise
def ch06_abs_autocorrelation(fn):
    """fn(returns, k) -> the autocorrelation of |r_t| at lag k: corr(|r_t|, |r_{t+k}|)."""
    rng = np.random.default_rng(1)
    sigma = np.exp(np.convolve(rng.normal(0, 0.5, 1300), np.ones(30) / np.sqrt(30), "valid"))[:1200]
    r = 0.01 * sigma * rng.standard_normal(1200) * rng.choice([-1, 1], 1200)   # calm and wild stretches
    a = np.abs(r)
    for k in (1, 5, 20):
        got = float(call(fn, r.copy(), k))
        want = float(np.corrcoef(a[:-k], a[k:])[0, 1])
        plain = float(np.corrcoef(r[:-k], r[k:])[0, 1])
        if abs(got - plain) < 1e-6:
            raise Wrong("that is the autocorrelation of the returns themselves; take the size |r| first")
        if abs(got - want) > 1e-6:
            raise Wrong(f"at lag {k} the autocorrelation of |r| is {want:.4f}; got {got:.4f} "
                        "(pair |r_t| with |r_(t+k)|: a[:-k] with a[k:])")
