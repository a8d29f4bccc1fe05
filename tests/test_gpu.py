"""The book's central promise on a GPU: the scratch engine computes what cuDNN computes.

Marked ``gpu`` and skipped where there is no CUDA device. ``RNN_BOOK_GPU_TEST_DEVICE=cpu`` runs
the same checks on the CPU (a dry run of the test logic; the cuDNN-only assertions flip to "no
cuDNN operator ran").

Tolerances are on :func:`rnn_book.analysis.parity.gap` (max |a - b| / max(1, max |b|)):
float64 1e-10 (the engines agree to ~1e-15: a difference of method would show at ~1e-2);
float32 with TF32 off 1e-5 (the CPU suite's bound); float32 with TF32 on 1e-2: TF32 keeps 10
bits of mantissa, so each product of the chain is rounded at ~5e-4 relative, and ``gpu-check``
reports the gap it measures.
"""
from __future__ import annotations

import os
from dataclasses import replace

import pytest
import torch

from rnn_book.analysis import bench, parity
from rnn_book.analysis.parity import CHAPTER_CASE, KINDS, Case, device_gap, engine_gap
from rnn_book.precision import tf32, tf32_enabled

DEVICE = os.environ.get("RNN_BOOK_GPU_TEST_DEVICE") or ("cuda" if torch.cuda.is_available() else None)
ON_CUDA = DEVICE is not None and torch.device(DEVICE).type == "cuda"

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(
    DEVICE is None, reason="needs a CUDA device and there is none here "
                           "(RNN_BOOK_GPU_TEST_DEVICE=cpu dry-runs these checks on the CPU)")]

TOL = {("float64", False): 1e-10, ("float32", False): 1e-5, ("float32", True): 1e-2}

SHAPES = [dict(layers=1, bidirectional=False, lengths=False, given_state=False),
          dict(layers=2, bidirectional=True, lengths=True, given_state=True),
          dict(layers=2, bidirectional=False, lengths=True, given_state=False),
          dict(layers=1, bidirectional=True, lengths=False, given_state=True)]


def _worst(g: dict) -> float:
    return max(v for k, v in g.items() if k != "library_ops")


@pytest.mark.parametrize("kind", KINDS)
def test_library_engine_runs_cudnn(kind):
    """On CUDA the library engine dispatches cuDNN's fused RNN (``_cudnn_rnn``), in float64 and float32."""
    for dtype in ("float64", "float32"):
        ops = engine_gap(Case(kind, layers=1, bidirectional=False, lengths=False, given_state=False), DEVICE,
                         dtype)["library_ops"]
        assert ("_cudnn_rnn" in ops) == ON_CUDA, f"{kind} {dtype} on {DEVICE}: recurrent operators {ops}"


def _shape_id(s: dict) -> str:
    return f"L{s['layers']}-{'bi' if s['bidirectional'] else 'uni'}" + "-lengths" * s["lengths"] + \
        "-state" * s["given_state"]


@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("fused", [False, True], ids=["textbook", "fused"])
@pytest.mark.parametrize("kind", KINDS)
def test_engines_agree_float64(kind, fused, shape):
    g = engine_gap(replace(CHAPTER_CASE, kind=kind, **shape), DEVICE, "float64", fused=fused)
    assert _worst(g) < TOL[("float64", False)], g


@pytest.mark.parametrize("shape", SHAPES[:2], ids=_shape_id)
@pytest.mark.parametrize("kind", KINDS)
def test_engines_agree_float32_tf32_off(kind, shape):
    g = engine_gap(replace(CHAPTER_CASE, kind=kind, **shape), DEVICE, "float32", tf32=False)
    assert _worst(g) < TOL[("float32", False)], g


@pytest.mark.parametrize("kind", KINDS)
def test_engines_agree_float32_tf32_on(kind):
    g = engine_gap(replace(CHAPTER_CASE, kind=kind), DEVICE, "float32", tf32=True)
    assert _worst(g) < TOL[("float32", True)], g


@pytest.mark.parametrize("kind", KINDS)
def test_engines_agree_at_pytorch_benchmark_size(kind):
    """B64 T100 I512 H512, float32 with TF32 off: long chains and wide sums stay within 1e-4."""
    g = engine_gap(replace(parity.PYTORCH_BENCH_CASE, kind=kind), DEVICE, "float32", tf32=False)
    assert _worst(g) < 1e-4, g


@pytest.mark.parametrize("engine,fused", [("scratch", False), ("scratch", True), ("cudnn", False)],
                         ids=["textbook", "fused", "library"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_on_device_equals_cpu(kind, engine, fused):
    """Each engine on the GPU against itself on the CPU, float64: only the order of sums may differ."""
    g = device_gap(replace(CHAPTER_CASE, kind=kind), engine, DEVICE, "float64", fused=fused)
    assert _worst(g) < 1e-10, g


def test_tf32_switch_sets_and_restores_both_flags():
    before = tf32_enabled()
    with tf32(True):
        assert tf32_enabled() == (True, True)
        with tf32(False):
            assert tf32_enabled() == (False, False)
        assert tf32_enabled() == (True, True)
    assert tf32_enabled() == before


def test_bench_times_all_forms_on_the_device():
    """The benchmark on this device: every form timed, with a positive time, and cuDNN's ratio is 1."""
    rows = bench.measure([bench.Size(4, 12, 8, 16)], kinds=("lstm",), repeats=2, dev=DEVICE, dense_n=64)
    assert {r["form"] for r in rows} == set(bench.FORMS)
    assert all(r["seconds"] > 0 for r in rows)
    assert [r["ratio_to_cudnn"] for r in rows if r["form"] == "cudnn"] == [1.0]
