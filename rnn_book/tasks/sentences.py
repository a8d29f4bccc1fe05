"""Translating real sentences (chapter 5b): baselines, training, scores, beam sweeps, exposure bias, attention maps.

The data are the HSK sentence pairs (:mod:`rnn_book.data.hsk`): English words in, Chinese characters
out. Scores are sacrebleu's BLEU (``tokenize="zh"``: one token per Chinese character) and chrF, on
the held-out test split; :mod:`rnn_book.tasks.bleu` computes the same BLEU by hand.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

import torch

from ..data import hsk
from ..data.parallel import Pair, PairBatches, collate, tokenize_en, tokenize_zh
from ..data.vocab import Vocab
from ..settings import device, device_of, pick, seed as seed_all
from .attention import AttentionSeq2Seq
from .seq2seq import Seq2Seq, beam_translate, greedy_translate, masked_cross_entropy, teacher_forcing_loss

# -- scores -----------------------------------------------------------------------------------------------


def scores(hyps: Sequence[str], refs: Sequence[str]) -> dict:
    """sacrebleu's corpus BLEU (tokenize="zh") and chrF of Chinese ``hyps`` against one reference each."""
    import sacrebleu

    if len(hyps) != len(refs) or not refs:
        raise ValueError(f"scores: expected one hypothesis per reference (at least one); got {len(hyps)} "
                         f"hypotheses and {len(refs)} references")
    return {"BLEU": sacrebleu.corpus_bleu(list(hyps), [list(refs)], tokenize="zh").score,
            "chrF": sacrebleu.corpus_chrf(list(hyps), [list(refs)]).score}


# -- baselines a reader can follow ------------------------------------------------------------------------
PUNCTUATION = {".": "。", ",": "，", "?": "？", "!": "！", ";": "；"}
_NOT_CONTENT = {"to", "a", "an", "the", "of", "sb", "sth", "be", "and", "or", "s", "used", "in", "as", "for"}


class GlossDictionary:
    """Word by word through the corpus' own glosses, inverted: English word -> the Chinese word it glosses.

    A pair (English word e, Chinese word w) counts when e occurs in a gloss of w AND in the English
    translation of the same training sentence; each e keeps its most frequent w. Translation replaces
    every known English word (and . , ? ! ;) in order and drops the rest.
    """

    def __init__(self, train: Sequence[hsk.Sentence]):
        counts: dict[str, Counter] = defaultdict(Counter)
        for s in train:
            words = set(tokenize_en(s.en))
            for w, gloss in s.glosses:
                for e in {e for sense in hsk.gloss_senses(gloss) for e in tokenize_en(sense)}:
                    if e in words and e.isalpha() and e not in _NOT_CONTENT:
                        counts[e][w] += 1
        self.table = {e: c.most_common(1)[0][0] for e, c in sorted(counts.items())} | PUNCTUATION

    def __call__(self, text: str) -> str:
        return "".join(self.table.get(t, "") for t in tokenize_en(text))


class Retrieval:
    """Nearest neighbour: the training sentence whose English shares most words with the input -> its Chinese.

    Overlap is the Jaccard index of the two sets of English tokens; ties go to the earlier sentence.
    """

    def __init__(self, train: Sequence[hsk.Sentence]):
        self.sets = [frozenset(tokenize_en(s.en)) for s in train]
        self.zh = [s.zh for s in train]
        self.index: dict[str, list[int]] = defaultdict(list)
        for i, words in enumerate(self.sets):
            for w in words:
                self.index[w].append(i)

    def nearest(self, text: str) -> int:
        q = frozenset(tokenize_en(text))
        shared = Counter(i for w in q for i in self.index.get(w, ()))
        if not shared:
            return 0
        return max(shared, key=lambda i: (shared[i] / len(q | self.sets[i]), -i))

    def __call__(self, text: str) -> str:
        return self.zh[self.nearest(text)]


# -- models -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """Sizes of the sentence models; :func:`config` picks them for quick or full mode."""

    epochs: int
    hidden_size: int
    embed_size: int
    batch_size: int = 32
    lr: float = 2e-3
    dropout: float = 0.3
    clip: float = 1.0
    kind: str = "gru"
    engine: str = "cudnn"
    min_count: int = 1            # English words seen fewer times in training become <unk>
    patience: int = 3             # early stopping on the validation loss
    max_train: int | None = None  # use only the first sentences of the training split (quick mode)
    glosses: bool = False         # also train on the glosses of the training sentences, as word pairs
    alpha: float = 1.0            # length normalisation of the beam in the results (log P / length**alpha)
    sort_within: int = 20         # batch sentences of similar length (windows of this many batches)


