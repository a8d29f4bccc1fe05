"""Looking inside an LSTM: its source line by line, its forget-gate bias, its gate values, linear probes.

The chapter on LSTM (chapters/02_lstm.md) uses these; every function works on a layer of either
engine, or on a :class:`~rnn_book.models.SequenceModel` built around one.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import math
import re
import textwrap

import torch

from .. import cudnn, scratch
from ..weights import copy_weights

@contextlib.contextmanager
def one_thread():
    """Run the block on one CPU thread, then restore the thread count.

    The models of this chapter are tiny (tens of units); splitting their small matrix products over
    several threads costs more in synchronisation than it gains, and on a busy shared CPU it can be
    many times slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- the code under each equation -----------------------------------------------------------------


def code_under(name: str, fn=None) -> str:
    """The comment (the equation) and the code line that assigns ``name`` in ``fn``'s source.

    ``fn`` defaults to :meth:`rnn_book.scratch.LSTMCell.forward`. ``code_under("f")`` ->
    ``"# F_t = σ(...)  forget gate\\nf = torch.sigmoid(...)"``, read from the package itself.
    """
    fn = scratch.LSTMCell.forward if fn is None else fn
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*=[^=]")
    for k, line in enumerate(lines):
        if pattern.match(line):
            start = k
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            return textwrap.dedent("\n".join(lines[start:k + 1]))
    names = sorted({m.group(1) for m in (re.match(r"^\s*(\w+)\s*=[^=]", ln) for ln in lines) if m})
    raise ValueError(f"code_under: no line assigns {name!r} in {fn.__qualname__}; assigned names: {', '.join(names)}")


# -- the forget-gate bias ---------------------------------------------------------------------------


def _lstm_layer(obj, who: str):
    engines = (scratch.Recurrent, cudnn.Recurrent)
    layer = obj if isinstance(obj, engines) else getattr(obj, "rnn", obj)   # a bare layer or a SequenceModel
    if not isinstance(layer, engines) or layer.kind != "LSTM":
        raise TypeError(f"{who}: expected an LSTM layer (scratch.LSTM / cudnn.LSTM) or a model whose .rnn is one; "
                        f"got {type(obj).__name__}" + (f" with a {layer.kind} layer" if hasattr(layer, "kind") else ""))
    return layer


def forget_bias(obj, layer: int = 0, direction: int = 0) -> torch.Tensor:
    """The forget gate's effective bias b_f (= bias_ih + bias_hh rows H..2H in torch's layout)."""
    lstm = _lstm_layer(obj, "forget_bias")
    H = lstm.hidden_size
    _, _, b_ih, b_hh = lstm.torch_layout(layer, direction)
    return (b_ih + b_hh)[H:2 * H].clone()


@torch.no_grad()
def set_forget_bias(obj, value: float):
    """Set the forget gate's bias to ``value`` in every layer and direction (Gers et al. 2000;
    Jozefowicz et al. 2015 recommend 1). Works for both engines; returns the layer.

    In torch's layout the forget rows are H..2H of the stacked biases (gate order i, f, g, o); the
    whole value goes into ``bias_ih`` and ``bias_hh`` gets zero, so that their sum is ``value``.
    """
    lstm = _lstm_layer(obj, "set_forget_bias")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"set_forget_bias: value must be a finite number; got {value!r}")
    H = lstm.hidden_size
    for l in range(lstm.num_layers):
        for d in range(lstm.directions):
            w_ih, w_hh, b_ih, b_hh = (t.clone() for t in lstm.torch_layout(l, d))
            b_ih[H:2 * H], b_hh[H:2 * H] = value, 0.0
            lstm.load_torch_layout(l, d, w_ih, w_hh, b_ih, b_hh)
    return lstm


# -- gate values of a trained model -----------------------------------------------------------------


def to_scratch(obj, dtype: torch.dtype = torch.float64) -> scratch.LSTM:
    """A textbook scratch LSTM (the one that can be traced) holding ``obj``'s weights, in ``dtype``."""
    lstm = _lstm_layer(obj, "to_scratch")
    twin = scratch.LSTM(lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bidirectional).to(dtype)
    return copy_weights(lstm, twin)


