"""The update gate as a dial: H_t = Z⊙H_{t-1} + (1−Z)⊙H̃_t slides H_t along the segment from H̃_t to H_{t-1}.

Left panel: one step in a 2-unit hidden state. H_t always lies on the straight segment between the
candidate H̃_t (Z = 0) and the old state H_{t-1} (Z = 1); Z says where.
Right panel: the same Z held for many steps while the candidate stays put: the distance to the
candidate shrinks by the factor Z every step, so the old state fades with a half-life of
ln ½ / ln Z steps -- Z close to 1 is a long memory.
The ``makemore`` switch reads the slider as the other convention's gate Z' = 1 − Z (the one of
Karpathy's makemore, H_t = (1−Z')⊙H_{t-1} + Z'⊙H̃_t): the same picture at the mirrored setting.
"""
from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from .base import Explorer

H_PREV = np.array([-0.6, 0.7])      # the old state H_{t-1} (two hidden units)
H_TILDE = np.array([0.8, -0.3])     # the candidate H̃_t


def interpolate(z: float, h_prev, h_tilde) -> np.ndarray:
    """One GRU update with the gate ``z`` given: Z⊙H_{t-1} + (1−Z)⊙H̃_t (scalar or per-unit z)."""
    z = np.asarray(z, dtype=float)
    if np.any(z < 0) or np.any(z > 1):
        raise ValueError(f"interpolate: the update gate must lie in [0, 1]; got {z}")
    return z * np.asarray(h_prev, dtype=float) + (1 - z) * np.asarray(h_tilde, dtype=float)


def half_life(z: float) -> float:
    """Steps until the old state's share falls to one half when Z is held: ln ½ / ln Z (inf at Z = 1)."""
    if not 0 <= z <= 1:
        raise ValueError(f"half_life: z must lie in [0, 1]; got {z}")
    if z == 1:
        return math.inf
    return 0.0 if z == 0 else math.log(0.5) / math.log(z)


def update_gate_render(z: float, makemore: bool = False, steps: int = 30):
    """Draw one step and a ``steps``-long run with the gate held; returns (figure, data)."""
    z_book = 1.0 - z if makemore else z               # the slider is Z' = 1 − Z in makemore's convention
    h_t = interpolate(z_book, H_PREV, H_TILDE)
    run = [H_PREV]
    for _ in range(steps):
        run.append(interpolate(z_book, run[-1], H_TILDE))
    run = np.array(run)
    data = {"z": z_book, "h_t": h_t.tolist(), "share_of_past": z_book, "share_of_candidate": 1 - z_book,
            "run_unit0": run[:, 0].tolist(), "half_life": half_life(z_book)}

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 1.4]})
    a.plot(*zip(H_TILDE, H_PREV), "-", color="#9ca3af", lw=2, zorder=1)
    a.scatter(*H_PREV, s=90, color="#fde68a", edgecolor="#374151", zorder=2, label="$H_{t-1}$ (Z = 1)")
    a.scatter(*H_TILDE, s=90, color="#fed7aa", edgecolor="#374151", zorder=2, label=r"$\tilde H_t$ (Z = 0)")
    a.scatter(*h_t, s=140, marker="*", color="#dc2626", zorder=3, label="$H_t$")
    a.set_xlim(-1, 1)
    a.set_ylim(-1, 1)
    a.set_aspect("equal")
    a.set_xlabel("hidden unit 1 (unitless)")
    a.set_ylabel("hidden unit 2 (unitless)")
    gate = f"Z' = {z:.2f} (makemore), Z = {z_book:.2f}" if makemore else f"Z = {z_book:.2f}"
    a.set_title(f"one step: {gate}", fontsize=10)
    a.legend(fontsize=8, loc="lower left")
    a.grid(alpha=0.3)

    b.plot(range(steps + 1), run[:, 0], "-o", ms=3, color="#dc2626", label="$H_t$, unit 1")
    b.axhline(H_TILDE[0], ls=":", color="#d97706", label=r"candidate $\tilde H$ (held)")
    b.axhline(H_PREV[0], ls=":", color="#6b7280", label="starting state $H_0$")
    hl = data["half_life"]
    b.set_title(f"Z held for {steps} steps: half-life of the past = "
                + ("∞ (H never changes)" if math.isinf(hl) else f"{hl:.1f} steps"), fontsize=10)
    b.set_xlabel("time step t (gate held fixed)")
    b.set_ylabel("value (unitless)")
    b.grid(alpha=0.3)
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def update_gate_explorer(z: float = 0.8, makemore: bool = False, steps: int = 30) -> Explorer:
    """A slider for the update gate and a switch for makemore's convention (callback: :func:`update_gate_render`)."""
    controls = {"z": W.FloatSlider(value=z, min=0.0, max=1.0, step=0.01, description="update gate",
                                   readout_format=".2f"),
                "makemore": W.Checkbox(value=makemore, description="slider is makemore's Z' = 1 − Z")}
    return Explorer(controls, lambda **v: update_gate_render(**v, steps=steps),
                    title="GRU update gate: how much of H_{t-1} to keep, how much of the candidate to take")
