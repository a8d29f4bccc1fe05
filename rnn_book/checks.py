"""Input validation shared by both engines: every error names what was expected and what came.

The checks run before any matrix product, so a reader sees "expected x of shape (batch, time, 8)"
instead of a shape message from deep inside a matmul.
"""
from __future__ import annotations

from typing import Sequence

import torch

KINDS = ("rnn", "lstm", "gru")      # the book's three recurrent cells, in the order the source teaches them


def check_kind(kind, who: str, kinds: Sequence[str] = KINDS) -> str:
    """``kind`` in lower case if it names one of ``kinds`` ("rnn", "lstm", "gru"); a clear error otherwise."""
    if not isinstance(kind, str) or kind.lower() not in kinds:
        raise ValueError(f"{who}: kind must be one of {tuple(kinds)}; got {kind!r}")
    return kind.lower()


def _shape(t) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def check_input(x, input_size: int, param_dtype: torch.dtype, who: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: x must be a torch.Tensor of shape (batch, time, {input_size}); got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{who}: x must be a floating-point tensor (float32 or float64); got dtype {x.dtype}. "
                        "Token ids need an embedding first.")
    if x.dim() != 3:
        raise ValueError(f"{who}: x must be 3-D, batch-first (batch, time, {input_size}); got a {x.dim()}-D tensor "
                         f"of shape {_shape(x)}" + (". Add a batch dimension with x.unsqueeze(0)." if x.dim() == 2 else ""))
    if x.shape[2] != input_size:
        raise ValueError(f"{who}: expected x of shape (batch, time, {input_size}) (input_size={input_size}); "
                         f"got {_shape(x)} with {x.shape[2]} features")
    if x.shape[0] == 0:
        raise ValueError(f"{who}: empty batch: x has shape {_shape(x)}; expected at least one sequence")
    if x.shape[1] == 0:
        raise ValueError(f"{who}: x has no time steps: shape {_shape(x)}; expected time >= 1")
    if x.dtype != param_dtype:
        raise TypeError(f"{who}: x is {x.dtype} but the layer's parameters are {param_dtype}; "
                        f"convert one of them (layer.to({x.dtype}) or x.to({param_dtype}))")
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise ValueError(f"{who}: x contains NaN or inf (first at index {tuple(bad)}); expected finite values")


def check_lengths(lengths, batch: int, time: int, who: str) -> torch.Tensor | None:
    """Return lengths as a CPU int64 tensor, or None; raise on the wrong count or range."""
    if lengths is None:
        return None
    if isinstance(lengths, torch.Tensor):
        if lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise TypeError(f"{who}: lengths must be integers (one per sequence); got dtype {lengths.dtype}")
        lengths = lengths.detach().to("cpu", torch.int64).reshape(-1) if lengths.dim() <= 1 else lengths
        if lengths.dim() != 1:
            raise ValueError(f"{who}: lengths must be 1-D with one entry per sequence; got shape {_shape(lengths)}")
    elif isinstance(lengths, Sequence):
        if not all(isinstance(n, int) or (hasattr(n, "__index__") and not isinstance(n, bool)) for n in lengths):
            raise TypeError(f"{who}: lengths must be integers; got {list(lengths)!r}")
        lengths = torch.tensor([int(n) for n in lengths], dtype=torch.int64)
    else:
        raise TypeError(f"{who}: lengths must be a list or 1-D tensor of ints; got {type(lengths).__name__}")
    if lengths.numel() != batch:
        raise ValueError(f"{who}: expected {batch} lengths (one per sequence in the batch); got {lengths.numel()}")
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo < 1 or hi > time:
        raise ValueError(f"{who}: every length must lie in 1..{time} (the number of time steps in x); "
                         f"got values from {lo} to {hi}")
    return lengths


def check_state(state, kind: str, shape: tuple[int, int, int], dtype: torch.dtype, who: str) -> None:
    """RNN/GRU take a tensor h; LSTM takes a pair (h, c); each of ``shape`` = (layers*dirs, batch, hidden)."""
    if state is None:
        return
    want = "(" + ", ".join(map(str, shape)) + ")"
    if kind == "LSTM":
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            got = "a tensor" if isinstance(state, torch.Tensor) else f"{type(state).__name__}"
            raise TypeError(f"{who}: an LSTM state is a pair (h, c), each of shape {want}; got {got}")
        parts = {"h": state[0], "c": state[1]}
    else:
        if not isinstance(state, torch.Tensor):
            got = "a tuple (an LSTM's (h, c)?)" if isinstance(state, (tuple, list)) else type(state).__name__
            raise TypeError(f"{who}: a {kind} state is one tensor h of shape {want}; got {got}")
        parts = {"h": state}
    for name, t in parts.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{who}: state {name} must be a tensor of shape {want}; got {type(t).__name__}")
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{who}: state {name} must have shape {want} = (num_layers*directions, batch, hidden); "
                             f"got {_shape(t)}")
        if t.dtype != dtype:
            raise TypeError(f"{who}: state {name} is {t.dtype}; expected {dtype} like the layer's parameters")


def check_sizes(input_size, hidden_size, num_layers, dropout, who: str) -> None:
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{who}: {name} must be a positive int; got {v!r}")
    if not (0.0 <= float(dropout) < 1.0):
        raise ValueError(f"{who}: dropout must lie in [0, 1); got {dropout!r}")
