"""``pytest -n N``: every chapter stays whole on one worker (one kernel), and the wall-time summary still prints."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.skipif(subprocess.run([sys.executable, "-c", "import xdist"]).returncode != 0,
                    reason="pytest-xdist (dev extra) is not installed: pip install pytest-xdist")
def test_two_workers_keep_each_chapter_in_one_kernel(tmp_path):
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    # each cell needs the one before it: split over two kernels, the later cells fail with NameError
    for name in ("a_first", "b_second"):
        cells = ["x = 1", "y = x + 1", "z = y + 1", 'assert (x, y, z) == (1, 2, 3), "cells ran in one kernel"']
        body = "\n".join(f"```{{code-cell}} ipython3\n{c}\n```\n" for c in cells)
        (chapters / f"{name}.md").write_text(HEAD + f"# {name}\n\n" + body)
    (tmp_path / "test_unit.py").write_text("def test_one():\n    assert True\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "--nbval-current-env",
                          "-o", "addopts=", "chapters", "test_unit.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "9 passed" in out.stdout, out.stdout[-3000:]
    assert "chapter wall times" in out.stdout and "chapters/a_first.md" in out.stdout \
        and "chapters/b_second.md" in out.stdout
    assert "summed; they ran side by side" in out.stdout