@torch.no_grad()
def trace_gates(model, x: torch.Tensor, layer: int = 0, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """Run ``model`` (a SequenceModel or an LSTM layer) on ``x`` and return the gate values of one layer.

    Returns {"i", "f", "o", "c_tilde", "c", "h"} -> (batch, time, hidden) tensors in ``dtype``. The
    weights are copied into a textbook scratch LSTM, so a model trained on the cudnn engine can be
    looked into. Float64 by default: in float32 a sigmoid of an input above ~17 rounds to exactly 1.0.
    """
    lstm = _lstm_layer(model, "trace_gates")
    feats = model.features(x) if hasattr(model, "features") else x
    twin = to_scratch(lstm, dtype)
    with twin.tracing(layer) as trace:
        twin(feats.to(dtype))
    return trace


def probe_r2(features: torch.Tensor, target: torch.Tensor, train_fraction: float = 0.5) -> float:
    """How much of ``target`` a linear read-out of ``features`` recovers on held-out rows (R², 1 = all).

    features (N, K), target (N,). A least-squares fit with intercept on the first ``train_fraction``
    of the rows; R² = 1 - MSE / variance on the rest. 0 means no better than predicting the mean.
    """
    if features.dim() != 2 or target.dim() != 1 or features.shape[0] != target.shape[0]:
        raise ValueError(f"probe_r2: expected features (N, K) and target (N,); got {tuple(features.shape)} "
                         f"and {tuple(target.shape)}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"probe_r2: train_fraction must lie in (0, 1); got {train_fraction!r}")
    n = int(features.shape[0] * train_fraction)
    if n < features.shape[1] + 1 or features.shape[0] - n < 2:
        raise ValueError(f"probe_r2: {features.shape[0]} rows are too few for {features.shape[1]} features")
    A = torch.cat([features, torch.ones(features.shape[0], 1, dtype=features.dtype)], 1).double()
    y = target.double().unsqueeze(1)
    w = torch.linalg.lstsq(A[:n], y[:n]).solution
    residual = (A[n:] @ w - y[n:]).squeeze(1)
    return float(1.0 - residual.pow(2).mean() / y[n:].var(unbiased=False))


# -- how far back the last state still feels the input ---------------------------------------------


def input_influence(layer, x: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """‖∂h_T / ∂x_t‖ (Frobenius norm, averaged over the batch) for every step t: how strongly the last
    hidden state still depends on each input. x is the float input (batch, time, input_size); returns (time,).

    Computed on a copy of ``layer`` in ``dtype`` (float64 by default): the values span many orders of
    magnitude, and in float32 the smallest ones underflow to exactly 0.
    """
    if x.dim() != 3:
        raise ValueError(f"input_influence: expected x of shape (batch, time, input_size); got {tuple(x.shape)}")
    layer = copy.deepcopy(layer).to(dtype)
    x = x.detach().to(dtype).requires_grad_(True)
    with one_thread():
        out, _ = layer(x)
        h_T = out[:, -1]
        squares = torch.zeros(x.shape[0], x.shape[1], dtype=dtype, device=x.device)
        for k in range(h_T.shape[1]):              # one backward pass per hidden unit: the whole Jacobian
            (g,) = torch.autograd.grad(h_T[:, k].sum(), x, retain_graph=True)
            squares += g.pow(2).sum(-1)
    return squares.sqrt().mean(0).detach()


# -- one step of the memory cell, as the gate explorer shows it -------------------------------------


def cell_step(i: float, f: float, o: float, c_tilde: float, c_prev: float) -> tuple[float, float]:
    """C_t = I⊙C̃_t + F⊙C_{t-1} and H_t = O⊙tanh(C_t) for one unit with given gate values."""
    for name, g in (("i", i), ("f", f), ("o", o)):
        if not 0.0 <= g <= 1.0:
            raise ValueError(f"cell_step: gate {name} must lie in [0, 1] (a sigmoid's range); got {g!r}")
    if not -1.0 <= c_tilde <= 1.0:
        raise ValueError(f"cell_step: the candidate c_tilde must lie in [-1, 1] (a tanh's range); got {c_tilde!r}")
    c = i * c_tilde + f * c_prev
    return c, o * math.tanh(c)


def cell_run(i: float, f: float, o: float, c_tilde: float, c0: float, steps: int) -> tuple[list[float], list[float]]:
    """C_t and H_t for t = 1..steps when the gates and the candidate are held fixed, starting from C_0 = c0."""
    cs, hs, c = [], [], c0
    for _ in range(steps):
        c, h = cell_step(i, f, o, c_tilde, c)
        cs.append(c)
        hs.append(h)
    return cs, hs


# -- the chapter's two training experiments ---------------------------------------------------------


def _checked_kind(kind: str, who: str) -> str:
    if not isinstance(kind, str) or kind.lower() not in ("rnn", "lstm", "gru"):
        raise ValueError(f"{who}: kind must be 'rnn', 'lstm' or 'gru'; got {kind!r}")
    return kind.lower()


def train_recall(kind: str, T: int, hidden_size: int = 32, steps: int = 300, forget: float | None = None,
                 seed: int = 0, lr: float = 1e-2, batch: int = 64, eval_every: int = 25, n_symbols: int = 8,
                 engine: str = "cudnn"):
    """Train ``kind`` on :func:`~rnn_book.data.lag_tasks.marked_recall` of length T; returns (model, History).

    ``forget``: set the LSTM's forget-gate bias to this value before training (None: torch's default
    init). Every ``eval_every`` steps the model is scored on one fixed test set (the same for every
    run): ``acc`` over all lags and ``acc_long`` over lags >= 2T/3. Training data depend on ``seed``
    only, so two runs with one seed see the same batches and start from the same weights.
    """
    from ..data.lag_tasks import marked_recall
    from ..models import SequenceModel
    from ..settings import seed as set_seed
    from ..train import fit

    kind = _checked_kind(kind, "train_recall")
    if forget is not None and kind != "lstm":
        raise ValueError(f"train_recall: forget= sets an LSTM's forget-gate bias; kind is {kind!r}")
    set_seed(seed)
    model = SequenceModel(kind, engine, hidden_size, n_symbols, vocab_size=2 * n_symbols, embed_size=16, head="last")
    if forget is not None:
        set_forget_bias(model, forget)
    x_test, y_test, lag_test = marked_recall(1000, T, n_symbols, seed=2024)
    long = lag_test >= 2 * T // 3
    data = torch.Generator().manual_seed(10_000 + seed)

    def batches(epoch):
        x, y, _ = marked_recall(batch * eval_every, T, n_symbols, seed=data)
        return zip(x.split(batch), y.split(batch))

    def evaluate(m):
        hit = (m(x_test)[0].argmax(-1) == y_test).float()
        return {"acc": hit.mean(), "acc_long": hit[long].mean()}

    with one_thread():
        hist = fit(model, batches, lambda m, b: torch.nn.functional.cross_entropy(m(b[0])[0], b[1]),
                   epochs=math.ceil(steps / eval_every), lr=lr, clip=1.0, evaluate=evaluate, max_steps=steps)
    return model, hist


def train_counter(T: int = 40, hidden_size: int = 16, steps: int = 200, seed: int = 0, lr: float = 1e-2,
                  batch: int = 64, engine: str = "cudnn"):
    """Train an LSTM on :func:`~rnn_book.data.lag_tasks.bracket_balance`; returns (model, History).

    The History's ``acc`` is the per-step accuracy on 500 held-out strings (chance is about 1/2: the
    balance is mostly non-zero and its sign usually stays put).
    """
    from ..data.lag_tasks import bracket_balance
    from ..models import SequenceModel
    from ..settings import seed as set_seed
    from ..train import fit

    set_seed(seed)
    model = SequenceModel("lstm", engine, hidden_size, 3, vocab_size=2, embed_size=4, head="every_step")
    x_test, y_test, _ = bracket_balance(500, T, seed=2024)
    data = torch.Generator().manual_seed(20_000 + seed)

    def batches(epoch):
        x, y, _ = bracket_balance(batch * 50, T, seed=data)
        return zip(x.split(batch), y.split(batch))

    def loss(m, b):
        return torch.nn.functional.cross_entropy(m(b[0])[0].reshape(-1, 3), b[1].reshape(-1))

    with one_thread():
        hist = fit(model, batches, loss, epochs=math.ceil(steps / 50), lr=lr, clip=1.0, max_steps=steps,
                   evaluate=lambda m: {"acc": (m(x_test)[0].argmax(-1) == y_test).float().mean()})
    return model, hist
