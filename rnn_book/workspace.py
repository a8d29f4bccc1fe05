"""A reader's own copy of the chapters: ``python -m rnn_book workspace``.

The chapters in ``chapters/`` are the book; a reader who types answers into them changes the book
(and ``git pull`` then conflicts). This command copies every chapter into ``workspace/`` beside
``chapters/``, where the reader's edits belong. The folder ignores itself in git, so ``git status``
and ``git pull`` never see it. Copies never overwrite what is already there; ``--restore`` puts a
chapter back as the book has it and keeps the reader's version under ``workspace/old/``.

    python -m rnn_book workspace                    # copy the chapters not yet in workspace/
    python -m rnn_book workspace --restore 02       # chapter 02 as the book has it (yours kept in old/)
    python -m rnn_book workspace --dir ~/my-rnn     # somewhere else
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

BOOK_ROOT = Path(__file__).resolve().parents[1]      # the clone the package was installed from (pip install -e)
IGNORE_ALL = "# A reader's own copies of the chapters: kept out of git.\n*\n"


def book_chapters(root: Path = BOOK_ROOT) -> list[Path]:
    """The book's chapter files, ``chapters/NN_*.md``, in order."""
    chapters = sorted((root / "chapters").glob("[0-9][0-9]_*.md"))
    if not chapters:
        raise FileNotFoundError(
            f"no chapters in {root / 'chapters'}: the workspace is copied from a clone of the book "
            "installed with `pip install -e .` (this rnn_book was imported from "
            f"{Path(__file__).resolve().parent})")
    return chapters


def _chapter(name: str, chapters: list[Path]) -> Path:
    """``02``, ``02_lstm`` or ``02_lstm.md`` -> the book's chapter file."""
    key = name.removesuffix(".md")
    found = [c for c in chapters if c.stem == key or c.stem.split("_", 1)[0] == key]
    if len(found) != 1:
        raise ValueError(f"no chapter {name!r}; expected a number or a name, one of: "
                         + ", ".join(c.stem for c in chapters))
    return found[0]


def create(target: Path, root: Path = BOOK_ROOT) -> tuple[list[Path], list[Path]]:
    """Copy every chapter missing from ``target``; returns (copied, kept) as paths in ``target``."""
    chapters = book_chapters(root)
    target.mkdir(parents=True, exist_ok=True)
    ignore = target / ".gitignore"
    if not ignore.exists():
        ignore.write_text(IGNORE_ALL)
    config = root / "chapters" / "jupytext.toml"     # saving a copy from JupyterLab keeps it as clean as the book
    if config.exists() and not (target / config.name).exists():
        shutil.copy2(config, target / config.name)
    copied, kept = [], []
    for chapter in chapters:
        mine = target / chapter.name
        if mine.exists():
            kept.append(mine)
        else:
            shutil.copy2(chapter, mine)
            copied.append(mine)
    return copied, kept


def restore(target: Path, name: str, root: Path = BOOK_ROOT) -> tuple[Path, Path | None]:
    """Put one chapter back as the book has it; the reader's copy moves to ``target/old/``.

    Returns (restored, kept) where ``kept`` is where the reader's version went (None if there was none).
    """
    chapter = _chapter(name, book_chapters(root))
    mine = target / chapter.name
    kept = None
    if mine.exists():
        kept = target / "old" / f"{chapter.stem}-{time.strftime('%Y%m%d-%H%M%S')}.md"
        kept.parent.mkdir(parents=True, exist_ok=True)
        mine.replace(kept)
    create(target, root)
    return mine, kept


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rnn_book workspace", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=BOOK_ROOT / "workspace",
                        help="where your copies go (default: workspace/ beside chapters/)")
    parser.add_argument("--restore", metavar="CHAPTER", action="append", default=[],
                        help="put this chapter (e.g. 02 or 02_lstm) back as the book has it; "
                             "your version is kept in old/ (may be repeated)")
    args = parser.parse_args(argv)
    target = args.dir.expanduser().resolve()
    try:
        for name in args.restore:
            restored, kept = restore(target, name)
            moved = f"; yours is now {_shown(kept)}" if kept else ""
            print(f"restored {_shown(restored)} from the book{moved}")
        copied, kept = create(target)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"python -m rnn_book workspace: {err}")
    if copied:
        print(f"copied {len(copied)} chapter(s) into {_shown(target)}: " + ", ".join(p.name for p in copied))
    if kept and not args.restore:
        print(f"kept your {len(kept)} existing cop{'y' if len(kept) == 1 else 'ies'} in {_shown(target)} unchanged")
    print(f"open them in JupyterLab from {_shown(target)}/; the book's own chapters/ stay as they are")
