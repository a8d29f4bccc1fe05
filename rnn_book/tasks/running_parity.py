"""Running parity: a task that needs the whole prefix, learned by a small RNN (chapter 1, claim C1).

The input is a stream of bits and the target at every step is the XOR of all bits so far. A rule
that sees only the current bit is at chance after the first step; a state that keeps track of the
whole prefix can be right at every step. :func:`train` trains one RNN and scores it per time step
on held-out sequences, as whole counts of correct answers (the test set is small: counts, not
float32 fractions).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from ..data.tasks import running_parity
from ..models import SequenceModel
from ..settings import device, device_of, seed as set_seed
from ..train import History, fit

TRAIN_SEED, TEST_SEED = 0, 1        # the data are fixed; a run's seed sets the weights and the batch order


@dataclass
class ParityResult:
    """Correct answers per time step (whole counts out of ``n_test``) before and after training."""

    T: int
    n_test: int
    trained: np.ndarray           # (T,) int: correct answers of the trained RNN at each step
    untrained: np.ndarray         # (T,) int: the same network before training
    current_bit: np.ndarray       # (T,) int: the best rule that sees only x_t (answer y_t = x_t)
    history: History = field(repr=False)
    model: torch.nn.Module = field(repr=False)

    def rate(self, name: str) -> np.ndarray:
        """Accuracy per step in float64: ``rate("trained")`` = trained / n_test."""
        return getattr(self, name).astype(np.float64) / self.n_test


def parity_loss(model, batch) -> torch.Tensor:
    """Cross-entropy of the two-way prediction at every step."""
    x, y = batch
    logits, _ = model(x)
    return F.cross_entropy(logits.reshape(-1, 2), y.reshape(-1))


@torch.no_grad()
def hits_per_step(model, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """How many of the sequences the model answers correctly at each step: an int array of shape (T,)."""
    logits, _ = model(x.to(device_of(model)))
    return (logits.argmax(-1).cpu() == y).sum(0).numpy()


def train(seed: int = 0, epochs: int = 10, T: int = 10, hidden_size: int = 32, lr: float = 2e-2,
          n_train: int = 4096, n_test: int = 1000, batch_size: int = 64, engine: str = "cudnn") -> ParityResult:
    """Train an RNN (Adam, ``lr``) on running parity of length ``T``; score every step on ``n_test`` sequences."""
    for name, v in (("epochs", epochs), ("T", T), ("hidden_size", hidden_size), ("n_test", n_test)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"running_parity.train: {name} must be a positive int; got {v!r}")
    x_train, y_train = running_parity(n_train, T, seed=TRAIN_SEED)
    x_test, y_test = running_parity(n_test, T, seed=TEST_SEED)
    set_seed(seed)
    model = SequenceModel("rnn", engine, hidden_size=hidden_size, output_size=2, input_size=1).to(device())
    order = torch.Generator().manual_seed(seed)

    def batches(epoch):
        perm = torch.randperm(n_train, generator=order)
        return [(x_train[i], y_train[i]) for i in perm.split(batch_size)]

    untrained = hits_per_step(model, x_test, y_test)
    history = fit(model, batches, parity_loss, epochs=epochs, lr=lr)
    current_bit = (x_test[..., 0].long() == y_test).sum(0).numpy()
    return ParityResult(T, n_test, hits_per_step(model, x_test, y_test), untrained, current_bit, history, model)
