"""The sizes of chapters 1-3's experiments, and how much their results move with the seed and the thread count.

Chapters 1 (RNN), 2 (LSTM) and 3 (GRU) take their sizes from :func:`config` and assert on trained
models. A threshold that one lucky run passes is no check, so every number those asserts read is
measured here over several seeds and 1 and 2 CPU threads, with the same functions and sizes the
chapters use; the chapters print the measured range next to each threshold (:func:`spread_note`)::

    python -m rnn_book cell-spread --chapter 1 2 3            # full mode: results/ch0N_spread.json and .md
    python -m rnn_book cell-spread --chapter 2 --quick        # the sizes of quick mode
    python -m rnn_book cell-spread --chapter 3 --seeds 0 --threads 2

Runs already in the file (same mode, seed, threads and processor) are kept and skipped, so a long
study can be resumed; ``--force`` measures them again. Studies run side by side can write to separate
folders and be joined with ``--merge-from FOLDER``. Functions that pin one thread themselves (the LSTM
chapter's small trainers) give the same numbers at every thread count; the files say so.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..settings import QUICK_ENV, cpu_name, describe_device, is_quick, pick, threads

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
CHAPTERS = {1: "ch01", 2: "ch02", 3: "ch03"}


@dataclass(frozen=True)
class Config:
    """Every size chapters 1-3 train at (full and quick values below)."""

    # chapter 1
    parity_epochs: int
    copy_blocks: int                 # blocks of the truncation stream
    truncation_epochs: int
    moby_chars: int | None           # None: the whole corpus
    moby_hidden: int
    moby_batch: int
    moby_seq: int
    moby_epochs: int
    step_repeats: int
    # chapter 2
    counter_steps: int
    lag_T: int
    lag_steps: int
    bias_seeds: int                  # seeds per forget-bias comparison
    bias_steps: int
    # chapter 3
    corpus_chars: int
    forms_epochs: int
    cells_hidden: int
    cells_seq: int
    cells_epochs: int
    cells_lr: float
    time_T: int
    time_repeats: int


FULL = Config(parity_epochs=10, copy_blocks=6000, truncation_epochs=3, moby_chars=None, moby_hidden=256,
              moby_batch=64, moby_seq=64, moby_epochs=2, step_repeats=9,
              counter_steps=1000, lag_T=100, lag_steps=1000, bias_seeds=6, bias_steps=300,
              corpus_chars=600_000, forms_epochs=8, cells_hidden=128, cells_seq=64, cells_epochs=10, cells_lr=1e-2,
              time_T=100, time_repeats=7)
QUICK = Config(parity_epochs=5, copy_blocks=2400, truncation_epochs=2, moby_chars=60_000, moby_hidden=128,
               moby_batch=32, moby_seq=32, moby_epochs=2, step_repeats=9,
               counter_steps=200, lag_T=60, lag_steps=300, bias_seeds=2, bias_steps=300,
               corpus_chars=100_000, forms_epochs=3, cells_hidden=96, cells_seq=32, cells_epochs=4, cells_lr=2e-2,
               time_T=20, time_repeats=5)
FORMS_HIDDEN, FORMS_LR = 64, 1e-2
TRUNCATION_WINDOWS = (3, 20)         # shorter and longer than the lag of 5
CALL_TELL = ("Call me Ishmael.", "Tell me Ishmael.")


def config() -> Config:
    """The sizes of the mode that runs (``RNN_BOOK_QUICK=1``: quick)."""
    return pick(full=FULL, quick=QUICK)


# -- the numbers each chapter's asserts read: one function per experiment ("part") of a chapter ------

def ch01_parity(seed: int, cfg: Config) -> dict[str, float]:
    from ..tasks import running_parity as parity

    p = parity.train(seed, epochs=cfg.parity_epochs)
    return {"parity.n_test": p.n_test, "parity.trained_min": int(p.trained.min()),
            "parity.margin_min": int((p.trained - p.current_bit)[1:].min()),
            "parity.untrained_max_after_1": int(p.untrained[1:].max())}     # from step 2 on no single bit decides


def ch01_truncation(seed: int, cfg: Config) -> dict[str, float]:
    from . import bptt

    short, long = (bptt.truncation_run(w, seed, n_blocks=cfg.copy_blocks, epochs=cfg.truncation_epochs)
                   for w in TRUNCATION_WINDOWS)
    return {"truncation.total": short.total, "truncation.short_correct": short.correct,
            "truncation.long_correct": long.correct, "truncation.update_ratio": short.updates / long.updates}


def ch01_engines(seed: int, cfg: Config) -> dict[str, float]:
    from ..data.text import StatefulBatches
    from ..tasks import lm
    from . import states, two_engines

    data = lm.prepare("moby_dick", max_chars=cfg.moby_chars)
    run = two_engines.train_pair(data, cfg.moby_hidden, cfg.moby_batch, cfg.moby_seq, epochs=cfg.moby_epochs,
                                 seed=seed)
    xb, yb = next(iter(StatefulBatches(data.train, cfg.moby_batch, cfg.moby_seq)))
    secs = two_engines.step_seconds(run.models, xb, yb, repeats=cfg.step_repeats)
    gap = states.state_gap(run.models["cudnn"], data.vocab, *CALL_TELL)
    return {"engines.first100_gap": run.step_gap(100), "engines.all_gap": run.step_gap(),
            "engines.epoch_gap": run.epoch_gap, "engines.valid_gap": run.valid_gap,
            "engines.below_unigram": run.unigram - max(run.valid.values()),
            "engines.step_ratio": secs["scratch"] / secs["cudnn"],
            "memory.last_gap": float(gap[-1]), "memory.last_over_max": float(gap[-1] / gap.max())}


def ch02_decay(seed: int, cfg: Config) -> dict[str, float]:
    from . import lstm_probes as lt

    reach = lt.rnn_reach_at_init(seed)
    T = len(reach)
    late, early = ((reach[a] / reach[b]) ** (1 / (b - a)) for a, b in ((T // 2, T - 1), (0, T // 2)))
    m = {"decay.first_over_last": float(reach[0] / reach[-1]), "decay.early_over_late": float(early / late)}
    at_init = {b: lt.forget_bias_at_init(b, seed) for b in (0.0, 1.0)}
    m["bias_init.factor0"] = at_init[0.0][1]
    m["bias_init.reach_ratio"] = at_init[1.0][0] / at_init[0.0][0]
    return m


def ch02_counter(seed: int, cfg: Config) -> dict[str, float]:
    from . import lstm_probes as lt

    counter, _ = lt.train_counter(T=40, hidden_size=16, steps=cfg.counter_steps, seed=seed)
    probe = lt.probe_counter(counter)
    trained, untrained = lt.gate_values(probe.trace), lt.gate_values(lt.trace_gates(lt.counter_model(16, seed), probe.x))
    up, down = probe.up, probe.down
    jac = lt.jacobian_summary(lt.cell_jacobian_terms(probe.twin.cell(0), probe.trace), probe.unit)
    q50, q90 = torch.quantile(jac.rel_paths.flatten(), torch.tensor([0.5, 0.9], dtype=jac.rel_paths.dtype))
    return {"counter.positions": probe.positions, "counter.correct": probe.correct, "gates.total": trained.numel(),
            "gates.trained_saturated": lt.saturated(trained), "gates.untrained_saturated": lt.saturated(untrained),
            "gates.trained_min": float(trained.min()), "gates.trained_max": float(trained.max()),
            "gates.untrained_min": float(untrained.min()), "gates.untrained_max": float(untrained.max()),
            "unit.direction": float(up.mean() * down.mean()),
            "unit.steadiness": float(min(up.mean().abs() / up.std(), down.mean().abs() / down.std())),
            "unit.forget_mean": float(probe.unit_forget.mean()),
            "probe.r2_cell": probe.r2_cell, "probe.r2_gap": probe.r2_cell - probe.r2_hidden,
            "probe.c_max": float(probe.trace["c"].abs().max()),
            "jacobian.median_rel": float(q50), "jacobian.p90_rel": float(q90),
            "jacobian.unit_gap": float((jac.unit_diag - jac.unit_forget).abs().median()),
            "jacobian.unit_forget": float(jac.unit_forget.median())}


def ch02_recall(seed: int, cfg: Config) -> dict[str, float]:
    from . import lstm_probes as lt

    study = lt.long_lag_study(cfg.lag_T, cfg.lag_steps, seed)
    m = {f"recall.{kind}_T{'long' if T == cfg.lag_T else T}": hits / study["long_total"][kind, T]
         for (kind, T), hits in study["final"].items()}
    m["recall.far_log10_ratio"] = math.log10(study["far"]["lstm"] / study["far"]["rnn"])
    return m


def ch02_bias(seed: int, cfg: Config) -> dict[str, float]:
    from . import lstm_probes as lt

    seeds = range(seed * cfg.bias_seeds, (seed + 1) * cfg.bias_seeds)   # seed 0: the chapter's seeds
    rows = lt.forget_bias_training(seeds, steps=cfg.bias_steps)
    mean = {b: statistics.fmean(r["mean accuracy during training"] for r in rows if r["forget bias"] == b)
            for b in (0.0, 1.0)}
    by_seed = {(r["seed"], r["forget bias"]): r["mean accuracy during training"] for r in rows}
    return {"bias_train.min_final": min(r["final accuracy"] for r in rows),
            "bias_train.mean_diff": mean[1.0] - mean[0.0],
            "bias_train.seeds_ahead": sum(by_seed[s, 1.0] > by_seed[s, 0.0] for s in seeds),
            "bias_train.seeds": cfg.bias_seeds}


def _corpus(cfg: Config):
    from ..tasks import lm

    return lm.prepare("moby_dick", max_chars=cfg.corpus_chars)


def ch03_forms(seed: int, cfg: Config) -> dict[str, float]:
    from . import gru_forms

    forms = gru_forms.train_forms(_corpus(cfg), hidden=FORMS_HIDDEN, epochs=cfg.forms_epochs, lr=FORMS_LR, seed=seed)
    return {"forms.learned": forms.baseline - max(forms.textbook, forms.cudnn_form), "forms.gap": forms.gap,
            "forms.swap_penalty": forms.swapped - forms.textbook}


def ch03_cells(seed: int, cfg: Config) -> dict[str, float]:
    from . import compare

    task = compare.char_lm_task(_corpus(cfg), batch_size=64, seq_len=cfg.cells_seq)
    rows = compare.run(task, compare.equal_size_and_parameters(task, cfg.cells_hidden), epochs=cfg.cells_epochs,
                       lr=cfg.cells_lr, seed=seed)
    bpc = {(r.config, r.kind): r.final for r in rows}
    m = {"cells.learned_min": task.baseline - max(bpc.values())}
    for config in ("equal hidden size", "equal parameters"):
        for kind in ("lstm", "gru"):
            m[f"cells.{config.split()[1]}.{kind}_margin"] = bpc[config, "rnn"] - bpc[config, kind]
    return m


def ch03_time(seed: int, cfg: Config) -> dict[str, float]:
    from . import bench, compare

    size = bench.Size(batch=32, time=cfg.time_T, input=256, hidden=256)
    secs = compare.train_step_seconds(size, repeats=cfg.time_repeats, n_threads=torch.get_num_threads())
    return {f"time.{form}_gru_over_lstm": secs[form, "gru"] / secs[form, "lstm"] for form in bench.FORMS}


PARTS = {"ch01": {"parity": ch01_parity, "truncation": ch01_truncation, "engines": ch01_engines},
         "ch02": {"decay": ch02_decay, "counter": ch02_counter, "recall": ch02_recall, "bias": ch02_bias},
         "ch03": {"forms": ch03_forms, "cells": ch03_cells, "time": ch03_time}}


def _all_parts(chapter: str):
    def metrics(seed: int, cfg: Config) -> dict[str, float]:
        m: dict[str, float] = {}
        for part in PARTS[chapter].values():
            m.update(part(seed, cfg))
        return m
    return metrics


METRICS = {chapter: _all_parts(chapter) for chapter in PARTS}
PINNED_ONE_THREAD = {"ch02": "the counter and the recall runs pin one thread themselves (tiny models), so "
                             "their numbers cannot depend on the thread count"}


# -- the files ---------------------------------------------------------------------------------------

def _path(chapter: str, suffix: str, out: Path = RESULTS) -> Path:
    return Path(out) / f"{chapter}_spread.{suffix}"


def load(chapter: str, out: Path = RESULTS) -> dict:
    """The study's runs of one chapter (``{"chapter", "runs": [...]}``; no runs if none were measured)."""
    path = _path(chapter, "json", out)
    if not path.exists():
        return {"chapter": chapter, "runs": []}
    return json.loads(path.read_text(encoding="utf-8"))



