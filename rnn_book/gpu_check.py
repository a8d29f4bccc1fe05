"""``python -m rnn_book gpu-check --out DIR``: everything a CUDA machine can show about the book, in one run.

The parts, in this order, each in its own processes with a time limit taken from one overall budget:

1. machine  -- GPU, driver, CUDA, cuDNN, torch (``nvidia-smi`` and torch);
2. tests    -- ``pytest -m gpu`` on the GPU test files: both engines on the GPU, every precision, and the
               application chapters' helpers on CUDA;
3. parity   -- the measured gaps between the engines (:mod:`rnn_book.analysis.parity`), TF32 included;
4. bench    -- ``python -m rnn_book bench --device cuda`` at the chapter's sizes and at B64 T100 H512,
               then the same large size with TF32 on;
5. cuda-report -- chapter 9's GPU numbers (``python -m rnn_book cuda-report``): cuDNN timings, kernels
               per step, DropConnect on cuDNN, into ``DIR/ch09_cuda.json``;
6. ddp      -- the character LM under ``torchrun`` on the GPU (nccl);
7. chapters -- ``python -m rnn_book fullrun``: every chapter in full mode, side by side, in the time left.

A part that fails or runs out of time is recorded as such and the next one starts. ``DIR/gpu.md`` is
written again after every part, so whatever finished is kept. Timings are taken with nothing else
running: the chapters, which share the GPU, come last.

    python -m rnn_book gpu-check --out /tmp/gpu --budget 480
    python -m rnn_book gpu-check --out /tmp/dry --device cpu --budget 300 --chapters 00 --small   # dry run
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("machine", "tests", "parity", "bench", "cuda-report", "ddp", "chapters")
# the most each part may take (seconds); the chapters get whatever is left
CAPS = {"machine": 60, "tests": 150, "parity": 90, "bench": 180, "cuda-report": 90, "ddp": 60}
GPU_TESTS = ("tests/test_gpu.py", "tests/test_applications_gpu.py")     # every file with gpu-marked tests
LARGE = "64x100x512x512"          # PyTorch's own RNN benchmark size: B64 T100 I512 H512


class Run:
    """The state of one gpu-check: the budget, the output folder, and each part's record."""

    def __init__(self, out: Path, budget: float, device: str):
        self.out, self.budget, self.device = out, budget, device
        self.t0 = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="rnn_book_gpu_check_"))
        self.parts: dict[str, dict] = {}
        self.reserve = 0.0              # seconds kept back for the parts still to come (the chapters)
        self.log = out / "gpu_check.log"
        self.log.write_text("", encoding="utf-8")

    def remaining(self) -> float:
        return self.budget - (time.monotonic() - self.t0)

    def call(self, name: str, cmd: list[str], limit: float, env: dict | None = None) -> dict:
        """Run ``cmd`` with at most ``limit`` seconds; append its output to the log; record how it ended."""
        limit = max(1.0, min(limit, self.remaining() - self.reserve))
        header = f"\n===== {name}: {' '.join(cmd)} (limit {limit:.0f} s)\n"
        part_log = self.tmp / f"{name}.log"
        t = time.monotonic()
        with open(part_log, "w", encoding="utf-8") as fh:
            try:
                proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=fh,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                fh.write(f"could not start: {e}\n")
                proc = None
            code, status = None, "failed to start"
            if proc is not None:
                try:
                    code = proc.wait(timeout=limit)
                    status = "ok" if code == 0 else f"failed (exit code {code})"
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    status = f"stopped at its {limit:.0f} s limit"
        seconds = time.monotonic() - t
        text = part_log.read_text(encoding="utf-8", errors="replace")
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(header + text + f"===== {name}: {status} after {seconds:.1f} s\n")
        print(f"[gpu-check] {name}: {status} after {seconds:.1f} s", flush=True)
        return {"status": status, "seconds": seconds, "code": code, "output": text}

    def record(self, name: str, result: dict) -> None:
        self.parts[name] = result
        write_report(self)


# ---------------------------------------------------------------- the parts

