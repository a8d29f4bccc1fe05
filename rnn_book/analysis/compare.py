"""Train RNN, LSTM and GRU on one task under several configurations and tabulate what happened.

    task = compare.char_lm_task(lm.prepare("moby_dick", 100_000))       # or compare.Task(...) for any task
    configs = {"equal hidden size": {"rnn": 128, "lstm": 128, "gru": 128},
               "equal parameters": compare.match_parameters(task, reference=("gru", 128))}
    rows = compare.run(task, configs, epochs=5, lr=1e-2)
    display(Markdown(plots.table(compare.table(rows))))
    compare.plot(rows)

A configuration maps each kind to a hidden size. A (kind, hidden size) pair that occurs in several
configurations is trained once and listed under each, so the shared model is not paid for twice.
Every model starts from ``seed`` and sees the same batches; the seconds per epoch are the median of
its epochs, measured in the same process one model after the other.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import torch
from torch import nn
from torch.nn import functional as F

from ..checks import KINDS
from ..models import SequenceModel
from ..settings import device_of, seed as _seed
from ..train import History, count_parameters, fit



@dataclass
class Task:
    """Everything :func:`run` needs to know about a task.

    build_model: ``(kind, hidden_size) -> model``.
    batches, loss_fn, evaluate: as :func:`rnn_book.train.fit` takes them.
    metric: the key of ``evaluate``'s dict that the table reports; ``lower_is_better`` says which way is good.
    baseline: the metric of a model that learned nothing useful (shown beside the rows), if known.
    kinds: the labels ``build_model`` understands (the three cells by default; a variant task may use its own,
        e.g. two forms of one cell).
    """

    name: str
    build_model: Callable[[str, int], nn.Module]
    batches: Callable[[int], Iterable] | Iterable
    loss_fn: Callable[[nn.Module, object], torch.Tensor]
    evaluate: Callable[[nn.Module], dict[str, float]]
    metric: str
    lower_is_better: bool = True
    baseline: float | None = None
    info: dict = field(default_factory=dict)
    kinds: tuple[str, ...] = KINDS


@dataclass
class Row:
    """One trained model: its configuration, size, learning curve and final metric."""

    config: str
    kind: str
    hidden_size: int
    params: int
    history: History
    metric: str
    final: float
    seconds_per_epoch: float
    model: nn.Module | None = None

    @property
    def curve(self) -> list[float]:
        return self.history.metric(self.metric)

    def as_dict(self) -> dict[str, object]:
        model = self.kind.upper() if self.kind in KINDS else self.kind
        return {"config": self.config, "model": model, "hidden": self.hidden_size, "parameters": self.params,
                f"valid {self.metric}": round(self.final, 4), "s / epoch": round(self.seconds_per_epoch, 2),
                "epochs": len(self.history.train_loss)}


def _check_configs(configs, kinds=KINDS) -> None:
    if not isinstance(configs, Mapping) or not configs:
        raise TypeError(f"configs must be a non-empty dict {{name: {{kind: hidden_size}}}}; got {configs!r}")
    for name, cfg in configs.items():
        if not isinstance(cfg, Mapping) or not cfg:
            raise TypeError(f"configs[{name!r}] must be a non-empty dict {{kind: hidden_size}}; got {cfg!r}")
        for kind, hidden in cfg.items():
            if kind not in kinds:
                raise ValueError(f"configs[{name!r}]: kind must be one of {kinds}; got {kind!r}")
            if not isinstance(hidden, int) or isinstance(hidden, bool) or hidden < 1:
                raise ValueError(f"configs[{name!r}][{kind!r}]: hidden size must be a positive int; got {hidden!r}")


def run(task: Task, configs: Mapping[str, Mapping[str, int]], epochs: int, lr: float = 1e-3, seed: int = 0,
        clip: float | None = 1.0, keep_models: bool = False, **fit_kwargs) -> list[Row]:
    """Train every (kind, hidden size) of ``configs`` on ``task``; one :class:`Row` per config and kind."""
    if not isinstance(task, Task):
        raise TypeError(f"run: task must be a compare.Task; got {type(task).__name__}")
    _check_configs(configs, task.kinds)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"run: epochs must be a positive int; got {epochs!r}")
    trained: dict[tuple[str, int], tuple[nn.Module, History]] = {}
    rows = []
    for config, cfg in configs.items():
        for kind, hidden in cfg.items():
            if (kind, hidden) not in trained:
                _seed(seed)
                model = task.build_model(kind, hidden)
                hist = fit(model, task.batches, task.loss_fn, epochs=epochs, lr=lr, clip=clip,
                           evaluate=task.evaluate, **fit_kwargs)
                trained[kind, hidden] = (model, hist)
            model, hist = trained[kind, hidden]
            final = hist.metric(task.metric)[-1] if hist.valid else float("nan")
            rows.append(Row(config, kind, hidden, count_parameters(model), hist, task.metric, final,
                            statistics.median(hist.seconds) if hist.seconds else float("nan"),
                            model if keep_models else None))
    return rows


def table(rows: list[Row]) -> list[dict[str, object]]:
    """The rows as dicts for :func:`rnn_book.plots.table`."""
    return [r.as_dict() for r in rows]


def lookup(rows: list[Row], config: str, kind: str) -> Row:
    """The row of one configuration and kind."""
    for r in rows:
        if r.config == config and r.kind == kind:
            return r
    have = sorted({(r.config, r.kind) for r in rows})
    raise KeyError(f"no row for config={config!r}, kind={kind!r}; rows: {have}")


def plot(rows: list[Row], title: str | None = None, ylabel: str | None = None, baseline: float | None = None):
    """Validation curves, one panel per configuration; returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ..plots import curves

    if not rows:
        raise ValueError("plot: no rows to plot (compare.run returned none?)")
    configs = list(dict.fromkeys(r.config for r in rows))
    fig, axes = plt.subplots(1, len(configs), figsize=(5.2 * len(configs), 3.6), sharey=True, squeeze=False)
    for ax, config in zip(axes[0], configs):
        series = {f"{r.as_dict()['model']} (H={r.hidden_size}, {r.params:,} params)": r.curve
                  for r in rows if r.config == config}
        curves(series, f"{title + ': ' if title else ''}{config}", "epoch", ylabel or f"validation {rows[0].metric}",
               ax=ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if baseline is not None:
            ax.axhline(baseline, color="gray", ls=":", lw=1)
            ax.text(1, baseline, " no learning", va="bottom", fontsize=8, color="gray")
    fig.tight_layout()
    return fig


def hidden_for_parameters(task: Task, kind: str, target: int, limit: int = 1 << 16) -> int:
    """The hidden size at which ``task.build_model(kind, ·)`` has the parameter count closest to ``target``."""
    if kind not in task.kinds:
        raise ValueError(f"hidden_for_parameters: kind must be one of {task.kinds}; got {kind!r}")
    counts: dict[int, int] = {}

    def count(h: int) -> int:            # grows with h: double until past the target, then bisect
        if h not in counts:
            counts[h] = count_parameters(task.build_model(kind, h))
        return counts[h]

    low, high = 1, 2
    while count(high) < target:
        if high >= limit:
            raise ValueError(f"hidden_for_parameters: even hidden_size={high} gives fewer than {target} parameters")
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if count(mid) < target:
            low = mid
        else:
            high = mid
    return min((low, high), key=lambda h: abs(count(h) - target))


def match_parameters(task: Task, reference: tuple[str, int], kinds=None) -> dict[str, int]:
    """``{kind: hidden_size}`` giving every kind about as many parameters as ``reference = (kind, hidden)``."""
    ref_kind, ref_hidden = reference
    kinds = task.kinds if kinds is None else kinds
    target = count_parameters(task.build_model(ref_kind, ref_hidden))
    return {k: ref_hidden if k == ref_kind else hidden_for_parameters(task, k, target) for k in kinds}


# -- ready-made tasks ---------------------------------------------------------------------------------
def char_lm_task(data, batch_size: int = 32, seq_len: int = 64, valid_chars: int | None = None,
                 embed_size: int = 32, engine: str = "cudnn", **layer_kwargs) -> Task:
    """Character-level language modelling on a :class:`rnn_book.tasks.lm.CharData`; metric = validation bits per character.

    One epoch is one pass over the training text with truncated BPTT: ``batch_size`` parallel streams
    whose state is carried from one window of ``seq_len`` characters to the next (:mod:`rnn_book.tasks.lm`).
    Validation reads the first ``valid_chars`` characters of the validation block (all by default) the
    same way. A model that knows nothing of the text scores log2(vocabulary size) bits.
    """
    from ..tasks import lm
    from ..data.text import StatefulBatches

    if not isinstance(data, lm.CharData):
        raise TypeError("char_lm_task: data must be an rnn_book.tasks.lm.CharData (from lm.prepare); "
                        f"got {type(data).__name__}")
    V = len(data.vocab)
    loss = lm.StatefulLoss()
    stream = StatefulBatches(data.train, batch_size, seq_len)
    valid = data.valid[:valid_chars] if valid_chars else data.valid

    def build_model(kind: str, hidden: int) -> nn.Module:
        return SequenceModel(kind, engine, hidden, V, vocab_size=V, embed_size=embed_size, **layer_kwargs)

    def evaluate(model) -> dict[str, float]:
        return {"bpc": lm.evaluate_stream(model, valid)["loss"] / math.log(2)}

    return Task(f"character-level language model on {data.name}", build_model, loss.passes(stream), loss, evaluate, "bpc", True,
                baseline=math.log2(V), info={"vocab_size": V, "train_chars": len(data.train),
                                             "valid_chars": len(valid), "steps_per_epoch": len(stream)})


def classification_task(train: tuple[torch.Tensor, torch.Tensor], valid: tuple[torch.Tensor, torch.Tensor],
                        n_classes: int, batch_size: int = 64, vocab_size: int | None = None,
                        embed_size: int | None = None, engine: str = "cudnn", **layer_kwargs) -> Task:
    """Sequence classification from the final state (token ids with ``vocab_size``, else float features).

    Metric: validation error rate (1 - accuracy); the baseline is always answering the commonest class.
    """
    x_train, y_train = train
    x_valid, y_valid = valid
    if len(x_train) != len(y_train) or len(x_valid) != len(y_valid):
        raise ValueError(f"classification_task: inputs and labels differ in length: train {len(x_train)} vs "
                         f"{len(y_train)}, valid {len(x_valid)} vs {len(y_valid)}")
    features = {"vocab_size": vocab_size, "embed_size": embed_size} if vocab_size else {"input_size": x_train.shape[-1]}

    def build_model(kind: str, hidden: int) -> nn.Module:
        return SequenceModel(kind, engine, hidden, n_classes, head="last", **features, **layer_kwargs)

    def batches(epoch: int):
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(epoch))
        return [(x_train[i], y_train[i]) for i in order.split(batch_size)]

    def loss_fn(model, batch) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x)[0], y)

    def evaluate(model) -> dict[str, float]:
        dev = device_of(model)
        return {"error": (model(x_valid.to(dev))[0].argmax(-1).cpu() != y_valid).float().mean().item()}

    commonest = torch.bincount(y_valid, minlength=n_classes).max().item() / len(y_valid)
    return Task("sequence classification", build_model, batches, loss_fn, evaluate, "error", True, baseline=1 - commonest)


