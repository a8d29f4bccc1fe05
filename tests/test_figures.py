"""The figures in the book's two languages, with and without a CJK font, and three drawing defects that stay fixed."""
from __future__ import annotations

import logging
import re
import warnings

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from rnn_book import fonts  # noqa: E402
from rnn_book.viz import deep_figures, gru_figure, lstm_figure, rnn_figures  # noqa: E402

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _trace(T: int = 12, hidden: int = 16):
    g = torch.Generator().manual_seed(0)
    trace = {k: torch.rand(T, hidden, generator=g) for k in "ifo"}
    trace["c"] = 3 * torch.randn(T, hidden, generator=g)
    trace["h"] = torch.tanh(torch.randn(T, hidden, generator=g))
    return trace


def _probe_data(n: int = 600, units: int = 16):
    g = torch.Generator().manual_seed(0)
    balance = torch.randint(-8, 9, (n,), generator=g).double()
    cell = balance[:, None] * torch.linspace(0.5, 2, units, dtype=torch.float64) + 0.3 * torch.randn(n, units, generator=g, dtype=torch.float64)
    return balance, cell, torch.tanh(cell / 3)


def all_figures() -> dict[str, tuple[matplotlib.figure.Figure, str]]:
    """Every figure the package draws, by name: (Figure, its caption)."""
    out = {}
    for name, d in {"6-2": rnn_figures.recurrent_unit(), "6-3": rnn_figures.unrolled(4),
                    "6-4": lstm_figure.lstm_cell_figure(), "gru": gru_figure.gru_cell_figure(),
                    "gru cuDNN": gru_figure.gru_cell_figure(reset_after=True),
                    "stacked": deep_figures.stacked(), "bidirectional": deep_figures.bidirectional()}.items():
        out[name] = (d.fig, d.ax.get_title())
    heat = lstm_figure.gate_heatmaps(_trace(), "(()(()))()((", mark_unit=3)
    probe = lstm_figure.count_probe_figure(*_probe_data(), unit=2, r2_cell=0.99, r2_hidden=0.8)
    out["gate heatmaps"] = (heat, heat.get_suptitle())
    out["count probe"] = (probe, probe.get_suptitle())
    return out


def draw_cleanly(fig, caplog) -> None:
    """Draw the figure; any warning (a glyph missing from every font, a font not found) is an error."""
    caplog.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            fig.canvas.draw()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not logged, f"drawing logged warnings: {logged}"


@pytest.fixture
def no_cjk_font(monkeypatch):
    """A machine without any CJK font: neither the pip package nor a system font."""
    monkeypatch.setattr(fonts, "_packaged_font", lambda: None)
    monkeypatch.setattr(fonts, "SYSTEM_FAMILIES", ())
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    fonts.cjk_family.cache_clear()
    yield
    fonts.cjk_family.cache_clear()


# -- captions in two languages ----------------------------------------------------------------------

def test_a_cjk_font_is_registered_once_from_the_dependency():
    family = fonts.register()
    assert family == "Noto Sans SC", f"the pip dependency pylopdf-fonts-zh-cn should provide Noto Sans SC; got {family}"
    fonts.register()
    assert list(matplotlib.rcParams["font.family"]).count(family) == 1, "registering twice adds the fallback once"
    assert matplotlib.rcParams["font.family"][0] != family, "Latin text keeps the default font; CJK only falls back"


def test_captions_carry_the_source_numbering_in_chinese_and_english(caplog):
    figures = all_figures()
    for number in ("6-2", "6-3", "6-4"):
        caption = figures[number][1]
        zh, en = caption.split("\n")
        assert zh.startswith(f"图 {number} ") and CJK.search(zh[4:]), f"Chinese caption of 图 {number}: {zh!r}"
        assert en.startswith(f"Fig. {number} ") and not CJK.search(en), f"English caption of Fig. {number}: {en!r}"
    for name in ("gru", "gru cuDNN", "stacked", "bidirectional"):
        zh, en = figures[name][1].split("\n")
        assert zh.startswith("本书补充图") and "Added by this book" in en, f"{name} must say it is the book's own: {zh!r}"
        assert not re.search(r"\b6-\d", zh + en), f"{name} has no number in the source: {zh} / {en}"
    assert "no figure in the source" in figures["gru"][1]


def test_chinese_captions_draw_with_real_glyphs_and_no_warnings(caplog):
    family = fonts.register()
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    font = FT2Font(path)
    for name, (fig, caption) in all_figures().items():
        chars = set(CJK.findall(caption))
        assert chars, f"{name}: the caption {caption!r} should carry Chinese text"
        no_glyph = sorted(c for c in chars if font.get_char_index(ord(c)) == 0)
        assert not no_glyph, f"{name}: {path} has no glyph for {no_glyph}"
        draw_cleanly(fig, caplog)


def test_without_a_cjk_font_captions_fall_back_to_english(no_cjk_font, caplog):
    assert fonts.register() is None
    assert fonts.caption("图 6-2 循环单元", "Fig. 6-2 The recurrent unit") == "Fig. 6-2 The recurrent unit"
    for name, (fig, caption) in all_figures().items():
        assert caption and not CJK.search(caption), f"{name}: without a CJK font the caption must be English: {caption!r}"
        draw_cleanly(fig, caplog)


