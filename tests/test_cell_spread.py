"""The spread study of chapters 1-3: sizes by mode, resumable runs, the files and the lines the chapters print."""
from __future__ import annotations

import json

import pytest

from rnn_book.analysis import cell_spread as cs


def test_config_follows_the_mode(monkeypatch):
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    assert cs.config() is cs.QUICK
    monkeypatch.setenv("RNN_BOOK_QUICK", "0")
    assert cs.config() is cs.FULL
    assert cs.FULL.moby_chars is None and cs.QUICK.moby_chars == 60_000


def _fake(calls):
    def metrics(seed, cfg):
        calls.append(seed)
        return {"a": seed + 0.5, "b": 10 * seed}
    return metrics


def test_measure_writes_resumes_and_summarises(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setitem(cs.METRICS, "ch01", _fake(calls))
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    cs.measure("ch01", seeds=[0, 1], thread_counts=[1], quick=True, out=tmp_path, log=lambda *_: None)
    assert calls == [0, 1]
    cs.measure("ch01", seeds=[0, 1, 2], thread_counts=[1], quick=True, out=tmp_path, log=lambda *_: None)
    assert calls == [0, 1, 2], "runs already in the file are skipped"
    study = json.loads((tmp_path / "ch01_spread.json").read_text())
    assert {(r["mode"], r["seed"], r["threads"]) for r in study["runs"]} == {("quick", s, 1) for s in range(3)}
    table = cs.summary(study, "quick")
    assert table["a"]["min"] == 0.5 and table["a"]["max"] == 2.5 and table["a"]["n"] == 3
    assert table["b"]["values"] == {"0/1": 0.0, "1/1": 10.0, "2/1": 20.0}
    md = (tmp_path / "ch01_spread.md").read_text()
    assert "## quick mode" in md and "| a | 0.5 | 2.5 |" in md and "full mode" not in md
    assert cs.spread("ch01", "b", out=tmp_path)["max"] == 20.0
    note = cs.spread_note("ch01", "a", out=tmp_path)
    assert "seeds [0, 1, 2]" in note and "a from 0.5 to 2.5" in note and "results/ch01_spread.md" in note
    full = cs.spread_note("ch01", "a", mode="full", out=tmp_path)
    assert "no full-mode spread" in full and "--quick" not in full
    assert "cell-spread --chapter 3 --quick" in cs.spread_note("ch03", "a", mode="quick", out=tmp_path)


def test_spread_note_names_what_one_mode_has_not_measured(tmp_path):
    def run(mode, seed, metrics):
        return {"mode": mode, "seed": seed, "threads": 1, "cpu": "x", "part": "p", "metrics": metrics}

    study = {"chapter": "ch01", "runs": [run("quick", 0, {"a": 1.0, "b": 2.0}), run("full", 0, {"a": 3.0}),
                                         run("full", 1, {"z": 0.0})]}
    (tmp_path / "ch01_spread.json").write_text(json.dumps(study), encoding="utf-8")
    note = cs.spread_note("ch01", "a", "b", mode="full", out=tmp_path)
    assert "a from 3 to 3" in note and "not measured in full mode yet: b" in note
    assert "seeds [0]" in note and "(1 runs" in note, "only the runs behind the numbers are counted"
    assert "no full-mode spread of b measured yet" in cs.spread_note("ch01", "b", mode="full", out=tmp_path)
    with pytest.raises(KeyError, match="no metric 'c'"):
        cs.spread_note("ch01", "c", mode="full", out=tmp_path)
    with pytest.raises(KeyError, match="no metric 'c'"):
        cs.spread_note("ch01", "c", out=tmp_path)


def test_measure_rejects_an_unknown_chapter_or_part(tmp_path):
    with pytest.raises(ValueError, match="chapter must be one of"):
        cs.measure("ch09", [0], [1], quick=True, out=tmp_path)
    with pytest.raises(ValueError, match="has the parts"):
        cs.measure("ch01", [0], [1], quick=True, out=tmp_path, parts=["nothing"])


def test_parts_are_measured_separately_and_summarised_together(tmp_path, monkeypatch):
    calls = []
    parts = {"x": lambda seed, cfg: calls.append(("x", seed)) or {"x.v": seed},
             "y": lambda seed, cfg: calls.append(("y", seed)) or {"y.v": 2 * seed}}
    monkeypatch.setitem(cs.PARTS, "ch02", parts)
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    quiet = dict(out=tmp_path, log=lambda *_: None)
    cs.measure("ch02", [1], [2], quick=True, parts=["x"], **quiet)
    cs.measure("ch02", [1], [2], quick=True, parts=["x", "y"], **quiet)
    assert calls == [("x", 1), ("y", 1)], "a part already measured is skipped, the other is run"
    table = cs.summary(cs.load("ch02", tmp_path), "quick")
    assert table["x.v"]["values"] == {"1/2": 1.0} and table["y.v"]["values"] == {"1/2": 2.0}


def test_merge_joins_two_folders(tmp_path, monkeypatch):
    monkeypatch.setitem(cs.METRICS, "ch03", lambda seed, cfg: {"m": seed})
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    a, b = tmp_path / "a", tmp_path / "b"
    cs.measure("ch03", [0], [1], quick=True, out=a, log=lambda *_: None)
    cs.measure("ch03", [1], [1], quick=True, out=b, log=lambda *_: None)
    joined = cs.merge("ch03", b, out=a)
    assert sorted(r["seed"] for r in joined["runs"]) == [0, 1]
    assert cs.merge("ch03", b, out=a)["runs"] == joined["runs"], "merging twice changes nothing"


def test_the_shipped_spreads_cover_quick_mode_fully_and_every_part_in_full_mode():
    """The chapters print these files: quick mode at 3+ seeds and 1 and 2 threads; every full-mode part at least once."""
    for chapter in cs.PARTS:
        study = cs.load(chapter)
        quick = [r for r in study["runs"] if r["mode"] == "quick"]
        assert {r["threads"] for r in quick} >= {1, 2}, f"{chapter} quick: 1 and 2 threads"
        assert len({r["seed"] for r in quick}) >= 3, f"{chapter} quick: at least 3 seeds"
        # full mode: every part measured at least once (the chapters print which seeds and threads)
        full_parts = {r.get("part") or "all" for r in study["runs"] if r["mode"] == "full"}
        assert "all" in full_parts or full_parts >= set(cs.PARTS[chapter]), \
            f"{chapter} full: parts {sorted(set(cs.PARTS[chapter]) - full_parts)} never measured"
