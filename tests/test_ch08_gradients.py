"""Unit tests for chapter 8: Jacobian norms over time, singular values and spectral radius, the explorer
widget, long-range tasks, the length study and the spread study."""
import json
import math

import pytest
import torch

import rnn_book
from rnn_book import cudnn, scratch
from rnn_book.analysis import gradients as G, memory as LR, memory_spread as S
from rnn_book.train import History
from rnn_book.weights import set_forget_bias


# -- spectral radius --------------------------------------------------------------------------------
def test_spectral_radius_of_known_matrices():
    assert G.spectral_radius(torch.diag(torch.tensor([0.5, -2.0, 1.0]))) == pytest.approx(2.0)
    rot = torch.tensor([[0.0, -1.0], [1.0, 0.0]])            # eigenvalues ±i
    assert G.spectral_radius(3 * rot) == pytest.approx(3.0)
    W = torch.randn(6, 6, generator=torch.Generator().manual_seed(0))
    assert G.spectral_radius(G.with_spectral_radius(W, 0.7)) == pytest.approx(0.7, rel=1e-6)


def test_spectral_radius_rejects_bad_input():
    with pytest.raises(ValueError, match="square matrix"):
        G.spectral_radius(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="rho must be"):
        G.with_spectral_radius(torch.eye(2), -1.0)


@pytest.mark.parametrize("engine", ["scratch", "cudnn"])
def test_set_spectral_radius_both_engines(engine):
    rnn_book.seed(0)
    layer = rnn_book.make_layer("rnn", engine, 3, 8)
    w_ih_before = layer.torch_layout(0, 0)[0].clone()
    G.set_spectral_radius(layer, 1.3)
    assert G.spectral_radius(G.recurrent_matrix(layer)) == pytest.approx(1.3, rel=1e-5)
    assert torch.equal(layer.torch_layout(0, 0)[0], w_ih_before), "only W_hh may change"


def test_set_spectral_radius_needs_a_vanilla_rnn():
    with pytest.raises(TypeError, match="vanilla RNN"):
        G.set_spectral_radius(scratch.LSTM(2, 4), 1.0)


def test_spectral_norm_is_the_largest_singular_value():
    N = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])             # nilpotent: ρ = 0 but σ_max = 2
    assert G.spectral_norm(N) == pytest.approx(2.0)
    assert G.spectral_radius(N) < 1e-6
    with pytest.raises(ValueError, match="square matrix"):
        G.spectral_norm(torch.zeros(3))


def test_default_init_spectrum_follows_the_circular_law():
    rows = G.default_init_spectrum([4, 256], seeds=range(3))
    assert [r["H"] for r in rows] == [4, 256]
    big = rows[-1]
    assert big["rho_min"] <= big["rho_mean"] <= big["rho_max"]
    assert big["rho_mean"] == pytest.approx(1 / math.sqrt(3), rel=0.06)
    assert big["sigma_mean"] == pytest.approx(2 / math.sqrt(3), rel=0.06)
    # the draw is torch.nn.RNN's own initialisation
    torch.manual_seed(1)
    W = torch.nn.RNN(1, 4).weight_hh_l0.detach()
    assert G.default_init_spectrum([4], seeds=[1])[0]["rho_mean"] == pytest.approx(G.spectral_radius(W))
    with pytest.raises(ValueError, match="positive integer sizes"):
        G.default_init_spectrum([0])


