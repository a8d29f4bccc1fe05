"""Unit tests for the LSTM chapter's package code: figure, tools, tasks, widget, exercises."""
import importlib.util
import math
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("agg")

from rnn_book import cudnn, scratch, copy_weights  # noqa: E402
from rnn_book.analysis import lstm_probes as lt, memory  # noqa: E402
from rnn_book.analysis.gradients import input_sensitivity  # noqa: E402
from rnn_book.weights import forget_bias, set_forget_bias  # noqa: E402
from rnn_book.data.lag_tasks import as_text, bracket_balance, marked_recall  # noqa: E402
from rnn_book.exercises import check, strict_check  # noqa: E402
from rnn_book.models import SequenceModel  # noqa: E402


# -- figure ------------------------------------------------------------------------------------------

def test_figure_shows_every_symbol():
    from rnn_book.viz.lstm_figure import SYMBOLS, lstm_cell_figure
    import matplotlib.pyplot as plt

    d = lstm_cell_figure()
    text = " ".join(d.labels())
    for s in SYMBOLS:
        assert s in text, f"figure 6-4 must label {s}"
    assert d.labels().count("⊙") == 3 and "+" in d.labels() and "tanh" in d.labels()
    assert text.count(r"\sigma") == 3, "three sigmoid gates"
    plt.close(d.fig)


@pytest.mark.parametrize("make", [lambda: cudnn.LSTM(3, 4, num_layers=2, bidirectional=True),
                                  lambda: scratch.LSTM(3, 4, num_layers=2, bidirectional=True),
                                  lambda: scratch.LSTM(3, 4, num_layers=2, bidirectional=True, fused=True)])
def test_set_forget_bias_every_engine(make):
    torch.manual_seed(0)
    layer = make()
    before = [t.clone() for t in layer.torch_layout(1, 1)]
    set_forget_bias(layer, 1.0)
    for l in range(2):
        for d in range(2):
            assert torch.allclose(forget_bias(layer, l, d), torch.ones(4))
    after = layer.torch_layout(1, 1)
    b_before, b_after = before[2] + before[3], after[2] + after[3]
    assert torch.equal(b_before[:4], b_after[:4]) and torch.equal(b_before[8:], b_after[8:]), "other gates untouched"
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1]), "weights untouched"


def test_set_forget_bias_same_function_in_both_engines():
    torch.manual_seed(0)
    a, b = cudnn.LSTM(3, 4).double(), scratch.LSTM(3, 4).double()
    copy_weights(a, b)
    set_forget_bias(a, 2.0)
    set_forget_bias(b, 2.0)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    assert (a(x)[0] - b(x)[0]).abs().max() < 1e-12


def test_set_forget_bias_rejects_bad_input():
    with pytest.raises(TypeError, match="expected an LSTM layer.*GRU"):
        set_forget_bias(cudnn.GRU(3, 4), 1.0)
    with pytest.raises(TypeError, match="finite number"):
        set_forget_bias(cudnn.LSTM(3, 4), float("nan"))


# -- tracing and probes -------------------------------------------------------------------------------

def test_trace_gates_of_a_model_trained_on_cudnn():
    torch.manual_seed(0)
    model = SequenceModel("lstm", "cudnn", 6, 3, vocab_size=2, embed_size=4)
    x, _, _ = bracket_balance(3, 7)
    tr = lt.trace_gates(model, x)
    assert set(tr) == {"i", "f", "o", "c_tilde", "c", "h"}
    assert tr["c"].shape == (3, 7, 6) and tr["c"].dtype == torch.float64
    with torch.no_grad():
        out, (h, c) = model.rnn(model.features(x))
    assert torch.allclose(tr["h"].float(), out, atol=1e-6) and torch.allclose(tr["c"][:, -1].float(), c[0], atol=1e-6)
    assert torch.allclose(tr["h"], tr["o"] * torch.tanh(tr["c"]))


def test_probe_r2():
    g = torch.Generator().manual_seed(0)
    F = torch.randn(400, 3, generator=g)
    y = F @ torch.tensor([1.0, -2.0, 0.5]) + 3
    assert lt.probe_r2(F, y) > 0.9999
    assert lt.probe_r2(torch.randn(400, 3, generator=g), y) < 0.1
    with pytest.raises(ValueError, match=r"expected features \(N, K\) and target \(N,\)"):
        lt.probe_r2(F, y[:10])
    with pytest.raises(ValueError, match="train_fraction"):
        lt.probe_r2(F, y, 1.5)


def test_input_sensitivity_is_the_jacobian_norm():
    torch.manual_seed(0)
    layer = cudnn.RNN(2, 3).double()
    x = torch.randn(1, 4, 2, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda z: layer(z)[0][0, -1], x)   # (3, 1, 4, 2)
    want = J[:, 0].pow(2).sum((0, 2)).sqrt()
    assert torch.allclose(input_sensitivity(layer, x), want)
    assert input_sensitivity(layer, x.float()).dtype == torch.float64 and layer.rnn.weight_hh_l0.dtype == torch.float64
    with pytest.raises(ValueError, match=r"must be 3-D, batch-first \(batch, time, 2\)"):
        input_sensitivity(layer, x[0])


