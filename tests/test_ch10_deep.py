import matplotlib

matplotlib.use("agg")

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
