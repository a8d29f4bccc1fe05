"""Hyper-parameter tuning, measured: a learning-rate x hidden-size grid, and random search against it.

Every trial trains one character-level language model for a fixed number of optimiser steps and
scores it on held-out text in nats per character. A trial *trains at all* when it ends clearly
below the loss of knowing only the letter frequencies (:func:`rnn_book.analysis.regularize.unigram_loss`).

Random search (Bergstra & Bengio 2012) draws the learning rate log-uniformly and the hidden size
from a list; with the same number of trials as a grid it tries as many distinct learning rates as
it has trials, where a k x k grid tries only k. That matters when one hyper-parameter (here the
learning rate) decides far more than the other.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..data.text import SmallCorpus, StatefulBatches, small_corpus
from ..tasks.lm import StatefulLoss, evaluate_stream
from ..models import SequenceModel
from ..checks import KINDS, check_kind
from ..settings import pick, seed as set_seed
from ..train import fit
from .regularize import unigram_loss
from .spread import Check, Experiment


@dataclass(frozen=True)
class Config:
    """Sizes of chapter 9's tuning sweep; :func:`config` picks full or quick values."""

    train_chars: int = 20_000
    valid_chars: int = 3_000
    lrs: tuple[float, ...] = tuple(float(v) for v in 10.0 ** np.arange(-4, 0.01, 0.5))
    hiddens: tuple[int, ...] = (16, 32, 64, 128)
    steps: int = 150                       # optimiser steps per trial, the same budget for every trial
    arm_hiddens: tuple[int, ...] = (32, 64, 128)     # the hidden sizes of grid and random search compared
    margin: float = 0.1                    # a trial "trains" when it ends this far below the letter-frequency loss

    @property
    def arm_lrs(self) -> tuple[float, ...]:
        """The coarse grid's learning rates: the sweep's first, middle and last."""
        return (self.lrs[0], self.lrs[len(self.lrs) // 2], self.lrs[-1])


FULL = Config()
QUICK = Config(lrs=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), hiddens=(32, 128), steps=40, arm_hiddens=(32, 128))


def config() -> Config:
    return pick(full=FULL, quick=QUICK)


def corpus(cfg: Config | None = None) -> SmallCorpus:
    cfg = cfg or config()
    return small_corpus(train_chars=cfg.train_chars, valid_chars=cfg.valid_chars)


def limits(data: SmallCorpus, margin: float = 0.1) -> tuple[float, float]:
    """(threshold, ceiling): a trial trains below ``threshold`` = letter-frequency loss - ``margin``;
    ``ceiling`` = ln V, the loss of a uniform guess over the V symbols, where a failed trial is capped."""
    return unigram_loss(data) - margin, math.log(len(data.vocab))



@dataclass
class Trial:
    """One training run of the sweep and its validation loss (``nan`` when it diverged)."""

    kind: str
    lr: float
    hidden_size: int
    valid_loss: float
    seconds: float

    @property
    def finite(self) -> bool:
        return math.isfinite(self.valid_loss)


def train_once(data: SmallCorpus, kind: str, lr: float, hidden_size: int, *, steps: int = 60, batch_size: int = 16,
               seq_len: int = 32, embed_size: int = 32, engine: str = "cudnn", seed: int = 0) -> Trial:
    """Train one model for ``steps`` optimiser steps (Adam, gradient norm clipped at 1) and score it."""
    check_kind(kind, "train_once")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"train_once: lr must be a positive number; got {lr!r}")
    if not (isinstance(hidden_size, (int, np.integer)) and hidden_size > 0):
        raise ValueError(f"train_once: hidden_size must be a positive int; got {hidden_size!r}")
    set_seed(seed)
    V = len(data.vocab)
    model = SequenceModel(kind, engine, int(hidden_size), V, vocab_size=V, embed_size=embed_size)
    loss = StatefulLoss()
    t0 = time.perf_counter()
    hist = fit(model, loss.passes(StatefulBatches(data.train, batch_size, seq_len)), loss, epochs=steps, lr=float(lr), clip=1.0, max_steps=steps)
    value = float("nan") if hist.diverged else evaluate_stream(model, data.valid, batch_size, 256)["loss"]
    return Trial(kind, float(lr), int(hidden_size), value if math.isfinite(value) else float("nan"),
                 time.perf_counter() - t0)


