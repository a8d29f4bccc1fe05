"""Unit tests for chapter 8: Jacobian norms over time, spectral radius, the explorer widget, long-range tasks."""
import json
import math

import pytest
import torch

import rnn_book
from rnn_book import cudnn, scratch
from rnn_book.analysis import gradients as G, memory as LR
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


def test_write_results(tmp_path):
    rs = {"adding": [LR.BenchmarkResult("lstm", "adding", 50, 0.001, 1 / 6, 10, 1.0)],
          "recall": [LR.RecallResult("rnn", 4, [1, 2], [1.0, 0.2], 0.125, 10, 1.0)], "copy": []}
    LR.write_results(rs, tmp_path / "out", LR.QUICK.only("adding"), 2.0)
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["results"]["adding"][0]["verdict"] == "solved"
    assert data["results"]["recall"][0]["reliable up to k"] == 1
    text = (tmp_path / "out.md").read_text()
    assert "| adding | LSTM | 50 |" in text and "## recall" in text


def test_command_line_rejects_unknown_task():
    with pytest.raises(SystemExit):
        LR.main(["--tasks", "sorting"])
