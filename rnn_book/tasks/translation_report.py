"""Long runs of the translation chapters (5 and 5b), written to ``results/``.

    python -m rnn_book translation-report table                    # results/translation_sentences.md (+ .json)
    python -m rnn_book translation-report spread 05 --seeds 0 1 2 --threads 1 --out part.json
    python -m rnn_book translation-report merge 05 part1.json part2.json ...   # results/05_translation_spread.md
    python -m rnn_book translation-report run sentences --attention additive --set hidden_size=96

``table``: the issue-19 table on the held-out test sentences: baselines, the encoder–decoder without
and with attention (greedy and beam), BLEU, chrF, parameters, training minutes, device, several seeds.
``spread``: every training-dependent quantity a chapter asserts, for each seed and thread count, so that
thresholds come from a measured spread; ``merge`` joins the parts into one file per chapter.
``run``: one training run with some settings changed, its scores as one JSON line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import statistics
import time
from pathlib import Path


def _log(msg: str) -> None:
    print(msg, flush=True)


def parse_settings(pairs, config) -> dict:
    """["hidden_size=96", "lr=0.003"] -> {"hidden_size": 96, "lr": 0.003}, typed by ``config``'s fields."""
    fields = {f.name: f for f in dataclasses.fields(config)}
    out = {}
    for item in pairs or []:
        name, _, value = item.partition("=")
        if name not in fields:
            raise SystemExit(f"--set: {name!r} is not a setting; settings: {', '.join(fields)}")
        kind = str(fields[name].type)                    # e.g. "int", "float", "str | None", "bool"
        if value in ("None", "none"):
            out[name] = None
        elif kind.startswith("bool"):
            out[name] = value.lower() in ("1", "true", "yes")
        elif kind.startswith("int"):
            out[name] = int(value)
        elif kind.startswith("float"):
            out[name] = float(value)
        else:
            out[name] = value
    return out


def run_sentences(attention: str | None, changes: dict, seed: int) -> dict:
    """One sentence model: training, greedy test scores, validation curve, time."""
    from ..data import hsk
    from ..train import count_parameters
    from . import sentences as T

    S = dataclasses.replace(T.config(), **changes)
    tag = f"sentences {attention} {changes}"
    run = T.train(S, attention, seed=seed, on_epoch=lambda e, h: _log(f"{tag} epoch {e + 1}: "
                  f"{h.seconds[-1]:.1f} s, train {h.train_loss[-1]:.3f}, valid {h.valid[-1]['valid loss']:.3f}"))
    test = hsk.pairs("test")
    hyps = T.translate(run, [p.en for p in test])
    return {"task": "sentences", "attention": attention, "seed": seed, "settings": dataclasses.asdict(S),
            **T.scores(hyps, [p.zh for p in test]), "parameters": count_parameters(run.model),
            "seconds": run.seconds, "epochs": len(run.history.train_loss), "best epoch": run.history.best_epoch,
            "valid loss": [v["valid loss"] for v in run.history.valid], "sample": hyps[:5]}


def run_numbers(changes: dict, seed: int) -> dict:
    """One number/date translator: held-out exact match, errors by input length."""
    from . import translation as N
    from .seq2seq import evaluate

    S = dataclasses.replace(N.config(), seed=seed, **changes)
    t0 = time.perf_counter()
    tag = f"numbers {changes}"
    model, history, src, tgt = N.train_translator(S, on_epoch=lambda e, h: _log(
        f"{tag} epoch {e + 1}: {h.seconds[-1]:.1f} s, train {h.train_loss[-1]:.4f}, {h.valid[-1]}"))
    seconds = time.perf_counter() - t0
    numbers, dates = N.held_out_pairs(S)
    out = {"task": "numbers", "seed": seed, "settings": dataclasses.asdict(S), "seconds": seconds,
           "train loss": history.train_loss, "valid exact": history.metric("valid exact")}
    for name, ps in (("numbers", numbers), ("dates", dates if S.dates_per_epoch else [])):
        if not ps:
            continue
        r = evaluate(model, ps, src, tgt)
        out[f"{name} exact"], out[f"{name} errors"], out[f"{name} n"] = r["exact"], \
            sum(p != q.zh for p, q in zip(r["predictions"], ps)), len(ps)
        if name == "numbers":
            out["errors by length"] = N.group_accuracy(ps, r["predictions"], N.input_length)
    return out


def main(argv=None):
    argv = list(argv) if argv is not None else []
    ap = argparse.ArgumentParser(prog="python -m rnn_book translation-report", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run", help="one training run with changed settings, as one JSON line")
    r.add_argument("task", choices=("sentences", "numbers"))
    r.add_argument("--attention", default=None, help="sentences: None, additive or multiplicative")
    r.add_argument("--set", nargs="*", default=[], help="settings to change, name=value")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--quick", action="store_true")
    r.add_argument("--out", help="append the JSON line to this file too")
    args = ap.parse_args(argv)

    if args.what == "run":
        import torch

        from ..settings import threads

        os.environ["RNN_BOOK_QUICK"] = "1" if args.quick else "0"
        with threads(args.threads):
            if args.task == "sentences":
                from . import sentences as T
                att = None if args.attention in (None, "None", "none") else args.attention
                result = run_sentences(att, parse_settings(args.set, T.config()), args.seed)
            else:
                from . import translation as N
                result = run_numbers(parse_settings(args.set, N.config()), args.seed)
        result |= {"threads": args.threads, "torch": torch.__version__, "device": _device()}
        line = json.dumps(result, ensure_ascii=False)
        print(line, flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return result
    return None


def _device() -> str:
    from ..settings import describe_device
    return describe_device()
