import pytest
import torch

import rnn_book


def test_quick_mode_switch(monkeypatch):
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    assert rnn_book.is_quick() and rnn_book.pick(full=30, quick=3) == 3 and rnn_book.mode_name() == "quick"
    monkeypatch.setenv("RNN_BOOK_QUICK", "0")
    assert not rnn_book.is_quick() and rnn_book.pick(full=30, quick=3) == 30
    monkeypatch.delenv("RNN_BOOK_QUICK")
    assert not rnn_book.is_quick()


def test_seed_repeats_a_run():
    rnn_book.seed(5)
    a = rnn_book.scratch.GRU(3, 4)(torch.randn(2, 3, 3))[0]
    rnn_book.seed(5)
    b = rnn_book.scratch.GRU(3, 4)(torch.randn(2, 3, 3))[0]
    rnn_book.seed(6)
    c = rnn_book.scratch.GRU(3, 4)(torch.randn(2, 3, 3))[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_device_and_description():
    d = rnn_book.device()
    assert d.type == ("cuda" if torch.cuda.is_available() else "cpu")
    text = rnn_book.describe_device()
    assert ("cuDNN" in text) and text.startswith(d.type)
    assert rnn_book.cudnn_active() == (torch.cuda.is_available() and torch.backends.cudnn.enabled)


def test_threads_context_restores_the_thread_count():
    before = torch.get_num_threads()
    with rnn_book.settings.threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with rnn_book.settings.threads(None):
        assert torch.get_num_threads() == before
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="threads: n must be a positive int or None"):
            with rnn_book.settings.threads(bad):
                pass


def test_epoch_seed_never_repeats_across_seeds_and_epochs():
    seen = {rnn_book.settings.epoch_seed(s, e) for s in range(5) for e in range(1000)}
    assert len(seen) == 5000


def test_device_of_names_the_parameters_device_and_refuses_an_empty_module():
    assert rnn_book.settings.device_of(torch.nn.Linear(2, 2)).type == "cpu"
    with pytest.raises(ValueError, match="has no parameters"):
        rnn_book.settings.device_of(torch.nn.ReLU())
