"""Step through a text and watch the hidden state fill in, one column (one character) per time step.

``hidden_state_explorer(model, vocab, texts)`` runs a character model over a text once, keeps
h_1..h_T, and shows them as a heatmap of hidden units x time steps in which only the steps read so
far (up to the slider's t) are coloured; the column of step t is outlined. ``data`` holds the matrix
shown (NaN for steps not read yet), so a test can move the slider and compare.

The states themselves come from :func:`rnn_book.analysis.states.hidden_states`.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np

from ..analysis.states import hidden_states
from .base import Explorer


def render_hidden_state(H: np.ndarray, text: str, t: int, units: int):
    """The figure for step ``t`` (0-based): columns 0..t coloured, later ones blank. Returns (fig, data)."""
    import matplotlib.pyplot as plt

    T = len(text)
    t = int(min(max(t, 0), T - 1))
    units = int(min(max(units, 1), H.shape[1]))
    shown = np.full((units, T), np.nan)
    shown[:, :t + 1] = H[:t + 1, :units].T
    fig, ax = plt.subplots(figsize=(min(12, 1.5 + 0.32 * T), 1.6 + 0.12 * units))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#f3f4f6")     # grey: steps not read yet
    im = ax.imshow(shown, aspect="auto", cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.add_patch(plt.Rectangle((t - 0.5, -0.5), 1, units, fill=False, ec="black", lw=2))
    ax.set_xticks(range(T), [{" ": "␣", "\n": "↵", "\t": "⇥"}.get(c, c) for c in text], fontsize=8)
    ax.set_xlabel("time step t (the character read at that step)")
    ax.set_ylabel(f"hidden unit (first {units})")
    ax.set_title(f"hidden state after reading {t + 1} of {T} characters: h_{t + 1} (column outlined)")
    fig.colorbar(im, ax=ax, label="activation tanh(·) in (−1, 1)")
    fig.tight_layout()
    return fig, {"t": t, "text": text, "h": shown}


def hidden_state_explorer(model, vocab, texts: list[str] | tuple[str, ...], units: int = 24,
                          title: str = "Step through time: the hidden state fills in") -> Explorer:
    """An :class:`Explorer` with a text chooser, a time-step slider, and the number of units shown."""
    if not texts or not all(isinstance(s, str) and s for s in texts):
        raise ValueError(f"hidden_state_explorer: expected a list of non-empty strings; got {texts!r}")
    longest = max(len(s) for s in texts)

    @lru_cache(maxsize=32)
    def states(text: str) -> np.ndarray:          # the model runs once per text, not once per slider move
        return hidden_states(model, vocab, text)

    hidden = states(texts[0]).shape[1]
    controls = {
        "text": W.Dropdown(options=list(texts), value=texts[0], description="text"),
        "t": W.IntSlider(value=0, min=0, max=longest - 1, description="step t"),
        "units": W.IntSlider(value=min(units, hidden), min=1, max=hidden, description="units"),
    }

    def render(text: str, t: int, units: int):
        return render_hidden_state(states(text), text, t, units)

    return Explorer(controls, render, title=title)
