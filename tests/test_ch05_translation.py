"""Translation chapter: vocabularies and batches, the masked loss, greedy/beam/exhaustive search, BLEU, the widget."""
import math
import random

import pytest
import torch

import rnn_book
from rnn_book.tasks.beam import ToyDecoder, beam_search, count_hypotheses, exhaustive_search, greedy_search, reorder
from rnn_book.tasks.bleu import char_bleu, clipped_matches, corpus_bleu
from rnn_book.data import parallel
from rnn_book.data.parallel import build_vocabs, collate, make_pairs, tokenize_en, tokenize_zh
from rnn_book.tasks.seq2seq import (Seq2Seq, beam_translate, evaluate, greedy_translate,
                              masked_cross_entropy, teacher_forcing_loss)

SRC, TGT = build_vocabs()


# -- data --------------------------------------------------------------------------------------------
def test_tokenizers_and_vocab_cover_every_generated_pair():
    assert tokenize_en("Friday, Nov 27, 2026") == ["friday", ",", "nov", "2", "7", ",", "2", "0", "2", "6"]
    assert tokenize_en("twenty-five") == ["twenty", "-", "five"]
    assert tokenize_zh("2026年11月27日") == list("2026年11月27日")
    for p in make_pairs("train", 500, 500) + make_pairs("test", 200, 200):
        assert SRC.unk_id not in SRC.encode(tokenize_en(p.en)), p.en
        assert TGT.unk_id not in TGT.encode(tokenize_zh(p.zh)), p.zh
    ids = TGT.encode(tokenize_zh("三百零五"), eos=True)
    assert ids[-1] == TGT.eos_id and TGT.decode(ids + [TGT.pad_id, 5]) == "三百零五"


def test_batch_is_padded_and_shifted_for_teacher_forcing():
    pairs = [parallel.number_pair(305), parallel.number_pair(12), parallel.number_pair(10500)]
    b = collate(pairs, SRC, TGT)
    assert b.src_lengths.tolist() == [len(tokenize_en(p.en)) for p in pairs]
    assert (b.tgt_in[:, 0] == TGT.bos_id).all()
    for i, p in enumerate(pairs):
        n = len(p.zh)
        assert TGT.decode(b.tgt_out[i]) == p.zh and b.tgt_out[i, n] == TGT.eos_id
        assert (b.tgt_in[i, 1:n + 1] == b.tgt_out[i, :n]).all(), "decoder input = target shifted right by one"
        assert (b.tgt_out[i, n + 1:] == TGT.pad_id).all() and (b.src[i, b.src_lengths[i]:] == SRC.pad_id).all()
    with pytest.raises(ValueError, match="at least one pair"):
        collate([], SRC, TGT)


def test_pair_batches_reshuffle_per_epoch_and_cover_everything():
    pairs = make_pairs("train", 50, 20)
    batches = parallel.PairBatches(pairs, SRC, TGT, batch_size=16, seed=1)
    e0, e1 = list(batches(0)), list(batches(1))
    assert len(e0) == len(batches) == 5 and sum(len(b.src) for b in e0) == 70
    assert not torch.equal(e0[0].src_lengths, e1[0].src_lengths) or not torch.equal(e0[0].src, e1[0].src)


