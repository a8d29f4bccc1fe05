"""``python -m rnn_book <command>``: every long run of the book from one command line.

    python -m rnn_book bench            # RNN/LSTM/GRU training speed: textbook, fused and library forms
    python -m rnn_book memory           # long-range memory benchmarks (recall, adding, copy)
    python -m rnn_book textgen-report   # full-mode text-generation results into results/ (and the README)
    python -m rnn_book translation      # train the number/date translator, print held-out scores
    python -m rnn_book translation-report   # sentence translation results and the spread studies into results/

``python -m rnn_book <command> --help`` lists each command's options.
"""
from __future__ import annotations

import importlib
import sys

# command -> (module, one line of help); each module has main(argv)
COMMANDS = {
    "bench": ("rnn_book.analysis.bench", "how long RNN, LSTM and GRU take to train, in three forms"),
    "memory": ("rnn_book.analysis.memory", "long-range memory benchmarks: delayed recall, adding, copy"),
    "textgen-report": ("rnn_book.tasks.textgen_report", "full-mode text-generation results as Markdown"),
    "translation": ("rnn_book.tasks.translation", "train the English→Chinese number/date translator"),
    "translation-report": ("rnn_book.tasks.translation_report",
                           "chapters 5 and 5b: sentence translation table and spread studies into results/"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: python -m rnn_book <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return None
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"python -m rnn_book: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        raise SystemExit(2)
    return importlib.import_module(COMMANDS[name][0]).main(rest)


if __name__ == "__main__":
    main()
