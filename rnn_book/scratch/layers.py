"""Unrolling: one cell applied at every time step, stacked in layers and (optionally) both directions.

The interface is shared with :mod:`rnn_book.cudnn`::

    outputs, state = layer(x, state=None, lengths=None)

``x`` is batch-first ``(batch, time, input_size)``; ``outputs`` is ``(batch, time, directions*hidden)``;
``state`` is ``h`` of shape ``(num_layers*directions, batch, hidden)`` (a pair ``(h, c)`` for the LSTM).
With ``lengths`` the outputs past each sequence's end are zero and the state is the one at each
sequence's own last step; the backward direction starts at each sequence's own end.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn import functional as F

from .. import checks
from .cells import GRUCell, LSTMCell, RNNCell
from .fused import FusedGRUCell, FusedLSTMCell, FusedRNNCell


class Recurrent(nn.Module):
    """Base of :class:`RNN`, :class:`LSTM`, :class:`GRU`: the time loop, layers, directions, lengths."""

    kind = ""
    textbook_cell: type = RNNCell
    fused_cell: type = FusedRNNCell

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, *, fused: bool = False, recurrent_dropout: float = 0.0, **cell_kwargs):
        super().__init__()
        who = f"scratch.{self.kind}"
        checks.check_sizes(input_size, hidden_size, num_layers, dropout, who)
        if not 0.0 <= recurrent_dropout < 1.0:
            raise ValueError(f"{who}: recurrent_dropout must lie in [0, 1); got {recurrent_dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional, self.dropout, self.fused = bool(bidirectional), float(dropout), bool(fused)
        self.recurrent_dropout = float(recurrent_dropout)
        cell_type = self.fused_cell if fused else self.textbook_cell
        D = self.directions
        self.cells = nn.ModuleList(
            cell_type(input_size if l == 0 else hidden_size * D, hidden_size, **cell_kwargs)
            for l in range(num_layers) for _ in range(D))

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def cell(self, layer: int = 0, direction: int = 0):
        """The cell of one layer and direction (0 forward, 1 backward)."""
        return self.cells[layer * self.directions + direction]

    @property
    def who(self) -> str:
        return f"scratch.{self.kind}"

    def extra_repr(self) -> str:
        extra = [f"{self.input_size}, {self.hidden_size}", f"num_layers={self.num_layers}"]
        if self.bidirectional:
            extra.append("bidirectional=True")
        if self.dropout:
            extra.append(f"dropout={self.dropout}")
        if self.fused:
            extra.append("fused=True")
        if self.recurrent_dropout:
            extra.append(f"recurrent_dropout={self.recurrent_dropout}")
        return ", ".join(extra)

    # -- the interface shared with the cuDNN engine ------------------------------------------------
    def forward(self, x: torch.Tensor, state=None, lengths=None):
        dtype = next(self.parameters()).dtype
        checks.check_input(x, self.input_size, dtype, self.who)
        B, T = x.shape[0], x.shape[1]
        lengths = checks.check_lengths(lengths, B, T, self.who)
        LD = self.num_layers * self.directions
        checks.check_state(state, self.kind, (LD, B, self.hidden_size), dtype, self.who)

        active = None
        if lengths is not None:
            # active[b, t] is True while step t is inside sequence b
            active = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).to(x.device).unsqueeze(-1)
        finals = []
        layer_input = x
        for l in range(self.num_layers):
            outs = []
            for d in range(self.directions):
                cell = self.cell(l, d)
                k = l * self.directions + d
                s0 = self._initial(state, k, cell, B, x)
                y, s = self._unroll(cell, layer_input, s0, active, reverse=(d == 1))
                outs.append(y)
                finals.append(s)
            layer_input = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
            if self.dropout and self.training and l < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        if self.kind == "LSTM":
            out_state = (torch.stack([s[0] for s in finals]), torch.stack([s[1] for s in finals]))
        else:
            out_state = torch.stack(finals)
        return layer_input, out_state

    def _initial(self, state, k, cell, B, x):
        if state is None:
            return cell.init_state(B, x)
        if self.kind == "LSTM":
            return (state[0][k], state[1][k])
        return state[k]

    def _unroll(self, cell, x, s, active, reverse: bool):
        T = x.shape[1]
        xp = cell.project(x)
        mask = None
        if self.recurrent_dropout and self.training:
            # variational dropout: one mask per sequence, reused at every step (Gal & Ghahramani 2016)
            keep = 1.0 - self.recurrent_dropout
            mask = torch.bernoulli(x.new_full((x.shape[0], self.hidden_size), keep)) / keep
        outputs = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            s_in = s if mask is None else _scale_h(s, mask)
            s_new = cell(xp[:, t], s_in)
            h_new = s_new[0] if isinstance(s_new, tuple) else s_new
            if active is None:
                s = s_new
                outputs[t] = h_new
            else:
                m = active[:, t]                                # (batch, 1): still inside the sequence?
                s = _where(m, s_new, s)                         # past the end: keep the last real state
                outputs[t] = h_new * m.to(h_new.dtype)          # past the end: output zero
        return torch.stack(outputs, dim=1), s

    # -- weights in torch.nn's layout (used by copy_weights and the parity tests) ------------------
    def torch_layout(self, layer: int = 0, direction: int = 0, grad: bool = False):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer/direction as torch.nn stores them."""
        return self.cell(layer, direction).to_torch_layout(grad=grad)

    def load_torch_layout(self, layer: int, direction: int, w_ih, w_hh, b_ih, b_hh) -> None:
        self.cell(layer, direction).load_torch_layout(w_ih, w_hh, b_ih, b_hh)

    # -- looking inside ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def tracing(self, layer: int = 0, direction: int = 0):
        """Record the gate values of one cell during the forward passes inside the ``with`` block.

        Yields a dict that, on exit, maps each recorded name (RNN: h; LSTM: i, f, o, c_tilde,
        c, h; GRU: r, z, h_tilde, h) to a tensor of shape (batch, time, hidden) in time order.
        """
        cell = self.cell(layer, direction)
        cell.trace = []
        result: dict[str, torch.Tensor] = {}
        try:
            yield result
        finally:
            steps, cell.trace = cell.trace, None
            if direction == 1:
                steps = steps[::-1]
            if steps:
                for name in steps[0]:
                    result[name] = torch.stack([s[name] for s in steps], dim=1)