# -- the masked loss -----------------------------------------------------------------------------------
def test_padding_positions_contribute_nothing_to_loss_or_gradient():
    torch.manual_seed(0)
    B, T, V = 4, 6, 9
    target = torch.randint(3, V, (B, T))
    lengths = [6, 3, 1, 4]
    for i, n in enumerate(lengths):
        target[i, n:] = 0
    logits = torch.randn(B, T, V, requires_grad=True)
    loss = masked_cross_entropy(logits, target)
    loss.backward()
    pad = target == 0
    assert (logits.grad[pad] == 0).all(), "no gradient flows into padded positions"
    assert (logits.grad[~pad].abs().sum(-1) > 0).all()
    # garbage at padded positions, and more padding: the loss does not move
    wild = logits.detach().clone()
    wild[pad] = torch.randn(int(pad.sum()), V) * 1e4
    more = torch.cat([wild, torch.randn(B, 5, V) * 1e4], 1)
    assert torch.equal(masked_cross_entropy(wild, target), loss.detach())
    assert torch.allclose(masked_cross_entropy(more, torch.cat([target, torch.zeros(B, 5, dtype=torch.long)], 1)),
                          loss.detach(), atol=0, rtol=1e-6)
    # it is the mean over real tokens, as cross_entropy(ignore_index=pad) computes it
    ref = torch.nn.functional.cross_entropy(logits.detach().transpose(1, 2), target, ignore_index=0)
    assert torch.allclose(loss, ref)
    # an unmasked mean over every position WOULD change with padding: that is what the mask prevents
    naive = lambda lg, tg: torch.nn.functional.cross_entropy(lg.transpose(1, 2), tg, reduction="none").mean()
    assert not torch.allclose(naive(wild, target), naive(logits.detach(), target))


def test_masked_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"expected logits \(B, T, V\)"):
        masked_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="every target position is padding"):
        masked_cross_entropy(torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.long))


# -- the model -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,engine", [("gru", "cudnn"), ("lstm", "cudnn"), ("gru", "scratch"), ("lstm", "scratch")])
def test_step_by_step_decoding_equals_teacher_forcing(kind, engine):
    """Feeding the decoder one token at a time gives the same logits as the one-pass teacher-forced run."""
    rnn_book.seed(1)
    m = Seq2Seq(len(SRC), len(TGT), kind, engine, embed_size=8, hidden_size=12, num_layers=2).double()
    b = collate(make_pairs("train", 3, 2), SRC, TGT)
    full = m(b.src, b.src_lengths, b.tgt_in)
    state, steps = m.encode(b.src, b.src_lengths), []
    for t in range(b.tgt_in.shape[1]):
        logits, state = m.decode(b.tgt_in[:, t:t + 1], state)
        steps.append(logits)
    assert torch.allclose(full, torch.cat(steps, 1), atol=1e-12)
    loss = teacher_forcing_loss(m, b)
    loss.backward()
    assert math.isfinite(loss.item()) and m.src_embed.weight.grad.abs().sum() > 0


def test_encoder_honours_source_lengths():
    """Padding the source further must not change the translation distribution."""
    rnn_book.seed(2)
    m = Seq2Seq(len(SRC), len(TGT), "gru", "cudnn", embed_size=8, hidden_size=12)
    b = collate([parallel.number_pair(7), parallel.number_pair(77777777)], SRC, TGT)
    longer = torch.cat([b.src, torch.zeros(2, 4, dtype=torch.long)], 1)
    assert torch.allclose(m(b.src, b.src_lengths, b.tgt_in), m(longer, b.src_lengths, b.tgt_in), atol=1e-6)


def test_model_rejects_bad_ids():
    m = Seq2Seq(len(SRC), len(TGT), hidden_size=8, embed_size=4)
    with pytest.raises(TypeError, match="int64 tensor of shape"):
        m.encode(torch.zeros(2, 3), None)
    with pytest.raises(ValueError, match=f"token ids must lie in 0..{len(SRC) - 1}"):
        m.encode(torch.full((1, 2), 999), None)


# -- search --------------------------------------------------------------------------------------------
def test_beam_as_wide_as_all_hypotheses_equals_exhaustive_search():
    max_len, misses = 4, 0
    n_hyp = count_hypotheses(3, True, max_len)       # generated tokens: <eos>, a, b
    for seed in range(12):
        dec = ToyDecoder(seed)
        every = exhaustive_search(dec.step, dec.start(), bos=0, eos=1, max_len=max_len)
        every = [h for h in every if h.log_prob > -math.inf]
        assert len(every) == n_hyp == 31
        assert math.isclose(sum(math.exp(h.log_prob) for h in every), 1.0, rel_tol=1e-9), "a distribution"
        wide = beam_search(dec.step, dec.start(), bos=0, eos=1, width=n_hyp, max_len=max_len)
        assert wide[0].tokens == every[0].tokens and math.isclose(wide[0].score, every[0].score, rel_tol=1e-12)
        assert [h.tokens for h in wide] == [h.tokens for h in every], "the whole ranking, not just the best"
        assert math.isclose(wide[0].score, dec.log_prob(wide[0].tokens), rel_tol=1e-12)
        greedy = greedy_search(dec.step, dec.start(), 1, bos=0, eos=1, max_len=max_len)[0]
        misses += greedy.tokens != every[0].tokens
    assert misses > 0, "on some seeds greedy misses the most likely sequence (else this test shows nothing)"