def grid(data: SmallCorpus, kinds: Sequence[str], lrs: Sequence[float], hidden_sizes: Sequence[int], **kwargs) -> list[Trial]:
    """Every (kind, lr, hidden) combination, each from the same seed."""
    return [train_once(data, k, lr, h, **kwargs) for k in kinds for h in hidden_sizes for lr in lrs]


def matrix(trials: Sequence[Trial], kind: str, lrs: Sequence[float], hidden_sizes: Sequence[int]) -> np.ndarray:
    """Validation loss of ``kind`` as a (hidden, lr) matrix, for :func:`rnn_book.plots.heatmap`."""
    m = np.full((len(hidden_sizes), len(lrs)), np.nan)
    for t in trials:
        if t.kind == kind and t.lr in lrs and t.hidden_size in hidden_sizes:
            m[list(hidden_sizes).index(t.hidden_size), list(lrs).index(t.lr)] = t.valid_loss
    return m


def trains(trial: Trial, threshold: float) -> bool:
    """Did the trial end below ``threshold`` (e.g. the letter-frequency loss minus a margin)?"""
    return trial.finite and trial.valid_loss < threshold


def count_that_trains(trials: Sequence[Trial], threshold: float) -> dict[str, int]:
    """Per kind, how many of its trials :func:`trains` (an integer count, out of :func:`trials_per_kind`)."""
    kinds = sorted({t.kind for t in trials}, key=lambda k: KINDS.index(k) if k in KINDS else 99)
    return {k: sum(trains(t, threshold) for t in trials if t.kind == k) for k in kinds}


def trials_per_kind(trials: Sequence[Trial]) -> dict[str, int]:
    kinds = sorted({t.kind for t in trials}, key=lambda k: KINDS.index(k) if k in KINDS else 99)
    return {k: sum(t.kind == k for t in trials) for k in kinds}


def spread(trials: Sequence[Trial], kind: str, axis: str, ceiling: float) -> float:
    """How much ``axis`` ("lr" or "hidden") matters: the mean, over the other axis, of max - min loss along it.

    Losses are capped at ``ceiling`` (e.g. log(vocabulary size), the loss of a uniform guess) and a
    diverged trial counts as ``ceiling``: past that point a run has simply failed, by however much.
    """
    if axis not in ("lr", "hidden"):
        raise ValueError(f"spread: axis must be 'lr' or 'hidden'; got {axis!r}")
    other = "hidden_size" if axis == "lr" else "lr"
    groups: dict[float, list[float]] = {}
    for t in trials:
        if t.kind == kind:
            groups.setdefault(getattr(t, other), []).append(min(t.valid_loss, ceiling) if t.finite else ceiling)
    ranges = [max(v) - min(v) for v in groups.values() if len(v) > 1]
    if not ranges:
        raise ValueError(f"spread: no {kind!r} trials vary along {axis!r}")
    return float(np.mean(ranges))


def subset(trials: Sequence[Trial], kind: str, lrs: Sequence[float], hidden_sizes: Sequence[int]) -> list[Trial]:
    """The trials of ``kind`` on the sub-grid ``lrs`` x ``hidden_sizes`` (a coarser grid search, already paid for)."""
    return [t for t in trials if t.kind == kind and t.lr in lrs and t.hidden_size in hidden_sizes]


