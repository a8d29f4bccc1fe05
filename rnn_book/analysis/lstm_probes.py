"""Looking inside an LSTM: its gate values, linear probes, and the counter it learns.

The chapter on LSTM (chapters/02_lstm.md) uses these; every function works on a layer of either
engine, or on a :class:`~rnn_book.models.SequenceModel` built around one.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .. import scratch
from ..data.lag_tasks import bracket_balance
from ..models import SequenceModel
from ..settings import device, device_of, seed as set_seed, threads
from ..train import fit
from ..weights import layer_of, twin
from .memory import COUNTER_DATA_SEED, LAG_TEST_SEED, STEPS_PER_EPOCH

# -- gate values of a trained model -----------------------------------------------------------------


@torch.no_grad()
def trace_gates(model, x: torch.Tensor, layer: int = 0, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """Run ``model`` (a SequenceModel or an LSTM layer) on ``x`` and return the gate values of one layer.

    Returns {"i", "f", "o", "c_tilde", "c", "h"} -> (batch, time, hidden) tensors in ``dtype``. The
    weights are copied into a textbook scratch LSTM, so a model trained on the cudnn engine can be
    looked into. Float64 by default: in float32 a sigmoid of an input above ~17 rounds to exactly 1.0.
    """
    lstm = layer_of(model, "trace_gates", "LSTM")
    feats = model.features(x.to(device_of(lstm))) if hasattr(model, "features") else x
    textbook = twin(lstm, dtype=dtype)
    with textbook.tracing(layer) as trace:
        textbook(feats.to(dtype))
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


# -- the counter an LSTM learns ---------------------------------------------------------------------


def train_counter(T: int = 40, hidden_size: int = 16, steps: int = 200, seed: int = 0, lr: float = 1e-2,
                  batch_size: int = 64, engine: str = "cudnn"):
    """Train an LSTM on :func:`~rnn_book.data.lag_tasks.bracket_balance`; returns (model, History).

    The History's ``acc`` is the per-step accuracy on 500 held-out strings (chance is about 1/2: the
    balance is mostly non-zero and its sign usually stays put).
    """
    set_seed(seed)
    model = SequenceModel("lstm", engine, hidden_size, 3, vocab_size=2, embed_size=4, head="every_step")
    dev = device()
    x_test, y_test, _ = bracket_balance(500, T, seed=LAG_TEST_SEED)
    x_test, y_test = x_test.to(dev), y_test.to(dev)
    data = torch.Generator().manual_seed(COUNTER_DATA_SEED + seed)

    def batches(epoch):
        x, y, _ = bracket_balance(batch_size * STEPS_PER_EPOCH, T, seed=data)
        return zip(x.split(batch_size), y.split(batch_size))

    def loss(m, b):
        return F.cross_entropy(m(b[0])[0].reshape(-1, 3), b[1].reshape(-1))

    with threads(1):                    # tiny models: a second thread costs more than it gains
        hist = fit(model, batches, loss, epochs=math.ceil(steps / STEPS_PER_EPOCH), lr=lr, clip=1.0, max_steps=steps,
                   evaluate=lambda m: {"acc": (m(x_test)[0].argmax(-1) == y_test).double().mean()}, device=dev)
    return model, hist
