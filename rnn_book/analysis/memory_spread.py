"""How much chapter 8's training-dependent results move with the seed and the CPU thread count.

Each ``*_measures`` function turns one section's trained results into the numbers the chapter
asserts, by name; the chapter calls the same functions, so the spread study and the book measure one
thing. :func:`chapter_measures` runs every training experiment of the chapter for one seed, and
:func:`spread_study` repeats it over seeds and thread counts and writes the table of minima and
maxima next to the thresholds the chapter asserts (``python -m rnn_book memory spread``).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .. import settings
from ..checks import KINDS
from ..data.tasks import ADDING_BASELINE_MSE, adding_problem
from . import gradients as G
from . import memory as LR

PROBE_SEED, SELECTIVITY_SEED = 123, 7     # the chapter's probe inputs (16 sequences) and test inputs (256)


# -- one section each ----------------------------------------------------------------------------------
def clipping_measures(free, clipped) -> dict:
    """Section 8.3: an RNN at ρ = 2 trained by SGD without and with clipping (two Histories)."""
    tail = float(np.mean(clipped.step_loss[-50:]))
    return {"unclipped: diverged": bool(free.diverged),
            "clipped: diverged": bool(clipped.diverged or not np.all(np.isfinite(clipped.step_loss))),
            "clipped: largest training loss": float(max(clipped.step_loss)),
            "clipped: largest gradient norm before clipping": float(max(clipped.step_norm)),
            "clipped: last 50 steps' loss / baseline": tail / ADDING_BASELINE_MSE}


def recall_measures(recall: dict, short) -> dict:
    """Section 8.4: delayed recall of every model ({kind: RecallResult}) and the RNN trained on short lags.

    Counts of right answers out of each lag's test set, never fractions."""
    late = [c for k, c in zip(recall["rnn"].lags, recall["rnn"].correct) if k >= 4]
    return {**{f"recall {kind.upper()}: fewest correct at any lag": min(recall[kind].correct) for kind in ("lstm", "gru")},
            "recall RNN: most correct at any lag >= 4": max(late),
            "recall RNN trained on lags <= 8: fewest correct at any lag": min(short.correct),
            "recall: test sequences per lag": recall["rnn"].n_test}


def benchmark_measures(bench: dict) -> dict:
    """Section 8.5: test loss / baseline of every model on the adding and the copy task."""
    return {f"{r.task} {r.kind.upper()}: loss / baseline": r.ratio for r in bench["adding"] + bench["copy"]}


def probe_inputs(T: int) -> torch.Tensor:
    """The 16 adding-problem sequences on which sections 8.1 and 8.6 measure gradient reach."""
    return adding_problem(16, T, seed=PROBE_SEED)[0]


def reach(model, x: torch.Tensor) -> dict:
    """Gradient reach of a model's recurrent layer: per-step factor γ and ‖∂h_T/∂s_0‖ over the whole sequence."""
    norms = G.state_jacobian_norms(model.rnn, x)
    return {"gamma": G.decay_rate(norms), "whole sequence": float(norms[-1])}


def trained_measures(bench: dict) -> dict:
    """Section 8.6: the adding models of section 8.5 after training: gradient reach and what they read."""
    T = bench["adding"][0].T
    x_probe = probe_inputs(T)
    x_test = adding_problem(256, T, seed=SELECTIVITY_SEED)[0]
    out = {}
    for r in bench["adding"]:
        name = r.kind.upper()
        got = reach(r.model, x_probe)
        sens = G.marked_sensitivity(r.model, x_test)
        out.update({f"trained {name}: γ": got["gamma"], f"trained {name}: ‖∂h_T/∂s_0‖": got["whole sequence"],
                    f"trained {name}: mean |∂ŷ/∂v| at the marked steps": sens["marked"],
                    f"trained {name}: mean |∂ŷ/∂v| at the other steps": sens["unmarked"]})
    return out


def remedy_measures(remedies: dict) -> dict:
    """Section 8.7: every remedy on the adding problem ({name: BenchmarkResult})."""
    out = {}
    for name, r in remedies.items():
        out[f"{name}: loss / baseline"] = r.ratio
        out[f"{name}: solved at step"] = r.solved_at
    return out


def remedies_of(bench: dict, extra: dict) -> dict:
    """All five remedies in the order of ``LR.REMEDIES``: the default RNN and the LSTM with b_f = 1 are
    section 8.5's runs (the same models, data and budget), the others come from ``extra``."""
    by = {r.kind: r for r in bench["adding"]}
    have = {**extra, "RNN (default init)": by["rnn"], "LSTM, b_f = 1": by["lstm"]}
    return {n: have[n] for n in LR.REMEDIES if n in have}


