"""Moving weights between the engines, so that both compute the same function; and the weight
settings the chapters change by hand (the LSTM's forget-gate bias)."""
from __future__ import annotations

import math

import torch

from . import cudnn, scratch
from .checks import check_kind

ENGINES = {"scratch": scratch, "cudnn": cudnn}
LAYERS = (scratch.Recurrent, cudnn.Recurrent)


def make_layer(kind: str, engine: str, input_size: int, hidden_size: int, **kwargs):
    """``make_layer("lstm", "cudnn", 8, 32, num_layers=2)``: one constructor for every kind and engine."""
    kind = check_kind(kind, "make_layer")
    if engine not in ENGINES:
        raise ValueError(f"make_layer: engine must be one of {sorted(ENGINES)}; got {engine!r}")
    return getattr(ENGINES[engine], kind.upper())(input_size, hidden_size, **kwargs)


def _describe(m) -> str:
    return f"{type(m).__module__.split('.')[-1]}.{type(m).__name__}"


def layer_of(obj, who: str, kind: str | None = None):
    """The recurrent layer of ``obj``: ``obj`` itself, or the ``.rnn`` of a model built around one.

    ``kind`` ("RNN", "LSTM", "GRU") also checks which cell the layer runs.
    """
    layer = obj if isinstance(obj, LAYERS) else getattr(obj, "rnn", None)
    if not isinstance(layer, LAYERS) or (kind is not None and layer.kind != kind):
        want = {None: "a recurrent layer", "RNN": "an RNN layer", "LSTM": "an LSTM layer", "GRU": "a GRU layer"}[kind]
        got = type(obj).__name__ + (f" with a {layer.kind} layer" if isinstance(layer, LAYERS) else "")
        raise TypeError(f"{who}: expected {want} of rnn_book.scratch or rnn_book.cudnn, or a model whose .rnn "
                        f"is one; got {got}")
    return layer


def copy_weights(src, dst):
    """Copy the parameters of ``src`` into ``dst`` (any two layers of the same kind and sizes).

    Works in either direction between :mod:`rnn_book.scratch` (textbook or fused) and
    :mod:`rnn_book.cudnn`, through torch.nn's layout. Returns ``dst``.
    """
    for name, m in (("src", src), ("dst", dst)):
        if not isinstance(m, LAYERS):
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


def twin(layer, engine: str = "scratch", *, fused: bool = False, dtype: torch.dtype | None = None):
    """A layer of ``engine`` that computes the same function as ``layer``: same kind, sizes and weights.

    ``engine``: "scratch" (the textbook cells, or the fused ones with ``fused=True``) or "cudnn".
    ``dtype``: the twin's dtype (default: ``layer``'s). The twin lives on ``layer``'s device. A
    scratch twin of a GRU is built in cuDNN's form (``reset_after=True``) unless ``layer`` is itself a
    scratch GRU, whose form it keeps.
    """
    layer = layer_of(layer, "twin")
    if engine not in ENGINES:
        raise ValueError(f"twin: engine must be one of {sorted(ENGINES)}; got {engine!r}")
    if fused and engine != "scratch":
        raise ValueError("twin: fused=True arranges the scratch engine's cells; the cudnn engine is fused already")
    kw = {"nonlinearity": layer.nonlinearity} if layer.kind == "RNN" else {}
    if layer.kind == "GRU":
        kw["reset_after"] = layer.reset_after
        if engine == "cudnn" and not layer.reset_after:
            raise ValueError("twin: a textbook GRU (reset_after=False) has no cuDNN twin: cuDNN computes only "
                             "the reset_after=True form")
    if engine == "scratch":
        kw["fused"] = fused
    ref = next(layer.parameters())
    new = getattr(ENGINES[engine], layer.kind)(layer.input_size, layer.hidden_size, layer.num_layers,
                                               layer.bidirectional, layer.dropout, **kw)
    return copy_weights(layer, new.to(device=ref.device, dtype=dtype or ref.dtype))


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


# -- the LSTM's forget-gate bias ---------------------------------------------------------------------
def forget_bias(obj, layer: int = 0, direction: int = 0) -> torch.Tensor:
    """The forget gate's effective bias b_f of one layer and direction (either engine)."""
    lstm = layer_of(obj, "forget_bias", "LSTM")
    H = lstm.hidden_size
    _, _, b_ih, b_hh = lstm.torch_layout(layer, direction)
    return (b_ih + b_hh)[H:2 * H].clone()        # torch's gate order i, f, g, o: f is the second block


@torch.no_grad()
def set_forget_bias(obj, value: float = 1.0):
    """Set the forget gate's bias b_f to ``value`` in every layer and direction; returns the layer.

    With b_f = 0 a fresh LSTM keeps σ(0) = 0.5 of its memory cell per step; b_f = 1 keeps σ(1) ≈ 0.73
    (Gers et al. 2000; Jozefowicz et al. 2015). Works on either engine and on a model whose ``.rnn``
    is an LSTM. The whole value goes into ``bias_ih`` and ``bias_hh`` gets zero, so their sum is ``value``.
    """
    lstm = layer_of(obj, "set_forget_bias", "LSTM")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"set_forget_bias: value must be a finite number; got {value!r}")
    H = lstm.hidden_size
    for l in range(lstm.num_layers):
        for d in range(lstm.directions):
            w_ih, w_hh, b_ih, b_hh = (t.clone() for t in lstm.torch_layout(l, d))
            b_ih[H:2 * H], b_hh[H:2 * H] = value, 0.0
            lstm.load_torch_layout(l, d, w_ih, w_hh, b_ih, b_hh)
    return lstm
