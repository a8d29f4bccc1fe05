"""Long-range memory of RNN, LSTM and GRU: delayed recall, adding problem, copy memory, marked recall.

Every run goes through :func:`rnn_book.train.fit` and returns a result with the test score next to
the score of the best memoryless strategy (the baseline), so "learned something" always means "beat
the baseline". The long runs of chapter 8 go from the command line::

    python -m rnn_book memory                 # the length study: results/longrange.json and .md
    python -m rnn_book memory --threads 2     # the same runs with two CPU threads, added to the same file
    python -m rnn_book memory spread          # chapter 8's results over seeds and threads: results/ch08_spread.*
    python -m rnn_book memory --quick         # the small sizes (minutes)
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
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
from .gradients import init_recurrent, set_spectral_radius

HELD_OUT_SEED = 999_983        # test data come from seeds no training batch ever uses (training: epoch_seed)
# the LSTM chapter's tasks: one fixed test set for every run, and the start of each run's training stream
LAG_TEST_SEED, MARKED_DATA_SEED, COUNTER_DATA_SEED = 2024, 10_000, 20_000
STEPS_PER_EPOCH = 50           # fit's "epoch" for generated tasks: fresh data, and a point on the curve
SOLVED, NO_MEMORY = 0.1, 0.9   # loss / baseline below SOLVED: solved; at least NO_MEMORY: no better than no memory
SOLVED_WINDOW = 50             # steps averaged when asking at which step the training loss got below SOLVED
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
    variant: str = ""         # a name for a non-default model (initialisation, nonlinearity, forget-gate bias)

    @property
    def ratio(self) -> float:
        """score / baseline for the losses (0 = perfect, 1 = no better than no memory)."""
        return self.score / self.baseline

    @property
    def verdict(self) -> str:
        """'solved' (loss below 10% of the baseline), 'baseline' (no better than no memory: loss at
        least 90% of the baseline), else 'partly'."""
        return "solved" if self.ratio < SOLVED else "baseline" if self.ratio >= NO_MEMORY else "partly"

    @property
    def solved_at(self) -> int | None:
        """The first optimiser step at which the mean training loss of the last 50 steps is below
        10% of the baseline (None: never, or no history)."""
        return first_below(self.history.step_loss if self.history else [], SOLVED * self.baseline)

    def row(self) -> dict:
        return {"task": self.task, "model": self.variant or self.kind.upper(), "T": self.T, "test loss": self.score,
                "baseline": self.baseline, "loss / baseline": self.ratio, "verdict": self.verdict,
                "solved at step": self.solved_at, "steps": self.steps, "seconds": round(self.seconds, 1)}


def first_below(losses, level: float, window: int = SOLVED_WINDOW) -> int | None:
    """The first step n (1-based) whose mean loss over steps n-window+1..n is below ``level`` (None: never)."""
    if len(losses) < window:
        return None
    means = np.convolve(np.asarray(losses, dtype=np.float64), np.ones(window) / window, mode="valid")
    hits = np.flatnonzero(means < level)
    return int(hits[0]) + window if len(hits) else None


@dataclass
class RecallResult:
    """A model trained to name the token ``k`` steps back, for lags k drawn from 1..max_lag, tested at ``lags``."""

    kind: str
    max_lag: int
    lags: list[int]
    accuracy: list[float]     # correct / n_test, in float64
    chance: float
    steps: int
    seconds: float
    history: History = field(repr=False, default=None)
    model: nn.Module = field(repr=False, default=None)
    correct: list[int] | None = None      # right answers per lag, out of n_test
    n_test: int | None = None

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
                forget_bias: float | None = None, n_symbols: int = 8, init: str | None = None,
                nonlinearity: str = "tanh") -> SequenceModel:
    """The model every run of ``task`` ("adding", "copy", "recall") trains: one recurrent layer and a linear head.

    forget_bias: for the LSTM, the initial forget-gate bias (None keeps torch.nn's default, 0 on average).
    init ("orthogonal" or "identity") and nonlinearity ("tanh" or "relu"): for the vanilla RNN only;
    init None keeps torch.nn's default U(-1/√H, 1/√H).
    """
    kind = check_kind(kind, "build_model")
    if kind != "rnn" and (init is not None or nonlinearity != "tanh"):
        raise ValueError(f"build_model: init= and nonlinearity= choose a vanilla RNN's start; kind is {kind!r}")
    rnn_kw = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    settings.seed(seed)
    if task == "adding":
        model = SequenceModel(kind, engine, hidden_size, 1, input_size=2, head="last", **rnn_kw)
    elif task == "copy":
        model = SequenceModel(kind, engine, hidden_size, n_symbols + 1, vocab_size=n_symbols + 2, head="every_step",
                              **rnn_kw)
    elif task == "recall":
        model = SequenceModel(kind, engine, hidden_size, n_symbols, vocab_size=n_symbols, head="last", **rnn_kw)
    else:
        raise ValueError(f"build_model: task must be 'adding', 'copy' or 'recall'; got {task!r}")
    if forget_bias is not None and kind == "lstm":
        set_forget_bias(model, forget_bias)
    if init is not None:
        init_recurrent(model.rnn, init, seed=seed)
    return model


def _check(kind, T, steps, who, min_T=1):
    check_kind(kind, who)
    if not isinstance(T, int) or T < min_T:
        raise ValueError(f"{who}: expected an integer length/lag >= {min_T}; got {T!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{who}: steps must be a positive integer; got {steps!r}")


def train_adding(kind: str, T: int, *, hidden_size: int = 64, steps: int = 1000, batch_size: int = 32,
                 lr: float = 1e-2, clip: float | None = 1.0, engine: str = "cudnn", seed: int = 0, n_test: int = 1000,
                 optimizer: str = "adam", forget_bias: float | None = 1.0, init: str | None = None,
                 nonlinearity: str = "tanh", variant: str = "") -> BenchmarkResult:
    """The adding problem at length T: regress the sum of the two marked numbers from the last state.

    init, nonlinearity: a vanilla RNN's start (see :func:`build_model`); variant: a name for the result.
    """
    _check(kind, T, steps, "train_adding", min_T=2)
    model = build_model("adding", kind, hidden_size, engine=engine, seed=seed, forget_bias=forget_bias, init=init,
                        nonlinearity=nonlinearity)
    r = _train(kind, "adding", T, lambda n, s: adding_problem(n, T, seed=s), mse_last, ADDING_BASELINE_MSE,
               model, steps, batch_size, lr, clip, seed, n_test, optimizer)
    r.variant = variant
    return r


# The remedies for a vanishing gradient, each against its default: name -> (kind, what differs)
REMEDIES = {
    "RNN (default init)": ("rnn", {}),
    "RNN, orthogonal W_hh": ("rnn", {"init": "orthogonal"}),
    "IRNN (ReLU, W_hh = I)": ("rnn", {"init": "identity", "nonlinearity": "relu"}),
    "LSTM, b_f = 0 (default)": ("lstm", {"forget_bias": None}),
    "LSTM, b_f = 1": ("lstm", {"forget_bias": 1.0}),
}


def train_remedies(config: "TaskConfig", names=tuple(REMEDIES), seed: int = 0) -> dict[str, BenchmarkResult]:
    """Every remedy of ``names`` trained on the adding problem at length ``config.T[0]`` with the budget of
    ``config`` (hidden size, steps, learning rate); returns {name: result}."""
    unknown = [n for n in names if n not in REMEDIES]
    if unknown:
        raise ValueError(f"train_remedies: unknown remedies {unknown}; choose from {list(REMEDIES)}")
    kw = {k: v for k, v in asdict(config).items() if k not in ("T", "copy_len")}
    return {n: train_adding(REMEDIES[n][0], config.T[0], variant=n, seed=seed, **{**kw, **REMEDIES[n][1]})
            for n in names}


def remedy_model(name: str, hidden_size: int, seed: int = 0) -> SequenceModel:
    """The untrained model of one remedy (same weights as :func:`train_remedies` starts from)."""
    if name not in REMEDIES:
        raise ValueError(f"remedy_model: unknown remedy {name!r}; choose from {list(REMEDIES)}")
    kind, kw = REMEDIES[name]
    return build_model("adding", kind, hidden_size, seed=seed, **{"forget_bias": 1.0, **kw})


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


def recall_correct(model, batch) -> torch.Tensor:
    """How many test sequences the model answers right (an integer count)."""
    x, y = batch
    return (model(x)[0].argmax(-1) == y).sum()


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
    correct = [int(_score(model, recall_correct, *delayed_recall(n_test, k + 1, k, n_symbols=n_symbols,
                                                                 seed=HELD_OUT_SEED + k))) for k in lags]
    return RecallResult(kind, max_lag, lags, [c / n_test for c in correct], 1.0 / n_symbols, hist.steps,
                        time.perf_counter() - t0, hist, model, correct=correct, n_test=n_test)


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


# -- the sizes of the experiments ------------------------------------------------------------------
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
    lr: float = 1e-2


@dataclass(frozen=True)
class Config:
    """Which experiments run, and at what size (None: skip that task).

    recall, adding, copy: the benchmarks :func:`run_benchmarks` and :func:`length_study` run;
    clip_steps: the clipping runs of chapter 8; extra_remedies: the remedies (names in ``REMEDIES``)
    trained on the adding task beside the default RNN and the LSTM with b_f = 1.
    """

    recall: RecallConfig | None
    adding: TaskConfig | None
    copy: TaskConfig | None
    clip_steps: int | None = None
    extra_remedies: tuple[str, ...] = ()

    def only(self, *tasks: str) -> "Config":
        """The same sizes with every benchmark task not named switched off."""
        unknown = set(tasks) - {"recall", "adding", "copy"}
        if unknown:
            raise ValueError(f"Config.only: tasks are recall, adding and copy; got {sorted(unknown)}")
        return replace(self, **{t: None for t in ("recall", "adding", "copy") if t not in tasks})


# the chapter: moderate lengths; quick mode shrinks the budgets and trains no extra remedy (at the quick
# size and budget the IRNN does not leave the baseline; the chapter shows the full-mode spread instead)
CHAPTER_FULL = Config(RecallConfig(max_lag=64, hidden_size=32, steps=1000),
                      TaskConfig((50,), hidden_size=64, steps=2000),
                      TaskConfig((10,), hidden_size=64, steps=2000, copy_len=3), clip_steps=600,
                      extra_remedies=("RNN, orthogonal W_hh", "IRNN (ReLU, W_hh = I)", "LSTM, b_f = 0 (default)"))
CHAPTER_QUICK = Config(RecallConfig(max_lag=32, hidden_size=32, steps=400),
                       TaskConfig((40,), hidden_size=32, steps=700),
                       TaskConfig((10,), hidden_size=64, steps=600, copy_len=3), clip_steps=200,
                       extra_remedies=())
# the length study (claim C14): every model at growing lengths within one fixed budget, the papers' 10
# copied symbols; half the chapter's budget per run, so that three seeds fit in about 20 CPU-minutes
STUDY_FULL = Config(None, TaskConfig((10, 25, 50, 100), hidden_size=64, steps=1000),
                    TaskConfig((10, 50), hidden_size=64, steps=1000, copy_len=10))
STUDY_QUICK = Config(None, TaskConfig((10, 50), hidden_size=32, steps=300),
                     TaskConfig((5, 20), hidden_size=32, steps=300, copy_len=3))
STUDY_SEEDS = (0, 1, 2)
RESULTS = Path(__file__).resolve().parents[2] / "results"     # the repository's results/ folder


def chapter_config(quick: bool | None = None) -> Config:
    """The sizes of chapter 8's experiments in the mode that runs (or the one ``quick`` names)."""
    if quick is None:
        quick = settings.is_quick()
    return CHAPTER_QUICK if quick else CHAPTER_FULL


def _task_kwargs(cfg: TaskConfig) -> dict:
    return {k: v for k, v in asdict(cfg).items() if k != "T" and v is not None}


def run_benchmarks(config: Config | None = None, kinds=KINDS, seed: int = 0, log=print) -> dict[str, list]:
    """Every model on every benchmark task of ``config`` (default: the chapter's sizes in the mode that runs).

    Returns {"recall": [RecallResult per kind], "adding": [BenchmarkResult...], "copy": [BenchmarkResult...]}.
    """
    config = config or chapter_config()
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
        for T in cfg.T:
            for kind in kinds:
                r = train(kind, T, seed=seed, **_task_kwargs(cfg))
                out[task].append(r)
                if log:
                    log(_line(r))
    return out


def _line(r: BenchmarkResult) -> str:
    return (f"{r.task:6s} {r.kind.upper():4s} T={r.T:<4d} loss {r.score:.4f} (baseline {r.baseline:.4f}) "
            f"{r.verdict:8s} solved at {r.solved_at} {r.seconds:6.1f} s")


# -- the length study (claim C14): several seeds, growing lengths, one file ------------------------
def length_study(config: Config, seeds=STUDY_SEEDS, *, kinds=KINDS, threads: int | None = None,
                 path: Path | None = None, mode: str = "custom", log=print) -> list[dict]:
    """Every model at every length of ``config``'s adding and copy tasks, once per seed; one row per run.

    With ``path``, runs already in ``path``.json (same configuration) are kept and skipped, and the
    .json and .md are rewritten after every run, so a long study can stop and go on.
    """
    n_threads = threads or torch.get_num_threads()
    runs = _load_runs(path, config) if path else []
    have = {_run_key(r) for r in runs}
    t0 = time.perf_counter()
    with settings.threads(threads):
        for seed in seeds:
            for task, train in (("adding", train_adding), ("copy", train_copy)):
                cfg = getattr(config, task)
                for T in (cfg.T if cfg else ()):
                    for kind in kinds:
                        if (task, kind.upper(), T, seed, n_threads) in have:
                            continue
                        r = train(kind, T, seed=seed, **_task_kwargs(cfg))
                        runs.append({**r.row(), "seed": seed, "threads": n_threads})
                        if log:
                            log(f"seed {seed} threads {n_threads} " + _line(r))
                        if path:
                            write_study(runs, path, config, time.perf_counter() - t0, mode)
    if path and runs:
        write_study(runs, path, config, time.perf_counter() - t0, mode)    # the tables as the code writes them now
    return runs


def load_results(name: str) -> dict:
    """{"meta": ..., "runs": [...]} from ``results/<name>.json``, which a ``python -m rnn_book memory`` command wrote."""
    f = RESULTS / f"{name}.json"
    if not f.exists():
        raise FileNotFoundError(f"load_results: {f} does not exist; `python -m rnn_book memory` (the length study) "
                                f"or `python -m rnn_book memory spread` writes it")
    return json.loads(f.read_text())


def _run_key(row: dict) -> tuple:
    return row["task"], row["model"], row["T"], row["seed"], row["threads"]


def _load_runs(path: Path, config: Config) -> list[dict]:
    f = Path(path).with_suffix(".json")
    if not f.exists():
        return []
    data = json.loads(f.read_text())
    if data["meta"]["config"] != json.loads(json.dumps(asdict(config))):
        raise ValueError(f"length_study: {f} holds a study with another configuration; "
                         f"choose another --out or remove the file")
    return data["runs"]


def length_trend(runs: list[dict]) -> list[dict]:
    """One row per (task, model, T): how many runs, how many solved, and the spread of loss / baseline."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["task"], r["model"], r["T"]), []).append(r)
    rows = []
    for (task, model, T), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], KINDS.index(kv[0][1].lower()),
                                                                      kv[0][2])):
        ratios = sorted(r["loss / baseline"] for r in rs)
        steps = sorted(r["solved at step"] for r in rs if r["solved at step"] is not None)
        rows.append({"task": task, "model": model, "T": T, "runs": len(rs),
                     "solved": sum(r["verdict"] == "solved" for r in rs),
                     "at baseline": sum(r["verdict"] == "baseline" for r in rs),
                     "median loss / baseline": float(np.median(ratios)), "min": ratios[0], "max": ratios[-1],
                     "median solved at step": float(np.median(steps)) if steps else None})
    return rows


def write_study(runs: list[dict], path: Path, config: Config, seconds: float, mode: str = "custom") -> None:
    """``path``.json (every run) and ``path``.md (the trend table and every run)."""
    from ..plots import table

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seeds = sorted({r["seed"] for r in runs})
    threads = sorted({r["threads"] for r in runs})
    meta = {"command": "python -m rnn_book memory" + (" --quick" if mode == "quick" else ""), "mode": mode,
            "device": settings.describe_device(), "torch": torch.__version__, "config": asdict(config),
            "every run": describe_config(config), "seeds": seeds, "threads": threads,
            "seconds_this_session": round(seconds, 1)}
    path.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    md = [f"# Long-range memory against length ({mode} configuration)", "",
          f"`{meta['command']}` on {meta['device']}, torch {meta['torch']}; seeds {seeds}, "
          f"CPU threads {threads}. Every run: {meta['every run']}.", "",
          "## Trend", "", table(length_trend(runs), floatfmt=".3g"), "", "## Every run", "",
          table(sorted(runs, key=lambda r: (r["task"], r["model"], r["T"], r["seed"], r["threads"])),
                floatfmt=".3g"), ""]
    path.with_suffix(".md").write_text("\n".join(md))


def describe_config(config: Config) -> str:
    """The sizes of every run of a study, in words."""
    parts = []
    for task in ("adding", "copy"):
        cfg = getattr(config, task)
        if cfg:
            extra = f", {cfg.copy_len} symbols" if cfg.copy_len else ""
            parts.append(f"{task} at T = {', '.join(map(str, cfg.T))} (hidden {cfg.hidden_size}, {cfg.steps} Adam steps "
                         f"of lr {cfg.lr:g}, batch 32, clipping at 1{extra})")
    return "; ".join(parts) + "; the LSTM's forget-gate bias at 1"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnn_book memory", description=__doc__.splitlines()[0])
    p.add_argument("study", nargs="?", default="lengths", choices=("lengths", "spread"),
                   help="lengths: every model at growing lengths (claim C14, the default); "
                        "spread: chapter 8's training-dependent results over seeds and thread counts")
    p.add_argument("--quick", action="store_true", help="the quick sizes instead of the full ones")
    p.add_argument("--out", default=None, help="output path without suffix (.json and .md are written; default "
                                                "results/longrange[_quick] or results/ch08_spread[_quick])")
    p.add_argument("--seeds", default=",".join(map(str, STUDY_SEEDS)), help="comma-separated seeds")
    p.add_argument("--threads", default="1", help="comma-separated CPU thread counts, one pass each")
    p.add_argument("--tasks", default="adding,copy", help="lengths study: comma-separated subset of adding,copy")
    args = p.parse_args(argv)
    try:
        seeds = [int(v) for v in args.seeds.split(",")]
        threads = [int(v) for v in args.threads.split(",")]
    except ValueError:
        p.error(f"--seeds and --threads must be comma-separated integers; got {args.seeds!r}, {args.threads!r}")
    mode = "quick" if args.quick else "full"
    if args.study == "spread":
        from . import memory_spread

        out = Path(args.out) if args.out else RESULTS / f"ch08_spread{'_quick' if args.quick else ''}"
        return memory_spread.spread_study(seeds, threads, quick=args.quick, path=out)
    wanted = args.tasks.split(",")
    if not set(wanted) <= {"adding", "copy"}:
        p.error(f"--tasks must name adding or copy; got {args.tasks!r}")
    config = (STUDY_QUICK if args.quick else STUDY_FULL).only(*wanted)
    out = Path(args.out) if args.out else RESULTS / f"longrange{'_quick' if args.quick else ''}"
    runs = []
    for n in threads:
        runs = length_study(config, seeds, threads=n, path=out, mode=mode)
    print(f"wrote {out}.json and {out}.md")
    return runs
