"""Chapter 1 (6.2.1 RNN): the figures, the hidden-state widget, hand-written BPTT and its truncation."""
from __future__ import annotations

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import rnn_book  # noqa: E402
from rnn_book.analysis import bptt  # noqa: E402
from rnn_book.data.text import StatefulBatches  # noqa: E402
from rnn_book.data.vocab import CharVocab  # noqa: E402
from rnn_book.models import SequenceModel  # noqa: E402
from rnn_book.viz import rnn_figures  # noqa: E402
from rnn_book.widgets.hidden_state import hidden_state_explorer, hidden_states  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- figures 6-2 and 6-3

def test_recurrent_unit_figure_shows_every_symbol_and_the_delay():
    d = rnn_figures.recurrent_unit()
    labels = d.labels()
    missing = [s for s in rnn_figures.UNIT_SYMBOLS if s not in labels]
    assert not missing, f"图 6-2 lacks {missing}; it shows {labels}"
    squares = [p for p in d.ax.patches if isinstance(p, Rectangle) and p.get_facecolor()[:3] == (0, 0, 0)]
    assert len(squares) == 1, "图 6-2 has exactly one black delay square on the recurrent edge"


@pytest.mark.parametrize("T", [1, 3, 6])
def test_unrolled_figure_has_one_copy_per_step_with_shared_weights(T):
    d = rnn_figures.unrolled(T)
    labels = d.labels()
    missing = [s for s in rnn_figures.unrolled_symbols(T) if s not in labels]
    assert not missing, f"图 6-3 for T={T} lacks {missing}"
    for w in ("$W_{xh}$", "$W_{hh}$", "$W_{ho}$"):
        assert labels.count(w) == T, f"{w} should be written on each of the {T} copies (shared weights)"
    assert f"${'x'}_{{{T + 1}}}$" not in labels


@pytest.mark.parametrize("bad", [0, 7, 2.0, "3", True])
def test_unrolled_figure_rejects_bad_T(bad):
    with pytest.raises(ValueError, match="T must be an int from 1 to 6"):
        rnn_figures.unrolled(bad)


# ---------------------------------------------------------------- the unit and its hand-written BPTT

def _problem(B=3, T=9, D=4, H=6, Q=5, seed=0):
    torch.manual_seed(seed)
    unit = bptt.RNNUnit(D, H, Q).double()
    x = torch.randn(B, T, D, dtype=torch.float64)
    y = torch.randint(0, Q, (B, T))
    return unit, x, y


def test_unit_is_torch_rnncell_plus_linear():
    unit, _, _ = _problem()
    cell, lin = unit.torch_modules()
    assert isinstance(cell, torch.nn.RNNCell) and cell.weight_hh.dtype == torch.float64
    x, h = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 6, dtype=torch.float64)
    o, h_t = unit(x, h)
    assert torch.allclose(h_t, cell(x, h), atol=1e-12)
    assert torch.allclose(o, lin(cell(x, h)), atol=1e-12)
    assert sum(p.numel() for p in unit.parameters()) == 4 * 6 + 6 * 6 + 6 + 6 * 5 + 5


@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 2), (3, 9, 4, 6, 5), (2, 20, 3, 8, 3)])
def test_hand_bptt_equals_autograd(shape):
    B, T, D, H, Q = shape
    unit, x, y = _problem(B, T, D, H, Q, seed=T)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    loss, cache = bptt.forward(unit, x, y, h0.detach())
    grads, dh0 = bptt.backward(unit, cache)
    auto = bptt.loss_with_detach(unit, x, y, h0=h0)
    auto.backward()
    assert abs(loss.item() - auto.item()) < 1e-12
    assert bptt.max_gap(grads, unit.grads()) < 1e-12
    assert torch.allclose(dh0, h0.grad, atol=1e-12), "∂L/∂h_0 is returned too"


@pytest.mark.parametrize("window", [1, 2, 4, 9])
def test_truncated_backward_equals_autograd_with_detach(window):
    unit, x, y = _problem()
    _, cache = bptt.forward(unit, x, y)
    full, _ = bptt.backward(unit, cache)
    truncated, _ = bptt.backward(unit, cache, window=window)
    bptt.loss_with_detach(unit, x, y, window=window).backward()
    assert bptt.max_gap(truncated, unit.grads()) < 1e-12
    if window >= x.shape[1]:
        assert bptt.max_gap(truncated, full) < 1e-15
    else:
        assert bptt.max_gap(truncated, full) > 1e-8, "a shorter window must lose part of the gradient"
        # the output layer's gradient does not go through time, so truncation leaves it alone
        assert torch.allclose(truncated["W_ho"], full["W_ho"], atol=1e-15)


