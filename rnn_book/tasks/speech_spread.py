"""Chapter 7's numbers on trained models over seeds and thread counts, and the thresholds it asserts.

    python -m rnn_book speech-spread --mode full --seeds 0 1 2 --threads 1 2

trains the recipes chapter 7 asserts on (the naive GRU, the bidirectional GRU on augmented clips, the
ensemble of the last recipe, the CTC reader) once per seed and thread count. Seed s trains the single
models with seed s and the ensemble members with seeds 3s, 3s + 1, 3s + 2 (the chapter: s = 0). The
records go to ``results/ch07_spread.json`` and the summary to ``results/ch07_spread.md``.
"""
from __future__ import annotations

import functools

from . import ctc, speech, speech_recipes as R
from .spread import Check, command, thresholds

NAME = "ch07_spread"

CHECKS = (
    Check("naive: synthetic accuracy", ">", 0.6, 0.35, "the narrow recipe recognises unseen synthetic voices far above chance"),
    Check("bidirectional: synthetic accuracy", ">", 0.9, 0.6, "the augmented model recognises unseen synthetic voices"),
    Check("bidirectional - naive: synthetic", ">=", -0.05, -0.05, "augmentation costs no accuracy on synthetic voices"),
    Check("bidirectional: human clips right", ">=", 2, 2, "the augmented model beats chance (1 in 10) on the human clips"),
    Check("ensemble: synthetic accuracy", ">", 0.9, 0.6, "the ensemble keeps recognising unseen synthetic voices"),
    Check("ensemble: human clips right", ">=", 4, 3,
          "the ensemble gets several human clips right, far above chance (1 in 10): 4 of 10 (quick: 3)"),
    Check("CTC: digit error rate", "<", 0.2, 0.5, "the CTC reader reads most digits of strings in unseen voices"),
    Check("CTC: untrained digit error rate", ">", 0.2, 0.5, "... which an untrained reader does not"),
)


def limits(mode: str | None = None) -> dict[str, float]:
    """The thresholds chapter 7 asserts, in the mode that runs."""
    return thresholds(CHECKS, mode)


@functools.lru_cache(maxsize=None)
def _data(mode: str):
    data = R.digit_data()
    return data, R.digit_strings(data)


def measure(seed: int) -> dict[str, float]:
    """Chapter 7's asserted numbers on trained models, for one seed."""
    from ..settings import mode_name

    data, strings = _data(mode_name())
    naive = R.train_recipe("naive: 8 en-us voices", data, seed)[1].valid[-1]
    bidir = R.train_recipe("+ bidirectional GRU", data, seed)[1].valid[-1]
    members, _ = R.ensemble(data, seed)
    synth_X, human_X = data.tests["speech band"]
    reader = R.reader(seed)
    untrained = ctc.error_rate(strings[3], R.decode(reader, strings[2]))
    der = R.train_reader(reader, strings, seed).valid[-1]["digit error rate"]
    return {"naive: synthetic accuracy": naive["synthetic"], "bidirectional: synthetic accuracy": bidir["synthetic"],
            "bidirectional - naive: synthetic": bidir["synthetic"] - naive["synthetic"],
            "bidirectional: human clips right": bidir["human"],
            "ensemble: synthetic accuracy": speech.accuracy(members, synth_X, data.test_y),
            "ensemble: human clips right": speech.correct(members, human_X, data.human_y),
            "CTC: digit error rate": der, "CTC: untrained digit error rate": untrained}


def main(argv=None):
    return command(argv, NAME, "python -m rnn_book speech-spread", 7, measure, CHECKS, __doc__)
