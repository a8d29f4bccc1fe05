"""Every registered exercise checker, proved both ways on the reference solutions in chapters/solutions/.

For each checker in ``rnn_book.exercises.REGISTRY`` (all ``rnn_book/exercises/ch*.py`` loaded):
the reference solution passes in strict mode, every listed wrong answer fails in strict mode, and an
unfilled stub (``...``, or a function raising NotImplementedError) reports "not attempted" without
raising. Each ``chapters/solutions/ch*.py`` defines ``SOLUTIONS = {name: answer}`` and
``WRONG = {name: [wrong answers]}``.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rnn_book.exercises import REGISTRY, run
from rnn_book.exercises.core import _load_all

SOLUTIONS_DIR = Path(__file__).resolve().parents[1] / "chapters" / "solutions"


def _load_solutions():
    solutions, wrong, owner, problems = {}, {}, {}, []
    for path in sorted(SOLUTIONS_DIR.glob("ch*.py")):
        spec = importlib.util.spec_from_file_location(f"_solutions_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # a broken solution file is reported, not allowed to hide the others
            problems.append(f"{path.name} does not import: {type(e).__name__}: {e}")
            continue
        for attr, into in (("SOLUTIONS", solutions), ("WRONG", wrong)):
            table = getattr(module, attr, None)
            if not isinstance(table, dict):
                problems.append(f"{path.name} defines no {attr} dict")
                continue
            for name, value in table.items():
                if name in into:
                    problems.append(f"{name} appears in {attr} of both {owner[name]} and {path.name}")
                into[name] = value
                owner.setdefault(name, path.name)
    return solutions, wrong, problems


_load_all()
SOLUTIONS, WRONG, LOAD_PROBLEMS = _load_solutions()
NAMES = sorted(REGISTRY)


class _Stub:
    """What a reader starts from: a function whose body is still ``raise NotImplementedError``."""

    def __call__(self, *args, **kwargs):
        raise NotImplementedError("your code here")


def test_solution_files_load():
    assert not LOAD_PROBLEMS, "problems in chapters/solutions/:\n" + "\n".join(LOAD_PROBLEMS)


def test_every_checker_has_a_solution_and_a_wrong_answer():
    missing = [f"{n}: no SOLUTIONS entry" for n in NAMES if n not in SOLUTIONS]
    missing += [f"{n}: no WRONG entry (a non-empty list)" for n in NAMES
                if not isinstance(WRONG.get(n), (list, tuple)) or not WRONG.get(n)]
    assert not missing, "every registered exercise needs both, in chapters/solutions/ch*.py:\n" + "\n".join(missing)


def test_no_solution_for_an_unknown_exercise():
    unknown = sorted((set(SOLUTIONS) | set(WRONG)) - set(REGISTRY))
    assert not unknown, f"solutions name exercises that no checker registers (renamed or removed?): {unknown}"


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_passes(name):
    if name not in SOLUTIONS:
        pytest.fail(f"{name} has no reference solution in chapters/solutions/")
    verdict = run(name, SOLUTIONS[name], strict=True)
    assert verdict.status == "correct"


@pytest.mark.parametrize("name", NAMES)
def test_wrong_answers_fail(name):
    wrong = WRONG.get(name) or []
    if not wrong:
        pytest.fail(f"{name} has no wrong answer in chapters/solutions/ (WRONG[{name!r}])")
    for i, answer in enumerate(wrong):
        with pytest.raises(AssertionError):
            run(name, answer, strict=True)
        verdict = run(name, answer, strict=False)
        assert verdict.status == "wrong", (f"WRONG[{name!r}][{i}] should be judged wrong (with a message); "
                                           f"got: {verdict}")
        assert verdict.message, f"WRONG[{name!r}][{i}]: a rejection must say what is wrong"


@pytest.mark.parametrize("name", NAMES)
def test_unfilled_stub_is_not_attempted(name):
    stubs = [...]
    if callable(SOLUTIONS.get(name)):       # the reader's answer is a function: its stub raises NotImplementedError
        stubs.append(_Stub())
    for stub in stubs:
        verdict = run(name, stub, strict=False)          # must not raise
        assert verdict.status == "not attempted", f"{name}: an unfilled stub {stub!r} should be 'not attempted'; " \
                                                  f"got: {verdict}"
        with pytest.raises(AssertionError):
            run(name, stub, strict=True)
