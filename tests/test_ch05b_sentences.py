"""Chapter 5b: the HSK sentence pairs and their split, attention (masking, shapes, both scores and engines),
the baselines, BLEU against sacrebleu, exposure bias, the widget and the report's command line."""
import gzip
import json
import math
import random
from collections import Counter

import pytest
import torch

import rnn_book
from rnn_book.data import hsk
from rnn_book.data.parallel import collate, tokenize_en, tokenize_zh
from rnn_book.data.split import split_of
from rnn_book.tasks import sentences as T
from rnn_book.tasks.attention import (AdditiveScore, AttentionSeq2Seq, MultiplicativeScore, attend, attention_map,
                                      masked_softmax)
from rnn_book.tasks.bleu import char_bleu
from rnn_book.tasks.seq2seq import NEVER_WRITTEN, Seq2Seq, beam_translate, decoder_step, greedy_translate

SRC, TGT = hsk.build_vocabs()


# -- data ------------------------------------------------------------------------------------------------
def test_every_sentence_is_shipped_once_and_split_by_its_id():
    everything = hsk.load()
    assert len(everything) == 4354 and len({s.id for s in everything}) == 4354
    parts = hsk.splits()
    assert sum(len(v) for v in parts.values()) == 4354
    assert {s.id for v in parts.values() for s in v} == {s.id for s in everything}
    key = hsk.split_key(everything)
    for name, ss in parts.items():
        assert all(split_of(key[s.id]) == name for s in ss)
    copies = Counter(s.zh for s in everything)
    assert all(key[s.id] == s.id for s in everything if copies[s.zh] == 1)
    assert 300 < len(parts["test"]) < 560 and len(parts["valid"]) > 150, "about a tenth held out, a twentieth valid"


def test_no_chinese_sentence_of_the_test_split_is_trained_on():
    train = {s.zh for s in hsk.sentences("train")}
    assert not [s.zh for s in hsk.sentences("test") if s.zh in train]
    copies = Counter(s.zh for s in hsk.load())
    split_of_id = {s.id: name for name, ss in hsk.splits().items() for s in ss}
    dup = [s for s in hsk.load() if copies[s.zh] > 1]
    assert dup, "the corpus has duplicated Chinese sentences: the dedupe rule is exercised"
    by_zh = {}
    for s in dup:
        by_zh.setdefault(s.zh, set()).add(split_of_id[s.id])
    assert all(len(v) == 1 for v in by_zh.values()), "copies of one Chinese sentence share one split"


def test_trim_keeps_the_text_fields(tmp_path):
    record = {"id": "hsk1-0001", "hsk_level": 1, "topic": "greetings", "chinese": "老师，您好！", "traditional": "x",
              "translation": {"en": "Hello, teacher!"}, "tokens": [{"word": "老师", "pinyin": "lǎo shī",
                                                                    "gloss_en": "teacher"}], "audio": {}}
    out = hsk.trim([record])
    assert out == [{"id": "hsk1-0001", "level": 1, "topic": "greetings", "zh": "老师，您好！", "en": "Hello, teacher!",
                    "glosses": [["老师", "teacher"]]}]
    first = hsk.load()[0]
    assert (first.id, first.zh, first.en, first.glosses[0]) == ("hsk1-0001", "老师，您好！", "Hello, teacher!",
                                                                ("老师", "teacher"))
    path = tmp_path / "t.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps(out, ensure_ascii=False))
    assert json.loads(gzip.decompress(path.read_bytes()))[0]["zh"] == "老师，您好！"


def test_glosses_become_word_pairs_of_the_training_sentences_only():
    train = hsk.sentences("train")
    pairs = hsk.gloss_pairs(train)
    assert len(pairs) == len({(p.en, p.zh) for p in pairs}) and all(p.kind == "gloss" for p in pairs)
    words = {w for s in train for w, _ in s.glosses}
    assert {p.zh for p in pairs} <= words
    assert any(p.en == "teacher" and p.zh == "老师" for p in pairs)
    assert not [p for p in pairs if "(" in p.en or "[" in p.en], "parentheses and pinyin are dropped"
    src, tgt = hsk.build_vocabs(glosses=True)
    assert len(src) > len(SRC) and set(SRC.itos) <= set(src.itos), "glosses add English words, drop none"


