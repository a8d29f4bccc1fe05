"""Long-range memory benchmarks for RNN, LSTM and GRU: delayed recall, the adding problem, copy memory.

Every run goes through :func:`rnn_book.train.fit` and returns a :class:`Result` with the test score
next to the score of the best memoryless strategy (the baseline), so "learned something" always
means "beat the baseline". The full-size experiments of chapter 8 run from the command line::

    python -m rnn_book memory                 # full size: writes results/longrange.json and .md
    python -m rnn_book memory --quick         # the chapter's quick sizes (seconds)
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .. import settings
from ..models import SequenceModel
from ..train import History, fit
from ..data.tasks import ADDING_BASELINE_MSE, adding_problem, copy_memory, copy_memory_baseline, delayed_recall

KINDS = ("rnn", "lstm", "gru")


@dataclass
class Result:
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
        return "solved" if self.ratio < 0.1 else "baseline" if self.ratio >= 0.9 else "partly"

    def row(self) -> dict:
        return {"task": self.task, "model": self.kind.upper(), "T": self.T, "test loss": self.score,
                "baseline": self.baseline, "loss / baseline": self.ratio, "verdict": self.verdict,
                "steps": self.steps, "seconds": round(self.seconds, 1)}


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


def _batches(make, batch: int, per_epoch: int, seed: int):
    """``epoch -> list of batches`` with fresh examples every epoch (the tasks are generated, never reused)."""
    def for_epoch(epoch):
        x, y = make(batch * per_epoch, seed * 100_003 + epoch + 1)
        return [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]
    return for_epoch


def _train(kind, task, T, make, loss_fn, baseline, model, steps, batch, lr, clip, seed, score_fn, n_test, optimizer):
    settings.seed(seed)
    per_epoch = max(1, min(50, steps))
    t0 = time.perf_counter()
    hist = fit(model, _batches(make, batch, per_epoch, seed), loss_fn, epochs=math.ceil(steps / per_epoch), lr=lr,
               clip=clip, optimizer=optimizer, max_steps=steps)
    x, y = make(n_test, 999_983 + seed)              # test data no training batch ever used
    with torch.no_grad():
        score = float(score_fn(model, (x, y)))
    return Result(kind, task, T, score, baseline, len(hist.step_loss), time.perf_counter() - t0, hist, model)


@torch.no_grad()
def set_forget_bias(layer, value: float = 1.0):
    """Set the LSTM forget-gate bias b_f (every layer and direction, either engine) to ``value``.

    With b_f = 0 a fresh LSTM forgets half its memory cell per step (σ(0) = 0.5); b_f = 1 keeps
    σ(1) ≈ 0.73 of it (Gers et al. 2000; Jozefowicz et al. 2015).
    """
    if getattr(layer, "kind", None) != "LSTM":
        raise TypeError(f"set_forget_bias: expected an LSTM layer (scratch.LSTM or cudnn.LSTM); got {type(layer).__name__}")
    H = layer.hidden_size
    for l in range(layer.num_layers):
        for d in range(layer.directions):
            w_ih, w_hh, b_ih, b_hh = (t.clone() for t in layer.torch_layout(l, d))
            b_ih[H:2 * H], b_hh[H:2 * H] = value, 0.0        # torch gate order i, f, g, o: f is the 2nd block
            layer.load_torch_layout(l, d, w_ih, w_hh, b_ih, b_hh)
    return layer


def make_model(task: str, kind: str, hidden: int, *, engine: str = "cudnn", seed: int = 0,
               forget_bias: float | None = None, n_symbols: int = 8) -> SequenceModel:
    """The model every run of ``task`` trains: one recurrent layer and a linear head, seeded.

    forget_bias: for the LSTM, the initial forget-gate bias (None keeps torch.nn's default, 0 on average).
    """
    settings.seed(seed)
    if task == "adding":
        model = SequenceModel(kind, engine, hidden, 1, input_size=2, head="last")
    elif task == "copy":
        model = SequenceModel(kind, engine, hidden, n_symbols + 1, vocab_size=n_symbols + 2, head="every_step")
    elif task == "recall":
        model = SequenceModel(kind, engine, hidden, n_symbols, vocab_size=n_symbols, head="last")
    else:
        raise ValueError(f"make_model: task must be 'adding', 'copy' or 'recall'; got {task!r}")
    if forget_bias is not None and kind == "lstm":
        set_forget_bias(model.rnn, forget_bias)
    return model


def _check(kind, T, steps, who, min_T=1):
    if kind not in KINDS:
        raise ValueError(f"{who}: kind must be one of {KINDS}; got {kind!r}")
    if not isinstance(T, int) or T < min_T:
        raise ValueError(f"{who}: expected an integer length/lag >= {min_T}; got {T!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{who}: steps must be a positive integer; got {steps!r}")


def train_adding(kind: str, T: int, *, hidden: int = 64, steps: int = 1000, batch: int = 32, lr: float = 1e-2,
                 clip: float | None = 1.0, engine: str = "cudnn", seed: int = 0, n_test: int = 1000,
                 optimizer: str = "adam", forget_bias: float | None = 1.0) -> Result:
    """The adding problem at length T: regress the sum of the two marked numbers from the last state."""
    _check(kind, T, steps, "train_adding", min_T=2)
    model = make_model("adding", kind, hidden, engine=engine, seed=seed, forget_bias=forget_bias)
    return _train(kind, "adding", T, lambda n, s: adding_problem(n, T, seed=s), mse_last, ADDING_BASELINE_MSE,
                  model, steps, batch, lr, clip, seed, mse_last, n_test, optimizer)


def train_copy(kind: str, T: int, *, hidden: int = 64, steps: int = 1000, batch: int = 32, lr: float = 1e-2,
               clip: float | None = 1.0, engine: str = "cudnn", seed: int = 0, n_test: int = 500,
               n_symbols: int = 8, copy_len: int = 10, optimizer: str = "adam",
               forget_bias: float | None = 1.0) -> Result:
    """Copy memory at delay T: read ``copy_len`` symbols, wait T steps, write them back (cross-entropy per step)."""
    _check(kind, T, steps, "train_copy")
    model = make_model("copy", kind, hidden, engine=engine, seed=seed, forget_bias=forget_bias, n_symbols=n_symbols)
    make = lambda n, s: copy_memory(n, T, n_symbols=n_symbols, copy_len=copy_len, seed=s)  # noqa: E731
    return _train(kind, "copy", T, make, ce_every_step, copy_memory_baseline(T, n_symbols, copy_len), model, steps,
                  batch, lr, clip, seed, ce_every_step, n_test, optimizer)


def recall_accuracy(model, batch) -> torch.Tensor:
    x, y = batch
    return (model(x)[0].argmax(-1) == y).float().mean()


@dataclass
class Recall:
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
            if a < 0.9:
                break
            h = k
        return h

    @property
    def chance_at(self) -> int | None:
        """The first tested lag whose accuracy is within 0.05 of chance (None: above chance everywhere)."""
        return memory_horizon(self.lags, self.accuracy, self.chance, margin=0.05)

    def row(self) -> dict:
        return {"model": self.kind.upper(), "trained on lags": f"1..{self.max_lag}",
                **{f"k={k}": a for k, a in zip(self.lags, self.accuracy)},
                "reliable up to k": self.reliable_horizon, "at chance from k": self.chance_at or "—"}


def train_recall(kind: str, max_lag: int, *, lags=None, hidden: int = 32, steps: int = 600, batch: int = 32,
                 lr: float = 1e-2, clip: float | None = 1.0, engine: str = "cudnn", seed: int = 0, n_test: int = 1000,
                 n_symbols: int = 8, optimizer: str = "adam", forget_bias: float | None = 1.0) -> Recall:
    """Delayed recall: read k + 1 tokens, name the first one, i.e. the token k steps before the end.

    Every training batch draws its own lag k from 1..max_lag; the test measures accuracy at each of
    ``lags`` (default: powers of two up to 4·max_lag, beyond what training showed). Chance is 1/n_symbols.
    """
    _check(kind, max_lag, steps, "train_recall")
    lags = list(lags) if lags is not None else [2 ** i for i in range(int(math.log2(4 * max_lag)) + 1)]
    model = make_model("recall", kind, hidden, engine=engine, seed=seed, forget_bias=forget_bias, n_symbols=n_symbols)
    per_epoch = max(1, min(50, steps))

    def batches(epoch):
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        ks = torch.randint(1, max_lag + 1, (per_epoch,), generator=g).tolist()
        return [delayed_recall(batch, k + 1, k, n_symbols=n_symbols, seed=seed * 10_000_019 + epoch * 1000 + i)
                for i, k in enumerate(ks)]
    settings.seed(seed)
    t0 = time.perf_counter()
    hist = fit(model, batches, ce_last, epochs=math.ceil(steps / per_epoch), lr=lr, clip=clip, optimizer=optimizer,
               max_steps=steps)
    acc = []
    with torch.no_grad():
        for k in lags:
            x, y = delayed_recall(n_test, k + 1, k, n_symbols=n_symbols, seed=999_983 + k)
            acc.append(float(recall_accuracy(model, (x, y))))
    return Recall(kind, max_lag, lags, acc, 1.0 / n_symbols, len(hist.step_loss), time.perf_counter() - t0, hist, model)


def clipping_run(clip: float | None, *, rho: float = 2.0, T: int = 50, hidden: int = 32, steps: int = 300,
                 lr: float = 0.1, batch: int = 32, seed: int = 0) -> History:
    """A vanilla tanh RNN with ρ(W_hh) = ``rho``, trained by plain SGD on the adding problem, clipped or not.

    The setting of Pascanu, Mikolov & Bengio (2013): a recurrent matrix above the edge of stability and
    a step size that is fine for ordinary gradients but not for the rare huge ones.
    """
    from .gradients import set_spectral_radius

    _check("rnn", T, steps, "clipping_run", min_T=2)
    model = make_model("adding", "rnn", hidden, seed=seed)
    set_spectral_radius(model.rnn, rho)
    settings.seed(seed)
    per_epoch = max(1, min(50, steps))
    return fit(model, _batches(lambda n, s: adding_problem(n, T, seed=s), batch, per_epoch, seed), mse_last,
               epochs=math.ceil(steps / per_epoch), lr=lr, optimizer="sgd", clip=clip, max_steps=steps)


def memory_horizon(lags, accuracies, chance: float, margin: float = 0.1) -> int | None:
    """The first lag whose accuracy is within ``margin`` of chance (None: above chance at every lag tried)."""
    if len(lags) != len(accuracies):
        raise ValueError(f"memory_horizon: got {len(lags)} lags but {len(accuracies)} accuracies")
    for k, a in zip(lags, accuracies):
        if a < chance + margin:
            return k
    return None


# -- the benchmark command ---------------------------------------------------------------------------
FULL = {"recall": {"max_lag": 64, "hidden": 32, "steps": 1000},
        "adding": {"T": [50, 100, 200], "hidden": 64, "steps": 2000},
        "copy": {"T": [20, 50, 100], "hidden": 64, "steps": 2000, "copy_len": 10}}
# the chapter: moderate lengths only; quick mode shrinks the budgets (the command's --quick runs it too)
CHAPTER_FULL = {"recall": FULL["recall"],
                "adding": {"T": [50], "hidden": 64, "steps": 2000},
                "copy": {"T": [10], "hidden": 64, "steps": 2000, "copy_len": 3}}
QUICK = {"recall": {"max_lag": 32, "hidden": 32, "steps": 400},
         "adding": {"T": [50], "hidden": 32, "steps": 700},
         "copy": {"T": [10], "hidden": 64, "steps": 800, "copy_len": 3}}


def run_benchmarks(config: dict | None = None, kinds=KINDS, seed: int = 0, log=print) -> dict[str, list]:
    """Every model on every task of ``config`` (default: FULL or QUICK by the run mode).

    Returns {"recall": [Recall per kind], "adding": [Result...], "copy": [Result...]}.
    """
    config = config or settings.pick(full=FULL, quick=QUICK)
    out: dict[str, list] = {"recall": [], "adding": [], "copy": []}
    if config.get("recall"):
        for kind in kinds:
            r = train_recall(kind, seed=seed, **config["recall"])
            out["recall"].append(r)
            if log:
                log(f"recall {kind.upper():4s} " + " ".join(f"k={k}:{a:.2f}" for k, a in zip(r.lags, r.accuracy))
                    + f"  {r.seconds:6.1f} s")
    for task, train in (("adding", train_adding), ("copy", train_copy)):
        if not config.get(task):
            continue
        kw = {k: v for k, v in config[task].items() if k != "T"}
        for T in config[task]["T"]:
            for kind in kinds:
                r = train(kind, T, seed=seed, **kw)
                out[task].append(r)
                if log:
                    log(f"{task:6s} {kind.upper():4s} T={T:<4d} loss {r.score:.4f} (baseline {r.baseline:.4f}) "
                        f"{r.verdict:8s} {r.seconds:6.1f} s")
    return out


def write_results(results: dict[str, list], path: Path, config: dict, seconds: float, mode: str = "custom") -> None:
    """``path``.json (every number) and ``path``.md (the tables the chapter quotes)."""
    from ..plots import table

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"mode": mode, "device": settings.describe_device(), "torch": torch.__version__, "config": config,
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
    wanted = set(args.tasks.split(","))
    if not wanted <= {"recall", "adding", "copy"}:
        p.error(f"--tasks must name recall, adding or copy; got {args.tasks!r}")
    config = {task: (cfg if task in wanted else None) for task, cfg in (QUICK if args.quick else FULL).items()}
    t0 = time.perf_counter()
    results = run_benchmarks(config, seed=args.seed)
    write_results(results, Path(args.out), config, time.perf_counter() - t0, mode="quick" if args.quick else "full")
    print(f"wrote {args.out}.json and {args.out}.md")
    return results
