"""Test harness: every MyST chapter in chapters/ runs through nbval, in quick mode, in a fresh kernel.

nbval reads only .ipynb files, so this hook reads each ``chapters/*.md`` with jupytext and hands the
notebook to nbval's own collector; no .ipynb is written. A failing cell is reported with the chapter
file and the line where the cell starts. The run ends with each chapter's wall time.

With pytest-xdist (``pytest -n auto``) every chapter stays whole on one worker, in one kernel: the
distribution test by test that ``-n`` chooses is switched to ``loadfile``, which sends each file --
a chapter, or a file of unit tests -- to one worker as a whole.
"""
from __future__ import annotations

import os
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest

from rnn_book.fullrun import code_cell_lines, is_chapter

os.environ.setdefault("RNN_BOOK_QUICK", "1")     # the chapters read it in their kernels
os.environ.setdefault("MPLBACKEND", "agg")
# The book's models are small: a second BLAS thread buys little on them, and on a shared machine
# oversubscribed threads slow every chapter down many times over. Override by exporting the variable.
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).parent
CHAPTERS = ROOT / "chapters"
_chapter_seconds: dict[str, float] = defaultdict(float)
_rootpath: list[Path] = [ROOT]            # pytest's rootdir, which node ids are relative to


@lru_cache(maxsize=None)
def _is_chapter(path: Path) -> bool:
    return CHAPTERS in path.parents and is_chapter(path)


def pytest_configure(config):
    _rootpath[0] = Path(str(config.rootpath))
    # xdist's plain "-n N" distributes test by test ("load"), which would scatter a chapter's cells
    # over several kernels, each missing the cells before; "loadfile" keeps a file on one worker
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadfile"


def pytest_collect_file(file_path: Path, parent):
    if _is_chapter(file_path):
        return MystChapter.from_parent(parent, path=file_path)
    return None


from nbval.plugin import IPyNbCell, IPyNbFile, find_comment_markers, find_metadata_tags  # noqa: E402


class ChapterCell(IPyNbCell):
    md_line = 0

    def reportinfo(self):
        rel = os.path.relpath(str(self.fspath), str(self.config.rootdir))
        return self.fspath, self.md_line - 1, f"{rel}:{self.md_line} (code cell {self.cell_num})"

    def repr_failure(self, excinfo):
        rel = os.path.relpath(str(self.fspath), str(self.config.rootdir))
        return f"{rel}, line {self.md_line} (code cell {self.cell_num}) failed\n" + super().repr_failure(excinfo)


class MystChapter(IPyNbFile):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False   # text notebooks store no outputs; chapters assert in cells

    def collect(self):
        import jupytext
        from collections import defaultdict as dd

        text = Path(self.fspath).read_text(encoding="utf-8")
        self.nb = jupytext.reads(text, fmt="md:myst")
        lines = code_cell_lines(text)
        code_cells = [c for c in self.nb.cells if c.cell_type == "code"]
        for num, cell in enumerate(code_cells):
            options = dd(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", False)
            item = ChapterCell.from_parent(self, name=f"Cell {num}", cell_num=num, cell=cell, options=options)
            item.md_line = lines[num] if num < len(lines) else 0
            yield item


def pytest_collection_modifyitems(config, items):
    # on an xdist worker: chapters first. They are the longest files, so they start early and the many
    # short unit-test files fill the end, instead of one long chapter running alone at the end.
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: not isinstance(item, ChapterCell))      # stable: cells keep their order


def pytest_runtest_logreport(report):
    # setup + call + teardown of every cell; the kernel starts in the first cell's setup and stops in
    # the last one's teardown. Under xdist the workers' reports arrive here, in the controller.
    path = report.nodeid.split("::", 1)[0]
    if _is_chapter(_rootpath[0] / path):
        _chapter_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _chapter_seconds:
        return
    tr = terminalreporter
    tr.write_sep("=", "chapter wall times (quick mode)" if os.environ.get("RNN_BOOK_QUICK") == "1"
                 else "chapter wall times")
    for path, sec in sorted(_chapter_seconds.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"{sec:8.1f} s  {path}")
    workers = getattr(tr.config.option, "numprocesses", None)
    tr.write_line(f"{sum(_chapter_seconds.values()):8.1f} s  all chapters"
                  + (" (summed; they ran side by side on several workers)" if workers else ""))
