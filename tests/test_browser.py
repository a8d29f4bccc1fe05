"""The reader's path, in a real browser: JupyterLab as the README starts it, driven by headless Chromium.

Two JupyterLab servers serve the module. The first runs from the repository root with autosave off:
the tests open a chapter (a MyST ``.md``) and check that Jupytext shows it as a notebook, run every
cell, look for errors, move a widget's slider and answer an exercise. The second runs with autosave
on (every 5 s) from a temporary copy of the chapters and their Jupytext configuration: a chapter
opened, run and closed there must come back byte for byte. The last test opens the static book's
page of an executed chapter. Screenshots go to ``test-artifacts/``. The browser is Debian's
``chromium`` driven through the ``playwright`` package; nothing is downloaded.

Every wait names what it waits for: the kernel connected and idle (the server's session API and
the page's indicator) before Run All; then every code cell's execution count.
"""
from __future__ import annotations

import contextlib
import json
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
KERNEL_READY_TIMEOUT_S = 300
AUTOSAVE_INTERVAL_S = 5

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


class Lab:
    """A running ``jupyter lab`` server: its base URL, token, and the folder it serves."""

    def __init__(self, base: str, token: str, root: Path):
        self.base, self.token, self.root = base, token, root

    def url(self, path: str) -> str:
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, path: str):
        with urllib.request.urlopen(self.url(path), timeout=10) as reply:
            return json.loads(reply.read())

    def kernel_of(self, notebook: str) -> dict:
        """The server's view of the kernel of the session open on ``notebook`` ({} if none yet)."""
        for session in self.api("/api/sessions"):
            if session.get("path") == notebook and session.get("kernel"):
                return session["kernel"]
        return {}


