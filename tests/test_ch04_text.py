"""Chapter 4, text generation: corpora, n-gram baselines, stateful LM training, sampling, the widget."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from rnn_book.tasks import lm
from rnn_book import seed
from rnn_book.data.text import CORPORA, StatefulBatches, load_corpus
from rnn_book.data.vocab import CharVocab
from rnn_book.tasks.ngram import NGram, baseline_table
from rnn_book.tasks.sampling import clause_lengths, form_score, generate, known_words, next_token_probs, word_share


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny: one thread is as fast, and immune to a busy machine's thread contention."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ---------------------------------------------------------------- corpora

def test_shijing_ships_one_poem_per_line():
    assert "shijing" in CORPORA
    poems = load_corpus("shijing").splitlines()
    assert len(poems) == 305, "the 诗经 has 305 poems"
    assert poems[0].startswith("关关雎鸠，在河之洲。")
    assert form_score(load_corpus("shijing")) > 0.85, "most 诗经 clauses have four characters"


def test_prepare_builds_vocab_from_training_block_only():
    d = lm.prepare("shijing", min_count=1)
    text = load_corpus("shijing")
    cut = len(d.train)
    assert cut + len(d.valid) == len(text)
    assert set(d.vocab.itos[2:]) == set(text[:cut]), "every training character and nothing else"
    only_valid = set(text[cut:]) - set(text[:cut])
    assert only_valid, "the 诗经's last block has characters the rest never uses"
    assert (d.valid == d.vocab.unk_id).sum() == sum(c in only_valid for c in text[cut:])
    assert d.unseen_in_valid > 0


def test_min_count_maps_rare_training_characters_to_unk():
    d1, d2 = lm.prepare("shijing", min_count=1), lm.prepare("shijing", min_count=2)
    assert len(d2.vocab) < len(d1.vocab)
    assert (d2.train == d2.vocab.unk_id).any() and not (d1.train == d1.vocab.unk_id).any()


def test_stateful_batches_continue_rows_and_keep_a_short_last_batch():
    batches = list(StatefulBatches(torch.arange(23), batch_size=2, seq_len=4))
    assert [x.shape[1] for x, _ in batches] == [4, 4, 3]
    joined = torch.cat([x for x, _ in batches], dim=1)
    assert torch.equal(joined, torch.arange(22).view(2, 11)), "rows read the stream in order across batches"
    assert all(torch.equal(y, x + 1) for x, y in batches)


def test_stateful_batches_reject_bad_shapes():
    with pytest.raises(ValueError, match="1-D"):
        StatefulBatches(torch.zeros(2, 3, dtype=torch.long), 2, 4)
    with pytest.raises(ValueError, match="seq_len must be a positive int"):
        StatefulBatches(torch.arange(30), batch_size=2, seq_len=0)
    with pytest.raises(ValueError, match="too few"):
        StatefulBatches(torch.arange(3), batch_size=8, seq_len=4)


# ---------------------------------------------------------------- n-grams

@pytest.fixture(scope="module")
def small_text():
    d = lm.prepare("moby_dick", max_chars=40_000)
    return d


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_ngram_distributions_sum_to_one(small_text, smoothing, order):
    m = NGram(order, len(small_text.vocab), smoothing).fit(small_text.train)
    for context in ([], small_text.train[:10].tolist(), [0, 0, 0], small_text.valid[5:9].tolist()):
        p = m.distribution(context)
        assert abs(float(p.sum()) - 1) < 1e-9 and float(p.min()) > 0, (context, float(p.sum()))


def test_ngram_by_hand():
    ids = [2, 3, 2, 3, 2, 4]           # "abab ac" style: after 2 comes 3 twice and 4 once
    add1 = NGram(2, 5, "add_k", k=1.0).fit(ids)
    assert math.isclose(add1.prob([2], 3), (2 + 1) / (3 + 5))
    assert math.isclose(add1.prob([4], 2), (0 + 1) / (0 + 5)), "an unseen context is uniform under add-k"
    uni = NGram(1, 5, "add_k", k=0.5).fit(ids)
    assert math.isclose(uni.perplexity([2, 3]), 1 / ((2 + 0.5) / (6 + 2.5)))


def test_kneser_ney_uses_continuation_counts():
    # "x" follows only one context ("a") but often; "y" follows many contexts once each.
    ids = [1, 2] * 20 + [3, 4, 5, 4, 6, 4, 7, 4]        # 2 after 1 twenty times; 4 after 3, 5, 6
    m = NGram(2, 10).fit(ids)
    # in a context never seen (9), the backed-off unigram prefers 4 (many contexts) over 2 (one context)
    assert m.prob([9], 4) > m.prob([9], 2)
    assert m.prob([1], 2) > 0.9


def test_kneser_ney_beats_add_k_and_higher_orders_help(small_text):
    rows = baseline_table(small_text.train, small_text.valid, len(small_text.vocab), orders=(1, 3))
    ppl = {(r["order"], r["smoothing"]): r["valid perplexity"] for r in rows}
    assert ppl[3, "kneser_ney"] < ppl[1, "kneser_ney"]
    assert ppl[3, "kneser_ney"] < ppl[3, "add_k"]


def test_ngram_errors():
    with pytest.raises(ValueError, match="order"):
        NGram(0, 10)
    with pytest.raises(ValueError, match="smoothing"):
        NGram(2, 10, "witten_bell")
    with pytest.raises(TypeError, match="CharVocab.encode"):
        NGram(2, 10).fit("some text")
    with pytest.raises(ValueError, match="0..9"):
        NGram(2, 10).fit([1, 2, 30])
    with pytest.raises(RuntimeError, match="fit"):
        NGram(2, 10).prob([1], 2)
    with pytest.raises(ValueError, match="at least 2"):
        NGram(1, 10).fit([1, 2, 3]).nll([1])


# ---------------------------------------------------------------- training and evaluation

def _tiny_model(V, kind="lstm", engine="cudnn"):
    seed(0)
    return lm.build_model(kind, V, 16, engine, embed_size=8)


def test_evaluate_in_batches_equals_one_pass_over_the_stream():
    V = 12
    model = _tiny_model(V).eval()
    ids = torch.randint(2, V, (101,), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
        want = F.cross_entropy(logits[0], ids[1:]).item()
    got = lm.evaluate_stream(model, ids, batch_size=1, seq_len=7)           # 100 targets in 15 batches, last has 2
    assert math.isclose(got["loss"], want, rel_tol=1e-5), "carried state + token-weighted mean = one pass"
    cold = lm.evaluate_stream(model, ids, batch_size=1, seq_len=7, carry=False)
    assert not math.isclose(cold["loss"], want, rel_tol=1e-5)


def test_stateful_loss_carries_a_detached_state():
    model = _tiny_model(10)
    loss = lm.StatefulLoss()
    batches = iter(StatefulBatches(torch.randint(2, 10, (200,)), 4, 8))
    out = loss(model, next(batches))
    out.backward()
    h, c = loss.state
    assert h.shape == (1, 4, 16) and h.grad_fn is None and not h.requires_grad
    first = h.clone()
    loss(model, next(batches))
    assert not torch.equal(loss.state[0], first)
    assert loss.tokens == 2 * 4 * 8
    loss.reset()
    assert loss.state is None


def test_stream_resets_state_at_each_new_pass():
    loss = lm.StatefulLoss()
    feed = lm.stream(torch.arange(2, 43), batch_size=2, seq_len=8, loss=loss)     # 20 columns: 3 batches a pass
    for _ in range(3):
        next(feed)
        loss.state = "carried"
    x, _ = next(feed)                       # the first batch of the second pass
    assert loss.state is None and int(x[0, 0]) == 2


@pytest.mark.parametrize("engine", ["cudnn", "scratch"])
def test_train_lm_learns_a_repetitive_text(engine):
    vocab = CharVocab("abcd")
    ids = vocab.encode("abcd" * 300)
    data = lm.CharData("toy", vocab, ids[:1000], ids[1000:], 0.0)
    model = _tiny_model(len(vocab), "gru", engine)
    before = lm.evaluate_stream(model, data.valid)["ppl"]
    run = lm.train_lm(model, data, batch_size=4, seq_len=16, rounds=3, steps_per_round=15, lr=2e-2)
    assert before > 3 and run.valid_ppl < 1.5, (before, run.valid_ppl)
    widths = [x.numel() for x, _ in StatefulBatches(data.train, 4, 16)] * 3      # passes end in a short batch
    assert run.tokens == sum(widths[:45]), "every character trained on is counted, short batches included"
    assert run.tokens_per_second > 0 and ("cpu" in run.device or "cuda" in run.device)


def test_train_lm_rejects_bad_sizes():
    vocab = CharVocab("ab")
    data = lm.CharData("toy", vocab, vocab.encode("ab" * 50), vocab.encode("ab" * 10), 0.0)
    with pytest.raises(ValueError, match="seq_len"):
        lm.train_lm(_tiny_model(len(vocab)), data, batch_size=2, seq_len=0, rounds=1, steps_per_round=1)


def test_config_unknown_corpus():
    with pytest.raises(ValueError, match="no sizes for corpus 'hamlet'; known: moby_dick, shijing"):
        lm.config("hamlet")


# ---------------------------------------------------------------- sampling

def test_next_token_probs_temperature_and_top_k():
    z = torch.tensor([2.0, 1.0, 0.0, -1.0])
    assert torch.allclose(next_token_probs(z, 1.0), torch.softmax(z.double(), 0))
    assert torch.allclose(next_token_probs(z, 0.5), torch.softmax(z.double() * 2, 0))
    cold, hot = next_token_probs(z, 0.1), next_token_probs(z, 10.0)
    assert cold[0] > 0.99 and float(hot.max() - hot.min()) < 0.1
    p = next_token_probs(z, 1.0, top_k=2)
    assert p[2] == 0 and p[3] == 0 and math.isclose(float(p.sum()), 1.0)
    with pytest.raises(ValueError, match="temperature"):
        next_token_probs(z, 0.0)
    with pytest.raises(ValueError, match="top_k"):
        next_token_probs(z, 1.0, top_k=0)
    with pytest.raises(ValueError, match="1-D"):
        next_token_probs(z[None], 1.0)


@pytest.fixture(scope="module")
def toy_lm():
    vocab = CharVocab("ab\n")
    model = _tiny_model(len(vocab))
    return model, vocab


def test_generate_is_repeatable_and_respects_length_and_stop(toy_lm):
    model, vocab = toy_lm
    a = generate(model, vocab, "ab", 50, generator=torch.Generator().manual_seed(3))
    b = generate(model, vocab, "ab", 50, generator=torch.Generator().manual_seed(3))
    assert a == b and len(a) == 50 and set(a) <= set("ab\n")
    assert generate(model, vocab, "ab", 0) == ""
    short = generate(model, vocab, "a", 500, stop="\n", generator=torch.Generator().manual_seed(0))
    assert short.endswith("\n") and "\n" not in short[:-1]
    assert generate(model, vocab, "ab", 30, greedy=True) == generate(model, vocab, "ab", 30, greedy=True)


def test_generate_never_writes_unk_or_pad(toy_lm):
    model, vocab = toy_lm
    with torch.no_grad():
        model.head.bias[vocab.unk_id] = 50.0      # the model now wants <unk> above all
        model.head.bias[vocab.pad_id] = 50.0
    try:
        text = generate(model, vocab, "a", 100, generator=torch.Generator().manual_seed(0))
        assert "?" not in text and len(text) == 100
    finally:
        with torch.no_grad():
            model.head.bias[[0, 1]] = 0.0


def test_generate_errors(toy_lm):
    model, vocab = toy_lm
    with pytest.raises(ValueError, match="never saw.*'z'"):
        generate(model, vocab, "abz", 10)
    with pytest.raises(ValueError, match="length"):
        generate(model, vocab, "a", -1)
    with pytest.raises(TypeError, match="str"):
        generate(model, vocab, 5, 10)


def test_clause_form_and_word_share():
    assert clause_lengths("关关雎鸠，在河之洲。窈窕淑女，君子好逑。") == [4, 4, 4, 4]
    assert clause_lengths("一二三，四五\n六") == [3, 2]          # the unfinished last clause is left out
    assert form_score("关关雎鸠，在河之洲。一二，") == 2 / 3
    assert form_score("没有标点") == 0.0
    words = known_words("Call me Ishmael. Some years ago")
    assert word_share("call me maybe", words) == 2 / 3


# ---------------------------------------------------------------- widget

def test_textgen_widget_regenerates_on_temperature_and_prompt(toy_lm):
    from rnn_book.widgets.textgen import textgen_explorer

    model, vocab = toy_lm
    w = textgen_explorer(model, vocab, prompt="ab", length=60, temperature=0.8)
    first = w.data
    assert len(first["text"]) == 60
    w.set(temperature=1.9)
    assert w.data["temperature"] == 1.9 and w.data["text"] != first["text"]
    w.set(temperature=0.8)
    assert w.data == first, "the same controls give the same text (fixed seed)"
    w.set(prompt="ba")
    assert w.data != first and w.data["prompt"] == "ba"
    w.set(prompt="xyz")
    assert "error" in w.data and "never saw" in w.data["error"]


# ---------------------------------------------------------------- report

def test_report_command_writes_markdown(tmp_path, monkeypatch):
    from rnn_book.tasks import textgen_report

    tiny = lm.Config(max_chars=20_000, min_count=1, num_layers=1, hidden_size=16, embed_size=8, batch_size=4,
                     seq_len=16, rounds=1, steps_per_round=2, lr=1e-2, patience=None, decay=True)
    monkeypatch.setattr(lm, "config", lambda corpus: dataclasses.replace(tiny, min_count=2 if corpus == "shijing" else 1))
    monkeypatch.setattr(lm, "ngram_orders", lambda corpus: (1, 2))
    argv = ["--quick", "--out", str(tmp_path / "r.md"), "--seed", "3"]
    out = textgen_report.main(argv)
    text = out.read_text(encoding="utf-8")
    for needle in ("Moby-Dick", "诗经", "LSTM", "GRU", "RNN", "valid perplexity", "Device", "Seed 3"):
        assert needle in text, needle
    assert f"Written by `python -m rnn_book textgen-report --quick --out {tmp_path / 'r.md'} --seed 3`" in text, \
        "the report names the command exactly as it was run"


def test_samples_poems_and_distinct_share(toy_lm):
    from rnn_book.tasks import sampling

    model, vocab = toy_lm
    a = sampling.write_samples(model, vocab, "ab", 40, torch.Generator().manual_seed(0))
    assert list(a) == [label for label, _ in sampling.STRATEGIES] and all(len(t) == 40 for t in a.values())
    assert a == sampling.write_samples(model, vocab, "ab", 40, torch.Generator().manual_seed(0))
    poems = sampling.write_poems(model, vocab, torch.Generator().manual_seed(0), prompts=("a", ""), length=30)
    assert poems[0].startswith("a") and len(poems) == 2
    assert sampling.distinct_share("abababababab", 2) == 2 / 10 and sampling.distinct_share("abcdef", 2) == 1.0
    with pytest.raises(ValueError, match="more than n=20"):
        sampling.distinct_share("short", 20)


def test_the_bar_is_the_trigram_in_quick_mode_and_the_best_ngram_in_full(monkeypatch):
    from rnn_book.tasks import textgen_spread

    rows = [{"model": f"{n}-gram, {sm}", "order": n, "smoothing": sm, "valid perplexity": p}
            for (n, sm, p) in ((1, "kneser_ney", 20.0), (3, "kneser_ney", 7.5), (5, "kneser_ney", 4.5), (3, "add_k", 7.6))]
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    assert textgen_spread.bar(rows) == ("3-gram, kneser_ney", 7.5)
    monkeypatch.setenv("RNN_BOOK_QUICK", "0")
    assert textgen_spread.bar(rows) == ("5-gram, kneser_ney", 4.5)
    assert textgen_spread.limits("quick")["lstm / bar"] == 1.0


@pytest.mark.parametrize("s", [0, 1, 2])
def test_an_untrained_model_fails_the_temperature_word_check(s):
    """The chapter's 'lower temperature, more real words' bar must be out of reach of an untrained LSTM."""
    from rnn_book.tasks import sampling, textgen_spread

    S = lm.config("moby_dick")
    en = lm.load("moby_dick")
    words = known_words(en.vocab.decode(en.train))
    seed(s)
    model = lm.build_model("lstm", len(en.vocab), S.hidden_size, embed_size=S.embed_size, num_layers=S.num_layers)
    samples = sampling.write_samples(model, en.vocab, "The whale ", 400, generator=torch.Generator().manual_seed(s))
    diff = word_share(samples["T = 0.5"], words) - word_share(samples["T = 1.5"], words)
    for mode in ("quick", "full"):
        assert diff <= textgen_spread.limits(mode)["words T=0.5 - T=1.5"], f"seed {s}: untrained, {diff:.3f}"