# -- tasks --------------------------------------------------------------------------------------------

def test_marked_recall():
    x, y, lag = marked_recall(200, 10, seed=1)
    assert x.shape == (200, 10) and y.shape == (200,) and int(lag.min()) >= 0 and int(lag.max()) <= 9
    assert ((x < 8).sum(1) == 1).all(), "exactly one symbol per sequence"
    assert torch.equal(x[torch.arange(200), 9 - lag], y)
    assert torch.equal(marked_recall(5, 10, seed=3)[0], marked_recall(5, 10, seed=3)[0])
    with pytest.raises(ValueError, match="T must be an int >= 1"):
        marked_recall(5, 0)


def test_bracket_balance():
    x, y, d = bracket_balance(50, 30, seed=2)
    assert torch.equal(d[:, -1], (x == 1).sum(1) - (x == 0).sum(1))
    assert torch.equal(y, torch.sign(d) + 1)
    assert as_text(x[0]).count("(") == int((x[0] == 1).sum())
    with pytest.raises(ValueError, match="one sequence"):
        as_text(x)


def test_train_rejects_bad_kind():
    with pytest.raises(ValueError, match="kind must be"):
        memory.train_marked_recall("transformer", 10)
    with pytest.raises(ValueError, match="forget-gate bias"):
        memory.train_marked_recall("rnn", 10, forget_bias=1.0)


# -- gate explorer ------------------------------------------------------------------------------------

def test_cell_step_and_run():
    c, h = lt.cell_step(1.0, 0.0, 1.0, 0.5, 7.0)
    assert c == 0.5 and h == pytest.approx(math.tanh(0.5))
    cs, _ = lt.cell_run(0.0, 1.0, 0.3, 0.9, 2.0, 50)
    assert cs[-1] == 2.0, "F = 1, I = 0 keeps C exactly"
    cs, _ = lt.cell_run(0.4, 0.5, 0.3, 0.5, 0.0, 60)
    assert cs[-1] == pytest.approx(0.4 * 0.5 / 0.5)
    with pytest.raises(ValueError, match="gate f must lie in"):
        lt.cell_step(0.5, 1.5, 0.5, 0.0, 0.0)
    with pytest.raises(ValueError, match="candidate"):
        lt.cell_step(0.5, 0.5, 0.5, 2.0, 0.0)


def test_gate_explorer_callback():
    from rnn_book.widgets.gates import gate_explorer

    w = gate_explorer(i=0.5, f=0.9, o=0.8, c_tilde=0.7, c_prev=1.0)
    before = dict(w.data)
    assert before["c_t"] == pytest.approx(0.5 * 0.7 + 0.9)
    w.set(o=0.2)
    assert w.data["c_t"] == before["c_t"] and w.data["h_t"] == pytest.approx(0.2 * math.tanh(before["c_t"]))
    w.set(f=1.0)
    assert w.data["c_run"][-1] == pytest.approx(1.0 + 30 * 0.35) and w.data["fixed_point"] is None
    assert w.calls == 3


# -- the Jacobian dC_t/dC_{t-1} ---------------------------------------------------------------------

def _traced_lstm(seed=0, B=3, T=6, D=2, H=4):
    torch.manual_seed(seed)
    layer = scratch.LSTM(D, H).double()
    with torch.no_grad():                                     # larger weights: gates away from 1/2
        for p in layer.parameters():
            p.mul_(3)
    x = torch.randn(B, T, D, dtype=torch.float64)
    with torch.no_grad(), layer.tracing() as trace:
        layer(x)
    return layer.cell(0), x, trace


def test_cell_jacobian_terms_add_up_to_autograd():
    cell, x, trace = _traced_lstm()
    terms = lt.cell_jacobian_terms(cell, trace)
    assert terms["forget"].shape == (3, 5, 4) and terms["via_i"].shape == (3, 5, 4, 4)
    J = lt.cell_jacobian(terms)
    for b in range(3):
        for t in range(1, 6):
            want = lt.cell_jacobian_autograd(cell, x[b, t], trace["c"][b, t - 1], trace["o"][b, t - 1])
            assert torch.allclose(J[b, t - 1], want, atol=1e-13, rtol=0), (b, t)
    # the forget gate alone is only the partial derivative: the paths through H_{t-1} are not zero here
    paths = J - torch.diag_embed(terms["forget"])
    assert paths.abs().max() > 1e-3


