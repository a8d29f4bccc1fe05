"""Long runs of the translation chapters (5 and 5b), written to ``results/``.

    python -m rnn_book translation-report table --seeds 0 1 2 --threads 1   # results/translation_sentences.md (+ .json)
    python -m rnn_book translation-report spread 05 --seeds 0 1 2 --threads 1 --out part.json
    python -m rnn_book translation-report merge 05 part1.json part2.json ...   # results/05_translation_spread.md
    python -m rnn_book translation-report run sentences --attention additive --set hidden_size=96

``table``: the results table on the held-out test sentences: baselines, the encoder–decoder without
and with attention (greedy and beam 4), BLEU, chrF, parameters, training minutes, device, several seeds.
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


RESULTS = Path(__file__).resolve().parents[2] / "results"      # the repository's results/ folder


def read(name: str) -> str:
    """The text of ``results/<name>``, for a chapter to show; a clear message where the file is missing."""
    path = RESULTS / name
    if not path.is_file():
        return f"*`results/{name}` is missing: run `python -m rnn_book translation-report` to write it.*"
    return path.read_text(encoding="utf-8")


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


CHAPTERS = {"05": "05_translation", "05b": "05b_translating_sentences"}


def measure(chapter: str, seed: int) -> dict:
    """Every training-dependent number chapter ``chapter`` asserts, for one seed, in the current mode."""
    if chapter == "05":
        from . import translation as N
        return N.chapter_measures(dataclasses.replace(N.config(), seed=seed))
    from . import sentences as T
    return T.chapter_measures(seed)


def spread(chapter: str, seeds, n_threads: int, out: Path, argv) -> list[dict]:
    """Run :func:`measure` for each seed with ``n_threads`` threads; rewrite ``out`` (JSON) after each seed."""
    import torch

    from ..settings import mode_name, threads

    records = json.loads(out.read_text()) if out.is_file() else []
    for seed in seeds:
        t0 = time.perf_counter()
        with threads(n_threads):
            measures, device = measure(chapter, seed), _device()      # the device line names the thread count
        records.append({"chapter": chapter, "mode": mode_name(), "seed": seed, "threads": n_threads,
                        "device": device, "torch": torch.__version__, "minutes": (time.perf_counter() - t0) / 60,
                        "command": command_line(argv), "measures": measures})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
        _log(f"chapter {chapter}, seed {seed}, {n_threads} thread(s): {records[-1]['minutes']:.1f} min -> {out}")
    return records


def _rate(errors_n) -> float:
    e, n = errors_n
    return 100.0 * e / n if n else float("nan")


def summary_05(r: dict) -> dict:
    m = r["measures"]
    return {"seed": r["seed"], "threads": r["threads"], "minutes": r["minutes"],
            "loss last/first": m["loss last"] / m["loss first"],
            "numbers wrong": f"{m['numbers errors']} of {m['numbers n']}", "numbers exact %": 100 * m["numbers exact"],
            "dates wrong": f"{m['dates errors']} of {m['dates n']}", "dates exact %": 100 * m["dates exact"],
            "error % from 10,000 up": _rate(m["errors from 10,000 up"]),
            "error % below 10,000": _rate(m["errors below 10,000"]),
            "error % longer half": _rate(m["errors longer half"]),
            "error % shorter half": _rate(m["errors shorter half"]),
            **{f"mistakes: {k}": v for k, v in m["mistake kinds"].items()}}


def summary_05b(r: dict) -> dict:
    m = r["measures"]
    fixed, att = m["numbers fixed"], m["numbers attention"]
    wan = next((f for f in att["focus"] if f["Chinese unit"] == "万"), None)
    row = {"seed": r["seed"], "threads": r["threads"], "minutes": r["minutes"],
           "numbers wrong, fixed context": f"{fixed['errors']} of {fixed['n']}",
           "numbers wrong, attention": f"{att['errors']} of {att['n']}",
           "fixed: error % longer / shorter half": f"{_rate(fixed['longer half']):.1f} / {_rate(fixed['shorter half']):.1f}",
           "attention: errors on the longer half": att["longer half"][0],
           "万 looks at": f"{wan['most attended English token']} {wan['share']:.0%}" if wan else "-"}
    for name in ("encoder–decoder", "with attention"):
        x = m[name]
        row[f"{name} BLEU greedy / beam 4"] = f"{x['width 1']['BLEU']:.2f} / {x['width 4']['BLEU']:.2f}"
        row[f"{name} exposure gap"] = x["exposure"]["gap"]
    sweep = {(b["width"], b["alpha"]): b["length ratio"] for b in m["with attention"]["beam sweep"]}
    row["length ratio beam 8, alpha 0 / 1"] = f"{sweep[8, 0.0]:.3f} / {sweep[8, 1.0]:.3f}"
    return row


SYSTEMS = (("encoder–decoder", None), ("with attention", "additive"))      # name -> attention score
WIDTHS = (1, 4)                                                              # greedy, beam 4


def table_measures(seed: int) -> dict:
    """Train the two sentence models with ``seed``: test BLEU and chrF (greedy, beam 4), parameters, seconds."""
    from ..data import hsk
    from ..train import count_parameters
    from . import sentences as T

    S, test = T.config(), hsk.pairs("test")
    texts, refs = [p.en for p in test], [p.zh for p in test]
    out = {}
    for name, score in SYSTEMS:
        run = T.train(S, score, seed=seed, on_epoch=lambda e, h: _log(
            f"seed {seed}, {name}, epoch {e + 1}: {h.seconds[-1]:.1f} s, valid loss {h.valid[-1]['valid loss']:.3f}"))
        out[name] = {"parameters": count_parameters(run.model), "seconds": run.seconds,
                     "epochs": len(run.history.train_loss), "best epoch": run.history.best_epoch}
        for width in WIDTHS:
            out[name][f"width {width}"] = T.scores(T.translate(run, texts, width=width, alpha=S.alpha), refs)
    return out


def _mean_range(values) -> str:
    """'mean (min–max)' of ``values``; just the value when there is one."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def sentence_table(records: list[dict], baselines: dict) -> list[dict]:
    """The results table: one row per system, mean (min–max) over the runs, parameters, minutes, device."""
    rows = [{"system": k, "BLEU": f"{v['BLEU']:.2f}", "chrF": f"{v['chrF']:.2f}", "parameters": "–",
             "training minutes": "–", "device": "cpu (no training)"} for k, v in baselines.items()]
    for name, _ in SYSTEMS:
        runs = [r["measures"][name] for r in records]
        for width in WIDTHS:
            rows.append({"system": f"{name}, {'greedy' if width == 1 else f'beam {width}'}",
                         "BLEU": _mean_range([x[f"width {width}"]["BLEU"] for x in runs]),
                         "chrF": _mean_range([x[f"width {width}"]["chrF"] for x in runs]),
                         "parameters": runs[0]["parameters"],
                         "training minutes": _mean_range([x["seconds"] / 60 for x in runs]),
                         "device": records[0]["device"]})
    return rows


