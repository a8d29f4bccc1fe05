"""Character language models trained with stateful truncated BPTT, on top of :func:`rnn_book.train.fit`.

The text is one long stream of ids. :class:`~rnn_book.data.text.StatefulBatches` lays it out as
``batch_size`` parallel streams, so row b of every batch continues row b of the batch before. The
loss below carries the hidden state from one batch into the next (the model keeps reading the same
stream) but ``detach``-es it, so gradients flow back at most ``seq_len`` steps: truncated BPTT.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import islice

import torch
import torch.nn.functional as F

from ..data.text import CharVocab, StatefulBatches, load_corpus, split_contiguous
from ..models import SequenceModel, detach_state
from ..plots import LivePlot, curves
from ..settings import describe_device, device, pick
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

    def __call__(self, model, batch) -> torch.Tensor:
        x, y = (t.to(_device_of(model)) for t in batch)
        logits, state = model(x, self.state)
        self.state = detach_state(state)
        self.tokens += y.numel()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


def stream(ids: torch.Tensor, batch_size: int, seq_len: int, loss: StatefulLoss):
    """Stateful batches forever, pass after pass; the carried state is reset where each pass begins."""
    batches = StatefulBatches(ids, batch_size, seq_len)
    while True:
        loss.reset()
        yield from batches


@torch.no_grad()
def evaluate(model, ids: torch.Tensor, batch_size: int = 16, seq_len: int = 256, carry: bool = True
             ) -> dict[str, float]:
    """Mean loss (nats per character) and perplexity on a stream, reading it statefully.

    The mean is over characters, not over batches: the last batch may be shorter, and averaging
    batch means would over-weight its few characters. ``carry=False`` starts every batch from a
    zero state instead, to measure what the carried state is worth.
    """
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    dev = _device_of(model)
    batch_size = max(1, min(batch_size, (len(ids) - 1) // 2))
    for x, y in StatefulBatches(ids, batch_size, seq_len):
        logits, state = model(x.to(dev), state if carry else None)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(dev).reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    loss = total / count
    return {"valid_loss": loss, "valid_ppl": math.exp(loss)}


class PerplexityPlot(LivePlot):
    """The live loss plot, drawn as perplexity (exp of the loss) against optimiser steps."""

    def __init__(self, title: str, steps_per_round: int, baselines: dict[str, float] | None = None):
        super().__init__(title, "perplexity (lower is better)", metrics=("valid_loss",))
        self.steps_per_round, self.baselines = steps_per_round, baselines

    def update(self, epoch, history) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        with self.out:
            self.out.clear_output(wait=True)
            fig = plot_perplexity(history, self.steps_per_round, self.title, self.baselines)
            display(fig)
            plt.close(fig)


def plot_perplexity(history: History, steps_per_round: int, title: str, baselines: dict[str, float] | None = None,
                    ax=None):
    """Training and validation perplexity after each round of ``steps_per_round`` steps.

    ``baselines`` ({"name": perplexity}) are drawn as dashed horizontal lines, e.g. the n-gram models.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.4))
    x = [steps_per_round * (i + 1) for i in range(len(history.train_loss))]
    series = {"train (running mean over the round)": [math.exp(v) for v in history.train_loss],
              "validation": [math.exp(v) for v in history.metric("valid_loss")]}
    for (name, value), colour in zip((baselines or {}).items(), ("0.35", "tab:red", "tab:purple", "tab:brown")):
        ax.axhline(value, ls="--", lw=1, color=colour, label=f"{name}: {value:.2f}")
    curves(series, title, "optimiser steps", "perplexity (lower is better)", ax=ax, x=x, logy=True)
    if baselines:
        ax.legend(fontsize=8)
    return ax.figure


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


def make_model(kind: str, vocab_size: int, hidden_size: int, engine: str = "cudnn", embed_size: int = 64,
               num_layers: int = 1) -> SequenceModel:
    """Embedding -> recurrent layer (either engine) -> linear layer over the vocabulary."""
    return SequenceModel(kind, engine, hidden_size, vocab_size, vocab_size=vocab_size, embed_size=embed_size,
                         num_layers=num_layers)


