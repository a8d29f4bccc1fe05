"""Baselines and error analysis for the English→Chinese translation chapter."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

from ..data import dates, zh_numbers
from ..data.parallel import Pair, tokenize_en
from ..settings import device, pick, seed

# -- the source's picture taken literally: one Chinese piece per English word, in the same order ---------
WORD_BY_WORD = {w: zh_numbers.to_chinese(i) for i, w in enumerate(zh_numbers.ONES)}
WORD_BY_WORD |= {w: zh_numbers.to_chinese(10 * i) for i, w in enumerate(zh_numbers.TENS) if w}
WORD_BY_WORD |= {"hundred": "百", "thousand": "千", "million": "百万", "and": "", "-": "", ",": ""}
WORD_BY_WORD |= {m.lower(): f"{i}月" for i, m in enumerate(dates.MONTHS, 1)}
WORD_BY_WORD |= {m[:3].lower(): f"{i}月" for i, m in enumerate(dates.MONTHS, 1)} | {"sept": "9月"}
WORD_BY_WORD |= {w.lower(): f"星期{'一二三四五六日'[i]}" for i, w in enumerate(dates.WEEKDAYS)}
WORD_BY_WORD |= {d: d for d in "0123456789"}


def word_by_word(text: str) -> str:
    """Replace each English token by its dictionary entry and keep the order: "twelve thousand" -> 十二千."""
    return "".join(WORD_BY_WORD.get(t, "?") for t in tokenize_en(text))


def reference_of(text: str) -> tuple[str | None, str | None]:
    """The exact Chinese for ``text`` when it is a number in words or a date in a known style: (zh, kind)."""
    try:
        return zh_numbers.to_chinese(zh_numbers.parse_english(text)), "number"
    except ValueError:
        pass
    try:
        return dates.to_chinese_date(dates.parse_english_date(text)), "date"
    except ValueError:
        return None, None


def exact_match(predictions: Sequence[str], pairs: Sequence[Pair]) -> float:
    if len(predictions) != len(pairs) or not pairs:
        raise ValueError(f"exact_match: expected one prediction per pair (at least one); got {len(predictions)} "
                         f"predictions for {len(pairs)} pairs")
    return sum(p == q.zh for p, q in zip(predictions, pairs)) / len(pairs)


# -- error analysis ---------------------------------------------------------------------------------------
def zero_pattern(n: int) -> str:
    """Where the number's 零 come from: none, inside a four-digit group, across the 万 boundary, or both."""
    upper, lower = divmod(n, 10_000)
    inside = any("零" in zh_numbers._group(g) for g in (upper, lower) if g)
    across = bool(upper and lower and lower < 1000)
    return {(False, False): "no 零", (True, False): "零 inside a group",
            (False, True): "零 after 万", (True, True): "零 inside and after 万"}[(inside, across)]


def group_accuracy(pairs: Sequence[Pair], predictions: Sequence[str], key: Callable[[Pair], object]) -> list[dict]:
    """Rows {group, n, errors, exact match %} of ``pairs`` grouped by ``key(pair)``, in key order."""
    if len(pairs) != len(predictions):
        raise ValueError(f"group_accuracy: {len(pairs)} pairs but {len(predictions)} predictions")
    n, wrong = defaultdict(int), defaultdict(int)
    for p, q in zip(pairs, predictions):
        k = key(p)
        n[k] += 1
        wrong[k] += q != p.zh
    return [{"group": k, "n": n[k], "errors": wrong[k], "exact match %": 100.0 * (1 - wrong[k] / n[k])}
            for k in sorted(n, key=lambda k: (str(type(k)), k))]


def input_length(p: Pair) -> int:
    return len(tokenize_en(p.en))


def error_rates_by_length(pairs: Sequence[Pair], predictions: Sequence[str], cut: int) -> tuple[float, float]:
    """(error rate on inputs of at most ``cut`` tokens, error rate on longer inputs)."""
    short = [q != p.zh for p, q in zip(pairs, predictions) if input_length(p) <= cut]
    long = [q != p.zh for p, q in zip(pairs, predictions) if input_length(p) > cut]
    if not short or not long:
        raise ValueError(f"error_rates_by_length: cut={cut} leaves {len(short)} short and {len(long)} long inputs")
    return sum(short) / len(short), sum(long) / len(long)


MISTAKE_KINDS = ("only 零 differs", "digits right, places wrong", "a digit wrong")


