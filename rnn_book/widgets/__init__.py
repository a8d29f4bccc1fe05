"""Interactive widgets of the chapters; each is an :class:`Explorer` with a unit-tested render."""
from .base import Explorer

__all__ = ["Explorer"]
