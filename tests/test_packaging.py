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
CONDA_NAME = {"torch": "pytorch", "playwright": "playwright-python"}
# PyPI-only packages: installed by the pip section of the environment files, not by conda
PIP_ONLY = {"espeakng-loader", "cn2an", "sphinx-mathjax-offline", "pylopdf-fonts-zh-cn"}
# what only the tests and the static book need; a reader installs none of it
# sacrebleu is not among them: chapter 5b scores its translations with it, so the reader needs it
DEVELOPER_TOOLS = {"pytest", "nbval", "playwright", "sphinx", "myst-nb"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _environment(file: str) -> tuple[set[str], set[str]]:
    """(conda package names, pip entries) of an environment file."""
    conda, pip, in_pip = set(), set(), False
    text = (ROOT / file).read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        if re.match(r"^\s*-\s+pip:\s*$", line):
            in_pip = True
            continue
        m = re.match(r"^\s*-\s+(\S.*?)\s*$", line)
        if not m:
            continue
        if in_pip:
            pip.add(m.group(1) if m.group(1).startswith("-e") else _name(m.group(1)))
        else:
            conda.add(re.split(r"[<>=!~ ]", m.group(1), maxsplit=1)[0].lower())
    return conda - {"python", "pip"}, pip


def _check_environment(file: str, requirements: list[str], book: str) -> None:
    names = {_name(r) for r in requirements}
    expected_conda = {CONDA_NAME.get(n, n) for n in names - PIP_ONLY}
    conda, pip = _environment(file)
    assert expected_conda - conda == set(), f"in pyproject.toml but not in {file}: {sorted(expected_conda - conda)}"
    assert conda - expected_conda == set(), f"in {file} but not in pyproject.toml: {sorted(conda - expected_conda)}"
    assert pip == (names & PIP_ONLY) | {book}, f"{file}'s pip section must list {sorted(names & PIP_ONLY)} and {book!r}; has {sorted(pip)}"


def test_environment_yml_is_the_readers():
    _check_environment("environment.yml", _pyproject()["dependencies"], "-e .")


def test_environment_dev_yml_adds_the_developers_tools():
    project = _pyproject()
    _check_environment("environment-dev.yml", project["dependencies"] + project["optional-dependencies"]["dev"],
                       "-e .[dev]")


def test_a_reader_installs_no_developer_tools():
    project = _pyproject()
    reader = {_name(r) for r in project["dependencies"]}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert reader & DEVELOPER_TOOLS == set(), f"the reader's install pulls in {sorted(reader & DEVELOPER_TOOLS)}"
    assert DEVELOPER_TOOLS <= dev, f"the dev extra lacks {sorted(DEVELOPER_TOOLS - dev)}"


def test_readme_install_chooses_pytorch_and_ci_runs_the_readme_test_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Read the book.*?```bash\n(.*?)```", readme, re.S).group(1)
    lines = [ln.split("#")[0].strip() for ln in block.splitlines()]
    cpu = [i for i, ln in enumerate(lines) if ln == "pip install torch --index-url https://download.pytorch.org/whl/cpu"]
    book = [i for i, ln in enumerate(lines) if ln == "pip install -e ."]
    assert cpu and book and cpu[0] < book[0], "the install block must offer the CPU-only PyTorch line before the book"
    assert "jupyter lab" in lines and "python3 -m venv .venv && . .venv/bin/activate" in lines
    tests = re.search(r"## Run every test and every chapter.*?```bash\n(.*?)```", readme, re.S).group(1).split()
    ci = (ROOT / ".ci/run").read_text()
    assert 'pip install -e ".[dev]"' in " ".join(tests) and 'pip install -e ".[dev]"' in ci
    assert tests[-1] == "pytest" and re.search(r"^pytest$", ci, re.M), "CI must run the README's test command"


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