def test_beam_width_one_is_greedy_on_a_toy_and_a_seq2seq_model():
    for seed in range(10):
        dec = ToyDecoder(seed)
        g = greedy_search(dec.step, dec.start(), 1, bos=0, eos=1, max_len=6)[0]
        b = beam_search(dec.step, dec.start(), bos=0, eos=1, width=1, max_len=6)[0]
        assert g.tokens == b.tokens and math.isclose(g.score, b.score, rel_tol=1e-12)
    rnn_book.seed(3)
    m = Seq2Seq(len(SRC), len(TGT), "lstm", "cudnn", embed_size=8, hidden_size=16, num_layers=2)
    texts = [p.en for p in make_pairs("test", 6, 4)]
    greedy = greedy_translate(m, texts, SRC, TGT)
    assert greedy == [beam_translate(m, t, SRC, TGT, width=1)[0][0] for t in texts]


def test_beam_returns_sorted_distinct_candidates_and_checks_arguments():
    rnn_book.seed(4)
    m = Seq2Seq(len(SRC), len(TGT), "gru", "cudnn", embed_size=8, hidden_size=16)
    cands = beam_translate(m, "three hundred and five", SRC, TGT, width=5)
    scores = [s for _, s in cands]
    assert len(cands) == 5 and scores == sorted(scores, reverse=True) and all(s <= 0 for s in scores)
    assert len({c for c, _ in cands}) == 5
    dec = ToyDecoder(0)
    with pytest.raises(ValueError, match="width must be an int >= 1"):
        beam_search(dec.step, dec.start(), 0, 1, width=0, max_len=3)
    with pytest.raises(TypeError, match="decoder state must be tensors"):
        reorder({"h": torch.zeros(1)}, torch.tensor([0]))
    with pytest.raises(ValueError, match="exceed limit"):
        exhaustive_search(dec.step, dec.start(), 0, 1, max_len=30, limit=1000)


def test_length_normalised_beam_also_matches_exhaustive_when_wide():
    dec = ToyDecoder(5)
    every = exhaustive_search(dec.step, dec.start(), 0, 1, max_len=4, alpha=0.7)
    wide = beam_search(dec.step, dec.start(), 0, 1, width=31, max_len=4, alpha=0.7)
    assert wide[0].tokens == every[0].tokens and math.isclose(wide[0].score, every[0].score)


# -- BLEU ----------------------------------------------------------------------------------------------
def test_bleu_by_hand():
    assert char_bleu(["三百零五"], ["三百零五"]) == 100.0
    assert clipped_matches(list("零零零"), list("一百零五"), 1) == (1, 3), "matches clipped at the reference count"
    # hypothesis 三百零 vs reference 三百零五: p1 = 3/3, p2 = 2/2, p3 = 1/1, no 4-grams at all -> 0
    assert char_bleu(["三百零"], ["三百零五"]) == 0.0
    # two sentences: p1 = 7/7, p2 = 5/5, p3 = 3/3, p4 = 1/1; c = 7, r = 8 -> BP = exp(1 - 8/7)
    got = char_bleu(["三百零五", "十万零"], ["三百零五", "十万零一"])
    assert math.isclose(got, 100 * math.exp(1 - 8 / 7))
    assert char_bleu(["一二"], ["三四"], smooth="exp") == 0.0
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        corpus_bleu([["a"]], [])


