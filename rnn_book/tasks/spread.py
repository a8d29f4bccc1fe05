"""How far a chapter's training-dependent numbers move over seeds and thread counts, kept in ``results/``.

A threshold a chapter asserts on a trained model is only honest if the book knows how much the
number moves when nothing that matters changes: another seed, or another thread count (which sums
floating-point numbers in another order). A chapter's spread command measures every such number
for several seeds and for 1 and 2 threads and keeps one record per run in ``results/chNN_spread.json``;
:func:`summary` turns the records into the table in ``results/chNN_spread.md``, next to the thresholds
the chapter asserts (:class:`Check`), so a reader sees the margin each assert has.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping

import torch

from ..settings import describe_device, mode_name, threads as thread_count
from ..thresholds import Check, thresholds  # noqa: F401  (the chapters and the spread commands import them from here)

RESULTS = Path(__file__).resolve().parents[2] / "results"       # the repository's results/ folder


def measure_grid(measure: Callable[[int], Mapping[str, float]], seeds: Iterable[int], thread_counts: Iterable[int],
                 log: Callable[[str], None] = print, on_record: Callable[[dict], None] | None = None,
                 **key) -> list[dict]:
    """Run ``measure(seed)`` for every seed under every thread count; one record per run, with its key
    (mode, seed, threads, any ``key`` items) and the machine it ran on. ``on_record`` receives each record
    as soon as it is measured (to save it before a long grid has finished)."""
    records = []
    for n in thread_counts:
        for s in seeds:
            t0 = time.perf_counter()
            with thread_count(n):
                values = dict(measure(s))
                device = describe_device()
            rec = {"mode": mode_name(), "on": "cuda" if torch.cuda.is_available() else "cpu", "seed": s,
                   "threads": n, **key, "values": values,
                   "device": device, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                   "torch": torch.__version__, "seconds": round(time.perf_counter() - t0, 1)}
            log(f"{rec['mode']} seed {s}, {n} thread(s): {values} ({rec['seconds']} s)")
            records.append(rec)
            if on_record is not None:
                on_record(rec)
    return records


def _key(rec: Mapping) -> tuple:
    return tuple(sorted((k, json.dumps(v)) for k, v in rec.items()
                        if k not in ("values", "device", "machine", "torch", "seconds")))


def save(path: Path, records: list[dict]) -> list[dict]:
    """Merge ``records`` into the JSON file at ``path`` (a record with the same key replaces the old one).

    A lock file (in the temporary folder, named after the path) lets several spread commands (other
    seeds, other thread counts) save into one file at once."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"rnn_book-spread-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _merge(path, records)


def _merge(path: Path, records: list[dict]) -> list[dict]:
    old = load(path) if path.exists() else []
    for r in old + records:
        r.setdefault("on", "cpu")                  # records written before the processor was noted ran on CPUs
    merged = {_key(r): r for r in old}
    merged.update({_key(r): r for r in records})
    out = sorted(merged.values(), key=lambda r: (r["mode"], json.dumps(r.get("budget")), r.get("on", "cpu"),
                                                 r["threads"], r["seed"]))
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return out


def load(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no spread records at {path}; the chapter's spread command writes them "
                                f"(see the module docstring of the command)")
    return json.loads(path.read_text(encoding="utf-8"))


