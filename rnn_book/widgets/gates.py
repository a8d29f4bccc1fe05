"""The gate explorer: set the input, forget and output gates and the candidate by hand, watch C_t and H_t.

Left panel: one step, C_t = I·C̃ + F·C_{t-1} split into its two terms, then H_t = O·tanh(C_t).
Right panel: the same gates held for many steps: C_t moves geometrically (rate F) towards the fixed
point I·C̃/(1−F), so F close to 1 means a long memory and F = 1, I = 0 keeps C exactly.
"""
from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt

from ..analysis.lstm_probes import cell_run, cell_step
from .base import Explorer


def gate_render(i: float, f: float, o: float, c_tilde: float, c_prev: float, steps: int = 30):
    """Draw one step and a ``steps``-long run with the gates held; returns (figure, data)."""
    c_t, h_t = cell_step(i, f, o, c_tilde, c_prev)
    cs, hs = cell_run(i, f, o, c_tilde, c_prev, steps)
    fixed = i * c_tilde / (1.0 - f) if f < 1.0 else None
    data = {"c_t": c_t, "h_t": h_t, "forget_term": f * c_prev, "input_term": i * c_tilde,
            "c_run": cs, "h_run": hs, "fixed_point": fixed}

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 1.4]})
    names = ["F·C$_{t-1}$", "I·$\\tilde C_t$", "C$_t$", "tanh C$_t$", "H$_t$"]
    values = [f * c_prev, i * c_tilde, c_t, math.tanh(c_t), h_t]
    colours = ["#fecaca", "#fed7aa", "#f87171", "#d1d5db", "#fbbf24"]
    a.bar(range(5), values, color=colours, edgecolor="#374151")
    a.set_xticks(range(5), names)
    a.axhline(0, color="#374151", lw=0.8)
    a.set_ylim(-3.2, 3.2)
    a.set_ylabel("value (unitless)")
    a.set_title(f"one step: $C_t$ = {c_t:+.3f}, $H_t$ = {h_t:+.3f}")

    t = range(1, steps + 1)
    b.plot(range(0, steps + 1), [c_prev] + cs, "-", color="#dc2626", label="memory cell C$_t$ (C$_0$ = C$_{t-1}$ slider)")
    b.plot(t, hs, "-", color="#d97706", label="hidden state H$_t$")
    if fixed is not None and abs(fixed) < 50:
        b.axhline(fixed, ls=":", color="#dc2626", lw=1, label=f"fixed point I·C̃/(1−F) = {fixed:+.2f}")
    b.set_xlabel("time step t (gates held fixed)")
    b.set_ylabel("value (unitless)")
    b.set_title("the same gates for many steps")
    b.grid(alpha=0.3)
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def gate_explorer(i: float = 0.5, f: float = 0.9, o: float = 0.8, c_tilde: float = 0.7, c_prev: float = 1.0,
                  steps: int = 30) -> Explorer:
    """Sliders for I, F, O, C̃_t and C_{t-1}, starting at the given values; the callback is :func:`gate_render`."""
    def slider(value, lo, hi, label):             # JupyterLab typesets the $...$ in a label as math
        return W.FloatSlider(value=value, min=lo, max=hi, step=0.01, description=label, readout_format=".2f")

    controls = {"i": slider(i, 0, 1, "$I$ (input gate)"), "f": slider(f, 0, 1, "$F$ (forget gate)"),
                "o": slider(o, 0, 1, "$O$ (output gate)"),
                "c_tilde": slider(c_tilde, -1, 1, r"$\tilde C_t$ (candidate)"),
                "c_prev": slider(c_prev, -3, 3, "$C_{t-1}$ (previous cell)")}
    return Explorer(controls, lambda **v: gate_render(**v, steps=steps),
                    title="LSTM gate explorer: how $C_t$ and $H_t$ respond to the gates")
