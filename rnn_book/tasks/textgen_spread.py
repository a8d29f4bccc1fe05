"""Chapter 4's training-dependent numbers over seeds and thread counts, and the thresholds it asserts.

    python -m rnn_book textgen-spread --mode quick --seeds 0 1 2 3 4 --threads 1 2
    python -m rnn_book textgen-spread --mode full --rounds 10 --kinds lstm --seeds 0 1 2 --threads 1 2

runs what chapter 4 runs (n-gram bars, the LSTM, samples, RNN and GRU, the 诗经 LSTM and its poems)
once per seed and thread count, and merges the records into ``results/ch04_spread.json`` and the
summary ``results/ch04_spread.md``. ``--rounds`` shortens the full-mode runs (a full run of every
model takes about an hour on one core): the records say which budget they come from.
"""
from __future__ import annotations

import argparse
import functools
import os

import torch

from ..settings import pick, seed as set_seed
from .spread import Check, measure_grid, thresholds, write

NAME = "ch04_spread"
BAR_ORDER_QUICK = 3             # quick mode's bar: the Kneser-Ney 3-gram (full mode: the best n-gram)

CHECKS = (
    Check("lstm / bar", "<", 1.0, 1.0, "the LSTM beats the bar (full: best n-gram; quick: the 3-gram)"),
    Check("lstm / untrained", "<", 0.5, 0.5, "training lowered the validation perplexity"),
    Check("carried / reset", "<", 0.97, 0.97, "the carried hidden state helps predict the next characters"),
    # above what an untrained LSTM's samples reach (tests/test_ch04_text.py): a bar of 0 would let it pass
    Check("words T=0.5 - T=1.5", ">", 0.2, 0.2, "a lower temperature writes more real words"),
    Check("words T=0.5", ">", 0.5, 0.5, "the trained model writes mostly real words"),
    Check("words T=0.5 - untrained", ">", 0.3, 0.3, "... and far more than the untrained one"),
    Check("distinct T=1 - greedy", ">", 0.0, 0.0, "greedy decoding repeats itself more than sampling"),
    Check("worst cell / unigram", "<", 1.0, 1.0, "every recurrent cell beats the unigram"),
    Check("poet / bar", "<", 1.0, 1.0, "the 诗经 LSTM beats the bar (full: best n-gram; quick: unigram)"),
    Check("form trained", ">=", 0.6, 0.6, "the trained model writes four-character clauses"),
    Check("form untrained", "<", 0.3, 0.3, "an untrained model has no sense of the form"),
)


def limits(mode: str | None = None) -> dict[str, float]:
    """The thresholds chapter 4 asserts, in the mode that runs."""
    return thresholds(CHECKS, mode)


def bar(rows: list[dict]) -> tuple[str, float]:
    """(name, validation perplexity) of the bar the LSTM must beat: the best n-gram in full mode, the
    Kneser-Ney 3-gram in quick mode (where the LSTM has trained for a few hundred steps)."""
    best = min(rows, key=lambda r: r["valid perplexity"])
    tri = next(r for r in rows if r["order"] == BAR_ORDER_QUICK and r["smoothing"] == "kneser_ney")
    r = pick(full=best, quick=tri)
    return r["model"], r["valid perplexity"]


@functools.lru_cache(maxsize=None)
def _baselines(corpus: str) -> tuple:
    from . import lm
    from .ngram import baseline_table

    data = lm.load(corpus)
    rows = baseline_table(data.train, data.valid, len(data.vocab), orders=lm.ngram_orders(corpus))
    return data, rows


