"""Chapter 7's experiments on spoken digits, sized by mode: the data sets, the training recipes compared
in its table, the ensemble, and the CTC reader.

The chapter calls these one step at a time; ``python -m rnn_book speech-spread`` calls the same
functions for other seeds and thread counts (:mod:`rnn_book.tasks.speech_spread`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..models import SequenceModel
from ..settings import pick, seed as set_seed
from ..train import History, fit
from . import audio, ctc, dtw, speech

STACK = 3                                     # three 10 ms frames per recurrent step (audio.stack_frames)
BAND = dict(fmin=250.0, fmax=3600.0)          # the speech band of the last recipe, for every clip alike


@dataclass(frozen=True)
class Config:
    """The sizes of chapter 7's experiments (:func:`config` picks the full or quick ones)."""

    per_digit: int            # synthetic training clips per digit
    copies: int               # augmented copies of each training clip
    epochs: int
    test_per_digit: int       # held-out synthetic test clips per digit
    ctc_train: int            # spoken digit strings for CTC
    ctc_test: int
    ctc_max_len: int          # digits per string: 2..ctc_max_len
    ctc_epochs: int
    ctc_hidden: int
    hidden: int = 64
    ensemble: int = 3         # members of the final ensemble


CONFIGS = {"full": Config(per_digit=40, copies=3, epochs=20, test_per_digit=12, ctc_train=600, ctc_test=100,
                          ctc_max_len=4, ctc_epochs=20, ctc_hidden=64),
           "quick": Config(per_digit=12, copies=1, epochs=10, test_per_digit=5, ctc_train=160, ctc_test=40,
                           ctc_max_len=3, ctc_epochs=10, ctc_hidden=48)}


def config() -> Config:
    return pick(full=CONFIGS["full"], quick=CONFIGS["quick"])


@dataclass
class Digits:
    """Every clip set of the chapter, synthesised once and featurised for each recipe."""

    train_variants: list[str]
    test_variants: list[str]
    narrow: list[speech.Utterance]            # 8 en-us voices at the default speed and pitch
    wide: list[speech.Utterance]              # every accent and training variant, random speeds and pitches
    synth_test: list[speech.Utterance]        # held-out voice variants
    human: list[torch.Tensor]                 # the ten human recordings, trimmed
    test_y: list[int]
    human_y: list[int]
    train: dict[str, tuple[list[torch.Tensor], list[int]]]     # training set name -> (features, labels)
    tests: dict[str, tuple[list[torch.Tensor], list[torch.Tensor]]]   # "full band" / "speech band" -> (synthetic, human)


def digit_data(c: Config | None = None, threads: int | None = 1) -> Digits:
    """Synthesise and featurise every clip set of the chapter (features stacked ``STACK`` frames a step)."""
    c = c or config()
    train_variants, test_variants = speech.voice_split(n_test_variants=12)
    narrow = speech.digit_set(train_variants[:8], c.per_digit, seed=1, accents=("en-us",), rates=(170, 170),
                              pitches=(50, 50))
    wide = speech.digit_set(train_variants, c.per_digit, seed=1, rates=(80, 200), pitches=(20, 80))
    synth_test = speech.digit_set(test_variants, c.test_per_digit, seed=2)
    human_waves, human_y, _ = speech.load_human_digits()
    human = [audio.trim(x) for x in human_waves]

    def feats(clips, band=False, copies=0):
        return speech.featurise(clips, copies=copies, generator=torch.Generator().manual_seed(0), threads=threads,
                                stack=STACK, feature_kw=BAND if band else None)
    wide_y = [u.label for u in wide]
    aug_y = wide_y * (c.copies + 1)           # featurise lists the clean clips, then each copy in turn
    train = {"narrow": (feats(narrow), [u.label for u in narrow]), "wide": (feats(wide), wide_y),
             "augmented": (feats(wide, copies=c.copies), aug_y),
             "augmented, speech band": (feats(wide, band=True, copies=c.copies), aug_y)}
    tests = {"full band": (feats(synth_test), feats(human)),
             "speech band": (feats(synth_test, band=True), feats(human, band=True))}
    return Digits(train_variants, test_variants, narrow, wide, synth_test, human, [u.label for u in synth_test],
                  human_y, train, tests)


@dataclass(frozen=True)
class Recipe:
    train_set: str             # a key of Digits.train
    bidirectional: bool = False
    mask: bool = False         # SpecAugment-style masks (audio.spec_mask), new ones every epoch
    band: str = "full band"    # a key of Digits.tests: the features the test clips get


RECIPES = {
    "naive: 8 en-us voices": Recipe("narrow"),
    "+ all voices, speeds, pitches": Recipe("wide"),
    "+ waveform augmentation": Recipe("augmented"),
    "+ bidirectional GRU": Recipe("augmented", bidirectional=True),
    "+ speech band, masking": Recipe("augmented, speech band", bidirectional=True, mask=True, band="speech band"),
}


