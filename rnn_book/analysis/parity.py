"""How far apart the two engines land on a given device and precision, and each engine against the CPU.

A gap is ``max |a - b| / max(1, max |b|)``, taken over the outputs, the final state, the gradient of
the input and every weight gradient (in torch.nn's layout): an absolute difference for values of
order one, a relative one for large gradients. The reference ``b`` is the library engine
(:func:`engine_gap`) or the CPU (:func:`device_gap`).

    python -m rnn_book.analysis.parity --device cuda --json parity.json     # the table of gaps
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from typing import Sequence

import torch

from .. import copy_weights, cudnn, gradients_in_torch_layout, scratch
from ..precision import tf32 as tf32_mode
from .bench import count_ops

KINDS = ("RNN", "LSTM", "GRU")
DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class Case:
    """One layer configuration and input shape."""

    kind: str
    layers: int = 2
    bidirectional: bool = True
    lengths: bool = True            # variable lengths (packed on the library side)
    given_state: bool = True        # a random initial state instead of zeros
    batch: int = 5
    time: int = 11
    input: int = 3
    hidden: int = 9

    def __str__(self) -> str:
        extra = [f"{self.layers} layer{'s' if self.layers > 1 else ''}", "bi" if self.bidirectional else "uni"]
        extra += ["lengths"] * self.lengths + ["given state"] * self.given_state
        return f"{self.kind} B{self.batch} T{self.time} I{self.input} H{self.hidden} ({', '.join(extra)})"


CHAPTER_CASE = Case("LSTM")                                      # small, every feature on
PYTORCH_BENCH_CASE = Case("LSTM", layers=1, bidirectional=False, lengths=False, given_state=False,
                          batch=64, time=100, input=512, hidden=512)   # PyTorch's own RNN benchmark size


def _inputs(case: Case, dtype: torch.dtype, seed: int):
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(case.batch, case.time, case.input, generator=g, dtype=dtype)
    lengths = None
    if case.lengths:       # the longest first, then shorter ones down to 1
        lengths = [case.time] + torch.randint(1, case.time + 1, (case.batch - 1,), generator=g).tolist()
    state = None
    if case.given_state:
        h0 = torch.randn(case.layers * (2 if case.bidirectional else 1), case.batch, case.hidden, generator=g,
                         dtype=dtype)
        state = (h0, torch.randn(h0.shape, generator=g, dtype=dtype)) if case.kind == "LSTM" else h0
    return x, lengths, state


def _layer(case: Case, engine: str, dtype: torch.dtype, seed: int, fused: bool = False):
    """A layer of ``engine`` with the weights every call with the same seed gets (the library's initialisation)."""
    torch.manual_seed(seed)
    lib = getattr(cudnn, case.kind)(case.input, case.hidden, num_layers=case.layers,
                                    bidirectional=case.bidirectional).to(dtype)
    if engine == "cudnn":
        return lib
    kw = {"reset_after": True} if case.kind == "GRU" else {}
    layer = getattr(scratch, case.kind)(case.input, case.hidden, num_layers=case.layers,
                                         bidirectional=case.bidirectional, fused=fused, **kw).to(dtype)
    return copy_weights(lib, layer)     # in the target dtype: the scratch bias b_ih + b_hh is summed there


def _flat(state) -> torch.Tensor:
    return torch.cat([s.reshape(-1) for s in state]) if isinstance(state, tuple) else state.reshape(-1)


def run_layer(layer, x: torch.Tensor, lengths, state) -> dict[str, torch.Tensor]:
    """Forward and backward through a loss that weighs every output and the final state differently.

    Returns outputs, final state, the input's gradient and every weight gradient, all on the CPU.
    """
    x = x.detach().clone().requires_grad_()
    out, st = layer(x, state=state, lengths=lengths)
    w = torch.linspace(-1, 1, out.numel(), dtype=out.dtype, device=out.device).view_as(out)
    ((out * w).sum() + _flat(st).pow(2).sum()).backward()
    res = {"output": out.detach(), "state": _flat(st).detach(), "input_grad": x.grad}
    res |= {f"grad {k}": v for k, v in gradients_in_torch_layout(layer).items()}
    return {k: v.detach().cpu() for k, v in res.items()}


def gap(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max(1, max |b|), in float64."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / max(1.0, float(b.abs().max())))


def _summary(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> dict[str, float]:
    grads = [gap(a[k], b[k]) for k in b if k.startswith("grad ")]
    return {"output": gap(a["output"], b["output"]), "state": gap(a["state"], b["state"]),
            "input_grad": gap(a["input_grad"], b["input_grad"]), "weight_grad": max(grads)}


def _on(device, x, lengths, state):
    dev = torch.device(device)
    st = None if state is None else (tuple(s.to(dev) for s in state) if isinstance(state, tuple) else state.to(dev))
    return x.to(dev), lengths, st


def engine_gap(case: Case, device: str | torch.device = "cpu", dtype: str = "float64", tf32: bool = False,
               fused: bool = False, seed: int = 0) -> dict[str, object]:
    """The scratch engine against the library engine on ``device``, with the same weights and inputs.

    Also returns which recurrent ATen operators the library engine dispatched (``_cudnn_rnn`` on a GPU).
    """
    dt = DTYPES[dtype]
    x, lengths, state = _on(device, *_inputs(case, dt, seed))
    with tf32_mode(tf32):
        ops = count_ops(lambda: run_layer(_layer(case, "cudnn", dt, seed).to(device), x, lengths, state))
        ref = run_layer(_layer(case, "cudnn", dt, seed).to(device), x, lengths, state)
        mine = run_layer(_layer(case, "scratch", dt, seed, fused).to(device), x, lengths, state)
    rnn_ops = sorted(op for op in ops if "rnn" in op or "lstm" in op or "gru" in op)
    return _summary(mine, ref) | {"library_ops": rnn_ops}


def device_gap(case: Case, engine: str, device: str | torch.device, dtype: str = "float64", fused: bool = False,
               seed: int = 0) -> dict[str, float]:
    """One engine on ``device`` against the same engine on the CPU (TF32 off), same weights and inputs."""
    dt = DTYPES[dtype]
    x, lengths, state = _inputs(case, dt, seed)
    with tf32_mode(False):
        ref = run_layer(_layer(case, engine, dt, seed, fused), x, lengths, state)
        mine = run_layer(_layer(case, engine, dt, seed, fused).to(device), *_on(device, x, lengths, state))
    return _summary(mine, ref)


def table(device: str | torch.device, cases: Sequence[Case] | None = None) -> list[dict[str, object]]:
    """Every gap the GPU report shows: engines side by side per precision, and each engine against the CPU."""
    rows = []
    cases = cases or [replace(CHAPTER_CASE, kind=k) for k in KINDS] + \
        [replace(PYTORCH_BENCH_CASE, kind=k) for k in KINDS]
    for case in cases:
        for dtype, tf32 in (("float64", False), ("float32", False), ("float32", True)):
            g = engine_gap(case, device, dtype, tf32)
            rows.append({"compare": "scratch vs library engine", "case": str(case),
                         "precision": dtype + (" TF32" if tf32 else ""), **g})
    for kind in KINDS:
        case = replace(CHAPTER_CASE, kind=kind)
        for engine, fused in (("scratch", False), ("scratch", True), ("cudnn", False)):
            for dtype in DTYPES:
                name = {("scratch", False): "textbook", ("scratch", True): "fused"}.get((engine, fused), "library")
                g = device_gap(case, engine, device, dtype, fused)
                rows.append({"compare": f"{name} engine: {torch.device(device).type} vs cpu", "case": str(case),
                             "precision": dtype, **g})
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A Markdown table of :func:`table`'s rows."""
    lines = ["| compared | case | precision | output | state | input grad | weight grads | library op |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        ops = ", ".join(r.get("library_ops", [])) or ""
        lines.append(f"| {r['compare']} | {r['case']} | {r['precision']} | {r['output']:.1e} | {r['state']:.1e} | "
                     f"{r['input_grad']:.1e} | {r['weight_grad']:.1e} | {ops} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m rnn_book.analysis.parity", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--small", action="store_true", help="chapter-sized cases only (leave out B64 T100 H512)")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    a = p.parse_args(argv)
    cases = [replace(CHAPTER_CASE, kind=k) for k in KINDS] if a.small else None
    rows = table(a.device, cases)
    print(format_table(rows), flush=True)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump({"device": str(a.device), "rows": rows, "cases": [asdict(c) for c in (cases or [])]}, fh,
                      indent=1)
    return rows


if __name__ == "__main__":
    main()
