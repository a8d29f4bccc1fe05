"""The spread study: checks, the runner and its report, and the committed runs against today's thresholds."""
from __future__ import annotations

import json

import pytest

from rnn_book.analysis import spread
from rnn_book.analysis.spread import Check, Experiment


def test_check_passes_by_mode_and_rejects_unknown_ops():
    c = Check("gap", ">", full=2.0, quick=1.0)
    assert c.passes(2.5, "full") and not c.passes(1.5, "full") and c.passes(1.5, "quick")
    assert not c.passes(2.0, "full"), "a strict check fails at its threshold"
    assert Check("gap", ">=", 2, 1).passes(2.0, "full")
    assert c.describe("quick") == "gap > 1"
    with pytest.raises(ValueError, match="op must be"):
        Check("gap", "=>", 1, 1)
    with pytest.raises(ValueError, match="mode"):
        c.threshold("slow")
    assert spread.failures({"gap": 0.5}, [c], "full") == ["gap > 2 fails: 0.5"]
    assert spread.failures({}, [c], "full") == ["gap: not measured"]
    full_only = Check("ratio", ">", full=1.0, quick=None)
    assert full_only.applies("full") and not full_only.applies("quick")
    assert spread.failures({}, [full_only], "quick") == [] and spread.thresholds([full_only], "quick") == {}
    two_sided = [Check("g", ">", 0.4, 0.4), Check("g", "<", 1.5, 1.5)]
    assert spread.threshold(two_sided, "g", "<", "full") == 1.5
    with pytest.raises(KeyError, match="no check"):
        spread.threshold(two_sided, "g", ">=")


@pytest.fixture
def fake(monkeypatch):
    """One fake experiment whose measure is 10 x seed + threads, registered in place of the real ones."""
    exp = Experiment("ch99", "fake", __name__, lambda seed: {"value": 10.0 * seed + spread.torch.get_num_threads(),
                                                              "context": 1.0},
                     (Check("value", "<", full=10.0, quick=100.0),), seeds=(0, 1))
    monkeypatch.setattr(spread, "experiments", lambda: {("ch99", "fake"): exp})
    return exp


def test_study_runs_every_seed_and_thread_count_once_and_reports(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_BOOK_QUICK", "0")
    lines = []
    written = spread.study("ch99", thread_counts=(1, 2), root=tmp_path, log=lines.append)
    assert sorted(p.name for p in written) == ["fake-full-s0-t1.json", "fake-full-s0-t2.json",
                                               "fake-full-s1-t1.json", "fake-full-s1-t2.json"]
    assert spread.study("ch99", thread_counts=(1, 2), root=tmp_path, log=lines.append) == [], "runs on disk are kept"
    record = json.loads(written[-1].read_text())
    assert record["measures"]["value"] == 12.0 and record["threads"] == 2 and record["mode"] == "full"
    assert any("FAILS" in line for line in lines), "a run that fails its check is reported as it is written"
    rows = spread.summary("ch99", tmp_path)
    value = next(r for r in rows if r["measure"] == "value")
    assert (value["min"], value["max"], value["runs passing"], value["threshold"]) == (1.0, 12.0, "2/4", 10.0)
    context = next(r for r in rows if r["measure"] == "context")
    assert context["check"] == "" and context["runs"] == 4
    md, js = spread.write_report("ch99", tmp_path)
    assert "| value | < | 10 | 1 | 6.5 | 12 | 2/4 |" in md.read_text()
    assert json.loads(js.read_text())["rows"][0]["measure"] == "value"
    beside = spread.beside_spread({"value": 3.0}, "ch99", "fake", fake.checks, "full", tmp_path)
    assert beside == [{"measure": "value", "this run": 3.0, "asserted": "< 10", "study: min": 1.0, "study: max": 12.0,
                       "study: runs": 4}]
    assert "4 full-mode runs of ch99/fake: seeds [0, 1] x threads [1, 2]" in spread.describe_runs("ch99", "fake", "full",
                                                                                                   tmp_path)
    with pytest.raises(ValueError, match="no experiments"):
        spread.study("ch42", root=tmp_path)


# -- the committed study against the thresholds the chapters use now ------------------------------------------
EXPECTED = {"ch09": {"overfitting", "equal-parameters", "tuning", "speed"}, "ch10": {"depth", "tagger", "leak"},
            "ch11": {"slicing"}}


@pytest.mark.parametrize("chapter", sorted(EXPECTED))
def test_every_committed_run_passes_the_chapters_checks(chapter):
    runs = spread.records(chapter)
    exps = spread.experiments()
    for name in EXPECTED[chapter]:
        quick = [r for r in runs if r["experiment"] == name and r["mode"] == "quick"]
        assert {r["threads"] for r in quick} == {1, 2} and len({r["seed"] for r in quick}) >= 3, \
            f"{chapter}/{name}, quick mode: the study needs 3 seeds x 1 and 2 threads; found {len(quick)} runs"
        # full mode costs up to hours per run on two cores: at least one run, and the chapter prints how many
        full = [r for r in runs if r["experiment"] == name and r["mode"] == "full"]
        assert full, f"{chapter}/{name}, full mode: no run on disk; `python -m rnn_book spread {chapter}` measures it"
        assert spread.describe_runs(chapter, name, "full").startswith(f"{len(full)} full-mode runs")
    bad = [f"{r['experiment']}-{r['mode']}-s{r['seed']}-t{r['threads']}: {f}" for r in runs
           for f in spread.failures(r["measures"], exps[chapter, r["experiment"]].checks, r["mode"])]
    assert not bad, "a threshold no longer covers the measured spread:\n" + "\n".join(bad)


def test_the_summaries_are_up_to_date():
    """results/<chapter>_spread.json is what --report-only writes from the runs and checks of today."""
    for chapter in EXPECTED:
        stored = json.loads((spread.RESULTS / f"{chapter}_spread.json").read_text(encoding="utf-8"))
        assert stored["rows"] == json.loads(json.dumps(spread.summary(chapter))), \
            f"run `python -m rnn_book spread {chapter} --report-only` and commit results/{chapter}_spread.*"