def _key(run: dict) -> tuple:
    """Runs are told apart by mode, seed, thread count, processor and part ("all": every part at once)."""
    return run["mode"], run["seed"], run["threads"], run["cpu"], run.get("part", "all")


def merge(chapter: str, source: Path, out: Path = RESULTS) -> dict:
    """Add the runs of ``source``'s file for ``chapter`` to those in ``out`` (a run of the same key is replaced)."""
    study, extra = load(chapter, out), load(chapter, source)
    keys = {_key(r) for r in extra["runs"]}
    study["runs"] = [r for r in study["runs"] if _key(r) not in keys] + extra["runs"]
    write(chapter, study, out)
    return study


def measure(chapter: str, seeds, thread_counts, quick: bool, out: Path = RESULTS, force: bool = False, log=print,
            parts=None):
    """Run one chapter's metrics (or only ``parts`` of them) for every (seed, threads) not yet in its file.

    The file is written after each run, merged with whatever another process wrote meanwhile.
    """
    if chapter not in PARTS:
        raise ValueError(f"cell-spread: chapter must be one of {sorted(PARTS)}; got {chapter!r}")
    unknown = set(parts or ()) - set(PARTS[chapter])
    if unknown:
        raise ValueError(f"cell-spread: {chapter} has the parts {list(PARTS[chapter])}; got {sorted(unknown)}")
    mode = "quick" if quick else "full"
    os.environ[QUICK_ENV] = "1" if quick else "0"            # anything that asks pick() agrees with cfg
    cfg = QUICK if quick else FULL
    jobs = [("all", METRICS[chapter])] if not parts else [(p, PARTS[chapter][p]) for p in parts]
    for seed in seeds:
        for n in thread_counts:
            for part, fn in jobs:
                have = {_key(r) for r in load(chapter, out)["runs"]}
                if not force and any((mode, seed, n, cpu_name(), q) in have for q in {part, "all"}):
                    log(f"{chapter} {mode} {part} seed {seed} threads {n}: already measured")
                    continue
                t0, cpu0 = time.perf_counter(), time.process_time()
                with threads(n):
                    metrics = fn(seed, cfg)
                    device = describe_device()
                run = {"mode": mode, "seed": seed, "threads": n, "part": part, "device": device, "cpu": cpu_name(),
                       "torch": torch.__version__, "seconds": round(time.perf_counter() - t0, 1),
                       "cpu_seconds": round(time.process_time() - cpu0, 1),
                       "metrics": {k: float(v) for k, v in metrics.items()}}
                study = load(chapter, out)                   # another process may have written meanwhile
                study["runs"] = [r for r in study["runs"] if _key(r) != _key(run)] + [run]
                write(chapter, study, out)
                log(f"{chapter} {mode} {part} seed {seed} threads {n}: {run['seconds']} s, "
                    f"{run['cpu_seconds']} s of CPU")
    return load(chapter, out)


