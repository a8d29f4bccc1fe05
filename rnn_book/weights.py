"""Moving weights between the engines, so that both compute the same function."""
from __future__ import annotations

import torch

from . import cudnn, scratch


def _describe(m) -> str:
    return f"{type(m).__module__.split('.')[-1]}.{type(m).__name__}"


def copy_weights(src, dst):
    """Copy the parameters of ``src`` into ``dst`` (any two layers of the same kind and sizes).

    Works in either direction between :mod:`rnn_book.scratch` (textbook or fused) and
    :mod:`rnn_book.cudnn`, through torch.nn's layout. Returns ``dst``.
    """
    layer_types = (scratch.Recurrent, cudnn.Recurrent)
    for name, m in (("src", src), ("dst", dst)):
        if not isinstance(m, layer_types):
            raise TypeError(f"copy_weights: {name} must be a layer from rnn_book.scratch or rnn_book.cudnn; "
                            f"got {type(m).__name__}")
    if src.kind != dst.kind:
        raise ValueError(f"copy_weights: both layers must be of the same kind; got {src.kind} -> {dst.kind}")
    for attr in ("input_size", "hidden_size", "num_layers", "bidirectional"):
        a, b = getattr(src, attr), getattr(dst, attr)
        if a != b:
            raise ValueError(f"copy_weights: {attr} differs: src has {a}, dst has {b}")
    if src.kind == "RNN" and src.nonlinearity != dst.nonlinearity:
        raise ValueError(f"copy_weights: nonlinearity differs: {src.nonlinearity} vs {dst.nonlinearity}")
    if src.kind == "GRU":
        if isinstance(src, scratch.Recurrent) and isinstance(dst, scratch.Recurrent) \
                and src.reset_after == dst.reset_after and src.fused == dst.fused:
            dst.load_state_dict(src.state_dict())
            return dst
        for m in (src, dst):
            if not m.reset_after:
                raise ValueError(f"copy_weights: {_describe(m)} has reset_after=False (the textbook GRU of "
                                 "Cho et al. 2014), which computes a different function from torch.nn.GRU/cuDNN; "
                                 "copying needs reset_after=True on the scratch side")
    with torch.no_grad():
        for l in range(src.num_layers):
            for d in range(src.directions):
                dst.load_torch_layout(l, d, *src.torch_layout(l, d))
    return dst


def gradients_in_torch_layout(layer) -> dict[str, torch.Tensor]:
    """Every parameter gradient of ``layer`` in torch.nn's names and layout, for comparing engines.

    For the scratch engine a single bias b stands for bias_ih + bias_hh, so its gradient is reported
    under both names, which is exactly what autograd gives the two torch.nn biases.
    """
    grads = {}
    for l in range(layer.num_layers):
        for d in range(layer.directions):
            sfx = f"_l{l}" + ("_reverse" if d == 1 else "")
            for n, g in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), layer.torch_layout(l, d, grad=True)):
                grads[n + sfx] = g
    return grads
