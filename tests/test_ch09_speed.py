"""Chapter 9 package code: the benchmark, the tuning sweep helpers, the overfitting runs, DropConnect,
the parallel scan, fused.Steps."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnn_book.analysis import bench, cuda_report, regularize, scan, tuning
from rnn_book import cudnn, scratch, twin
from rnn_book.data.text import small_corpus
from rnn_book.scratch.fused import Steps

ROOT = Path(__file__).resolve().parents[1]
TINY = bench.Size(2, 3, 4, 5)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and on a busy machine OpenMP threads wait on each other."""
    with bench.threads(1):
        yield


# -- bench -------------------------------------------------------------------------------------------------
def test_size_parse_and_errors():
    assert bench.Size.parse("32x100x64x256") == bench.HEADLINE
    assert str(bench.HEADLINE) == "B32 T100 I64 H256"
    for bad in ("32x100x64", "0x1x1x1", "axbxcxd"):
        with pytest.raises(ValueError, match="BATCHxTIMExINPUTxHIDDEN"):
            bench.Size.parse(bad)


def test_matmul_flops_counts_gates_inputs_and_backward():
    # LSTM: 4 gates, products with X_t (I) and H_{t-1} (H), 2 FLOPs per multiply-add, x3 for backward
    assert bench.matmul_flops("lstm", bench.HEADLINE) == 3 * 2 * 32 * 100 * 4 * 256 * (64 + 256)
    assert bench.matmul_flops("gru", TINY) == 3 * 2 * 2 * 3 * 3 * 5 * (4 + 5)
    assert bench.matmul_flops("rnn", TINY) == 3 * 2 * 2 * 3 * 1 * 5 * (4 + 5)


def test_measure_rows_have_every_column_and_ratio_one_for_the_library():
    rows = bench.measure([TINY], kinds=("lstm", "gru"), repeats=1, warmup=0, n_threads=1, dense_n=64)
    assert math.isnan(bench.measure([TINY], kinds=("rnn",), repeats=1, warmup=0, dense_n=0)[0]["dense_gflops"])
    assert len(rows) == 6
    for r in rows:
        for key in ("seconds", "ratio_to_cudnn", "tokens_per_s", "gflops", "dense_gflops", "dense_fraction"):
            assert math.isfinite(r[key]) and r[key] > 0, (key, r)
        assert math.isclose(r["tokens_per_s"], 2 * 3 / r["seconds"])
    assert all(r["ratio_to_cudnn"] == 1.0 for r in rows if r["form"] == "cudnn")
    assert "x cudnn" in bench.format_rows(rows)
    assert len(bench.table_rows(rows)) == 6


def test_measure_rejects_bad_arguments():
    with pytest.raises(ValueError, match="forms"):
        bench.measure([TINY], forms=("textbook", "magic"))
    with pytest.raises(ValueError, match="repeats"):
        bench.measure([TINY], repeats=0)
    with pytest.raises(ValueError, match="estimate"):
        bench.measure([TINY], estimate="mean")
    with pytest.raises(ValueError, match="clock"):
        bench.measure([TINY], clock="cuda", repeats=1, dense_n=0)
    with pytest.raises(ValueError, match="cannot time"):
        bench.measure([TINY], clock="cpu", dev="meta")
    rows = bench.measure([TINY], kinds=("rnn",), repeats=2, dense_n=0, clock="cpu", estimate="min")
    assert all(r["seconds"] > 0 for r in rows)
    with pytest.raises(ValueError, match="kind"):
        bench.layer_forms("lstmx", TINY, torch.device("cpu"))


def test_the_three_forms_compute_one_function_and_a_mismatch_is_caught():
    layers = bench.layer_forms("gru", TINY, torch.device("cpu"))
    x = torch.randn(2, 3, 4)
    assert bench.check_same_function(layers, x) < 1e-5
    with torch.no_grad():
        layers["fused"].cells[0].W_h.add_(0.5)
    with pytest.raises(RuntimeError, match="disagree"):
        bench.check_same_function(layers, x)


def test_operator_counts_grow_per_step_for_scratch_only():
    rows = {r["form"]: r for r in bench.ops_per_step("lstm", times=(3, 5), hidden_size=4)}
    assert rows["cudnn"]["per time step"] == 0
    assert 0 < rows["fused"]["per time step"] < rows["textbook"]["per time step"]
    with pytest.raises(ValueError, match="times"):
        bench.ops_per_step(times=(5, 3))


