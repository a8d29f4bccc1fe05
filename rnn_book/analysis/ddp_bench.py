"""``python -m rnn_book ddp-bench``: one process against two data-parallel processes, same global batch.

Chapter 04's language model is trained for a few steps in each arrangement -- 1 process with 1
thread, 1 process with 2 threads, 2 DDP processes with 1 thread each -- always on the same global
batch, so every arrangement does the same arithmetic and the loss curves agree (the table shows by
how much). Arrangements are run in turns, several rounds, and the median time per step is kept,
because a shared machine is noisy. Results go to ``results/ddp.md``.

    python -m rnn_book ddp-bench                     # both sizes, 3 rounds: a few minutes on 2 cores
    python -m rnn_book ddp-bench --sizes quick --rounds 1 --out /tmp/ddp.md
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import torch

from ..distributed import launch
from ..tasks.lm_ddp import LMConfig, build_model, train
from ..settings import cpu_name

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "results" / "ddp.md"

# chapter 04's model at its two sizes: quick mode's, and full mode's (two layers of 256)
SIZES = {
    "quick": LMConfig(max_chars=200_000, hidden_size=128, embed_size=32, num_layers=1, batch_size=32, seq_len=64,
                      steps=20, warmup_steps=3),
    "full": LMConfig(max_chars=200_000, hidden_size=256, embed_size=64, num_layers=2, batch_size=64, seq_len=128,
                     steps=6, warmup_steps=2),
}
ARRANGEMENTS = ((1, 1), (1, 2), (2, 1))        # (processes, threads per process)


# ---------------------------------------------------------------- what an all-reduce moves

def ring_allreduce_bytes(n_params: int, world: int, bytes_per_param: int = 4) -> float:
    """Bytes each process sends (and receives) in one ring all-reduce of ``n_params`` numbers over ``world``."""
    if world < 1 or n_params < 0:
        raise ValueError(f"ring_allreduce_bytes: need world >= 1 and n_params >= 0; got {world}, {n_params}")
    # reduce-scatter, then all-gather: N-1 steps each, one chunk of P/N numbers per step
    return 2 * (world - 1) * n_params * bytes_per_param / world


def ring_allreduce(tensors: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[int]]:
    """Sum N same-shaped tensors the way a ring of N processes does, counting what each process sends.

    Process p splits its tensor into N chunks and only ever sends to process p+1 (mod N). Returns every
    process's result (each the full sum) and the number of elements each process sent.
    """
    n = len(tensors)
    if n < 1 or any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"ring_allreduce: need one or more tensors of one shape; got "
                         f"{[tuple(t.shape) for t in tensors]}")
    chunks = [list(t.detach().flatten().clone().tensor_split(n)) for t in tensors]
    sent = [0] * n

    def ring_step(chunk_of, combine):
        # every process sends one chunk to its successor at the same time: read all messages first
        messages = [(p, chunk_of(p), chunks[p][chunk_of(p)].clone()) for p in range(n)]
        for p, c, m in messages:
            chunks[(p + 1) % n][c] = combine(chunks[(p + 1) % n][c], m)
            sent[p] += m.numel()

    for s in range(n - 1):          # reduce-scatter: afterwards process p holds the full sum of chunk p+1
        ring_step(lambda p: (p - s) % n, lambda mine, received: mine + received)
    for s in range(n - 1):          # all-gather: each full chunk travels once around the ring
        ring_step(lambda p: (p + 1 - s) % n, lambda mine, received: received)
    return [torch.cat(c).view_as(tensors[0]) for c in chunks], sent


def parameter_count(cfg: LMConfig) -> int:
    from ..tasks.lm import prepare

    return sum(p.numel() for p in build_model(cfg, len(prepare(cfg.corpus, cfg.max_chars).vocab)).parameters())


def measure(cfg: LMConfig, arrangements: Sequence[tuple[int, int]] = ARRANGEMENTS, rounds: int = 3) -> list[dict]:
    """Seconds per step of each arrangement (median over rounds, run in turns) and its loss curve's gap."""
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"ddp-bench: rounds must be a positive int; got {rounds!r}")
    times: dict = {a: [] for a in arrangements}
    curves: dict = {}
    for _ in range(rounds):
        for procs, threads in arrangements:
            r = launch(train, procs, replace(cfg, threads=threads))
            times[(procs, threads)].append(r.seconds_per_step)
            curves[(procs, threads)] = r.step_loss
    base = statistics.median(times[arrangements[0]])
    ref = curves[arrangements[0]]
    rows = []
    for (procs, threads), ts in times.items():
        sec = statistics.median(ts)
        rows.append({"processes": procs, "threads": threads, "cores": procs * threads, "seconds_per_step": sec,
                     "min": min(ts), "max": max(ts), "tokens_per_s": cfg.batch_size * cfg.seq_len / sec,
                     "speedup": base / sec,
                     "loss_gap": max(abs(a - b) for a, b in zip(curves[(procs, threads)], ref))})
    return rows


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def render(results: dict[str, tuple[LMConfig, int, list[dict]]], rounds: int, load: tuple[str, str]) -> str:
    lines = ["# Data parallelism: 1 process against 2",
             "",
             f"Written by `python -m rnn_book ddp-bench` on "
             f"{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. Chapter 04's character "
             "language model (LSTM, Moby-Dick), trained on one global batch in every arrangement: 2 processes "
             "read half of the streams each and DistributedDataParallel (gloo) averages their gradients.",
             "",
             f"- machine: {cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}, "
             f"Python {platform.python_version()}",
             "- device: cpu; threads per process as in the table (torch.set_num_threads)",
             f"- load average (1 / 5 / 15 min) before the run: {load[0]}; after: {load[1]} "
             "(other programs on the machine take cores too)",
             f"- time per step: median of {rounds} round(s), the arrangements run in turns; "
             "min and max beside it; tokens per step = global batch x sequence length",
             "- loss gap: largest difference of the per-step global training loss from the 1-process, "
             "1-thread run (float32; the same arithmetic in another order)",
             ""]
    for name, (cfg, n_params, rows) in results.items():
        lines += [f"## {name} size: {cfg.num_layers} x LSTM({cfg.hidden_size}), embedding {cfg.embed_size}, "
                  f"global batch {cfg.batch_size} x {cfg.seq_len}",
                  "",
                  f"{n_params:,} parameters: {4 * n_params / 1e6:.2f} MB of float32 gradients all-reduced per step "
                  f"({cfg.warmup_steps} warm-up steps, then {cfg.steps} timed).",
                  "",
                  "| processes | threads each | ms per step (min-max) | tokens/s | speed-up | loss gap |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            lines.append(f"| {r['processes']} | {r['threads']} | {1e3 * r['seconds_per_step']:.0f} "
                         f"({1e3 * r['min']:.0f}-{1e3 * r['max']:.0f}) | {r['tokens_per_s']:,.0f} | "
                         f"{r['speedup']:.2f}x | {r['loss_gap']:.1e} |")
        lines.append("")
    return "\n".join(lines)