def train_lm(model, data: CharData, *, batch_size: int, seq_len: int, rounds: int, steps_per_round: int,
             lr: float = 2e-3, clip: float = 1.0, valid_chars: int | None = None, progress: bool = False,
             live: bool = False, title: str = "character LM", patience: int | None = None,
             baselines: dict[str, float] | None = None, decay: bool = False) -> LMRun:
    """Train a character LM with stateful truncated BPTT; evaluate validation perplexity after every round.

    A round is ``steps_per_round`` optimiser steps (fit's "epoch"), so the curves have points even
    when a run is shorter than one pass over the text. ``valid_chars`` scores only the first part
    of the validation block after each round (the final number in :attr:`LMRun.valid_ppl` uses the
    same part); ``patience`` turns on early stopping on the validation loss; ``baselines`` are drawn
    on the live plot; ``decay`` lowers the learning rate along a cosine, from ``lr`` after the first
    round to ``lr / 20`` in the last (small steps at the end settle the weights).
    """
    for name, v in {"batch_size": batch_size, "seq_len": seq_len, "rounds": rounds,
                    "steps_per_round": steps_per_round}.items():
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"train_lm: {name} must be a positive int; got {v!r}")
    dev = device()
    model.to(dev)
    loss = StatefulLoss()
    feed = stream(data.train, batch_size, seq_len, loss)
    valid = data.valid[:valid_chars] if valid_chars else data.valid
    plot = PerplexityPlot(title, steps_per_round, baselines) if live else None
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def on_round(epoch, history):
        if decay and rounds > 1:
            for group in opt.param_groups:
                group["lr"] = lr / 20 + (lr - lr / 20) * 0.5 * (1 + math.cos(math.pi * (epoch + 1) / (rounds - 1)))
        if plot is not None:
            plot.update(epoch, history)

    hist = fit(model, lambda epoch: islice(feed, steps_per_round), loss, epochs=rounds, optimizer=opt, clip=clip,
               evaluate=lambda m: evaluate(m, valid), progress=progress, on_epoch=on_round,
               early_stopping=("valid_loss", patience) if patience else None)
    cfg = dict(batch_size=batch_size, seq_len=seq_len, rounds=rounds, steps_per_round=steps_per_round, lr=lr,
               clip=clip, decay=decay)
    return LMRun(model, hist, loss.tokens, hist.total_seconds, describe_device(), cfg)


# ---------------------------------------------------------------- the chapter's experiments, sized by mode

def settings(corpus: str) -> dict:
    """Sizes for one corpus in the mode that runs (``RNN_BOOK_QUICK=1`` shrinks them)."""
    if corpus == "moby_dick":
        return dict(max_chars=pick(full=None, quick=200_000), min_count=1, num_layers=pick(full=2, quick=1),
                    hidden_size=pick(full=256, quick=128), embed_size=pick(full=64, quick=32),
                    batch_size=pick(full=64, quick=32), seq_len=pick(full=128, quick=64),
                    rounds=pick(full=30, quick=6), steps_per_round=pick(full=100, quick=25),
                    lr=pick(full=3e-3, quick=4e-3), valid_chars=None, patience=pick(full=3, quick=None),
                    decay=pick(full=True, quick=False))
    if corpus == "shijing":
        return dict(max_chars=None, min_count=2, num_layers=1,
                    hidden_size=pick(full=256, quick=128), embed_size=pick(full=64, quick=32),
                    batch_size=16, seq_len=pick(full=64, quick=32),
                    rounds=pick(full=30, quick=8), steps_per_round=pick(full=40, quick=25),
                    lr=pick(full=3e-3, quick=1e-2), valid_chars=None, patience=pick(full=5, quick=None),
                    decay=False)
    raise ValueError(f"settings: no sizes for corpus {corpus!r}; known: moby_dick, shijing")


def ngram_orders(corpus: str) -> tuple[int, ...]:
    """The n-gram orders to try: far enough that the best one is found (longer contexts stop paying)."""
    if corpus == "shijing":
        return (1, 2, 3, 4)
    return tuple(range(1, pick(full=8, quick=6)))


def load(corpus: str) -> CharData:
    """:func:`prepare` with the sizes of :func:`settings` for the mode that runs."""
    s = settings(corpus)
    return prepare(corpus, s["max_chars"], min_count=s["min_count"])


def run(kind: str, data: CharData, engine: str = "cudnn", progress: bool = False, live: bool = False,
        seed: int = 0, baselines: dict[str, float] | None = None, **overrides) -> LMRun:
    """Build and train one model on ``data`` with the sizes of :func:`settings` (``overrides`` replace any)."""
    from ..settings import seed as set_seed

    s = {**settings(data.name), **overrides}
    set_seed(seed)
    model = make_model(kind, len(data.vocab), s["hidden_size"], engine, s["embed_size"], s["num_layers"])
    return train_lm(model, data, batch_size=s["batch_size"], seq_len=s["seq_len"], rounds=s["rounds"],
                    steps_per_round=s["steps_per_round"], lr=s["lr"], valid_chars=s["valid_chars"],
                    progress=progress, live=live, patience=s["patience"], baselines=baselines, decay=s["decay"],
                    title=f"{kind.upper()} ({engine}) on {data.name}: perplexity")
