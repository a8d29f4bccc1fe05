"""Small models built around one recurrent layer from either engine, shared by the chapters."""
from __future__ import annotations

import torch
from torch import nn

from .weights import make_layer


class SequenceModel(nn.Module):
    """input (token ids or feature vectors) -> recurrent layer -> linear head.

    head="every_step": logits at every time step, (batch, time, output_size) -- language models, tagging.
    head="last":       logits from the final state, (batch, output_size) -- classification, regression.
    With ``vocab_size`` the input is token ids through an embedding of ``embed_size``; otherwise the
    input is float features of ``input_size``.
    """

    def __init__(self, kind: str, engine: str, hidden_size: int, output_size: int, *, input_size: int | None = None,
                 vocab_size: int | None = None, embed_size: int | None = None, head: str = "every_step",
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0, **layer_kwargs):
        super().__init__()
        if (input_size is None) == (vocab_size is None):
            raise ValueError("SequenceModel: give exactly one of input_size (float features) or vocab_size (token ids)")
        if head not in ("every_step", "last"):
            raise ValueError(f"SequenceModel: head must be 'every_step' or 'last'; got {head!r}")
        self.kind, self.engine, self.head_kind = kind.upper(), engine, head
        self.vocab_size = vocab_size
        if vocab_size is not None:
            embed_size = embed_size or hidden_size
            self.embed = nn.Embedding(vocab_size, embed_size)
            input_size = embed_size
        else:
            self.embed = None
        self.rnn = make_layer(kind, engine, input_size, hidden_size, num_layers=num_layers,
                              bidirectional=bidirectional, dropout=dropout, **layer_kwargs)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is None:
            return x
        if x.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"SequenceModel: expected token ids (int64) of shape (batch, time); got dtype {x.dtype}")
        if x.dim() != 2:
            raise ValueError(f"SequenceModel: expected token ids of shape (batch, time); got shape {tuple(x.shape)}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.vocab_size):
            raise ValueError(f"SequenceModel: token ids must lie in 0..{self.vocab_size - 1}; "
                             f"got values from {int(x.min())} to {int(x.max())}")
        return self.embed(x)

    def forward(self, x: torch.Tensor, state=None, lengths=None):
        out, state = self.rnn(self.features(x), state, lengths)
        if self.head_kind == "every_step":
            return self.head(self.drop(out)), state
        h = state[0] if isinstance(state, tuple) else state
        D = 2 if self.rnn.bidirectional else 1
        last = torch.cat([h[-D + d] for d in range(D)], dim=-1)   # top layer, every direction
        return self.head(self.drop(last)), state


def detach_state(state):
    """Cut the graph behind a carried state (truncated BPTT), for a tensor or an (h, c) pair."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(s.detach() for s in state)
    return state.detach()
