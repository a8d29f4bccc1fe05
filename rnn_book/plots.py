"""Plot helpers shared by the chapters: every figure gets a title and labelled axes with units."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import fonts

fonts.register()      # Chinese text in any figure falls back to a CJK font (or the caption stays English)


def curves(series: Mapping[str, Sequence[float]], title: str, xlabel: str, ylabel: str, logy: bool = False,
           ax=None, x: Sequence[float] | None = None, styles: Mapping[str, str] | None = None):
    """Several named curves on one axis, e.g. loss per epoch for each model."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for name, ys in series.items():
        xs = x if x is not None else np.arange(1, len(ys) + 1)
        ax.plot(xs[:len(ys)], ys, (styles or {}).get(name, "-"), label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return ax


def heatmap(matrix, title: str, xlabel: str, ylabel: str, xticks=None, yticks=None, ax=None, cmap="viridis",
            colorbar: str | None = None, annotate: bool = False, vmin=None, vmax=None):
    """A matrix as an image, e.g. hidden units x time steps, or a hyper-parameter grid."""
    m = np.asarray(matrix, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    im = ax.imshow(m, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xticks is not None:
        ax.set_xticks(range(len(xticks)), [str(t) for t in xticks])
    if yticks is not None:
        ax.set_yticks(range(len(yticks)), [str(t) for t in yticks])
    if annotate:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7, color="w")
    cb = plt.colorbar(im, ax=ax)
    if colorbar:
        cb.set_label(colorbar)
    return ax


def table(rows: Sequence[Mapping[str, object]], floatfmt: str = ".4g") -> str:
    """Rows of dicts as a Markdown table (display it with IPython.display.Markdown)."""
    if not rows:
        return ""
    cols = list(rows[0].keys())

    def fmt(v):     # a "|" inside a cell (e.g. |hand − autograd|) would split it: escape it
        return (format(v, floatfmt) if isinstance(v, float) else str(v)).replace("|", r"\|")
    lines = ["| " + " | ".join(map(fmt, cols)) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


class LivePlot:
    """A plot that redraws in place while a model trains (pass ``live.update`` as ``fit(on_epoch=...)``).

    By default it draws the training loss and the named validation ``metrics`` against epochs; ``draw``
    (``history -> Figure``) replaces that with any figure of the history.
    """

    def __init__(self, title: str, ylabel: str, metrics: Sequence[str] = ("train_loss",), draw=None):
        from IPython.display import display
        import ipywidgets as W

        self.title, self.ylabel, self.metrics, self.draw = title, ylabel, metrics, draw
        self.out = W.Output()
        display(self.out)

    def _default_figure(self, history):
        series = {"train": history.train_loss}
        for m in self.metrics:
            if history.valid and m in history.valid[0]:
                series[m] = history.metric(m)
        fig, ax = plt.subplots(figsize=(6, 3.2))
        curves(series, self.title, "epoch", self.ylabel, ax=ax)
        return fig

    def update(self, epoch, history) -> None:
        from IPython.display import display

        with self.out:
            self.out.clear_output(wait=True)
            fig = self.draw(history) if self.draw is not None else self._default_figure(history)
            display(fig)
            plt.close(fig)


def perplexity_curves(history, steps_per_round: int, title: str, baselines: Mapping[str, float] | None = None,
                      ax=None):
    """Training and validation perplexity (exp of the losses) after each round of ``steps_per_round`` steps.

    ``baselines`` ({"name": perplexity}) are drawn as dashed horizontal lines, e.g. the n-gram models.
    """
    import math

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    x = [steps_per_round * (i + 1) for i in range(len(history.train_loss))]
    series = {"train (running mean over the round)": [math.exp(v) for v in history.train_loss],
              "validation": [math.exp(v) for v in history.metric("valid_loss")]}
    for (name, value), colour in zip((baselines or {}).items(), ("0.35", "tab:red", "tab:purple", "tab:brown")):
        ax.axhline(value, ls="--", lw=1, color=colour, label=f"{name}: {value:.2f}")
    curves(series, title, "optimiser steps", "perplexity (lower is better)", ax=ax, x=x, logy=True)
    if baselines:
        ax.legend(fontsize=8)
    return ax.figure