def test_bleu_agrees_with_sacrebleu():
    import sacrebleu     # a dependency of the book: chapter 5b scores with it
    rng = random.Random(0)
    chars = "零一二三四五六七八九十百千万年月日0123"
    for _ in range(200):
        refs = ["".join(rng.choice(chars[:rng.randint(2, 20)]) for _ in range(rng.randint(1, 12)))
                for _ in range(rng.randint(1, 6))]
        hyps = [r if rng.random() < 0.3 else "".join(rng.choice(chars[:rng.randint(2, 20)])
                                                     for _ in range(rng.randint(1, 12))) for r in refs]
        for smooth in ("none", "exp"):
            ref = sacrebleu.corpus_bleu(hyps, [refs], tokenize="char", smooth_method=smooth).score
            assert math.isclose(char_bleu(hyps, refs, smooth=smooth), ref, abs_tol=1e-9)


# -- evaluation and widget -----------------------------------------------------------------------------
def test_evaluate_counts_exact_matches():
    rnn_book.seed(5)
    m = Seq2Seq(len(SRC), len(TGT), "gru", "cudnn", embed_size=8, hidden_size=16)
    pairs = make_pairs("test", 20, 5)
    r = evaluate(m, pairs, SRC, TGT)
    assert len(r["predictions"]) == 25 and 0 <= r["exact"] <= 1 and 0 <= r["bleu"] <= 100
    assert r["exact"] == sum(p == q.zh for p, q in zip(r["predictions"], pairs)) / 25


def test_translate_widget_callback():
    from rnn_book.widgets.translate import translate_explorer

    rnn_book.seed(6)
    m = Seq2Seq(len(SRC), len(TGT), "gru", "cudnn", embed_size=8, hidden_size=16)
    w = translate_explorer(m, SRC, TGT, text="three hundred and five", width=3)
    first = w.data
    assert first["reference"] == "三百零五" and len(first["candidates"]) == 3
    assert first["translation"] == first["candidates"][0][0]
    d = w.set(text="Nov 27, 2026")
    assert d != first and d["reference"] == "2026年11月27日" and d["kind"] == "date"
    d = w.set(width=5)
    assert len(d["candidates"]) == 5
    scores = [s for _, s in d["candidates"]]
    assert scores == sorted(scores, reverse=True)
    d = w.set(text="three hundred and banana")
    assert d["unknown"] == ["banana"] and d["reference"] is None
    d = w.set(text="")
    assert d["candidates"] == [] and "type" in d["message"]


# -- baselines and error analysis ------------------------------------------------------------------------
def test_word_by_word_baseline_and_references():
    from rnn_book.tasks import translation as T

    assert T.word_by_word("three thousand two hundred and forty-one") == "三千二百四十一"
    assert T.word_by_word("three hundred and five") == "三百五", "no 零: the baseline's typical mistake"
    assert T.word_by_word("twelve thousand") == "十二千"
    assert T.reference_of("Three hundred and five") == ("三百零五", "number")
    assert T.reference_of("27 Sept 1905") == ("1905年9月27日", "date")
    assert T.reference_of("hello") == (None, None)


def test_zero_patterns_and_grouped_accuracy():
    from rnn_book.tasks import translation as T

    assert [T.zero_pattern(n) for n in (123, 305, 10500, 1020304)] == \
        ["no 零", "零 inside a group", "零 after 万", "零 inside and after 万"]
    pairs = [parallel.number_pair(n) for n in (5, 305, 10500, 123456)]
    pred = ["五", "三百五", "一万零五百", "wrong"]
    rows = T.group_accuracy(pairs, pred, T.input_length)
    assert [r["group"] for r in rows] == sorted(r["group"] for r in rows)
    assert sum(r["errors"] for r in rows) == 2 and sum(r["n"] for r in rows) == 4
    short, long = T.error_rates_by_length(pairs, pred, cut=3)
    assert (short, long) == (0.0, 2 / 3)
    assert T.failures(pairs, pred)[0] == {"English": "three hundred and five", "expected": "三百零五", "model": "三百五",
                                          "kind": "only 零 differs"}
    with pytest.raises(ValueError, match="leaves 4 short and 0 long"):
        T.error_rates_by_length(pairs, pred, cut=99)