# -- the whole chapter, one seed -----------------------------------------------------------------------
def chapter_measures(seed: int = 0, quick: bool | None = None, log=print) -> dict:
    """Every training experiment of chapter 8 at its sizes (``quick``: the quick ones), started from ``seed``."""
    config = LR.chapter_config(quick)
    t0 = time.perf_counter()
    free = LR.clipping_run(None, steps=config.clip_steps, seed=seed)
    clipped = LR.clipping_run(1.0, steps=config.clip_steps, seed=seed)
    m = clipping_measures(free, clipped)
    recall = {kind: LR.train_delayed_recall(kind, seed=seed, **asdict(config.recall)) for kind in KINDS}
    short = LR.train_delayed_recall("rnn", 8, lags=recall["rnn"].lags, hidden_size=config.recall.hidden_size,
                                    steps=config.recall.steps, seed=seed)
    m.update(recall_measures(recall, short))
    bench = LR.run_benchmarks(config.only("adding", "copy"), seed=seed, log=None)
    m.update(benchmark_measures(bench))
    m.update(trained_measures(bench))
    extra = LR.train_remedies(config.adding, config.extra_remedies, seed=seed)
    m.update(remedy_measures(remedies_of(bench, extra)))
    if log:
        log(f"seed {seed}, {torch.get_num_threads()} thread(s): {time.perf_counter() - t0:.0f} s")
    return m


# -- thresholds: the chapter asserts these; each was set from the spread the study below measured -------
# name -> (comparison, full-mode threshold, quick-mode threshold); "<" means the measure must stay below
THRESHOLDS = {
    "unclipped: diverged": ("==", True, True),
    "clipped: diverged": ("==", False, False),
    "clipped: largest training loss": ("<", 10.0, 10.0),
    "clipped: largest gradient norm before clipping": (">", 1.0, 1.0),
    "clipped: last 50 steps' loss / baseline": (">", 0.9, 0.9),
    "recall LSTM: fewest correct at any lag": (">=", 950, 950),
    "recall GRU: fewest correct at any lag": (">=", 950, 950),
    "recall RNN: most correct at any lag >= 4": ("<", 750, 750),
    "recall RNN trained on lags <= 8: fewest correct at any lag": (">=", 950, 950),
    "adding LSTM: loss / baseline": ("<", 0.1, 0.1),
    "adding GRU: loss / baseline": ("<", 0.1, 0.1),
    "adding RNN: loss / baseline": (">=", 0.9, 0.9),
    "copy LSTM: loss / baseline": ("<", 0.5, 0.5),
    "copy GRU: loss / baseline": ("<", 0.5, 0.5),
    "copy RNN: loss / baseline": (">=", 0.9, 0.9),
    "trained LSTM: γ": (">", 0.95, 0.95),
    "trained GRU: γ": (">", 0.95, 0.95),
    "trained LSTM: ‖∂h_T/∂s_0‖": (">", 0.1, 0.1),
    "trained GRU: ‖∂h_T/∂s_0‖": (">", 0.1, 0.1),
    "trained LSTM: mean |∂ŷ/∂v| at the marked steps": (">", 0.8, 0.8),
    "trained GRU: mean |∂ŷ/∂v| at the marked steps": (">", 0.8, 0.8),
    "trained LSTM: mean |∂ŷ/∂v| at the other steps": ("<", 0.05, 0.05),
    "trained GRU: mean |∂ŷ/∂v| at the other steps": ("<", 0.05, 0.05),
    "trained RNN: mean |∂ŷ/∂v| at the marked steps": ("<", 0.2, 0.2),
    "RNN (default init): loss / baseline": (">=", 0.9, 0.9),
    "RNN, orthogonal W_hh: loss / baseline": (">=", 0.9, 0.9),
    "LSTM, b_f = 0 (default): loss / baseline": ("<", 0.1, 0.1),
    "LSTM, b_f = 1: loss / baseline": ("<", 0.1, 0.1),
}


def thresholds(quick: bool | None = None) -> dict:
    """{measure: (comparison, threshold)} for the mode that runs (or the one ``quick`` names)."""
    quick = settings.is_quick() if quick is None else quick
    return {name: (op, q if quick else f) for name, (op, f, q) in THRESHOLDS.items()}