def test_slope_effects_bound_the_norm_not_the_eigenvalues():
    N = torch.tensor([[1.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
    e = G.slope_effects(N, n=50)
    assert e["norm"].shape == (50,) and bool((e["norm"] <= 2 + 1e-12).all())
    d = torch.rand(50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(e["rho"], (d[:, 0] - d[:, 1]).abs(), atol=1e-7), "ρ(D Nᵀ) = |d1 - d2|"
    with pytest.raises(ValueError, match="positive integer"):
        G.slope_effects(N, n=0)


def test_saturated_unit_keeps_the_gradient_of_a_nilpotent_matrix():
    N = torch.tensor([[1.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
    layer = G.rnn_from_matrix(N, b_h=[1.0, 50.0])
    x = torch.zeros(1, 12, 1, dtype=torch.float64)
    norms = G.state_jacobian_norms(layer, x, state=torch.tensor([[0.0, 1.0]], dtype=torch.float64))
    assert torch.allclose(norms[1:], torch.full((12,), math.sqrt(2), dtype=torch.float64), atol=1e-12)
    zero_start = G.state_jacobian_norms(layer, x)             # from h = 0 the network is elsewhere
    assert not torch.allclose(zero_start[1:], norms[1:])
    with pytest.raises(ValueError, match="b_h must have shape"):
        G.rnn_from_matrix(N, b_h=[1.0])
    with pytest.raises(ValueError, match=r"state must be tensor\(s\) of shape \(1, 2\)"):
        G.state_jacobian_norms(layer, x, state=torch.zeros(2, 2, dtype=torch.float64))


def test_state_jacobian_norms_accepts_an_lstm_state_pair():
    rnn_book.seed(4)
    layer = scratch.LSTM(2, 3).double()
    x = torch.randn(2, 6, 2, dtype=torch.float64)
    h0, c0 = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    got = G.state_jacobian_norms(layer, x, state=(h0, c0))
    assert got.shape == (7,) and not torch.allclose(got, G.state_jacobian_norms(layer, x))
    with pytest.raises(ValueError, match="a pair of"):
        G.state_jacobian_norms(layer, x, state=h0)


@pytest.mark.parametrize("engine", ["scratch", "cudnn"])
def test_init_recurrent(engine):
    layer = rnn_book.make_layer("rnn", engine, 2, 6)
    w_ih = layer.torch_layout(0, 0)[0].clone()
    G.init_recurrent(layer, "orthogonal")
    W = G.recurrent_matrix(layer).double()
    assert torch.allclose(W @ W.T, torch.eye(6, dtype=torch.float64), atol=1e-6)
    assert G.spectral_norm(W) == pytest.approx(1.0, abs=1e-6) and G.spectral_radius(W) == pytest.approx(1.0, abs=1e-6)
    G.init_recurrent(layer, "identity")
    _, w_hh, b_ih, b_hh = layer.torch_layout(0, 0)
    assert torch.equal(w_hh, torch.eye(6)) and not b_ih.any() and not b_hh.any()
    assert torch.equal(layer.torch_layout(0, 0)[0], w_ih), "the input weights keep their initialisation"
    with pytest.raises(ValueError, match="scheme must be one of"):
        G.init_recurrent(layer, "xavier")


def test_irnn_starts_with_a_gradient_that_does_not_shrink():
    m = LR.remedy_model("IRNN (ReLU, W_hh = I)", 16)
    assert m.rnn.nonlinearity == "relu"
    assert S.reach(m, S.probe_inputs(20))["gamma"] == pytest.approx(1.0, abs=1e-6)
    default = S.reach(LR.remedy_model("RNN (default init)", 16), S.probe_inputs(20))["gamma"]
    assert default < 0.9
    with pytest.raises(ValueError, match="unknown remedy"):
        LR.remedy_model("LSTM, peepholes", 8)


# -- Jacobian norms ---------------------------------------------------------------------------------
def test_state_jacobian_at_the_zero_fixed_point_is_the_matrix_power():
    # zero input and zero bias keep h_t = 0, where tanh' = 1: the Jacobian is exactly (W_hh^T)^k
    layer = G.rnn_at_radius(1.2, hidden_size=6, bias=False, seed=3)
    x = torch.zeros(2, 15, 1, dtype=torch.float64)
    got = G.state_jacobian_norms(layer, x)
    want = G.linear_jacobian_norms(G.recurrent_matrix(layer), 15)
    assert torch.allclose(got, want, rtol=1e-10)
    assert got[0] == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_jacobian_matches_brute_force(kind):
    rnn_book.seed(1)
    layer = rnn_book.make_layer(kind, "scratch", 3, 4).double()
    x = torch.randn(1, 7, 3, dtype=torch.float64)
    cell = layer.cell(0, 0)
    norms = G.state_jacobian_norms(layer, x)
    # brute force: run to step t, then treat the state there as the input of a function giving h_T
    s = cell.init_state(1, x)
    for t in range(3):
        s = cell(x[:, t], s)
    flat = torch.cat(s, -1) if isinstance(s, tuple) else s

    def rest(v):
        st = (v[:, :4], v[:, 4:]) if kind == "lstm" else v
        for t in range(3, 7):
            st = cell(x[:, t], st)
        return st[0] if isinstance(st, tuple) else st
    J = torch.autograd.functional.jacobian(rest, flat)[0, :, 0, :]
    assert norms[7 - 3] == pytest.approx(float(torch.linalg.matrix_norm(J, ord=2)), rel=1e-9)


def test_cudnn_layer_is_measured_through_its_scratch_twin():
    rnn_book.seed(2)
    lib = cudnn.GRU(2, 5).double()
    x = torch.randn(3, 9, 2, dtype=torch.float64)
    twin = rnn_book.twin(lib)
    assert torch.allclose(twin(x)[0], lib(x)[0], atol=1e-12)
    assert torch.allclose(G.input_sensitivity(lib, x), G.input_sensitivity(twin, x), rtol=1e-9)
    assert torch.allclose(G.state_jacobian_norms(lib, x), G.state_jacobian_norms(twin, x), rtol=1e-9)


def test_jacobian_norms_reject_bad_input():
    with pytest.raises(ValueError, match="one-layer"):
        G.state_jacobian_norms(scratch.RNN(2, 3, num_layers=2), torch.randn(1, 4, 2))
    with pytest.raises(ValueError, match=r"\(batch, time, 2\)"):
        G.state_jacobian_norms(scratch.RNN(2, 3), torch.randn(1, 4, 5))
    with pytest.raises(TypeError, match="rnn_book.scratch or rnn_book.cudnn"):
        G.input_sensitivity(torch.nn.Linear(2, 2), torch.randn(1, 4, 2))


def test_decay_rate_recovers_a_geometric_sequence():
    assert G.decay_rate([3 * 0.8 ** k for k in range(20)]) == pytest.approx(0.8)
    assert G.decay_rate([1.1 ** k for k in range(20)], start=0) == pytest.approx(1.1)
    with pytest.raises(ValueError, match="at least two"):
        G.decay_rate([1.0, 0.0])


def test_radius_sweep_small_input_follows_rho():
    rows = G.radius_sweep([0.6, 1.4], T=20, input_scale=1e-6, bias=False, hidden_size=8)
    for r in rows:
        assert r["gamma"] == pytest.approx(r["rho"], rel=0.05)
        assert r["tanh_slope"] > 0.99


# -- the widget -------------------------------------------------------------------------------------
def test_spectral_explorer_redraws_on_every_control():
    from rnn_book.widgets.spectral import spectral_explorer

    w = spectral_explorer(rho=0.8, T=20)
    before = w.data
    assert len(before["norms"]) == 21 and before["gamma"] < 1
    after = w.set(rho=1.5, regime="small input (state near 0)")
    assert after["gamma"] > 1.3, "with tiny inputs the curve must grow like rho^k"
    assert after["norms"] != before["norms"]
    assert len(w.set(T=45)["norms"]) == 46
    assert w.calls == 4


def test_jacobian_view_rejects_bad_input():
    from rnn_book.widgets.spectral import jacobian_view

    with pytest.raises(ValueError, match="regime must be one of"):
        jacobian_view(1.0, 10, regime="loud")
    with pytest.raises(ValueError, match="at least 2"):
        jacobian_view(1.0, 1)


# -- long-range tasks -------------------------------------------------------------------------------
def test_train_recall_returns_accuracy_per_lag():
    r = LR.train_delayed_recall("gru", 2, steps=3, hidden_size=4, n_test=50)
    assert r.lags == [1, 2, 4, 8] and len(r.accuracy) == 4 and r.steps == 3
    assert all(0 <= a <= 1 for a in r.accuracy) and r.chance == pytest.approx(1 / 8)
    assert r.row()["trained on lags"] == "1..2"


def test_recall_horizons():
    r = LR.RecallResult("rnn", 8, [1, 2, 4, 8], [1.0, 0.95, 0.5, 0.13], 0.125, 1, 0.0)
    assert r.reliable_horizon == 2 and r.chance_at == 8
    r = LR.RecallResult("gru", 8, [1, 2], [0.5, 1.0], 0.125, 1, 0.0)
    assert r.reliable_horizon == 0 and r.chance_at is None
    # the boundary: exactly 900 of 1000 right is 90 %, reliable
    r = LR.RecallResult("lstm", 8, [1, 2], [900 / 1000, 899 / 1000], 0.125, 1, 0.0, correct=[900, 899], n_test=1000)
    assert r.reliable_horizon == 1


def test_recall_counts_are_integers():
    r = LR.train_delayed_recall("lstm", 2, steps=2, hidden_size=4, n_test=40, lags=[1, 3])
    assert r.n_test == 40 and all(isinstance(c, int) and 0 <= c <= 40 for c in r.correct)
    assert r.accuracy == [c / 40 for c in r.correct]


def test_train_adding_learns_a_little_and_reports_baseline():
    r = LR.train_adding("rnn", 5, steps=4, hidden_size=4, n_test=64)
    assert r.baseline == pytest.approx(1 / 6) and r.steps == 4 and math.isfinite(r.score)
    assert r.row()["T"] == 5


def test_forget_bias_both_engines():
    for layer in (scratch.LSTM(2, 3), cudnn.LSTM(2, 3)):
        set_forget_bias(layer, 1.0)
        _, _, b_ih, b_hh = layer.torch_layout(0, 0)
        assert torch.allclose((b_ih + b_hh)[3:6], torch.ones(3))
    with pytest.raises(TypeError, match="expected an LSTM"):
        set_forget_bias(scratch.GRU(2, 3), 1.0)
    with pytest.raises(ValueError, match="task must be"):
        LR.build_model("sorting", "rnn", 4)


def test_train_functions_reject_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        LR.train_adding("transformer", 10)
    with pytest.raises(ValueError, match="length/lag >= 2"):
        LR.train_adding("rnn", 1)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        LR.train_copy("lstm", 5, steps=0)


def test_verdicts_and_horizon():
    mk = lambda task, score, base: LR.BenchmarkResult("rnn", task, 10, score, base, 1, 0.0)  # noqa: E731
    assert mk("adding", 0.01, 1 / 6).verdict == "solved"
    assert mk("adding", 0.16, 1 / 6).verdict == "baseline"
    assert mk("copy", 0.05, 0.1).verdict == "partly"
    assert LR.memory_horizon([1, 2, 4, 8], [1.0, 0.9, 0.3, 0.13], chance=0.125) == 8
    assert LR.memory_horizon([1, 2], [1.0, 0.9], chance=0.125) is None
    with pytest.raises(ValueError, match="2 lags but 1 accuracies"):
        LR.memory_horizon([1, 2], [1.0], chance=0.1)


def test_first_below_and_solved_at():
    losses = [1.0] * 10 + [0.0] * 10
    assert LR.first_below(losses, 0.5, window=4) == 13          # steps 10..13 average 0.25
    assert LR.first_below(losses, 0.0, window=4) is None
    assert LR.first_below([0.0] * 3, 1.0, window=4) is None    # fewer steps than the window
    h = History(step_loss=[1 / 6] * 60 + [0.001] * 60)
    r = LR.BenchmarkResult("gru", "adding", 10, 0.001, 1 / 6, 120, 1.0, history=h)
    # the 50-step mean drops below 0.1 · 1/6 once at most 4 of its steps are still at 1/6: step 106
    assert r.solved_at == 106
    assert r.row()["solved at step"] == r.solved_at
    assert LR.BenchmarkResult("rnn", "adding", 10, 0.2, 1 / 6, 1, 0.0).solved_at is None


TINY = LR.Config(None, LR.TaskConfig((3, 5), hidden_size=4, steps=2), LR.TaskConfig((2,), hidden_size=4, steps=2,
                                                                                    copy_len=2))


def test_length_study_writes_and_resumes(tmp_path):
    out = tmp_path / "study"
    runs = LR.length_study(TINY, seeds=[0], kinds=("rnn", "gru"), threads=1, path=out, log=None)
    assert len(runs) == 6 and {r["threads"] for r in runs} == {1}
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["meta"]["seeds"] == [0] and len(data["runs"]) == 6
    assert "## Trend" in out.with_suffix(".md").read_text()
    again = LR.length_study(TINY, seeds=[0, 1], kinds=("rnn", "gru"), threads=1, path=out, log=None)
    assert len(again) == 12 and again[:6] == runs, "the runs already in the file are kept, not repeated"
    with pytest.raises(ValueError, match="another configuration"):
        LR.length_study(TINY.only("adding"), seeds=[0], path=out, log=None)


def test_length_trend_counts_per_length():
    row = lambda T, seed, ratio, at: {"task": "adding", "model": "LSTM", "T": T, "seed": seed,  # noqa: E731
                                      "loss / baseline": ratio, "verdict": LR.BenchmarkResult(
                                          "lstm", "adding", T, ratio, 1.0, 1, 0.0).verdict, "solved at step": at}
    trend = LR.length_trend([row(50, 0, 0.01, 300), row(50, 1, 0.05, 500), row(200, 0, 0.95, None),
                             row(200, 1, 0.02, 900)])
    assert [(r["T"], r["runs"], r["solved"], r["at baseline"]) for r in trend] == [(50, 2, 2, 0), (200, 2, 1, 1)]
    assert trend[0]["median solved at step"] == 400 and trend[1]["median solved at step"] == 900
    assert trend[1]["min"] == 0.02 and trend[1]["max"] == 0.95


def test_load_results_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(LR, "RESULTS", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m rnn_book memory"):
        LR.load_results("longrange")


def test_command_line_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        LR.main(["--tasks", "sorting"])
    with pytest.raises(SystemExit):
        LR.main(["--seeds", "zero"])
    with pytest.raises(SystemExit):
        LR.main(["sorting"])


def test_train_remedies_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown remedies"):
        LR.train_remedies(TINY.adding, ["RNN, unitary"])
    with pytest.raises(ValueError, match="vanilla RNN's start"):
        LR.build_model("adding", "lstm", 4, init="orthogonal")


# -- the spread study -------------------------------------------------------------------------------
def test_clipping_measures():
    free = History(step_loss=[0.2, 5.0, float("inf")], diverged=True, diverged_at=3)
    clipped = History(step_loss=[0.2] * 60, step_norm=[3.0] + [0.5] * 59)
    m = S.clipping_measures(free, clipped)
    assert m["unclipped: diverged"] and not m["clipped: diverged"]
    assert m["clipped: largest gradient norm before clipping"] == 3.0
    assert m["clipped: last 50 steps' loss / baseline"] == pytest.approx(0.2 * 6)


def test_passes_and_thresholds():
    assert S.passes(3, "<", 4) and not S.passes(4, "<", 4) and S.passes(950, ">=", 950)
    assert not S.passes(None, "<", 4) and S.passes(True, "==", True)
    full, quick = S.thresholds(quick=False), S.thresholds(quick=True)
    assert set(full) == set(quick) == set(S.THRESHOLDS)
    assert all(op in S.OPS for op, _ in full.values())


def test_spread_table_marks_runs_outside_a_threshold(tmp_path):
    runs = [{"seed": 0, "threads": 1, "measures": {"adding LSTM: loss / baseline": 0.01, "other": 3.0}},
            {"seed": 1, "threads": 2, "measures": {"adding LSTM: loss / baseline": 0.2, "other": None}}]
    rows = {r["measure"]: r for r in S.spread_table(runs, "full")}
    assert rows["adding LSTM: loss / baseline"]["every run passes"] is False
    assert rows["adding LSTM: loss / baseline"]["min"] == 0.01 and rows["adding LSTM: loss / baseline"]["max"] == 0.2
    assert rows["other"]["runs without a value"] == 1 and rows["other"]["chapter asserts"] == ""
    S.write_spread(runs, tmp_path / "spread", "full")
    assert json.loads((tmp_path / "spread.json").read_text())["meta"]["threads"] == [1, 2]
    assert "| adding LSTM: loss / baseline |" in (tmp_path / "spread.md").read_text()


def test_configs_by_mode():
    assert LR.chapter_config(quick=True) is LR.CHAPTER_QUICK and LR.chapter_config(quick=False) is LR.CHAPTER_FULL
    assert set(LR.CHAPTER_FULL.extra_remedies) <= set(LR.REMEDIES)
    assert LR.CHAPTER_FULL.only("adding").copy is None and LR.CHAPTER_FULL.only("adding").clip_steps == 600
    text = LR.describe_config(LR.STUDY_FULL)
    assert "adding at T = 10, 25, 50, 100" in text and "10 symbols" in text
    with pytest.raises(ValueError, match="tasks are recall, adding and copy"):
        LR.CHAPTER_FULL.only("sorting")


def test_spread_study_merges_runs_of_several_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "chapter_measures", lambda seed, quick, log=None: {"adding LSTM: loss / baseline": 0.01 * seed})
    out = tmp_path / "spread"
    S.spread_study([1], [1], quick=True, path=out, log=None)
    S.write_spread(S._merge(json.loads(out.with_suffix(".json").read_text())["runs"],
                            {"seed": 0, "threads": 2, "measures": {}}), out, "quick")   # another process's run
    runs = S.spread_study([0, 1], [1], quick=True, path=out, log=None)
    assert [(r["seed"], r["threads"]) for r in runs] == [(0, 1), (1, 1), (0, 2)]
    with pytest.raises(ValueError, match="quick-mode study"):
        S.spread_study([0], [1], quick=False, path=out, log=None)


@pytest.mark.parametrize("name", ["longrange", "ch08_spread", "ch08_spread_quick"])
def test_the_shipped_results_carry_what_chapter_8_reads(name):
    """The chapter prints these fields of each file's header and reads these of every run."""
    study = LR.load_results(name)
    need = {"command", "mode", "device", "torch", "seeds", "threads"} | ({"every run"} if name == "longrange" else set())
    assert need <= set(study["meta"]), f"{name}: meta lacks {sorted(need - set(study['meta']))}"
    run_keys = {"task", "model", "T", "loss / baseline", "seed", "threads"} if name == "longrange" else {"measures"}
    assert all(run_keys <= set(r) for r in study["runs"]), f"{name}: a run lacks one of {sorted(run_keys)}"


@pytest.mark.parametrize("name,quick", [("ch08_spread", False), ("ch08_spread_quick", True)])
def test_every_committed_run_passes_the_chapters_thresholds(name, quick):
    """A threshold set from one lucky seed fails here as soon as another recorded run misses it."""
    th = S.thresholds(quick=quick)
    assert not any(k.split(":")[0] in S.SEED_DEPENDENT for k in th), "seed-dependent results are asserted as rates"
    bad = [f"seed {r['seed']}, {r['threads']} thread(s): {k} = {r['measures'].get(k)} must be {op} {level}"
           for r in LR.load_results(name)["runs"] for k, (op, level) in th.items()
           if k in r["measures"] and not S.passes(r["measures"][k], op, level)]
    assert not bad, "a threshold no longer covers the measured spread:\n" + "\n".join(bad)


def test_solved_runs_counts_a_rate():
    runs = [{"measures": {"IRNN (ReLU, W_hh = I): loss / baseline": v}} for v in (0.08, 0.93, 1.04)] + [{"measures": {}}]
    assert S.solved_runs(runs, "IRNN (ReLU, W_hh = I)") == (1, 3)
