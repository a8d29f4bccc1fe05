"""The library engine: the same interface as :mod:`rnn_book.scratch`, over ``torch.nn.RNN/LSTM/GRU``.

On a CUDA device these run cuDNN's fused kernels; on a CPU, PyTorch's native kernels. Variable
lengths are handled by packing, so the outputs past a sequence's end are zero and the final state is
taken at each sequence's own last step, exactly as the scratch engine does.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import checks


class Recurrent(nn.Module):
    kind = ""
    torch_class: type = nn.RNN

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, *, recurrent_dropout: float = 0.0, **kwargs):
        super().__init__()
        checks.check_sizes(input_size, hidden_size, num_layers, dropout, self.who)
        if recurrent_dropout:
            raise ValueError(f"{self.who}: recurrent_dropout (one dropout mask per sequence on the hidden state) "
                             "cannot be done by cuDNN's fused kernels, which never expose h_t between steps; "
                             "use scratch." + self.kind + "(..., recurrent_dropout=p)")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional, self.dropout = bool(bidirectional), float(dropout)
        self.rnn = self.torch_class(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                                    bidirectional=bidirectional, dropout=dropout, **kwargs)

    @property
    def who(self) -> str:
        return f"cudnn.{self.kind}"

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def forward(self, x: torch.Tensor, state=None, lengths=None):
        dtype = self.rnn.weight_hh_l0.dtype
        checks.check_input(x, self.input_size, dtype, self.who)
        B, T = x.shape[0], x.shape[1]
        lengths = checks.check_lengths(lengths, B, T, self.who)
        checks.check_state(state, self.kind, (self.num_layers * self.directions, B, self.hidden_size), dtype,
                           self.who)
        if isinstance(state, list):
            state = tuple(state)
        if lengths is None:
            return self.rnn(x, state)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        return out, state

    def _names(self, layer: int, direction: int):
        sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        return [f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}"]

    def torch_layout(self, layer: int = 0, direction: int = 0, grad: bool = False):
        ps = [getattr(self.rnn, n) for n in self._names(layer, direction)]
        if grad:
            return tuple(p.grad if p.grad is not None else torch.zeros_like(p) for p in ps)
        return tuple(p.detach() for p in ps)

    @torch.no_grad()
    def load_torch_layout(self, layer: int, direction: int, w_ih, w_hh, b_ih, b_hh) -> None:
        for n, v in zip(self._names(layer, direction), (w_ih, w_hh, b_ih, b_hh)):
            getattr(self.rnn, n).copy_(v)


class RNN(Recurrent):
    """``torch.nn.RNN`` behind the book's interface."""

    kind, torch_class = "RNN", nn.RNN

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, *,
                 nonlinearity: str = "tanh", recurrent_dropout: float = 0.0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout,
                         recurrent_dropout=recurrent_dropout, nonlinearity=nonlinearity)
        self.nonlinearity = nonlinearity


class LSTM(Recurrent):
    """``torch.nn.LSTM`` behind the book's interface; the state is ``(h, c)``."""

    kind, torch_class = "LSTM", nn.LSTM


class GRU(Recurrent):
    """``torch.nn.GRU`` behind the book's interface. Always the cuDNN form (reset gate after the product)."""

    kind, torch_class = "GRU", nn.GRU

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, *,
                 reset_after: bool = True, recurrent_dropout: float = 0.0):
        if not reset_after:
            raise ValueError("cudnn.GRU: cuDNN and torch.nn.GRU implement only reset_after=True (the reset gate "
                             "multiplies H_{t-1} W_hh + b_hh); the textbook form is scratch.GRU(..., reset_after=False)")
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout,
                         recurrent_dropout=recurrent_dropout)
        self.reset_after = True


__all__ = ["RNN", "LSTM", "GRU", "Recurrent"]