def test_vocabularies_come_from_training_only_and_the_report_counts_unknowns():
    assert SRC.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and TGT.itos[:4] == SRC.itos[:4]
    train_words = {t for s in hsk.sentences("train") for t in tokenize_en(s.en)}
    assert set(SRC.itos[4:]) == train_words
    rows = {r["split"]: r for r in hsk.vocab_report(SRC, TGT)}
    assert rows["train"]["English <unk>"] == 0 and rows["train"]["Chinese <unk>"] == 0
    test_tokens = [t for s in hsk.sentences("test") for t in tokenize_en(s.en)]
    assert rows["test"]["English <unk>"] == sum(t not in train_words for t in test_tokens) > 0
    assert rows["test"]["English tokens"] == len(test_tokens)
    src2, _ = hsk.build_vocabs(min_count=2)
    assert len(src2) < len(SRC)
    assert tokenize_en("It's 5 o'clock, isn't it?")[:4] == ["it", "'", "s", "5"]


# -- attention -------------------------------------------------------------------------------------------
def _model(score="additive", kind="gru", engine="cudnn", seed=0):
    rnn_book.seed(seed)
    return AttentionSeq2Seq(len(SRC), len(TGT), kind, engine, embed_size=8, hidden_size=12, score=score).double()


def test_weights_on_padding_are_exactly_zero_and_each_row_sums_to_one():
    m = _model()
    b = collate(hsk.pairs("train")[:5], SRC, TGT)
    state = m.encode(b.src, b.src_lengths)
    _, _, alpha = m.decode_with_weights(b.tgt_in, state)                # (B, T, S)
    S = b.src.shape[1]
    pad = torch.arange(S)[None, :] >= b.src_lengths[:, None]            # (B, S)
    assert pad.any(), "the batch has padding, so the test means something"
    assert (alpha.masked_select(pad[:, None, :].expand_as(alpha)) == 0).all()
    assert torch.allclose(alpha.sum(-1), torch.ones_like(alpha.sum(-1)), atol=1e-12)
    assert (alpha.masked_select(~pad[:, None, :].expand_as(alpha)) > 0).all()


@pytest.mark.parametrize("score", ["additive", "multiplicative"])
def test_more_padding_changes_nothing(score):
    m = _model(score)
    b = collate(hsk.pairs("train")[:4], SRC, TGT)
    longer = torch.cat([b.src, torch.zeros(4, 5, dtype=torch.long)], 1)
    assert torch.allclose(m(b.src, b.src_lengths, b.tgt_in), m(longer, b.src_lengths, b.tgt_in), atol=1e-12)


@pytest.mark.parametrize("score,kind,engine", [("additive", "gru", "cudnn"), ("multiplicative", "gru", "cudnn"),
                                               ("additive", "lstm", "cudnn"), ("additive", "gru", "scratch")])
def test_step_by_step_decoding_equals_teacher_forcing(score, kind, engine):
    m = _model(score, kind, engine)
    b = collate(hsk.pairs("train")[10:13], SRC, TGT)
    full = m(b.src, b.src_lengths, b.tgt_in)
    state, steps = m.encode(b.src, b.src_lengths), []
    for t in range(b.tgt_in.shape[1]):
        logits, state = m.decode(b.tgt_in[:, t:t + 1], state)
        steps.append(logits)
    assert torch.allclose(full, torch.cat(steps, 1), atol=1e-12)
    T.teacher_forcing_loss(m, b).backward()
    assert m.score.prepare is not None and all(p.grad is not None for p in m.score.parameters())


def test_scores_follow_their_equations():
    g = torch.Generator().manual_seed(1)
    add = AdditiveScore(3, 4, 5).double()
    q, k = torch.randn(2, 6, 3, generator=g, dtype=torch.float64), torch.randn(7, 6, 4, generator=g, dtype=torch.float64)
    e = add(q, add.prepare(k))                                           # (T, S, B)
    t, j, b = 1, 4, 2
    by_hand = add.v.weight[0] @ torch.tanh(add.W_q.weight @ q[t, b] + add.W_k.weight @ k[j, b] + add.W_k.bias)
    assert e.shape == (2, 7, 6) and torch.isclose(e[t, j, b], by_hand)
    mul = MultiplicativeScore(3, 4).double()
    e = mul(q, mul.prepare(k))
    assert torch.isclose(e[t, j, b], q[t, b] @ mul.W.weight @ k[j, b])
    mask = torch.ones(7, 6, dtype=torch.bool)
    c, alpha = attend(mul, q, mul.prepare(k), k, mask)
    assert torch.allclose(c[t, b], (alpha[t, :, b, None] * k[:, b]).sum(0))


