import numpy as np
import pytest
import torch

from rnn_book.tasks import stocks as S
from rnn_book.widgets.stocks import forecast_explorer


def test_load_and_errors():
    s = S.load_prices("IBM")
    assert len(s.price) > 3000 and (np.diff(s.dates.astype("datetime64[D]")).astype(int) > 0).all()
    with pytest.raises(ValueError, match="ticker must be one of AAPL, GOOG, IBM, MSFT; got 'TSLA'"):
        S.load_prices("TSLA")


def test_split_has_no_lookahead():
    s = S.load_prices("AAPL")
    sp = S.chronological_split(s, 10)
    r = s.log_returns
    n_train = int(len(r) * 0.7)
    assert sp.mean == pytest.approx(r[:n_train].mean()) and sp.std == pytest.approx(r[:n_train].std())
    assert sp.day["train"].max() < sp.day["valid"].min() and sp.day["valid"].max() < sp.day["test"].min()
    # the window of every sample ends the day before its forecast day, and the target is that day's return
    i = 7
    d = sp.day["test"][i]
    assert np.allclose(sp.to_return(sp.x["test"][i, :, 0].numpy()), r[d - 1 - 10:d - 1], atol=1e-6)
    assert sp.to_return(sp.y["test"][i].item()) == pytest.approx(r[d - 1], abs=1e-6)
    assert sp.next_price["test"][i] == s.price[d] and sp.last_price["test"][i] == s.price[d - 1]


def test_split_errors():
    s = S.load_prices("AAPL")
    with pytest.raises(ValueError, match="window must be >= 1; got 0"):
        S.chronological_split(s, 0)
    with pytest.raises(ValueError, match="three numbers summing to 1"):
        S.chronological_split(s, 5, (0.5, 0.5, 0.5))


def test_persistence_is_zero_return_and_recursive_matches_one_step():
    sp = S.chronological_split(S.load_prices("MSFT"), 5)
    zero = lambda x: np.zeros(len(x))
    assert np.allclose(S.price_from_return(sp, np.full(len(sp.y["test"]), -sp.mean / sp.std)), S.persistence(sp))
    coef = S.fit_autoregressive(sp)
    one = S.recursive_forecast(lambda x: S.predict_autoregressive(coef, x), sp, 3, 1)
    assert one[0] == pytest.approx(S.price_from_return(sp, S.predict_autoregressive(coef, sp.x["test"]))[3])
    path = S.recursive_forecast(zero, sp, 0, 4)
    assert path[-1] == pytest.approx(sp.last_price["test"][0] * np.exp(4 * sp.mean))


def test_autoregression_recovers_a_known_process():
    rng = np.random.default_rng(0)
    n = 4000
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = 0.6 * r[t - 1] + 0.01 * rng.standard_normal()
    s = S.Series("AR1", np.arange(n + 1).astype(str), 100 * np.exp(np.concatenate([[0], np.cumsum(r)])))
    sp = S.chronological_split(s, 3)
    coef = S.fit_autoregressive(sp)
    assert coef[2] == pytest.approx(0.6, abs=0.05) and abs(coef[0]) < 0.05


def test_forecast_explorer_callback_changes_output():
    w = forecast_explorer(horizon=5)
    before = w.data
    w.set(horizon=15)
    assert w.data["horizon"] == 15 and len(next(iter(w.data["forecast"].values()))) == 15
    assert w.data["rmse"] != before["rmse"]
    w.set(ticker="GOOG")
    assert w.data["ticker"] == "GOOG"
