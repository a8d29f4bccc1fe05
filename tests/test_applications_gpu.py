"""Chapters 4, 6 and 7 on a CUDA device: after ``fit`` a model lives on the GPU, and every helper that
feeds it data (evaluation, sampling, forecasting, ensembles, CTC decoding) must move the data there and
bring the results back. Skipped where there is no CUDA device; the module needs nothing but torch and
numpy, so it also runs where the notebook tooling is not installed::

    python -m pytest --noconftest -o addopts="" -m gpu tests/test_applications_gpu.py
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_language_model_trains_evaluates_and_writes_on_the_gpu():
    from rnn_book.data.vocab import CharVocab
    from rnn_book.tasks import lm, sampling

    vocab = CharVocab("abcd\n")
    ids = vocab.encode("abcd" * 300)
    data = lm.CharData("toy", vocab, ids[:1000], ids[1000:], 0.0)
    torch.manual_seed(0)
    run = lm.train_lm(lm.build_model("lstm", len(vocab), 16, embed_size=8), data, batch_size=4, seq_len=16,
                      rounds=3, steps_per_round=15, lr=2e-2)
    assert next(run.model.parameters()).is_cuda and run.valid_ppl < 1.5 and "cuda" in run.device
    assert lm.evaluate_stream(run.model, data.valid, seq_len=8, carry=False)["ppl"] > 0
    samples = sampling.write_samples(run.model, vocab, "ab", 20, torch.Generator().manual_seed(0))
    assert all(len(t) == 20 for t in samples.values())


def test_stock_and_volatility_forecasters_on_the_gpu():
    from rnn_book.tasks import stocks as S, volatility as V

    series = S.synthetic_series(n=400)
    split = S.chronological_split(series, 10)
    model, _ = S.train_forecaster("GRU", split, hidden_size=8, epochs=2)
    assert next(model.parameters()).is_cuda
    z = S.predict(model, split.x["test"])
    assert isinstance(z, np.ndarray) and np.isfinite(z).all()
    assert S.horizon_rmse(lambda x: S.predict(model, x), split, [1, 5])[5] > 0
    vol = V.volatility_split(series, 10)
    vmodel, _ = S.train_forecaster("GRU", vol, hidden_size=8, epochs=1)
    assert np.isfinite(vol.to_size(S.predict(vmodel, vol.x["test"]))).all()


def test_speech_classifier_ensemble_and_ctc_reader_on_the_gpu():
    from rnn_book.tasks import audio, ctc, speech, speech_recipes as R
    from rnn_book.train import fit

    waves, labels, _ = speech.load_human_digits()
    X = speech.featurise([audio.trim(x) for x in waves], stack=R.STACK)
    members = []
    for seed in (0, 1):
        model = R.classifier(seed, bidirectional=True)
        fit(model, speech.batches(X, labels, 5, seed, audio.spec_mask),
            lambda m, b: torch.nn.functional.cross_entropy(m(b[0], lengths=b[1])[0], b[2]), 3, lr=3e-3)
        members.append(model)
    assert all(next(m.parameters()).is_cuda for m in members)
    p = speech.probabilities(members, X)
    assert p.device.type == "cpu" and torch.allclose(p.sum(-1), torch.ones(10, dtype=p.dtype))
    assert 0 <= speech.correct(members, X, labels) <= 10
    reader = R.reader(0, R.CONFIGS["quick"])
    targets = [[d + 1] for d in labels]
    hist = fit(reader, speech.batches(X, targets, 5, seed=0),
               lambda m, b: ctc.ctc_loss(m(b[0], lengths=b[1])[0], b[1], b[2]), 2, lr=5e-3,
               evaluate=lambda m: {"digit error rate": ctc.error_rate(targets, R.decode(m, X))})
    assert next(reader.parameters()).is_cuda and len(hist.valid) == 2 and not hist.diverged