def test_masked_softmax_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="nothing to attend to"):
        masked_softmax(torch.zeros(3, 2), torch.tensor([[True, False]] * 3))
    with pytest.raises(ValueError, match=r"expected scores \(\.\.\., S, B\)"):
        masked_softmax(torch.zeros(3, 2), torch.ones(2, 3, dtype=torch.bool))


def test_attention_map_and_decoding_with_the_shared_searches():
    m = _model().float()
    text, pairs = hsk.pairs("test")[0].en, hsk.pairs("test")[:6]
    greedy = greedy_translate(m, [p.en for p in pairs], SRC, TGT)
    assert greedy == [beam_translate(m, p.en, SRC, TGT, width=1)[0][0] for p in pairs]
    out = beam_translate(m, text, SRC, TGT, width=3)[0][0]
    src_tokens, tgt_tokens, w = attention_map(m, SRC, TGT, text, out)
    assert w.shape == (len(tgt_tokens), len(src_tokens)) and torch.allclose(w.sum(1), torch.ones(len(tgt_tokens)))
    with pytest.raises(TypeError, match="without attention has no weights"):
        attention_map(Seq2Seq(len(SRC), len(TGT), hidden_size=8, embed_size=4), SRC, TGT, text, out)


def test_the_decoder_never_writes_padding_unknown_or_bos():
    m = _model().float()
    step = decoder_step(m)
    state = m.encode(torch.tensor([[5, 6, 7]]), torch.tensor([3]))
    logp, _ = step(torch.tensor([TGT.bos_id]), state)
    assert torch.isinf(logp[0, list(NEVER_WRITTEN)]).all() and math.isclose(float(logp.detach().exp().sum()), 1, rel_tol=1e-5)


# -- baselines and scores ----------------------------------------------------------------------------------
def test_gloss_dictionary_and_retrieval():
    train = hsk.sentences("train")
    d = T.GlossDictionary(train)
    assert d.table["teacher"] == "老师" and d.table["."] == "。"
    assert d("Hello, teacher!").endswith("老师！") and d("zzzz qqqq") == ""
    assert hsk.gloss_senses("to ask; to invite (sb) [qing3]") == ["to ask", "to invite"]
    r = T.Retrieval(train)
    assert all(r(s.en) == s.zh or {t.zh for t in train if set(tokenize_en(t.en)) == set(tokenize_en(s.en))}
               for s in train[:50]), "a training sentence retrieves itself (or one with the same words)"
    i = r.nearest("teacher hello")
    assert {"teacher", "hello"} <= set(tokenize_en(train[i].en))
    assert r.nearest("qqqq") == 0


def test_own_bleu_equals_sacrebleu_on_chinese_characters():
    import sacrebleu

    rng = random.Random(4)
    refs = [s.zh for s in hsk.sentences("test")[:80]]
    for trial in range(20):
        hyps = ["".join(c for c in r if rng.random() < 0.8) + rng.choice(["", "了", "。"]) for r in refs]
        ours = char_bleu(hyps, refs, smooth="exp")
        theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="zh").score
        assert math.isclose(ours, theirs, abs_tol=1e-9)
        assert math.isclose(T.scores(hyps, refs)["BLEU"], theirs)
    with pytest.raises(ValueError, match="one hypothesis per reference"):
        T.scores(["a"], [])


def test_free_running_loss_reads_the_models_own_tokens():
    """The loss of the reference given the model's own greedy prefix, recomputed one sentence at a time."""
    m = _model().float()
    pairs = hsk.pairs("valid")[:3]
    got = T.free_running_loss(m, pairs, SRC, TGT)
    total, n = 0.0, 0
    for p in pairs:
        target = TGT.encode(tokenize_zh(p.zh), eos=True)
        state = m.encode(torch.tensor([SRC.encode(tokenize_en(p.en))]), None)
        token = TGT.bos_id
        for y in target:
            logits, state = m.decode(torch.tensor([[token]]), state)
            logp = logits[0, -1].log_softmax(-1)
            total, n = total - float(logp[y]), n + 1
            logp[list(NEVER_WRITTEN)] = -math.inf
            token = int(logp.argmax())
    assert math.isclose(got, total / n, rel_tol=1e-5)
    forced = T.corpus_loss(m, pairs, SRC, TGT)
    assert forced != got