def attention_margins(records: list[dict]) -> list[dict]:
    """Per run: test BLEU without and with attention (greedy and beam 4) and attention's margin."""
    rows = []
    for r in records:
        plain, att = r["measures"]["encoder–decoder"], r["measures"]["with attention"]
        row = {"seed": r["seed"], "threads": r["threads"]}
        for width in WIDTHS:
            key, label = f"width {width}", "greedy" if width == 1 else f"beam {width}"
            row[f"BLEU {label}: without / with"] = f"{plain[key]['BLEU']:.2f} / {att[key]['BLEU']:.2f}"
            row[f"margin {label}"] = att[key]["BLEU"] - plain[key]["BLEU"]
        rows.append(row)
    return rows


def table_text(report: dict) -> str:
    """The Markdown of ``results/translation_sentences.md`` from the JSON ``report``."""
    from ..plots import table

    runs = report["runs"]
    measured = [r["seed"] for r in runs]
    missing = [s for s in report["seeds"] if s not in measured]
    lines = ["# Translating HSK sentences: results on the held-out test split", "",
             f"- command: `{report['command']}`", f"- date: {report['date']}", f"- device: {report['device']}",
             f"- torch: {report['torch']}", f"- mode: {report['mode']}",
             f"- seeds: {', '.join(map(str, measured)) or 'none yet'} measured"
             + (f" (of {', '.join(map(str, report['seeds']))} asked for; not measured: "
                f"{', '.join(map(str, missing))})" if missing else ""),
             f"- threads: {report['threads']}", "",
             "BLEU (sacrebleu, tokenize=\"zh\") and chrF on the test split; for the trained models the mean and, "
             "in brackets, the range over the seeds. The baselines have no seed and train nothing.", ""]
    if runs:
        lines += [table(sentence_table(runs, report["baselines"]), floatfmt=".2f"), "",
                  "Test BLEU of each seed, without and with attention:", "",
                  table(attention_margins(runs), floatfmt=".2f"), ""]
    return "\n".join(lines)