def classifier(seed: int = 0, bidirectional: bool = False, hidden: int = 64) -> SequenceModel:
    """The digit classifier: a GRU reading stacked MFCC steps, a linear layer on its last state(s)."""
    set_seed(seed)
    return SequenceModel("gru", "cudnn", hidden_size=hidden, output_size=10, input_size=13 * STACK, head="last",
                         bidirectional=bidirectional)


def train_recipe(name: str, data: Digits, seed: int = 0, c: Config | None = None) -> tuple[SequenceModel, History]:
    """Train one classifier by the recipe ``name`` (a key of ``RECIPES``); the history holds, after every
    epoch, the accuracy on held-out synthetic voices and the number of human clips recognised."""
    if name not in RECIPES:
        raise ValueError(f"train_recipe: unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    c = c or config()
    r = RECIPES[name]
    X, y = data.train[r.train_set]
    synth_X, human_X = data.tests[r.band]
    model = classifier(seed, r.bidirectional, c.hidden)
    loss = lambda m, b: F.cross_entropy(m(b[0], lengths=b[1])[0], b[2])
    score = lambda m: {"synthetic": speech.accuracy(m, synth_X, data.test_y),
                       "human": speech.correct(m, human_X, data.human_y)}
    history = fit(model, speech.batches(X, y, 32, seed, audio.spec_mask if r.mask else None), loss, c.epochs,
                  lr=3e-3, clip=1.0, evaluate=score)
    return model, history


def ensemble(data: Digits, seed: int = 0, c: Config | None = None,
             recipe: str = "+ speech band, masking") -> tuple[list[SequenceModel], History]:
    """``c.ensemble`` classifiers of the last recipe, seeded seed * c.ensemble + 0, 1, ...; returns the
    members and the first member's history."""
    c = c or config()
    members, first = [], None
    for k in range(c.ensemble):
        model, history = train_recipe(recipe, data, seed * c.ensemble + k, c)
        members.append(model)
        first = first or history
    return members, first


def template_predictions(data: Digits) -> dict[str, torch.Tensor]:
    """The classical recogniser: every clean ``wide`` training clip is a template, and a clip gets the
    digit of its nearest template by dynamic time warping over the speech band's 10 ms MFCC frames.
    Returns the predicted digits of the held-out synthetic clips and of the human clips."""
    templates = speech.featurise(data.wide, feature_kw=BAND)
    labels = [u.label for u in data.wide]
    return {"synthetic": dtw.nearest_template(speech.featurise(data.synth_test, feature_kw=BAND), templates, labels),
            "human": dtw.nearest_template(speech.featurise(data.human, feature_kw=BAND), templates, labels)}


# ------------------------------------------------------------------------------------------- CTC

def digit_strings(data: Digits, c: Config | None = None, threads: int | None = 1):
    """Spoken digit strings in training and held-out voices: (train X, train targets, test X, test targets,
    test utterances); digit d is class d + 1, class 0 is CTC's blank."""
    c = c or config()
    train = speech.digit_strings(data.train_variants, c.ctc_train, 2, c.ctc_max_len, seed=3)
    test = speech.digit_strings(data.test_variants, c.ctc_test, 2, c.ctc_max_len, seed=4)
    feats = lambda utts: speech.featurise(utts, threads=threads, stack=STACK)
    targets = lambda utts: [[d + 1 for d in u.label] for u in utts]
    return feats(train), targets(train), feats(test), targets(test), test


def reader(seed: int = 0, c: Config | None = None) -> SequenceModel:
    """The CTC model: a bidirectional GRU with a classifier at every step over blank + 10 digits."""
    c = c or config()
    set_seed(seed)
    return SequenceModel("gru", "cudnn", hidden_size=c.ctc_hidden, output_size=11, input_size=13 * STACK,
                         head="every_step", bidirectional=True)


@torch.no_grad()
def decode(model: SequenceModel, X: list[torch.Tensor]) -> list[list[int]]:
    """Greedy CTC decoding of every clip: argmax class at each step, then merge repeats and drop blanks."""
    from ..settings import device_of

    was_training = model.training
    model.eval()
    Xp, L = audio.pad_batch(X)
    out = ctc.greedy_decode(model(Xp.to(device_of(model)), lengths=L)[0].cpu(), L)
    model.train(was_training)
    return out


def train_reader(model: SequenceModel, strings, seed: int = 0, c: Config | None = None) -> History:
    """Train the CTC reader; the history holds the digit error rate on held-out voices after every epoch."""
    c = c or config()
    X, Y, tX, tY, _ = strings
    return fit(model, speech.batches(X, Y, 16, seed=seed), lambda m, b: ctc.ctc_loss(m(b[0], lengths=b[1])[0], b[1], b[2]),
               c.ctc_epochs, lr=5e-3, clip=1.0,
               evaluate=lambda m: {"digit error rate": ctc.error_rate(tY, decode(m, tX))})
