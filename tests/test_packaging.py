"""The two install routes list the same packages, and the harness finds every chapter."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAME = {"torch": "pytorch"}
# PyPI-only packages: installed by the pip section of environment.yml (".[dev]"), not by conda
PIP_ONLY = {"espeakng-loader", "cn2an", "sphinx-mathjax-offline", "pylopdf-fonts-zh-cn"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower()


def _pyproject_names() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    return {CONDA_NAME.get(_name(r), _name(r)) for r in reqs} - PIP_ONLY


def _conda_names() -> set[str]:
    names, in_pip = set(), False
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*(:)?", line)
        if re.match(r"^\s*-\s+pip:\s*$", line):
            in_pip = True
            continue
        if m and not in_pip and not line.strip().startswith("- -e"):
            names.add(m.group(1).lower())
    return names - {"python", "pip"}


def test_environment_yml_lists_what_pyproject_lists():
    py, conda = _pyproject_names(), _conda_names()
    assert py - conda == set(), f"in pyproject.toml but not in environment.yml: {sorted(py - conda)}"
    assert conda - py == set(), f"in environment.yml but not in pyproject.toml: {sorted(conda - py)}"


def test_environment_yml_installs_the_book_itself():
    assert "-e .[dev]" in (ROOT / "environment.yml").read_text()


def test_jupyterlab_opens_markdown_as_notebooks():
    import json
    cfg = json.loads((ROOT / "jupyter-config/labconfig/default_setting_overrides.json").read_text())
    assert cfg["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["markdown"] == "Jupytext Notebook"
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shared = data["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["jupyter-config/labconfig/default_setting_overrides.json"] == \
        "etc/jupyter/labconfig/default_setting_overrides.json"
    installed = Path(sys.prefix) / "etc/jupyter/labconfig/default_setting_overrides.json"
    assert installed.exists(), f"pip install -e . should have installed {installed}"


def test_every_chapter_is_collected_with_its_cells(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "chapters"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    chapters = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md"))
    for ch in chapters:
        assert f"{ch}::Cell 0" in out.stdout, f"{ch} was not collected:\n{out.stdout[-2000:]}"


def test_failing_cell_names_file_and_line(tmp_path):
    """A broken chapter fails with its file name and the line where the failing cell starts."""
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    (chapters / "99_broken.md").write_text(textwrap.dedent("""\
        ---
        jupytext:
          text_representation:
            format_name: myst
        kernelspec:
          name: python3
          display_name: Python 3
        ---
        # broken

        ```{code-cell} ipython3
        import os
        assert os.environ["RNN_BOOK_QUICK"] == "1", "the harness runs chapters in quick mode"
        ```

        text

        ```{code-cell} ipython3
        assert 1 + 1 == 3, "arithmetic is broken"
        ```
        """))
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-current-env",
                          "-o", "addopts=", "chapters"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout[-3000:]
    assert "1 failed, 1 passed" in out.stdout, out.stdout[-3000:]
    assert "chapters/99_broken.md, line 18 (code cell 1) failed" in out.stdout, out.stdout[-3000:]
    assert "arithmetic is broken" in out.stdout
    assert "chapter wall times" in out.stdout
