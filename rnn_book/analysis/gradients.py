"""How far back a gradient reaches: Jacobian norms over time distance, singular values and eigenvalues.

Back-propagation through time multiplies one Jacobian per step,

    ∂h_T/∂s_t = ∂h_T/∂s_{T-1} · ∂s_{T-1}/∂s_{T-2} · ... · ∂s_{t+1}/∂s_t,

so the norm of the product against the distance k = T - t says how much a loss at step T can
still teach the model about step t. ``state_jacobian_norms`` measures exactly that for a layer of
the scratch engine (its time loop is ours, so every intermediate state is a node we can ask about);
``input_sensitivity`` measures ‖∂o_t/∂x_s‖, the reach of the inputs, for any layer of either engine.

For the vanilla RNN one factor is diag(φ'(a_s)) W_hhᵀ, so ‖∂h_T/∂h_t‖ ≤ σ_max(W_hh)^k whenever
|φ'| ≤ 1 (Pascanu, Mikolov & Bengio 2013): the largest singular value bounds the norm. The spectral
radius ρ(W_hh) governs only the linear network, whose product is the power (W_hhᵀ)^k.

The state s_t is h_t for the RNN and the GRU and the pair (h_t, c_t) for the LSTM.
"""
from __future__ import annotations

import copy
import math

import torch

from .. import checks, scratch
from ..weights import LAYERS, layer_of, twin


# -- the spectral radius of W_hh -------------------------------------------------------------------
def spectral_radius(W: torch.Tensor) -> float:
    """ρ(W) = max |λ_i(W)|, the largest eigenvalue modulus of a square matrix."""
    if not isinstance(W, torch.Tensor) or W.dim() != 2 or W.shape[0] != W.shape[1]:
        shape = tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__
        raise ValueError(f"spectral_radius: expected a square matrix (n, n); got {shape}")
    return float(torch.linalg.eigvals(W.detach().double()).abs().max())


def spectral_norm(W: torch.Tensor) -> float:
    """σ_max(W) = ‖W‖₂, the largest singular value: the most W can stretch any vector."""
    spectral_radius(W)                           # validates the shape
    return float(torch.linalg.matrix_norm(W.detach().double(), ord=2))


def with_spectral_radius(W: torch.Tensor, rho: float) -> torch.Tensor:
    """``W`` rescaled so that its spectral radius is ``rho`` (eigenvectors unchanged, all |λ| scaled alike)."""
    if not rho >= 0:
        raise ValueError(f"with_spectral_radius: rho must be a number >= 0; got {rho!r}")
    return W * (rho / spectral_radius(W))


def recurrent_matrix(layer) -> torch.Tensor:
    """W_hh of a one-layer vanilla RNN from either engine, in the book's row-vector layout (h @ W_hh)."""
    _check_rnn(layer, "recurrent_matrix")
    return layer.torch_layout(0, 0)[1].T


@torch.no_grad()
def set_spectral_radius(layer, rho: float):
    """Rescale W_hh of a one-layer vanilla RNN (either engine) in place to spectral radius ``rho``."""
    _check_rnn(layer, "set_spectral_radius")
    W = with_spectral_radius(recurrent_matrix(layer), rho)
    w_ih, _, b_ih, b_hh = layer.torch_layout(0, 0)
    layer.load_torch_layout(0, 0, w_ih, W.T.contiguous(), b_ih, b_hh)
    return layer


INIT_SCHEMES = ("orthogonal", "identity")


@torch.no_grad()
def init_recurrent(layer, scheme: str, seed: int = 0):
    """Re-initialise W_hh of a one-layer vanilla RNN (either engine) in place; returns the layer.

    "orthogonal": W_hh a random orthogonal matrix, so every singular value is 1 (Saxe et al. 2014);
    "identity": W_hh = I and both biases 0, the IRNN's start with ReLU units (Le, Jaitly & Hinton 2015).
    The input weights keep their initialisation.
    """
    _check_rnn(layer, "init_recurrent")
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"init_recurrent: scheme must be one of {INIT_SCHEMES}; got {scheme!r}")
    w_ih, w_hh, b_ih, b_hh = (t.clone() for t in layer.torch_layout(0, 0))
    if scheme == "orthogonal":
        g = torch.Generator().manual_seed(seed)
        w_hh = torch.nn.init.orthogonal_(torch.empty_like(w_hh), generator=g)
    else:
        w_hh = torch.eye(layer.hidden_size, dtype=w_hh.dtype, device=w_hh.device)
        b_ih, b_hh = torch.zeros_like(b_ih), torch.zeros_like(b_hh)
    layer.load_torch_layout(0, 0, w_ih, w_hh, b_ih, b_hh)
    return layer