def test_bptt_rejects_bad_input():
    unit, x, y = _problem()
    with pytest.raises(ValueError, match=r"expected x of shape \(batch, time, 4\)"):
        bptt.forward(unit, x[..., :3], y)
    with pytest.raises(ValueError, match="integer targets"):
        bptt.forward(unit, x, y.double())
    with pytest.raises(ValueError, match="targets must lie in 0..4"):
        bptt.forward(unit, x, y + 5)
    with pytest.raises(TypeError, match="RNNUnit"):
        bptt.forward(torch.nn.RNN(4, 6), x, y)
    _, cache = bptt.forward(unit, x, y)
    with pytest.raises(ValueError, match="window must be a positive int"):
        bptt.backward(unit, cache, window=0)
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        bptt.RNNUnit(3, 0, 2)


def test_gradient_helpers():
    a = {"w": torch.tensor([3.0, 4.0])}
    assert bptt.cosine(a, {"w": torch.tensor([6.0, 8.0])}) == pytest.approx(1.0)
    assert bptt.max_gap(a, {"w": torch.tensor([3.0, 1.0])}) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="different parameters"):
        bptt.max_gap(a, {"v": torch.zeros(2)})


def test_copy_blocks_repeat_and_positions():
    ids = bptt.copy_blocks(4, lag=3, n_symbols=5, seed=1)
    blocks = ids.view(4, 6)
    assert torch.equal(blocks[:, :3], blocks[:, 3:]), "every second half repeats the first"
    mask = bptt.copy_positions(len(ids), lag=3)
    assert mask.shape == (len(ids) - 1,)
    # the next id is a copy exactly when it sits in a second half
    assert mask.tolist()[:6] == [False, False, True, True, True, False]
    nxt = torch.arange(1, len(ids))[mask]
    assert torch.equal(ids[nxt], ids[nxt - 3]), "where the mask is set, the next id repeats the one lag steps back"
    with pytest.raises(ValueError, match="lag and n_blocks"):
        bptt.copy_blocks(3, lag=0)


# ---------------------------------------------------------------- the hidden-state widget

@pytest.fixture
def char_model():
    text = "call me ishmael. the whale!"
    vocab = CharVocab(text)
    torch.manual_seed(0)
    model = SequenceModel("rnn", "scratch", 12, len(vocab), vocab_size=len(vocab))
    return model, vocab


def test_hidden_states_shape_and_errors(char_model):
    model, vocab = char_model
    H = hidden_states(model, vocab, "call me")
    assert H.shape == (7, 12)
    assert np.abs(H).max() < 1, "tanh states lie in (-1, 1)"
    with pytest.raises(ValueError, match="non-empty str"):
        hidden_states(model, vocab, "")
    with pytest.raises(TypeError, match="SequenceModel"):
        hidden_states(torch.nn.Linear(2, 2), vocab, "ab")


def test_widget_steps_through_time(char_model):
    model, vocab = char_model
    w = hidden_state_explorer(model, vocab, ["call me ishmael.", "the whale!"], units=8)
    first = w.data
    assert first["t"] == 0 and first["h"].shape == (8, 16)
    assert np.isfinite(first["h"][:, 0]).all() and np.isnan(first["h"][:, 1:]).all(), "only h_1 shown at t=0"
    calls = w.calls
    later = w.set(t=5)
    assert w.calls == calls + 1, "moving the slider re-renders once"
    assert later["t"] == 5 and np.isfinite(later["h"][:, :6]).all() and np.isnan(later["h"][:, 6:]).all()
    assert np.array_equal(later["h"][:, :1], first["h"][:, :1]), "the past does not change when time moves on"
    other = w.set(text="the whale!")
    assert other["text"] == "the whale!" and other["h"].shape == (8, 10)
    assert not np.allclose(other["h"][:, :6], later["h"][:, :6]), "another text gives other states"
    clamped = w.set(t=15)
    assert clamped["t"] == 9, "a step past the end of a shorter text shows its last step"
    fewer = w.set(units=3)
    assert fewer["h"].shape == (3, 10)
    assert w.figure is not None


def test_widget_rejects_bad_texts(char_model):
    model, vocab = char_model
    with pytest.raises(ValueError, match="non-empty strings"):
        hidden_state_explorer(model, vocab, [])


# ---------------------------------------------------------------- the chapter's experiments

