"""Showing the package's code in the chapters, and the annotated-implementation rule: every equation
comment of a scratch cell stands directly above the line that computes it and names what it assigns."""
from __future__ import annotations

import ast
import inspect
import re

import pytest

from rnn_book import scratch
from rnn_book.analysis import bptt
from rnn_book.scratch import cells, fused
from rnn_book.source import show_source, source_text
from rnn_book.weights import set_forget_bias


def test_whole_source_is_dedented_and_runs_as_shown():
    code = show_source(bptt.RNNUnit.output)
    assert code.data.startswith("def output(self, h_t"), "dedented source of the method, as it runs"
    assert "h_t @ self.W_ho + self.b_o" in code.data


def test_one_line_with_its_equation_and_place():
    text = source_text(scratch.LSTMCell.forward, line="f = ")
    header, equation, code = text.splitlines()
    assert re.fullmatch(r"# rnn_book/scratch/cells\.py, line \d+", header)
    assert equation.startswith("# F_t = σ(") and code.startswith("f = torch.sigmoid(x_t @ self.W_xf")
    n = int(header.rsplit(" ", 1)[1])
    assert inspect.getsource(cells).splitlines()[n - 1].strip() == code, "the line number points at the line"


def test_a_line_must_be_named_unambiguously():
    with pytest.raises(ValueError, match=r"exactly one line .* starting with 'q = '; found 0\. Assignments there: .*c_tilde ="):
        source_text(scratch.LSTMCell.forward, line="q = ")
    with pytest.raises(ValueError, match="found 2"):
        source_text(scratch.GRUCell.forward, line="h_tilde = ")
    with pytest.raises(ValueError, match="not both"):
        source_text(scratch.GRUCell.forward, line="r = ", body=True)
    with pytest.raises(TypeError, match="expected a function, method or class"):
        source_text(42)


def test_body_leaves_out_signature_and_docstring():
    text = source_text(set_forget_bias, body=True)
    assert text.splitlines()[0].startswith("lstm = layer_of(obj"), text.splitlines()[0]
    assert '"""' not in text and "def set_forget_bias" not in text


# -- the equations above the lines ------------------------------------------------------------------
EQUATION = re.compile(r"#\s*([A-Za-z])(\u0303?)_t\s*=")          # "# F_t = ...", "# C̃_t = ...", "# h_t = ..."


def _variable_for(letter: str, tilde: str) -> set[str]:
    """The names a line computing this symbol may assign: F_t -> f; C_t -> c_t; C̃_t -> c_tilde."""
    base = letter.lower() + ("_tilde" if tilde else "")
    return {base, base + "_t"}


def _equation_lines(fn):
    lines = inspect.getsource(fn).splitlines()
    for k, line in enumerate(lines):
        m = EQUATION.match(line.strip())
        if m:
            yield lines, k, m


FORWARDS = [cells.RNNCell.forward, cells.LSTMCell.forward, cells.GRUCell.forward, fused.FusedLSTMCell.forward,
            fused.FusedGRUCell.forward]


@pytest.mark.parametrize("fn", FORWARDS, ids=lambda f: f.__qualname__)
def test_every_equation_stands_above_the_line_that_computes_it(fn):
    found = 0
    for lines, k, m in _equation_lines(fn):
        found += 1
        nxt = lines[k + 1].strip()
        assert not nxt.startswith("#") and "=" in nxt, \
            f"{fn.__qualname__}: the equation {lines[k].strip()!r} must stand directly above its line; next is {nxt!r}"
        target = ast.parse(nxt).body[0]
        assert isinstance(target, ast.Assign), f"{fn.__qualname__}: {nxt!r} is not an assignment"
        names = {n.id for t in target.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        want = _variable_for(*m.groups())
        assert names & want, (f"{fn.__qualname__}: the equation {lines[k].strip()!r} is above a line assigning "
                              f"{sorted(names)}, not {sorted(want)}")
    assert found, f"{fn.__qualname__} has no equation comment"


@pytest.mark.parametrize("fn,symbols", [(cells.RNNCell.forward, {"h_t"}),
                                        (cells.LSTMCell.forward, {"i", "f", "o", "c_tilde", "c_t", "h_t"}),
                                        (cells.GRUCell.forward, {"r", "z", "h_tilde", "h_t"})],
                         ids=["rnn", "lstm", "gru"])
def test_every_line_of_the_textbook_cells_has_its_equation(fn, symbols):
    lines = inspect.getsource(fn).splitlines()
    for k, line in enumerate(lines):
        m = re.match(r"\s*(\w+)\s*=[^=]", line)
        if m and m.group(1) in symbols:
            above = lines[k - 1].strip()
            assert EQUATION.match(above), f"{fn.__qualname__}: {line.strip()!r} has no equation comment above it"