def _group(records: list[dict]) -> dict[tuple, list[dict]]:
    """Records by (mode, budget, processor): runs that measure the same thing on the same kind of device."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["mode"], json.dumps(r.get("budget")), r.get("on", "cpu")), []).append(r)
    return groups


def spread_of(records: list[dict], metric: str, mode: str | None = None, budget=None, on: str = "cpu") -> dict:
    """min, median, max of ``metric`` over the records of one mode, budget and processor, with the seeds and threads."""
    mode = mode or mode_name()
    rs = [r for r in records if r["mode"] == mode and r.get("budget") == budget and r.get("on", "cpu") == on
          and metric in r["values"]]
    if not rs:
        raise KeyError(f"spread_of: no {mode}-mode records of {metric!r}" + (f" at budget {budget}" if budget else ""))
    v = [r["values"][metric] for r in rs]
    return {"min": min(v), "median": statistics.median(v), "max": max(v), "runs": len(v),
            "seeds": sorted({r["seed"] for r in rs}), "threads": sorted({r["threads"] for r in rs})}


def relative_spread(records: list[dict], metric: str, mode: str | None = None) -> float:
    """(max − min) / min of ``metric`` within each group of comparable runs of one mode, the largest over
    the groups: how far a seed or a thread count alone moved the number."""
    mode = mode or mode_name()
    out = []
    for (m, _, _), rs in _group(records).items():
        vals = [r["values"][metric] for r in rs if m == mode and metric in r["values"]]
        if len(vals) > 1:
            out.append((max(vals) - min(vals)) / min(vals))
    if not out:
        raise KeyError(f"relative_spread: fewer than two {mode}-mode records of {metric!r}")
    return max(out)


def describe(records: list[dict], metric: str, mode: str | None = None, budget=None, fmt: str = ".3f") -> str:
    """One line for a chapter: 'from 0.912 to 0.955 over seeds 0, 1, 2 at 1 and 2 threads (6 runs, full mode)'."""
    s = spread_of(records, metric, mode, budget)
    th = " and ".join(map(str, s["threads"]))
    return (f"from {s['min']:{fmt}} to {s['max']:{fmt}} over seeds {', '.join(map(str, s['seeds']))} at {th} "
            f"thread(s) ({s['runs']} runs, {mode or mode_name()} mode)")


def chapter_table(records: list[dict], checks: Iterable[Check], mode: str | None = None) -> str:
    """A Markdown table for a chapter: each assert of the mode that runs, its threshold, and the
    smallest and largest value measured, per budget (full runs, or shortened ones)."""
    from ..plots import table

    mode = mode or mode_name()
    rows = []
    for (m, budget, on), rs in sorted(_group(records).items()):
        if m != mode:
            continue
        b = json.loads(budget)
        for c in checks:
            vals = [r["values"][c.measure] for r in rs if c.measure in r["values"]]
            if not vals:
                continue
            rows.append({"assert": c.says, "number": c.measure, "threshold": f"{c.op} {c.threshold(mode):g}",
                         "measured": f"{min(vals):.3g} to {max(vals):.3g}",
                         "max − min": f"{max(vals) - min(vals):.2g}",
                         "runs": f"{len(vals)}: seeds {sorted({r['seed'] for r in rs})}, "
                                 f"threads {sorted({r['threads'] for r in rs})}",
                         "budget": ", ".join(f"{k} {v}" for k, v in b.items()) if b else "as in the chapter",
                         "on": on,
                         "all pass": ("yes" if all(c.passes(v, mode) for v in vals) else "no")
                                     + (" (shorter runs)" if b else "")})
    if not rows:
        raise KeyError(f"chapter_table: no {mode}-mode records; run the chapter's spread command in {mode} mode")
    return table(rows)


def summary(records: list[dict], checks: Iterable[Check], title: str, command: str) -> str:
    """The Markdown file: per mode (and budget), every checked metric's spread next to its threshold."""
    checks = list(checks)
    lines = [f"# {title}", "", f"Written by `{command}` from the records in the JSON file beside this one.", ""]
    for (mode, budget, on), rs in sorted(_group(records).items()):
        b = json.loads(budget)
        lines += [f"## {mode} mode on {on}" + (f", shorter runs: {b}" if b else ""), ""]
        devices = sorted({r["device"] for r in rs})
        lines += [f"Runs: {len(rs)} (seeds {sorted({r['seed'] for r in rs})}, threads {sorted({r['threads'] for r in rs})}); "
                  f"device {'; '.join(devices)}; torch {', '.join(sorted({r['torch'] for r in rs}))}; "
                  f"{statistics.median(r['seconds'] for r in rs):.0f} s per run (median).", ""]
        lines += ["| metric | assert | min | median | max | every run passes |", "|---|---|---|---|---|---|"]
        for c in checks:
            if not any(c.measure in r["values"] for r in rs):
                continue
            s = spread_of(rs, c.measure, mode, b, on)
            ok = all(c.passes(r["values"][c.measure], mode) for r in rs if c.measure in r["values"])
            lines.append(f"| {c.measure} | {c.op} {c.threshold(mode):g}: {c.says} | {s['min']:.4g} | {s['median']:.4g} "
                         f"| {s['max']:.4g} | {'yes' if ok else '**no**'} |")
        lines += ["", "| seed | threads | " + " | ".join(c.measure for c in checks if any(c.measure in r['values'] for r in rs)) + " |"]
        shown = [c for c in checks if any(c.measure in r["values"] for r in rs)]
        lines.append("|---|---|" + "---|" * len(shown))
        for r in sorted(rs, key=lambda r: (r["threads"], r["seed"])):
            lines.append(f"| {r['seed']} | {r['threads']} | "
                         + " | ".join(f"{r['values'].get(c.measure, float('nan')):.4g}" for c in shown) + " |")
        lines.append("")
    return "\n".join(lines)


def write(name: str, records: list[dict], checks: Iterable[Check], title: str, command: str,
          folder: Path | None = None) -> tuple[Path, Path]:
    """Merge ``records`` into ``results/<name>.json`` and rewrite ``results/<name>.md`` from all records."""
    folder = Path(folder) if folder is not None else RESULTS
    merged = save(folder / f"{name}.json", records)
    md = folder / f"{name}.md"
    tmp = md.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(summary(merged, checks, title, command), encoding="utf-8")
    os.replace(tmp, md)
    return folder / f"{name}.json", md


def results_file(name: str) -> Path:
    """``results/<name>`` of the repository, with a clear error where the repository's results/ is absent."""
    path = RESULTS / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the book's results/ folder comes with the repository "
                                "(run the chapter from a clone of it)")
    return path


def command(argv, name: str, prog: str, chapter: int, measure: Callable[[int], Mapping[str, float]],
            checks: Iterable[Check], doc: str):
    """The command line of a chapter's spread study: ``--mode``, ``--seeds``, ``--threads``, ``--out``.

    Every record is saved as soon as it is measured, so a stopped study keeps what it finished.
    """
    import argparse

    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    ap.add_argument("--mode", choices=("quick", "full"), required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", default=None, help="folder for the JSON and Markdown files (default: results/)")
    args = ap.parse_args(argv)
    os.environ["RNN_BOOK_QUICK"] = "1" if args.mode == "quick" else "0"
    save = lambda recs: write(name, recs, checks, f"Chapter {chapter}: spread of the asserted numbers over seeds "
                              "and threads", f"{prog} --mode quick|full --seeds ... --threads ...", args.out)
    records = measure_grid(measure, args.seeds, args.threads, on_record=lambda r: save([r]))
    paths = save(records)
    print("wrote", *paths)
    return paths