def _check_rnn(layer, who):
    if not isinstance(layer, LAYERS) or layer.kind != "RNN":
        raise TypeError(f"{who}: expected a vanilla RNN layer (scratch.RNN or cudnn.RNN); got {type(layer).__name__}")


# -- Jacobian norms against distance ---------------------------------------------------------------
def state_jacobian_norms(layer, x: torch.Tensor, state=None) -> torch.Tensor:
    """‖∂h_T/∂s_{T-k}‖₂ for k = 0..T: the Jacobian's spectral norm, geometric mean over the batch.

    layer: a one-layer, one-direction recurrent layer (a cuDNN layer is first copied into the scratch
    engine, which computes the same function). x: (batch, time T, input_size). state: the initial
    state s_0, (batch, hidden) or for the LSTM a pair of them (None: zeros).
    Returns a 1-D tensor of length T + 1 indexed by the distance k (k = T is the initial state s_0).
    """
    layer = _one_layer(layer if isinstance(layer, scratch.Recurrent) else twin(layer_of(layer, "state_jacobian_norms")),
                       "state_jacobian_norms")
    ref = next(layer.parameters())
    checks.check_input(x, layer.input_size, ref.dtype, "state_jacobian_norms")
    x = x.to(ref.device)                         # the layer may live on the GPU after training
    if state is not None:
        state = tuple(v.to(ref.device) for v in state) if isinstance(state, (tuple, list)) else state.to(ref.device)
    cell, H = layer.cell(0, 0), layer.hidden_size
    B, T = x.shape[0], x.shape[1]
    xp = cell.project(x)
    s = cell.init_state(B, x) if state is None else _initial_state(state, cell.init_state(B, x))
    s = tuple(v.requires_grad_() for v in s) if isinstance(s, tuple) else s.requires_grad_()   # s_0 too
    entries = []                  # the state s_{t-1} as it enters step t, one connected graph
    for t in range(T):
        # a copy per entry, so that for the LSTM h and c count as separate inputs of the rest of the
        # sequence (without it, the gradient for c_t would also include the path c_t -> h_t)
        s = tuple(v.clone() for v in s) if isinstance(s, tuple) else s.clone()
        entries.append(s)
        s = cell(xp[:, t], s)
    h_T = s[0] if isinstance(s, tuple) else s
    inputs = [v for st in entries for v in (st if isinstance(st, tuple) else (st,))]
    # row i of every Jacobian ∂h_T/∂s_t at once: H backward passes, batched by vmap (is_grads_batched)
    rows = torch.eye(H, dtype=h_T.dtype, device=h_T.device).unsqueeze(1).expand(H, B, H)
    grads = torch.autograd.grad(h_T, inputs, grad_outputs=rows, is_grads_batched=True)
    n = len(inputs) // T                         # 2 for the LSTM's (h, c), else 1
    tiny = torch.finfo(h_T.dtype).tiny
    norms = [torch.ones((), dtype=h_T.dtype, device=h_T.device)]    # k = 0: ∂h_T/∂h_T = I (and ∂h_T/∂c_T = 0 holding h_T)
    for t in range(T - 1, -1, -1):               # s_{t} enters step t + 1; distance k = T - t
        J = torch.cat(grads[t * n:(t + 1) * n], dim=-1).transpose(0, 1)   # (batch, H, state size)
        sigma = torch.linalg.matrix_norm(J, ord=2)                         # largest singular value
        norms.append(sigma.clamp_min(tiny).log().mean().exp())
    return torch.stack(norms).detach().cpu()


