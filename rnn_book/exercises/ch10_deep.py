"""Checkers for chapter 10 (deep and bidirectional RNNs): parameters of a stack, reversing within lengths, where both directions fit."""
from __future__ import annotations

import torch

from .core import Wrong, call, exercise

USES = {
    "a": "a next-character language model that generates text",
    "b": "part-of-speech tagging of a finished sentence",
    "c": "sentiment classification of a whole review",
    "d": "the encoder of an English-to-Chinese translator",
    "e": "live captions that must print each word as soon as it is spoken",
}


@exercise
def ch10_stacked_bilstm_params(fn):
    """fn(input_size, hidden_size, num_layers, bidirectional) -> parameter count of torch.nn.LSTM."""
    for args in ((3, 5, 1, False), (3, 5, 2, False), (3, 5, 2, True), (7, 4, 3, True), (1, 1, 1, True)):
        want = sum(p.numel() for p in torch.nn.LSTM(*args[:2], num_layers=args[2], bidirectional=args[3]).parameters())
        got = call(fn, *args)
        if got != want:
            i, h, L, bi = args
            hint = ""
            if bi and L > 1:
                hint = " (above the first layer, each direction reads both directions' outputs: 2·hidden features)"
            raise Wrong(f"LSTM(input={i}, hidden={h}, layers={L}, bidirectional={bi}) has {want} parameters; "
                        f"you said {got}{hint}")


@exercise
def ch10_reverse_within_lengths(fn):
    """fn(x, lengths) -> each sequence reversed over its own first lengths[b] steps; padding stays put."""
    x = torch.arange(2 * 5 * 1, dtype=torch.float32).view(2, 5, 1)
    lengths = torch.tensor([5, 3])
    want = x.clone()
    for b, n in enumerate(lengths.tolist()):
        want[b, :n] = x[b, :n].flip(0)
    got = call(fn, x.clone(), lengths)
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        raise Wrong(f"return a tensor of the input's shape {tuple(x.shape)}")
    if torch.equal(got, x.flip(1)):
        raise Wrong("flipping the whole time axis moves the padding to the front of the short sequence: "
                    "a backward chain would start on padding")
    if not torch.equal(got, want):
        raise Wrong(f"for lengths {lengths.tolist()} expected {want[..., 0].tolist()}, got {got[..., 0].tolist()}")


@exercise
def ch10_where_bidirectional_fits(answer):
    """A set of letters from USES: where may a model read the whole sequence before answering?"""
    got = {str(a).strip().lower() for a in answer}
    if not got <= set(USES):
        raise Wrong(f"answer with letters from {sorted(USES)}")
    want = {"b", "c", "d"}
    for k in sorted(got - want):
        raise Wrong(f"({k}) {USES[k]}: the future is not available when each output is needed")
    for k in sorted(want - got):
        raise Wrong(f"({k}) {USES[k]}: here the whole input is there before any output is needed")
