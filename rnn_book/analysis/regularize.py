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

Two more pieces for chapter 9: :func:`compare_kinds` trains RNN, LSTM and GRU with (nearly) equal
parameter counts on the same text, to see whether the gated models overfit more; :class:`WeightDrop`
is DropConnect on the recurrent weights W_hh (the weight-dropped LSTM of Merity et al. 2018), a mask
that stays fixed over the time steps of a call and that the library's fused kernels can run.

Both losses are measured the same way after every epoch -- eval mode (no dropout), the hidden
state carried through the text -- so a gap between them is the model's, not the measurement's.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

from .. import cudnn
from ..data.text import SmallCorpus, StatefulBatches, small_corpus
from ..tasks.lm import StatefulLoss, evaluate_stream
from ..models import SequenceModel
from ..settings import pick, seed as set_seed
from ..train import History, fit
from . import compare
from .spread import Check, Experiment


@dataclass(frozen=True)
class Config:
    """Sizes of chapter 9's overfitting experiments; :func:`config` picks full or quick values."""

    train_chars: int = 2_000
    valid_chars: int = 3_000
    hidden_size: int = 128            # the LSTM of the remedies, and the reference of the equal-size comparison
    num_layers: int = 2
    epochs: int = 25
    lr: float = 1e-2
    batch_size: int = 8
    seq_len: int = 32
    compare_lr: float = 3e-3          # RNN, LSTM and GRU side by side: a rate all three train with
    compare_epochs: int = 30

    def regime_kwargs(self) -> dict:
        """The keyword arguments of :func:`run_all` for the remedies."""
        return dict(hidden_size=self.hidden_size, num_layers=self.num_layers, epochs=self.epochs, lr=self.lr,
                    batch_size=self.batch_size, seq_len=self.seq_len)

    def compare_kwargs(self) -> dict:
        """The keyword arguments of :func:`compare_kinds`."""
        return dict(num_layers=self.num_layers, epochs=self.compare_epochs, lr=self.compare_lr,
                    batch_size=self.batch_size, seq_len=self.seq_len)


FULL, QUICK = Config(), Config(epochs=15, compare_epochs=20)


def config() -> Config:
    return pick(full=FULL, quick=QUICK)


def corpus(cfg: Config | None = None) -> SmallCorpus:
    """The experiment's text: ``cfg.train_chars`` characters of *Moby-Dick* to learn, the next ``valid_chars`` to test."""
    cfg = cfg or config()
    return small_corpus(train_chars=cfg.train_chars, valid_chars=cfg.valid_chars)


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


def build_model(data: SmallCorpus, regime: dict | None = None, *, kind: str = "lstm", hidden_size: int = 128,
                num_layers: int = 2, embed_size: int = 32) -> SequenceModel:
    """The experiment's model: embedding -> recurrent layers (scratch engine, fused form) -> linear layer over the symbols.

    The scratch engine serves every regime, because only it can do variational dropout; its
    ``fused=True`` form computes the same function as the textbook form, faster.
    """
    regime = regime or {}
    return SequenceModel(kind, "scratch", hidden_size, len(data.vocab), vocab_size=len(data.vocab),
                         embed_size=embed_size, num_layers=num_layers, dropout=regime.get("dropout", 0.0),
                         fused=True, recurrent_dropout=regime.get("recurrent_dropout", 0.0))


def train_regime(data: SmallCorpus, name: str, regime: dict, *, kind: str = "lstm", hidden_size: int = 128,
                 num_layers: int = 2, embed_size: int = 32, epochs: int = 20, lr: float = 3e-3, batch_size: int = 16,
                 seq_len: int = 64, clip: float = 1.0, seed: int = 0, eval_batch: int = 32) -> RegimeResult:
    """Train the experiment's model (an LSTM unless ``kind`` says otherwise) under one regime from :func:`regimes`."""
    unknown = set(regime) - {"dropout", "recurrent_dropout", "weight_decay", "patience"}
    if unknown:
        raise ValueError(f"train_regime: unknown regime keys {sorted(unknown)}; "
                         "expected dropout, recurrent_dropout, weight_decay, patience")
    set_seed(seed)
    model = build_model(data, regime, kind=kind, hidden_size=hidden_size, num_layers=num_layers,
                        embed_size=embed_size)
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
    return RegimeResult(name, hist, kept, dict(regime, kind=kind, hidden_size=hidden_size))


def run_all(data: SmallCorpus, runs: dict[str, dict] | None = None, **kwargs) -> dict[str, RegimeResult]:
    """Train every regime of ``runs`` (default :func:`regimes`) from the same seed on the same batches."""
    runs = regimes() if runs is None else runs
    return {name: train_regime(data, name, regime, **kwargs) for name, regime in runs.items()}


