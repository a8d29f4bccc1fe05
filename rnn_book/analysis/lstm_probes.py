"""Looking inside an LSTM: its gate values, linear probes, and the counter it learns.

The chapter on LSTM (chapters/02_lstm.md) uses these; every function works on a layer of either
engine, or on a :class:`~rnn_book.models.SequenceModel` built around one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

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


def counter_model(hidden_size: int = 16, seed: int = 0, engine: str = "cudnn") -> SequenceModel:
    """The bracket counter before training: an LSTM over 2 tokens (embedded in 4 numbers), 3 classes per step."""
    set_seed(seed)
    return SequenceModel("lstm", engine, hidden_size, 3, vocab_size=2, embed_size=4, head="every_step")


def train_counter(T: int = 40, hidden_size: int = 16, steps: int = 200, seed: int = 0, lr: float = 1e-2,
                  batch_size: int = 64, engine: str = "cudnn"):
    """Train an LSTM on :func:`~rnn_book.data.lag_tasks.bracket_balance`; returns (model, History).

    The History's ``acc`` is the per-step accuracy on 500 held-out strings (chance is about 1/2: the
    balance is mostly non-zero and its sign usually stays put).
    """
    model = counter_model(hidden_size, seed, engine)
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


# -- the Jacobian ∂C_t/∂C_{t-1}, term by term --------------------------------------------------------


def cell_jacobian_terms(cell: scratch.LSTMCell, trace: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    r"""The four terms of the Jacobian $J_t = dC_t/dC_{t-1}$ of a traced LSTM layer, for t = 2..T.

    $C_{t-1}$ reaches $C_t$ directly, through $F_t \odot C_{t-1}$, and through $H_{t-1} = O_{t-1}
    \odot \tanh(C_{t-1})$, which every gate of step t reads. With $g = O_{t-1}(1-\tanh^2 C_{t-1})$:

    $J_t[a, b] = F_t[a]\,\delta_{ab} + \big(\tilde C_t I_t(1-I_t)[a]\, W_{hi}[b, a]
    + C_{t-1} F_t(1-F_t)[a]\, W_{hf}[b, a] + I_t(1-\tilde C_t^2)[a]\, W_{hc}[b, a]\big)\, g[b]$.

    ``trace``: what ``layer.tracing()`` records ("i", "f", "o", "c_tilde", "c"), each (batch, T, hidden).
    Returns "forget" (batch, T-1, hidden), the diagonal $F_t$, and "via_i", "via_f", "via_c"
    (batch, T-1, hidden, hidden), the paths through the input gate, the forget gate and the candidate.
    """
    if not isinstance(cell, scratch.LSTMCell):
        raise TypeError(f"cell_jacobian_terms: expected a scratch.LSTMCell; got {type(cell).__name__}")
    missing = {"i", "f", "o", "c_tilde", "c"} - set(trace)
    if missing:
        raise ValueError(f"cell_jacobian_terms: the trace lacks {sorted(missing)}; record it with layer.tracing()")
    i, f, c_tilde = (trace[k][:, 1:] for k in ("i", "f", "c_tilde"))
    c_prev, o_prev = trace["c"][:, :-1], trace["o"][:, :-1]
    g = o_prev * (1 - torch.tanh(c_prev) ** 2)                      # ∂H_{t-1}/∂C_{t-1}, element-wise
    W = {k: getattr(cell, f"W_h{k}").detach().to(device=g.device, dtype=g.dtype) for k in "ifc"}

    def path(slope, weight):                                         # slope[a] · W[b, a] · g[b]
        return slope.unsqueeze(-1) * weight.T * g.unsqueeze(-2)

    return {"forget": f,
            "via_i": path(c_tilde * i * (1 - i), W["i"]),
            "via_f": path(c_prev * f * (1 - f), W["f"]),
            "via_c": path(i * (1 - c_tilde ** 2), W["c"])}


def cell_jacobian(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    """The whole Jacobian dC_t/dC_{t-1} (batch, T-1, hidden, hidden): diag(F_t) plus the three paths through H_{t-1}."""
    return torch.diag_embed(terms["forget"]) + terms["via_i"] + terms["via_f"] + terms["via_c"]


def cell_jacobian_autograd(cell: scratch.LSTMCell, x_t: torch.Tensor, c_prev: torch.Tensor,
                           o_prev: torch.Tensor) -> torch.Tensor:
    """dC_t/dC_{t-1} of one sequence (rows of length hidden) by autograd, with H_{t-1} = O_{t-1} ⊙ tanh(C_{t-1})."""
    def c_next(c):
        return cell(x_t.unsqueeze(0), (o_prev * torch.tanh(c), c))[1][0]
    return torch.autograd.functional.jacobian(c_next, c_prev)


@dataclass
class JacobianSummary:
    """How much of dC_t/dC_{t-1} is the forget gate, measured over every (sequence, step) of a trace."""

    rel_paths: torch.Tensor          # ‖J − diag F‖₂ / ‖diag F‖₂ per (sequence, step), spectral norms
    unit: int
    unit_diag: torch.Tensor          # J[u, u] of one unit per (sequence, step)
    unit_forget: torch.Tensor        # F_t[u] of that unit

    def row(self) -> dict:
        q = torch.quantile(self.rel_paths.flatten(), torch.tensor([0.5, 0.9], dtype=self.rel_paths.dtype))
        gap = (self.unit_diag - self.unit_forget).abs()
        return {"median ‖paths‖/‖diag F‖": float(q[0]), "90th percentile": float(q[1]),
                f"unit {self.unit}: median |J_uu − F_u|": float(gap.median()),
                f"unit {self.unit}: median F_u": float(self.unit_forget.median())}


def jacobian_summary(terms: dict[str, torch.Tensor], unit: int) -> JacobianSummary:
    """Sizes of the paths through H_{t-1} against the forget gate's diagonal, and one unit's own entry."""
    J = cell_jacobian(terms)
    paths = J - torch.diag_embed(terms["forget"])
    rel = torch.linalg.matrix_norm(paths, ord=2) / terms["forget"].abs().amax(-1)
    return JacobianSummary(rel, unit, J[..., unit, unit], terms["forget"][..., unit])


# -- what the trained counter holds, in numbers -----------------------------------------------------

PROBE_STRINGS, PROBE_SEED = 400, 7      # fresh strings (never trained on) on which the counter is looked into
SATURATED = 0.05                        # a gate value within this distance of 0 or 1 counts as saturated


def saturated(gates: torch.Tensor, margin: float = SATURATED) -> int:
    """How many gate values lie within ``margin`` of 0 or of 1 (a whole count)."""
    return int(((gates < margin) | (gates > 1 - margin)).sum())


def gate_values(trace: dict[str, torch.Tensor]) -> torch.Tensor:
    """Every input, forget and output gate value of a trace, flattened into one vector."""
    return torch.cat([trace[g].flatten() for g in "ifo"])


@dataclass
class CounterProbe:
    """The trained counter looked into on fresh strings: its trace, the counting unit and what it holds."""

    x: torch.Tensor                  # (n, T) the strings, 1 = '(' and 0 = ')'
    balance: torch.Tensor            # (n, T) the running balance d_t
    trace: dict                      # float64 i, f, o, c_tilde, c, h of the textbook twin, (n, T, hidden) each
    correct: int                     # right answers of the model at every position of every string
    unit: int                        # the unit whose C follows the balance most closely
    up: torch.Tensor                 # C_t - C_{t-1} of that unit at every '(' (t >= 2)
    down: torch.Tensor               # ... and at every ')'
    r2_cell: float                   # R² of a linear read-out of the balance from C
    r2_hidden: float                 # ... and from H
    twin: torch.nn.Module = None     # the float64 textbook twin that was traced

    @property
    def positions(self) -> int:
        return self.x.numel()

    @property
    def unit_forget(self) -> torch.Tensor:
        return self.trace["f"][:, :, self.unit]


def probe_counter(model, n: int = PROBE_STRINGS, T: int = 40, seed: int = PROBE_SEED) -> CounterProbe:
    """Trace a bracket counter (a SequenceModel from :func:`train_counter`) on ``n`` fresh strings, in float64."""
    x, y, balance = bracket_balance(n, T, seed=seed)
    layer = layer_of(model, "probe_counter", "LSTM")
    textbook = twin(layer, dtype=torch.float64)
    dev = device_of(layer)
    with torch.no_grad(), textbook.tracing() as trace:
        textbook(model.features(x.to(dev)).double())
        correct = int((model(x.to(dev))[0].argmax(-1).cpu() == y).sum())
    trace = {k: v.cpu() for k, v in trace.items()}
    hidden = trace["c"].shape[-1]
    C, Hs, d = trace["c"].reshape(-1, hidden), trace["h"].reshape(-1, hidden), balance.reshape(-1).double()
    corr = torch.stack([torch.corrcoef(torch.stack([C[:, k], d]))[0, 1] for k in range(hidden)]).abs()
    unit = int(corr.nan_to_num(0.0).argmax())
    change = trace["c"][:, 1:, unit] - trace["c"][:, :-1, unit]        # C_t - C_{t-1} of the counting unit
    opening = x[:, 1:] == 1
    return CounterProbe(x, balance, trace, correct, unit, change[opening], change[~opening],
                        probe_r2(C, d), probe_r2(Hs, d), textbook)


# -- plain RNN against LSTM on long lags, and the forget-gate bias ----------------------------------


def long_lag_study(T_long: int, steps: int, seed: int = 0, hidden_size: int = 32) -> dict:
    """Marked recall for the RNN at T = 10 and T_long, and the LSTM at T_long (same width, budget, seed).

    Returns {"runs": {(kind, T): (model, History)}, "final": {(kind, T): accuracy at the longest third of
    lags, as a whole count out of "long_total"}, "far": {kind: mean ‖∂h_T/∂x_t‖ over the oldest third
    of the inputs, after training}}.
    """
    from .gradients import input_sensitivity
    from .memory import train_marked_recall
    from ..data.lag_tasks import marked_recall

    runs = {(kind, T): train_marked_recall(kind, T, hidden_size=hidden_size, steps=steps, seed=seed)
            for kind, T in (("rnn", 10), ("rnn", T_long), ("lstm", T_long))}
    final, long_total = {}, {}
    for (kind, T), (m, _) in runs.items():
        x, y, lag = marked_recall(1000, T, seed=LAG_TEST_SEED)              # the runs' own test set
        long = lag >= 2 * T // 3
        with torch.no_grad():
            hit = m(x.to(device_of(m)))[0].argmax(-1).cpu() == y
        final[kind, T], long_total[kind, T] = int(hit[long].sum()), int(long.sum())
    x, _, _ = marked_recall(64, T_long, seed=5)
    far = {}
    for kind in ("rnn", "lstm"):
        m = runs[kind, T_long][0]
        reach = input_sensitivity(m.rnn, m.embed(x.to(device_of(m))).detach())
        far[kind] = float(reach[:T_long // 3].mean())
    return {"runs": runs, "final": final, "long_total": long_total, "far": far}


def forget_bias_at_init(bias: float, seed: int = 0, T: int = 60, input_size: int = 16,
                        hidden_size: int = 32) -> tuple[float, float]:
    """A fresh LSTM with forget bias ``bias``: (‖∂h_T/∂x_1‖, the factor kept per step on average)."""
    from .gradients import input_sensitivity
    from .. import cudnn
    from ..weights import set_forget_bias

    set_seed(seed)
    layer = set_forget_bias(cudnn.LSTM(input_size, hidden_size), bias)
    r = input_sensitivity(layer, torch.randn(64, T, input_size))
    return float(r[0]), float((r[0] / r[-1]) ** (1 / (T - 1)))


def forget_bias_training(seeds, T: int = 60, steps: int = 300, hidden_size: int = 32, eval_every: int = 25):
    """Marked recall with forget bias 0 and 1 from the same seeds; one row per (seed, bias).

    Each row: "seed", "forget bias", "steps to 90% at lags ≥ 2T/3" (None: not within ``steps``), "mean
    accuracy during training" (the mean of the held-out curve, float64) and "final accuracy".
    """
    from .memory import train_marked_recall

    rows = []
    for s in seeds:
        for b in (0.0, 1.0):
            _, h = train_marked_recall("lstm", T, hidden_size=hidden_size, steps=steps, forget_bias=b, seed=s,
                                       eval_every=eval_every)
            curve = h.metric("acc_long")
            reached = next((eval_every * (n + 1) for n, a in enumerate(curve) if a >= 0.9), None)
            rows.append({"seed": s, "forget bias": b, "steps to 90% at lags ≥ 2T/3": reached,
                         "mean accuracy during training": math.fsum(curve) / len(curve), "final accuracy": curve[-1]})
    return rows


def rnn_reach_at_init(seed: int = 0, T: int = 60, input_size: int = 16, hidden_size: int = 32) -> torch.Tensor:
    """‖∂h_T/∂x_t‖ for t = 1..T of a freshly initialised RNN (cuDNN engine), mean over 64 random sequences."""
    from .gradients import input_sensitivity
    from .. import cudnn

    set_seed(seed)
    x = torch.randn(64, T, input_size)
    return input_sensitivity(cudnn.RNN(input_size, hidden_size), x)
