"""Self-checking exercises. In a chapter: ``from rnn_book.exercises import check``.

Each chapter's checkers live in ``chNN_*.py`` beside this file and register with ``@exercise``.
Reference solutions live outside the package, in ``chapters/solutions/``, and the tests run every
checker on its solution (must pass) and on a plausible wrong answer (must fail).
"""
from .core import REGISTRY, Checker, Verdict, Wrong, call, close, exercise, run

check = Checker()
strict_check = Checker(strict=True)

__all__ = ["check", "strict_check", "exercise", "Wrong", "Verdict", "call", "close", "run", "REGISTRY"]