def test_sentence_widget_callback():
    from rnn_book.widgets.sentences import ALL_UNKNOWN, EMPTY, sentence_explorer

    m = _model().float()
    w = sentence_explorer(m, SRC, TGT, text="I want to drink a cup of tea.", width=3)
    d = w.data
    assert len(d["candidates"]) == 3 and d["translation"] == d["candidates"][0][0] and not d["unknown"]
    assert len(d["weights"]) == len(tokenize_zh(d["translation"])) + 1 and len(d["weights"][0]) == len(d["tokens"])
    d = w.set(text="I want to drink a cup of zyzzyva.")
    assert d["unknown"] == ["zyzzyva"] and "zyzzyva" in d["message"] and d["translation"] is not None
    d = w.set(text="zyzzyva qwxz")
    assert d["translation"] is None and d["message"] == ALL_UNKNOWN
    d = w.set(text="   ")
    assert d["candidates"] == [] and d["message"] == EMPTY
    d = w.set(width=5)
    assert len(d["candidates"]) == 0, "still nothing to translate"
    rnn_book.seed(1)
    plain = sentence_explorer(Seq2Seq(len(SRC), len(TGT), hidden_size=8, embed_size=4), SRC, TGT, width=2)
    assert plain.data["weights"] is None and len(plain.data["candidates"]) == 2


def test_report_settings_are_typed_and_checked():
    from rnn_book.tasks.translation_report import parse_settings

    S = T.config()
    assert parse_settings(["hidden_size=96", "lr=0.01", "max_train=None", "kind=lstm"], S) == \
        {"hidden_size": 96, "lr": 0.01, "max_train": None, "kind": "lstm"}
    with pytest.raises(SystemExit, match="'width' is not a setting"):
        parse_settings(["width=3"], S)


# -- the report: spread parts merged into results files ------------------------------------------------------
def _record(chapter, seed, threads, mode="full"):
    if chapter == "05":
        m = {"loss first": 2.0, "loss last": 0.02 + seed / 100, "numbers errors": 10 + seed, "numbers n": 2000,
             "dates errors": seed, "dates n": 600, "numbers exact": 1 - (10 + seed) / 2000, "dates exact": 1 - seed / 600,
             "errors from 10,000 up": [9 + seed, 1500], "errors below 10,000": [1, 500],
             "errors longer half": [8, 900], "errors shorter half": [2 + seed, 1100],
             "mistake kinds": {"only 零 differs": 1, "digits right, places wrong": 5, "a digit wrong": 4 + seed},
             "zero patterns": {}, "seconds": 60.0}
    else:
        system = lambda b: {"parameters": 1000, "seconds": 120.0 + seed, "epochs": 9, "valid loss": [4.0, 3.5],
                            "width 1": {"BLEU": b + seed, "chrF": 10.0}, "width 4": {"BLEU": b + 1, "chrF": 11.0},
                            "exposure": {"teacher-forced loss": 3.0, "free-running loss": 4.0, "gap": 1.0},
                            "beam sweep": [{"width": 8, "alpha": 0.0, "length ratio": 0.8},
                                           {"width": 8, "alpha": 1.0, "length ratio": 0.95}]}
        m = {"seed": seed, "numbers fixed": {"errors": 150, "n": 2000, "longer half": [120, 900],
                                             "shorter half": [30, 1100], "seconds": 50.0},
             "numbers attention": {"errors": 5, "n": 2000, "longer half": [3, 900], "shorter half": [2, 1100],
                                   "seconds": 90.0, "focus": [{"Chinese unit": "万", "written": 100,
                                                               "most attended English token": "thousand", "share": 0.7,
                                                               "runner-up": "million", "its share": 0.2}]},
             "encoder–decoder": system(3.0), "with attention": system(8.0)}
    return {"chapter": chapter, "mode": mode, "seed": seed, "threads": threads, "device": "cpu (1 threads)",
            "torch": "2", "minutes": 2.0, "command": "python -m rnn_book translation-report spread", "measures": m}


