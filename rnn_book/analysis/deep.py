"""Deep and bidirectional recurrent networks: what each output can see, a task that needs the
future, and the leak of a bidirectional language model."""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..models import SequenceModel
from .gradients import input_sensitivity
from ..settings import device_of
from ..train import fit


def influence(layer, T: int = 12, t: int = 5, seed: int = 0) -> torch.Tensor:
    """‖∂ outputs[:, t] / ∂ x[:, s]‖ for every input step s of one random sequence: which inputs can output t see?

    Returns a vector of length T (:func:`rnn_book.analysis.gradients.input_sensitivity`); entries are
    exactly zero where no path leads from x_s to o_t.
    """
    if not 0 <= t < T:
        raise ValueError(f"influence: t must lie in 0..{T - 1}; got {t}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, T, layer.input_size, generator=g, dtype=torch.float64)
    return input_sensitivity(layer, x, t)


def reappears_later(n: int, T: int = 20, n_symbols: int = 10, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A tagging task that needs the future: tag y_t = 1 when token x_t occurs again after step t.

    x: (n, T) token ids; y: (n, T) in {0, 1}. A left-to-right model can only guess from the position.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, n_symbols, (n, T), generator=g)
    same = x.unsqueeze(2) == x.unsqueeze(1)                       # same[b, t, s]: x_t == x_s
    later = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    return x, (same & later).any(dim=2).long()


def train_tagger(bidirectional: bool, x, y, kind: str = "gru", hidden_size: int = 32, epochs: int = 10,
                 n_symbols: int = 10, batch_size: int = 64, lr: float = 1e-2, seed: int = 0):
    """A tagger (one label per step) trained with the shared loop; returns (model, history)."""
    from .. import seed as set_seed

    set_seed(seed)
    model = SequenceModel(kind, "cudnn", hidden_size, 2, vocab_size=n_symbols, embed_size=16,
                          bidirectional=bidirectional)
    n_train = int(0.8 * len(x))
    xt, yt, xv, yv = x[:n_train], y[:n_train], x[n_train:], y[n_train:]

    def batches(epoch):
        order = torch.randperm(n_train, generator=torch.Generator().manual_seed(epoch))
        return [(xt[i], yt[i]) for i in order.split(batch_size)]

    def loss_fn(m, batch):
        xb, yb = batch
        return F.cross_entropy(m(xb)[0].reshape(-1, 2), yb.reshape(-1))

    def evaluate(m):
        dev = device_of(m)
        return {"accuracy": (m(xv.to(dev))[0].argmax(-1) == yv.to(dev)).double().mean().item()}

    return model, fit(model, batches, loss_fn, epochs=epochs, lr=lr, evaluate=evaluate)


# -- the bidirectional language model leak --------------------------------------------------------
def random_windows(ids: torch.Tensor, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` random windows of ``length + 1`` ids (input = first ``length``, target = shifted by one)."""
    starts = torch.randint(0, len(ids) - length - 1, (n,), generator=generator)
    return torch.stack([ids[s:s + length + 1] for s in starts.tolist()])


def train_window_lm(model, ids: torch.Tensor, steps: int, batch_size: int = 32, length: int = 64,
                    lr: float = 3e-3, seed: int = 0):
    """Next-character training on random windows (no carried state, so a bidirectional model fits too)."""
    g = torch.Generator().manual_seed(seed)

    def batches(epoch):
        for _ in range(steps):
            yield random_windows(ids, batch_size, length, g)

    def loss_fn(m, w):
        logits = m(w[:, :-1])[0]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))

    return fit(model, batches, loss_fn, epochs=1, lr=lr, clip=1.0)


@torch.no_grad()
def window_perplexity(model, ids: torch.Tensor, n: int = 64, length: int = 64, seed: int = 1) -> float:
    """Perplexity when the model reads whole windows at once — what training measures.

    A bidirectional model's backward chain has already read x_{t+1} when it predicts x_{t+1}.
    """
    model.eval()
    w = random_windows(ids, n, length, torch.Generator().manual_seed(seed)).to(device_of(model))
    logits = model(w[:, :-1])[0]
    return math.exp(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1)).item())


@torch.no_grad()
def causal_perplexity(model, ids: torch.Tensor, n: int = 64, context: int = 64, seed: int = 1) -> float:
    """Perplexity when each prediction may use only the past — what generating text allows.

    For each of ``n`` positions the model reads the ``context`` characters before it and predicts it
    from its last output, so nothing to the right of the prediction point is in view.
    """
    model.eval()
    w = random_windows(ids, n, context, torch.Generator().manual_seed(seed)).to(device_of(model))
    logits = model(w[:, :-1])[0][:, -1]
    return math.exp(F.cross_entropy(logits, w[:, -1]).item())
