"""rnn_book: the package behind the chapters on RNN, LSTM and GRU (textbook section 6.2.1).

    from rnn_book import scratch, cudnn, copy_weights
    layer = scratch.LSTM(input_size, hidden_size)
    outputs, state = layer(x, state=None, lengths=None)
"""
from . import cudnn, scratch
from .settings import cudnn_active, describe_device, device, is_quick, mode_name, pick, seed
from .weights import copy_weights, gradients_in_torch_layout

ENGINES = {"scratch": scratch, "cudnn": cudnn}


def make_layer(kind: str, engine: str, input_size: int, hidden_size: int, **kwargs):
    """``make_layer("lstm", "cudnn", 8, 32, num_layers=2)``: one constructor for every kind and engine."""
    kinds = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
    if kind.lower() not in kinds:
        raise ValueError(f"make_layer: kind must be one of {sorted(kinds)}; got {kind!r}")
    if engine not in ENGINES:
        raise ValueError(f"make_layer: engine must be one of {sorted(ENGINES)}; got {engine!r}")
    return getattr(ENGINES[engine], kinds[kind.lower()])(input_size, hidden_size, **kwargs)


__all__ = ["scratch", "cudnn", "copy_weights", "gradients_in_torch_layout", "make_layer", "seed", "device",
           "describe_device", "cudnn_active", "is_quick", "pick", "mode_name", "ENGINES"]
__version__ = "0.1.0"
