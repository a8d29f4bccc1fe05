"""One character model trained on both engines from the same weights (chapter 1, section 1.7).

:func:`paired_models` builds a scratch and a cuDNN-engine model that compute the same function at
the start. Two details make them *train* alike too (the appendix on running fast and exactly has
both): ``torch.nn.RNN`` keeps two bias vectors whose sum is the scratch engine's one ``b_h``, so only
``bias_ih`` learns and ``bias_hh`` stays at zero; and cuDNN may use TF32 for float32 products on
recent GPUs, so the runs use full float32 (:func:`exact_float32`). :func:`train_pair` trains both on
the same batches and measures how far their losses part; :func:`step_seconds` times one training
step of each, side by side.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from ..data.text import StatefulBatches
from ..models import SequenceModel
from ..settings import device, device_of, seed as set_seed
from ..tasks import lm
from ..timing import interleaved
from ..train import History, fit
from ..weights import copy_weights

ENGINES = ("scratch", "cudnn")


@contextlib.contextmanager
def exact_float32():
    """Run the block with cuDNN's recurrent kernels in IEEE float32 (no TF32), then restore the setting."""
    rnn = getattr(torch.backends.cudnn, "rnn", None)
    if rnn is not None and hasattr(rnn, "fp32_precision"):
        before = rnn.fp32_precision
        rnn.fp32_precision = "ieee"
        try:
            yield
        finally:
            rnn.fp32_precision = before
    else:                                          # older PyTorch: one switch for all of cuDNN
        before = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = before


def paired_models(vocab_size: int, hidden_size: int, embed_size: int = 32, seed: int = 0) -> dict[str, SequenceModel]:
    """``{"scratch": model, "cudnn": model}``: RNN character models with the same initial weights.

    The cuDNN engine's ``bias_hh`` is zero and frozen, so that its ``bias_ih`` plays the part of ``b_h``
    and the effective bias moves as fast as the scratch engine's.
    """
    set_seed(seed)
    models = {e: SequenceModel("rnn", e, hidden_size, vocab_size, vocab_size=vocab_size, embed_size=embed_size)
              for e in ENGINES}
    src, dst = models["scratch"], models["cudnn"]
    dst.embed.load_state_dict(src.embed.state_dict())
    dst.head.load_state_dict(src.head.state_dict())
    copy_weights(src.rnn, dst.rnn)                           # b_ih <- b_h, b_hh <- 0
    dst.rnn.rnn.bias_hh_l0.requires_grad_(False)             # ... and only b_ih learns, like b_h
    return {e: m.to(device()) for e, m in models.items()}


@dataclass
class PairRun:
    """Both engines' runs on the same batches, their validation losses and the unigram baseline (nats/char)."""

    histories: dict[str, History]
    valid: dict[str, float]
    unigram: float
    models: dict[str, SequenceModel] = field(repr=False)

    def step_gap(self, first: int | None = None) -> float:
        """Largest |loss difference| between the engines over the first ``first`` updates (all by default)."""
        a, b = (np.array(self.histories[e].step_loss[:first]) for e in ENGINES)
        return float(np.abs(a - b).max())

    @property
    def epoch_gap(self) -> float:
        """Largest difference of the per-epoch mean training losses."""
        a, b = (np.array(self.histories[e].train_loss) for e in ENGINES)
        return float(np.abs(a - b).max())

    @property
    def valid_gap(self) -> float:
        return abs(self.valid["scratch"] - self.valid["cudnn"])


def unigram_loss(data: lm.CharData) -> float:
    """Nats per validation character of the add-one unigram model of the training text (no context at all)."""
    counts = torch.bincount(data.train, minlength=len(data.vocab)).double() + 1
    return float(-torch.log(counts / counts.sum())[data.valid].mean())


def train_pair(data: lm.CharData, hidden_size: int, batch_size: int, seq_len: int, epochs: int = 2,
               lr: float = 5e-3, clip: float = 1.0, seed: int = 0) -> PairRun:
    """Train :func:`paired_models` on ``data`` with truncated BPTT, one engine after the other."""
    V = len(data.vocab)
    models = paired_models(V, hidden_size, seed=seed)
    histories = {}
    with exact_float32():
        for engine, m in models.items():
            carry = lm.StatefulLoss()
            histories[engine] = fit(m, carry.passes(StatefulBatches(data.train, batch_size, seq_len)), carry,
                                    epochs=epochs, lr=lr, clip=clip)
        valid = {e: lm.evaluate_stream(m, data.valid)["loss"] for e, m in models.items()}
    return PairRun(histories, valid, unigram_loss(data), models)


def step_seconds(models: dict[str, torch.nn.Module], x: torch.Tensor, y: torch.Tensor,
                 repeats: int = 9) -> dict[str, float]:
    """Median seconds of one training step (forward and backward on one batch) per model, timed round-robin."""
    def train_step(m):
        xb, yb = x.to(device_of(m)), y.to(device_of(m))

        def step():
            m.zero_grad()
            logits, _ = m(xb)
            F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1)).backward()
        return step

    with exact_float32():
        return interleaved({name: train_step(m) for name, m in models.items()}, repeats=repeats)


def effective_bias(model: SequenceModel) -> torch.Tensor:
    """The bias inside the tanh of a one-layer RNN model: ``b_h`` (scratch) or ``bias_ih + bias_hh`` (torch.nn)."""
    layer = model.rnn
    if hasattr(layer, "rnn"):                                  # the cuDNN engine wraps a torch.nn.RNN
        return layer.rnn.bias_ih_l0 + layer.rnn.bias_hh_l0
    return layer.cell(0).b_h


def bias_step(model: SequenceModel, x: torch.Tensor, y: torch.Tensor, lr: float = 0.1) -> torch.Tensor:
    """How far one plain SGD step on the batch ``(x, y)`` moves :func:`effective_bias` (frozen tensors stay)."""
    before = effective_bias(model).detach().clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.zero_grad()
    logits, _ = model(x)
    F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).backward()
    opt.step()
    return effective_bias(model).detach() - before