def _where(m, new, old):
    if isinstance(new, tuple):
        return tuple(torch.where(m, a, b) for a, b in zip(new, old))
    return torch.where(m, new, old)


def _scale_h(s, mask):
    if isinstance(s, tuple):  # LSTM: drop only the hidden state fed back, not the memory cell
        return (s[0] * mask, s[1])
    return s * mask


class RNN(Recurrent):
    """Vanilla RNN from scratch: ``RNN(input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0)``."""

    kind = "RNN"
    textbook_cell, fused_cell = RNNCell, FusedRNNCell

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, *,
                 nonlinearity: str = "tanh", fused: bool = False, recurrent_dropout: float = 0.0):
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout, fused=fused,
                         recurrent_dropout=recurrent_dropout, nonlinearity=nonlinearity)
        self.nonlinearity = nonlinearity


class LSTM(Recurrent):
    """LSTM from scratch; the state is the pair ``(h, c)``."""

    kind = "LSTM"
    textbook_cell, fused_cell = LSTMCell, FusedLSTMCell

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, *,
                 fused: bool = False, recurrent_dropout: float = 0.0):
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout, fused=fused,
                         recurrent_dropout=recurrent_dropout)


class GRU(Recurrent):
    """GRU from scratch. ``reset_after=False``: textbook (Cho et al. 2014); ``True``: cuDNN's form."""

    kind = "GRU"
    textbook_cell, fused_cell = GRUCell, FusedGRUCell

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, *,
                 reset_after: bool = False, fused: bool = False, recurrent_dropout: float = 0.0):
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout, fused=fused,
                         recurrent_dropout=recurrent_dropout, reset_after=reset_after)
        self.reset_after = reset_after

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"
