"""Full-mode results of the text-generation chapter, written to a Markdown file.

    python -m rnn_book textgen-report --out results/text_generation.md --readme README.md

trains every model of chapter 4 at full size (English: n-gram baselines, RNN / LSTM / GRU at equal
hidden size; Chinese: 诗经) and writes the validation perplexities, speeds and samples to ``--out``;
``--readme`` also replaces the results section of that README (between the two
``textgen-results`` markers). ``--quick`` runs the quick-mode sizes instead (for checking that the
command works).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

START, END = "<!-- textgen-results:start -->", "<!-- textgen-results:end -->"


def splice(readme: str, report: str) -> str:
    """``readme`` with the text between the results markers replaced by ``report`` (headings one level down)."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"textgen_report: the README needs exactly one {START} line followed by one {END} line")
    body = "\n".join("#" + line if line.startswith("#") else line for line in report.strip().splitlines())
    head, rest = readme.split(START)
    return head + START + "\n" + body + "\n" + END + rest.split(END, 1)[1]


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser(prog="python -m rnn_book textgen-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/text_generation.md", help="Markdown file to write")
    ap.add_argument("--readme", default=None, help="also write the results into this README, between its markers")
    ap.add_argument("--quick", action="store_true", help="quick-mode sizes (a smoke test), not the full results")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.environ["RNN_BOOK_QUICK"] = "1" if args.quick else "0"      # pick() reads it at every call

    from .. import describe_device, mode_name
    from . import lm
    from .ngram import baseline_table
    from ..data.text import load_corpus
    from ..plots import table
    from .sampling import form_score, generate
    from ..train import count_parameters

    import torch

    t_start = time.perf_counter()
    lines = [f"# Text generation (chapter 4): {mode_name()}-mode results", "",
             f"Device: {describe_device()}. torch {torch.__version__}. Seed {args.seed}. "
             f"Written by `python -m rnn_book textgen-report{' --quick' if args.quick else ''} --readme README.md`; "
             "run it again to replace this section with your own machine's numbers.", ""]

    def log(msg):
        print(msg, flush=True)

    # English
    s = lm.settings("moby_dick")
    en = lm.load("moby_dick")
    log(f"{en}")
    lines += ["## English: Moby-Dick, characters", "", f"{en}", "",
              f"Settings: `{s}`", ""]
    rows = baseline_table(en.train, en.valid, len(en.vocab), orders=lm.ngram_orders("moby_dick"))
    best = min(rows, key=lambda r: r["valid perplexity"])
    log(f"best n-gram: {best['model']} {best['valid perplexity']:.3f}")
    runs, out_rows = {}, []
    for kind in ("rnn", "lstm", "gru"):
        r = lm.run(kind, en, seed=args.seed)
        runs[kind] = r
        log(f"{kind}: valid perplexity {r.valid_ppl:.3f}, {r.tokens_per_second:,.0f} tokens/s")
        out_rows.append({"model": f"{kind.upper()} (cudnn engine), {s['num_layers']} layer(s) of {s['hidden_size']}",
                         "parameters": count_parameters(r.model), "valid perplexity": r.valid_ppl,
                         "tokens/s": round(r.tokens_per_second), "train minutes": r.seconds / 60})
    lines += ["### Validation perplexity (lower is better)", "",
              table([{"model": r["model"], "valid perplexity": r["valid perplexity"]} for r in rows]
                    + [{"model": r["model"], "valid perplexity": r["valid perplexity"]} for r in out_rows],
                    floatfmt=".3f"), "",
              "### RNN vs LSTM vs GRU at equal hidden size", "", table(out_rows, floatfmt=".3f"), "",
              f"Best n-gram: {best['model']}, {best['valid perplexity']:.3f}. "
              + ", ".join(f"{k.upper()} {'beats' if r.valid_ppl < best['valid perplexity'] else 'does NOT beat'} it"
                          for k, r in runs.items()) + ".", ""]
    best_kind = min(runs, key=lambda k: runs[k].valid_ppl)
    model = runs[best_kind].model
    lines += [f"### Samples from the {best_kind.upper()}, each starting from the prompt \"The whale \"", ""]
    g = torch.Generator().manual_seed(args.seed)
    for label, kw in (("greedy", dict(greedy=True)), ("temperature 0.5", dict(temperature=0.5)),
                      ("temperature 1.0", dict(temperature=1.0)), ("top-k 5", dict(top_k=5))):
        prompt = "The whale "
        text = generate(model, en.vocab, prompt, 300, generator=g, **kw)
        lines += [f"**{label}:**", "", "```text", prompt + text, "```", ""]

    # Chinese
    s = lm.settings("shijing")
    zh = lm.load("shijing")
    log(f"{zh}")
    rows = baseline_table(zh.train, zh.valid, len(zh.vocab), orders=lm.ngram_orders("shijing"))
    r = lm.run("lstm", zh, seed=args.seed)
    log(f"shijing lstm: valid perplexity {r.valid_ppl:.3f}")
    poems = [generate(r.model, zh.vocab, p, 120, temperature=0.8, stop="\n", generator=g)
             for p in ("关关", "青青", "南山", "")]
    lines += ["## Chinese: 诗经, characters", "", f"{zh}", "", f"Settings: `{s}`", "",
              table([{"model": x["model"], "valid perplexity": x["valid perplexity"]} for x in rows]
                    + [{"model": f"LSTM, hidden {s['hidden_size']}", "valid perplexity": r.valid_ppl}],
                    floatfmt=".2f"), "",
              f"Share of generated clauses with four characters: {form_score(''.join(poems)):.2f} "
              f"(in the corpus: {form_score(load_corpus('shijing')):.2f}).", "", "```text"]
    lines += [(p or "") + t.rstrip("\n") for p, t in zip(("关关", "青青", "南山", ""), poems)] + ["```", ""]
    lines += [f"Total time: {(time.perf_counter() - t_start) / 60:.1f} minutes.", ""]

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    log(f"wrote {out}")
    if args.readme:
        readme = Path(args.readme)
        readme.write_text(splice(readme.read_text(encoding="utf-8"), "\n".join(lines)), encoding="utf-8")
        log(f"updated {readme}")
    return out
