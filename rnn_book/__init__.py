"""rnn_book: the package behind the chapters on RNN, LSTM and GRU (textbook section 6.2.1).

    from rnn_book import scratch, cudnn, copy_weights
    layer = scratch.LSTM(input_size, hidden_size)
    outputs, state = layer(x, state=None, lengths=None)
"""
from . import cudnn, scratch
from .checks import KINDS, check_kind
from .settings import cudnn_active, describe_device, device, is_quick, mode_name, pick, seed
from .weights import ENGINES, copy_weights, gradients_in_torch_layout, make_layer, twin

__all__ = ["scratch", "cudnn", "copy_weights", "twin", "gradients_in_torch_layout", "make_layer", "seed", "device",
           "describe_device", "cudnn_active", "is_quick", "pick", "mode_name", "ENGINES", "KINDS"]
__version__ = "0.1.0"