def table_report(seeds, n_threads: int, results: Path, argv) -> dict:
    """Measure :func:`table_measures` for each seed and rewrite ``results/translation_sentences.{json,md}``
    after every seed, so that a stopped run leaves the seeds it finished."""
    from datetime import datetime, timezone

    import torch

    from ..settings import mode_name, threads
    from .sentences import baseline_scores

    if n_threads < 1 or not seeds:
        raise SystemExit(f"table: expected --threads of at least 1 and at least one seed; got --threads {n_threads} "
                         f"and seeds {list(seeds)}")
    results.mkdir(parents=True, exist_ok=True)
    with threads(n_threads):
        report = {"command": command_line(argv), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  "device": _device(), "torch": torch.__version__, "mode": mode_name(), "seeds": list(seeds),
                  "threads": n_threads, "baselines": baseline_scores(), "runs": []}
        for seed in seeds:
            t0 = time.perf_counter()
            measures = table_measures(seed)
            report["runs"].append({"seed": seed, "threads": n_threads, "device": report["device"],
                                   "minutes": (time.perf_counter() - t0) / 60, "measures": measures})
            (results / "translation_sentences.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                                                encoding="utf-8")
            (results / "translation_sentences.md").write_text(table_text(report), encoding="utf-8")
            _log(f"seed {seed}: {report['runs'][-1]['minutes']:.1f} min -> {results / 'translation_sentences.md'}")
    return report


def attention_verdict(report: dict | None) -> str:
    """What the results table says about attention, seed by seed, greedy and beam (Markdown)."""
    if not report or not report["runs"]:
        return "*No results table in `results/` yet: run `python -m rnn_book translation-report table`.*"
    runs, margins = report["runs"], attention_margins(report["runs"])
    seeds = ", ".join(str(r["seed"]) for r in runs)
    said = []
    for label in ("greedy", "beam 4"):
        d = [m[f"margin {label}"] for m in margins]
        said.append(f"{label} {_range(d, '{:+.2f}')} points (higher for {sum(x > 0 for x in d)} of {len(d)} seeds)")
    text = (f"`results/translation_sentences.json`: {report['mode']} mode, {len(runs)} seed(s) ({seeds}), "
            f"{report['threads']} thread(s), {report['device']}. Test BLEU with attention minus without: "
            + "; ".join(said) + ".")
    if "nearest neighbour" in report["baselines"]:
        floor = report["baselines"]["nearest neighbour"]["BLEU"]
        best = [r["measures"]["with attention"]["width 4"]["BLEU"] for r in runs]
        text += (f" The nearest-neighbour baseline scores {floor:.2f}; attention with beam 4 scores "
                 f"{_range(best, '{:.2f}')}, above it for {sum(b > floor for b in best)} of {len(best)} seeds.")
    return text


def table_results() -> dict | None:
    """The JSON behind ``results/translation_sentences.md`` (``None`` if it is missing)."""
    path = RESULTS / "translation_sentences.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def merge(chapter: str, parts, results: Path, command: str) -> Path:
    """Join spread parts into ``results/<chapter>_spread.json`` and a readable ``.md``."""
    from ..plots import table

    records = [r for part in parts for r in json.loads(Path(part).read_text(encoding="utf-8"))]
    name = CHAPTERS[chapter]
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}_spread.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    summarise = summary_05 if chapter == "05" else summary_05b
    lines = [f"# Chapter {chapter}: spread of the training-dependent asserts", "",
             f"Each row is one run of the chapter's experiment (`{'translation.chapter_measures' if chapter == '05' else 'sentences.chapter_measures'}`)"
             f" with one seed and one thread count. Written by `{command}` from parts made by "
             f"`python -m rnn_book translation-report spread {chapter} --seeds ... --threads ... [--quick] --out ...`.", ""]
    for mode in ("full", "quick"):
        runs = sorted((r for r in records if r["mode"] == mode), key=lambda r: (r["threads"], r["seed"]))
        if runs:
            lines += [f"## {mode} mode", "", f"Device: {runs[0]['device']}; torch {runs[0]['torch']}.", "",
                      table([summarise(r) for r in runs], floatfmt=".3g"), ""]
        else:
            lines += [f"## {mode} mode", "", "Not measured yet.", ""]
    out = results / f"{name}_spread.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    _log(f"wrote {out}")
    return out


def spread_records(chapter: str, mode: str) -> list[dict]:
    """The runs of the spread study of ``chapter`` in ``mode`` (empty if the results file is missing)."""
    path = RESULTS / f"{CHAPTERS[chapter]}_spread.json"
    if not path.is_file():
        return []
    return [r for r in json.loads(path.read_text(encoding="utf-8")) if r["mode"] == mode]