def _initial_state(state, like):
    """A detached copy of a given initial state, checked against the shape(s) of ``like``."""
    pair = isinstance(like, tuple)
    parts = state if isinstance(state, (tuple, list)) else (state,)
    want = like if pair else (like,)
    if len(parts) != len(want) or any(not isinstance(p, torch.Tensor) or p.shape != w.shape
                                      for p, w in zip(parts, want)):
        got = [tuple(p.shape) if isinstance(p, torch.Tensor) else type(p).__name__ for p in parts]
        raise ValueError(f"state_jacobian_norms: state must be {'a pair of ' if pair else ''}tensor(s) of shape "
                         f"{tuple(want[0].shape)}; got {got}")
    copies = tuple(p.detach().to(w.dtype).clone() for p, w in zip(parts, want))
    return copies if pair else copies[0]


def input_sensitivity(layer, x: torch.Tensor, t: int = -1, *, norm: str | int = "fro",
                      batch_mean: str = "arithmetic", dtype: torch.dtype | None = torch.float64) -> torch.Tensor:
    """‖∂o_t/∂x_s‖ for every input step s: how strongly the output at step ``t`` depends on each input.

    ``layer``: any layer of either engine (or a model whose ``.rnn`` is one); ``o_t`` is its output at
    step ``t`` (default the last: h_T for a one-direction layer). x: (batch, time, input_size).
    Returns a tensor of length ``time`` indexed by s; an entry is exactly 0 where no path leads from
    x_s to o_t. ``norm``: "fro" (Frobenius) or 2 (largest singular value) of each Jacobian;
    ``batch_mean``: "arithmetic" or "geometric" mean over the batch. The layer is copied to ``dtype``
    (float64 by default: the values span many orders of magnitude, and float32 underflows to 0).
    """
    layer = layer_of(layer, "input_sensitivity")
    if norm not in ("fro", 2):
        raise ValueError(f"input_sensitivity: norm must be 'fro' or 2; got {norm!r}")
    if batch_mean not in ("arithmetic", "geometric"):
        raise ValueError(f"input_sensitivity: batch_mean must be 'arithmetic' or 'geometric'; got {batch_mean!r}")
    if dtype is not None:
        layer = copy.deepcopy(layer).to(dtype)
    ref = next(layer.parameters())
    checks.check_input(x, layer.input_size, x.dtype, "input_sensitivity")    # shape, rank, NaN
    T = x.shape[1]
    if not -T <= t < T:
        raise ValueError(f"input_sensitivity: t must lie in {-T}..{T - 1} for {T} steps; got {t}")
    xs = x.detach().to(device=ref.device, dtype=ref.dtype).requires_grad_()
    out, _ = layer(xs)
    o_t = out[:, t]                                             # (batch, outputs)
    B, O = o_t.shape
    rows = torch.eye(O, dtype=o_t.dtype, device=o_t.device).unsqueeze(1).expand(O, B, O)
    try:    # every row of the Jacobian in one batched backward pass
        (g,) = torch.autograd.grad(o_t, xs, grad_outputs=rows, is_grads_batched=True)
    except RuntimeError:    # a backward kernel without a batching rule: one pass per output unit
        g = torch.stack([torch.autograd.grad(o_t, xs, grad_outputs=r, retain_graph=True)[0] for r in rows])
    J = g.permute(1, 2, 0, 3)                                   # (batch, time, outputs, inputs)
    n = torch.linalg.matrix_norm(J, ord=norm)                   # (batch, time)
    if batch_mean == "arithmetic":
        return n.mean(0).detach()
    return n.clamp_min(torch.finfo(n.dtype).tiny).log().mean(0).exp().detach()


def linear_jacobian_norms(W: torch.Tensor, T: int) -> torch.Tensor:
    """‖W^k‖₂ for k = 0..T: the exact Jacobian norms ‖∂h_T/∂h_{T-k}‖ of the linear recurrence h_t = h_{t-1} W + x_t U."""
    spectral_radius(W)                           # validates the shape
    P = torch.eye(W.shape[0], dtype=torch.float64)
    out = []
    for _ in range(T + 1):
        out.append(torch.linalg.matrix_norm(P, ord=2))
        P = P @ W.detach().double()
    return torch.stack(out)


