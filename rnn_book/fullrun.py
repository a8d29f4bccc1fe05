"""``python -m rnn_book fullrun``: every chapter in full mode, each in a fresh kernel, several side by side.

Each chapter (a Jupytext MyST notebook in ``chapters/``) runs in its own worker process, which
starts a fresh IPython kernel in the chapter's folder and executes the code cells one by one with a
time limit per cell. A failing cell is recorded and the chapter goes on (as in the test harness); a
cell that runs out of time, or a kernel that dies, ends the chapter. After every chapter the table
``results/full_mode.md`` (and the same as JSON beside it) is written again, so a run stopped early
still leaves the chapters it finished.

    python -m rnn_book fullrun                           # all chapters, full mode, workers = cores
    python -m rnn_book fullrun 03_gru 07 --threads 2     # some chapters (by name or number prefix)
    python -m rnn_book fullrun --deadline 3600 --cell-timeout 1200 --out /tmp/full.md
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
DEFAULT_OUT = ROOT / "results" / "full_mode.md"


# ---------------------------------------------------------------- chapters

def is_chapter(path: Path) -> bool:
    """A Jupytext MyST notebook (front matter naming jupytext) with code to run, outside ``solutions/``.

    A page of text alone (the references) has the same header, so that JupyterLab saves it unchanged,
    but nothing to execute.
    """
    path = Path(path)
    if path.suffix != ".md" or "solutions" in path.parts or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    return text[:600].startswith("---") and "jupytext" in text[:600] and bool(code_cell_lines(text))


def find_chapters(names: Sequence[str] = (), folder: Path = CHAPTERS) -> list[Path]:
    """Chapters in ``folder`` whose file name starts with one of ``names`` (all of them when none is given)."""
    every = sorted(p for p in Path(folder).glob("*.md") if is_chapter(p))
    if not names:
        return every
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".md")
        hits = [p for p in every if p.stem == stem] or [p for p in every if p.stem.startswith(stem)]
        if not hits:
            raise ValueError(f"fullrun: no chapter matches {name!r}; chapters: {', '.join(p.stem for p in every)}")
        chosen += [p for p in hits if p not in chosen]
    return chosen


def code_cell_lines(text: str) -> list[int]:
    """1-based line numbers of every ```{code-cell} fence in a MyST notebook."""
    return [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"^`{3,}\{code-cell\}", line)]


# ---------------------------------------------------------------- one chapter, in a worker process

def _kernel_manager():
    """A kernel of this very Python: the environment the book is installed in (as nbval --nbval-current-env)."""
    import ipykernel.kernelspec
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())


