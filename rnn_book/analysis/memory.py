"""Long-range memory benchmarks for RNN, LSTM and GRU: delayed recall, the adding problem, copy memory,
and the LSTM chapter's marked recall.

Every run goes through :func:`rnn_book.train.fit` and returns a result with the test score next to
the score of the best memoryless strategy (the baseline), so "learned something" always means "beat
the baseline". The full-size experiments of chapter 8 run from the command line::

    python -m rnn_book memory                 # full size: writes results/longrange.json and .md
    python -m rnn_book memory --quick         # the chapter's quick sizes (seconds)
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .. import settings
from ..checks import KINDS, check_kind
from ..data.lag_tasks import marked_recall
from ..data.tasks import ADDING_BASELINE_MSE, adding_problem, copy_memory, copy_memory_baseline, delayed_recall
from ..models import SequenceModel
from ..train import History, fit
from ..weights import set_forget_bias

HELD_OUT_SEED = 999_983        # test data come from seeds no training batch ever uses (training: epoch_seed)
# the LSTM chapter's tasks: one fixed test set for every run, and the start of each run's training stream
LAG_TEST_SEED, MARKED_DATA_SEED, COUNTER_DATA_SEED = 2024, 10_000, 20_000
STEPS_PER_EPOCH = 50           # fit's "epoch" for generated tasks: fresh data, and a point on the curve
SOLVED, NO_MEMORY = 0.1, 0.9   # loss / baseline below SOLVED: solved; at least NO_MEMORY: no better than no memory
RELIABLE, NEAR_CHANCE = 0.9, 0.05


@dataclass
class BenchmarkResult:
    """One trained model on the adding or copy task; ``score`` is its loss on fresh test data."""

    kind: str
    task: str                 # "adding" or "copy"
    T: int                    # the sequence length (adding) or the delay (copy)
    score: float              # adding: MSE; copy: cross-entropy per step
    baseline: float           # the memoryless strategy's loss on the same measure
    steps: int
    seconds: float
    history: History = field(repr=False, default=None)
    model: nn.Module = field(repr=False, default=None)

    @property
    def ratio(self) -> float:
        """score / baseline for the losses (0 = perfect, 1 = no better than no memory)."""
        return self.score / self.baseline

    @property
    def verdict(self) -> str:
        """'solved' (loss below 10% of the baseline), 'baseline' (no better than no memory: loss at
        least 90% of the baseline), else 'partly'."""
        return "solved" if self.ratio < SOLVED else "baseline" if self.ratio >= NO_MEMORY else "partly"

    def row(self) -> dict:
        return {"task": self.task, "model": self.kind.upper(), "T": self.T, "test loss": self.score,
                "baseline": self.baseline, "loss / baseline": self.ratio, "verdict": self.verdict,
                "steps": self.steps, "seconds": round(self.seconds, 1)}


@dataclass
class RecallResult:
    """A model trained to name the token ``k`` steps back, for lags k drawn from 1..max_lag, tested at ``lags``."""

    kind: str
    max_lag: int
    lags: list[int]
    accuracy: list[float]
    chance: float
    steps: int
    seconds: float
    history: History = field(repr=False, default=None)
    model: nn.Module = field(repr=False, default=None)

    @property
    def reliable_horizon(self) -> int:
        """The largest tested lag up to which every accuracy is at least 0.9 (0: not even the first)."""
        h = 0
        for k, a in zip(self.lags, self.accuracy):
            if a < RELIABLE:
                break
            h = k
        return h

    @property
    def chance_at(self) -> int | None:
        """The first tested lag whose accuracy is within 0.05 of chance (None: above chance everywhere)."""
        return memory_horizon(self.lags, self.accuracy, self.chance, margin=NEAR_CHANCE)

    def row(self) -> dict:
        return {"model": self.kind.upper(), "trained on lags": f"1..{self.max_lag}",
                **{f"k={k}": a for k, a in zip(self.lags, self.accuracy)},
                "reliable up to k": self.reliable_horizon, "at chance from k": self.chance_at or "—"}


# -- losses (module-level so that fit can call them) -----------------------------------------------
def mse_last(model, batch):
    x, y = batch
    return F.mse_loss(model(x)[0].squeeze(-1), y)


def ce_last(model, batch):
    x, y = batch
    return F.cross_entropy(model(x)[0], y)


def ce_every_step(model, batch):
    x, y = batch
    return F.cross_entropy(model(x)[0].flatten(0, 1), y.flatten())


def _fresh_batches(make, batch_size: int, per_epoch: int, seed: int):
    """``epoch -> list of batches`` with fresh examples every epoch (the tasks are generated, never reused)."""
    def for_epoch(epoch):
        x, y = make(batch_size * per_epoch, settings.epoch_seed(seed, epoch + 1))
        return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    return for_epoch


def _epochs(steps: int) -> tuple[int, int]:
    """(steps per epoch, epochs) for a run of ``steps`` optimiser steps."""
    per_epoch = max(1, min(STEPS_PER_EPOCH, steps))
    return per_epoch, math.ceil(steps / per_epoch)


def _score(model, score_fn, x, y) -> float:
    dev = settings.device_of(model)
    with torch.no_grad():
        return float(score_fn(model, (x.to(dev), y.to(dev))))


def _train(kind, task, T, make, loss_fn, baseline, model, steps, batch_size, lr, clip, seed, n_test, optimizer):
    settings.seed(seed)
    per_epoch, epochs = _epochs(steps)
    t0 = time.perf_counter()
    hist = fit(model, _fresh_batches(make, batch_size, per_epoch, seed), loss_fn, epochs=epochs, lr=lr, clip=clip,
               optimizer=optimizer, max_steps=steps)
    score = _score(model, loss_fn, *make(n_test, HELD_OUT_SEED + seed))
    return BenchmarkResult(kind, task, T, score, baseline, hist.steps, time.perf_counter() - t0, hist, model)


def build_model(task: str, kind: str, hidden_size: int, *, engine: str = "cudnn", seed: int = 0,
                forget_bias: float | None = None, n_symbols: int = 8) -> SequenceModel:
    """The model every run of ``task`` ("adding", "copy", "recall") trains: one recurrent layer and a linear head.

    forget_bias: for the LSTM, the initial forget-gate bias (None keeps torch.nn's default, 0 on average).
    """
    kind = check_kind(kind, "build_model")
    settings.seed(seed)
    if task == "adding":
        model = SequenceModel(kind, engine, hidden_size, 1, input_size=2, head="last")
    elif task == "copy":
        model = SequenceModel(kind, engine, hidden_size, n_symbols + 1, vocab_size=n_symbols + 2, head="every_step")
    elif task == "recall":
        model = SequenceModel(kind, engine, hidden_size, n_symbols, vocab_size=n_symbols, head="last")
    else:
        raise ValueError(f"build_model: task must be 'adding', 'copy' or 'recall'; got {task!r}")
    if forget_bias is not None and kind == "lstm":
        set_forget_bias(model, forget_bias)
    return model


def _check(kind, T, steps, who, min_T=1):
    check_kind(kind, who)
    if not isinstance(T, int) or T < min_T:
        raise ValueError(f"{who}: expected an integer length/lag >= {min_T}; got {T!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{who}: steps must be a positive integer; got {steps!r}")


def train_adding(kind: str, T: int, *, hidden_size: int = 64, steps: int = 1000, batch_size: int = 32,
                 lr: float = 1e-2, clip: float | None = 1.0, engine: str = "cudnn", seed: int = 0, n_test: int = 1000,
                 optimizer: str = "adam", forget_bias: float | None = 1.0) -> BenchmarkResult:
    """The adding problem at length T: regress the sum of the two marked numbers from the last state."""
    _check(kind, T, steps, "train_adding", min_T=2)
    model = build_model("adding", kind, hidden_size, engine=engine, seed=seed, forget_bias=forget_bias)
    return _train(kind, "adding", T, lambda n, s: adding_problem(n, T, seed=s), mse_last, ADDING_BASELINE_MSE,
                  model, steps, batch_size, lr, clip, seed, n_test, optimizer)


def train_copy(kind: str, T: int, *, hidden_size: int = 64, steps: int = 1000, batch_size: int = 32,
               lr: float = 1e-2, clip: float | None = 1.0, engine: str = "cudnn", seed: int = 0, n_test: int = 500,
               n_symbols: int = 8, copy_len: int = 10, optimizer: str = "adam",
               forget_bias: float | None = 1.0) -> BenchmarkResult:
    """Copy memory at delay T: read ``copy_len`` symbols, wait T steps, write them back (cross-entropy per step)."""
    _check(kind, T, steps, "train_copy")
    model = build_model("copy", kind, hidden_size, engine=engine, seed=seed, forget_bias=forget_bias,
                        n_symbols=n_symbols)
    make = lambda n, s: copy_memory(n, T, n_symbols=n_symbols, copy_len=copy_len, seed=s)  # noqa: E731
    return _train(kind, "copy", T, make, ce_every_step, copy_memory_baseline(T, n_symbols, copy_len), model, steps,
                  batch_size, lr, clip, seed, n_test, optimizer)


def recall_accuracy(model, batch) -> torch.Tensor:
    x, y = batch
    return (model(x)[0].argmax(-1) == y).double().mean()


def train_delayed_recall(kind: str, max_lag: int, *, lags=None, hidden_size: int = 32, steps: int = 600,
                         batch_size: int = 32, lr: float = 1e-2, clip: float | None = 1.0, engine: str = "cudnn",
                         seed: int = 0, n_test: int = 1000, n_symbols: int = 8, optimizer: str = "adam",
                         forget_bias: float | None = 1.0) -> RecallResult:
    """Delayed recall: read k + 1 tokens, name the first one, i.e. the token k steps before the end.

    Every training batch draws its own lag k from 1..max_lag; the test measures accuracy at each of
    ``lags`` (default: powers of two up to 4·max_lag, beyond what training showed). Chance is 1/n_symbols.
    """
    _check(kind, max_lag, steps, "train_delayed_recall")
    lags = list(lags) if lags is not None else [2 ** i for i in range(int(math.log2(4 * max_lag)) + 1)]
    model = build_model("recall", kind, hidden_size, engine=engine, seed=seed, forget_bias=forget_bias,
                        n_symbols=n_symbols)
    per_epoch, epochs = _epochs(steps)

    def batches(epoch):
        g = torch.Generator().manual_seed(settings.epoch_seed(seed, epoch))
        ks = torch.randint(1, max_lag + 1, (per_epoch,), generator=g).tolist()
        return [delayed_recall(batch_size, k + 1, k, n_symbols=n_symbols, seed=g) for k in ks]
    settings.seed(seed)
    t0 = time.perf_counter()
    hist = fit(model, batches, ce_last, epochs=epochs, lr=lr, clip=clip, optimizer=optimizer, max_steps=steps)
    acc = [_score(model, recall_accuracy, *delayed_recall(n_test, k + 1, k, n_symbols=n_symbols,
                                                          seed=HELD_OUT_SEED + k)) for k in lags]
    return RecallResult(kind, max_lag, lags, acc, 1.0 / n_symbols, hist.steps, time.perf_counter() - t0, hist, model)


def train_marked_recall(kind: str, T: int, hidden_size: int = 32, steps: int = 300, forget_bias: float | None = None,
                        seed: int = 0, lr: float = 1e-2, batch_size: int = 64, eval_every: int = 25,
                        n_symbols: int = 8, engine: str = "cudnn"):
    """Train ``kind`` on :func:`~rnn_book.data.lag_tasks.marked_recall` of length T; returns (model, History).

    ``forget_bias``: set the LSTM's forget-gate bias to this value before training (None: torch's default
    init). Every ``eval_every`` steps the model is scored on one fixed test set (the same for every
    run): ``acc`` over all lags and ``acc_long`` over lags >= 2T/3. Training data depend on ``seed``
    only, so two runs with one seed see the same batches and start from the same weights.
    """
    kind = check_kind(kind, "train_marked_recall")
    if forget_bias is not None and kind != "lstm":
        raise ValueError(f"train_marked_recall: forget_bias= sets an LSTM's forget-gate bias; kind is {kind!r}")
    settings.seed(seed)
    model = SequenceModel(kind, engine, hidden_size, n_symbols, vocab_size=2 * n_symbols, embed_size=16, head="last")
    if forget_bias is not None:
        set_forget_bias(model, forget_bias)
    dev = settings.device()
    x_test, y_test, lag_test = marked_recall(1000, T, n_symbols, seed=LAG_TEST_SEED)
    x_test, y_test, long = x_test.to(dev), y_test.to(dev), (lag_test >= 2 * T // 3).to(dev)
    data = torch.Generator().manual_seed(MARKED_DATA_SEED + seed)

    def batches(epoch):
        x, y, _ = marked_recall(batch_size * eval_every, T, n_symbols, seed=data)
        return zip(x.split(batch_size), y.split(batch_size))

    def evaluate(m):
        hit = (m(x_test)[0].argmax(-1) == y_test).double()
        return {"acc": hit.mean(), "acc_long": hit[long].mean()}

    with settings.threads(1):           # tiny models: a second thread costs more than it gains
        hist = fit(model, batches, ce_last, epochs=math.ceil(steps / eval_every), lr=lr, clip=1.0,
                   evaluate=evaluate, max_steps=steps, device=dev)
    return model, hist


def clipping_run(clip: float | None, *, rho: float = 2.0, T: int = 50, hidden_size: int = 32, steps: int = 300,
                 lr: float = 0.1, batch_size: int = 32, seed: int = 0) -> History:
    """A vanilla tanh RNN with ρ(W_hh) = ``rho``, trained by plain SGD on the adding problem, clipped or not.

    The setting of Pascanu, Mikolov & Bengio (2013): a recurrent matrix above the edge of stability and
    a step size that is fine for ordinary gradients but not for the rare huge ones.
    """
    from .gradients import set_spectral_radius

    _check("rnn", T, steps, "clipping_run", min_T=2)
    model = build_model("adding", "rnn", hidden_size, seed=seed)
    set_spectral_radius(model.rnn, rho)
    settings.seed(seed)
    per_epoch, epochs = _epochs(steps)
    return fit(model, _fresh_batches(lambda n, s: adding_problem(n, T, seed=s), batch_size, per_epoch, seed),
               mse_last, epochs=epochs, lr=lr, optimizer="sgd", clip=clip, max_steps=steps)


def memory_horizon(lags, accuracies, chance: float, margin: float = 0.1) -> int | None:
    """The first lag whose accuracy is within ``margin`` of chance (None: above chance at every lag tried)."""
    if len(lags) != len(accuracies):
        raise ValueError(f"memory_horizon: got {len(lags)} lags but {len(accuracies)} accuracies")
    for k, a in zip(lags, accuracies):
        if a < chance + margin:
            return k
    return None


# -- the sizes of the experiments, and the benchmark command ---------------------------------------
@dataclass(frozen=True)
class RecallConfig:
    max_lag: int
    hidden_size: int
    steps: int


@dataclass(frozen=True)
class TaskConfig:
    T: tuple[int, ...]                # the lengths (adding) or delays (copy) to train at
    hidden_size: int
    steps: int
    copy_len: int | None = None       # copy task only


@dataclass(frozen=True)
class Config:
    """Which experiments :func:`run_benchmarks` runs, and at what size (None: skip that task)."""

    recall: RecallConfig | None
    adding: TaskConfig | None
    copy: TaskConfig | None

    def only(self, *tasks: str) -> "Config":
        """The same sizes with every task not named switched off."""
        unknown = set(tasks) - {"recall", "adding", "copy"}
        if unknown:
            raise ValueError(f"Config.only: tasks are recall, adding and copy; got {sorted(unknown)}")
        return Config(*(getattr(self, t) if t in tasks else None for t in ("recall", "adding", "copy")))


FULL = Config(RecallConfig(max_lag=64, hidden_size=32, steps=1000),
              TaskConfig((50, 100, 200), hidden_size=64, steps=2000),
              TaskConfig((20, 50, 100), hidden_size=64, steps=2000, copy_len=10))
# the chapter: moderate lengths only; quick mode shrinks the budgets (the command's --quick runs it too)
CHAPTER_FULL = Config(FULL.recall, TaskConfig((50,), hidden_size=64, steps=2000),
                      TaskConfig((10,), hidden_size=64, steps=2000, copy_len=3))
QUICK = Config(RecallConfig(max_lag=32, hidden_size=32, steps=400), TaskConfig((50,), hidden_size=32, steps=700),
               TaskConfig((10,), hidden_size=64, steps=800, copy_len=3))


def chapter_config() -> Config:
    """The sizes of chapter 8's experiments in the mode that runs."""
    return settings.pick(full=CHAPTER_FULL, quick=QUICK)


