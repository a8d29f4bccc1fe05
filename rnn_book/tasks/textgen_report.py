"""Full-mode results of the text-generation chapter, written to a Markdown file.

    python -m rnn_book textgen-report                  # writes results/text_generation.md

trains every model of chapter 4 at full size (English: n-gram baselines, RNN / LSTM / GRU at equal
hidden size; Chinese: 诗经) and writes the validation perplexities, speeds and samples to ``--out``.
``--quick`` runs the quick-mode sizes instead (for checking that the command works).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import time
from pathlib import Path

import torch

DEFAULT_OUT = "results/text_generation.md"
PROMPT = "The whale "
SAMPLES = 300                   # characters per English sample
POEM_PROMPTS = ("关关", "青青", "南山", "")
SAMPLINGS = (("greedy", dict(greedy=True)), ("temperature 0.5", dict(temperature=0.5)),
             ("temperature 1.0", dict(temperature=1.0)), ("top-k 5", dict(top_k=5)))


def _log(msg: str) -> None:
    print(msg, flush=True)


def command_line(argv: list[str]) -> str:
    """The command that reproduces this report, as it was run."""
    return " ".join(["python -m rnn_book textgen-report", *map(shlex.quote, argv)])


def header(argv: list[str], seed: int) -> list[str]:
    from .. import describe_device, mode_name

    return [f"# Text generation (chapter 4): {mode_name()}-mode results", "",
            f"Device: {describe_device()}. torch {torch.__version__}. Seed {seed}. "
            f"Written by `{command_line(argv)}`; run it again to replace this file with your own machine's numbers.",
            ""]


def perplexity_rows(rows: list[dict]) -> list[dict]:
    return [{"model": r["model"], "valid perplexity": r["valid perplexity"]} for r in rows]


def english_section(seed: int, g: torch.Generator) -> list[str]:
    """n-gram baselines, then RNN, LSTM and GRU at equal hidden size on Moby-Dick, and samples from the best."""
    from ..plots import table
    from ..train import count_parameters
    from . import lm
    from .ngram import baseline_table
    from .sampling import generate

    c, en = lm.config("moby_dick"), lm.load("moby_dick")
    _log(f"{en}")
    ngrams = baseline_table(en.train, en.valid, len(en.vocab), orders=lm.ngram_orders("moby_dick"))
    best = min(ngrams, key=lambda r: r["valid perplexity"])
    _log(f"best n-gram: {best['model']} {best['valid perplexity']:.3f}")
    runs, rows = {}, []
    for kind in ("rnn", "lstm", "gru"):
        runs[kind] = r = lm.run(kind, en, seed=seed)
        _log(f"{kind}: valid perplexity {r.valid_ppl:.3f}, {r.tokens_per_second:,.0f} tokens/s")
        rows.append({"model": f"{kind.upper()} (cudnn engine), {c.num_layers} layer(s) of {c.hidden_size}",
                     "parameters": count_parameters(r.model), "valid perplexity": r.valid_ppl,
                     "tokens/s": round(r.tokens_per_second), "train minutes": r.seconds / 60})
    verdicts = ", ".join(f"{k.upper()} {'beats' if r.valid_ppl < best['valid perplexity'] else 'does NOT beat'} it"
                         for k, r in runs.items())
    lines = ["## English: Moby-Dick, characters", "", f"{en}", "", f"Settings: `{dataclasses.asdict(c)}`", "",
             "### Validation perplexity (lower is better)", "",
             table(perplexity_rows(ngrams) + perplexity_rows(rows), floatfmt=".3f"), "",
             "### RNN vs LSTM vs GRU at equal hidden size", "", table(rows, floatfmt=".3f"), "",
             f"Best n-gram: {best['model']}, {best['valid perplexity']:.3f}. {verdicts}.", ""]
    best_kind = min(runs, key=lambda k: runs[k].valid_ppl)
    lines += [f"### Samples from the {best_kind.upper()}, each starting from the prompt \"{PROMPT}\"", ""]
    for label, kw in SAMPLINGS:
        text = generate(runs[best_kind].model, en.vocab, PROMPT, SAMPLES, generator=g, **kw)
        lines += [f"**{label}:**", "", "```text", PROMPT + text, "```", ""]
    return lines


def chinese_section(seed: int, g: torch.Generator) -> list[str]:
    """n-gram baselines and one LSTM on 诗经, with poems and their four-character share."""
    from ..data.text import load_corpus
    from ..plots import table
    from . import lm
    from .ngram import baseline_table
    from .sampling import form_score, generate

    c, zh = lm.config("shijing"), lm.load("shijing")
    _log(f"{zh}")
    ngrams = baseline_table(zh.train, zh.valid, len(zh.vocab), orders=lm.ngram_orders("shijing"))
    r = lm.run("lstm", zh, seed=seed)
    _log(f"shijing lstm: valid perplexity {r.valid_ppl:.3f}")
    poems = [generate(r.model, zh.vocab, p, 120, temperature=0.8, stop="\n", generator=g) for p in POEM_PROMPTS]
    rows = perplexity_rows(ngrams) + [{"model": f"LSTM, hidden {c.hidden_size}", "valid perplexity": r.valid_ppl}]
    return (["## Chinese: 诗经, characters", "", f"{zh}", "", f"Settings: `{dataclasses.asdict(c)}`", "",
             table(rows, floatfmt=".2f"), "",
             f"Share of generated clauses with four characters: {form_score(''.join(poems)):.2f} "
             f"(in the corpus: {form_score(load_corpus('shijing')):.2f}).", "", "```text"]
            + [p + t.rstrip("\n") for p, t in zip(POEM_PROMPTS, poems)] + ["```", ""])


def main(argv=None) -> Path:
    argv = list(argv) if argv is not None else []
    ap = argparse.ArgumentParser(prog="python -m rnn_book textgen-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="Markdown file to write")
    ap.add_argument("--quick", action="store_true", help="quick-mode sizes (a smoke test), not the full results")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.environ["RNN_BOOK_QUICK"] = "1" if args.quick else "0"      # pick() reads it at every call
    t_start = time.perf_counter()
    g = torch.Generator().manual_seed(args.seed)
    lines = header(argv, args.seed) + english_section(args.seed, g) + chinese_section(args.seed, g)
    lines += [f"Total time: {(time.perf_counter() - t_start) / 60:.1f} minutes.", ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    _log(f"wrote {out}")
    return out