def test_without_the_pip_font_a_system_cjk_font_is_used(monkeypatch, caplog):
    """A font matplotlib already knows (as Debian's fonts-noto-cjk would be) stands in for the package."""
    packaged = fonts._packaged_font()
    font_manager.fontManager.addfont(str(packaged))           # now "known to matplotlib", as a system font is
    monkeypatch.setattr(fonts, "_packaged_font", lambda: None)
    monkeypatch.setattr(fonts, "SYSTEM_FAMILIES", ("No Such Font CJK", "Noto Sans SC"))
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    fonts.cjk_family.cache_clear()
    try:
        assert fonts.register() == "Noto Sans SC"
        fig, caption = all_figures()["6-4"]
        assert caption.startswith("图 6-4 ")
        draw_cleanly(fig, caplog)
    finally:
        fonts.cjk_family.cache_clear()


def test_caption_rejects_mathtext_and_empty_lines():
    with pytest.raises(ValueError, match=r"mathtext"):
        fonts.caption("图 6-2 单元 $h_t$", "Fig. 6-2")
    with pytest.raises(ValueError, match="two non-empty strings"):
        fonts.caption("", "Fig. 6-2")


# -- the three drawing defects ------------------------------------------------------------------------

def _pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def _near(img, ax, x, y, colour, tol) -> bool:
    """Is some pixel within one pixel of data point (x, y) within ``tol`` of ``colour`` (per channel)?"""
    px, py = ax.transData.transform((x, y))
    r, c = int(round(img.shape[0] - py)), int(round(px))
    window = img[r - 1:r + 2, c - 1:c + 2]
    return bool((np.abs(window - np.array(colour)).max(-1) <= tol).any())


WIRE = (0x37, 0x41, 0x51)      # diagram.PALETTE["edge"]


@pytest.mark.parametrize("figure, y_from, y_skip", [("lstm", 0.9, (5.8 - 0.2, 5.8 + 0.2)), ("gru", 5.9, None)])
def test_the_h_t_output_wire_leaves_its_junction_unbroken(figure, y_from, y_skip):
    """H_t leaves the cell upwards at x = 10.6 from a junction on the H line (LSTM: y = 0.9, passing
    under the cell line at y = 5.8; GRU: y = 5.9); the wire must touch the junction and run without
    a gap up to its arrowhead."""
    d = lstm_figure.lstm_cell_figure() if figure == "lstm" else gru_figure.gru_cell_figure()
    img = _pixels(d.fig)
    ys = [y for y in np.arange(y_from, 6.95, 0.03) if not (y_skip and y_skip[0] < y < y_skip[1])]
    gaps = [round(float(y), 2) for y in ys if not _near(img, d.ax, 10.6, y, WIRE, 60)]
    assert not gaps, f"the {figure} H_t output wire is broken at y = {gaps[:6]}"


@pytest.mark.parametrize("unit", [0, 15])
def test_the_outlined_unit_stays_visible_on_the_frame(unit):
    """Row 0 (and the last row) share an edge with the axes frame: the outline must show on top of it."""
    fig = lstm_figure.gate_heatmaps(_trace(), "(()(()))()((", mark_unit=unit)
    img = _pixels(fig)
    mark = tuple(int(lstm_figure.MARK[i:i + 2], 16) for i in (1, 3, 5))
    edge = unit - 0.5 if unit == 0 else unit + 0.5           # the row's edge that lies on the frame
    heatmaps = [ax for ax in fig.axes if ax.images]          # not the colour bars
    assert len(heatmaps) == 5
    for ax in heatmaps:
        on_frame = [_near(img, ax, x, edge, mark, 40) for x in np.linspace(0, 11, 23)]
        assert all(on_frame), f"unit {unit}'s outline is hidden on the frame at {on_frame.count(False)} of 23 points"


def test_probe_figure_labels_do_not_overlap():
    fig = lstm_figure.count_probe_figure(*_probe_data(), unit=2, r2_cell=0.99, r2_hidden=0.8)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    left, right = fig.axes
    for ax in (left, right):
        label = ax.yaxis.label.get_window_extent(renderer)
        ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
        assert ticks and not any(label.overlaps(t) for t in ticks), "a y-label overlaps its tick labels"
    right_label = right.yaxis.label.get_window_extent(renderer)
    assert not right_label.overlaps(left.get_tightbbox(renderer)), "the right panel's y-label runs into the left panel"


def test_probe_figure_rejects_bad_input():
    balance, cell, hidden = _probe_data()
    with pytest.raises(ValueError, match=r"balance \(n,\) and cell, hidden \(n, units\)"):
        lstm_figure.count_probe_figure(balance, cell[:10], hidden, unit=0, r2_cell=1.0, r2_hidden=1.0)
    with pytest.raises(ValueError, match=r"unit must be an index in 0..15"):
        lstm_figure.count_probe_figure(balance, cell, hidden, unit=16, r2_cell=1.0, r2_hidden=1.0)
    with pytest.raises(ValueError, match=r"mark_unit must be a unit index in 0..15"):
        lstm_figure.gate_heatmaps(_trace(), "(()(()))()((", mark_unit=-1)
