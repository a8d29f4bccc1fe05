"""``python -m rnn_book fullrun``: chapters in fresh kernels, side by side, with a table written after each."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from rnn_book import fullrun

ROOT = Path(__file__).resolve().parents[1]

HEAD = """\
---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
"""


def _chapter(folder: Path, name: str, *cells: str) -> Path:
    body = "\n".join(f"```{{code-cell}} ipython3\n{textwrap.dedent(c).strip()}\n```\n" for c in cells)
    path = folder / f"{name}.md"
    path.write_text(HEAD + f"# {name}\n\n" + body, encoding="utf-8")
    return path


@pytest.fixture
def chapters(tmp_path):
    folder = tmp_path / "chapters"
    folder.mkdir()
    return folder


def test_passes_fails_and_times_out_per_cell(chapters, tmp_path):
    ok = _chapter(chapters, "a_pass",
                  """
                  import os
                  assert os.environ["RNN_BOOK_QUICK"] == "0", "full mode"
                  assert os.environ["OMP_NUM_THREADS"] == "1", "one thread per kernel"
                  assert os.path.basename(os.getcwd()) == "chapters", "the kernel runs in the chapter's folder"
                  """,
                  f"""
                  import importlib.util
                  origin = importlib.util.find_spec("rnn_book").origin
                  assert origin.startswith({str(fullrun.ROOT)!r}), "the kernel imports this checkout's package"
                  """)
    bad = _chapter(chapters, "b_fail", "x = 1", 'assert x == 2, "x is not two"', "y = x + 1")
    slow = _chapter(chapters, "c_slow", "import time", "time.sleep(60)", 'print("never")')
    out = tmp_path / "results" / "full.md"
    rows = {r["chapter"]: r for r in fullrun.run([ok, bad, slow], out, workers=2, threads=1, cell_timeout=4,
                                                   log_dir=tmp_path / "logs")}
    assert rows["a_pass"] | {"wall_seconds": 0} == {
        "chapter": "a_pass", "status": "passed", "wall_seconds": 0, "cells": 2, "passed": 2, "failed": 0,
        "not_run": 0, "first_failure": ""}
    assert (rows["b_fail"]["status"], rows["b_fail"]["passed"], rows["b_fail"]["failed"]) == ("failed", 2, 1)
    # the line of the failing cell's fence in the chapter file, and the assertion's message
    fence = bad.read_text().splitlines().index("assert x == 2, \"x is not two\"")
    assert rows["b_fail"]["first_failure"] == f"cell 1 (line {fence}): AssertionError: x is not two"
    assert (rows["c_slow"]["status"], rows["c_slow"]["passed"], rows["c_slow"]["not_run"]) == ("cell timeout", 1, 1)
    assert "4 s cell limit" in rows["c_slow"]["first_failure"]
    table = out.read_text()
    assert "| b_fail | failed |" in table and "| 2 of 3 | 1 | 0 | cell 1 (line" in table
    assert "threads per kernel: 1" in table and "full mode" in table
    assert json.loads(out.with_suffix(".json").read_text())["machine"]["mode"] == "full"


def test_deadline_stops_the_running_chapter_and_records_the_rest(chapters, tmp_path):
    first = _chapter(chapters, "a_slow", "import time", "time.sleep(120)", "pass")
    second = _chapter(chapters, "b_slow", "import time", "time.sleep(120)", "pass")
    out = tmp_path / "full.md"
    rows = fullrun.run([first, second], out, workers=1, cell_timeout=300, deadline=15, log_dir=tmp_path / "logs")
    assert [r["status"] for r in rows] == ["stopped at deadline", "not started"]
    assert rows[0]["wall_seconds"] < 60 and rows[1]["cells"] == 3 and rows[1]["not_run"] == 3
    assert "whole run limited to 15 s" in out.read_text()


def test_a_real_chapter_in_quick_mode(tmp_path):
    rows = fullrun.run(fullrun.find_chapters(["00"]), tmp_path / "q.md", mode="quick", log_dir=tmp_path / "logs")
    assert [(r["chapter"], r["status"], r["failed"]) for r in rows] == [("00_start_here", "passed", 0)]
    assert rows[0]["passed"] == rows[0]["cells"] > 0
    assert "quick mode (`RNN_BOOK_QUICK=1`)" in (tmp_path / "q.md").read_text()
    import nbformat
    executed = nbformat.read(str(tmp_path / "logs" / "00_start_here.ipynb"), as_version=4)
    outputs = [c for c in executed.cells if c.cell_type == "code" and c.outputs]
    assert outputs, "the executed chapter, with its outputs, is kept beside the log"


def test_a_chapter_never_timed_runs_first(tmp_path):
    chapters = fullrun.find_chapters(["00", "01", "02"])
    previous = tmp_path / "prev.json"
    previous.write_text(json.dumps({"chapters": [{"chapter": "00_start_here", "wall_seconds": 5.0},
                                                 {"chapter": "01_rnn", "wall_seconds": 50.0}]}))
    assert [p.stem for p in fullrun._order(chapters, previous)] == ["02_lstm", "01_rnn", "00_start_here"]


def test_find_chapters_by_prefix_and_errors():
    every = fullrun.find_chapters()
    assert len(every) >= 11 and all(p.suffix == ".md" and "solutions" not in p.parts for p in every)
    assert [p.stem for p in fullrun.find_chapters(["03", "01_rnn"])] == ["03_gru", "01_rnn"]
    with pytest.raises(ValueError, match="no chapter matches 'zz'"):
        fullrun.find_chapters(["zz"])


@pytest.mark.parametrize("kw,match", [(dict(mode="fast"), "mode"), (dict(threads=0), "threads"),
                                      (dict(workers=-1), "workers")])
def test_bad_options(kw, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        fullrun.run(fullrun.find_chapters(["00"]), tmp_path / "x.md", **kw)


def test_readme_block_is_rewritten_from_the_results(tmp_path):
    data = {"machine": {"date": "2026-01-01", "device": "cpu (1 threads)", "threads": 1, "workers": 1, "torch": "2.x"},
            "chapters": [{"chapter": "02_lstm", "status": "passed", "wall_seconds": 61.0},
                         {"chapter": "01_rnn", "status": "failed", "wall_seconds": 3725.0}]}
    results = tmp_path / "full_mode.json"
    results.write_text(json.dumps(data))
    readme = tmp_path / "README.md"
    readme.write_text(f"# Book\n\n{fullrun.README_START}\nold table\n{fullrun.README_END}\n\nmore\n")
    text = fullrun.write_readme(readme, results)
    assert "old table" not in text and text.endswith(f"{fullrun.README_END}\n\nmore\n")
    assert "| 01_rnn | failed | 1:02:05 |\n| 02_lstm | passed | 1:01 |" in text, "sorted by chapter, h:mm:ss"
    with pytest.raises(ValueError, match="has no block"):
        (tmp_path / "bare.md").write_text("# no block\n")
        fullrun.write_readme(tmp_path / "bare.md", results)


def test_the_readme_shows_the_committed_full_mode_times():
    readme, results = ROOT / "README.md", ROOT / "results" / "full_mode.json"
    text = readme.read_text(encoding="utf-8")
    assert fullrun.README_START in text, "the README carries the full-mode table block"
    assert fullrun.readme_table(json.loads(results.read_text())) in text, \
        "run `python -m rnn_book fullrun --readme README.md` and commit README.md"