def test_reversed_source_reads_each_sentence_backwards_inside_its_length():
    from rnn_book.tasks.seq2seq import reverse_within_lengths

    x = torch.tensor([[1, 2, 3, 0], [4, 5, 6, 7], [8, 0, 0, 0]])
    assert reverse_within_lengths(x, [3, 4, 1]).tolist() == [[3, 2, 1, 0], [7, 6, 5, 4], [8, 0, 0, 0]]
    rnn_book.seed(7)
    m = Seq2Seq(len(SRC), len(TGT), "gru", "cudnn", embed_size=8, hidden_size=12, reverse_source=True)
    b = collate([parallel.number_pair(305), parallel.number_pair(12)], SRC, TGT)
    assert m(b.src, b.src_lengths, b.tgt_in).shape == (*b.tgt_out.shape, len(TGT))


def test_mistake_kinds_counts_and_integer_rate_comparison():
    from rnn_book.tasks import translation as T

    assert T.mistake_kind("三百零五", "三百五") == "only 零 differs"
    assert T.mistake_kind("三百六十七万", "三十六万七千") == "digits right, places wrong"
    assert T.mistake_kind("三百零五", "三百零六") == "a digit wrong"
    assert T.mistake_kind("一万零五百", "") == "a digit wrong"
    with pytest.raises(ValueError, match="is not a mistake"):
        T.mistake_kind("五", "五")
    pairs = [parallel.number_pair(n) for n in (305, 3670000, 12, 20002)]
    pred = ["三百五", "三十六万七千", "十二", "二万零三"]
    assert T.mistake_counts(pairs, pred) == {"only 零 differs": 1, "digits right, places wrong": 1, "a digit wrong": 1}
    assert T.error_counts(pairs, pred, lambda p: p.value >= 10_000) == {False: (1, 2), True: (2, 2)}
    assert T.more_often((2, 2), (1, 2)) and not T.more_often((1, 2), (1, 2)), "strictly more, compared as integers"
    assert T.more_often((1, 3), (0, 1000)) and not T.more_often((1, 3), (1, 3))
    text = T.describe_mistakes(pairs, pred)
    assert "3 come out wrong: 2 of the 2 from 10,000 up and 1 of the 2 below 10,000" in text
    assert "1 have every non-zero digit right" in text and "1 differ only in a 零" in text
    assert "Of the wrong ones" not in T.describe_mistakes(pairs, [p.zh for p in pairs])
    assert T.median_length(pairs) == sorted(T.input_length(p) for p in pairs)[2]


def test_attention_config_builds_the_attention_model_and_rejects_what_it_lacks():
    import dataclasses

    from rnn_book.tasks import translation as T
    from rnn_book.tasks.attention import AttentionSeq2Seq

    S = dataclasses.replace(T.study_config(), attention="additive", hidden_size=8, embed_size=4)
    assert isinstance(T.build_model(S, SRC, TGT), AttentionSeq2Seq)
    assert isinstance(T.build_model(dataclasses.replace(S, attention=None), SRC, TGT), Seq2Seq)
    with pytest.raises(ValueError, match="one bidirectional encoder layer"):
        T.build_model(dataclasses.replace(S, num_layers=2), SRC, TGT)
    assert T.study_config().dates_per_epoch == 0 and T.limits().numbers_wrong > 0


def test_unit_focus_counts_the_most_attended_token_per_unit():
    from rnn_book.tasks import translation as T
    from rnn_book.tasks.attention import AttentionSeq2Seq

    rnn_book.seed(8)
    m = AttentionSeq2Seq(len(SRC), len(TGT), embed_size=4, hidden_size=8)
    pairs = [parallel.number_pair(n) for n in (12000, 3400006, 150, 99999999)]
    rows = T.unit_focus(m, SRC, TGT, pairs)
    written = {r["Chinese unit"]: r["written"] for r in rows}
    assert written == {u: sum(p.zh.count(u) for p in pairs) for u in T.UNITS if any(u in p.zh for p in pairs)}
    assert all(0 <= r["its share"] <= r["share"] <= 1 for r in rows)
    assert "Writing 万" in T.describe_focus(rows)