# A result that holds in some seeds and not in others is asserted as a rate over the spread study's
# runs, never per run: the IRNN leaves the adding baseline in some seeds and not in others.
SOLVED = 0.5                      # loss / baseline below this: the task is solved (the remedies' threshold)
SEED_DEPENDENT = ("IRNN (ReLU, W_hh = I)",)


def solved_runs(runs: list[dict], name: str) -> tuple[int, int]:
    """(runs whose ``name: loss / baseline`` is below :data:`SOLVED`, runs that measured it)."""
    values = [r["measures"].get(f"{name}: loss / baseline") for r in runs]
    values = [v for v in values if v is not None]
    return sum(v < SOLVED for v in values), len(values)


OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}


def passes(value, op: str, threshold) -> bool:
    """Whether ``value`` satisfies ``op threshold`` (None, "never", fails every comparison but ==)."""
    if value is None:
        return op == "==" and threshold is None
    return bool(OPS[op](value, threshold))


# -- the study -------------------------------------------------------------------------------------------
def spread_study(seeds, threads, quick: bool = False, path: Path | None = None, log=print) -> list[dict]:
    """:func:`chapter_measures` for every seed and thread count; with ``path``, a resumable .json and a .md table.

    Runs already in the file are skipped, and every write merges with what the file holds then, so that
    several processes (say one per seed) can fill one file side by side.
    """
    mode = "quick" if quick else "full"
    runs = _load_spread(path, mode) if path else []
    for n in threads:
        for seed in seeds:
            if any((r["seed"], r["threads"]) == (seed, n) for r in runs):
                continue
            with settings.threads(n):
                m = chapter_measures(seed, quick, log=log)
            mine = {"seed": seed, "threads": n, "measures": m}
            runs = _merge(_load_spread(path, mode), mine) if path else runs + [mine]
            if path:
                write_spread(runs, path, mode)
    if path:
        runs = _load_spread(path, mode)
        if runs:
            write_spread(runs, path, mode)      # the table again, with the thresholds as they are now
    return runs


def _load_spread(path: Path, mode: str) -> list[dict]:
    f = Path(path).with_suffix(".json")
    if not f.exists():
        return []
    data = json.loads(f.read_text())
    if data["meta"]["mode"] != mode:
        raise ValueError(f"spread_study: {f} holds a {data['meta']['mode']}-mode study; this one is {mode}")
    return data["runs"]


def _merge(runs: list[dict], new: dict) -> list[dict]:
    """``runs`` with ``new`` added, unless a run of the same seed and thread count is there already."""
    if any((r["seed"], r["threads"]) == (new["seed"], new["threads"]) for r in runs):
        return runs
    return sorted(runs + [new], key=lambda r: (r["threads"], r["seed"]))


def spread_table(runs: list[dict], mode: str) -> list[dict]:
    """One row per measure: its minimum and maximum over the runs, and the chapter's threshold if it has one."""
    th = thresholds(mode == "quick")
    names = list(dict.fromkeys(k for r in runs for k in r["measures"]))
    rows = []
    for name in names:
        values = [r["measures"].get(name) for r in runs]
        numbers = sorted(float(v) for v in values if v is not None)
        op, level = th.get(name, ("", None))
        rows.append({"measure": name, "min": numbers[0] if numbers else None, "max": numbers[-1] if numbers else None,
                     "runs without a value": sum(v is None for v in values),
                     "chapter asserts": f"{op} {level}" if op else "",
                     "every run passes": all(passes(v, op, level) for v in values) if op else ""})
    return rows


def write_spread(runs: list[dict], path: Path, mode: str) -> None:
    from ..plots import table

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seeds = sorted({r["seed"] for r in runs})
    threads = sorted({r["threads"] for r in runs})
    meta = {"command": f"python -m rnn_book memory spread{' --quick' if mode == 'quick' else ''}", "mode": mode,
            "device": settings.describe_device(), "torch": torch.__version__, "seeds": seeds, "threads": threads,
            "config": asdict(LR.chapter_config(mode == "quick"))}
    path.with_suffix(".json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    md = [f"# Chapter 8: spread over seeds and CPU threads ({mode} mode)", "",
          f"`{meta['command']}` on {meta['device']}, torch {meta['torch']}; seeds {seeds}, CPU threads {threads}: "
          f"{len(runs)} runs of every training experiment of the chapter.", "",
          table(spread_table(runs, mode), floatfmt=".3g"), ""]
    path.with_suffix(".md").write_text("\n".join(md))