def decay_rate(norms, start: int = 1, stop: int | None = None) -> float:
    """Per-step factor γ of a geometric fit norms[k] ≈ C·γ^k over k in [start, stop).

    γ < 1: the gradient vanishes (by a factor γ per step back in time); γ > 1: it explodes.
    """
    y = torch.as_tensor(norms, dtype=torch.float64).flatten()
    k = torch.arange(len(y), dtype=torch.float64)[start:stop]
    y = y[start:stop]
    keep = torch.isfinite(y) & (y > 0)
    if int(keep.sum()) < 2:
        raise ValueError(f"decay_rate: need at least two positive, finite norms in [start, stop); got {int(keep.sum())}")
    k, logy = k[keep], y[keep].log()
    slope = ((k - k.mean()) * (logy - logy.mean())).sum() / ((k - k.mean()) ** 2).sum()
    return float(math.exp(slope))


def _one_layer(layer, who):
    if layer.num_layers != 1 or layer.bidirectional:
        raise ValueError(f"{who}: expected a one-layer, one-direction layer; "
                         f"got num_layers={layer.num_layers}, bidirectional={layer.bidirectional}")
    return layer


# -- torch's default initialisation, and what the tanh factors do to norms and eigenvalues -------------
# torch.nn draws every entry of W_hh from U(-a, a), a = 1/√H: variance a²/3 = 1/(3H). For an H x H
# matrix of independent entries of variance v, the eigenvalues fill the disc of radius √(H v) (the
# circular law, Tao & Vu 2010) and the largest singular value tends to 2 √(H v) (Yin, Bai & Krishnaiah
# 1988); here √(H v) = 1/√3.
# ρ(W_hh) → √(H v) = 1/√3
CIRCULAR_LAW_RHO = 1 / math.sqrt(3)
# σ_max(W_hh) → 2 √(H v) = 2/√3
EDGE_SIGMA_MAX = 2 / math.sqrt(3)


def default_init_spectrum(sizes, seeds=range(10)) -> list[dict[str, float]]:
    """ρ(W_hh) and σ_max(W_hh) of ``torch.nn.RNN``'s own default initialisation, for each hidden size.

    Each row: H, the mean, min and max of ρ and of σ_max over the seeds, and the large-H predictions.
    """
    seeds = list(seeds)
    if not seeds or any(not isinstance(h, int) or h < 1 for h in sizes):
        raise ValueError(f"default_init_spectrum: expected positive integer sizes and at least one seed; "
                         f"got sizes={list(sizes)}, seeds={seeds}")
    rows = []
    for H in sizes:
        rho, sigma = [], []
        for seed in seeds:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                W = torch.nn.RNN(1, H).weight_hh_l0.detach()
            rho.append(spectral_radius(W))
            sigma.append(spectral_norm(W))
        rows.append({"H": H, "rho_mean": sum(rho) / len(rho), "rho_min": min(rho), "rho_max": max(rho),
                     "sigma_mean": sum(sigma) / len(sigma), "sigma_min": min(sigma), "sigma_max": max(sigma),
                     "rho_theory": CIRCULAR_LAW_RHO, "sigma_theory": EDGE_SIGMA_MAX})
    return rows


def slope_effects(W: torch.Tensor, n: int = 1000, seed: int = 0) -> dict[str, torch.Tensor]:
    """What n random tanh-slope patterns D = diag(d), d ∈ [0, 1]^H, do to one Jacobian factor D Wᵀ.

    Returns {"norm": ‖D Wᵀ‖₂, "rho": ρ(D Wᵀ)}, one entry per pattern, to set beside σ_max(W) and ρ(W).
    Submultiplicativity gives ‖D Wᵀ‖₂ ≤ ‖D‖₂ σ_max(W) ≤ σ_max(W); no such bound holds for ρ.
    """
    spectral_radius(W)                           # validates the shape
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"slope_effects: n must be a positive integer; got {n!r}")
    g = torch.Generator().manual_seed(seed)
    d = torch.rand(n, W.shape[0], generator=g, dtype=torch.float64)
    J = d.unsqueeze(-1) * W.detach().double().T                      # D Wᵀ: row i scaled by d_i
    return {"norm": torch.linalg.matrix_norm(J, ord=2), "rho": torch.linalg.eigvals(J).abs().max(-1).values}


