"""A chapter's assert on a measured number, with one threshold for full mode and one for quick mode.

Every spread study of the book (how far a trained result moves with the seed and the thread count)
records named measures and judges them with the same :class:`Check` the chapter asserts, so the
chapter, its spread table and the tests that guard the committed studies agree by construction.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Iterable, Mapping

from .settings import mode_name

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Check:
    """``measure op threshold``, e.g. ``Check("gap none", ">", full=2.0, quick=1.0)``.

    ``quick=None``: asserted in full mode only (quick mode does not measure it). ``says``: what the
    assert claims, in the chapter's words (shown in spread tables).
    """

    measure: str
    op: str
    full: float
    quick: float | None
    says: str = ""

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"Check: op must be one of {sorted(OPS)}; got {self.op!r}")

    def threshold(self, mode: str | None = None) -> float | None:
        mode = mode or mode_name()
        if mode not in ("full", "quick"):
            raise ValueError(f"Check: mode must be 'full' or 'quick'; got {mode!r}")
        return self.full if mode == "full" else self.quick

    def applies(self, mode: str | None = None) -> bool:
        return self.threshold(mode) is not None

    def passes(self, value: float, mode: str | None = None) -> bool:
        return bool(OPS[self.op](value, self.threshold(mode)))

    def describe(self, mode: str | None = None) -> str:
        return f"{self.measure} {self.op} {self.threshold(mode):g}"


def thresholds(checks: Iterable[Check], mode: str | None = None) -> dict[str, float]:
    """``{measure: threshold}`` of the ``checks`` that apply in ``mode`` (default: the current mode)."""
    return {c.measure: c.threshold(mode) for c in checks if c.applies(mode)}


def failures(measures: Mapping[str, float], checks: Iterable[Check], mode: str | None = None) -> list[str]:
    """The checks that apply in ``mode`` and that ``measures`` fails, as readable lines (empty: all pass)."""
    out = []
    for c in checks:
        if not c.applies(mode):
            continue
        if c.measure not in measures:
            out.append(f"{c.measure}: not measured")
        elif not c.passes(measures[c.measure], mode):
            out.append(f"{c.describe(mode)} fails: {measures[c.measure]:.4g}")
    return out
