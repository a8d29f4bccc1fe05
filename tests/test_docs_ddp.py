"""Chapter 9's data-parallel section: the ring all-reduce written out, its traffic, and the page it shows."""
from __future__ import annotations

import pytest
import torch

from rnn_book.analysis import ddp_bench


@pytest.mark.parametrize("world", [1, 2, 3, 5, 8])
def test_ring_allreduce_sums_and_sends_2_n_minus_1_over_n_of_the_gradient(world):
    g = torch.Generator().manual_seed(world)
    grads = [torch.randn(4, 30, dtype=torch.float64, generator=g) for _ in range(world)]
    before = [t.clone() for t in grads]
    reduced, sent = ddp_bench.ring_allreduce(grads)
    exact = torch.stack(grads).sum(0)
    assert all(torch.equal(a, b) for a, b in zip(grads, before)), "the inputs must be left as they were"
    assert len(reduced) == world and all(r.shape == exact.shape for r in reduced)
    assert all(torch.allclose(r, exact, rtol=0, atol=1e-12) for r in reduced)
    assert sent == [ddp_bench.ring_allreduce_bytes(120, world, bytes_per_param=1)] * world


def test_ring_allreduce_bytes():
    assert ddp_bench.ring_allreduce_bytes(1000, 1) == 0
    assert ddp_bench.ring_allreduce_bytes(1000, 2) == 4000          # float32: half sent twice
    assert ddp_bench.ring_allreduce_bytes(1000, 4, bytes_per_param=8) == 12_000
    with pytest.raises(ValueError, match="world >= 1"):
        ddp_bench.ring_allreduce_bytes(1000, 0)


def test_ring_allreduce_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        ddp_bench.ring_allreduce([torch.zeros(3), torch.zeros(4)])
    with pytest.raises(ValueError, match="one shape"):
        ddp_bench.ring_allreduce([])


def test_read_results_reads_back_what_render_wrote(tmp_path):
    cfg = ddp_bench.SIZES["quick"]
    rows = [{"processes": p, "threads": t, "cores": p * t, "seconds_per_step": s, "min": s, "max": s,
             "tokens_per_s": cfg.batch_size * cfg.seq_len / s, "speedup": 0.2 / s, "loss_gap": gap}
            for p, t, s, gap in ((1, 1, 0.2, 0.0), (1, 2, 0.25, 0.0), (2, 1, 0.16, 4.8e-7))]
    page = tmp_path / "ddp.md"
    page.write_text(ddp_bench.render({"quick": (cfg, 95_824, rows)}, 3, ("1.0", "2.0")), encoding="utf-8")
    back = ddp_bench.read_results(page)["quick"]
    assert [(r["processes"], r["threads"]) for r in back] == [(1, 1), (1, 2), (2, 1)]
    assert [r["speedup"] for r in back] == [1.0, 0.8, 1.25] and back[2]["loss_gap"] == 4.8e-7
    assert [r["ms_per_step"] for r in back] == [200, 250, 160]


def test_read_results_refuses_a_page_without_tables(tmp_path):
    page = tmp_path / "other.md"
    page.write_text("# something else\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ddp-bench"):
        ddp_bench.read_results(page)


def test_the_committed_page_reads():
    tables = ddp_bench.read_results()
    assert {(r["processes"], r["threads"]) for r in tables["quick"]} >= {(1, 1), (2, 1)}
