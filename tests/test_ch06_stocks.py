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


# ------------------------------------------------------------------------------------------- volatility

def test_autocorrelation_of_a_known_process_and_its_errors():
    from rnn_book.tasks import volatility as V

    rng = np.random.default_rng(0)
    x = np.zeros(20000)
    for t in range(1, len(x)):
        x[t] = 0.5 * x[t - 1] + rng.standard_normal()
    acf = V.autocorrelation(x, [1, 2, 3])
    assert np.allclose(acf, [0.5, 0.25, 0.125], atol=0.03), acf
    noise = V.autocorrelation(rng.standard_normal(20000), range(1, 11))
    assert (abs(noise) < 2 * V.noise_band(20000)).all()
    with pytest.raises(ValueError, match="lags must lie in 1..8"):
        V.autocorrelation(np.arange(10.0), [0])
    with pytest.raises(ValueError, match="1-D"):
        V.autocorrelation(np.zeros((3, 3)), [1])


def test_volatility_split_targets_the_size_of_the_next_return():
    from rnn_book.tasks import volatility as V

    s = S.load_prices("MSFT")
    vs, ps = V.volatility_split(s, 10), S.chronological_split(s, 10, V.SPANS)
    r = s.log_returns
    a = np.abs(r)
    n_train = int(len(r) * V.SPANS[0])
    assert s.dates[vs.t["test"][0] + 1] < "2008-01-01", "the volatility test span holds the 2008 crisis"
    assert vs.mean == pytest.approx(a[:n_train].mean()) and vs.std == pytest.approx(a[:n_train].std())
    for part in ("train", "valid", "test"):
        assert len(vs.y[part]) == len(ps.y[part]) and (vs.t[part] + 1 == ps.day[part]).all(), "the same forecast days"
    i, t = 5, vs.t["test"][5]
    assert vs.size["test"][i] == a[t] and vs.to_size(vs.y["test"][i].item()) == pytest.approx(a[t], abs=1e-9)
    assert np.allclose(vs.x["test"][i, :, 1].double().numpy() * a[:n_train].std() + a[:n_train].mean(), a[t - 10:t],
                       atol=1e-6), "the window's second input is the size of the 10 returns before the target"
    assert torch.allclose(vs.x["test"][i, :, 0], ps.x["test"][i, :, 0]), "the first input is the standardised return"


def test_classical_volatility_estimates_by_hand():
    from rnn_book.tasks import volatility as V

    r = np.array([0.01, -0.02, 0.03, -0.04, 0.05])
    t = np.array([2, 3, 4])
    assert np.allclose(V.yesterday(r, t), [0.02, 0.03, 0.04])
    assert np.allclose(V.rolling_mean(r, t, 2), [0.015, 0.025, 0.035])
    m = 0.01                                               # started at the first size
    want = []
    for i in range(1, 5):
        want.append(m)                                     # the forecast of |r_i| knows |r_0|..|r_{i-1}|
        m = 0.5 * m + 0.5 * abs(r[i])
    assert np.allclose(V.ewma(r, np.arange(1, 5), decay=0.5), want)
    with pytest.raises(ValueError, match="decay must lie in"):
        V.ewma(r, t, decay=1.0)
    assert V.mse([1.0, 2.0], [1.0, 4.0]) == 2.0
    vs = V.volatility_split(S.load_prices("IBM"), 5)
    best = V.hindsight_constant(vs)
    assert V.mse(best, vs.size["test"]) <= V.mse(best * 1.01, vs.size["test"]), "the mean is the best constant"


def test_scores_of_persistence_and_the_trainer_reads_either_split():
    sp = S.chronological_split(S.load_prices("IBM"), 5)
    sc = S.scores(sp, S.persistence(sp))
    assert sc["÷ persistence"] == 1.0 and sc["direction accuracy"] == 0.5, "persistence never moves: ties count half"
    from rnn_book.tasks import volatility as V

    vs = V.volatility_split(S.synthetic_series(n=300), 5)
    model, hist = S.train_forecaster("GRU", vs, hidden_size=4, epochs=1)
    assert model.rnn.input_size == 2 and len(hist.train_loss) == 1


# ------------------------------------------------------------------------------------------- spread records

def test_spread_records_merge_and_summarise(tmp_path):
    from rnn_book.tasks import spread

    checks = (spread.Check("acc", ">=", 0.7, 0.3, "most right"), spread.Check("err", "<", 0.2, 0.5, "few errors"))
    assert spread.thresholds(checks, "full") == {"acc": 0.7, "err": 0.2} and checks[0].passes(0.7, "full")
    recs = spread.measure_grid(lambda s: {"acc": 0.6 + 0.1 * s, "err": 0.1}, [0, 1, 2], [1], log=lambda m: None)
    assert [r["seed"] for r in recs] == [0, 1, 2] and all(r["mode"] == "quick" for r in recs)   # tests run quick
    spread.write("t", recs, checks, "title", "cmd", tmp_path)
    again = spread.measure_grid(lambda s: {"acc": 0.9, "err": 0.1}, [2], [1], log=lambda m: None)
    json_path, md = spread.write("t", again, checks, "title", "cmd", tmp_path)
    merged = spread.load(json_path)
    assert len(merged) == 3 and merged[-1]["values"]["acc"] == 0.9, "a rerun of the same key replaces the old record"
    s = spread.spread_of(merged, "acc", "quick")
    assert (s["min"], s["max"], s["runs"]) == (pytest.approx(0.6), 0.9, 3)
    assert "| acc | >= 0.3: most right | 0.6 | 0.7 | 0.9 | yes |" in md.read_text()
    assert "from 0.600 to 0.900 over seeds 0, 1, 2 at 1 thread(s)" in spread.describe(merged, "acc")
    table = spread.chapter_table(merged, checks)
    assert "most right" in table and "0.6 to 0.9" in table
    with pytest.raises(KeyError, match="no full-mode records"):
        spread.chapter_table(merged, checks, "full")
    with pytest.raises(ValueError, match="op must be one of"):
        spread.Check("x", "==", 1, 1, "")
    with pytest.raises(FileNotFoundError, match="spread command"):
        spread.load(tmp_path / "none.json")


def test_spread_command_saves_every_run_of_the_grid(tmp_path, monkeypatch):
    from rnn_book.tasks import spread

    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    checks = (spread.Check("x", "<", 10.0, 10.0, "small"),)
    paths = spread.command(["--mode", "quick", "--seeds", "0", "1", "--threads", "1", "--out", str(tmp_path)],
                           "ch99_spread", "python -m rnn_book x-spread", 99, lambda s: {"x": float(s)}, checks, "Doc.")
    records = spread.load(tmp_path / "ch99_spread.json")
    assert sorted(r["seed"] for r in records) == [0, 1] and all(r["mode"] == "quick" for r in records)
    assert any(str(p).endswith(".md") for p in paths) and "Chapter 99" in (tmp_path / "ch99_spread.md").read_text()