def run_benchmarks(config: Config | None = None, kinds=KINDS, seed: int = 0, log=print) -> dict[str, list]:
    """Every model on every task of ``config`` (default: FULL or QUICK by the run mode).

    Returns {"recall": [RecallResult per kind], "adding": [BenchmarkResult...], "copy": [BenchmarkResult...]}.
    """
    config = config or settings.pick(full=FULL, quick=QUICK)
    out: dict[str, list] = {"recall": [], "adding": [], "copy": []}
    if config.recall:
        for kind in kinds:
            r = train_delayed_recall(kind, seed=seed, **asdict(config.recall))
            out["recall"].append(r)
            if log:
                log(f"recall {kind.upper():4s} " + " ".join(f"k={k}:{a:.2f}" for k, a in zip(r.lags, r.accuracy))
                    + f"  {r.seconds:6.1f} s")
    for task, train in (("adding", train_adding), ("copy", train_copy)):
        cfg = getattr(config, task)
        if not cfg:
            continue
        kw = {k: v for k, v in asdict(cfg).items() if k != "T" and v is not None}
        for T in cfg.T:
            for kind in kinds:
                r = train(kind, T, seed=seed, **kw)
                out[task].append(r)
                if log:
                    log(f"{task:6s} {kind.upper():4s} T={T:<4d} loss {r.score:.4f} (baseline {r.baseline:.4f}) "
                        f"{r.verdict:8s} {r.seconds:6.1f} s")
    return out


