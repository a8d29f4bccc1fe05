"""Unit tests for chapter 3 (GRU): operation counts, the comparison helper, the figure and the widget."""
from __future__ import annotations

import math

import matplotlib
import pytest
import torch

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402

import rnn_book  # noqa: E402
from rnn_book.analysis import compare, flops, gru_forms  # noqa: E402
from rnn_book import cudnn, scratch
from rnn_book.data import tasks  # noqa: E402
from rnn_book.viz.gru_figure import SYMBOLS, gru_cell_figure  # noqa: E402
from rnn_book.widgets.update_gate import (H_PREV, H_TILDE, half_life, interpolate,  # noqa: E402
                                          update_gate_explorer)

LAYERS = {"rnn": scratch.RNN, "lstm": scratch.LSTM, "gru": scratch.GRU}


# -- flops -----------------------------------------------------------------------------------------
def _variants():
    for kind in LAYERS:
        for reset_after in ((False, True) if kind == "gru" else (False,)):
            for fused in (False, True):
                yield kind, reset_after, fused


def test_matmul_count_matches_torch_flop_counter():
    for kind, reset_after, fused in _variants():
        kw = {"reset_after": reset_after} if kind == "gru" else {}
        cell = LAYERS[kind](7, 5, fused=fused, **kw).cell(0)
        want = flops.step_ops(kind, 7, 5, reset_after=reset_after)["matmul"]
        assert flops.measured_matmul_flops(cell, batch_size=3) == want, (kind, reset_after, fused)


def test_step_ops_known_values_and_ratio():
    assert flops.step_ops("rnn", 2, 3) == {"matmul": 2 * (6 + 9), "elementwise": 6, "sigmoid": 0, "tanh": 3,
                                           "total": 30 + 6 + 3}
    gru, lstm = flops.step_ops("gru", 64, 64), flops.step_ops("lstm", 64, 64)
    assert gru["matmul"] * 4 == lstm["matmul"] * 3
    assert gru["total"] < lstm["total"]
    assert flops.step_ops("gru", 4, 4, reset_after=True)["elementwise"] == gru_elementwise(4) + 4


def gru_elementwise(H):
    return flops.step_ops("gru", 4, H)["elementwise"]


def test_parameter_count_matches_modules():
    for kind in LAYERS:
        for I, H in [(1, 1), (3, 8), (10, 32)]:
            assert flops.parameter_count(kind, I, H) == sum(p.numel() for p in LAYERS[kind](I, H).parameters())
            lib = getattr(cudnn, kind.upper())(I, H)
            assert flops.parameter_count(kind, I, H, engine="cudnn") == sum(p.numel() for p in lib.parameters())
    assert flops.parameter_count("gru", 3, 8, reset_after=True) == \
        sum(p.numel() for p in scratch.GRU(3, 8, reset_after=True).parameters())


def test_products_per_step():
    want = {("rnn", False, False): 2, ("rnn", False, True): 1, ("lstm", False, False): 8, ("lstm", False, True): 1,
            ("gru", False, False): 6, ("gru", False, True): 2, ("gru", True, False): 6, ("gru", True, True): 1}
    for kind, reset_after, fused in _variants():
        kw = {"reset_after": reset_after} if kind == "gru" else {}
        assert flops.products_per_step(LAYERS[kind](4, 3, fused=fused, **kw).cell(0)) == \
            want[kind, reset_after, fused]


def test_flops_bad_input():
    with pytest.raises(ValueError, match="kind must be one of"):
        flops.step_ops("transformer", 3, 3)
    with pytest.raises(ValueError, match="hidden_size must be a positive int; got 0"):
        flops.step_ops("gru", 3, 0)
    with pytest.raises(ValueError, match="engine must be 'scratch' or 'cudnn'"):
        flops.parameter_count("gru", 3, 3, engine="tpu")


# -- compare ---------------------------------------------------------------------------------------
def _tiny_task():
    x, y = tasks.delayed_recall(96, 6, lag=1, n_symbols=4, seed=0)
    xv, yv = tasks.delayed_recall(64, 6, lag=1, n_symbols=4, seed=1)
    return compare.classification_task((x, y), (xv, yv), n_classes=4, batch_size=32, vocab_size=4, embed_size=4)


def test_run_table_and_shared_models():
    task = _tiny_task()
    configs = {"same": {"rnn": 8, "gru": 8}, "other": {"gru": 8, "lstm": 6}}
    rows = compare.run(task, configs, epochs=2, lr=1e-2)
    assert [(r.config, r.kind) for r in rows] == [("same", "rnn"), ("same", "gru"), ("other", "gru"),
                                                  ("other", "lstm")]
    # the (gru, 8) model occurs twice and is trained once
    assert compare.lookup(rows, "same", "gru").history is compare.lookup(rows, "other", "gru").history
    for r in rows:
        assert len(r.curve) == 2 and 0 <= r.final <= 1 and r.seconds_per_epoch > 0
        assert r.params == sum(p.numel() for p in task.build_model(r.kind, r.hidden_size).parameters())
    table = compare.table(rows)
    assert table[0]["model"] == "RNN" and "valid error" in table[0] and "s / epoch" in table[0]
    fig = compare.plot(rows)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_same_seed_same_result():
    task = _tiny_task()
    a = compare.run(task, {"c": {"gru": 6}}, epochs=1, lr=1e-2, seed=3)[0].final
    b = compare.run(task, {"c": {"gru": 6}}, epochs=1, lr=1e-2, seed=3)[0].final
    assert a == b


