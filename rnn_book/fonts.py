"""A CJK font for the figures' Chinese captions, registered with matplotlib in one place.

matplotlib's own font (DejaVu Sans) has no Chinese glyphs: drawn with it, 图 6-2 becomes empty boxes
and a warning per character. :func:`register` finds a CJK font, first found wins:

1. Noto Sans SC from the PyPI package ``pylopdf-fonts-zh-cn`` (SIL Open Font License 1.1), a
   dependency of the book, so that a reader who installs with pip alone has it;
2. a CJK font matplotlib already knows, e.g. Debian's ``fonts-noto-cjk`` ("Noto Sans CJK SC").

It then appends the font to ``rcParams["font.family"]`` behind the default family: Latin text keeps
its usual look and matplotlib falls back to the CJK font glyph by glyph. Where no CJK font exists,
:func:`caption` gives the English caption alone, so a figure never shows boxes or warnings.

Chinese text must not share a string with mathtext (``$...$``): mathtext has its own fonts and no
fallback. Captions therefore carry no math; the symbols stay in the figure's labels.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager

# Families looked for among the fonts matplotlib already knows, in order of preference.
SYSTEM_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK JP",
                   "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "AR PL UMing CN")


def _packaged_font() -> Path | None:
    """The Noto Sans SC file shipped by the ``pylopdf-fonts-zh-cn`` package, if it is installed."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """The family name of a CJK font known to matplotlib (added to it if need be), or None."""
    path = _packaged_font()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in SYSTEM_FAMILIES if family in known), None)


def register() -> str | None:
    """Make matplotlib fall back to the CJK font for glyphs its default font lacks; returns the family.

    Idempotent, and cheap after the first call; safe to call before every figure (a style reset
    that dropped the fallback gets it back).
    """
    family = cjk_family()
    if family is not None:
        families = list(matplotlib.rcParams["font.family"])
        if family not in families:
            matplotlib.rcParams["font.family"] = families + [family]
    return family


def caption(zh: str, en: str) -> str:
    """A figure caption in the book's two languages: the Chinese line above the English one.

    ``caption("图 6-2 循环单元", "Fig. 6-2 The recurrent unit")``. Without a CJK font: the English line only.
    """
    if not (isinstance(zh, str) and isinstance(en, str) and zh.strip() and en.strip()):
        raise ValueError(f"caption: expected two non-empty strings (Chinese, English); got {zh!r}, {en!r}")
    if "$" in zh + en:
        raise ValueError("caption: a caption cannot hold mathtext ($...$), whose fonts have no CJK glyphs; "
                         f"got {zh!r}, {en!r}")
    return f"{zh}\n{en}" if register() is not None else en
