import matplotlib

matplotlib.use("agg")

import math

import pytest
import torch

from rnn_book.analysis import deep
from rnn_book import scratch
from rnn_book.data.vocab import CharVocab
from rnn_book.tasks import sampling
from rnn_book.models import SequenceModel
from rnn_book.viz.deep_figures import bidirectional, stacked
from rnn_book.widgets.reach import reach_explorer


def test_figures_show_their_symbols():
    labels = stacked(T=3, layers=2).labels()
    for s in ("$x_{1}$", "$h^{(1)}_{3}$", "$h^{(2)}_{1}$", "$o_{3}$", "$h^{(2)}_0$"):
        assert s in labels
    labels = bidirectional(T=2).labels()
    assert r"$\overrightarrow{h}_{2}$" in labels and r"$\overleftarrow{h}_{1}$" in labels
    with pytest.raises(ValueError, match="T must lie in 1..6"):
        bidirectional(T=9)


def test_influence_is_causal_for_one_direction_only():
    torch.manual_seed(0)
    uni = deep.influence(scratch.LSTM(2, 3, num_layers=2).double(), T=8, t=3)
    bi = deep.influence(scratch.LSTM(2, 3, bidirectional=True).double(), T=8, t=3)
    assert (uni[4:] == 0).all() and (uni[:4] > 0).all()
    assert (bi > 0).all()
    with pytest.raises(ValueError, match="t must lie in 0..7; got 8"):
        deep.influence(scratch.RNN(2, 3), T=8, t=8)


def test_reappears_later_labels():
    x, y = deep.reappears_later(50, T=9, n_symbols=4, seed=3)
    for b in range(50):
        for t in range(9):
            assert y[b, t] == int(x[b, t].item() in x[b, t + 1:].tolist())
    assert (y[:, -1] == 0).all()


def test_leak_measures_differ_only_for_bidirectional():
    ids = torch.randint(2, 10, (500,))
    for both in (False, True):
        torch.manual_seed(0)
        m = SequenceModel("gru", "cudnn", 8, 10, vocab_size=10, bidirectional=both)
        w = deep.window_perplexity(m, ids, n=4, length=16)
        c = deep.causal_perplexity(m, ids, n=4, context=16)
        assert w > 1 and c > 1


def test_generate_and_word_share():
    vocab = CharVocab("the whale is white ")
    torch.manual_seed(0)
    m = SequenceModel("gru", "cudnn", 8, len(vocab), vocab_size=len(vocab))
    g = torch.Generator().manual_seed(0)
    text = sampling.generate(m, vocab, "the ", 30, context=8, generator=g)
    assert len(text) == 30 and set(text) <= set("the whalisw")
    bi = SequenceModel("gru", "cudnn", 8, len(vocab), vocab_size=len(vocab), bidirectional=True)
    assert len(sampling.generate(bi, vocab, "the ", 5, context=8, generator=g)) == 5, "re-reading works both ways"
    assert sampling.word_share("the whale zzz qq", {"the", "whale"}) == 0.5


def test_reach_widget_callback():
    w = reach_explorer()
    assert not w.data["sees_future"]
    before = w.data["reach"]
    w.set(bidirectional=True)
    assert w.data["sees_future"] and w.data["reach"] != before
    w.set(t=12)
    assert w.data["t"] == 12 and not any(w.data["reach"][12:])


# -- the measures chapter 10 asserts on, from fake rows ------------------------------------------------------
def _row(kind, layers, bpc):
    from rnn_book.analysis.compare import Row
    from rnn_book.train import History
    return Row(f"{layers} layer{'s' * (layers > 1)}", kind, 8, 100, History(), "bpc", bpc, 0.1)


def test_depth_measures_and_unigram_baseline():
    rows = [_row(k, l, 2.0 + 0.1 * l + (k == "rnn")) for k in ("rnn", "lstm", "gru") for l in (1, 2)]
    assert deep.bits_per_char(rows)[("rnn", 2)] == 3.2
    m = deep.depth_measures(rows, baseline=6.0, unigram=4.0)
    assert math.isclose(m["worst bpc below guessing"], 6.0 - 3.2)
    assert math.isclose(m["unigram - bpc lstm 1"], 4.0 - 2.1) and math.isclose(m["gain of layer 2, gru"], -0.1)
    from rnn_book.tasks.lm import CharData
    data = CharData("toy", CharVocab("ab"), torch.tensor([4, 4, 4, 5]), torch.tensor([4, 5]), 0.0)
    # add-1/2 counts: a 3.5, b 1.5 of 5 (plus 0.5 for each of the 4 other ids)
    counts = torch.tensor([0.5, 0.5, 0.5, 0.5, 3.5, 1.5], dtype=torch.float64)
    want = -(counts / counts.sum()).log2()[[4, 5]].mean().item()
    assert math.isclose(deep.unigram_bpc(data), want)


def test_leak_measures_compare_the_two_models():
    leak = {"left-to-right": {"reads the window (as in training)": 8.0, "only the past (as in generation)": 8.5},
            "bidirectional": {"reads the window (as in training)": 2.0, "only the past (as in generation)": 20.0}}
    m = deep.leak_measures(leak)
    assert m["window ppl, bidirectional / left-to-right"] == 0.25
    assert m["past-only ppl, bidirectional - left-to-right"] == 11.5
    assert [c.passes(m[c.measure], "full") for c in deep.LEAK_CHECKS] == [True, True]
    honest = deep.leak_measures({"left-to-right": leak["left-to-right"], "bidirectional": leak["left-to-right"]})
    assert not any(c.passes(honest[c.measure], "full") for c in deep.LEAK_CHECKS), "a model that does not leak fails"


def test_chapter_config_by_mode(monkeypatch):
    monkeypatch.setenv("RNN_BOOK_QUICK", "0")
    assert deep.config() is deep.FULL
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    assert deep.config() is deep.QUICK and deep.QUICK.leak_steps < deep.FULL.leak_steps