def _error_text(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    return f"{ename}: {evalue}".strip()[:500]


def run_chapter(path: Path, progress: Path, cell_timeout: float) -> dict:
    """Execute one chapter cell by cell in a fresh kernel; write the progress JSON after every cell."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    text = Path(path).read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="md:myst")
    lines = code_cell_lines(text)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    state = {"chapter": Path(path).stem, "total": len(code), "cells": [], "kernel_seconds": None, "done": False}

    def save():
        tmp = Path(str(progress) + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(progress)

    save()
    t0 = time.perf_counter()
    client = NotebookClient(nb, km=_kernel_manager(), timeout=cell_timeout,
                            resources={"metadata": {"path": str(Path(path).parent)}}, allow_errors=False)
    with client.setup_kernel():
        state["kernel_seconds"] = time.perf_counter() - t0
        save()
        for num, (index, cell) in enumerate(code):
            rec = {"cell": num, "line": lines[num] if num < len(lines) else 0, "status": "passed"}
            t = time.perf_counter()
            stop = False
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                rec["status"], rec["error"], stop = "timeout", f"no result within the {cell_timeout:.0f} s cell limit", True
            except DeadKernelError as e:
                rec["status"], rec["error"], stop = "failed", f"the kernel died: {e}", True
            except CellExecutionError as e:
                rec["status"], rec["error"] = "failed", _error_text(e)
            rec["seconds"] = time.perf_counter() - t
            state["cells"].append(rec)
            save()
            if stop:
                break
    state["done"] = True
    save()
    import nbformat
    nbformat.write(nb, str(Path(progress).with_suffix(".ipynb")))   # every output, for reading the numbers later
    return state


# ---------------------------------------------------------------- the table

def summarise(chapter: str, progress: dict | None, wall: float, ended: str, total: int = 0) -> dict:
    """One row of the table from a worker's progress record.

    ``ended``: "finished" (the worker returned), "deadline" (stopped at the run's deadline) or
    "crashed" (the worker failed outside any cell). ``total``: the chapter's code cells, when no record says.
    """
    cells = (progress or {}).get("cells", [])
    total = (progress or {}).get("total", total)
    passed = sum(c["status"] == "passed" for c in cells)
    failed = [c for c in cells if c["status"] != "passed"]
    first = failed[0] if failed else None
    if ended == "deadline":
        status = "stopped at deadline"
    elif ended == "crashed":
        status = "error"
    elif first is not None and first["status"] == "timeout":
        status = "cell timeout"
    else:
        status = "failed" if failed else "passed"
    message = ""
    if first is not None:
        message = f"cell {first['cell']} (line {first['line']}): {first.get('error', '')}"
    elif ended != "finished":
        message = (progress or {}).get("error", "") or ""
    return {"chapter": chapter, "status": status, "wall_seconds": round(wall, 1), "cells": total,
            "passed": passed, "failed": len(failed), "not_run": total - len(cells), "first_failure": message}


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def machine(threads: int) -> dict:
    """Device, threads, library versions: the context every number of the table belongs to."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    code = ("import json, torch, platform, rnn_book\n"
            "print(json.dumps({'device': rnn_book.describe_device(), 'torch': torch.__version__,"
            " 'cuda': torch.version.cuda, 'python': platform.python_version()}))")
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                             cwd=ROOT, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as e:
        return {"device": f"unknown ({type(e).__name__})", "torch": "?", "cuda": None,
                "python": platform.python_version()}


def render(rows: list[dict], info: dict) -> str:
    """The Markdown page: what ran where, then one row per chapter."""
    head = [
        "# Chapters in full mode",
        "",
        f"Written by `python -m rnn_book fullrun` on {info['date']}: every chapter executed top to bottom in a "
        f"fresh kernel, {info['mode']} mode (`RNN_BOOK_QUICK={'1' if info['mode'] == 'quick' else '0'}`), "
        f"{info['workers']} at a time.",
        "",
        f"- device: {info['device']}",
        f"- threads per kernel: {info['threads']} (OMP_NUM_THREADS); CPU cores: {info['cores']}",
        f"- torch {info['torch']}" + (f" (CUDA {info['cuda']})" if info.get("cuda") else "")
        + f", Python {info['python']}",
        f"- cell time limit: {info['cell_timeout']:.0f} s"
        + (f"; whole run limited to {info['deadline']:.0f} s" if info.get("deadline") else ""),
        "",
        "| chapter | result | wall time | cells passed | failed | not run | first failure |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    body = []
    for r in rows:
        msg = r["first_failure"].replace("|", "\\|").replace("\n", " ")
        wall = _clock(r["wall_seconds"]) if r["status"] not in ("not started", "running") else ""
        body.append(f"| {r['chapter']} | {r['status']} | {wall} | {r['passed']} of {r['cells']} | {r['failed']} | "
                    f"{r['not_run']} | {msg} |")
    done = [r for r in rows if r["status"] not in ("not started", "running")]
    foot = ["", f"Chapters passed: {sum(r['status'] == 'passed' for r in rows)} of {len(rows)}; "
                f"wall time of the run: {_clock(info.get('elapsed', 0.0))}; "
                f"sum of chapter wall times: {_clock(sum(r['wall_seconds'] for r in done))}."]
    return "\n".join(head + body + foot) + "\n"


README_START = "<!-- full-mode times: written by `python -m rnn_book fullrun --readme README.md` -->"
README_END = "<!-- end of full-mode times -->"


def readme_table(data: dict) -> str:
    """The README's block: each chapter's full-mode wall time and result, from ``results/full_mode.json``."""
    m = data["machine"]
    lines = [README_START, "",
             f"Measured by `python -m rnn_book fullrun` on {m['date']}: {m['device']}, {m['threads']} thread(s) per "
             f"chapter, {m['workers']} chapter(s) at a time, torch {m['torch']}; on a machine shared with other "
             "work, so read the times as upper bounds. Details: [results/full_mode.md](results/full_mode.md).", "",
             "| chapter | full mode | wall time |", "| --- | --- | ---: |"]
    for r in sorted(data["chapters"], key=lambda r: r["chapter"]):
        wall = _clock(r["wall_seconds"]) if r["status"] not in ("not started", "running") else ""
        lines.append(f"| {r['chapter']} | {r['status']} | {wall} |")
    return "\n".join(lines + ["", README_END])


def write_readme(readme: Path, results: Path) -> str:
    """Replace the block between README_START and README_END in ``readme`` by :func:`readme_table`."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise ValueError(f"write_readme: {readme} has no block between {README_START!r} and {README_END!r}")
    data = json.loads(results.read_text(encoding="utf-8"))
    head, rest = text.split(README_START, 1)
    new = head + readme_table(data) + rest.split(README_END, 1)[1]
    readme.write_text(new, encoding="utf-8")
    return new


# ---------------------------------------------------------------- the run

def _worker_env(threads: int, mode: str) -> dict:
    env = dict(os.environ)
    env["RNN_BOOK_QUICK"] = "1" if mode == "quick" else "0"
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env.setdefault("MPLBACKEND", "agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _order(chapters: list[Path], previous: Path) -> list[Path]:
    """Longest first, by the wall times of a previous run; a chapter it never timed goes first (by file size)."""
    times = {}
    try:
        times = {r["chapter"]: r["wall_seconds"] for r in json.loads(previous.read_text())["chapters"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return sorted(chapters, key=lambda p: (p.stem in times, -times.get(p.stem, 0.0), -p.stat().st_size))


def run(chapters: Sequence[Path], out: Path = DEFAULT_OUT, workers: int | None = None, threads: int = 1,
        cell_timeout: float = 3600.0, deadline: float | None = None, mode: str = "full",
        log_dir: Path | None = None) -> list[dict]:
    """Run ``chapters`` in worker processes, ``workers`` at a time; rewrite ``out`` (and ``.json``) after each."""
    if mode not in ("full", "quick"):
        raise ValueError(f"fullrun: mode must be 'full' or 'quick'; got {mode!r}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"fullrun: threads must be a positive int; got {threads!r}")
    cores = os.cpu_count() or 1
    workers = workers or max(1, cores // threads)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"fullrun: workers must be a positive int; got {workers!r}")
    if not chapters:
        raise ValueError("fullrun: no chapters to run")
    t_start = time.monotonic()                      # the deadline counts from here
    end_at = t_start + deadline if deadline else None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_out = out.with_suffix(".json")
    chapters = _order(list(chapters), json_out)
    info = {"device": "(being read)", "torch": "?", "cuda": None, "python": platform.python_version(),
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": mode, "workers": min(workers, len(chapters)), "threads": threads, "cores": cores,
            "cell_timeout": cell_timeout, "deadline": deadline}
    totals = {p.stem: len(code_cell_lines(p.read_text(encoding="utf-8"))) for p in chapters}
    rows = {p.stem: summarise(p.stem, None, 0.0, "finished", totals[p.stem]) | {"status": "not started"}
            for p in chapters}
    lock = threading.Lock()
    env = _worker_env(threads, mode)
    progress_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="rnn_book_fullrun_"))
    progress_dir.mkdir(parents=True, exist_ok=True)
    print(f"fullrun: {len(chapters)} chapters, {info['workers']} at a time; logs in {progress_dir}", flush=True)

    def write():
        info["elapsed"] = time.monotonic() - t_start
        ordered = [rows[p.stem] for p in sorted(chapters)]
        out.write_text(render(ordered, info), encoding="utf-8")
        json_out.write_text(json.dumps({"machine": info, "chapters": ordered}, indent=1), encoding="utf-8")

    def one(path: Path) -> None:
        progress = progress_dir / f"{path.stem}.json"
        log = progress_dir / f"{path.stem}.log"
        remaining = None if end_at is None else end_at - time.monotonic()
        if remaining is not None and remaining <= 0:
            return                                      # stays "not started"
        t0 = time.perf_counter()
        with lock:
            rows[path.stem] = rows[path.stem] | {"status": "running"}   # what a table read mid-run shows
            write()
        cmd = [sys.executable, "-m", "rnn_book.fullrun", "--one", str(path), "--progress", str(progress),
               "--cell-timeout", str(cell_timeout)]
        ended = "finished"
        with open(log, "w", encoding="utf-8") as fh:
            proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)      # its own group: the kernel goes with it
            try:
                code = proc.wait(timeout=remaining)
                if code != 0:
                    ended = "crashed"
            except subprocess.TimeoutExpired:
                ended = "deadline"
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        try:
            record = json.loads(progress.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if ended == "crashed":
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
            record = (record or {}) | {"error": f"worker exited with code {code}: {tail[0][:300]}"}
        elif ended == "finished" and not (record or {}).get("done"):
            ended = "crashed"
        with lock:
            rows[path.stem] = summarise(path.stem, record, time.perf_counter() - t0, ended, totals[path.stem])
            write()

    def read_machine():             # beside the chapters: importing torch can take a while on a busy machine
        found = machine(threads)
        with lock:
            info.update(found)
            write()

    with lock:
        write()
    reader = threading.Thread(target=read_machine, daemon=True)
    reader.start()
    with ThreadPoolExecutor(max_workers=info["workers"]) as pool:
        list(pool.map(one, chapters))
    reader.join(timeout=max(1.0, end_at - time.monotonic()) if end_at else None)
    with lock:
        write()
    return [rows[p.stem] for p in sorted(chapters)]


def main(argv: Sequence[str] | None = None) -> list[dict] | dict:
    p = argparse.ArgumentParser(prog="python -m rnn_book fullrun", description=__doc__.split("\n")[0])
    p.add_argument("chapters", nargs="*", help="chapter names or number prefixes (default: all)")
    p.add_argument("--workers", type=int, help="chapters side by side (default: CPU cores / threads)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/torch threads per kernel (default 1)")
    p.add_argument("--cell-timeout", type=float, default=3600.0, help="seconds one cell may take (default 3600)")
    p.add_argument("--deadline", type=float, help="seconds the whole run may take; unfinished chapters are recorded")
    p.add_argument("--mode", choices=("full", "quick"), default="full")
    p.add_argument("--out", default=str(DEFAULT_OUT), help=f"Markdown table (default {DEFAULT_OUT.relative_to(ROOT)})")
    p.add_argument("--log-dir", help="folder for each chapter's progress record, log and executed notebook (default: a new temporary one)")
    p.add_argument("--chapters-dir", default=str(CHAPTERS), help="where the chapters are (default: chapters/)")
    p.add_argument("--readme", help="run nothing: rewrite this README's full-mode table from --out's .json")
    p.add_argument("--one", help=argparse.SUPPRESS)          # worker: run this one chapter
    p.add_argument("--progress", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        return run_chapter(Path(a.one), Path(a.progress), a.cell_timeout)
    if a.readme:
        write_readme(Path(a.readme), Path(a.out).with_suffix(".json"))
        print(f"rewrote the full-mode table in {a.readme} from {Path(a.out).with_suffix('.json')}")
        return {}
    try:
        chapters = find_chapters(a.chapters, Path(a.chapters_dir))
    except ValueError as e:
        p.error(str(e))
    rows = run(chapters, Path(a.out), a.workers, a.threads, a.cell_timeout, a.deadline, a.mode,
               Path(a.log_dir) if a.log_dir else None)
    for r in rows:
        print(f"{r['chapter']:<32} {r['status']:<20} {_clock(r['wall_seconds']):>8}  "
              f"{r['passed']}/{r['cells']} cells passed  {r['first_failure'][:100]}")
    print(f"wrote {a.out}")
    return rows


if __name__ == "__main__":
    main()
