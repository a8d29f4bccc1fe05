"""The static book builds: Sphinx + myst-nb over chapters/, without executing, warnings as errors."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md"))

pytest.importorskip("myst_nb", reason="the static book needs sphinx and myst-nb (pip install -e '.[dev]')")


def build_book(out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``sphinx-build -W -c book chapters OUT``: the same command as CI's."""
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-c", str(ROOT / "book"), str(ROOT / "chapters"), str(out), *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "html"
    done = build_book(out, "-d", str(out.parent / "doctrees"))
    assert done.returncode == 0, f"sphinx-build failed (warnings are errors):\n{done.stdout}\n{done.stderr}"
    return out


def test_every_chapter_has_a_page(book):
    assert len(CHAPTERS) >= 11, f"expected chapters 00..10 in chapters/; found {CHAPTERS}"
    missing = [c for c in CHAPTERS if not (book / f"{c}.html").is_file()]
    assert not missing, f"no built page for {missing}"
    assert not (book / "solutions").exists(), "chapters/solutions must stay out of the book"


def test_contents_in_source_order_with_section_numbers(book):
    index = (book / "index.html").read_text(encoding="utf-8")
    linked = re.findall(r'class="reference internal" href="(\d\d_[^"#]+)\.html"', index)
    order = list(dict.fromkeys(linked))
    assert order == CHAPTERS, f"the table of contents must list every chapter in source order; got {order}"
    for number in ("6.2.1", "6.2.1.1", "6.2.1.2"):
        assert number in index, f"the contents must show the source's section number {number}"


def test_equations_render_offline(book):
    page = (book / "01_rnn.html").read_text(encoding="utf-8")
    assert 'class="math' in page, "chapter 01's equations must reach the page as math"
    src = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert src, "the page must load MathJax"
    assert all(not s.startswith(("http:", "https:", "//")) for s in src), f"MathJax must load from disk, not {src}"
    assert (book / src[0]).is_file(), f"MathJax script {src[0]} missing from the build"
