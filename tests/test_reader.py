"""The reader's side of the chapters: opening one changes nothing, and edits have a place of their own.

JupyterLab reads and writes a chapter (a MyST ``.md``) through Jupytext's contents manager. When a
reader opens a chapter and runs it, Lab sets the kernelspec and language_info from the running kernel,
fills in execution counts and outputs, and autosaves. The first test does exactly that through the
same contents manager class Lab builds, for every chapter, and asks for the same bytes back.
"""
from __future__ import annotations

import asyncio
import inspect
import math
import platform
import re
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))


def lab_contents_manager(root: Path):
    """The contents manager of ``jupyter lab`` with Jupytext's server extension, serving ``root``."""
    from jupyter_server.serverapp import ServerApp
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class
    from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class

    base = ServerApp.class_traits()["contents_manager_class"].default()    # what Lab uses
    if inspect.iscoroutinefunction(base.get):                              # as jupyterlab_jupytext derives it
        cls = build_async_jupytext_contents_manager_class(base)
    else:
        cls = build_sync_jupytext_contents_manager_class(base)
    return cls(root_dir=str(root))


def _as_a_reader_runs_it(nb) -> None:
    """What Lab does to an open notebook when a reader picks the kernel and runs every cell."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": spec.display_name, "language": spec.language}
    nb.metadata["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
        "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3", "version": platform.python_version()}
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"ran cell {count}\n")]
            cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00.000Z"}


# every Markdown file a reader may open in JupyterLab, and the Jupytext configuration files
MARKDOWN = sorted({*ROOT.glob("*.md"), *ROOT.glob("chapters/*.md"), *ROOT.glob("results/*.md"),
                   *ROOT.glob("rnn_book/**/*.md")})
JUPYTEXT_CONFIG = ["pyproject.toml", "chapters/jupytext.toml"]


def _copy_of_the_book(tmp_path: Path) -> Path:
    """The Markdown files and the Jupytext configuration, laid out as in the repository."""
    for path in [*MARKDOWN, *(ROOT / c for c in JUPYTEXT_CONFIG if (ROOT / c).exists())]:
        copy = tmp_path / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
    return tmp_path


def _as_lab_opens_a_plain_file(nb) -> None:
    """What Lab sets on a notebook that names no kernel (a Markdown file without a header)."""
    nb.metadata.setdefault("kernelspec", {"name": "", "display_name": ""})
    nb.metadata.setdefault("language_info", {"name": ""})


def test_markdown_files_survive_open_run_save_byte_identical(tmp_path):
    """Every chapter opened, run and saved; every other Markdown file (README.md, results/) opened and
    saved, as JupyterLab does when the book makes it open .md files as notebooks."""
    assert len(CHAPTERS) >= 11, f"expected chapters 00..10; found {[c.name for c in CHAPTERS]}"
    assert ROOT / "README.md" in MARKDOWN
    root = _copy_of_the_book(tmp_path)
    cm = lab_contents_manager(root)

    async def open_run_save(path: str, chapter: bool) -> None:
        model = await cm.get(path, content=True, type="notebook")
        nb = model["content"]
        if chapter:
            assert any(c.cell_type == "code" for c in nb.cells), f"{path} opened without code cells"
            _as_a_reader_runs_it(nb)
        else:
            _as_lab_opens_a_plain_file(nb)
        await cm.save({"type": "notebook", "format": "json", "content": nb}, path)

    changed = {}
    for original in MARKDOWN:
        path = original.relative_to(ROOT).as_posix()
        asyncio.run(open_run_save(path, original in CHAPTERS))
        before, after = original.read_text(encoding="utf-8"), (root / path).read_text(encoding="utf-8")
        if after != before:
            import difflib
            changed[path] = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0))[:800]
    assert not changed, "saving an unedited Markdown file from JupyterLab changed it:\n" + "\n".join(
        f"{name}:\n{diff}" for name, diff in changed.items())


def test_chapter_headers_name_the_kernel_lab_writes_back():
    """Each header holds the kernelspec of the kernel every pip or conda install of the book provides."""
    from jupyter_client.kernelspec import KernelSpecManager

    import jupytext

    spec = KernelSpecManager().get_kernel_spec("python3")
    for chapter in CHAPTERS:
        ks = jupytext.read(chapter).metadata.get("kernelspec", {})
        assert ks == {"name": "python3", "display_name": spec.display_name, "language": "python"}, \
            f"{chapter.name}: kernelspec {ks} differs from the installed python3 kernel's ({spec.display_name!r})"


# -- a workspace of the reader's own ----------------------------------------------------------------

def _fake_book(root: Path) -> Path:
    (root / "chapters").mkdir(parents=True)
    for chapter in [*CHAPTERS[:3], ROOT / "chapters" / "jupytext.toml"]:
        shutil.copy(chapter, root / "chapters" / chapter.name)
    return root


def test_workspace_copies_every_chapter_and_never_overwrites(tmp_path):
    from rnn_book import workspace

    book = _fake_book(tmp_path / "book")
    target = book / "workspace"
    copied, kept = workspace.create(target, root=book)
    assert [p.name for p in copied] == [c.name for c in CHAPTERS[:3]] and kept == []
    assert (target / "jupytext.toml").read_bytes() == (book / "chapters" / "jupytext.toml").read_bytes(), \
        "the copies need the chapters' Jupytext configuration to stay clean when saved"
    for p in copied:
        assert p.read_bytes() == (book / "chapters" / p.name).read_bytes()
    mine = copied[1]
    mine.write_text("my answers\n")
    copied, kept = workspace.create(target, root=book)
    assert copied == [] and len(kept) == 3
    assert mine.read_text() == "my answers\n", "creating the workspace again must keep the reader's work"


def test_workspace_restore_keeps_the_readers_version(tmp_path):
    from rnn_book import workspace

    book = _fake_book(tmp_path / "book")
    target = tmp_path / "mine"
    workspace.create(target, root=book)
    name = CHAPTERS[1].name
    (target / name).write_text("my answers\n")
    restored, kept = workspace.restore(target, name.split("_")[0], root=book)
    assert restored.read_bytes() == CHAPTERS[1].read_bytes()
    assert kept.parent == target / "old" and kept.read_text() == "my answers\n"
    with pytest.raises(ValueError, match="no chapter '99'; expected a number or a name, one of: 00_start_here"):
        workspace.restore(target, "99", root=book)
    with pytest.raises(FileNotFoundError, match="no chapters in .*pip install -e"):
        workspace.create(target, root=tmp_path / "nowhere")


def test_workspace_stays_out_of_git(tmp_path):
    import subprocess

    from rnn_book import workspace

    book = _fake_book(tmp_path / "book")
    git = ["git", "-C", str(book), "-c", "user.name=r", "-c", "user.email=r@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "book"], check=True)
    workspace.create(book / "workspace", root=book)
    (book / "workspace" / CHAPTERS[0].name).write_text("edited\n")
    status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=all"], capture_output=True,
                            text=True, check=True).stdout
    assert status == "", f"the workspace must not show in git status:\n{status}"


def test_workspace_command_line(tmp_path, capsys):
    from rnn_book.__main__ import main

    main(["workspace", "--dir", str(tmp_path / "w")])
    out = capsys.readouterr().out
    assert f"copied {len(CHAPTERS)} chapter(s)" in out
    assert sorted(p.name for p in (tmp_path / "w").glob("*.md")) == [c.name for c in CHAPTERS]
    main(["workspace", "--dir", str(tmp_path / "w"), "--restore", "00"])
    assert "restored" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="python -m rnn_book workspace: no chapter 'zz'"):
        main(["workspace", "--dir", str(tmp_path / "w"), "--restore", "zz"])


# -- explorers keep what the reader sees --------------------------------------------------------------

def test_checks_on_an_explorer_leave_the_page_as_the_reader_has_it():
    import matplotlib.pyplot as plt

    from rnn_book.widgets.gates import gate_explorer

    open_before = set(plt.get_fignums())               # figures other tests left open
    w = gate_explorer(i=0.5, f=0.9, o=0.8, c_tilde=0.7, c_prev=1.0)
    shown = w.values()
    assert shown == {"i": 0.5, "f": 0.9, "o": 0.8, "c_tilde": 0.7, "c_prev": 1.0}
    # chapter 02's checks, right after the explorer is displayed
    w.set(o=0.1)
    w.set(i=0.0, f=1.0)
    assert w.values() == shown, "code that tries values must not move the sliders on the page"
    assert w.data["c_run"] == [1.0] * 30, "the data are those of the values tried: F = 1, I = 0 keeps C"
    assert w.data["h_t"] == pytest.approx(0.1 * math.tanh(1.0)), "set() calls build on each other (O = 0.1)"
    assert w.set(f=-0.5)["c_run"] == [0.0] * 30 and w.values()["f"] == 0.9, "the slider clamps F to 0; the page stays"
    assert set(plt.get_fignums()) == open_before, "figures drawn for tried values must be closed, not shown under the cell"
    # the reader moves a slider: the page draws what it shows, from the reader's values
    w.controls["c_prev"].value = 2.0
    assert w.data["c_t"] == pytest.approx(0.5 * 0.7 + 0.9 * 2.0)


def test_a_dropdown_refuses_what_it_does_not_offer():
    import ipywidgets as W
    from traitlets import TraitError

    from rnn_book.widgets.base import Explorer

    w = Explorer({"word": W.Dropdown(options=["one", "two"], value="one", description="word")},
                 lambda word: ("<p>" + word + "</p>", {"word": word}))
    assert w.set(word="two") == {"word": "two"} and w.values() == {"word": "one"}
    with pytest.raises(TraitError):
        w.set(word="three")
    assert w.values() == {"word": "one"}
    with pytest.raises(KeyError, match="no control named 'wrod'; controls: word"):
        w.set(wrod="two")


def test_explorer_labels_are_shown_whole():
    from rnn_book.widgets.gates import gate_explorer

    w = gate_explorer()
    for name, control in w.controls.items():
        assert control.style.description_width == "initial", f"{name}'s label would be cut off"
    assert w.controls["c_prev"].description.startswith("$C_{t-1}$")
    for control in w.controls.values():                 # TeX only inside $...$, which JupyterLab typesets
        outside = re.sub(r"\$[^$]+\$", "", control.description)
        assert not re.search(r"[_^\\{}]", outside), f"raw TeX in the label {control.description!r}"