def equal_size_and_parameters(task: Task, hidden: int, reference: str = "gru") -> dict[str, dict[str, int]]:
    """The two comparisons of chapter 3: every kind at hidden size ``hidden``, and every kind at the
    parameter count of ``(reference, hidden)``."""
    return {"equal hidden size": {k: hidden for k in task.kinds},
            "equal parameters": match_parameters(task, reference=(reference, hidden))}


def train_step_seconds(size, kinds=("lstm", "gru"), repeats: int = 7, dev: torch.device | str | None = None,
                       n_threads: int | None = 1) -> dict[tuple[str, str], float]:
    """Median seconds of one forward + backward pass per (form, kind), every layer timed round-robin.

    The forms are those of :func:`rnn_book.analysis.bench.layer_forms` (textbook, fused, cudnn: one
    function, one set of weights); ``size`` is a :class:`bench.Size`. ``n_threads``: CPU threads while
    timing (None: leave the setting alone; ignored on a GPU).
    """
    from ..settings import device as default_device, threads
    from ..timing import interleaved
    from . import bench

    dev = torch.device(dev) if dev is not None else default_device()
    fns = {}
    with threads(n_threads if dev.type == "cpu" else None):
        for kind in kinds:
            layers = bench.layer_forms(kind, size, dev)
            x = torch.randn(size.batch, size.time, size.input, device=dev, requires_grad=True)
            for form, layer in layers.items():
                fns[form, kind] = bench.train_step(layer, x)
        return interleaved(fns, repeats=repeats)