def test_merge_writes_the_spread_and_the_table_and_the_note_reads_them(tmp_path, monkeypatch):
    from rnn_book.tasks import translation_report as R

    monkeypatch.setattr(R, "RESULTS", tmp_path)
    monkeypatch.setattr(T, "baseline_scores", lambda: {"nearest neighbour": {"BLEU": 8.7, "chrF": 10.3}})
    monkeypatch.setenv("RNN_BOOK_QUICK", "0")
    for chapter in ("05", "05b"):
        part = tmp_path / f"part{chapter}.json"
        part.write_text(json.dumps([_record(chapter, s, t) for s in (0, 1, 2) for t in (1, 2)]
                                   + [_record(chapter, 0, 1, "quick")]))
        out = R.merge(chapter, [part], tmp_path, "python -m rnn_book translation-report merge")
        text = out.read_text()
        assert "## full mode" in text and "## quick mode" in text and text.count("\n| ") >= 8
        assert len(json.loads((tmp_path / f"{R.CHAPTERS[chapter]}_spread.json").read_text())) == 7
    note = R.spread_note("05")
    assert "6 runs (1 thread: seeds 0, 1, 2; 2 threads: seeds 0, 1, 2)" in note and "wrong held-out numbers 10 to 12 of 2000" in note
    assert "6 of 6 runs made mistakes" in note and "in 6 of them numbers from 10,000 up" in note
    assert "with the fixed context and 5 with attention" in R.spread_note("05b")
    assert not (tmp_path / "translation_sentences.md").exists(), "the results table has one writer: the table command"
    part = tmp_path / "quick-only.json"
    part.write_text(json.dumps([_record("05b", 0, 1, "quick"), _record("05b", 1, 1, "quick"),
                                _record("05b", 0, 2, "quick")]))
    text = R.merge("05b", [part], tmp_path, "merge").read_text()
    assert "## full mode\n\nNot measured yet." in text and "| 0 | 1 |" in text
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    assert "quick mode, 3 runs (1 thread: seeds 0, 1; 2 threads: seed 0)" in R.spread_note("05b")
    assert "missing" in R.read("nothing-here.md")


# -- the report: the results table of the sentence models -----------------------------------------------------
def test_sentence_table_gives_mean_and_range_over_seeds_and_the_margins():
    from rnn_book.tasks import translation_report as R

    runs = [_record("05b", s, 1) for s in (0, 1, 2)]
    rows = {r["system"]: r for r in R.sentence_table(runs, {"nearest neighbour": {"BLEU": 8.7, "chrF": 10.3}})}
    assert rows["with attention, greedy"]["BLEU"] == "9.00 (8.00–10.00)"
    assert rows["encoder–decoder, beam 4"]["BLEU"] == "4.00 (4.00–4.00)"
    assert rows["encoder–decoder, greedy"]["training minutes"] == "2.02 (2.00–2.03)"
    assert rows["nearest neighbour"]["BLEU"] == "8.70" and rows["nearest neighbour"]["parameters"] == "–"
    assert R.sentence_table(runs[:1], {})[0]["BLEU"] == "3.00", "one seed: no range"
    margins = R.attention_margins(runs)
    assert [m["margin greedy"] for m in margins] == [5.0, 5.0, 5.0]
    assert [m["margin beam 4"] for m in margins] == [5.0, 5.0, 5.0]


