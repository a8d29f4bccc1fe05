"""Data parallelism: N gloo processes compute what one process computes on the concatenated batch."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnn_book.data.text import StatefulBatches
from rnn_book.distributed import ShardedBatches, launch, max_difference, rank_rows, world_info
from rnn_book.tasks import lm_ddp

ROOT = Path(__file__).resolve().parents[1]


def test_rank_rows_are_contiguous_blocks_that_tile_the_batch():
    rows = [rank_rows(12, r, 3) for r in range(3)]
    assert [(s.start, s.stop) for s in rows] == [(0, 4), (4, 8), (8, 12)]
    assert rank_rows(5, 0, 1) == slice(0, 5)


@pytest.mark.parametrize("args,match", [((10, 0, 3), "split evenly"), ((8, 2, 2), "rank must be"),
                                        ((8, -1, 2), "rank must be"), ((0, 0, 1), "batch_size"),
                                        ((8, 0, 0), "world")])
def test_rank_rows_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        rank_rows(*args)


def test_sharded_batches_concatenate_to_the_global_batch_at_every_step():
    ids = torch.arange(1000)
    whole = list(StatefulBatches(ids, 8, 7))
    shards = [list(ShardedBatches(StatefulBatches(ids, 8, 7), r, 4)) for r in range(4)]
    assert all(len(s) == len(whole) for s in shards)
    for k, (x, y) in enumerate(whole):
        assert torch.equal(torch.cat([s[k][0] for s in shards]), x)
        assert torch.equal(torch.cat([s[k][1] for s in shards]), y)
    # each rank reads its own streams: row 0 of rank 1 continues across batches
    assert shards[1][1][0][0, 0] == shards[1][0][0][0, -1] + 1


def test_outside_a_group_a_process_is_rank_0_of_1():
    assert world_info() == (0, 1)


def test_ddp_equals_one_process_on_the_concatenated_batch():
    """2 gloo processes, float64. One step: all-reduced gradients and updated weights equal one process's.
    Then 20 Adam steps with the state carried across batches: the global loss curves agree."""
    r = lm_ddp.compare(2, lm_ddp.quick_config(steps=20))
    assert r["grad_max_abs"] > 1e-3                 # real gradients, not zeros
    assert r["grad_max_diff"] < 1e-12, r
    assert r["weight_max_diff"] < 1e-12, r
    assert abs(r["loss_single"] - r["loss_ddp"]) < 1e-12, r
    assert len(r["curve_single"]) == len(r["curve_ddp"]) == 20
    assert r["curve_single"][-1] < r["curve_single"][0] - 0.3     # it trains: the curve has a shape to match
    assert r["curve_max_diff"] < 1e-9, r["curve_max_diff"]


def test_max_difference_needs_the_same_names():
    with pytest.raises(ValueError, match="different names"):
        max_difference({"a": torch.zeros(1)}, {"b": torch.zeros(1)})


def test_launch_reports_a_failing_rank():
    with pytest.raises(RuntimeError, match="exit codes by rank"):
        launch(rank_rows, 2, 7, 0, 2)       # raises in both processes: 7 streams do not split over 2


def test_lm_config_rejects_bad_values():
    with pytest.raises(ValueError, match="dtype"):
        lm_ddp.LMConfig(dtype="float16")
    with pytest.raises(ValueError, match="batch_size"):
        lm_ddp.LMConfig(batch_size=0)


def test_torchrun_trains_on_two_processes_and_rank_0_writes_one_checkpoint(tmp_path):
    ckpt = tmp_path / "lm.pt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                          "-m", "rnn_book", "ddp-lm", "--steps", "3", "--batch-size", "4", "--seq-len", "16",
                          "--hidden", "16", "--embed", "8", "--max-chars", "20000", "--checkpoint", str(ckpt)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "rank 0 of 2 on cpu (gloo): streams 0..1 of 4" in out.stdout
    assert "rank 1 of 2 on cpu (gloo): streams 2..3 of 4" in out.stdout
    assert out.stdout.count("wrote ") == 1
    saved = torch.load(ckpt, weights_only=False)
    assert saved["world"] == 2 and len(saved["step_loss"]) == 3 and saved["config"]["batch_size"] == 4
    assert list(tmp_path.iterdir()) == [ckpt]