def unigram_loss(data: SmallCorpus) -> float:
    """Validation loss (nats per character) of predicting the training text's letter frequencies."""
    counts = torch.bincount(data.train, minlength=len(data.vocab)).double() + 1.0   # add-one smoothing
    logp = (counts / counts.sum()).log()
    return float(-logp[data.valid].mean())


def plot_curves(results: dict[str, RegimeResult], unigram: float | None = None,
                title: str = "LSTM on a small text: training vs validation loss (dotted: weights kept)"):
    """One panel per run: training and validation loss (eval mode) against epochs, the kept epoch marked."""
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
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def summary(results: dict[str, RegimeResult]) -> list[dict[str, object]]:
    """Rows for :func:`rnn_book.plots.table`: losses and gap of the kept weights per regime."""
    return [{"regime": r.name, "epochs run": len(r.history.valid), "kept epoch": r.kept_epoch + 1,
             "train loss": r.train_loss, "valid loss": r.valid_loss, "gap": r.gap,
             "best valid loss": r.best_valid_loss} for r in results.values()]


# -- RNN, LSTM and GRU at equal parameter counts ---------------------------------------------------
def equal_parameters(data: SmallCorpus, reference: tuple[str, int] = ("lstm", 128), *, num_layers: int = 2,
                     embed_size: int = 32) -> dict[str, int]:
    """``{kind: hidden_size}`` giving RNN, LSTM and GRU about as many parameters as ``reference``.

    The search is :func:`rnn_book.analysis.compare.match_parameters` over this experiment's model.
    """
    def build(kind: str, hidden: int) -> SequenceModel:
        return build_model(data, kind=kind, hidden_size=hidden, num_layers=num_layers, embed_size=embed_size)

    sizing = compare.Task("overfitting a small text", build, batches=(), loss_fn=None, evaluate=None,
                          metric="valid_loss")
    return compare.match_parameters(sizing, reference)


def compare_kinds(data: SmallCorpus, sizes: dict[str, int], **kwargs) -> dict[str, RegimeResult]:
    """Train each ``{kind: hidden_size}`` without regularisation, from the same seed on the same batches."""
    bad = set(sizes) - {"rnn", "lstm", "gru"}
    if bad:
        raise ValueError(f"compare_kinds: kinds must be rnn, lstm, gru; got {sorted(bad)}")
    return {kind: train_regime(data, kind, {}, kind=kind, hidden_size=h, **kwargs) for kind, h in sizes.items()}


def best_epoch(r: RegimeResult) -> int:
    """The epoch (1-based) with the lowest validation loss: where memorising starts to cost."""
    v = r.history.metric("valid_loss")
    return v.index(min(v)) + 1


# -- DropConnect on W_hh: a time-fixed mask the library can run -------------------------------------
def drop_connect(weight: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``weight ⊙ M / (1 - p)`` with every entry of M drawn from Bernoulli(1 - p): DropConnect (Wan et al. 2013)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"drop_connect: p must lie in [0, 1); got {p!r}")
    keep = torch.bernoulli(torch.full_like(weight, 1.0 - p), generator=generator)
    return weight * keep / (1.0 - p)