@contextlib.contextmanager
def _lab_server(root: Path, home: Path, lab_settings: dict[str, str]):
    """``jupyter lab --no-browser --ip=127.0.0.1`` from ``root`` with a token, as the README starts it.

    A fresh settings dir keeps the user's settings out; every cell is rendered into the page (JupyterLab
    4 may virtualise long notebooks), so the whole notebook can be read.
    """
    port, token = _free_port(), secrets.token_hex(16)
    settings = home / "settings"
    lab_settings = {"notebook-extension/tracker": '{"windowingMode": "none"}',
                    "apputils-extension/notification": '{"fetchNews": "false"}', **lab_settings}
    for plugin, value in lab_settings.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
    env = dict(os.environ, RNN_BOOK_QUICK="1", OMP_NUM_THREADS="1",
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    env.pop("MPLBACKEND", None)                          # the kernel's own inline backend, as for a reader
    cmd = [_jupyter(), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")                       # Jupyter refuses root without it
    log_path = home / "jupyter.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token, root)
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n{log_path.read_text()}")
            try:
                lab.api("/api/status")
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer on {lab.base}/api/status within 180 s")
                time.sleep(1)
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Lab from the repository root, autosave off: the tests edit cells, which must not reach chapters/."""
    opened = {p: p.read_bytes() for p in (ROOT / "chapters").glob("0[01]_*.md")}    # the chapters the tests open
    with _lab_server(ROOT, tmp_path_factory.mktemp("lab"), {"docmanager-extension/plugin": '{"autosave": false}'}) as server:
        yield server
    changed = [p.name for p, text in opened.items() if p.exists() and p.read_bytes() != text]
    assert not changed, f"the browser session (or someone else meanwhile) changed {changed}; check git diff"


@pytest.fixture(scope="module")
def lab_autosave(tmp_path_factory):
    """Lab with autosave on, serving a copy of the chapters and their Jupytext configuration (pyproject.toml)."""
    root = tmp_path_factory.mktemp("book-copy")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "chapters", root / "chapters", ignore=shutil.ignore_patterns("solutions", "*.ipynb"))
    autosave = json.dumps({"autosave": True, "autosaveInterval": AUTOSAVE_INTERVAL_S})
    with _lab_server(root, tmp_path_factory.mktemp("lab-autosave"), {"docmanager-extension/plugin": autosave}) as server:
        yield server


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


def _code_cells_in(path: Path) -> int:
    return len(re.findall(r"^`{3,}\{code-cell\}", path.read_text(encoding="utf-8"), re.M))


def _open_notebook(context, lab: Lab, chapter: str):
    """Open ``chapters/<chapter>`` as a notebook and wait until its kernel is connected and idle."""
    page = context.new_page()
    page.goto(lab.url(f"/lab/tree/chapters/{chapter}"), wait_until="domcontentloaded")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    expect(panel.locator(".jp-CodeCell").first).to_be_visible(timeout=180_000)
    assert page.locator(".jp-FileEditor:visible").count() == 0, f"{chapter} opened in the text editor, not as a notebook"
    n_code = _code_cells_in(lab.root / "chapters" / chapter)
    assert n_code > 3, f"expected code cells in chapters/{chapter}; found {n_code}"
    # every code cell of the .md file becomes a notebook code cell (cells render progressively)
    expect(panel.locator(".jp-CodeCell")).to_have_count(n_code, timeout=120_000)
    _wait_kernel_ready(page, lab, f"chapters/{chapter}", KERNEL_READY_TIMEOUT_S)
    return page, panel, n_code


def _kernel_status(page) -> str:
    ind = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator").first
    return (ind.get_attribute("data-status") or "") if ind.count() else ""


def _wait_kernel_ready(page, lab: Lab, notebook: str, timeout_s: float) -> None:
    """Wait until the server reports the notebook's kernel idle with a client connected, and the page agrees."""
    deadline, kernel, status = time.time() + timeout_s, {}, ""
    while True:
        kernel, status = lab.kernel_of(notebook), _kernel_status(page)
        if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1 and status == "idle":
            return
        if time.time() > deadline:
            raise AssertionError(
                f"waited {timeout_s:.0f} s for the kernel of {notebook} to be connected and idle: the server says "
                f"state {kernel.get('execution_state')!r} with {kernel.get('connections', 0)} connection(s), "
                f"the page says {status!r}")
        page.wait_for_timeout(500)


def _wait_kernel_idle(page, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while _kernel_status(page) != "idle":
        if time.time() > deadline:
            raise AssertionError(f"waited {timeout_s:.0f} s for the kernel to be idle again (status {_kernel_status(page)!r})")
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


def _run_all(page, panel, n_code: int, name: str) -> float:
    """Run All Cells, then wait until every code cell shows an execution count ``[n]`` and the kernel is
    idle (or a cell shows an error). Returns the seconds it took."""
    _run_menu(page, "Run All Cells")
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt")
    started = time.time()
    while True:
        texts = prompts.all_inner_texts()
        done = sum(bool(re.search(r"\[\d+\]", t)) for t in texts)
        queued = sum("*" in t for t in texts)
        if done == n_code and queued == 0 and _kernel_status(page) == "idle":
            break
        if _errors(panel):
            break
        waited = time.time() - started
        if waited > RUN_ALL_TIMEOUT_S:
            _shot(page, f"{name}_timeout")
            raise AssertionError(f"waited {RUN_ALL_TIMEOUT_S:.0f} s for every code cell's execution count after "
                                 f"Run All: {done} of {n_code} had one, {queued} queued or running")
        page.wait_for_timeout(1000)
    seconds = time.time() - started
    print(f"{name}: Run All took {seconds:.0f} s in the browser")
    errors = _errors(panel)
    assert not errors, "a cell shows an error:\n" + "\n---\n".join(errors)
    return seconds


def test_chapter_runs_and_widget_responds(lab, browser_context):
    page, panel, n_code = _open_notebook(browser_context, lab, "01_rnn.md")
    _shot(page, "01_opened")
    _run_all(page, panel, n_code, "01_rnn.md")
    _shot(page, "01_ran")

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
        assert time.time() < deadline, "the widget's picture did not change within 120 s of moving its slider"
        page.wait_for_timeout(500)
    _wait_kernel_idle(page, 120)                         # every key press rendered; the last picture shown
    assert image.get_attribute("src") != before, "the widget's picture must differ from step 0's"
    _shot(page, "01_widget_after")
    page.close()


def test_exercise_accepts_a_correct_answer(lab, browser_context):
    page, panel, _ = _open_notebook(browser_context, lab, "00_start_here.md")
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


AUTOSAVED_CHAPTER = "00_start_here.md"


def _overwrite_on_file_changed(page, seen: list[str]):
    """JupyterLab asks "File Changed ... overwrite or revert?" when a file's time on disk is newer than
    its last save. On a heavily loaded machine, Lab and Jupytext's timestamps can disagree so without
    anyone touching the file; answering Overwrite saves what the browser holds, which must still be
    byte for byte the chapter."""
    dialog = page.locator(".jp-Dialog", has_text="File Changed")

    def overwrite(locator=dialog):
        seen.append(locator.inner_text()[:200])
        locator.get_by_role("button", name="Overwrite").click()

    page.add_locator_handler(dialog, overwrite)         # before any click of the test
    return lambda: overwrite() if dialog.count() else None


def test_open_run_close_with_autosave_leaves_the_chapter_byte_identical(lab_autosave, browser_context):
    path = lab_autosave.root / "chapters" / AUTOSAVED_CHAPTER
    original = path.read_bytes()
    assert original == (ROOT / "chapters" / AUTOSAVED_CHAPTER).read_bytes()
    page, panel, n_code = _open_notebook(browser_context, lab_autosave, AUTOSAVED_CHAPTER)
    conflicts: list[str] = []
    answer_conflict = _overwrite_on_file_changed(page, conflicts)
    run_started = time.time()
    _run_all(page, panel, n_code, f"{AUTOSAVED_CHAPTER} (autosave on)")
    # the run changed the notebook (execution counts, outputs): autosave must have written it since, and
    # nothing may be left unsaved
    deadline = time.time() + 60
    while path.stat().st_mtime < run_started or page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count():
        assert time.time() < deadline, (f"waited 60 s for JupyterLab to autosave {AUTOSAVED_CHAPTER} after the "
                                        f"run (autosave every {AUTOSAVE_INTERVAL_S} s)")
        answer_conflict()
        page.wait_for_timeout(500)
    if conflicts:
        print(f"JupyterLab asked {len(conflicts)} time(s) whether to overwrite {AUTOSAVED_CHAPTER}; answered Overwrite")
    _shot(page, "00_autosaved")
    page.locator(".lm-TabBar-tab.jp-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_have_count(0, timeout=30_000)
    page.close()
    after = path.read_bytes()
    if after != original:
        import difflib
        diff = "".join(difflib.unified_diff(original.decode().splitlines(True), after.decode().splitlines(True), n=1))
        raise AssertionError(f"opening, running and closing {AUTOSAVED_CHAPTER} changed it:\n{diff[:1500]}")


@pytest.fixture(scope="module")
def built_chapter() -> Path:
    """The static book's page of one executed chapter (built once for this and test_book_build.py)."""
    from test_book_build import executed_build

    page, _ = executed_build()
    return page


def test_built_page_shows_equations_figures_and_tables(built_chapter, browser_context):
    from test_book_build import EXECUTED_CHAPTER, _markdown_tables_displayed

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
    # every table a cell displays, as a table with a header and rows
    tables = page.locator(".cell_output table")
    expected = _markdown_tables_displayed(EXECUTED_CHAPTER)
    expect(tables).to_have_count(expected)
    for k in range(expected):
        table = tables.nth(k)
        assert table.locator("th").count() >= 2 and table.locator("tbody tr").count() >= 1, f"table {k} is empty"
    tables.first.scroll_into_view_if_needed()
    _shot(page, "book_01_table")
    remote = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    assert not remote, f"the built page must work offline; it requested {remote[:5]}"
    figure.scroll_into_view_if_needed()
    _shot(page, "book_01_figure")
    page.close()