def mistake_kind(expected: str, got: str) -> str:
    """What kind of mistake a wrong numeral is, judged from the characters alone.

    "only 零 differs": the same once every 零 is dropped (三百五 for 三百零五);
    "digits right, places wrong": the same non-zero digits in the same order, but units or grouping differ
    (三十六万七千 for 三百六十七万: digits on the wrong side of 万); otherwise "a digit wrong".
    """
    if got == expected:
        raise ValueError(f"mistake_kind: {got!r} is not a mistake")
    if got.replace("零", "") == expected.replace("零", ""):
        return MISTAKE_KINDS[0]
    digits = lambda s: [c for c in s if c in zh_numbers.DIGITS[1:]]
    return MISTAKE_KINDS[1] if digits(got) == digits(expected) else MISTAKE_KINDS[2]


def mistake_counts(pairs: Sequence[Pair], predictions: Sequence[str]) -> dict[str, int]:
    """How many of the wrong numbers are of each :data:`MISTAKE_KINDS` kind (number pairs only)."""
    counts = dict.fromkeys(MISTAKE_KINDS, 0)
    for p, q in zip(pairs, predictions):
        if p.kind == "number" and q != p.zh:
            counts[mistake_kind(p.zh, q)] += 1
    return counts


def failures(pairs: Sequence[Pair], predictions: Sequence[str], limit: int = 10) -> list[dict]:
    """The first ``limit`` mistakes as rows: English, expected Chinese, the model's Chinese."""
    rows = [{"English": p.en, "expected": p.zh, "model": q or "(empty)",
             "kind": mistake_kind(p.zh, q) if p.kind == "number" else "date"}
            for p, q in zip(pairs, predictions) if q != p.zh]
    return rows[:limit]


# -- one training recipe for the chapter and for the command line -----------------------------------------
@dataclass(frozen=True)
class Config:
    """Sizes of the translation experiment; :func:`config` picks them for quick or full mode."""

    max_number: int              # numbers are drawn from 0..max_number (training split only)
    numbers_per_epoch: int       # fresh pairs drawn every epoch
    dates_per_epoch: int
    epochs: int
    hidden_size: int
    embed_size: int = 32
    num_layers: int = 1
    kind: str = "gru"
    engine: str = "cudnn"
    reverse_source: bool = False  # read the English backwards (Sutskever et al. 2014)
    attention: str | None = None  # None: the fixed context h_S; "additive" or "multiplicative": attention (chapter 5b)
    batch_size: int = 64
    lr: float = 5e-3
    lr_decay: float = 1.0        # the learning rate is multiplied by this after every epoch
    clip: float = 1.0
    valid_size: int = 300        # held-out validation pairs scored after every epoch
    seed: int = 0


def config() -> Config:
    """The sizes of the chapter's experiment in the mode that runs."""
    return pick(
        full=Config(max_number=zh_numbers.MAX_NUMBER, numbers_per_epoch=20_000, dates_per_epoch=5_000, epochs=5,
                    hidden_size=128, batch_size=64, lr=5e-3, lr_decay=0.8),
        quick=Config(max_number=999_999, numbers_per_epoch=8_000, dates_per_epoch=4_000, epochs=4, hidden_size=128,
                     batch_size=64, lr=5e-3))


@dataclass(frozen=True)
class Limits:
    """Thresholds of chapter 5's training-dependent asserts, set from the spread study in
    ``results/05_translation_spread.md`` (seeds × 1 and 2 threads): counts of wrong held-out pairs, not rates."""

    numbers_wrong: int       # at most this many of the held-out numbers may come out wrong
    dates_wrong: int         # ... and of the held-out dates
    loss_ratio: float        # last epoch's training loss below this fraction of the first's


def limits() -> Limits:
    return pick(full=Limits(numbers_wrong=200, dates_wrong=60, loss_ratio=0.2),
                quick=Limits(numbers_wrong=400, dates_wrong=240, loss_ratio=0.2))


def study_config() -> Config:
    """Chapter 5b's comparison of the fixed context with attention: numbers only, a small state, equal budgets."""
    return pick(
        full=Config(max_number=zh_numbers.MAX_NUMBER, numbers_per_epoch=10_000, dates_per_epoch=0, epochs=6,
                    hidden_size=64, batch_size=64, lr=5e-3, valid_size=200),
        quick=Config(max_number=zh_numbers.MAX_NUMBER, numbers_per_epoch=3_000, dates_per_epoch=0, epochs=2,
                     hidden_size=32, batch_size=64, lr=5e-3, valid_size=100))