def write_results(results: dict[str, list], path: Path, config: Config, seconds: float, mode: str = "custom") -> None:
    """``path``.json (every number) and ``path``.md (the tables the chapter quotes)."""
    from ..plots import table

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"mode": mode, "device": settings.describe_device(), "torch": torch.__version__, "config": asdict(config),
            "total_seconds": round(seconds, 1)}
    rows = {task: [r.row() for r in rs] for task, rs in results.items()}
    path.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": rows}, indent=1))
    md = [f"# Long-range benchmarks ({meta['mode']} configuration)", "",
          f"`python -m rnn_book memory` on {meta['device']}, torch {meta['torch']}, "
          f"{seconds / 60:.1f} min in all.", ""]
    for task in ("recall", "adding", "copy"):
        if rows.get(task):
            md += [f"## {task}", "", table(rows[task], floatfmt=".3g"), ""]
    path.with_suffix(".md").write_text("\n".join(md))


def main(argv=None) -> dict[str, list]:
    p = argparse.ArgumentParser(prog="python -m rnn_book memory", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the chapter's quick sizes instead of the full ones")
    p.add_argument("--out", default="results/longrange", help="output path without suffix (.json and .md are written)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tasks", default="recall,adding,copy", help="comma-separated subset of recall,adding,copy")
    args = p.parse_args(argv)
    wanted = args.tasks.split(",")
    if not set(wanted) <= {"recall", "adding", "copy"}:
        p.error(f"--tasks must name recall, adding or copy; got {args.tasks!r}")
    config = (QUICK if args.quick else FULL).only(*wanted)
    t0 = time.perf_counter()
    results = run_benchmarks(config, seed=args.seed)
    write_results(results, Path(args.out), config, time.perf_counter() - t0, mode="quick" if args.quick else "full")
    print(f"wrote {args.out}.json and {args.out}.md")
    return results
