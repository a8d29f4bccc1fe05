"""The static book builds: Sphinx + myst-nb over chapters/, without executing, warnings as errors; and an
executed chapter's page shows what the notebook shows (its tables as tables), with a quiet build log."""
from __future__ import annotations

import atexit
import functools
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md"))
EXECUTED_CHAPTER = "01_rnn"      # executed for the page checks (here and in test_browser.py); about a minute

pytest.importorskip("myst_nb", reason="the static book needs sphinx and myst-nb (pip install -e '.[dev]')")


def build_book(out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``sphinx-build -W -c book chapters OUT``: the same command as CI's."""
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-c", str(ROOT / "book"), str(ROOT / "chapters"), str(out), *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "html"
    done = build_book(out, "-d", str(out.parent / "doctrees"), "-D", f"nb_execution_cache_path={out.parent / 'cache'}")
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


@functools.lru_cache(maxsize=None)
def executed_build(chapter: str = EXECUTED_CHAPTER) -> tuple[Path, str]:
    """The static book with ``chapter`` executed in quick mode (``RNN_BOOK_EXECUTE_ONLY`` in book/conf.py),
    built once per test session; returns the chapter's HTML page and the build's output."""
    out = Path(tempfile.mkdtemp(prefix="rnn-book-executed-"))
    atexit.register(shutil.rmtree, out, True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(ROOT / "book"), str(ROOT / "chapters"),
           str(out / "html"), "-d", str(out / "doctrees"), "-D", "nb_execution_mode=force",
           "-D", f"nb_execution_cache_path={out / 'cache'}"]
    env = dict(os.environ, RNN_BOOK_QUICK="1", OMP_NUM_THREADS="1", RNN_BOOK_EXECUTE_ONLY=chapter)
    env.pop("MPLBACKEND", None)                          # the kernel's inline backend draws the figures
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"executed build of {chapter} failed:\n{log[-4000:]}"
    return out / "html" / f"{chapter}.html", log


def _markdown_tables_displayed(chapter: str) -> int:
    """How many Markdown tables the chapter's code cells display (``display(Markdown(...table(...)))``)."""
    text = (ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf-8")
    return len(re.findall(r"display\(Markdown\((?:plots\.)?table\(", text))


def test_executed_chapter_shows_its_tables_as_tables():
    page, _ = executed_build()
    text = page.read_text(encoding="utf-8")
    outputs = [chunk.split('<div class="cell docutils container')[0].split("<section")[0]
               for chunk in text.split('<div class="cell_output docutils container">')[1:]]
    expected = _markdown_tables_displayed(EXECUTED_CHAPTER)
    assert expected >= 3, f"{EXECUTED_CHAPTER} should display Markdown tables; found {expected} in its source"
    tables = sum(o.count("<table") for o in outputs)
    assert tables == expected, f"{EXECUTED_CHAPTER} displays {expected} tables; its page shows {tables} as tables"
    texts = [html.unescape(re.sub(r"<[^>]+>", "", o)) for o in outputs]
    # a table left as text keeps its delimiter row, |---| (typeset as |—| on the page)
    raw = [t.strip()[:300] for t in texts if re.search(r"\|\s*(?:-{3,}|—)\s*\|", t)]
    assert not raw, "a table reached the page as raw pipes:\n" + "\n---\n".join(raw)


def test_executed_build_log_is_quiet():
    _, log = executed_build()
    noise = [line for line in log.splitlines() if re.search(r"WARNING|\[IPKernelApp\]|Traceback", line)]
    assert not noise, "the executed build printed warnings:\n" + "\n".join(noise[:10])