def summary(trials: Sequence[Trial], threshold: float, ceiling: float) -> list[dict[str, object]]:
    """Per kind: share of settings that train, the best setting, the learning rates that train, both spreads."""
    rows = []
    for k in sorted({t.kind for t in trials}, key=lambda k: KINDS.index(k) if k in KINDS else 99):
        mine = [t for t in trials if t.kind == k]
        ok = sorted(t.lr for t in mine if trains(t, threshold))
        b = best(mine)
        rows.append({"model": k.upper(), "settings that train": f"{sum(trains(t, threshold) for t in mine)} of {len(mine)}",
                     "best loss": b.valid_loss, "best lr": f"{b.lr:.0e}", "best hidden": b.hidden_size,
                     "learning rates that train": f"{ok[0]:.0e} .. {ok[-1]:.0e}" if ok else "none",
                     "spread over lr": _spread_or_nan(mine, k, "lr", ceiling),
                     "spread over hidden": _spread_or_nan(mine, k, "hidden", ceiling)})
    return rows


def _spread_or_nan(trials, kind, axis, ceiling) -> float:
    try:
        return spread(trials, kind, axis, ceiling)
    except ValueError:                   # a sweep with a single value on the other axis
        return float("nan")


def log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``n`` numbers whose logarithm is uniform on [log low, log high]: equal odds for every decade."""
    if not 0 < low < high:
        raise ValueError(f"log_uniform: need 0 < low < high; got low={low!r}, high={high!r}")
    return np.exp(rng.uniform(math.log(low), math.log(high), size=n))


def random_search(data: SmallCorpus, kind: str, budget: int, lr_range: tuple[float, float],
                  hidden_sizes: Sequence[int], seed: int = 0, **kwargs) -> list[Trial]:
    """``budget`` trials: lr log-uniform in ``lr_range``, hidden size drawn uniformly from ``hidden_sizes``."""
    if not isinstance(budget, int) or budget < 1:
        raise ValueError(f"random_search: budget must be a positive int; got {budget!r}")
    rng = np.random.default_rng(seed)
    lrs = log_uniform(rng, lr_range[0], lr_range[1], budget)
    hs = rng.choice(np.asarray(hidden_sizes), size=budget)
    return [train_once(data, kind, float(lr), int(h), **kwargs) for lr, h in zip(lrs, hs)]


def best(trials: Sequence[Trial]) -> Trial:
    """The trial with the lowest validation loss (diverged trials never win)."""
    finite = [t for t in trials if t.finite]
    if not finite:
        raise ValueError("best: every trial diverged")
    return min(finite, key=lambda t: t.valid_loss)


def plot_heatmaps(trials: Sequence[Trial], lrs: Sequence[float], hidden_sizes: Sequence[int],
                  kinds: Sequence[str] = KINDS, vmax: float | None = None):
    """One heatmap per kind: validation loss over (hidden size, learning rate); blank = diverged."""
    import matplotlib.pyplot as plt

    from ..plots import heatmap

    mats = [matrix(trials, k, lrs, hidden_sizes) for k in kinds]
    finite = np.concatenate([m[np.isfinite(m)] for m in mats])
    vmin = float(finite.min()) if finite.size else None
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.2))
    axes = [axes] if len(kinds) == 1 else list(axes)
    for ax, k, m in zip(axes, kinds, mats):
        heatmap(m, f"{k.upper()}: validation loss", "learning rate", "hidden size",
                xticks=[f"{lr:.0e}" for lr in lrs], yticks=list(hidden_sizes), ax=ax, cmap="viridis_r",
                colorbar="nats per character", annotate=True, vmin=vmin, vmax=vmax)
    fig.tight_layout()
    return fig


def plot_search(grid_trials: Sequence[Trial], random_trials: Sequence[Trial], fail_value: float):
    """Where each search put its trials (left) and the loss each got against its learning rate (right)."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4))
    for trials, name, marker in ((grid_trials, "grid", "s"), (random_trials, "random", "o")):
        lr = [t.lr for t in trials]
        a.scatter(lr, [t.hidden_size for t in trials], marker=marker, label=name, alpha=0.8)
        b.scatter(lr, [t.valid_loss if t.finite else fail_value for t in trials], marker=marker, label=name,
                  alpha=0.8)
    for ax in (a, b):
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    a.set_yscale("log", base=2)
    a.set_ylabel("hidden size")
    a.set_title(f"the same budget: {len(grid_trials)} trials each")
    b.set_ylabel("validation loss (nats per character)")
    b.set_title("loss against learning rate (diverged drawn at the top)")
    fig.tight_layout()
    return fig


