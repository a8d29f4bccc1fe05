"""The hidden states a trained character model runs through while it reads a text (chapter 1, claim C1)."""
from __future__ import annotations

import numpy as np
import torch

from ..settings import device_of


@torch.no_grad()
def hidden_states(model, vocab, text: str) -> np.ndarray:
    """h_1..h_T of the model's (top) recurrent layer over ``text``: an array of shape (T, hidden)."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"hidden_states: expected a non-empty str; got {text!r}")
    for attr in ("rnn", "features"):
        if not hasattr(model, attr):
            raise TypeError(f"hidden_states: expected a rnn_book.models.SequenceModel (with .features and .rnn); "
                            f"got {type(model).__name__}")
    was_training = model.training
    model.eval()
    dev = device_of(model)
    ids = vocab.encode(text).unsqueeze(0).to(dev)
    out, _ = model.rnn(model.features(ids))
    model.train(was_training)
    return out[0].float().cpu().numpy()


def state_gap(model, vocab, a: str, b: str) -> np.ndarray:
    """‖h_t(a) − h_t(b)‖ at every step t of two texts of the same length."""
    if len(a) != len(b):
        raise ValueError(f"state_gap: the two texts must have the same length; got {len(a)} and {len(b)}")
    return np.linalg.norm(hidden_states(model, vocab, a) - hidden_states(model, vocab, b), axis=1)
