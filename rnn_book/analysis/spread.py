"""``python -m rnn_book spread``: how far the chapters' training-dependent numbers move with the seed and threads.

A chapter asserts on *measures*: named numbers an experiment returns (``"gap none"``, ``"bpc lstm 2"``,
...). A :class:`Check` says which side of a threshold a measure must lie on, with one threshold for
full mode and one for quick mode. The thresholds are not guessed: this command runs each experiment
for several seeds, with one and with two CPU threads, records every measure, and writes

* ``results/spread/<chapter>/<experiment>-<mode>-s<seed>-t<threads>.json`` -- one file per run (a
  run already on disk is not repeated, so an interrupted study resumes where it stopped);
* ``results/<chapter>_spread.md`` and ``.json`` -- per measure: the threshold, the smallest, median
  and largest value over the runs, and how many runs pass.

    python -m rnn_book spread ch09                          # full mode, seeds 0 1 2, threads 1 2
    python -m rnn_book spread ch09 --quick --experiments overfitting
    python -m rnn_book spread ch10 --report-only            # rewrite the summary from the runs on disk

``tests/test_spread.py`` proves that every recorded run passes the checks the chapters use now.
"""
from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from ..settings import cpu_name, describe_device, is_quick, mode_name, threads
from ..thresholds import Check, failures, thresholds  # noqa: F401  (re-exported for the chapters' modules)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"


@dataclass(frozen=True)
class Experiment:
    """One assert-bearing experiment of a chapter: ``run(seed) -> measures`` and its checks."""

    chapter: str
    name: str
    module: str            # the module that defines ``run`` and the checks, for the report
    run: Callable[[int], dict[str, float]]
    checks: tuple[Check, ...]
    seeds: tuple[int, ...] = (0, 1, 2)


def experiments() -> dict[tuple[str, str], Experiment]:
    """Every registered experiment, by (chapter, name); each module lists its own in ``SPREAD``."""
    found = {}
    for name in ("regularize", "tuning", "bench", "deep"):
        module = importlib.import_module(f"{__package__}.{name}")
        for e in getattr(module, "SPREAD", ()):
            found[e.chapter, e.name] = e
    return found


def run_file(exp: Experiment, mode: str, seed: int, n_threads: int, root: Path = RESULTS) -> Path:
    return root / "spread" / exp.chapter / f"{exp.name}-{mode}-s{seed}-t{n_threads}.json"


def run_one(exp: Experiment, seed: int, n_threads: int) -> dict:
    """Run ``exp`` once with ``n_threads`` threads; the record that :func:`study` stores."""
    with threads(n_threads):
        c0, w0 = time.process_time(), time.perf_counter()
        measures = exp.run(seed)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        device = describe_device()
    return {"chapter": exp.chapter, "experiment": exp.name, "mode": mode_name(), "seed": seed, "threads": n_threads,
            "measures": {k: float(v) for k, v in measures.items()}, "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1), "device": device, "torch": torch.__version__,
            "cpu": cpu_name()}


def study(chapter: str, names: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
          thread_counts: Sequence[int] = (1, 2), root: Path = RESULTS, force: bool = False, log=print) -> list[Path]:
    """Run every (experiment, seed, thread count) of ``chapter`` not yet on disk; returns the files written."""
    chosen = [e for (c, n), e in experiments().items() if c == chapter and (names is None or n in names)]
    if not chosen:
        raise ValueError(f"spread: no experiments named {names} for chapter {chapter!r}; "
                         f"have {sorted(experiments())}")
    written = []
    for exp in chosen:
        for seed in (exp.seeds if seeds is None else seeds):
            for n in thread_counts:
                path = run_file(exp, mode_name(), seed, n, root)
                if path.exists() and not force:
                    continue
                record = run_one(exp, seed, n)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
                bad = failures(record["measures"], exp.checks, record["mode"])
                log(f"{path.relative_to(root.parent) if root.parent in path.parents else path}: "
                    f"{record['cpu_seconds']} CPU s" + (f"; FAILS {bad}" if bad else ""))
                written.append(path)
    return written


def records(chapter: str, root: Path = RESULTS) -> list[dict]:
    """Every stored run of ``chapter``."""
    folder = root / "spread" / chapter
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def summary(chapter: str, root: Path = RESULTS) -> list[dict]:
    """One row per check and per unchecked measure of every experiment and mode on disk: the check and its
    threshold (blank for a measure the chapter only prints), min / median / max over the runs, runs passing."""
    runs = records(chapter, root)
    rows = []
    for (c, name), exp in experiments().items():
        if c != chapter:
            continue
        for mode in ("full", "quick"):
            mine = [r for r in runs if r["experiment"] == name and r["mode"] == mode]
            measured = list(dict.fromkeys(m for r in mine for m in r["measures"]))
            applying = [ch for ch in exp.checks if ch.applies(mode)]
            checked = {ch.measure for ch in applying}
            items = [(ch.measure, ch) for ch in applying if ch.measure in measured]
            items += [(m, None) for m in measured if m not in checked]
            for measure, check in items:
                values = [r["measures"][measure] for r in mine if measure in r["measures"]]
                rows.append({"experiment": name, "mode": mode, "measure": measure,
                             "check": check.op if check else "", "threshold": check.threshold(mode) if check else "",
                             "min": min(values), "median": statistics.median(values), "max": max(values),
                             "runs passing": f"{sum(check.passes(v, mode) for v in values)}/{len(values)}"
                             if check else "", "runs": len(values)})
    return rows


