"""Which inputs can output t see? Bars of ‖∂o_t/∂x_s‖ for a uni- or bidirectional, shallow or deep GRU."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from .. import scratch, seed
from ..analysis.deep import influence
from .base import Explorer

T = 12


def render_reach(t: int, bidirectional: bool, num_layers: int):
    """``t`` counts from 1, as in the figures: o_1 .. o_T."""
    t = t - 1
    seed(0)
    layer = scratch.GRU(4, 8, num_layers=num_layers, bidirectional=bidirectional).double()
    reach = influence(layer, T, t).numpy()
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    colours = ["#2563eb" if s < t else "#dc2626" if s > t else "#111827" for s in range(T)]
    ax.bar(np.arange(1, T + 1), reach, color=colours)
    ax.axvline(t + 1, color="grey", lw=0.8, ls=":")
    kind = "bidirectional" if bidirectional else "left-to-right"
    ax.set_title(f"What output $o_{{{t + 1}}}$ can see: {num_layers}-layer {kind} GRU (untrained)")
    ax.set_xlabel("input step s (blue: past, black: now, red: future)")
    ax.set_ylabel(r"$\|\partial o_t / \partial x_s\|$")
    return fig, {"t": t + 1, "bidirectional": bidirectional, "num_layers": num_layers, "reach": reach.tolist(),
                 "sees_future": bool(reach[t + 1:].sum() > 0)}


def reach_explorer() -> Explorer:
    controls = {
        "t": W.IntSlider(value=6, min=1, max=T, description="output o_t, t"),
        "bidirectional": W.Checkbox(value=False, description="bidirectional"),
        "num_layers": W.IntSlider(value=1, min=1, max=3, description="layers"),
    }
    return Explorer(controls, render_reach, title="Reach of one output")
