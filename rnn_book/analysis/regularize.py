"""Overfitting on purpose, and four remedies, measured on one small character-level corpus.

A two-layer LSTM reads a few thousand characters of *Moby-Dick* over and over until it knows
them by heart: its training loss keeps falling while the loss on text it has never seen turns
back up. Each remedy is one change to that run:

* ``dropout``      -- dropout between the two layers and before the output layer (a fresh mask at
  every step, on the connections that do not loop back; Zaremba et al. 2014);
* ``variational``  -- variational (recurrent) dropout: one mask per sequence on the hidden state fed
  back into the cell, the same mask at every step (Gal & Ghahramani 2016). Only the scratch engine
  can do it: cuDNN's kernels never hand h_t back to Python between steps;
* ``weight decay`` -- AdamW's decoupled weight decay pulls every weight towards zero at each step;
* ``early stopping`` -- stop when the validation loss has not improved for ``patience`` epochs and
  go back to the best weights.

Both losses are measured the same way after every epoch -- eval mode (no dropout), the hidden
state carried through the text -- so a gap between them is the model's, not the measurement's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..data.text import SmallCorpus, StatefulBatches
from ..tasks.lm import StatefulLoss, evaluate_stream
from ..models import SequenceModel
from ..settings import seed as set_seed
from ..train import History, fit


def regimes(dropout: float = 0.5, recurrent_dropout: float = 0.5, weight_decay: float = 1.0,
            patience: int = 2) -> dict[str, dict]:
    """The five runs of the experiment: no regularisation, then one remedy each."""
    return {
        "none": {},
        "dropout": {"dropout": dropout},
        "variational": {"recurrent_dropout": recurrent_dropout},
        "weight decay": {"weight_decay": weight_decay},
        "early stopping": {"patience": patience},
    }


@dataclass
class RegimeResult:
    """One run: its history (``valid`` holds ``train_loss`` and ``valid_loss`` in eval mode) and the kept epoch."""

    name: str
    history: History
    kept_epoch: int                      # the epoch whose weights the run ends with (0-based)
    config: dict = field(default_factory=dict)

    @property
    def train_loss(self) -> float:
        return self.history.valid[self.kept_epoch]["train_loss"]

    @property
    def valid_loss(self) -> float:
        return self.history.valid[self.kept_epoch]["valid_loss"]

    @property
    def gap(self) -> float:
        """Generalisation gap of the kept weights: validation minus training loss, nats per character."""
        return self.valid_loss - self.train_loss

    @property
    def best_valid_loss(self) -> float:
        return min(self.history.metric("valid_loss"))


def build_model(data: SmallCorpus, regime: dict | None = None, *, hidden_size: int = 128, num_layers: int = 2,
                embed_size: int = 32) -> SequenceModel:
    """The experiment's LSTM: embedding -> LSTM layers (scratch engine, fused form) -> linear layer over the symbols.

    The scratch engine serves every regime, because only it can do variational dropout; its
    ``fused=True`` form computes the same function as the textbook form, faster.
    """
    regime = regime or {}
    return SequenceModel("lstm", "scratch", hidden_size, len(data.vocab), vocab_size=len(data.vocab),
                         embed_size=embed_size, num_layers=num_layers, dropout=regime.get("dropout", 0.0),
                         fused=True, recurrent_dropout=regime.get("recurrent_dropout", 0.0))


def train_regime(data: SmallCorpus, name: str, regime: dict, *, hidden_size: int = 128, num_layers: int = 2,
                 embed_size: int = 32, epochs: int = 20, lr: float = 3e-3, batch_size: int = 16, seq_len: int = 64,
                 clip: float = 1.0, seed: int = 0, eval_batch: int = 32) -> RegimeResult:
    """Train the LSTM of the experiment under one regime (a dict from :func:`regimes`)."""
    unknown = set(regime) - {"dropout", "recurrent_dropout", "weight_decay", "patience"}
    if unknown:
        raise ValueError(f"train_regime: unknown regime keys {sorted(unknown)}; "
                         "expected dropout, recurrent_dropout, weight_decay, patience")
    set_seed(seed)
    model = build_model(data, regime, hidden_size=hidden_size, num_layers=num_layers, embed_size=embed_size)
    loss = StatefulLoss()

    def both_losses(m) -> dict[str, float]:
        # many short streams: the same measurement for both texts, and few sequential steps
        return {"train_loss": evaluate_stream(m, data.train, eval_batch, 256)["loss"],
                "valid_loss": evaluate_stream(m, data.valid, eval_batch, 256)["loss"]}

    patience = regime.get("patience")
    hist = fit(model, loss.passes(StatefulBatches(data.train, batch_size, seq_len)), loss, epochs=epochs, lr=lr, optimizer="adamw",
               weight_decay=regime.get("weight_decay", 0.0), clip=clip, evaluate=both_losses,
               early_stopping=("valid_loss", patience) if patience else None)
    kept = hist.best_epoch if patience else len(hist.valid) - 1
    return RegimeResult(name, hist, kept, dict(regime))


def run_all(data: SmallCorpus, runs: dict[str, dict] | None = None, **kwargs) -> dict[str, RegimeResult]:
    """Train every regime of ``runs`` (default :func:`regimes`) from the same seed on the same batches."""
    runs = regimes() if runs is None else runs
    return {name: train_regime(data, name, regime, **kwargs) for name, regime in runs.items()}


def unigram_loss(data: SmallCorpus) -> float:
    """Validation loss (nats per character) of predicting the training text's letter frequencies."""
    counts = torch.bincount(data.train, minlength=len(data.vocab)).double() + 1.0   # add-one smoothing
    logp = (counts / counts.sum()).log()
    return float(-logp[data.valid].mean())


def plot_curves(results: dict[str, RegimeResult], unigram: float | None = None):
    """One panel per regime: training and validation loss (eval mode) against epochs, the kept epoch marked."""
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(3.1 * n, 3.2), sharey=True)
    axes = [axes] if n == 1 else list(axes)
    for ax, (name, r) in zip(axes, results.items()):
        epochs = range(1, len(r.history.valid) + 1)
        ax.plot(epochs, r.history.metric("train_loss"), label="training text")
        ax.plot(epochs, r.history.metric("valid_loss"), label="validation text")
        ax.axvline(r.kept_epoch + 1, color="grey", ls=":", lw=1)
        if unigram is not None:
            ax.axhline(unigram, color="k", ls="--", lw=0.8, label="letter frequencies")
        ax.set_title(f"{name}\ngap {r.gap:.2f} nats")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("loss (nats per character)")
    axes[0].legend(fontsize=7)
    fig.suptitle("LSTM on a small text: training vs validation loss (dotted: weights kept)", fontsize=10)
    fig.tight_layout()
    return fig


def summary(results: dict[str, RegimeResult]) -> list[dict[str, object]]:
    """Rows for :func:`rnn_book.plots.table`: losses and gap of the kept weights per regime."""
    return [{"regime": r.name, "epochs run": len(r.history.valid), "kept epoch": r.kept_epoch + 1,
             "train loss": r.train_loss, "valid loss": r.valid_loss, "gap": r.gap,
             "best valid loss": r.best_valid_loss} for r in results.values()]


__all__ = ["regimes", "RegimeResult", "build_model", "train_regime", "run_all", "unigram_loss",
           "plot_curves", "summary"]