# -- the vanilla RNN with a chosen recurrent matrix --------------------------------------------------
def rnn_from_matrix(W_hh: torch.Tensor, b_h=None, input_size: int = 1, seed: int = 0):
    """A float64 scratch tanh RNN whose W_hh (row layout, h @ W_hh) is ``W_hh`` and, if given, whose b_h is ``b_h``.

    The input weights (and b_h when not given) keep torch.nn's default initialisation, drawn from ``seed``.
    """
    spectral_radius(W_hh)                        # validates the shape
    H = W_hh.shape[0]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layer = scratch.RNN(input_size, H).double()
    cell = layer.cell(0, 0)
    with torch.no_grad():
        cell.W_hh.copy_(W_hh.detach().double())
        if b_h is not None:
            b = torch.as_tensor(b_h, dtype=torch.float64)
            if b.shape != (H,):
                raise ValueError(f"rnn_from_matrix: b_h must have shape ({H},); got {tuple(b.shape)}")
            cell.b_h.copy_(b)
    return layer


def rnn_at_radius(rho: float, hidden_size: int = 32, input_size: int = 1, bias: bool = True, seed: int = 0):
    """A float64 scratch tanh RNN with default-initialised weights, W_hh rescaled to spectral radius ``rho``.

    ``bias=False`` zeroes b_h, so that a zero input keeps the state at the fixed point h = 0.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layer = scratch.RNN(input_size, hidden_size).double()
    set_spectral_radius(layer, rho)
    if not bias:
        with torch.no_grad():
            layer.cell(0, 0).b_h.zero_()
    return layer


def radius_sweep(rhos, T: int = 40, input_scale: float = 1.0, hidden_size: int = 32, batch_size: int = 8,
                 bias: bool = True, seed: int = 0) -> list[dict[str, float]]:
    """For each ρ: the measured per-step factor γ of ‖∂h_T/∂h_t‖ of a tanh RNN, the linear prediction,
    the mean slope tanh'(a_t) = 1 - h_t² along the trajectory (1: linear regime; near 0: saturated),
    σ_max(W_hh), and ``bound_ratio`` = max_k ‖∂h_T/∂h_{T-k}‖ / σ_max^k (at most 1: the bound holds)."""
    gen = torch.Generator().manual_seed(seed)
    x = input_scale * torch.randn(batch_size, T, 1, generator=gen, dtype=torch.float64)
    rows = []
    for rho in rhos:
        layer = rnn_at_radius(rho, hidden_size, 1, bias, seed)
        with torch.no_grad():
            out, _ = layer(x)
        norms = state_jacobian_norms(layer, x)
        W = recurrent_matrix(layer)
        sigma = spectral_norm(W)
        # ‖∂h_T/∂h_{T-k}‖ ≤ ∏ ‖diag(tanh')‖ · σ_max^k ≤ σ_max^k
        bound = sigma ** torch.arange(T + 1, dtype=torch.float64)
        rows.append({"rho": float(rho), "sigma_max": sigma, "gamma": decay_rate(norms),
                     "gamma_linear": decay_rate(linear_jacobian_norms(W, T)),
                     "tanh_slope": float((1 - out ** 2).mean()), "bound_ratio": float((norms / bound).max())})
    return rows


def output_input_gradients(model, x: torch.Tensor) -> torch.Tensor:
    """∂ŷ/∂x_t for a model with one output per sequence (``head="last"``, output size 1): shape like x.

    For the adding problem the ideal answer is 1 on the value channel at the two marked steps and
    0 everywhere else: the output should depend on those two numbers only.
    """
    xs = x.detach().to(next(model.parameters()).device).clone().requires_grad_()
    y = model(xs)[0]
    if y.dim() != 2 or y.shape[1] != 1:
        raise ValueError(f"output_input_gradients: expected a model with one output per sequence, shape (batch, 1); "
                         f"got output shape {tuple(y.shape)}")
    (g,) = torch.autograd.grad(y.sum(), xs)     # sequences are independent, so the sum separates them
    return g.detach().cpu()


def marked_sensitivity(model, x: torch.Tensor) -> dict[str, float]:
    """Mean |∂ŷ/∂v_t| of an adding-problem model over the marked steps and over the others.

    x: adding-problem inputs (batch, T, 2), channel 0 the numbers v_t, channel 1 the markers.
    A model that adds exactly the two marked numbers has 1 and 0.
    """
    dv = output_input_gradients(model, x)[..., 0].abs()
    marked = x[..., 1] > 0
    return {"marked": float(dv[marked].mean()), "unmarked": float(dv[~marked].mean())}