def build_model(S: Config, src_vocab, tgt_vocab):
    """The encoder–decoder of ``S``: fixed context (``S.attention is None``) or attention."""
    from .attention import AttentionSeq2Seq
    from .seq2seq import Seq2Seq

    if S.attention is None:
        return Seq2Seq(len(src_vocab), len(tgt_vocab), S.kind, S.engine, embed_size=S.embed_size,
                       hidden_size=S.hidden_size, num_layers=S.num_layers, reverse_source=S.reverse_source)
    if S.num_layers != 1 or S.reverse_source:
        raise ValueError("build_model: the attention model has one bidirectional encoder layer and reads the "
                         f"source forwards; got num_layers={S.num_layers}, reverse_source={S.reverse_source}")
    return AttentionSeq2Seq(len(src_vocab), len(tgt_vocab), S.kind, S.engine, embed_size=S.embed_size,
                            hidden_size=S.hidden_size, score=S.attention)


def train_translator(S: Config, progress: bool = False, on_epoch=None):
    """Build the vocabularies and the model, then ``fit`` it on fresh pairs every epoch. Returns
    ``(model, history, src_vocab, tgt_vocab)``; the history records exact match on validation pairs."""
    import torch

    from ..data.parallel import build_vocabs, fresh_batches, make_pairs
    from .seq2seq import evaluate, teacher_forcing_loss
    from ..train import fit

    seed(S.seed)
    src_vocab, tgt_vocab = build_vocabs()
    half = S.valid_size // 2 if S.dates_per_epoch else S.valid_size     # no dates in training: none in validation
    valid = make_pairs("valid", half, S.valid_size - half, S.max_number)
    model = build_model(S, src_vocab, tgt_vocab).to(device())
    opt = torch.optim.Adam(model.parameters(), lr=S.lr)

    def after_epoch(epoch, history):
        for group in opt.param_groups:          # a gentle decay: large steps first, fine ones at the end
            group["lr"] *= S.lr_decay
        if on_epoch is not None:
            on_epoch(epoch, history)

    batches = fresh_batches(S.numbers_per_epoch, S.dates_per_epoch, S.max_number, src_vocab, tgt_vocab,
                            S.batch_size, seed=S.seed, device=device())
    history = fit(model, batches, teacher_forcing_loss, epochs=S.epochs, optimizer=opt, clip=S.clip,
                  evaluate=lambda m: {"valid exact": evaluate(m, valid, src_vocab, tgt_vocab)["exact"]},
                  progress=progress, on_epoch=after_epoch)
    return model, history, src_vocab, tgt_vocab


def held_out_pairs(S: Config, numbers: int = 2000, dates_: int = 600) -> tuple[list[Pair], list[Pair]]:
    """The chapter's held-out test pairs: (numbers, dates). Below 100,000 every test number is used."""
    from ..data.parallel import make_pairs

    pairs = make_pairs("test", numbers, dates_, S.max_number, all_held_out=S.max_number < 100_000)
    return [p for p in pairs if p.kind == "number"], [p for p in pairs if p.kind == "date"]


UNITS = "十百千万"


def unit_focus(model, src_vocab, tgt_vocab, pairs: Sequence[Pair], limit: int = 200) -> list[dict]:
    """For each unit character (十 百 千 万) of the reference numerals: which English word gets the most attention.

    The model reads the reference (teacher forcing), so step t writes the t-th reference character;
    the English token with the largest weight α_tj is counted. One row per unit, its two most attended words.
    """
    from collections import Counter

    from .attention import attention_map

    seen = {u: Counter() for u in UNITS}
    for p in [p for p in pairs if p.kind == "number"][:limit]:
        en, zh, w = attention_map(model, src_vocab, tgt_vocab, p.en, p.zh)
        for t, ch in enumerate(zh[:-1]):
            if ch in seen:
                seen[ch][en[int(w[t].argmax())]] += 1
    rows = []
    for u, c in seen.items():
        n, top = sum(c.values()), c.most_common(2) + [("-", 0)] * 2
        if n:
            rows.append({"Chinese unit": u, "written": n, "most attended English token": top[0][0],
                         "share": top[0][1] / n, "runner-up": top[1][0], "its share": top[1][1] / n})
    return rows


def describe_focus(rows: list[dict]) -> str:
    """The unit-focus table in one sentence per unit."""
    return " ".join(f"Writing {r['Chinese unit']}, the model looks hardest at *{r['most attended English token']}* "
                    f"{r['share']:.0%} of the time (next: *{r['runner-up']}*, {r['its share']:.0%})."
                    for r in rows)