def config() -> Config:
    return pick(full=Config(epochs=10, hidden_size=128, embed_size=64, batch_size=64, lr=3e-3, patience=2, glosses=True),
                quick=Config(epochs=4, hidden_size=48, embed_size=32, batch_size=64, max_train=1200, patience=10))


def sweep_pairs() -> list[Pair]:
    """The test pairs of the beam sweep and the exposure-bias measurement: all of them, or 40 in quick mode."""
    return pick(full=hsk.pairs("test"), quick=hsk.pairs("test")[:40])


def build_model(S: Config, src: Vocab, tgt: Vocab, attention: str | None) -> torch.nn.Module:
    """The no-attention encoder–decoder (``attention=None``) or the attention model with score ``attention``."""
    if attention is None:
        return Seq2Seq(len(src), len(tgt), S.kind, S.engine, embed_size=S.embed_size, hidden_size=S.hidden_size,
                       dropout=S.dropout)
    return AttentionSeq2Seq(len(src), len(tgt), S.kind, S.engine, embed_size=S.embed_size,
                            hidden_size=S.hidden_size, score=attention, dropout=S.dropout)


@torch.no_grad()
def corpus_loss(model, pairs: Sequence[Pair], src: Vocab, tgt: Vocab, batch_size: int = 256) -> float:
    """Teacher-forced masked cross-entropy over ``pairs``, per Chinese token (nats)."""
    model.eval()
    dev, total, n = device_of(model), 0.0, 0
    for i in range(0, len(pairs), batch_size):
        b = collate(pairs[i:i + batch_size], src, tgt)
        tokens = int((b.tgt_out != tgt.pad_id).sum())
        logits = model(b.src.to(dev), b.src_lengths, b.tgt_in.to(dev))
        total += float(masked_cross_entropy(logits, b.tgt_out.to(dev), tgt.pad_id)) * tokens
        n += tokens
    return total / n


@dataclass
class Run:
    model: torch.nn.Module
    history: object
    seconds: float
    src: Vocab
    tgt: Vocab


def train(S: Config, attention: str | None, seed: int = 0, progress: bool = False, on_epoch=None) -> Run:
    """Train one model on the training split, early-stopped on the validation loss."""
    from ..train import fit

    seed_all(seed)
    src, tgt = hsk.build_vocabs(S.min_count, S.glosses)
    train_pairs = hsk.pairs("train")[:S.max_train]
    if S.glosses:
        train_pairs += hsk.gloss_pairs(hsk.sentences("train")[:S.max_train])
    valid = hsk.pairs("valid")
    model = build_model(S, src, tgt, attention).to(device())
    batches = PairBatches(train_pairs, src, tgt, S.batch_size, seed=seed, sort_within=S.sort_within)
    t0 = time.perf_counter()
    history = fit(model, batches, teacher_forcing_loss, epochs=S.epochs, lr=S.lr, clip=S.clip,
                  evaluate=lambda m: {"valid loss": corpus_loss(m, valid, src, tgt)},
                  early_stopping=("valid loss", S.patience), progress=progress, on_epoch=on_epoch)
    return Run(model, history, time.perf_counter() - t0, src, tgt)


def translate(run: Run, texts: Sequence[str], width: int = 1, alpha: float = 0.0) -> list[str]:
    """Greedy (``width=1``) or beam translations of ``texts``."""
    if width == 1:
        return greedy_translate(run.model, list(texts), run.src, run.tgt)
    return [beam_translate(run.model, t, run.src, run.tgt, width=width, alpha=alpha)[0][0] for t in texts]


# -- exposure bias: the decoder is trained on true prefixes and then has to live with its own -----------
@torch.no_grad()
def free_running_loss(model, pairs: Sequence[Pair], src: Vocab, tgt: Vocab, batch_size: int = 256) -> float:
    """Cross-entropy of the reference tokens when the decoder reads its OWN previous (greedy) tokens.

    Step t scores the reference token y_t given the model's prefix ŷ_<t instead of the true y_<t; the
    mean runs over the same real target tokens as :func:`corpus_loss`, so the two are comparable.
    """
    from .seq2seq import NEVER_WRITTEN

    model.eval()
    dev, total, n = device_of(model), 0.0, 0
    for i in range(0, len(pairs), batch_size):
        b = collate(pairs[i:i + batch_size], src, tgt)
        target = b.tgt_out.to(dev)
        state = model.encode(b.src.to(dev), b.src_lengths)
        tokens, nll = b.tgt_in[:, :1].to(dev), []
        for t in range(target.shape[1]):
            logits, state = model.decode(tokens, state)
            logp = logits[:, -1].log_softmax(-1)
            nll.append(-logp.gather(1, target[:, t:t + 1]))                  # -log P(y_t | ŷ_<t, x)
            logp[:, list(NEVER_WRITTEN)] = float("-inf")
            tokens = logp.argmax(-1, keepdim=True)                           # the model's own next token
        mask = target != tgt.pad_id
        total += float(torch.cat(nll, 1)[mask].sum())
        n += int(mask.sum())
    return total / n


