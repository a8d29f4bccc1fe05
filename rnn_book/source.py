"""Showing the package's own code in a chapter, so that there is one copy of it: the one that runs.

``show_source(obj)`` displays a function, method or class; ``line=`` narrows it to one line and the
comment block above it (the equation it computes), with its place in the file; ``body=True`` drops
the signature and docstring.
"""
from __future__ import annotations

import inspect
import textwrap
from pathlib import Path


def _lines(obj) -> tuple[list[str], int]:
    try:
        return inspect.getsourcelines(obj)
    except (TypeError, OSError) as e:
        raise TypeError(f"show_source: expected a function, method or class of the package; got "
                        f"{type(obj).__name__} ({e})") from None


def _where(obj) -> str:
    path = Path(inspect.getsourcefile(obj)).resolve()
    parts = path.parts
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("rnn_book"):]) if "rnn_book" in parts else path.name


def source_text(obj, *, line: str | None = None, body: bool = False) -> str:
    """The source of ``obj`` as text (see :func:`show_source` for the options)."""
    if line is not None and body:
        raise ValueError("show_source: give line= or body=True, not both")
    lines, first = _lines(obj)
    if line is not None:
        hits = [k for k, text in enumerate(lines) if text.strip().startswith(line)]
        if len(hits) != 1:
            starts = sorted({t.strip().split("=")[0].strip() + " =" for t in lines if "=" in t and
                             not t.strip().startswith("#")})
            raise ValueError(f"show_source: expected exactly one line of {obj.__qualname__} starting with {line!r}; "
                             f"found {len(hits)}. Assignments there: {', '.join(starts)}")
        k = start = hits[0]
        while start > 0 and lines[start - 1].strip().startswith("#"):
            start -= 1
        code = textwrap.dedent("".join(lines[start:k + 1])).rstrip("\n")
        return f"# {_where(obj)}, line {first + k}\n{code}"
    text = textwrap.dedent("".join(lines))
    if body:
        doc = inspect.getdoc(obj)
        tree_lines = text.splitlines()
        # skip the signature (up to the line ending with ':') and a docstring right after it
        k = next(i for i, t in enumerate(tree_lines) if t.rstrip().endswith(":"))
        rest = tree_lines[k + 1:]
        if doc is not None and rest and rest[0].strip()[:3] in ('"""', "'''", 'r""'):
            quote = rest[0].strip().lstrip("r")[:3]
            end = next(i for i, t in enumerate(rest) if t.rstrip().endswith(quote) and (i > 0 or t.strip().count(quote) >= 2))
            rest = rest[end + 1:]
        text = textwrap.dedent("\n".join(rest))
    return text.rstrip("\n")


def show_source(obj, *, line: str | None = None, body: bool = False):
    """``obj``'s source as highlighted code in a notebook.

    line: the one line that starts with this text (e.g. ``"f = "``), with the comment lines directly
        above it (the equation it computes) and a header naming the file and line number.
    body: leave out the signature and the docstring.
    """
    from IPython.display import Code

    return Code(source_text(obj, line=line, body=body), language="python")
