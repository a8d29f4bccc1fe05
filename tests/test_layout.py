"""The folders of rnn_book are its layers: a module imports only from its own layer or the ones above it
in LAYERS (engines first). Lazy imports inside functions count too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rnn_book"

# layer name -> the top-level modules and folders of rnn_book in it, from the bottom up
LAYERS = {
    "engines": {"scratch", "cudnn", "checks", "weights", "models"},
    "shared machinery": {"settings", "train", "timing", "plots", "source", "fonts", "precision", "distributed", "thresholds",
                         "__init__"},
    "data": {"data"},
    "tasks": {"tasks"},
    "analysis": {"analysis"},
    "presentation": {"viz", "widgets", "exercises"},
    "command line": {"__main__", "fullrun", "gpu_check", "workspace"},   # runners and the reader's workspace
}
RANK = {top: n for n, tops in enumerate(LAYERS.values()) for top in tops}
NAME = {top: layer for layer, tops in LAYERS.items() for top in tops}


def _top(parts: tuple[str, ...]) -> str:
    """The top-level module or folder of rnn_book that a path inside it belongs to."""
    return parts[0].removesuffix(".py") if parts else "__init__"


def _imports(path: Path, source: str | None = None):
    """(line, top-level rnn_book module) for every import of rnn_book in ``path``, absolute or relative."""
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    package = rel[:-1]                      # the folder the module sits in, inside rnn_book
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "rnn_book":
                    yield node.lineno, _top(tuple(parts[1:]))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] != "rnn_book":
                    continue
                target = tuple(parts[1:])
            else:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = base + tuple((node.module or "").split(".") if node.module else ())
            if target:
                yield node.lineno, _top(target)
            else:                                            # from rnn_book import x, y: each name may be a module
                for alias in node.names:
                    yield node.lineno, alias.name if alias.name in RANK else "__init__"


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    unplaced = sorted({_top(p.relative_to(PACKAGE).parts) for p in MODULES} - set(RANK))
    assert not unplaced, f"add these to a layer in tests/test_layout.py: {unplaced}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_only_to_the_same_layer_or_below(path):
    mine = _top(path.relative_to(PACKAGE).parts)
    if mine not in RANK:
        pytest.fail(f"{mine} is in no layer")
    for line, other in _imports(path):
        if other in RANK:
            assert RANK[other] <= RANK[mine], (f"rnn_book/{path.relative_to(PACKAGE)}:{line} ({NAME[mine]}) imports "
                                               f"{other} ({NAME[other]}), a layer above it")


def test_the_check_sees_forbidden_imports():
    """Relative and absolute, at the top and inside a function: each is resolved to its layer."""
    source = "from .tasks import lm\nimport rnn_book.analysis.bench\ndef f():\n    from ..viz import diagram\n"
    assert [top for _, top in _imports(PACKAGE / "train.py", source)][:2] == ["tasks", "analysis"]
    assert [top for _, top in _imports(PACKAGE / "scratch" / "cells.py", source.split("\n", 2)[2])] == ["viz"]
