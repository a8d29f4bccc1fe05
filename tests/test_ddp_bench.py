"""``python -m rnn_book ddp-bench``: the arrangements side by side on one global batch, and its page."""
from __future__ import annotations

import pytest

from rnn_book.analysis import ddp_bench
from rnn_book.tasks.lm_ddp import quick_config


def test_two_arrangements_and_the_page(tmp_path):
    cfg = quick_config(dtype="float32", steps=2, warmup_steps=1)
    rows = ddp_bench.measure(cfg, arrangements=((1, 1), (2, 1)), rounds=1)
    assert [(r["processes"], r["threads"]) for r in rows] == [(1, 1), (2, 1)]
    assert rows[0]["speedup"] == 1.0 and rows[0]["loss_gap"] == 0.0
    assert 0 < rows[1]["loss_gap"] < 1e-5          # the same arithmetic, summed in another order
    assert all(r["tokens_per_s"] == cfg.batch_size * cfg.seq_len / r["seconds_per_step"] for r in rows)
    page = ddp_bench.render({"tiny": (cfg, ddp_bench.parameter_count(cfg), rows)}, 1, ("1.0", "1.0"))
    assert "| 2 | 1 |" in page and "global batch 8 x 32" in page and "load average" in page


@pytest.mark.parametrize("args", [["--sizes", "huge"], ["--rounds", "0"]])
def test_bad_options(args, capsys):
    with pytest.raises(SystemExit):
        ddp_bench.main(args)
    assert "must" in capsys.readouterr().err