def measure(seed: int, kinds=("lstm", "rnn", "gru"), **overrides) -> dict[str, float]:
    """Chapter 4's asserted numbers for one seed (``overrides`` replace sizes of :func:`lm.config`).

    ``kinds=("lstm",)`` leaves out the RNN and the GRU, which only the assert against the unigram needs.
    """
    from . import lm, sampling

    en, rows = _baselines("moby_dick")
    unigram = next(r for r in rows if r["order"] == 1 and r["smoothing"] == "kneser_ney")["valid perplexity"]
    S = lm.config("moby_dick")
    set_seed(seed)
    untrained = lm.build_model("lstm", len(en.vocab), S.hidden_size, embed_size=S.embed_size, num_layers=S.num_layers)
    untrained_ppl = lm.evaluate_stream(untrained, en.valid)["ppl"]
    runs = {kind: lm.run(kind, en, seed=seed, **overrides) for kind in dict.fromkeys(("lstm", *kinds))}
    main = runs["lstm"]
    carried = lm.evaluate_stream(main.model, en.valid, seq_len=16)["ppl"]
    reset = lm.evaluate_stream(main.model, en.valid, seq_len=16, carry=False)["ppl"]
    g = torch.Generator().manual_seed(seed)
    samples = sampling.write_samples(main.model, en.vocab, "The whale ", 400, g)
    words = sampling.known_words(en.vocab.decode(en.train))
    share = {k: sampling.word_share(s, words) for k, s in samples.items()}
    noise = sampling.word_share(sampling.generate(untrained, en.vocab, "The whale ", 400, generator=g), words)
    distinct = {k: sampling.distinct_share(s) for k, s in samples.items()}

    zh, zh_rows = _baselines("shijing")
    zh_best = min(r["valid perplexity"] for r in zh_rows)
    zh_unigram = zh_rows[0]["valid perplexity"]
    poet = lm.run("lstm", zh, seed=seed, **overrides)
    g = torch.Generator().manual_seed(seed + 1)
    poems = sampling.write_poems(poet.model, zh.vocab, g)
    set_seed(seed)
    blank = lm.build_model("lstm", len(zh.vocab), lm.config("shijing").hidden_size)
    noise_poems = sampling.write_poems(blank, zh.vocab, g)
    return {"lstm ppl": main.valid_ppl, "bar ppl": bar(rows)[1],
            "lstm / bar": main.valid_ppl / bar(rows)[1], "lstm / untrained": main.valid_ppl / untrained_ppl,
            "carried / reset": carried / reset,
            "words T=0.5 - T=1.5": share["T = 0.5"] - share["T = 1.5"], "words T=0.5": share["T = 0.5"],
            "words T=0.5 - untrained": share["T = 0.5"] - noise,
            "distinct T=1 - greedy": distinct["T = 1.0"] - distinct["greedy"],
            **{f"{k} ppl": r.valid_ppl for k, r in runs.items() if k != "lstm"},
            "worst cell / unigram": max(r.valid_ppl for r in runs.values()) / unigram,
            "poet ppl": poet.valid_ppl, "poet / bar": poet.valid_ppl / pick(full=zh_best, quick=zh_unigram),
            "form trained": sampling.form_score("".join(poems)),
            "form untrained": sampling.form_score("".join(noise_poems))}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m rnn_book textgen-spread", description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=("quick", "full"), required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=None, help="shorter full-mode runs: this many rounds per model")
    ap.add_argument("--kinds", nargs="+", default=["lstm", "rnn", "gru"], choices=("lstm", "rnn", "gru"),
                    help="cells to train on Moby-Dick (the RNN and GRU only serve the assert against the unigram)")
    ap.add_argument("--out", default=None, help="folder for the JSON and Markdown files (default: results/)")
    args = ap.parse_args(argv)
    os.environ["RNN_BOOK_QUICK"] = "1" if args.mode == "quick" else "0"
    overrides = {"rounds": args.rounds} if args.rounds else {}
    budget = {**overrides, **({"cells": args.kinds} if set(args.kinds) != {"lstm", "rnn", "gru"} else {})}
    cmd = "python -m rnn_book textgen-spread --mode quick|full [--rounds N] [--kinds ...] --seeds ... --threads ..."
    save = lambda recs: write(NAME, recs, CHECKS, "Chapter 4: spread of the asserted numbers over seeds and threads",
                              cmd, args.out)
    records = measure_grid(lambda s: measure(s, args.kinds, **overrides), args.seeds, args.threads,
                           on_record=lambda r: save([r]), **({"budget": budget} if budget else {}))
    paths = save(records)
    print("wrote", *paths)
    return paths