def test_parity_result_counts_whole_answers():
    from rnn_book.tasks import running_parity as parity

    r = parity.train(seed=0, epochs=1, T=4, hidden_size=8, n_train=256, n_test=200)
    assert r.trained.dtype.kind == "i" and r.trained.shape == (4,) and r.n_test == 200
    assert r.current_bit[0] == 200, "at step 1 the parity is the current bit"
    assert 70 < r.current_bit[1:].min() and r.current_bit[1:].max() < 130, "after it, the current bit is a coin flip"
    assert r.rate("trained").dtype == np.float64 and r.rate("trained")[0] == r.trained[0] / 200
    assert len(r.history.step_loss) == 4, "256 sequences in batches of 64: four updates"
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        parity.train(epochs=0)


def test_truncation_run_counts_copies():
    r = bptt.truncation_run(4, seed=0, n_blocks=60, epochs=1, hidden_size=8, test_blocks=20)
    assert r.total == int(bptt.copy_positions(20 * 2 * 5, 5).sum()), "every copy position of the test stream"
    assert 0 <= r.correct <= r.total and 0 <= r.correct_before <= r.total and r.updates > 0
    assert r.row()["window k"] == 4 and r.accuracy == r.correct / r.total
    with pytest.raises(ValueError, match="window must be a positive int"):
        bptt.truncation_run(0)


def test_paired_models_start_equal_and_train_in_step():
    from rnn_book.analysis import two_engines
    from rnn_book.tasks import lm

    models = two_engines.paired_models(vocab_size=7, hidden_size=6, embed_size=4, seed=3)
    x = torch.randint(0, 7, (2, 5))
    with torch.no_grad():
        a, b = (models[e](x.to(rnn_book.device()))[0] for e in two_engines.ENGINES)
    assert (a - b).abs().max() < 1e-6, "both engines start as the same function"
    assert not models["cudnn"].rnn.rnn.bias_hh_l0.requires_grad, "bias_hh is frozen: only bias_ih plays b_h"
    data = lm.prepare("moby_dick", max_chars=4000)
    run = two_engines.train_pair(data, hidden_size=8, batch_size=4, seq_len=8, epochs=1, seed=0)
    assert run.step_gap(20) < 1e-4, "from the same weights the engines take the same first steps"
    assert run.valid_gap < 0.02 and run.unigram == pytest.approx(two_engines.unigram_loss(data))
    xb, yb = next(iter(StatefulBatches(data.train, 4, 8)))
    secs = two_engines.step_seconds(run.models, xb, yb, repeats=1)
    assert set(secs) == set(two_engines.ENGINES) and min(secs.values()) > 0


def test_frozen_bias_hh_makes_the_summed_bias_move_as_b_h():
    import copy

    from rnn_book.analysis import two_engines

    models = {e: m.double().cpu() for e, m in two_engines.paired_models(vocab_size=9, hidden_size=5, seed=1).items()}
    free = copy.deepcopy(models["cudnn"])
    free.rnn.rnn.bias_hh_l0.requires_grad_(True)
    x, y = torch.randint(0, 9, (3, 6)), torch.randint(0, 9, (3, 6))
    assert torch.equal(two_engines.effective_bias(models["scratch"]), models["scratch"].rnn.cell(0).b_h)
    hh = models["cudnn"].rnn.rnn.bias_hh_l0.detach().clone()
    mine, frozen, both = (two_engines.bias_step(m, x, y) for m in (models["scratch"], models["cudnn"], free))
    assert mine.abs().max() > 0, "the step moves the bias at all"
    assert torch.equal(models["cudnn"].rnn.rnn.bias_hh_l0, hh), "a frozen bias_hh stays where it was"
    assert torch.allclose(frozen, mine, rtol=1e-12, atol=1e-15)
    assert torch.allclose(both, 2 * mine, rtol=1e-12, atol=1e-15), "two learning biases: twice the step"


def test_exact_float32_restores_the_setting():
    from rnn_book.analysis import two_engines

    rnn = torch.backends.cudnn.rnn
    before = rnn.fp32_precision
    with two_engines.exact_float32():
        assert rnn.fp32_precision == "ieee"
    assert rnn.fp32_precision == before


def test_state_gap(char_model):
    from rnn_book.analysis import states

    model, vocab = char_model
    gap = states.state_gap(model, vocab, "call me", "tall me")
    assert gap.shape == (7,) and gap[0] > 0
    assert (states.state_gap(model, vocab, "call me", "call me") == 0).all()
    with pytest.raises(ValueError, match="same length"):
        states.state_gap(model, vocab, "call", "me")
