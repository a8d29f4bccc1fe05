"""The reader's path, in a real browser: JupyterLab as the README starts it, driven by headless Chromium.

One JupyterLab server and one browser serve the module. The tests open a chapter (a MyST ``.md``)
and check that Jupytext shows it as a notebook, run every cell, look for errors, move a widget's
slider, answer an exercise, and open the static book's built page. Screenshots go to
``test-artifacts/``. The browser is Debian's ``chromium`` driven through the ``playwright``
package; nothing is downloaded.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# generous: on a busy 2-core machine a chapter's quick run can take minutes
RUN_ALL_TIMEOUT_S = float(os.environ.get("RNN_BOOK_BROWSER_TIMEOUT", "900"))

if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("needs the playwright package (pip install -e '.[dev]')", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter() -> str:
    here = Path(sys.executable).parent / "jupyter"     # the environment the tests run in
    return str(here) if here.exists() else (shutil.which("jupyter") or "jupyter")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``jupyter lab`` on 127.0.0.1 with a token, as the README starts it; yields its base URL."""
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings"
    # A fresh settings dir keeps the user's settings out. Autosave off: the tests edit and run the
    # chapters, and Jupytext would write those edits back into chapters/*.md. Every cell rendered
    # into the page (JupyterLab 4 may virtualise long notebooks), so the whole notebook can be read.
    for plugin, value in {"notebook-extension/tracker": '{"windowingMode": "none"}',
                          "docmanager-extension/plugin": '{"autosave": false}',
                          "apputils-extension/notification": '{"fetchNews": "false"}'}.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
    opened = {p: p.read_bytes() for p in (ROOT / "chapters").glob("0[01]_*.md")}    # the chapters the tests open
    env = dict(os.environ, RNN_BOOK_QUICK="1", OMP_NUM_THREADS="1",
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    env.pop("MPLBACKEND", None)                          # the kernel's own inline backend, as for a reader
    cmd = [_jupyter(), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")                       # Jupyter refuses root without it
    log = open(home / "jupyter.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n{(home / 'jupyter.log').read_text()}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer on {base} within 180 s")
                time.sleep(1)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        changed = [p.name for p, text in opened.items() if p.exists() and p.read_bytes() != text]
        assert not changed, f"the browser session (or someone else meanwhile) changed {changed}; check git diff"


@pytest.fixture(scope="module")
def browser_context():
    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _open_notebook(context, lab, chapter: str):
    base, token = lab
    page = context.new_page()
    page.goto(f"{base}/lab/tree/chapters/{chapter}?token={token}", wait_until="domcontentloaded")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    expect(panel.locator(".jp-CodeCell").first).to_be_visible(timeout=180_000)
    assert page.locator(".jp-FileEditor:visible").count() == 0, f"{chapter} opened in the text editor, not as a notebook"
    _wait_kernel_idle(page, 300)
    return page, panel


def _kernel_status(page) -> str:
    ind = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator").first
    return (ind.get_attribute("data-status") or "") if ind.count() else ""


def _wait_kernel_idle(page, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while _kernel_status(page) != "idle":
        if time.time() > deadline:
            raise AssertionError(f"kernel not idle after {timeout_s:.0f} s (status {_kernel_status(page)!r})")
        page.wait_for_timeout(500)


def _run_menu(page, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()


def _errors(panel) -> list[str]:
    """Text of every output that shows an exception (JupyterLab renders tracebacks as stderr)."""
    found = []
    for text in panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts():
        if "Traceback" in text or re.search(r"^\w*(Error|Exception)\b", text, re.M):
            found.append(text[-1500:])
    return found


def test_chapter_runs_and_widget_responds(lab, browser_context):
    page, panel = _open_notebook(browser_context, lab, "01_rnn.md")
    _shot(page, "01_opened")
    # every code cell of the .md file becomes a notebook code cell (cells render progressively)
    n_code = len(re.findall(r"^`{3,}\{code-cell\}", (ROOT / "chapters/01_rnn.md").read_text(encoding="utf-8"), re.M))
    assert n_code > 5, f"expected code cells in chapters/01_rnn.md; found {n_code}"
    expect(panel.locator(".jp-CodeCell")).to_have_count(n_code, timeout=120_000)

    _run_menu(page, "Run All Cells")
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt")
    deadline, started = time.time() + RUN_ALL_TIMEOUT_S, time.time()
    page.wait_for_timeout(2000)
    while True:
        texts = prompts.all_inner_texts()
        busy = any("*" in t for t in texts)
        if not busy and _kernel_status(page) == "idle":
            break
        if _errors(panel):
            break
        if time.time() > deadline:
            _shot(page, "01_timeout")
            raise AssertionError(f"cells still running after {RUN_ALL_TIMEOUT_S:.0f} s")
        page.wait_for_timeout(1000)
    print(f"01_rnn.md: Run All took {time.time() - started:.0f} s in the browser")
    _shot(page, "01_ran")
    errors = _errors(panel)
    assert not errors, "a cell shows an error:\n" + "\n---\n".join(errors)
    done = [t for t in prompts.all_inner_texts() if re.search(r"\[\d+\]", t)]
    assert len(done) == n_code, f"only {len(done)} of {n_code} code cells ran"

    # the hidden-state explorer: move its time-step slider, its picture must change
    step_label = page.locator(".widget-label", has_text="step t")
    explorer = panel.locator(".jp-OutputArea-output").filter(has=step_label).first
    slider = explorer.locator(".widget-slider").filter(has=step_label).first
    slider.scroll_into_view_if_needed()
    image = explorer.locator(".widget-output img").first
    expect(image).to_be_visible()
    before = image.get_attribute("src")
    _shot(page, "01_widget_before")
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    readout = slider.locator(".widget-readout").first
    expect(readout).not_to_have_text("0", timeout=10_000)
    deadline = time.time() + 120
    while image.get_attribute("src") == before:
        assert time.time() < deadline, "the widget's picture did not change after moving its slider"
        page.wait_for_timeout(500)
    _wait_kernel_idle(page, 120)                         # every key press rendered; the last picture shown
    assert image.get_attribute("src") != before, "the widget's picture must differ from step 0's"
    _shot(page, "01_widget_after")
    page.close()


def test_exercise_accepts_a_correct_answer(lab, browser_context):
    page, panel = _open_notebook(browser_context, lab, "00_start_here.md")
    cell = panel.locator(".jp-CodeCell", has_text="check.output_and_state_shapes(answer)").first
    cell.scroll_into_view_if_needed()
    editor = cell.locator(".cm-content").first
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text("from rnn_book.exercises import check\n\n"
                              "answer = ((8, 30, 32), (4, 8, 16))\n"
                              "check.output_and_state_shapes(answer)")
    page.keyboard.press("Shift+Enter")
    output = cell.locator(".jp-OutputArea-output").first
    expect(output).to_contain_text("output_and_state_shapes: correct", timeout=RUN_ALL_TIMEOUT_S * 1000)
    _shot(page, "00_exercise_correct")
    assert not _errors(panel)
    page.close()


BOOK_CHAPTER = "01_rnn"      # the chapter whose built page is checked; it executes in about a minute


@pytest.fixture(scope="module")
def built_chapter(tmp_path_factory) -> Path:
    """The static book with one chapter executed (quick mode; ``RNN_BOOK_EXECUTE_ONLY`` in book/conf.py)."""
    out = tmp_path_factory.mktemp("book")
    cmd = [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-c", str(ROOT / "book"),
           str(ROOT / "chapters"), str(out / "html"), "-d", str(out / "doctrees"),
           "-D", "nb_execution_mode=force"]
    env = dict(os.environ, RNN_BOOK_QUICK="1", OMP_NUM_THREADS="1", RNN_BOOK_EXECUTE_ONLY=BOOK_CHAPTER)
    env.pop("MPLBACKEND", None)                          # the kernel's inline backend draws the figures
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_ALL_TIMEOUT_S)
    assert done.returncode == 0, f"executed build of {BOOK_CHAPTER} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out / "html" / f"{BOOK_CHAPTER}.html"


def test_built_page_shows_equations_and_figures(built_chapter, browser_context):
    page = browser_context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(built_chapter.as_uri(), wait_until="load")
    # MathJax 3 replaces each TeX source with an <mjx-container>
    expect(page.locator("mjx-container[display='true']").first).to_be_attached(timeout=60_000)
    assert page.locator("mjx-container").count() >= 5, "the chapter's equations must render"
    # a figure drawn by an executed cell, decoded by the browser
    figure = page.locator(".cell_output img").first
    figure.scroll_into_view_if_needed()
    expect(figure).to_be_visible()
    width = page.evaluate("img => img.naturalWidth", figure.element_handle())
    assert width > 100, f"the chapter's first figure did not load (naturalWidth {width})"
    remote = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    assert not remote, f"the built page must work offline; it requested {remote[:5]}"
    _shot(page, "book_01_figure")
    page.close()