def read_results(path: str | os.PathLike = DEFAULT_OUT) -> dict[str, list[dict]]:
    """The tables of a page :func:`render` wrote: size name -> rows (processes, threads, ms per step, speed-up, loss gap)."""
    text = Path(path).read_text(encoding="utf-8")
    tables: dict[str, list[dict]] = {}
    for block in text.split("\n## ")[1:]:
        name = block.split(" size:", 1)[0]
        rows = []
        for line in block.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 6 and cells[0].isdigit():
                rows.append({"processes": int(cells[0]), "threads": int(cells[1]),
                             "ms_per_step": float(cells[2].split()[0]), "speedup": float(cells[4].rstrip("x")),
                             "loss_gap": float(cells[5])})
        tables[name] = rows
    if not tables or not all(tables.values()):
        raise ValueError(f"read_results: {path} holds no table written by `python -m rnn_book ddp-bench`")
    return tables


def main(argv: Sequence[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m rnn_book ddp-bench", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="quick,full", help="comma-separated: quick, full (chapter 04's two sizes)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of all arrangements (median reported)")
    p.add_argument("--steps", type=int, help="timed steps per run (default: per size)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="Markdown output (default results/ddp.md)")
    a = p.parse_args(argv)
    names = [s.strip() for s in a.sizes.split(",") if s.strip()]
    if not names or any(n not in SIZES for n in names):
        p.error(f"--sizes must name some of {','.join(SIZES)}; got {a.sizes!r}")
    if a.rounds < 1 or (a.steps is not None and a.steps < 1):
        p.error("--rounds and --steps must be positive")
    results, before = {}, _load()
    for name in names:
        cfg = SIZES[name] if a.steps is None else replace(SIZES[name], steps=a.steps)
        rows = measure(cfg, rounds=a.rounds)
        results[name] = (cfg, parameter_count(cfg), rows)
        for r in rows:
            print(f"{name:<6} {r['processes']} process(es) x {r['threads']} thread(s): "
                  f"{1e3 * r['seconds_per_step']:7.1f} ms/step  {r['tokens_per_s']:9,.0f} tokens/s  "
                  f"{r['speedup']:.2f}x  loss gap {r['loss_gap']:.1e}", flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results, a.rounds, (before, _load())), encoding="utf-8")
    print(f"wrote {out}")
    return results
