"""``python -m rnn_book <command>``: every long run of the book from one command line.

    python -m rnn_book bench            # RNN/LSTM/GRU training speed: textbook, fused and library forms
    python -m rnn_book cell-spread      # chapters 1-3: spread of the trained results over seeds and threads
    python -m rnn_book memory           # long-range memory against length (adding, copy); `memory spread`: chapter 8's spread
    python -m rnn_book textgen-report   # full-mode text-generation results into results/
    python -m rnn_book textgen-spread   # chapter 4's asserted numbers over seeds and threads, into results/
    python -m rnn_book speech-spread    # chapter 7's asserted numbers over seeds and threads, into results/
    python -m rnn_book stocks-spread    # chapter 6's asserted numbers over seeds and threads, into results/
    python -m rnn_book translation      # train the number/date translator, print held-out scores
    python -m rnn_book fullrun          # every chapter in full mode, side by side: results/full_mode.md
    torchrun --nproc-per-node 2 -m rnn_book ddp-lm   # the character LM on 2 data-parallel processes
    python -m rnn_book ddp-bench        # 1 vs 2 processes, same global batch: results/ddp.md
    python -m rnn_book gpu-check --out DIR   # on a CUDA machine: GPU tests, benchmark, chapters: DIR/gpu.md
    python -m rnn_book spread ch09      # chapter 9's measures over seeds and thread counts, into results/
    python -m rnn_book cuda-report      # chapter 9's GPU numbers (needs CUDA), into results/
    python -m rnn_book translation-report   # sentence translation results and the spread studies into results/

``python -m rnn_book <command> --help`` lists each command's options.
"""
from __future__ import annotations

import importlib
import sys

# command -> (module, one line of help); each module has main(argv)
COMMANDS = {
    "bench": ("rnn_book.analysis.bench", "how long RNN, LSTM and GRU take to train, in three forms"),
    "cell-spread": ("rnn_book.analysis.cell_spread", "spread of chapters 1-3's trained results over seeds and threads"),
    "memory": ("rnn_book.analysis.memory", "long-range memory against length; `memory spread`: chapter 8 over seeds"),
    "textgen-report": ("rnn_book.tasks.textgen_report", "full-mode text-generation results as Markdown"),
    "textgen-spread": ("rnn_book.tasks.textgen_spread", "chapter 4's asserted numbers over seeds and threads"),
    "speech-spread": ("rnn_book.tasks.speech_spread", "chapter 7's asserted numbers over seeds and threads"),
    "stocks-spread": ("rnn_book.tasks.stocks_spread", "chapter 6's asserted numbers over seeds and threads"),
    "translation": ("rnn_book.tasks.translation", "train the English→Chinese number/date translator"),
    "fullrun": ("rnn_book.fullrun", "every chapter in full mode, fresh kernels side by side: results/full_mode.md"),
    "ddp-lm": ("rnn_book.tasks.lm_ddp", "train the character LM data-parallel (start with torchrun)"),
    "ddp-bench": ("rnn_book.analysis.ddp_bench", "1 vs 2 data-parallel processes on one global batch: results/ddp.md"),
    "gpu-check": ("rnn_book.gpu_check", "everything a CUDA machine can show: tests, benchmark, chapters: gpu.md"),
    "workspace": ("rnn_book.workspace", "copy the chapters into workspace/, your own place to edit and run them"),
    "cuda-report": ("rnn_book.analysis.cuda_report", "chapter 9's GPU numbers: cuDNN timings, kernels per step, DropConnect"),
    "spread": ("rnn_book.analysis.spread", "spread of a chapter's training-dependent measures over seeds and threads"),
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