def part_machine(run: Run, py: str) -> dict:
    smi = shutil.which("nvidia-smi")
    info: dict = {}
    if smi:
        r = run.call("nvidia-smi", [smi, "--query-gpu=name,driver_version,memory.total,compute_cap",
                                    "--format=csv,noheader"], 30)
        info["nvidia-smi"] = r["output"].strip() if r["status"] == "ok" else r["status"]
    code = ("import json, os, platform, torch\n"
            "cuda = torch.cuda.is_available()\n"
            "d = {'torch': torch.__version__, 'cuda (torch)': torch.version.cuda,\n"
            "     'cuDNN': torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,\n"
            "     'python': platform.python_version(), 'CPU cores': os.cpu_count(), 'CUDA available': cuda}\n"
            "if cuda:\n"
            "    p = torch.cuda.get_device_properties(0)\n"
            "    d |= {'GPU': p.name, 'GPU memory (GiB)': round(p.total_memory / 2**30, 1),\n"
            "          'compute capability': f'{p.major}.{p.minor}', 'multiprocessors': p.multi_processor_count}\n"
            "print(json.dumps(d))\n")
    r = run.call("machine", [py, "-c", code], CAPS["machine"])
    try:
        info |= json.loads(r["output"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        pass
    return r | {"info": info}


def part_tests(run: Run, py: str) -> dict:
    xml = run.tmp / "gpu_tests.xml"
    env = {} if run.device.startswith("cuda") else {"RNN_BOOK_GPU_TEST_DEVICE": run.device}
    r = run.call("tests", [py, "-m", "pytest", "-m", "gpu", *GPU_TESTS, "-p", "no:cacheprovider", "-q",
                           "-rfEs", f"--junitxml={xml}"], CAPS["tests"], env)
    return r | {"junit": junit_summary(xml)}


def junit_summary(path: Path) -> dict:
    """Counts and failures from a JUnit XML file written by pytest."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    failed = []
    for case in suite.iter("testcase"):
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None:
                msg = (el.get("message") or "").splitlines()[0][:200] if el.get("message") else ""
                failed.append(f"{case.get('name')}: {msg}")
    return counts | {"time": float(suite.get("time", 0.0)), "failed": failed}


def part_parity(run: Run, py: str, small: bool) -> dict:
    path = run.out / "parity.json"
    r = run.call("parity", [py, "-m", "rnn_book.analysis.parity", "--device", run.device, "--json", str(path)]
                 + (["--small"] if small else []), CAPS["parity"])
    try:
        r["rows"] = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        r["rows"] = []
    return r


def part_bench(run: Run, py: str, sizes: str, repeats: int) -> dict:
    from .analysis.bench import FULL_SIZES

    sizes = sizes or ",".join(f"{s.batch}x{s.time}x{s.input}x{s.hidden}" for s in FULL_SIZES) + "," + LARGE
    ieee, tf32 = run.tmp / "bench.json", run.tmp / "bench_tf32.json"
    base = [py, "-m", "rnn_book", "bench", "--device", run.device, "--repeats", str(repeats)]
    r = run.call("bench", base + ["--sizes", sizes, "--json", str(ieee)], CAPS["bench"])
    large = sizes.split(",")[-1]
    r2 = run.call("bench-tf32", base + ["--sizes", large, "--tf32", "--json", str(tf32)],
                  max(1.0, CAPS["bench"] - r["seconds"]))
    result = {"ieee": _load(ieee), "tf32": _load(tf32)}
    (run.out / "bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    status = r["status"] if r2["status"] == "ok" else f"{r['status']}; with TF32: {r2['status']}"
    return r | {"status": status, "seconds": r["seconds"] + r2["seconds"], "output": r["output"] + r2["output"],
                **result}


def part_cuda_report(run: Run, py: str) -> dict:
    """Chapter 9's GPU numbers (cuDNN timings, kernels per step, DropConnect) into OUT/ch09_cuda.json."""
    if not run.device.startswith("cuda"):
        return {"status": "skipped: needs a CUDA device", "seconds": 0.0, "output": ""}
    return run.call("cuda-report", [py, "-m", "rnn_book", "cuda-report", "--out", str(run.out / "ch09_cuda.json")],
                    CAPS["cuda-report"])


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def part_ddp(run: Run, py: str) -> dict:
    on_gpu = run.device.startswith("cuda")
    procs, size = ("1", ["--hidden", "256", "--layers", "2", "--batch-size", "64", "--seq-len", "128"]) if on_gpu \
        else ("2", ["--hidden", "32", "--batch-size", "8", "--seq-len", "32", "--max-chars", "30000"])
    env = {} if on_gpu else {"CUDA_VISIBLE_DEVICES": ""}
    return run.call("ddp", [py, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", procs,
                            "-m", "rnn_book", "ddp-lm", "--steps", "30"] + size, CAPS["ddp"], env)


def part_chapters(run: Run, py: str, chapters: Sequence[str], workers: int | None, threads: int,
                  cell_timeout: float) -> dict:
    out = run.out / "full_mode.md"
    logs = run.tmp / "chapters"
    deadline = max(10.0, run.remaining() - 40)          # leave time to stop, gather the logs and write the report
    cmd = [py, "-m", "rnn_book", "fullrun", *chapters, "--threads", str(threads), "--cell-timeout",
           str(cell_timeout), "--deadline", f"{deadline:.0f}", "--out", str(out), "--log-dir", str(logs)]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {} if run.device.startswith("cuda") else {"CUDA_VISIBLE_DEVICES": ""}
    r = run.call("chapters", cmd, deadline + 30, env)
    with open(run.out / "chapter_logs.txt", "w", encoding="utf-8") as fh:
        for log in sorted(logs.glob("*.log")) if logs.exists() else []:
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            fh.write(f"===== {log.stem} (last {min(len(lines), 150)} of {len(lines)} lines)\n")
            fh.write("\n".join(lines[-150:]) + "\n")
    table = _load(out.with_suffix(".json"))
    return r | {"table": table}


# ---------------------------------------------------------------- the report

def _status(run: Run, name: str) -> str:
    p = run.parts.get(name)
    if p is None:
        return "not run (no time left)" if run.remaining() <= 0 else "not run yet"
    return f"{p['status']}, {p['seconds']:.0f} s"


def _bench_lines(data: dict | None, title: str) -> list[str]:
    if not data:
        return [f"{title}: no result.", ""]
    m = data["machine"]
    lines = [f"{title} ({m['repeats']} repeats, median; one call = forward + backward "
             "over the batch; x cudnn = time / the library form's time):", "",
             "| size | kind | form | ms | x cudnn | tokens/s | GFLOP/s |", "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in data["rows"]:
        size = f"B{r['batch']} T{r['time']} I{r['input']} H{r['hidden']}"
        lines.append(f"| {size} | {r['kind'].upper()} | {r['form']} | {1e3 * r['seconds']:.2f} | "
                     f"{r['ratio_to_cudnn']:.1f} | {r['tokens_per_s']:,.0f} | {r['gflops']:.1f} |")
    dense = data["rows"][0].get("dense_gflops")
    if dense:
        lines += ["", f"Dense float32 matrix product on the same device, same run: {dense:,.0f} GFLOP/s."]
    return lines + [""]


def _speedups(data: dict | None) -> list[str]:
    """The library engine's speed-up over the textbook and fused forms, per kind and size."""
    if not data:
        return []
    lines = ["| size | kind | library vs textbook | library vs fused |", "| --- | --- | ---: | ---: |"]
    by = {}
    for r in data["rows"]:
        by.setdefault((r["batch"], r["time"], r["input"], r["hidden"], r["kind"]), {})[r["form"]] = r["seconds"]
    for (b, t, i, h, kind), f in by.items():
        if {"textbook", "fused", "cudnn"} <= f.keys():
            lines.append(f"| B{b} T{t} I{i} H{h} | {kind.upper()} | {f['textbook'] / f['cudnn']:.1f}x | "
                         f"{f['fused'] / f['cudnn']:.1f}x |")
    return lines + [""]


def _parity_lines(rows: list[dict]) -> list[str]:
    from .analysis.parity import format_table

    if not rows:
        return ["No result.", ""]
    worst: dict[str, float] = {}
    for r in rows:
        if r["compare"] == "scratch vs library engine":
            g = max(r["output"], r["state"], r["input_grad"], r["weight_grad"])
            worst[r["precision"]] = max(worst.get(r["precision"], 0.0), g)
    summary = "; ".join(f"{k}: {v:.1e}" for k, v in worst.items())
    return [f"Largest gap between the engines over every case, output, state and gradient: {summary}.", "",
            format_table(rows), ""]


def write_report(run: Run) -> None:
    m = run.parts.get("machine", {}).get("info", {})
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# The book on a GPU", "",
             f"Written by `python -m rnn_book gpu-check` on {now}, device `{run.device}`; "
             f"{time.monotonic() - run.t0:.0f} s of a {run.budget:.0f} s budget used. Each part ran in its own "
             "processes with a time limit; raw output in `gpu_check.log`.", "",
             f"## Machine ({_status(run, 'machine')})", ""]
    lines += [f"- {k}: {v}" for k, v in m.items()] + [""]

    t = run.parts.get("tests", {})
    j = t.get("junit") or {}
    lines += [f"## GPU tests: `pytest -m gpu {' '.join(GPU_TESTS)}` ({_status(run, 'tests')})", ""]
    if j:
        passed = j["tests"] - j["failures"] - j["errors"] - j["skipped"]
        lines += [f"{passed} passed, {j['failures']} failed, {j['errors']} errors, {j['skipped']} skipped "
                  f"in {j['time']:.1f} s."]
        lines += [f"- failed: {f}" for f in j["failed"]]
    lines += [""]

    p = run.parts.get("parity", {})
    lines += [f"## The engines side by side ({_status(run, 'parity')})", "",
              "Gap = max |scratch - library| / max(1, max |library|) (or device against CPU), over outputs, final "
              "state, the input's gradient and every weight gradient; the library engine's recurrent operator "
              "shows whether cuDNN ran.", ""]
    lines += _parity_lines(p.get("rows", [])) if p else [""]

    b = run.parts.get("bench", {})
    lines += [f"## Training speed: `python -m rnn_book bench --device {run.device}` ({_status(run, 'bench')})", ""]
    if b:
        lines += _bench_lines(b.get("ieee"), "IEEE float32 (TF32 off)") + ["Speed-up of the library engine (cuDNN on a GPU):",
                                                                 ""] + _speedups(b.get("ieee"))
        lines += _bench_lines(b.get("tf32"), "Float32 with TF32 on (cuBLAS and cuDNN)")
    cr = run.parts.get("cuda-report", {})
    lines += [f"## Chapter 9's GPU numbers: `python -m rnn_book cuda-report` ({_status(run, 'cuda-report')})", "",
              "Written to `ch09_cuda.json` (the chapter reads `results/ch09_cuda.json`).", ""]
    lines += ["```", *cr.get("output", "").strip().splitlines()[-25:], "```", ""] if cr.get("output") else [""]
    d = run.parts.get("ddp", {})
    lines += [f"## Data-parallel training under torchrun ({_status(run, 'ddp')})", ""]
    said = [ln for ln in d.get("output", "").splitlines() if ln.startswith(("rank ", "30 steps", "wrote"))]
    lines += ["```", *said, "```", ""] if said else ["No result." if d else "", ""]
    c = run.parts.get("chapters", {})
    lines += [f"## Chapters in full mode ({_status(run, 'chapters')})", ""]
    table = (run.out / "full_mode.md")
    if c and table.exists():
        body = table.read_text(encoding="utf-8").splitlines()
        lines += [ln for ln in body if not ln.startswith("# ")]
    (run.out / "gpu.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- command line

def main(argv: Sequence[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m rnn_book gpu-check", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder for gpu.md and the raw results")
    p.add_argument("--budget", type=float, default=480.0, help="seconds for all parts together (default 480)")
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu for a dry run of the whole check")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--chapters", nargs="*", default=[], help="chapters for the full-mode part (default: all)")
    p.add_argument("--workers", type=int, help="chapters side by side (default: fullrun's: cores / threads)")
    p.add_argument("--threads", type=int, default=1, help="threads per chapter kernel (default 1)")
    p.add_argument("--cell-timeout", type=float, default=600.0, help="seconds per chapter cell (default 600)")
    p.add_argument("--bench-sizes", default="", help=f"bench sizes; the last is also run with TF32 "
                                                     f"(default: the chapter's sizes and {LARGE})")
    p.add_argument("--repeats", type=int, default=7, help="bench repeats (default 7)")
    p.add_argument("--small", action="store_true", help="parity at the chapter's sizes only (for a dry run)")
    a = p.parse_args(argv)
    parts = [s.strip() for s in a.parts.split(",") if s.strip()]
    if not parts or any(s not in PARTS for s in parts):
        p.error(f"--parts must name some of {','.join(PARTS)}; got {a.parts!r}")
    if a.budget <= 0:
        p.error(f"--budget must be positive; got {a.budget}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    run = Run(out, a.budget, a.device)
    py = sys.executable
    steps = {"machine": lambda: part_machine(run, py), "tests": lambda: part_tests(run, py),
             "parity": lambda: part_parity(run, py, a.small),
             "bench": lambda: part_bench(run, py, a.bench_sizes, a.repeats),
             "cuda-report": lambda: part_cuda_report(run, py), "ddp": lambda: part_ddp(run, py),
             "chapters": lambda: part_chapters(run, py, a.chapters, a.workers, a.threads, a.cell_timeout)}
    write_report(run)
    for name in PARTS:
        if name not in parts:
            continue
        # keep 40% of the budget (at most 4 minutes) for the chapters while the measurements run
        run.reserve = min(240.0, 0.4 * a.budget) if "chapters" in parts and name != "chapters" else 0.0
        if run.remaining() < 5:
            print(f"[gpu-check] {name}: not run, the budget is spent", flush=True)
            continue
        try:
            run.record(name, steps[name]())
        except Exception as e:          # a broken part must not cost the others their report
            run.record(name, {"status": f"error in gpu-check: {type(e).__name__}: {e}", "seconds": 0.0,
                              "output": ""})
    write_report(run)
    print((out / "gpu.md").read_text(encoding="utf-8")[-6000:])
    shutil.rmtree(run.tmp, ignore_errors=True)
    return run.parts


if __name__ == "__main__":
    main()