def rows_for(chapter: str, experiment: str, mode: str | None = None, root: Path = RESULTS) -> list[dict]:
    """The summary rows of one experiment in one mode, for a chapter to display beside its asserts."""
    mode = mode or mode_name()
    return [{k: v for k, v in r.items() if k not in ("experiment", "mode", "runs")}
            for r in summary(chapter, root) if r["experiment"] == experiment and r["mode"] == mode]


def describe_runs(chapter: str, experiment: str, mode: str | None = None, root: Path = RESULTS) -> str:
    """One line: where and how the spread of ``experiment`` was measured (device, seeds, threads, runs)."""
    mode = mode or mode_name()
    mine = [r for r in records(chapter, root) if r["experiment"] == experiment and r["mode"] == mode]
    if not mine:
        return f"no {mode}-mode spread runs of {chapter}/{experiment} on disk"
    devices = sorted({r["device"].split(",")[0] for r in mine})
    return (f"{len(mine)} {mode}-mode runs of {chapter}/{experiment}: seeds {sorted({r['seed'] for r in mine})} x "
            f"threads {sorted({r['threads'] for r in mine})}, on {'; '.join(devices)}, torch {mine[0]['torch']}")


def threshold(checks: Sequence[Check], measure: str, op: str, mode: str | None = None) -> float | None:
    """The threshold of the check ``measure op ...`` in ``checks`` (for a measure checked from both sides)."""
    for c in checks:
        if c.measure == measure and c.op == op:
            return c.threshold(mode)
    raise KeyError(f"no check {measure!r} {op} in {[c.describe(mode) for c in checks]}")


def beside_spread(measures: dict[str, float], chapter: str, experiment: str, checks: Sequence[Check],
                  mode: str | None = None, root: Path = RESULTS) -> list[dict]:
    """Rows for :func:`rnn_book.plots.table`: each check, this run's value, and the range the study measured."""
    mode = mode or mode_name()
    stats = {r["measure"]: r for r in summary(chapter, root) if r["experiment"] == experiment and r["mode"] == mode}
    rows = []
    for c in checks:
        if not c.applies(mode):
            continue
        st = stats.get(c.measure)
        rows.append({"measure": c.measure, "this run": measures.get(c.measure, float("nan")),
                     "asserted": f"{c.op} {c.threshold(mode):g}",
                     "study: min": st["min"] if st else float("nan"), "study: max": st["max"] if st else float("nan"),
                     "study: runs": st["runs"] if st else 0})
    return rows


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def write_report(chapter: str, root: Path = RESULTS) -> tuple[Path, Path]:
    """``results/<chapter>_spread.md`` and ``.json`` from the runs on disk."""
    rows = summary(chapter, root)
    runs = records(chapter, root)
    md = [f"# Spread of the training-dependent measures of chapter {chapter[2:]}", "",
          f"Written by `python -m rnn_book spread {chapter} --report-only` from the {len(runs)} runs in "
          f"`results/spread/{chapter}/` (each made by `python -m rnn_book spread {chapter}` [--quick]).",
          "A check passes when `measure check threshold` holds; the thresholds are the ones the chapter asserts.",
          "Measures without a check are shown for context (the chapter prints them but asserts nothing on them).", ""]
    for exp_name in dict.fromkeys(r["experiment"] for r in rows):
        for mode in ("full", "quick"):
            mine = [r for r in rows if r["experiment"] == exp_name and r["mode"] == mode]
            if not mine:
                continue
            md += [f"## {exp_name}, {mode} mode", "", describe_runs(chapter, exp_name, mode, root), "",
                   "| measure | check | threshold | min | median | max | runs passing |",
                   "| --- | --- | --- | --- | --- | --- | --- |"]
            md += [f"| {r['measure']} | {r['check']} | {_fmt(r['threshold'])} | {_fmt(r['min'])} | {_fmt(r['median'])} "
                   f"| {_fmt(r['max'])} | {r['runs passing']} |" for r in mine]
            cpu = sum(x["cpu_seconds"] for x in runs if x["experiment"] == exp_name and x["mode"] == mode)
            md += ["", f"CPU time of these runs: {cpu / 60:.1f} min.", ""]
    md_path, json_path = root / f"{chapter}_spread.md", root / f"{chapter}_spread.json"
    md_path.write_text("\n".join(md), encoding="utf-8")
    json_path.write_text(json.dumps({"chapter": chapter, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return md_path, json_path


def main(argv: Sequence[str] | None = None):
    p = argparse.ArgumentParser(prog="python -m rnn_book spread", description=__doc__.split("\n")[0])
    p.add_argument("chapter", help="ch09 or ch10")
    p.add_argument("--experiments", help="comma-separated names (default: all of the chapter's)")
    p.add_argument("--seeds", help="comma-separated seeds (default: each experiment's own, 0,1,2)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--quick", action="store_true", help="quick-mode sizes (as RNN_BOOK_QUICK=1)")
    p.add_argument("--force", action="store_true", help="run again even where a run is on disk")
    p.add_argument("--report-only", action="store_true", help="only rewrite the summary from the runs on disk")
    a = p.parse_args(argv)
    if a.quick and not is_quick():
        import os
        os.environ["RNN_BOOK_QUICK"] = "1"
    if not a.report_only:
        study(a.chapter, a.experiments.split(",") if a.experiments else None,
              [int(s) for s in a.seeds.split(",")] if a.seeds else None,
              [int(n) for n in a.threads.split(",")], force=a.force)
    md, js = write_report(a.chapter)
    print(f"wrote {md.relative_to(ROOT)} and {js.relative_to(ROOT)}")
    return md