def search_arms(data: SmallCorpus, trials: Sequence[Trial], cfg: Config, seed: int = 0,
                kind: str = "lstm") -> tuple[list[Trial], list[Trial]]:
    """Grid against random search at one budget: the coarse sub-grid ``cfg.arm_lrs x cfg.arm_hiddens`` of
    ``trials`` (already paid for), and as many random-search trials drawn from ``seed``."""
    grid_arm = subset(trials, kind, cfg.arm_lrs, cfg.arm_hiddens)
    random_arm = random_search(data, kind, len(grid_arm), (cfg.lrs[0], cfg.lrs[-1]), cfg.arm_hiddens, seed=seed,
                               steps=cfg.steps)
    return grid_arm, random_arm


def measures(trials: Sequence[Trial], threshold: float, ceiling: float, grid_arm: Sequence[Trial] = (),
             random_arm: Sequence[Trial] = ()) -> dict[str, float]:
    """The numbers chapter 9 asserts on for tuning: counts of settings that train, the spreads, the searches."""
    count = count_that_trains(trials, threshold)
    m: dict[str, float] = {}
    for k in count:
        s_lr, s_h = spread(trials, k, "lr", ceiling), spread(trials, k, "hidden", ceiling)
        m |= {f"settings that train {k}": count[k], f"settings that fail {k}": trials_per_kind(trials)[k] - count[k],
              f"spread over lr {k}": s_lr, f"spread over hidden {k}": s_h, f"lr / hidden spread {k}": s_lr / s_h if s_h else math.inf}
    if {"rnn", "lstm", "gru"} <= set(count):
        m["settings that train, gated - rnn"] = min(count["lstm"], count["gru"]) - count["rnn"]
    if grid_arm and random_arm:
        m["grid best below threshold"] = threshold - best(grid_arm).valid_loss
        m["random best below threshold"] = threshold - best(random_arm).valid_loss
    return m


def _spread_tuning(seed: int) -> dict[str, float]:
    cfg = config()
    data = corpus(cfg)
    threshold, ceiling = limits(data, cfg.margin)
    trials = grid(data, KINDS, cfg.lrs, cfg.hiddens, steps=cfg.steps, seed=seed)
    return measures(trials, threshold, ceiling, *search_arms(data, trials, cfg, seed=seed))


# Thresholds from results/ch09_spread.md (seeds 0-2 x 1 and 2 threads, full and quick mode).
CHECKS = (
    *(Check(f"settings that train {k}", ">", full=0, quick=0) for k in KINDS),
    *(Check(f"settings that fail {k}", ">", full=0, quick=0) for k in KINDS),
    *(Check(f"spread over lr {k}", ">", full=0.5, quick=0.5) for k in KINDS),
    *(Check(f"lr / hidden spread {k}", ">", full=1.5, quick=1.5) for k in KINDS),
    Check("settings that train, gated - rnn", ">=", full=-9, quick=-2),
    Check("grid best below threshold", ">", full=0.2, quick=0.2),
    Check("random best below threshold", ">", full=0.2, quick=0.2),
)
SPREAD = (Experiment("ch09", "tuning", __name__, _spread_tuning, CHECKS),)


__all__ = ["Config", "config", "corpus", "limits", "Trial", "train_once", "grid", "matrix", "trains",
           "count_that_trains", "trials_per_kind", "spread", "subset", "summary", "log_uniform", "random_search",
           "search_arms", "best", "measures", "plot_heatmaps", "plot_search", "KINDS", "CHECKS"]
