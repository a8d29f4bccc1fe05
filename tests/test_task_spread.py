"""The committed spread records of chapters 4, 6 and 7 against the thresholds those chapters assert now.

A threshold set from one lucky run fails here as soon as a recorded seed or thread count misses it;
quick mode (what CI runs) must hold 3 seeds at 1 and 2 threads.
"""
from __future__ import annotations

import pytest

from rnn_book.tasks import speech_spread, spread, stocks_spread, textgen_spread
from rnn_book.thresholds import failures

STUDIES = {"ch04": textgen_spread, "ch06": stocks_spread, "ch07": speech_spread}


@pytest.mark.parametrize("chapter", sorted(STUDIES))
def test_every_committed_run_passes_the_chapters_checks(chapter):
    module = STUDIES[chapter]
    records = spread.load(spread.results_file(f"{module.NAME}.json"))
    quick = [r for r in records if r["mode"] == "quick" and not r.get("budget")]
    assert {r["threads"] for r in quick} == {1, 2} and len({r["seed"] for r in quick}) >= 3, \
        f"{chapter}, quick mode: the study needs 3 seeds x 1 and 2 threads; found {len(quick)} runs"
    # shortened runs (a "budget") measure how far a seed moves a number, not whether the chapter's bar is met
    judged = [r for r in records if not r.get("budget")]
    bad = [f"{r['mode']} seed {r['seed']}, {r['threads']} thread(s): {f}" for r in judged
           for f in failures(r["values"], module.CHECKS, r["mode"])]
    assert not bad, f"{chapter}: a threshold no longer covers the measured spread:\n" + "\n".join(bad)


def test_a_run_below_a_threshold_is_reported():
    check = next(c for c in speech_spread.CHECKS if c.measure == "ensemble: human clips right")
    values = {c.measure: 0.0 for c in speech_spread.CHECKS} | {check.measure: check.full - 1}
    assert any(line.startswith("ensemble: human clips right >=") for line in failures(values, [check], "full"))