def exposure_gap(run: Run, pairs: Sequence[Pair]) -> dict:
    """Teacher-forced and free-running loss (nats per Chinese token) on ``pairs``, and their difference."""
    forced = corpus_loss(run.model, pairs, run.src, run.tgt)
    free = free_running_loss(run.model, pairs, run.src, run.tgt)
    return {"teacher-forced loss": forced, "free-running loss": free, "gap": free - forced}


# -- beam search: width and length normalisation ------------------------------------------------------------
def beam_sweep(run: Run, pairs: Sequence[Pair], widths: Sequence[int] = (1, 2, 4, 8),
               alphas: Sequence[float] = (0.0, 0.6, 1.0)) -> list[dict]:
    """BLEU, chrF and the output/reference length ratio for every (width, alpha) on ``pairs``."""
    refs, rows = [p.zh for p in pairs], []
    ref_chars = sum(len(tokenize_zh(r)) for r in refs)
    for alpha in alphas:
        for width in widths:
            hyps = [beam_translate(run.model, p.en, run.src, run.tgt, width=width, alpha=alpha)[0][0] for p in pairs]
            rows.append({"width": width, "alpha": alpha, **scores(hyps, refs),
                         "length ratio": sum(len(tokenize_zh(h)) for h in hyps) / ref_chars})
    return rows


# -- everything chapter 5b asserts after training, for the spread study and the results table ---------------
def chapter_measures(seed: int = 0) -> dict:
    """Train chapter 5b's four models with ``seed`` and return every number its training-dependent asserts
    read, and the results table's numbers (scores, parameters, training time)."""
    from dataclasses import replace as with_
    from ..train import count_parameters
    from . import translation as N
    from .seq2seq import evaluate

    out: dict = {"seed": seed}
    study = N.study_config()
    numbers_test = N.held_out_pairs(study)[0]
    for name, score in (("fixed", None), ("attention", "additive")):
        model, history, src, tgt = N.train_translator(with_(study, attention=score, seed=seed))
        pred = evaluate(model, numbers_test, src, tgt)["predictions"]
        cut = N.median_length(numbers_test)
        halves = N.error_counts(numbers_test, pred, lambda p: N.input_length(p) > cut)
        out[f"numbers {name}"] = {"errors": sum(p != q.zh for p, q in zip(pred, numbers_test)), "n": len(numbers_test),
                                  "longer half": list(halves[True]), "shorter half": list(halves[False]),
                                  "seconds": history.total_seconds}
        if score:
            out["numbers attention"]["focus"] = N.unit_focus(model, src, tgt, numbers_test)
    S = config()
    test = hsk.pairs("test")
    refs = [p.zh for p in test]
    for name, score in (("encoder–decoder", None), ("with attention", "additive")):
        run = train(S, score, seed=seed)
        row = {"parameters": count_parameters(run.model), "seconds": run.seconds,
               "epochs": len(run.history.train_loss), "valid loss": run.history.metric("valid loss")}
        for width in (1, 4):
            row[f"width {width}"] = scores(translate(run, [p.en for p in test], width=width, alpha=S.alpha), refs)
        row["exposure"] = exposure_gap(run, sweep_pairs())
        if score:
            row["beam sweep"] = beam_sweep(run, sweep_pairs(), widths=(8,), alphas=(0.0, 1.0))
        out[name] = row
    return out


def baseline_scores() -> dict:
    """BLEU and chrF of the two baselines on the test split (no training, no seed)."""
    train_s, test = hsk.sentences("train"), hsk.pairs("test")
    refs = [p.zh for p in test]
    return {"word by word (glosses)": scores([GlossDictionary(train_s)(p.en) for p in test], refs),
            "nearest neighbour": scores([Retrieval(train_s)(p.en) for p in test], refs)}