def error_counts(pairs: Sequence[Pair], predictions: Sequence[str], key: Callable[[Pair], object]) -> dict:
    """{group: (errors, n)} of ``pairs`` grouped by ``key``: integers, to compare rates exactly."""
    return {r["group"]: (r["errors"], r["n"]) for r in group_accuracy(pairs, predictions, key)}


def more_often(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether errors/n of ``a`` exceeds that of ``b``, compared as integers: e_a * n_b > e_b * n_a."""
    return a[0] * b[1] > b[0] * a[1]


def describe_mistakes(pairs: Sequence[Pair], predictions: Sequence[str]) -> str:
    """The error analysis of held-out numbers in two sentences, every number in them counted here."""
    wan = error_counts(pairs, predictions, lambda p: p.value >= 10_000)
    big, small = wan.get(True, (0, 0)), wan.get(False, (0, 0))
    wrong = big[0] + small[0]
    text = (f"Of the {len(pairs):,} held-out numbers, {wrong} come out wrong: {big[0]} of the {big[1]:,} from 10,000 "
            f"up and {small[0]} of the {small[1]:,} below 10,000.")
    if wrong:
        k = mistake_counts(pairs, predictions)
        text += (f" Of the wrong ones, {k[MISTAKE_KINDS[1]]} have every non-zero digit right but in the wrong "
                 f"places (the units and 万 around them), {k[MISTAKE_KINDS[0]]} differ only in a 零, and "
                 f"{k[MISTAKE_KINDS[2]]} have a wrong digit.")
    return text


def median_length(pairs: Sequence[Pair]) -> int:
    """The cut between the shorter and the longer half of the inputs (in tokens)."""
    return sorted(input_length(p) for p in pairs)[len(pairs) // 2]


def chapter_measures(S: Config) -> dict:
    """Train as chapter 5 does and return every number its training-dependent asserts read (for the spread)."""
    from .seq2seq import evaluate

    model, history, src_vocab, tgt_vocab = train_translator(S)
    numbers_test, dates_test = held_out_pairs(S)
    num, dat = (evaluate(model, ps, src_vocab, tgt_vocab) for ps in (numbers_test, dates_test))
    pred = num["predictions"]
    cut = median_length(numbers_test)
    wan = error_counts(numbers_test, pred, lambda p: p.value >= 10_000)
    longer = error_counts(numbers_test, pred, lambda p: input_length(p) > cut)
    return {"loss first": history.train_loss[0], "loss last": history.train_loss[-1],
            "numbers errors": sum(e for e, _ in wan.values()), "numbers n": len(numbers_test),
            "dates errors": sum(q != p.zh for q, p in zip(dat["predictions"], dates_test)), "dates n": len(dates_test),
            "numbers exact": num["exact"], "dates exact": dat["exact"],
            "errors from 10,000 up": list(wan.get(True, (0, 0))), "errors below 10,000": list(wan.get(False, (0, 0))),
            "errors longer half": list(longer.get(True, (0, 0))), "errors shorter half": list(longer.get(False, (0, 0))),
            "mistake kinds": mistake_counts(numbers_test, pred),
            "zero patterns": error_counts(numbers_test, pred, lambda p: zero_pattern(p.value)),
            "seconds": history.total_seconds}


def main(argv=None) -> None:
    """``python -m rnn_book translation``: train in this mode (full unless RNN_BOOK_QUICK=1), print held-out scores."""
    import argparse
    import dataclasses
    import time

    from .seq2seq import evaluate
    from ..settings import describe_device, mode_name

    p = argparse.ArgumentParser(prog="python -m rnn_book translation", description=main.__doc__)
    p.add_argument("--epochs", type=int, help="override the mode's number of epochs")
    args = p.parse_args(argv)
    S = config()
    if args.epochs:
        S = dataclasses.replace(S, epochs=args.epochs)
    print(f"mode: {mode_name()} | device: {describe_device()}\n{S}", flush=True)
    t0 = time.perf_counter()
    model, history, src_vocab, tgt_vocab = train_translator(
        S, on_epoch=lambda e, h: print(f"epoch {e + 1}: loss {h.train_loss[-1]:.4f}, {h.valid[-1]}", flush=True))
    print(f"trained in {time.perf_counter() - t0:.0f} s")
    for name, ps in zip(("numbers", "dates"), held_out_pairs(S)):
        r = evaluate(model, ps, src_vocab, tgt_vocab)
        print(f"held-out {name} ({len(ps)}): exact match {r['exact']:.2%}, char BLEU {r['bleu']:.2f}")
        for row in group_accuracy(ps, r["predictions"], input_length):
            print("   ", row)