def test_table_command_writes_both_files_after_every_seed(tmp_path, monkeypatch):
    import dataclasses

    from rnn_book.tasks import translation_report as R

    tiny = dataclasses.replace(T.config(), epochs=1, hidden_size=8, embed_size=4, max_train=40, glosses=False)
    real_pairs = hsk.pairs
    monkeypatch.setattr(T, "config", lambda: tiny)
    monkeypatch.setattr(hsk, "pairs", lambda split: real_pairs(split)[:12])       # a few valid and test sentences
    monkeypatch.setattr(T, "baseline_scores", lambda: {"nearest neighbour": {"BLEU": 8.7, "chrF": 10.3}})
    monkeypatch.setenv("RNN_BOOK_QUICK", "1")
    written = []
    monkeypatch.setattr(R, "table_text", lambda report: written.append(len(report["runs"])) or "table")
    report = R.main(["table", "--quick", "--seeds", "0", "1", "--results", str(tmp_path)])
    assert written == [1, 2], "the files are rewritten after each seed"
    saved = json.loads((tmp_path / "translation_sentences.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(report, ensure_ascii=False))
    assert saved["command"] == f"python -m rnn_book translation-report table --quick --seeds 0 1 --results {tmp_path}"
    assert saved["mode"] == "quick" and saved["seeds"] == [0, 1] and saved["threads"] == 1
    assert [r["seed"] for r in saved["runs"]] == [0, 1] and saved["device"].startswith(("cpu", "cuda"))
    for r in saved["runs"]:
        for name in ("encoder–decoder", "with attention"):
            m = r["measures"][name]
            assert m["epochs"] == 1 and m["parameters"] > 0 and m["seconds"] > 0
            assert 0 <= m["width 1"]["BLEU"] <= 100 and 0 <= m["width 4"]["chrF"] <= 100
        assert r["measures"]["with attention"]["parameters"] > r["measures"]["encoder–decoder"]["parameters"]
    assert (tmp_path / "translation_sentences.md").read_text(encoding="utf-8") == "table"
    with pytest.raises(SystemExit, match="expected --threads of at least 1"):
        R.main(["table", "--threads", "0", "--results", str(tmp_path)])


def test_table_text_names_the_command_and_the_seeds_not_measured():
    from rnn_book.tasks import translation_report as R

    report = {"command": "python -m rnn_book translation-report table --seeds 0 1 2", "date": "2026-01-01 00:00 UTC",
              "device": "cpu (1 threads)", "torch": "2", "mode": "full", "seeds": [0, 1, 2], "threads": 1,
              "baselines": {"nearest neighbour": {"BLEU": 8.7, "chrF": 10.3}}, "runs": [_record("05b", 0, 1)]}
    text = R.table_text(report)
    assert "- command: `python -m rnn_book translation-report table --seeds 0 1 2`" in text
    assert "- mode: full" in text and "- threads: 1" in text and "- device: cpu (1 threads)" in text
    assert "- seeds: 0 measured (of 0, 1, 2 asked for; not measured: 1, 2)" in text
    assert "| with attention, greedy | 8.00 |" in text and "| 0 | 1 | 3.00 / 8.00 | 5.00 |" in text
    assert "none yet" in R.table_text(report | {"runs": []})
    verdict = R.attention_verdict(report)
    assert "full mode, 1 seed(s) (0), 1 thread(s)" in verdict
    assert "greedy +5.00 points (higher for 1 of 1 seeds)" in verdict
    assert "baseline scores 8.70; attention with beam 4 scores 9.00, above it for 1 of 1 seeds" in verdict
    worse = json.loads(json.dumps(report))
    worse["runs"][0]["measures"]["with attention"]["width 4"]["BLEU"] = 2.5
    assert "beam 4 -1.50 points (higher for 0 of 1 seeds)" in R.attention_verdict(worse)
    assert "scores 2.50, above it for 0 of 1 seeds" in R.attention_verdict(worse)
    assert "No results table" in R.attention_verdict(None)


def test_length_sorted_batches_cover_every_pair_once_and_pad_less():
    from rnn_book.data.parallel import PairBatches

    pairs = hsk.pairs("train")[:600] + hsk.gloss_pairs(hsk.sentences("train")[:300])
    plain, sorted_ = PairBatches(pairs, SRC, TGT, 32, seed=3), PairBatches(pairs, SRC, TGT, 32, seed=3, sort_within=5)
    for b in (plain, sorted_):
        seen = sorted(i for batch in b.order(0) for i in batch)
        assert seen == list(range(len(pairs))), "every pair exactly once per epoch"
    assert sorted_.order(0) != sorted_.order(1), "a new order every epoch"
    padded = lambda b: sum(x.src.numel() for x in b(0))
    assert padded(sorted_) < 0.8 * padded(plain), "similar lengths share batches: less padding"
    order = list(range(len(pairs)))
    random.Random(3 * 100_003).shuffle(order)
    assert plain.order(0)[0] == order[:32], "without sort_within: the plain shuffled order"
    with pytest.raises(ValueError, match="sort_within must be an int >= 0"):
        PairBatches(pairs, SRC, TGT, 32, sort_within=-1)
