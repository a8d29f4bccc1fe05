"""Bad input gets a clear error naming what was expected and what came, on both engines."""
from __future__ import annotations

import pytest
import torch

from rnn_book import copy_weights, cudnn, make_layer, scratch

ENGINES = [scratch, cudnn]


@pytest.fixture(params=[(e, k) for e in ENGINES for k in ("RNN", "LSTM", "GRU")],
                ids=lambda p: f"{p[0].__name__.split('.')[-1]}.{p[1]}")
def layer(request):
    engine, kind = request.param
    return getattr(engine, kind)(4, 6, num_layers=2)


def test_wrong_feature_size(layer):
    with pytest.raises(ValueError, match=r"expected x of shape \(batch, time, 4\).*got \(2, 3, 5\) with 5 features"):
        layer(torch.randn(2, 3, 5))


@pytest.mark.parametrize("shape", [(3, 4), (1, 2, 3, 4)])
def test_wrong_rank(layer, shape):
    with pytest.raises(ValueError, match=rf"must be 3-D, batch-first \(batch, time, 4\); got a {len(shape)}-D tensor"):
        layer(torch.randn(*shape))


def test_two_d_input_suggests_unsqueeze(layer):
    with pytest.raises(ValueError, match="unsqueeze"):
        layer(torch.randn(3, 4))


def test_integer_dtype(layer):
    with pytest.raises(TypeError, match="floating-point.*got dtype torch.int64"):
        layer(torch.ones(2, 3, 4, dtype=torch.long))


def test_dtype_mismatch(layer):
    with pytest.raises(TypeError, match="x is torch.float64 but the layer's parameters are torch.float32"):
        layer(torch.randn(2, 3, 4, dtype=torch.float64))


def test_empty_batch(layer):
    with pytest.raises(ValueError, match=r"empty batch.*\(0, 3, 4\)"):
        layer(torch.randn(0, 3, 4))


def test_no_time_steps(layer):
    with pytest.raises(ValueError, match="no time steps"):
        layer(torch.randn(2, 0, 4))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf(layer, bad):
    x = torch.randn(2, 3, 4)
    x[1, 2, 0] = bad
    with pytest.raises(ValueError, match=r"NaN or inf \(first at index \(1, 2, 0\)\)"):
        layer(x)


def test_not_a_tensor(layer):
    with pytest.raises(TypeError, match="must be a torch.Tensor.*got list"):
        layer([[1.0, 2.0]])


def test_lengths_wrong_count(layer):
    with pytest.raises(ValueError, match="expected 2 lengths.*got 3"):
        layer(torch.randn(2, 3, 4), lengths=[3, 2, 1])


@pytest.mark.parametrize("lengths", [[4, 1], [0, 2]])
def test_lengths_out_of_range(layer, lengths):
    with pytest.raises(ValueError, match=r"every length must lie in 1\.\.3"):
        layer(torch.randn(2, 3, 4), lengths=lengths)


def test_lengths_float(layer):
    with pytest.raises(TypeError, match="lengths must be integers"):
        layer(torch.randn(2, 3, 4), lengths=torch.tensor([1.0, 2.0]))


def test_state_wrong_shape(layer):
    h = torch.zeros(1, 2, 6)   # one layer's worth for a two-layer model
    state = (h, h) if layer.kind == "LSTM" else h
    with pytest.raises(ValueError, match=r"must have shape \(2, 2, 6\).*got \(1, 2, 6\)"):
        layer(torch.randn(2, 3, 4), state)


def test_state_wrong_kind(layer):
    h = torch.zeros(2, 2, 6)
    if layer.kind == "LSTM":
        with pytest.raises(TypeError, match=r"LSTM state is a pair \(h, c\).*got a tensor"):
            layer(torch.randn(2, 3, 4), h)
    else:
        with pytest.raises(TypeError, match=r"state is one tensor h.*got a tuple"):
            layer(torch.randn(2, 3, 4), (h, h))


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_sizes(engine):
    with pytest.raises(ValueError, match="hidden_size must be a positive int; got 0"):
        engine.LSTM(3, 0)
    with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\); got 1.5"):
        engine.GRU(3, 4, dropout=1.5)


def test_copy_weights_textbook_gru_refused():
    with pytest.raises(ValueError, match="reset_after=False.*copying needs reset_after=True"):
        copy_weights(scratch.GRU(3, 4), cudnn.GRU(3, 4))
    with pytest.raises(ValueError, match="reset_after=False"):
        copy_weights(cudnn.GRU(3, 4), scratch.GRU(3, 4))


def test_copy_weights_mismatch():
    with pytest.raises(ValueError, match="same kind; got LSTM -> GRU"):
        copy_weights(scratch.LSTM(3, 4), cudnn.GRU(3, 4))
    with pytest.raises(ValueError, match="hidden_size differs: src has 4, dst has 5"):
        copy_weights(scratch.LSTM(3, 4), cudnn.LSTM(3, 5))
    with pytest.raises(TypeError, match="must be a layer from rnn_book.scratch or rnn_book.cudnn; got Linear"):
        copy_weights(torch.nn.Linear(3, 4), cudnn.LSTM(3, 4))


def test_cudnn_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="recurrent_dropout.*cannot be done by cuDNN"):
        cudnn.LSTM(3, 4, recurrent_dropout=0.3)
    with pytest.raises(ValueError, match="only reset_after=True"):
        cudnn.GRU(3, 4, reset_after=False)


def test_make_layer_names_choices():
    with pytest.raises(ValueError, match=r"kind must be one of \('rnn', 'lstm', 'gru'\); got 'transformer'"):
        make_layer("transformer", "scratch", 3, 4)
    with pytest.raises(ValueError, match="engine must be one of"):
        make_layer("lstm", "keras", 3, 4)


def test_error_comes_before_any_matmul(monkeypatch):
    """The check runs first: a bad input never reaches the cell."""
    layer = scratch.RNN(4, 6)
    called = []
    monkeypatch.setattr(layer.cells[0], "forward", lambda *a: called.append(1))
    with pytest.raises(ValueError):
        layer(torch.randn(2, 3, 5))
    assert not called