def test_slicing_cost_reports_both_ways():
    cost = bench.slicing_cost([4, 8], batch_size=2, features=3, repeats=1)
    assert set(cost) == {4, 8} and all(set(c) == {"select", "unbind"} for c in cost.values())
    m = bench.slicing_measures({T: {"select": 1e-6 * T ** 2, "unbind": 1e-3 * T} for T in (100, 400)})
    assert math.isclose(m["select: exponent of T"], 2.0) and math.isclose(m["unbind: exponent of T"], 1.0)
    assert math.isclose(m["select / unbind at longest T"], 0.4)


def test_main_writes_json(tmp_path, capsys):
    out = tmp_path / "b.json"
    bench.main(["--sizes", "2x3x4x5", "--kinds", "rnn", "--repeats", "1", "--threads", "1", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["machine"]["threads"] == 1 and "device" in data["machine"]
    assert {r["form"] for r in data["rows"]} == set(bench.FORMS)
    assert "device:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--kinds", "lstm,transformer"])
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "1x2"])


def test_bench_quick_smoke_from_the_command_line(tmp_path):
    out = tmp_path / "quick.json"
    proc = subprocess.run([sys.executable, "-m", "rnn_book", "bench", "--quick", "--kinds", "rnn", "--repeats", "1",
                           "--threads", "1", "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "GFLOP/s" in proc.stdout and "device:" in proc.stdout
    data = json.loads(out.read_text())
    assert data["machine"]["mode"] == "quick" and len(data["sizes"]) == 1


# -- fused.Steps -------------------------------------------------------------------------------------------
def test_steps_hands_out_contiguous_steps_with_the_same_gradient_as_slicing():
    cell = scratch.FusedLSTMCell(3, 4).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    xp = cell.project(x)
    assert isinstance(xp, Steps) and xp.shape == (2, 5, 16)
    assert all(xp[:, t].is_contiguous() for t in range(5))
    ref = torch.addmm(cell.b, x.reshape(-1, 3), cell.W_x).view(2, 5, 16)
    w = torch.randn(5, 2, 16, dtype=torch.float64)
    g1 = torch.autograd.grad(sum((xp[:, t] * w[t]).sum() for t in range(5)), cell.W_x)[0]
    g2 = torch.autograd.grad(sum((ref[:, t] * w[t]).sum() for t in range(5)), cell.W_x)[0]
    assert torch.allclose(g1, g2, atol=1e-12)
    with pytest.raises(TypeError, match=r"xp\[:, t\]"):
        xp[0]


# -- tuning ------------------------------------------------------------------------------------------------
def _trials():
    T = tuning.Trial
    return [T("rnn", 1e-3, 8, 3.0, 0.1), T("rnn", 1e-1, 8, float("nan"), 0.1),
            T("rnn", 1e-3, 16, 2.5, 0.1), T("rnn", 1e-1, 16, 9.0, 0.1),
            T("lstm", 1e-3, 8, 2.0, 0.1), T("lstm", 1e-1, 8, 2.2, 0.1)]


def test_matrix_share_spread_best_subset_summary():
    trials = _trials()
    m = tuning.matrix(trials, "rnn", [1e-3, 1e-1], [8, 16])
    assert m.shape == (2, 2) and m[0, 0] == 3.0 and math.isnan(m[0, 1]) and m[1, 1] == 9.0
    assert tuning.count_that_trains(trials, threshold=2.8) == {"rnn": 1, "lstm": 2}
    assert tuning.trials_per_kind(trials) == {"rnn": 4, "lstm": 2}
    # lr axis, capped at 4: hidden 8 -> |3 - 4| = 1, hidden 16 -> |2.5 - 4| = 1.5; mean 1.25
    assert math.isclose(tuning.spread(trials, "rnn", "lr", ceiling=4.0), 1.25)
    assert math.isclose(tuning.spread(trials, "rnn", "hidden", ceiling=4.0), 0.25)
    assert tuning.best(trials).valid_loss == 2.0
    assert len(tuning.subset(trials, "rnn", [1e-3], [8, 16])) == 2
    rows = tuning.summary(trials, threshold=2.8, ceiling=4.0)
    assert [r["model"] for r in rows] == ["RNN", "LSTM"] and rows[0]["settings that train"] == "1 of 4"
    assert math.isnan(rows[1]["spread over hidden"])          # the LSTM was tried at one hidden size only
    with pytest.raises(ValueError, match="axis"):
        tuning.spread(trials, "rnn", "depth", 4.0)
    with pytest.raises(ValueError, match="diverged"):
        tuning.best([tuning.Trial("rnn", 1.0, 8, float("nan"), 0.0)])


def test_log_uniform_covers_every_decade_equally():
    v = tuning.log_uniform(np.random.default_rng(0), 1e-4, 1.0, 8000)
    assert v.min() >= 1e-4 and v.max() <= 1.0
    decades = np.histogram(np.log10(v), bins=4, range=(-4, 0))[0] / len(v)
    assert np.all(np.abs(decades - 0.25) < 0.03)
    with pytest.raises(ValueError, match="low"):
        tuning.log_uniform(np.random.default_rng(0), 1.0, 0.1, 3)


@pytest.fixture(scope="module")
def tiny_text():
    return small_corpus(train_chars=600, valid_chars=300)


def test_train_once_and_random_search_on_a_tiny_text(tiny_text):
    t = tuning.train_once(tiny_text, "gru", 1e-2, 8, steps=3, batch_size=4, seq_len=8)
    assert t.kind == "gru" and t.hidden_size == 8 and t.finite and t.valid_loss < 2 * math.log(len(tiny_text.vocab))
    trials = tuning.random_search(tiny_text, "rnn", 2, (1e-3, 1e-1), [4, 8], seed=1, steps=2, batch_size=4, seq_len=8)
    assert len(trials) == 2 and all(1e-3 <= t.lr <= 1e-1 and t.hidden_size in (4, 8) for t in trials)
    with pytest.raises(ValueError, match="kind"):
        tuning.train_once(tiny_text, "transformer", 1e-2, 8)
    with pytest.raises(ValueError, match="lr"):
        tuning.train_once(tiny_text, "rnn", -1.0, 8)
    with pytest.raises(ValueError, match="budget"):
        tuning.random_search(tiny_text, "rnn", 0, (1e-3, 1e-1), [4])


# -- regularize --------------------------------------------------------------------------------------------
def test_small_corpus_and_unigram(tiny_text):
    assert len(tiny_text.train) == 600 and len(tiny_text.valid) == 300
    u = regularize.unigram_loss(tiny_text)
    assert 1.0 < u < math.log(len(tiny_text.vocab)) + 0.5
    with pytest.raises(ValueError, match="train_chars"):
        small_corpus(train_chars=10, valid_chars=300)
    with pytest.raises(ValueError, match="exceeds"):
        small_corpus(train_chars=10**9, valid_chars=300)


def test_train_regime_records_both_losses_and_the_kept_epoch(tiny_text):
    kw = dict(hidden_size=8, num_layers=2, embed_size=4, epochs=3, batch_size=4, seq_len=8)
    r = regularize.train_regime(tiny_text, "variational", {"recurrent_dropout": 0.5, "dropout": 0.2}, **kw)
    assert len(r.history.valid) == 3 and r.kept_epoch == 2
    assert math.isclose(r.gap, r.valid_loss - r.train_loss)
    assert r.history.valid[0].keys() == {"train_loss", "valid_loss"}
    es = regularize.train_regime(tiny_text, "early", {"patience": 1}, **kw)
    assert es.kept_epoch == es.history.best_epoch
    assert es.valid_loss == min(es.history.metric("valid_loss"))
    with pytest.raises(ValueError, match="unknown regime"):
        regularize.train_regime(tiny_text, "x", {"dropuot": 0.5}, **kw)
    assert set(regularize.regimes()) == {"none", "dropout", "variational", "weight decay", "early stopping"}
    rows = regularize.summary({"variational": r})
    assert rows[0]["regime"] == "variational" and rows[0]["gap"] == r.gap


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
def test_hoisted_weight_gradient_equals_the_per_step_one(kind, monkeypatch):
    from rnn_book.scratch import fused
    torch.manual_seed(0)
    layer = getattr(scratch, kind)(4, 6, num_layers=2, bidirectional=True, fused=True, recurrent_dropout=0.3).double()
    x = torch.randn(3, 9, 4, dtype=torch.float64)
    lengths = torch.tensor([9, 2, 5])

    def grads(hoist: bool):
        monkeypatch.setattr(getattr(fused, f"Fused{kind}Cell"), "hoist_weight_grad", hoist)
        torch.manual_seed(1)                              # the same recurrent-dropout masks both times
        layer.zero_grad()
        layer(x, lengths=lengths)[0].pow(2).sum().backward()
        return {n: p.grad.clone() for n, p in layer.named_parameters()}
    hoisted, per_step = grads(True), grads(False)
    assert all(torch.allclose(hoisted[n], per_step[n], atol=1e-12, rtol=0) for n in hoisted)


def test_a_step_used_twice_is_refused_by_the_hoisted_gradient():
    cell = scratch.FusedLSTMCell(3, 4)
    xp = cell.project(torch.randn(2, 2, 3))
    s = cell.init_state(2, torch.zeros(1))
    s = cell(xp[:, 0], cell(xp[:, 0], s))
    with pytest.raises(RuntimeError, match="used twice"):
        s[0].sum().backward()


def test_tuning_measures_count_settings_and_compare_the_searches():
    T = tuning.Trial
    trials = [T(k, lr, h, loss, 0.0) for k, base in (("rnn", 2.0), ("lstm", 1.8), ("gru", 1.9))
              for h in (8, 16) for lr, loss in ((1e-3, base), (1e-1, float("nan")))]
    m = tuning.measures(trials, threshold=2.5, ceiling=4.0, grid_arm=trials[:2], random_arm=trials[2:4])
    assert m["settings that train rnn"] == 2 and m["settings that fail rnn"] == 2
    assert m["settings that train, gated - rnn"] == 0
    assert math.isclose(m["spread over lr lstm"], 4.0 - 1.8) and m["spread over hidden lstm"] == 0.0
    assert m["lr / hidden spread lstm"] == math.inf, "a hidden size that changes nothing: the learning rate decides all"
    assert math.isclose(m["grid best below threshold"], 0.5)
    cfg = tuning.QUICK
    assert cfg.arm_lrs == (cfg.lrs[0], cfg.lrs[2], cfg.lrs[-1])


# -- regularize: the equal-parameter comparison and DropConnect -----------------------------------------
def test_equal_parameters_matches_the_reference_within_a_few_percent(tiny_text):
    from rnn_book.train import count_parameters
    sizes = regularize.equal_parameters(tiny_text, ("lstm", 16), num_layers=2, embed_size=4)
    assert sizes["lstm"] == 16 and sizes["rnn"] > sizes["gru"] > 16
    counts = {k: count_parameters(regularize.build_model(tiny_text, kind=k, hidden_size=h, embed_size=4))
              for k, h in sizes.items()}
    assert all(abs(c - counts["lstm"]) < 0.05 * counts["lstm"] for c in counts.values()), counts
    results = regularize.compare_kinds(tiny_text, {"rnn": 8, "gru": 6}, num_layers=1, embed_size=4, epochs=1,
                                       batch_size=8, seq_len=16)
    assert results["gru"].config["kind"] == "gru" and results["rnn"].config["hidden_size"] == 8
    m = regularize.kind_measures(results | {"lstm": results["gru"]})
    assert m["best rnn - best gated"] == m["best rnn"] - m["best gru"]
    assert regularize.best_epoch(results["rnn"]) == 1
    with pytest.raises(ValueError, match="kinds must be"):
        regularize.compare_kinds(tiny_text, {"transformer": 8})


def test_regime_measures_relate_every_remedy_to_the_unregularised_run(tiny_text):
    kw = dict(hidden_size=4, num_layers=2, embed_size=4, epochs=1, batch_size=8, seq_len=16)
    results = regularize.run_all(tiny_text, **kw)
    m = regularize.regime_measures(results)
    base = results["none"]
    assert math.isclose(m["gap ratio dropout"], results["dropout"].gap / base.gap)
    assert math.isclose(m["valid gain weight decay"], base.valid_loss - results["weight decay"].valid_loss)
    assert m["early epochs run"] == len(results["early stopping"].history.valid)


def test_weight_drop_masks_w_hh_once_per_call_and_runs_the_library():
    torch.manual_seed(0)
    lib = cudnn.LSTM(4, 6, num_layers=2)
    dropped = regularize.WeightDrop(lib, 0.5, generator=torch.Generator().manual_seed(1)).train()
    x = torch.randn(2, 7, 4)
    out = dropped(x)[0]
    same = twin(lib, fused=True)
    for layer in range(2):
        w_ih, w_hh, b_ih, b_hh = lib.torch_layout(layer)
        masked = dropped.last_weights[f"weight_hh_l{layer}"]
        assert ((masked == 0) | torch.isclose(masked, 2 * w_hh)).all(), "kept entries are scaled by 1/(1-p)"
        same.load_torch_layout(layer, 0, w_ih, masked, b_ih, b_hh)
    assert torch.allclose(out, same(x)[0], atol=1e-5)
    assert not torch.allclose(dropped(x)[0], out), "a second call draws another mask"
    out.sum().backward()
    assert lib.rnn.weight_hh_l0.grad is not None and lib.rnn.weight_hh_l0.grad.abs().sum() > 0
    dropped.eval()
    assert torch.equal(dropped(x)[0], lib(x)[0]), "in eval mode the layer runs unmasked"
    with pytest.raises(TypeError, match="rnn_book.cudnn"):
        regularize.WeightDrop(scratch.LSTM(4, 6), 0.5)
    with pytest.raises(ValueError, match="p must lie"):
        regularize.WeightDrop(lib, 1.0)
    with pytest.raises(ValueError, match="p must lie"):
        regularize.drop_connect(torch.ones(3), -0.1)


def test_weight_drop_dispatches_no_operators_per_time_step():
    if not torch.backends.mkldnn.is_available():
        pytest.fail("this CPU build has no oneDNN: the library LSTM would step through time")
    torch.manual_seed(0)
    dropped = regularize.WeightDrop(cudnn.LSTM(4, 6), 0.5).train()
    counts = [bench.count_ops(bench.train_step(dropped, torch.randn(2, T, 4, requires_grad=True))) for T in (5, 9)]
    assert sum(counts[0].values()) == sum(counts[1].values()) and "mkldnn_rnn_layer" in counts[1]


# -- the parallel scan -------------------------------------------------------------------------------------
@pytest.mark.parametrize("T", [1, 2, 5, 8, 33])
def test_parallel_scan_equals_the_loop_in_log2_rounds(T):
    g = torch.Generator().manual_seed(T)
    a, b = torch.rand(3, T, 4, generator=g, dtype=torch.float64), torch.randn(3, T, 4, generator=g, dtype=torch.float64)
    h0 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    (h1, steps), (h2, rounds) = scan.sequential(a, b, h0), scan.parallel(a, b, h0)
    assert torch.allclose(h1, h2, atol=1e-12, rtol=0) and steps == T and rounds == math.ceil(math.log2(T))
    assert torch.allclose(h1[:, 0], a[:, 0] * h0 + b[:, 0])


def test_scan_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        scan.parallel(torch.ones(2, 3, 4), torch.ones(2, 4, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match="h0 must have shape"):
        scan.sequential(torch.ones(2, 3, 4), torch.ones(2, 3, 4), torch.ones(4))


# -- timing rounds, speed measures, the GPU report -----------------------------------------------------------
def test_measure_keeps_a_ratio_per_round():
    rows = bench.measure([TINY], kinds=("rnn",), repeats=3, warmup=0, dense_n=0, clock="cpu")
    for r in rows:
        assert len(r["ratio_rounds"]) == 3 and all(q > 0 for q in r["ratio_rounds"])
        assert min(r["ratio_rounds"]) <= r["ratio_to_cudnn"] <= max(r["ratio_rounds"])
    assert all(q == 1.0 for r in rows if r["form"] == "cudnn" for q in r["ratio_rounds"])


def test_speed_measures_from_rows():
    def row(form, key, value, seconds, ratio=2.0):
        base = dict(kind="lstm", form=form, batch=32, time=50, seconds=seconds, ratio_to_cudnn=ratio,
                    ratio_rounds=[ratio - 0.5, ratio, ratio + 0.5])
        return base | {key: value}
    by_T = [row(f, "time", T, T * k) for f, k in (("textbook", 3), ("fused", 2), ("cudnn", 1)) for T in (10, 40)]
    by_B = [row(f, "batch", B, s) for f, pts in (("textbook", {4: 1.0, 64: 2.0}), ("fused", {4: 1.0, 64: 4.0}),
                                                 ("cudnn", {4: 1.0, 64: 8.0})) for B, s in pts.items()]
    m = bench.speed_measures(by_T, by_B, [row("fused", "time", 100, 1.0, 1.3), row("cudnn", "time", 100, 1.0, 1.0)])
    assert m["growth with T, fused"] == 1.0 and m["growth with B, textbook"] == 2.0 / 16
    assert m["growth with B, fused / library"] == 0.5
    assert m["headline lstm, fused / library"] == 1.3 and m["headline lstm, fused / library, slowest round"] == 1.8
    assert not bench.SPEED_CHECKS[0].passes(0.1) and bench.SPEED_CHECKS[0].passes(1.0)


def test_gpu_measurements_refuse_a_cpu():
    with pytest.raises(ValueError, match="CUDA"):
        bench.kernels_per_step("lstm", dev="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            cuda_report.report(repeats=1)
