"""Parity of the two engines: same weights -> same outputs, final state and every gradient."""
from __future__ import annotations

import itertools

import pytest
import torch

import rnn_book
from rnn_book import copy_weights, cudnn, gradients_in_torch_layout, scratch, twin

KINDS = [k.upper() for k in rnn_book.KINDS]


def _pair(kind, input_size, hidden, layers, bi, dtype, fused=False, seed=0):
    """A cuDNN-engine layer and its scratch twin (the GRU in cuDNN's form), same weights."""
    torch.manual_seed(seed)
    c = getattr(cudnn, kind)(input_size, hidden, num_layers=layers, bidirectional=bi).to(dtype)
    return twin(c, fused=fused), c


def _flat(state):
    return torch.cat([t.reshape(-1) for t in state]) if isinstance(state, tuple) else state.reshape(-1)


def _run(layer, x, lengths, state=None):
    out, st = layer(x, state=state, lengths=lengths)
    # a loss that touches every output and the final state with distinct weights
    w = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * w).sum() + _flat(st).pow(2).sum()
    loss.backward()
    return out.detach(), _flat(st).detach()


CASES = list(itertools.product(KINDS, [1, 2, 3], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("kind,layers,bi,with_lengths,fused", CASES)
def test_parity_float64(kind, layers, bi, with_lengths, fused):
    s, c = _pair(kind, 5, 7, layers, bi, torch.float64, fused=fused)
    x = torch.randn(4, 6, 5, dtype=torch.float64)
    lengths = [6, 2, 1, 5] if with_lengths else None
    xs, xc = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_s, st_s = _run(s, xs, lengths)
    out_c, st_c = _run(c, xc, lengths)
    assert out_s.shape == (4, 6, 7 * (2 if bi else 1))
    assert (out_s - out_c).abs().max() < 1e-10
    assert (st_s - st_c).abs().max() < 1e-10
    assert (xs.grad - xc.grad).abs().max() < 1e-10
    gs, gc = gradients_in_torch_layout(s), gradients_in_torch_layout(c)
    assert gs.keys() == gc.keys()
    for name in gs:
        assert (gs[name] - gc[name]).abs().max() < 1e-10, name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fused", [False, True])
def test_parity_float32(kind, fused):
    s, c = _pair(kind, 3, 9, 2, True, torch.float32, fused=fused, seed=1)
    x = torch.randn(5, 11, 3)
    lengths = [11, 7, 3, 1, 9]
    out_s, st_s = _run(s, x, lengths)
    out_c, st_c = _run(c, x, lengths)
    assert (out_s - out_c).abs().max() < 1e-5
    assert (st_s - st_c).abs().max() < 1e-5
    gs, gc = gradients_in_torch_layout(s), gradients_in_torch_layout(c)
    for name in gs:
        # float32 engines sum in different orders: compare relative to the gradient's size
        scale = max(1.0, gc[name].abs().max().item())
        assert (gs[name] - gc[name]).abs().max() / scale < 1e-5, name


@pytest.mark.parametrize("kind", KINDS)
def test_given_initial_state(kind):
    s, c = _pair(kind, 4, 6, 2, True, torch.float64)
    x = torch.randn(3, 5, 4, dtype=torch.float64)
    h0 = torch.randn(4, 3, 6, dtype=torch.float64)
    state = (h0, torch.randn_like(h0)) if kind == "LSTM" else h0
    out_s, st_s = s(x, state, [5, 3, 2])
    out_c, st_c = c(x, state, [5, 3, 2])
    assert (out_s - out_c).abs().max() < 1e-10
    assert (_flat(st_s) - _flat(st_c)).abs().max() < 1e-10


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bi", [False, True])
def test_lengths_equal_running_each_sequence_alone(kind, bi):
    torch.manual_seed(3)
    layer = getattr(scratch, kind)(3, 5, num_layers=2, bidirectional=bi).double()
    x = torch.randn(3, 7, 3, dtype=torch.float64)
    lengths = [7, 4, 1]
    out, st = layer(x, lengths=lengths)
    for b, n in enumerate(lengths):
        out_b, st_b = layer(x[b:b + 1, :n])
        assert (out[b, :n] - out_b[0]).abs().max() < 1e-12
        assert out[b, n:].abs().max() == 0 if n < 7 else True
        h, h_b = (st[0], st_b[0]) if kind == "LSTM" else (st, st_b)
        assert (h[:, b] - h_b[:, 0]).abs().max() < 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_fused_equals_textbook(kind):
    torch.manual_seed(0)
    kw = {"reset_after": True} if kind == "GRU" else {}
    a = getattr(scratch, kind)(4, 6, **kw).double()
    b = getattr(scratch, kind)(4, 6, fused=True, **kw).double()
    copy_weights(a, b)
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    assert (a(x)[0] - b(x)[0]).abs().max() < 1e-12


def test_textbook_gru_fused_equals_textbook():
    torch.manual_seed(0)
    a = scratch.GRU(4, 6).double()
    b = scratch.GRU(4, 6, fused=True).double()
    with torch.no_grad():
        b.cells[0].W_x.copy_(torch.cat([a.cells[0].W_xr, a.cells[0].W_xz, a.cells[0].W_xh], 1))
        b.cells[0].W_h.copy_(torch.cat([a.cells[0].W_hr, a.cells[0].W_hz, a.cells[0].W_hh], 1))
        b.cells[0].b.copy_(torch.cat([a.cells[0].b_r, a.cells[0].b_z, a.cells[0].b_h]))
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    assert (a(x)[0] - b(x)[0]).abs().max() < 1e-12


@pytest.mark.parametrize("cell", [
    lambda: scratch.RNNCell(3, 4), lambda: scratch.LSTMCell(3, 4), lambda: scratch.GRUCell(3, 4),
    lambda: scratch.GRUCell(3, 4, reset_after=True), lambda: scratch.FusedLSTMCell(3, 4),
    lambda: scratch.FusedGRUCell(3, 4, reset_after=True), lambda: scratch.FusedRNNCell(3, 4)])
def test_gradcheck_cells(cell):
    torch.manual_seed(0)
    c = cell().double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    if isinstance(c, (scratch.LSTMCell, scratch.FusedLSTMCell)):
        cc = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
        fn = lambda x, h, cc, *ps: torch.cat(torch.func.functional_call(c, dict(zip(names, ps)), (c.project(x.unsqueeze(1))[:, 0], (h, cc))), 1)
        args = (x, h, cc)
    else:
        fn = lambda x, h, *ps: torch.func.functional_call(c, dict(zip(names, ps)), (c.project(x.unsqueeze(1))[:, 0], h))
        args = (x, h)
    names = [n for n, _ in c.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for _, p in c.named_parameters())
    assert torch.autograd.gradcheck(fn, args + params)


def test_recurrent_dropout_masks_per_sequence_and_is_off_in_eval():
    torch.manual_seed(0)
    layer = scratch.LSTM(3, 8, recurrent_dropout=0.5).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    layer.eval()
    a, b = layer(x)[0], layer(x)[0]
    assert torch.equal(a, b)
    layer.train()
    assert not torch.equal(layer(x)[0], a)


def test_tracing_records_gates_in_time_order():
    torch.manual_seed(0)
    layer = scratch.LSTM(2, 3, bidirectional=True)
    x = torch.randn(2, 5, 2)
    with layer.tracing(direction=1) as tr:
        out, _ = layer(x)
    assert set(tr) == {"i", "f", "o", "c_tilde", "c", "h"}
    assert tr["h"].shape == (2, 5, 3)
    assert torch.allclose(tr["h"], out[:, :, 3:])


@pytest.mark.parametrize("fused", [False, True])
def test_tracing_records_the_hidden_state_of_every_kind(fused):
    """RNN cells record h too: tracing never comes back empty."""
    torch.manual_seed(0)
    for kind in KINDS:
        kw = {"reset_after": True} if kind == "GRU" else {}
        layer = getattr(scratch, kind)(3, 4, fused=fused, **kw)
        x = torch.randn(2, 5, 3)
        with layer.tracing() as trace:
            out, _ = layer(x)
        assert "h" in trace and torch.allclose(trace["h"], out), f"{kind}: the traced h is the output"


@pytest.mark.parametrize("kind", KINDS)
def test_twin_computes_the_same_function_on_every_engine(kind):
    torch.manual_seed(0)
    lib = getattr(cudnn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    for t in (twin(lib), twin(lib, fused=True), twin(twin(lib), "cudnn"), twin(lib, dtype=torch.float32)):
        assert torch.allclose(t(x.to(next(t.parameters()).dtype))[0].double(), lib(x)[0], atol=1e-6)
    assert next(twin(lib, dtype=torch.float32).parameters()).dtype == torch.float32


def test_twin_refuses_what_cannot_be_twinned():
    with pytest.raises(ValueError, match="no cuDNN twin"):
        twin(scratch.GRU(3, 4, reset_after=False), "cudnn")
    with pytest.raises(ValueError, match="engine must be one of"):
        twin(cudnn.LSTM(3, 4), "keras")
    with pytest.raises(ValueError, match="cudnn engine is fused already"):
        twin(scratch.LSTM(3, 4), "cudnn", fused=True)
    with pytest.raises(TypeError, match="expected a recurrent layer"):
        twin(torch.nn.Linear(3, 4))