def test_cell_jacobian_terms_each_term_matters():
    """Dropping any one path (or the diagonal) breaks the agreement with autograd."""
    cell, x, trace = _traced_lstm(seed=1)
    terms = lt.cell_jacobian_terms(cell, trace)
    want = lt.cell_jacobian_autograd(cell, x[0, 3], trace["c"][0, 2], trace["o"][0, 2])
    for k in terms:
        partial = dict(terms, **{k: torch.zeros_like(terms[k])})
        assert not torch.allclose(lt.cell_jacobian(partial)[0, 2], want, atol=1e-6), f"term {k} must count"


def test_cell_jacobian_rejects_bad_input():
    cell, _, trace = _traced_lstm()
    with pytest.raises(TypeError, match="scratch.LSTMCell"):
        lt.cell_jacobian_terms(torch.nn.LSTMCell(2, 4), trace)
    with pytest.raises(ValueError, match=r"lacks \['c_tilde'\]"):
        lt.cell_jacobian_terms(cell, {k: v for k, v in trace.items() if k != "c_tilde"})


def test_jacobian_summary_of_a_pure_forget_path():
    """With the paths through H zeroed, J is diag(F): relative size 0, and J_uu = F_u."""
    cell, _, trace = _traced_lstm()
    terms = lt.cell_jacobian_terms(cell, trace)
    only_f = dict(terms, **{k: torch.zeros_like(terms[k]) for k in ("via_i", "via_f", "via_c")})
    s = lt.jacobian_summary(only_f, unit=2)
    assert s.rel_paths.abs().max() == 0 and torch.equal(s.unit_diag, s.unit_forget)
    assert set(s.row()) == {"median ‖paths‖/‖diag F‖", "90th percentile", "unit 2: median |J_uu − F_u|",
                            "unit 2: median F_u"}


# -- counting saturated gates, probing the counter, the forget-bias helpers ---------------------------

def test_saturated_counts_whole_values_and_the_boundary():
    g = torch.tensor([0.0, 0.049, 0.05, 0.5, 0.95, 0.951, 1.0], dtype=torch.float64)
    assert lt.saturated(g) == 4, "0.05 and 0.95 themselves are not within 0.05 of an end"
    assert isinstance(lt.saturated(g), int)


def test_probe_counter_on_an_untrained_counter():
    model = lt.counter_model(8, seed=0)
    probe = lt.probe_counter(model, n=20, T=12, seed=3)
    assert probe.positions == 240 and 0 <= probe.correct <= 240
    assert probe.trace["c"].shape == (20, 12, 8) and probe.trace["c"].dtype == torch.float64
    assert len(probe.up) + len(probe.down) == 20 * 11
    assert 0 <= probe.unit < 8 and probe.unit_forget.shape == (20, 12)
    fresh = lt.trace_gates(lt.counter_model(8, seed=0), probe.x)
    assert torch.allclose(fresh["c"], probe.trace["c"]), "counter_model(seed) is the counter's starting point"


def test_forget_bias_helpers():
    reach0, factor0 = lt.forget_bias_at_init(0.0, seed=0, T=20)
    reach1, factor1 = lt.forget_bias_at_init(1.0, seed=0, T=20)
    assert factor1 > factor0 and reach1 > reach0
    rows = lt.forget_bias_training([0], T=8, steps=10, hidden_size=8, eval_every=5)
    assert [(r["seed"], r["forget bias"]) for r in rows] == [(0, 0.0), (0, 1.0)]
    assert all(0 <= r["final accuracy"] <= 1 for r in rows)


def test_rnn_reach_at_init_decays():
    r = lt.rnn_reach_at_init(seed=0, T=20)
    assert r.shape == (20,) and r[0] < r[-1]


def test_long_lag_study_counts():
    study = lt.long_lag_study(T_long=12, steps=10, seed=0, hidden_size=8)
    assert set(study["final"]) == {("rnn", 10), ("rnn", 12), ("lstm", 12)}
    for key, hits in study["final"].items():
        assert isinstance(hits, int) and 0 <= hits <= study["long_total"][key]
    assert set(study["far"]) == {"rnn", "lstm"} and all(v > 0 for v in study["far"].values())


# -- exercises ----------------------------------------------------------------------------------------

def _solutions():
    path = Path(__file__).resolve().parents[1] / "chapters" / "solutions" / "ch02_lstm.py"
    spec = importlib.util.spec_from_file_location("ch02_lstm_solutions", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_exercises_accept_solutions_and_reject_wrong_answers():
    sol = _solutions()
    names = [n for n in check.names() if n.startswith("ch02_")]
    assert len(names) >= 3 and set(names) == set(sol.SOLUTIONS) == set(sol.WRONG)
    for name in names:
        strict_check.__getattr__(name)(sol.SOLUTIONS[name])
        for wrong in sol.WRONG[name]:
            assert check.__getattr__(name)(wrong).status == "wrong", f"{name} accepted {wrong!r}"
        assert check.__getattr__(name)(...).status == "not attempted"