def test_match_parameters():
    task = _tiny_task()
    sizes = compare.match_parameters(task, reference=("gru", 32))
    target = sum(p.numel() for p in task.build_model("gru", 32).parameters())
    assert sizes["gru"] == 32 and sizes["rnn"] > 32 > sizes["lstm"]
    for kind, h in sizes.items():
        n = sum(p.numel() for p in task.build_model(kind, h).parameters())
        step = sum(p.numel() for p in task.build_model(kind, h + 1).parameters()) - n
        assert abs(n - target) <= step, (kind, h, n, target)


def test_compare_bad_input():
    task = _tiny_task()
    with pytest.raises(ValueError, match="kind must be one of"):
        compare.run(task, {"c": {"transformer": 8}}, epochs=1)
    with pytest.raises(ValueError, match="hidden size must be a positive int"):
        compare.run(task, {"c": {"gru": 0}}, epochs=1)
    with pytest.raises(TypeError, match="configs must be a non-empty dict"):
        compare.run(task, {}, epochs=1)
    with pytest.raises(TypeError, match="task must be a compare.Task"):
        compare.run("moby", {"c": {"gru": 8}}, epochs=1)
    with pytest.raises(KeyError, match="no row for"):
        compare.lookup([], "c", "gru")
    with pytest.raises(TypeError, match="rnn_book.tasks.lm.CharData"):
        compare.char_lm_task("some text")


def test_char_lm_task_learns_a_little():
    from rnn_book.tasks import lm

    data = lm.prepare("moby_dick", max_chars=12_000)
    task = compare.char_lm_task(data, batch_size=8, seq_len=16, valid_chars=1000, embed_size=8)
    assert task.baseline == pytest.approx(math.log2(len(data.vocab)))
    rows = compare.run(task, {"c": {"gru": 16}}, epochs=1, lr=1e-2, max_steps=30)
    assert rows[0].final < task.baseline, "30 steps must already beat knowing nothing"


# -- figure and widget -----------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [False, True])
def test_figure_shows_every_symbol(reset_after):
    d = gru_cell_figure(reset_after=reset_after)
    text = " ".join(d.labels())
    for symbol in SYMBOLS:
        assert symbol in text, f"the GRU figure must show {symbol}"
    assert ("W_{hh}" in text) == reset_after      # only the cuDNN form draws the product before the reset
    plt.close(d.fig)
    with pytest.raises(TypeError, match="reset_after must be True or False"):
        gru_cell_figure(reset_after="yes")


def test_update_gate_widget_callback():
    w = update_gate_explorer(z=0.5)
    before = w.data
    w.set(z=0.9)
    assert w.data != before and w.data["z"] == 0.9
    assert w.data["half_life"] == pytest.approx(math.log(0.5) / math.log(0.9))
    assert w.set(z=1.0)["h_t"] == H_PREV.tolist() and math.isinf(w.data["half_life"])
    assert w.set(z=0.0)["h_t"] == H_TILDE.tolist()
    w.set(z=0.25, makemore=True)
    mirrored = w.data["h_t"]
    assert w.set(z=0.75, makemore=False)["h_t"] == pytest.approx(mirrored)
    run = w.data["run_unit0"]
    assert len(run) == 31 and abs(run[-1] - H_TILDE[0]) < abs(run[0] - H_TILDE[0])
    assert w.calls == 8          # one render at the start, then one per control moved
    plt.close("all")


def test_update_gate_helpers_bad_input():
    assert interpolate(0.5, [0.0, 2.0], [2.0, 0.0]).tolist() == [1.0, 1.0]
    assert half_life(0.5) == pytest.approx(1.0) and half_life(0.0) == 0.0
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        interpolate(1.5, H_PREV, H_TILDE)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        half_life(-0.1)


def test_forms_distance_and_library_parity():
    """The facts the chapter states: same weights, b_hh = 0 -> the forms differ; reset_after matches nn.GRU."""
    from rnn_book import copy_weights

    torch.manual_seed(0)
    book = scratch.GRU(3, 6, reset_after=False).double()
    after = scratch.GRU(3, 6, reset_after=True).double()
    missing, unexpected = after.load_state_dict(book.state_dict(), strict=False)
    assert missing == ["cells.0.b_hh"] and unexpected == []
    with torch.no_grad():
        after.cell(0).b_hh.zero_()
        x = torch.randn(2, 9, 3, dtype=torch.float64)
        a, b = book(x)[0], after(x)[0]
        lib = copy_weights(after, cudnn.GRU(3, 6).double())(x)[0]
    assert (a[:, 0] - b[:, 0]).abs().max() < 1e-15 and (a - b).abs().max() > 1e-3
    assert (lib - b).abs().max() < 1e-12