def _runs_line(runs: list[dict]) -> str:
    """'4 runs (1 thread: seeds 0, 1, 2; 2 threads: seed 0) on <device>': which seeds ran at which thread count."""
    groups = []
    for n in sorted({r["threads"] for r in runs}):
        seeds = sorted({r["seed"] for r in runs if r["threads"] == n})
        groups.append(f"{n} thread{'' if n == 1 else 's'}: seed{'' if len(seeds) == 1 else 's'} "
                      + ", ".join(map(str, seeds)))
    devices = " and ".join(sorted({r["device"] for r in runs}))
    return f"{len(runs)} run{'' if len(runs) == 1 else 's'} ({'; '.join(groups)}) on {devices}"


def _range(values, fmt="{}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)} to {fmt.format(hi)}"


def spread_note(chapter: str) -> str:
    """What the spread study measured in this mode, beside the thresholds the chapter asserts (Markdown)."""
    from ..settings import mode_name

    mode = mode_name()
    runs = spread_records(chapter, mode)
    if not runs:
        return f"*No {mode}-mode spread study in `results/`: run `python -m rnn_book translation-report spread`.*"
    ms = [r["measures"] for r in runs]
    if chapter == "05":
        from .translation import limits

        L = limits()
        with_errors = [m for m in ms if m["numbers errors"]]
        wan_ok = sum(m["errors from 10,000 up"][0] * m["errors below 10,000"][1] >
                     m["errors below 10,000"][0] * m["errors from 10,000 up"][1] for m in with_errors)
        long_ok = sum(m["errors longer half"][0] * m["errors shorter half"][1] >
                      m["errors shorter half"][0] * m["errors longer half"][1] for m in with_errors)
        return (f"Spread study, {mode} mode, {_runs_line(runs)}: wrong held-out numbers "
                f"{_range([m['numbers errors'] for m in ms])} of {ms[0]['numbers n']} (asserted: at most "
                f"{L.numbers_wrong}); wrong dates {_range([m['dates errors'] for m in ms])} of {ms[0]['dates n']} "
                f"(at most {L.dates_wrong}); last/first epoch loss "
                f"{_range([m['loss last'] / m['loss first'] for m in ms], '{:.3f}')} (below {L.loss_ratio}). "
                f"{len(with_errors)} of {len(ms)} runs made mistakes on numbers; in {wan_ok} of them numbers from "
                f"10,000 up went wrong more often, in {long_ok} the longer half of the inputs did.")
    fixed = [m["numbers fixed"]["errors"] for m in ms]
    att = [m["numbers attention"]["errors"] for m in ms]
    bleu = {k: [m[k]["width 1"]["BLEU"] for m in ms] for k in ("encoder–decoder", "with attention")}
    return (f"Spread study, {mode} mode, {_runs_line(runs)}: wrong held-out numbers {_range(fixed)} with the fixed "
            f"context and {_range(att)} with attention (of {ms[0]['numbers fixed']['n']}); greedy test BLEU "
            f"{_range(bleu['encoder–decoder'], '{:.2f}')} without and {_range(bleu['with attention'], '{:.2f}')} "
            f"with attention.")


def command_line(argv) -> str:
    return " ".join(["python -m rnn_book translation-report", *map(shlex.quote, argv)])


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
    sp = sub.add_parser("spread", help="a chapter's asserted numbers for some seeds at one thread count")
    sp.add_argument("chapter", choices=sorted(CHAPTERS))
    sp.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    sp.add_argument("--threads", type=int, default=1)
    sp.add_argument("--quick", action="store_true", help="quick-mode sizes (the quick-mode thresholds' spread)")
    sp.add_argument("--out", type=Path, required=True, help="JSON file of this part's records")
    tb = sub.add_parser("table", help="results/translation_sentences.{md,json}: baselines, both models, seeds")
    tb.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    tb.add_argument("--threads", type=int, default=1)
    tb.add_argument("--quick", action="store_true", help="quick-mode sizes (a check of the command, not results)")
    tb.add_argument("--results", type=Path, default=RESULTS)
    mg = sub.add_parser("merge", help="join spread parts into results/<chapter>_spread.{json,md}")
    mg.add_argument("chapter", choices=sorted(CHAPTERS))
    mg.add_argument("parts", type=Path, nargs="+")
    mg.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    if args.what == "spread":
        os.environ["RNN_BOOK_QUICK"] = "1" if args.quick else "0"
        return spread(args.chapter, args.seeds, args.threads, args.out, argv)
    if args.what == "table":
        os.environ["RNN_BOOK_QUICK"] = "1" if args.quick else "0"
        return table_report(args.seeds, args.threads, args.results, argv)
    if args.what == "merge":
        return merge(args.chapter, args.parts, args.results, command_line(argv))
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
