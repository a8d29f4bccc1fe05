"""The from-scratch engine: every cell written as the chapter's equations, unrolled step by step."""
from .cells import GRUCell, LSTMCell, RNNCell
from .fused import FusedGRUCell, FusedLSTMCell, FusedRNNCell
from .layers import GRU, LSTM, RNN, Recurrent

__all__ = ["RNN", "LSTM", "GRU", "Recurrent", "RNNCell", "LSTMCell", "GRUCell",
           "FusedRNNCell", "FusedLSTMCell", "FusedGRUCell"]
