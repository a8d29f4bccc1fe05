"""Spectral radius explorer: how ρ(W_hh) and the sequence length shape ‖∂h_T/∂h_t‖ of a tanh RNN,
beside the linear network's ‖W_hh^k‖ and the bound σ_max(W_hh)^k that holds for every input."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from ..analysis import gradients as G
from .base import Explorer

REGIMES = {"small input (state near 0)": (1e-3, False), "ordinary input": (1.0, True)}


def jacobian_view(rho: float, T: int, regime: str = "ordinary input", hidden_size: int = 32, seed: int = 0):
    """Figure of ‖∂h_T/∂h_{T-k}‖ against k for a tanh RNN with spectral radius ``rho``, and the linear ρ-law.

    Returns ``(figure, data)`` with data = {"rho", "sigma_max", "T", "norms", "linear", "bound", "gamma", "tanh_slope"}.
    """
    if regime not in REGIMES:
        raise ValueError(f"jacobian_view: regime must be one of {list(REGIMES)}; got {regime!r}")
    if int(T) < 2:
        raise ValueError(f"jacobian_view: T must be at least 2; got {T}")
    scale, bias = REGIMES[regime]
    layer = G.rnn_at_radius(rho, hidden_size, 1, bias, seed)
    x = scale * torch.randn(4, int(T), 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    norms = G.state_jacobian_norms(layer, x).numpy()
    with torch.no_grad():
        h, _ = layer(x)
    W = G.recurrent_matrix(layer)
    linear = G.linear_jacobian_norms(W, int(T)).numpy()
    sigma = G.spectral_norm(W)
    k = np.arange(int(T) + 1)
    # ‖∂h_T/∂h_{T-k}‖ ≤ σ_max(W_hh)^k, since every tanh slope is at most 1
    bound = sigma ** k
    data = {"rho": float(rho), "sigma_max": sigma, "T": int(T), "norms": norms.tolist(), "linear": linear.tolist(),
            "bound": bound.tolist(), "gamma": G.decay_rate(norms), "tanh_slope": float((1 - h ** 2).mean())}

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.semilogy(k, norms, label=f"tanh RNN, measured (γ ≈ {data['gamma']:.3f} per step)")
    ax.semilogy(k, linear, "--", label=f"linear RNN: ‖W_hh^k‖ (ρ = {rho:.2f})")
    ax.semilogy(k, bound, ":", color="grey", label=f"bound σ_max^k (σ_max = {sigma:.2f})")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_title(f"Gradient reach of a vanilla RNN, ρ(W_hh) = {rho:.2f}, {regime}\n"
                 f"mean tanh'(a_t) along the sequence = {data['tanh_slope']:.2f}", fontsize=10)
    ax.set_xlabel("distance back in time k = T − t (steps)")
    ax.set_ylabel("‖∂h_T / ∂h_t‖₂ (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def spectral_explorer(rho: float = 0.9, T: int = 60) -> Explorer:
    """Sliders for ρ(W_hh) and T, and a choice of input regime; the curve redraws on every change."""
    controls = {
        "rho": W.FloatSlider(value=rho, min=0.3, max=2.0, step=0.05, description="ρ(W_hh)"),
        "T": W.IntSlider(value=T, min=5, max=200, step=5, description="length T"),
        "regime": W.Dropdown(options=list(REGIMES), value="ordinary input", description="input"),
    }
    return Explorer(controls, jacobian_view, title="Vanishing or exploding: drag ρ and T")
