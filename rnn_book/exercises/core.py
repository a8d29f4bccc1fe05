"""The exercise mechanism shared by every chapter.

A chapter's exercise cell gives a stub and hands the reader's answer to a checker::

    def count_params(input_size, hidden_size):
        raise NotImplementedError      # your code here

    check.rnn_param_count(count_params)

A checker returns a :class:`Verdict` that shows itself as a clear message. An unfilled stub (a
function that raises ``NotImplementedError``, or the value ``...``) gives "not attempted yet"
instead of an error, so a chapter runs top to bottom before the reader has solved anything. With
``strict=True`` (as the tests use it), anything but a correct answer raises ``AssertionError``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable


@dataclass
class Verdict:
    name: str
    status: str          # "correct", "wrong" or "not attempted"
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        icon = {"correct": "✅", "wrong": "❌", "not attempted": "✏️"}[self.status]
        text = {"correct": "correct", "wrong": "not yet right", "not attempted": "not attempted yet"}[self.status]
        return f"{icon} {self.name}: {text}" + (f" — {self.message}" if self.message else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"correct": "#1a7f37", "wrong": "#cf222e", "not attempted": "#6e7781"}[self.status]
        return f'<div style="color:{colour};font-family:sans-serif">{html.escape(str(self))}</div>'


class Wrong(AssertionError):
    """Raise inside a checker to reject an answer with a message for the reader."""


class NotAttempted(Exception):
    pass


REGISTRY: dict[str, Callable] = {}


def exercise(fn: Callable) -> Callable:
    """Register ``fn(answer)`` as a checker under its own name; it raises :class:`Wrong` to reject."""
    if fn.__name__ in REGISTRY:
        raise ValueError(f"two exercises are named {fn.__name__!r}")
    REGISTRY[fn.__name__] = fn
    return fn


def is_stub(answer) -> bool:
    return answer is ... or answer is None


def call(fn: Callable, *args, **kwargs):
    """Call the reader's function; a stub that raises NotImplementedError counts as not attempted."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as e:
        raise NotAttempted() from e


def run(name: str, answer, strict: bool = False) -> Verdict:
    checker = REGISTRY[name]
    if is_stub(answer):
        verdict = Verdict(name, "not attempted", "replace ... with your answer")
    else:
        try:
            checker(answer)
            verdict = Verdict(name, "correct")
        except NotAttempted:
            verdict = Verdict(name, "not attempted", "your function still raises NotImplementedError")
        except Wrong as e:
            verdict = Verdict(name, "wrong", str(e))
        except Exception as e:  # the reader's code crashed: say where, don't hide it
            verdict = Verdict(name, "wrong", f"your answer raised {type(e).__name__}: {e}")
    if strict and not verdict.passed:
        raise AssertionError(str(verdict))
    return verdict


class Checker:
    """``check.NAME(answer)`` runs the checker registered as NAME. ``check.names()`` lists them."""

    def __init__(self, strict: bool = False):
        self.strict = strict

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        _load_all()
        if name not in REGISTRY:
            raise AttributeError(f"no exercise named {name!r}; known: {', '.join(sorted(REGISTRY))}")
        return lambda answer: run(name, answer, strict=self.strict)

    def names(self) -> list[str]:
        _load_all()
        return sorted(REGISTRY)

    def __dir__(self):
        return self.names()


def _load_all() -> None:
    """Import every ``rnn_book.exercises.chNN`` module so that its checkers register."""
    import importlib
    import pkgutil

    from .. import exercises

    for m in pkgutil.iter_modules(exercises.__path__):
        if m.name.startswith("ch"):
            importlib.import_module(f"{exercises.__name__}.{m.name}")


def close(a, b, tol: float = 1e-6) -> bool:
    """Helper for checkers: tensors/arrays/numbers equal within ``tol`` (absolute)."""
    import numpy as np
    import torch

    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    if isinstance(b, torch.Tensor):
        b = b.detach().cpu().numpy()
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=tol, rtol=0))


STEP_SHAPES = ((3, 4, 5), (1, 2, 3), (2, 6, 6))     # (batch, input, hidden) of the one-step exercises


def step_cases(seed: int):
    """For each of STEP_SHAPES: ``(generator, D, H, x_t, h_prev)`` with float64 x_t (B, D) and h_prev (B, H)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    for B, D, H in STEP_SHAPES:
        x = torch.randn(B, D, generator=g, dtype=torch.float64)
        h = torch.randn(B, H, generator=g, dtype=torch.float64)
        yield g, D, H, x, h