class WeightDrop(nn.Module):
    """A :mod:`rnn_book.cudnn` layer whose recurrent weights get a fresh DropConnect mask at every call in training.

    The weight-dropped LSTM (Merity et al. 2018): each ``W_hh`` of every layer and direction is
    masked once per forward call, so every time step of every sequence in the batch sees the same
    masked matrix -- a mask fixed over time, as variational dropout wants, but on the weights, which
    the library takes whole. The masked weights go to ``torch.nn``'s own forward
    (``torch.func.functional_call``), so the call still runs in one fused library kernel. In eval
    mode the layer runs unmasked. ``last_weights`` keeps the masked matrices of the last call.
    """

    def __init__(self, layer: cudnn.Recurrent, p: float, generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(layer, cudnn.Recurrent):
            raise TypeError(f"WeightDrop: expected a layer of rnn_book.cudnn; got {type(layer).__name__}")
        if not 0.0 <= p < 1.0:
            raise ValueError(f"WeightDrop: p must lie in [0, 1); got {p!r}")
        self.layer, self.p, self.generator = layer, float(p), generator
        self.last_weights: dict[str, torch.Tensor] = {}

    def forward(self, x: torch.Tensor, state=None, lengths=None):
        if not self.training or self.p == 0.0:
            return self.layer(x, state, lengths)
        weights = {f"rnn.{name}": drop_connect(w, self.p, self.generator)
                   for name, w in self.layer.rnn.named_parameters() if name.startswith("weight_hh")}
        self.last_weights = {k.removeprefix("rnn."): v.detach() for k, v in weights.items()}
        with warnings.catch_warnings():
            # cuDNN would rather have its weights in one contiguous block; the masked copies are not
            warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
            return torch.func.functional_call(self.layer, weights, (x, state, lengths))


# -- what chapter 9 asserts, and how much it moves with the seed and threads -----------------------
def regime_measures(results: dict[str, RegimeResult]) -> dict[str, float]:
    """The numbers chapter 9 asserts on for the remedies (nats per character unless named otherwise)."""
    base = results["none"]
    m = {"gap none": base.gap, "rise none": base.valid_loss - base.best_valid_loss}
    for name, r in results.items():
        if name != "none":
            m[f"gap ratio {name}"] = r.gap / base.gap
            m[f"valid gain {name}"] = base.valid_loss - r.valid_loss
    bests = [r.best_valid_loss for r in results.values()]
    m["best loss range"] = max(bests) - min(bests)
    early = results["early stopping"]
    others = [r.gap for name, r in results.items() if name not in ("none", "early stopping")]
    m["early gap excess"] = early.gap - min(others)
    m["early epochs run"] = len(early.history.valid)
    return m


def kind_measures(results: dict[str, RegimeResult]) -> dict[str, float]:
    """The numbers of the equal-parameter comparison: per kind the gap, best loss, its epoch and the rise after it."""
    m = {}
    for k, r in results.items():
        m[f"gap {k}"] = r.gap
        m[f"best {k}"] = r.best_valid_loss
        m[f"best epoch {k}"] = best_epoch(r)
        m[f"rise {k}"] = r.valid_loss - r.best_valid_loss
        m[f"train loss {k}"] = r.train_loss
    gated = ("lstm", "gru")
    m["best rnn - best gated"] = m["best rnn"] - min(m[f"best {k}"] for k in gated)
    m["gap rnn - gap gated"] = m["gap rnn"] - max(m[f"gap {k}"] for k in gated)
    m["best epoch gated - rnn"] = min(m[f"best epoch {k}"] for k in gated) - m["best epoch rnn"]
    return m


def _spread_regimes(seed: int) -> dict[str, float]:
    cfg = config()
    return regime_measures(run_all(corpus(cfg), seed=seed, **cfg.regime_kwargs()))


def _spread_kinds(seed: int) -> dict[str, float]:
    cfg = config()
    data = corpus(cfg)
    sizes = equal_parameters(data, ("lstm", cfg.hidden_size), num_layers=cfg.num_layers)
    return kind_measures(compare_kinds(data, sizes, seed=seed, **cfg.compare_kwargs()))


# Thresholds from results/ch09_spread.md (seeds 0-2 x 1 and 2 threads, full and quick mode).
REGIME_CHECKS = (
    Check("gap none", ">", full=2.0, quick=1.0),
    Check("rise none", ">", full=0.3, quick=0.1),
    *(Check(f"gap ratio {name}", "<", full=0.8, quick=0.8) for name in ("dropout", "variational", "weight decay",
                                                                        "early stopping")),
    *(Check(f"valid gain {name}", ">", full=0.0, quick=0.0) for name in ("dropout", "variational", "weight decay",
                                                                          "early stopping")),
    Check("best loss range", "<", full=0.15, quick=0.15),
    Check("early gap excess", "<", full=0.1, quick=0.1),
    Check("early epochs run", "<", full=FULL.epochs, quick=QUICK.epochs),
)
KIND_CHECKS = (
    Check("gap rnn", ">", full=0.5, quick=0.5),
    Check("gap lstm", ">", full=0.5, quick=0.5),
    Check("gap gru", ">", full=0.5, quick=0.5),
    Check("best rnn - best gated", ">", full=0.05, quick=0.05),
    Check("best epoch gated - rnn", ">=", full=0, quick=0),
)
SPREAD = (Experiment("ch09", "overfitting", __name__, _spread_regimes, REGIME_CHECKS),
          Experiment("ch09", "equal-parameters", __name__, _spread_kinds, KIND_CHECKS))


__all__ = ["Config", "config", "corpus", "regimes", "RegimeResult", "build_model", "train_regime", "run_all",
           "unigram_loss", "plot_curves", "summary", "equal_parameters", "compare_kinds", "best_epoch",
           "drop_connect", "WeightDrop", "regime_measures", "kind_measures", "REGIME_CHECKS", "KIND_CHECKS"]
