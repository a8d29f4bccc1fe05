"""The data layer's shared pieces: one split function, one vocabulary convention."""
from __future__ import annotations

import pytest
import torch

from rnn_book.data import dates, zh_numbers
from rnn_book.data.split import SPLITS, check_split, split_of
from rnn_book.data.vocab import CharVocab, Vocab


def test_split_shares_and_stability():
    counts = {s: 0 for s in SPLITS}
    for k in range(100_000):
        counts[split_of(k)] += 1
    assert abs(counts["test"] / 1e5 - 0.10) < 0.002 and abs(counts["valid"] / 1e5 - 0.05) < 0.002
    assert [split_of(k) for k in (1, 2, 3, 7, 100, 12345)] == [split_of(k) for k in (1, 2, 3, 7, 100, 12345)]


def test_numbers_and_years_use_the_one_split_with_their_own_rules():
    assert all(zh_numbers.split_of(n) == "train" for n in range(100)), "the words themselves are always trained on"
    assert all(zh_numbers.split_of(n) == split_of(n) for n in range(100, 5000))
    assert all(dates.split_of_year(y) == split_of(y, salt=dates.YEAR_SALT) for y in range(1800, 2200))
    differ = sum(dates.split_of_year(y) != zh_numbers.split_of(y) for y in range(1800, 2200))
    assert differ > 50, "the years are held out independently of the numbers"


def test_string_keys_split_by_a_stable_hash():
    keys = [f"sentence-{i}" for i in range(20_000)]
    share = sum(split_of(k) == "test" for k in keys) / len(keys)
    assert abs(share - 0.10) < 0.01
    assert split_of("sentence-17") == split_of("sentence-17")
    with pytest.raises(TypeError, match="key must be an int or a str"):
        split_of(1.5)
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'valid', 'test'\)"):
        check_split("dev", "sample")


def test_one_id_convention_for_every_vocabulary():
    chars, tokens = CharVocab("abca"), Vocab(["x", "y"])
    assert chars.pad_id == tokens.pad_id == 0 and chars.unk_id == tokens.unk_id == 1
    assert chars.itos[:2] == tokens.itos[:2] == ["<pad>", "<unk>"]
    assert (tokens.bos_id, tokens.eos_id) == (2, 3) and tokens.itos[2:4] == ["<bos>", "<eos>"]
    assert chars.bos_id is None and chars.itos[2:] == ["a", "b", "c"], "a character stream has no <bos>/<eos>"
    assert torch.equal(chars.encode("abz"), torch.tensor([2, 3, 1])) and chars.decode([2, 1, 0, 4]) == "a?c"
    assert tokens.encode(["y", "q"], eos=True) == [5, 1, 3] and tokens.decode([2, 5, 4, 3, 4]) == "yx"
    with pytest.raises(ValueError, match="no <eos>"):
        chars_tokens = Vocab(["a"], sequences=False)
        chars_tokens.encode(["a"], eos=True)


def test_min_count_sends_rare_characters_to_unk():
    v = CharVocab("aab", min_count=2)
    assert v.itos == ["<pad>", "<unk>", "a"] and v.encode("ab").tolist() == [2, v.unk_id]
