"""Character language models trained with stateful truncated BPTT, on top of :func:`rnn_book.train.fit`.

The text is one long stream of ids. :class:`~rnn_book.data.text.StatefulBatches` lays it out as
``batch_size`` parallel streams, so row b of every batch continues row b of the batch before. The
loss below carries the hidden state from one batch into the next (the model keeps reading the same
stream) but ``detach``-es it, so gradients flow back at most ``seq_len`` steps: truncated BPTT.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from itertools import islice

import torch
import torch.nn.functional as F

from ..data.text import StatefulBatches, load_corpus, split_contiguous
from ..data.vocab import CharVocab
from ..models import SequenceModel, detach_state
from ..plots import LivePlot, perplexity_curves
from ..settings import describe_device, device, device_of, pick, seed as set_seed
from ..train import History, fit


# ---------------------------------------------------------------- data

@dataclass
class CharData:
    """A corpus cut into a training block and a validation block, with a vocabulary of the training block."""

    name: str
    vocab: CharVocab
    train: torch.Tensor
    valid: torch.Tensor
    unseen_in_valid: float          # share of validation characters outside the vocabulary (-> <unk>)

    def __repr__(self) -> str:
        return (f"CharData({self.name!r}: {len(self.train):,} training ids, {len(self.valid):,} validation ids, "
                f"{len(self.vocab)} symbols, {self.unseen_in_valid:.2%} of validation is <unk>)")


def prepare(name: str, max_chars: int | None = None, valid_fraction: float = 0.1, min_count: int = 1) -> CharData:
    """Load a shipped corpus, keep its last block for validation, and build the vocabulary from training only.

    Building the vocabulary from the training block is part of not leaking: a character that only
    occurs in the validation block becomes ``<unk>``, for the RNN and the n-gram baselines alike.
    With ``min_count=2`` characters seen only once in training become ``<unk>`` there too, so the
    models learn how often to expect a rare character (useful for Chinese, with thousands of them).
    """
    text = load_corpus(name, max_chars)
    train_text, valid_text = split_contiguous(text, valid_fraction)   # the same cut as on ids
    vocab = CharVocab(train_text, min_count=min_count)
    unseen = sum(c not in vocab.stoi for c in valid_text) / max(len(valid_text), 1)
    return CharData(name, vocab, vocab.encode(train_text), vocab.encode(valid_text), unseen)


# ---------------------------------------------------------------- training

class StatefulLoss:
    """``loss_fn`` for :func:`fit` that carries the hidden state across batches (truncated BPTT).

    Row b of batch k+1 continues row b of batch k, so the state left by batch k is the right initial
    state for batch k+1; ``detach`` keeps its value and cuts the graph, so backward stops at the batch edge.
    """

    def __init__(self):
        self.state = None
        self.tokens = 0                 # tokens trained on, for tokens per second

    def reset(self) -> None:
        """Forget the state (at the start of a pass over the text, where the streams start afresh)."""
        self.state = None

    def passes(self, batches):
        """``epoch -> batches`` for :func:`~rnn_book.train.fit`: every epoch is a new pass over the text,
        so the carried state starts again from zero where the streams start again."""
        def epoch(_):
            self.reset()
            return batches
        return epoch

    def __call__(self, model, batch) -> torch.Tensor:
        x, y = (t.to(device_of(model)) for t in batch)
        logits, state = model(x, self.state)
        self.state = detach_state(state)
        self.tokens += y.numel()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def stream(ids: torch.Tensor, batch_size: int, seq_len: int, loss: StatefulLoss):
    """Stateful batches forever, pass after pass; the carried state is reset where each pass begins."""
    passes = loss.passes(StatefulBatches(ids, batch_size, seq_len))
    while True:
        yield from passes(None)


@torch.no_grad()
def evaluate_stream(model, ids: torch.Tensor, batch_size: int = 16, seq_len: int = 256, carry: bool = True
                    ) -> dict[str, float]:
    """Mean loss (nats per character) and perplexity on a stream of ids, reading it statefully:
    ``{"loss": ..., "ppl": ...}``.

    The mean is over characters, not over batches: the last batch may be shorter, and averaging
    batch means would over-weight its few characters. ``carry=False`` starts every batch from a
    zero state instead, to measure what the carried state is worth.
    """
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    dev = device_of(model)
    batch_size = max(1, min(batch_size, (len(ids) - 1) // 2))
    for x, y in StatefulBatches(ids, batch_size, seq_len):
        logits, state = model(x.to(dev), state if carry else None)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(dev).reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    loss = total / count
    return {"loss": loss, "ppl": math.exp(loss)}


def validation_metrics(model, ids: torch.Tensor) -> dict[str, float]:
    """:func:`evaluate_stream` under the names the training curves use: ``valid_loss`` and ``valid_ppl``."""
    r = evaluate_stream(model, ids)
    return {"valid_loss": r["loss"], "valid_ppl": r["ppl"]}


@dataclass
class LMRun:
    """What :func:`train_lm` returns: the model, its history, and the measured speed."""

    model: SequenceModel
    history: History
    tokens: int
    seconds: float
    device: str
    config: dict = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")

    @property
    def valid_ppl(self) -> float:
        """Validation perplexity of the returned weights (the best round when early stopping was on)."""
        ppl = self.history.metric("valid_ppl")
        if not ppl:                     # diverged before the first evaluation
            return math.inf
        i = self.history.best_epoch if self.history.best_epoch is not None else len(ppl) - 1
        return ppl[i]


def build_model(kind: str, vocab_size: int, hidden_size: int, engine: str = "cudnn", embed_size: int = 64,
                num_layers: int = 1) -> SequenceModel:
    """Embedding -> recurrent layer (either engine) -> linear layer over the vocabulary."""
    return SequenceModel(kind, engine, hidden_size, vocab_size, vocab_size=vocab_size, embed_size=embed_size,
                         num_layers=num_layers)


FINAL_LR_FRACTION = 1 / 20          # the cosine decay ends at this fraction of the starting learning rate


def cosine_lr(lr: float, round_: int, rounds: int) -> float:
    """The learning rate after ``round_`` (0-based) of ``rounds``: from ``lr`` down to ``lr * FINAL_LR_FRACTION``."""
    low = lr * FINAL_LR_FRACTION
    return low + (lr - low) * 0.5 * (1 + math.cos(math.pi * (round_ + 1) / (rounds - 1)))


def train_lm(model, data: CharData, *, batch_size: int, seq_len: int, rounds: int, steps_per_round: int,
             lr: float = 2e-3, clip: float = 1.0, valid_chars: int | None = None, progress: bool = False,
             live: bool = False, title: str = "character LM", patience: int | None = None,
             baselines: dict[str, float] | None = None, decay: bool = False) -> LMRun:
    """Train a character LM with stateful truncated BPTT; evaluate validation perplexity after every round.

    A round is ``steps_per_round`` optimiser steps (fit's "epoch"), so the curves have points even
    when a run is shorter than one pass over the text. ``valid_chars`` scores only the first part
    of the validation block after each round (the final number in :attr:`LMRun.valid_ppl` uses the
    same part); ``patience`` turns on early stopping on the validation loss; ``baselines`` are drawn
    on the live plot; ``decay`` lowers the learning rate along a cosine (:func:`cosine_lr`; small
    steps at the end settle the weights). The model trains on ``rnn_book.device()``.
    """
    for name, v in {"batch_size": batch_size, "seq_len": seq_len, "rounds": rounds,
                    "steps_per_round": steps_per_round}.items():
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"train_lm: {name} must be a positive int; got {v!r}")
    model.to(device())                      # before the optimiser is built over its parameters
    loss = StatefulLoss()
    feed = stream(data.train, batch_size, seq_len, loss)
    valid = data.valid[:valid_chars] if valid_chars else data.valid
    plot = LivePlot(title, "perplexity", draw=lambda h: perplexity_curves(h, steps_per_round, title, baselines)) \
        if live else None
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def on_round(epoch, history):
        if decay and rounds > 1:
            for group in opt.param_groups:
                group["lr"] = cosine_lr(lr, epoch, rounds)
        if plot is not None:
            plot.update(epoch, history)

    hist = fit(model, lambda epoch: islice(feed, steps_per_round), loss, epochs=rounds, optimizer=opt, clip=clip,
               evaluate=lambda m: validation_metrics(m, valid), progress=progress, on_epoch=on_round,
               early_stopping=("valid_loss", patience) if patience else None)
    cfg = dict(batch_size=batch_size, seq_len=seq_len, rounds=rounds, steps_per_round=steps_per_round, lr=lr,
               clip=clip, decay=decay)
    return LMRun(model, hist, loss.tokens, hist.total_seconds, describe_device(), cfg)


# ---------------------------------------------------------------- the chapter's experiments, sized by mode

@dataclass(frozen=True)
class Config:
    """The sizes of one corpus's experiment (:func:`config` picks the full or quick ones)."""

    max_chars: int | None            # None: the whole corpus
    min_count: int                   # rarer characters become <unk>
    num_layers: int
    hidden_size: int
    embed_size: int
    batch_size: int
    seq_len: int
    rounds: int
    steps_per_round: int
    lr: float
    patience: int | None             # early stopping on the validation loss (None: off)
    decay: bool                      # cosine learning-rate decay
    valid_chars: int | None = None   # score only the first part of the validation block (None: all)


CONFIGS = {
    "moby_dick": {"full": Config(max_chars=None, min_count=1, num_layers=2, hidden_size=256, embed_size=64,
                                 batch_size=64, seq_len=128, rounds=30, steps_per_round=100, lr=3e-3, patience=3,
                                 decay=True),
                  "quick": Config(max_chars=200_000, min_count=1, num_layers=1, hidden_size=128, embed_size=32,
                                  batch_size=32, seq_len=64, rounds=6, steps_per_round=40, lr=1e-2, patience=None,
                                  decay=False)},
    "shijing": {"full": Config(max_chars=None, min_count=2, num_layers=1, hidden_size=256, embed_size=64,
                               batch_size=16, seq_len=64, rounds=30, steps_per_round=40, lr=3e-3, patience=5,
                               decay=False),
                "quick": Config(max_chars=None, min_count=2, num_layers=1, hidden_size=128, embed_size=32,
                                batch_size=16, seq_len=32, rounds=8, steps_per_round=25, lr=1e-2, patience=None,
                                decay=False)},
}


def config(corpus: str) -> Config:
    """The sizes for ``corpus`` in the mode that runs (``RNN_BOOK_QUICK=1`` shrinks them)."""
    if corpus not in CONFIGS:
        raise ValueError(f"config: no sizes for corpus {corpus!r}; known: {', '.join(CONFIGS)}")
    return pick(full=CONFIGS[corpus]["full"], quick=CONFIGS[corpus]["quick"])


def ngram_orders(corpus: str) -> tuple[int, ...]:
    """The n-gram orders to try: far enough that the best one is found (longer contexts stop paying)."""
    if corpus == "shijing":
        return (1, 2, 3, 4)
    return tuple(range(1, pick(full=8, quick=6)))


def load(corpus: str) -> CharData:
    """:func:`prepare` with the sizes of :func:`config` for the mode that runs."""
    c = config(corpus)
    return prepare(corpus, c.max_chars, min_count=c.min_count)


def run(kind: str, data: CharData, engine: str = "cudnn", progress: bool = False, live: bool = False,
        seed: int = 0, baselines: dict[str, float] | None = None, **overrides) -> LMRun:
    """Build and train one model on ``data`` with the sizes of :func:`config` (``overrides`` replace any)."""
    c = dataclasses.replace(config(data.name), **overrides)
    set_seed(seed)
    model = build_model(kind, len(data.vocab), c.hidden_size, engine, c.embed_size, c.num_layers)
    return train_lm(model, data, batch_size=c.batch_size, seq_len=c.seq_len, rounds=c.rounds,
                    steps_per_round=c.steps_per_round, lr=c.lr, valid_chars=c.valid_chars,
                    progress=progress, live=live, patience=c.patience, baselines=baselines, decay=c.decay,
                    title=f"{kind.upper()} ({engine}) on {data.name}: perplexity")