def summary(study: dict, mode: str) -> dict[str, dict]:
    """``{metric: {"min", "max", "n", "values": {"seed/threads": value}}}`` over the runs of one mode."""
    runs = sorted((r for r in study["runs"] if r["mode"] == mode), key=lambda r: (r["seed"], r["threads"]))
    out: dict[str, dict] = {}
    for r in runs:
        for k, v in r["metrics"].items():
            entry = out.setdefault(k, {"values": {}})
            entry["values"][f"{r['seed']}/{r['threads']}"] = v
    for entry in out.values():
        vals = list(entry["values"].values())
        entry.update(min=min(vals), max=max(vals), n=len(vals))
    return out


def write(chapter: str, study: dict, out: Path = RESULTS) -> None:
    """The JSON (every run) and a Markdown table per mode (min, max, every seed/threads value)."""
    Path(out).mkdir(parents=True, exist_ok=True)
    _path(chapter, "json", out).write_text(json.dumps(study, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Spread of chapter {chapter[2:]}'s trained results over seeds and CPU threads", "",
             f"Written by `python -m rnn_book cell-spread --chapter {int(chapter[2:])}` (add `--quick` for quick "
             "mode). Each column is one run, `seed/threads`. The chapter's thresholds sit beyond the worst run "
             "below by about twice the range of the runs, and never more than halfway from it to what a wrong "
             "model scores (chance, an untrained network, the other form, the swapped comparison).", ""]
    if chapter in PINNED_ONE_THREAD:
        lines += [f"Note: {PINNED_ONE_THREAD[chapter]}.", ""]
    for mode in ("full", "quick"):
        runs = [r for r in study["runs"] if r["mode"] == mode]
        if not runs:
            continue
        table = summary(study, mode)
        cols = list(next(iter(table.values()))["values"])
        devices = sorted({f"{r['device']}; {r['cpu']}; torch {r['torch']}" for r in runs})
        lines += [f"## {mode} mode", "", f"Runs: {len(runs)} (seeds {sorted({r['seed'] for r in runs})}, threads "
                  f"{sorted({r['threads'] for r in runs})}); device: {' | '.join(devices)}; "
                  f"seconds per run: {min(r['seconds'] for r in runs):.0f}-{max(r['seconds'] for r in runs):.0f}.", "",
                  "| metric | min | max | " + " | ".join(cols) + " |", "| --- | --- | --- |" + " --- |" * len(cols)]
        for k, e in table.items():
            lines.append(f"| {k} | {e['min']:.4g} | {e['max']:.4g} | "
                         + " | ".join(f"{e['values'].get(c, float('nan')):.4g}" for c in cols) + " |")
        lines.append("")
    _path(chapter, "md", out).write_text("\n".join(lines), encoding="utf-8")


def spread(chapter: str, metric: str, mode: str | None = None, out: Path = RESULTS) -> dict | None:
    """``{"min", "max", "n", "values"}`` of one metric in the mode that runs (None if never measured)."""
    mode = mode or ("quick" if is_quick() else "full")
    return summary(load(chapter, out), mode).get(metric)


def spread_note(chapter: str, *metrics: str, fmt: str = ".3g", mode: str | None = None, out: Path = RESULTS) -> str:
    """One line for a chapter: the measured range of each metric, the runs it comes from and the file."""
    mode = mode or ("quick" if is_quick() else "full")
    study = load(chapter, out)
    runs = [r for r in study["runs"] if r["mode"] == mode]
    if not runs:
        flag = " --quick" if mode == "quick" else ""
        return f"(no {mode}-mode spread measured yet: run `python -m rnn_book cell-spread --chapter {int(chapter[2:])}{flag}`)"
    table = summary(study, mode)
    known = {k for m in ("full", "quick") for k in summary(study, m)}
    parts, missing = [], []
    for k in metrics:
        if k not in known:
            raise KeyError(f"spread_note: {chapter} has no metric {k!r}; it has {sorted(known)}")
        if k not in table:                         # measured in the other mode only
            missing.append(k)
            continue
        parts.append(f"{k} from {format(table[k]['min'], fmt)} to {format(table[k]['max'], fmt)}")
    if not parts:
        flag = " --quick" if mode == "quick" else ""
        return (f"(no {mode}-mode spread of {', '.join(missing)} measured yet: run "
                f"`python -m rnn_book cell-spread --chapter {int(chapter[2:])}{flag}`)")
    if missing:
        parts.append(f"not measured in {mode} mode yet: {', '.join(missing)}")
    runs = [r for r in runs if any(k in r["metrics"] for k in metrics)]        # the runs behind these numbers
    seeds, n_threads = sorted({r["seed"] for r in runs}), sorted({r["threads"] for r in runs})
    return (f"measured spread, {mode} mode, seeds {seeds} × threads {n_threads} ({len(runs)} runs, "
            f"results/{chapter}_spread.md): " + "; ".join(parts))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnn_book cell-spread", description=__doc__.split("\n\n")[0])
    p.add_argument("--chapter", type=int, nargs="+", choices=sorted(CHAPTERS), default=sorted(CHAPTERS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--quick", action="store_true", help="quick mode's sizes")
    p.add_argument("--out", default=str(RESULTS), help="folder for chNN_spread.json and .md")
    p.add_argument("--force", action="store_true", help="measure runs already in the file again")
    p.add_argument("--merge-from", metavar="FOLDER", help="measure nothing: add the runs in FOLDER's files to --out's")
    p.add_argument("--part", nargs="+", help="only these experiments of the chapter (default: all), e.g. "
                   + "; ".join(f"{c}: {' '.join(ps)}" for c, ps in PARTS.items()))
    args = p.parse_args(argv)
    for n in args.chapter:
        if args.merge_from:
            merge(CHAPTERS[n], Path(args.merge_from), Path(args.out))
        else:
            measure(CHAPTERS[n], args.seeds, args.threads, args.quick, Path(args.out), args.force, parts=args.part)


if __name__ == "__main__":
    main()
