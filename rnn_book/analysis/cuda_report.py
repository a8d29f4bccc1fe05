"""``python -m rnn_book cuda-report``: chapter 9's GPU numbers, written to ``results/ch09_cuda.json``.

Needs a CUDA device. Three measurements, each on cuDNN with TF32 off (IEEE float32, as on a CPU):

* ``bench``   -- forward+backward of the textbook, fused and library forms of RNN, LSTM and GRU at
  the chapter's sizes, timed side by side with the device synchronised around every call; the
  ratio to the library is kept for every round, so its spread over the repeats is on record;
* ``kernels`` -- GPU kernels launched per forward+backward at two sequence lengths, per form
  (:func:`rnn_book.analysis.bench.kernels_per_step`): what happens behind the library's one operator;
* ``weight_drop`` -- DropConnect on W_hh (:class:`rnn_book.analysis.regularize.WeightDrop`) on a
  cuDNN LSTM: the library operator it dispatches, and its outputs against a scratch twin that
  carries the same masked weights.

The chapter reads the file; nothing in it is typed by hand.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import traceback
from pathlib import Path
from typing import Sequence

import torch

from .. import cudnn
from ..settings import describe_device
from ..weights import twin
from . import bench
from .regularize import WeightDrop
from .spread import RESULTS, ROOT

SIZES = (bench.HEADLINE, bench.Size(32, 100, 64, 64), bench.Size(8, 100, 64, 256), bench.Size(128, 100, 64, 256))


@contextlib.contextmanager
def no_tf32():
    """IEEE float32 in cuBLAS and cuDNN for the block (PyTorch lets cuDNN use TF32 by default)."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def weight_drop_check(dev: torch.device, p: float = 0.5, seed: int = 0) -> dict:
    """WeightDrop on a two-layer cuDNN LSTM: the operators it dispatches and its distance to a scratch twin."""
    torch.manual_seed(seed)
    lib = cudnn.LSTM(64, 256, num_layers=2).to(dev)
    dropped = WeightDrop(lib, p).train()
    x = torch.randn(16, 50, 64, device=dev)
    ops = bench.count_ops(lambda: dropped(x)[0].sum().backward())
    with torch.no_grad():
        out = dropped(x)[0]
        mine = twin(lib, fused=True)
        for layer in range(lib.num_layers):
            w_ih, _, b_ih, b_hh = lib.torch_layout(layer)
            mine.load_torch_layout(layer, 0, w_ih, dropped.last_weights[f"weight_hh_l{layer}"], b_ih, b_hh)
        gap = float((out - mine(x)[0]).abs().max())
        zeros = float((dropped.last_weights["weight_hh_l0"] == 0).double().mean())
        again = float((dropped(x)[0] - out).abs().max())
    return {"library operators": sorted(ops), "max difference to scratch twin with the masked weights": gap,
            "share of W_hh entries dropped": zeros, "max difference between two calls (fresh masks)": again,
            "p": p, "size": "B16 T50 I64 H256, 2 layers"}


def report(repeats: int = 7) -> dict:
    if not torch.cuda.is_available():
        raise RuntimeError("cuda-report: needs a CUDA device; none is available here")
    dev = torch.device("cuda")
    parts = {"bench": lambda: bench.measure(SIZES, bench.KINDS, repeats=repeats, dev=dev, clock="wall"),
             "kernels": lambda: {kind: bench.kernels_per_step(kind, dev=dev) for kind in bench.KINDS},
             "weight_drop": lambda: weight_drop_check(dev)}
    result = {"machine": bench.describe() | {"gpu": torch.cuda.get_device_name(0),
                                             "cudnn": torch.backends.cudnn.version(), "tf32": False,
                                             "device": describe_device(), "repeats": repeats},
              "command": "python -m rnn_book cuda-report"}
    with no_tf32():
        for name, part in parts.items():      # one failing part must not cost the others' numbers
            try:
                result[name] = part()
            except Exception:
                result[name] = {"error": traceback.format_exc()}
    return result


def main(argv: Sequence[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m rnn_book cuda-report", description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(RESULTS / "ch09_cuda.json"), help="where to write the JSON")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds per measurement")
    a = p.parse_args(argv)
    result = report(a.repeats)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for name in ("bench", "kernels", "weight_drop"):
        if "error" in result[name]:
            print(f"{name} FAILED:\n{result[name]['error']}")
    if "error" not in result["bench"]:
        print(bench.format_rows(result["bench"]))
    if "error" not in result["kernels"]:
        for kind, ks in result["kernels"].items():
            print(kind, {r["form"]: r["per time step"] for r in ks}, "kernels per time step")
    print("weight drop:", {k: v for k, v in result["weight_drop"].items() if k != "library operators"})
    print(f"wrote {out.relative_to(ROOT) if ROOT in out.parents else out}")
    return result
