"""Deep and bidirectional recurrent networks: what depth buys a language model, what each output can
see, a task that needs the future, and the leak of a bidirectional language model."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ..models import SequenceModel
from ..settings import device_of, pick, seed as set_seed
from ..train import fit
from . import compare
from .gradients import input_sensitivity
from .spread import Check, Experiment


@dataclass(frozen=True)
class Config:
    """Sizes of chapter 10's experiments; :func:`config` picks full or quick values."""

    depth_chars: int = 200_000        # characters of Moby-Dick for the depth comparison
    depth_hidden: int = 128
    depth_epochs: int = 6
    depth_lr: float = 3e-3
    depth_valid_chars: int | None = None
    tag_sequences: int = 4000         # the reappears-later task
    tag_epochs: int = 15
    leak_chars: int = 600_000         # the bidirectional language model
    leak_steps: int = 1500


FULL = Config()
QUICK = Config(depth_chars=40_000, depth_hidden=32, depth_epochs=3, depth_lr=1e-2, depth_valid_chars=4_000,
               tag_sequences=1500, tag_epochs=8, leak_chars=200_000, leak_steps=120)


def config() -> Config:
    return pick(full=FULL, quick=QUICK)


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


# -- does depth help? -------------------------------------------------------------------------------
def depth_comparison(data, cfg: Config, seed: int = 0) -> tuple[list[compare.Row], compare.Task]:
    """One- and two-layer RNN, LSTM and GRU language models at one hidden size (:mod:`compare`).

    ``data`` is a :class:`rnn_book.tasks.lm.CharData`. Returns the rows and the two-layer task
    (whose ``baseline`` is a uniform guess and whose ``info`` names the validation text).
    """
    rows = []
    for layers in (1, 2):
        task = compare.char_lm_task(data, batch_size=32, seq_len=64, num_layers=layers,
                                    valid_chars=cfg.depth_valid_chars)
        sizes = {f"{layers} layer{'s' * (layers > 1)}": {k: cfg.depth_hidden for k in ("rnn", "lstm", "gru")}}
        rows += compare.run(task, sizes, epochs=cfg.depth_epochs, lr=cfg.depth_lr, seed=seed)
    return rows, task


def unigram_bpc(data, valid_chars: int | None = None) -> float:
    """Bits per character of the training text's letter frequencies (add-1/2 smoothing) on the validation text."""
    counts = torch.bincount(data.train, minlength=len(data.vocab)).double() + 0.5
    valid = data.valid[:valid_chars] if valid_chars else data.valid
    return -(counts / counts.sum()).log2()[valid].mean().item()


def bits_per_char(rows) -> dict[tuple[str, int], float]:
    """``{(kind, layers): validation bits per character}`` of :func:`depth_comparison`'s rows."""
    return {(r.kind, int(r.config[0])): r.final for r in rows}


def depth_measures(rows, baseline: float, unigram: float) -> dict[str, float]:
    bpc = bits_per_char(rows)
    m = {f"bpc {k} {layers}": v for (k, layers), v in bpc.items()}
    m["worst bpc below guessing"] = baseline - max(bpc.values())
    for k in ("rnn", "lstm", "gru"):
        m[f"unigram - bpc {k} 1"] = unigram - bpc[k, 1]
        m[f"gain of layer 2, {k}"] = bpc[k, 1] - bpc[k, 2]
    return m


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


def tagger_comparison(cfg: Config, seed: int = 0) -> tuple[dict[str, float], float]:
    """Validation accuracy of a left-to-right and a bidirectional tagger on :func:`reappears_later`,
    and the accuracy of always answering 'yes'."""
    xs, ys = reappears_later(cfg.tag_sequences, T=20, seed=seed)
    acc = {}
    for both in (False, True):
        _, hist = train_tagger(both, xs, ys, epochs=cfg.tag_epochs, seed=seed)
        acc["bidirectional" if both else "left-to-right"] = hist.metric("accuracy")[-1]
    return acc, ys.double().mean().item()


def leak_models(lm_data, cfg: Config, seed: int = 0) -> dict[str, dict]:
    """A left-to-right and a bidirectional LSTM language model, trained on random windows; each with its
    perplexity reading whole windows (as in training) and reading only the past (as in generation)."""
    V = len(lm_data.vocab)
    leak = {}
    for both in (False, True):
        set_seed(seed)
        model = SequenceModel("lstm", "cudnn", 64, V, vocab_size=V, embed_size=32, bidirectional=both)
        train_window_lm(model, lm_data.train, steps=cfg.leak_steps, seed=seed)
        leak["bidirectional" if both else "left-to-right"] = {
            "model": model, "reads the window (as in training)": window_perplexity(model, lm_data.valid),
            "only the past (as in generation)": causal_perplexity(model, lm_data.valid)}
    return leak


def leak_measures(leak: dict[str, dict]) -> dict[str, float]:
    uni, bid = leak["left-to-right"], leak["bidirectional"]
    w, c = "reads the window (as in training)", "only the past (as in generation)"
    return {"window ppl, bidirectional / left-to-right": bid[w] / uni[w],
            "past-only ppl, bidirectional - left-to-right": bid[c] - uni[c],
            "window ppl bidirectional": bid[w], "window ppl left-to-right": uni[w],
            "past-only ppl bidirectional": bid[c], "past-only ppl left-to-right": uni[c]}


def _spread_depth(seed: int) -> dict[str, float]:
    from ..tasks import lm

    cfg = config()
    data = lm.prepare("moby_dick", cfg.depth_chars)
    rows, task = depth_comparison(data, cfg, seed)
    return depth_measures(rows, task.baseline, unigram_bpc(data, task.info["valid_chars"]))


def _spread_tagger(seed: int) -> dict[str, float]:
    acc, yes = tagger_comparison(config(), seed)
    return {"accuracy bidirectional": acc["bidirectional"], "accuracy left-to-right": acc["left-to-right"],
            "accuracy, bidirectional - left-to-right": acc["bidirectional"] - acc["left-to-right"],
            "always yes": yes}


def _spread_leak(seed: int) -> dict[str, float]:
    from ..tasks import lm

    cfg = config()
    return leak_measures(leak_models(lm.prepare("moby_dick", cfg.leak_chars), cfg, seed))


# Thresholds from results/ch10_spread.md (seeds 0-2 x 1 and 2 threads, full and quick mode).
DEPTH_CHECKS = (
    Check("worst bpc below guessing", ">", full=1.0, quick=1.0),
    *(Check(f"unigram - bpc {k} 1", ">", full=0.0, quick=0.0) for k in ("rnn", "lstm", "gru")),
)
TAGGER_CHECKS = (Check("accuracy, bidirectional - left-to-right", ">", full=0.1, quick=0.1),)
LEAK_CHECKS = (Check("window ppl, bidirectional / left-to-right", "<", full=0.5, quick=0.5),
               Check("past-only ppl, bidirectional - left-to-right", ">", full=0.0, quick=0.0))
SPREAD = (Experiment("ch10", "depth", __name__, _spread_depth, DEPTH_CHECKS),
          Experiment("ch10", "tagger", __name__, _spread_tagger, TAGGER_CHECKS),
          Experiment("ch10", "leak", __name__, _spread_leak, LEAK_CHECKS))