# -- the textbook GRU against an independent reference ----------------------------------------------
def _numpy_gru(x, p, mirrored=False):
    """The textbook GRU in NumPy from the equations alone; ``mirrored``: (1−Z)⊙H_{t−1} + Z⊙H̃_t instead."""
    import numpy as np

    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    h, out = np.zeros((x.shape[0], p["W_hh"].shape[0])), []
    for t in range(x.shape[1]):
        r = sigmoid(x[:, t] @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        z = sigmoid(x[:, t] @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
        h_tilde = np.tanh(x[:, t] @ p["W_xh"] + (r * h) @ p["W_hh"] + p["b_h"])
        h = (1 - z) * h + z * h_tilde if mirrored else z * h + (1 - z) * h_tilde
        out.append(h)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("fused", [False, True])
def test_textbook_gru_equals_an_independent_numpy_reference(fused):
    torch.manual_seed(5)
    gru = scratch.GRU(3, 6, fused=fused).double()
    x = 2 * torch.randn(4, 15, 3, dtype=torch.float64)
    with torch.no_grad():
        out = gru(x)[0].numpy()
    cell = gru.cell(0)
    if fused:                                                  # [r | z | h] blocks side by side
        blocks = {"W_x": cell.W_x, "W_h": cell.W_h, "b_": cell.b}
        p = {f"{k}{g}": v.detach()[..., n * 6:(n + 1) * 6].numpy() for k, v in blocks.items()
             for n, g in enumerate("rzh")}
    else:
        p = {name: v.detach().numpy() for name, v in cell.named_parameters()}
    assert abs(out - _numpy_gru(x.numpy(), p)).max() < 1e-12, "H_t = Z⊙H_{t−1} + (1−Z)⊙H̃_t, step by step"
    assert abs(out - _numpy_gru(x.numpy(), p, mirrored=True)).max() > 1e-2, "the mirrored update is another function"


# -- the two forms trained, and the helpers the chapter calls -----------------------------------------
@pytest.fixture(scope="module")
def small_corpus():
    from rnn_book.tasks import lm

    return lm.prepare("moby_dick", max_chars=6000)


def test_forms_task_starts_both_forms_from_the_same_weights(small_corpus):
    task = gru_forms.forms_task(small_corpus, batch_size=4, seq_len=8)
    assert task.kinds == gru_forms.FORMS
    torch.manual_seed(0)
    book = task.build_model("textbook", 8)
    torch.manual_seed(0)
    after = task.build_model("cuDNN form", 8)
    assert after.rnn.reset_after and not book.rnn.reset_after
    assert torch.equal(after.rnn.cell(0).b_hh, torch.zeros(8))
    book_weights, after_weights = book.state_dict(), after.state_dict()
    assert set(after_weights) - set(book_weights) == {"rnn.cells.0.b_hh"}
    assert all(torch.equal(v, after_weights[k]) for k, v in book_weights.items()), "the same starting weights"
    with pytest.raises(ValueError, match="differ in size"):
        gru_forms.carry_over(book, task.build_model("cuDNN form", 9))
    with pytest.raises(ValueError, match="expected a textbook-form model"):
        gru_forms.carry_over(book, task.build_model("textbook", 8))


def test_train_forms_reports_both_and_the_swap(small_corpus):
    r = gru_forms.train_forms(small_corpus, hidden=8, epochs=1, lr=1e-2, batch_size=4, seq_len=8)
    assert [row.kind for row in r.rows] == list(gru_forms.FORMS)
    assert r.gap == abs(r.rows[0].final - r.rows[1].final) and r.swapped > 0
    assert r.baseline == pytest.approx(math.log2(len(small_corpus.vocab)))


def test_equal_size_and_parameters(small_corpus):
    task = compare.char_lm_task(small_corpus, batch_size=4, seq_len=8)
    configs = compare.equal_size_and_parameters(task, 16)
    assert configs["equal hidden size"] == {"rnn": 16, "lstm": 16, "gru": 16}
    assert configs["equal parameters"] == compare.match_parameters(task, reference=("gru", 16))


def test_train_step_seconds_times_every_form():
    from rnn_book.analysis import bench

    secs = compare.train_step_seconds(bench.Size(2, 3, 4, 5), repeats=1, dev="cpu")
    assert set(secs) == {(f, k) for f in bench.FORMS for k in ("lstm", "gru")}
    assert all(v > 0 for v in secs.values())
    assert torch.get_num_threads() >= 1
