"""Unit tests for the speech chapter: features (rnn_book.tasks.audio), synthesis (rnn_book.tasks.speech), CTC (rnn_book.tasks.ctc)."""
import math

import pytest
import torch

from rnn_book.tasks import audio, ctc, espeak, speech

SR = audio.SAMPLE_RATE


def sine(freq, seconds=0.5, sr=SR):
    t = torch.arange(int(seconds * sr)) / sr
    return torch.sin(2 * math.pi * freq * t)


# ------------------------------------------------------------------------------------------------ audio

def peak_hz(x, sr):
    X = torch.fft.rfft(x).abs()
    return float(X.argmax()) * sr / x.numel()


def test_resample_keeps_frequency_and_duration():
    x = sine(440.0, 0.5, 22050)
    y = audio.resample(x, 22050, SR)
    assert y.numel() == 4000
    assert abs(peak_hz(y, SR) - 440.0) < 3
    assert abs(y.abs().max() - 1) < 0.05


def test_change_speed_shortens_and_raises_pitch():
    x = sine(500.0)
    y = audio.change_speed(x, 1.25)
    assert y.numel() == pytest.approx(x.numel() / 1.25, abs=2)
    assert peak_hz(y, SR) == pytest.approx(625.0, abs=5)


def test_power_spectrogram_frames_and_peak_bin():
    x = sine(1000.0, 1.0)
    P = audio.power_spectrogram(x)
    n_fft, win, hop = audio.frame_params()
    assert (n_fft, win, hop) == (256, 200, 80)
    assert P.shape == ((x.numel() - n_fft) // hop + 1, n_fft // 2 + 1)   # frames span n_fft samples
    assert int(P.mean(0).argmax()) == round(1000 * n_fft / SR)


def test_mel_filterbank_triangles():
    fb = audio.mel_filterbank(40, 256, SR)
    assert fb.shape == (129, 40)
    assert (fb >= 0).all() and (fb <= 1 + 1e-6).all()
    assert (fb.sum(0) > 0).all(), "every mel filter must cover at least one FFT bin"
    peaks = fb.argmax(0)
    assert (peaks[1:] >= peaks[:-1]).all(), "filter centres must rise with the filter index"
    assert torch.allclose(audio.mel_to_hz(audio.hz_to_mel(torch.tensor([0.0, 700.0, 4000.0]))),
                          torch.tensor([0.0, 700.0, 4000.0], dtype=torch.float64))
    assert float(audio.hz_to_mel(1000.0)) == pytest.approx(1000.0, abs=1.0)    # the scale's anchor


def test_dct_is_orthonormal_and_mfcc_shape():
    D = audio.dct_matrix(40, 40)
    assert torch.allclose(D.T @ D, torch.eye(40), atol=1e-5)
    x = sine(300.0) + 0.5 * sine(1200.0)
    M = audio.mfcc(x, n_mfcc=13)
    assert M.shape == (audio.log_mel(x).shape[0], 13)
    assert torch.allclose(audio.log_mel(x) @ D, audio.mfcc(x, n_mfcc=40), atol=1e-4)


def test_normalise_and_features():
    F = torch.randn(50, 13) * 3 + 7
    N = audio.normalise(F)
    assert torch.allclose(N.mean(0), torch.zeros(13), atol=1e-5)
    assert torch.allclose(N.std(0, unbiased=False), torch.ones(13), atol=1e-3)
    x = sine(440.0)
    assert torch.allclose(audio.features(2 * x), audio.features(x), atol=1e-3), "CMVN removes loudness"
    assert audio.features(x, kind="logmel").shape[1] == 40


def test_trim_noise_eq_and_pad():
    x = torch.cat([torch.zeros(4000), sine(440.0, 0.3), torch.zeros(4000)])
    y = audio.trim(x, pad_ms=0)
    assert abs(y.numel() - 2400) <= 80
    g = torch.Generator().manual_seed(0)
    z = audio.add_noise(sine(440.0, 2.0), 10.0, generator=g)
    snr = 10 * math.log10(sine(440.0, 2.0).pow(2).mean() / (z - sine(440.0, 2.0)).pow(2).mean())
    assert snr == pytest.approx(10.0, abs=0.3)
    e = audio.random_eq(sine(440.0), generator=g)
    assert e.shape == (4000,) and not torch.allclose(e, sine(440.0))
    F = torch.ones(40, 13)
    Fm = audio.spec_mask(F, torch.Generator().manual_seed(3), masks=2)
    assert Fm.shape == F.shape and (Fm == 0).any() and (F == 1).all(), "masks zero bands of a copy"
    S = audio.stack_frames(torch.arange(14.0).reshape(7, 2), 3)
    assert S.shape == (2, 6) and S[1].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    X, L = audio.pad_batch([torch.ones(3, 2), torch.ones(5, 2)])
    assert X.shape == (2, 5, 2) and L.tolist() == [3, 5] and X[0, 3:].abs().sum() == 0


def test_audio_errors_name_what_was_expected():
    with pytest.raises(ValueError, match="1-D wave"):
        audio.power_spectrogram(torch.zeros(2, 100))
    with pytest.raises(ValueError, match="empty"):
        audio.resample(torch.zeros(0), 8000, 16000)
    with pytest.raises(ValueError, match="positive int"):
        audio.resample(torch.zeros(10), 8000, 0)
    with pytest.raises(ValueError, match="fmax"):
        audio.mel_filterbank(40, 256, 8000, fmax=6000)
    with pytest.raises(ValueError, match="factor"):
        audio.change_speed(torch.zeros(10), 10)
    with pytest.raises(ValueError, match="'mfcc' or 'logmel'"):
        audio.features(sine(100.0), kind="mel")
    with pytest.raises(ValueError, match="at least one"):
        audio.pad_batch([])


# ----------------------------------------------------------------------------------------------- speech

def test_say_speaks_at_8khz_and_voices_differ():
    a, sr = espeak.say("seven", "en-us+f3")
    b, _ = espeak.say("seven", "en-gb-x-rp+m3", rate=120, pitch=30)
    assert sr == SR and 0.2 < a.numel() / SR < 1.5
    assert a.abs().max() <= 1.0 and a.abs().max() > 0.05
    assert b.numel() > a.numel(), "a slower rate must take longer"
    full, sr_full = espeak.say("seven", "en-us+f3", sr=None)
    assert sr_full == espeak.engine().sample_rate and full.numel() > a.numel()


def test_say_rejects_bad_input():
    with pytest.raises(ValueError, match="no voice"):
        espeak.say("one", voice="xx-nonsense")
    with pytest.raises(ValueError, match="rate"):
        espeak.say("one", rate=5)
    with pytest.raises(ValueError, match="non-empty"):
        espeak.say("  ")


def test_variants_and_voice_split():
    vs = espeak.variants()
    assert {"f1", "f5", "m1", "klatt"} <= set(vs)
    train, test = speech.voice_split(12)
    assert len(test) == 12 and not set(train) & set(test) and len(train) + 12 == len(vs)


def test_human_digits_are_shipped():
    waves, labels, sr = speech.load_human_digits()
    assert labels == list(range(10)) and sr == SR
    assert all(0.4 < w.numel() / SR < 2.0 and w.abs().max() > 0.1 for w in waves)


def test_synthesise_caches_from_a_clean_state(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_BOOK_CACHE", str(tmp_path))
    first = speech.digit_set(["f1", "m2"], 1, seed=5)
    files = list((tmp_path / "speech").glob("*.pt"))
    assert len(first) == 10 and len(files) == 1
    assert [u.label for u in first] == list(range(10))
    again = speech.digit_set(["f1", "m2"], 1, seed=5)
    assert all(torch.equal(a.wave, b.wave) for a, b in zip(first, again))
    files[0].write_bytes(b"damaged")                     # a broken cache file is rebuilt, not fatal
    third = speech.digit_set(["f1", "m2"], 1, seed=5)
    # eSpeak NG is not bit-exact from call to call (a few samples' jitter): same clips, nearly the same length
    assert [u.voice for u in third] == [u.voice for u in first]
    assert all(abs(a.wave.numel() - b.wave.numel()) < 0.1 * a.wave.numel() for a, b in zip(first, third))
    assert torch.load(files[0]) is not None


def test_digit_strings_labels_match_text(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_BOOK_CACHE", str(tmp_path))
    us = speech.digit_strings(["f2"], 4, 2, 3, seed=1, cache=False)
    for u in us:
        assert 2 <= len(u.label) <= 3
        assert u.text == " ".join(espeak.DIGITS[d] for d in u.label)
    with pytest.raises(ValueError, match="one label per text"):
        speech.synthesise(["one"], [1, 2], ["f1"], 1)


# -------------------------------------------------------------------------------------------------- ctc

def test_collapse_merges_repeats_then_drops_blanks():
    assert ctc.collapse([0, 3, 3, 0, 0, 1, 0, 4, 4, 0]) == [3, 1, 4]
    assert ctc.collapse([7, 0, 7]) == [7, 7]
    assert ctc.collapse([7, 7, 7]) == [7]
    assert ctc.collapse([0, 0]) == []
    assert ctc.collapse([]) == []


def one_hot_path(path, classes=11):
    return torch.log(torch.nn.functional.one_hot(torch.tensor(path), classes).float() * 0.98 + 0.001)


def test_greedy_decode_reads_the_best_path_and_honours_lengths():
    a = one_hot_path([0, 3, 3, 0, 1, 4, 4, 0])
    b = one_hot_path([5, 0, 5, 0, 0, 0, 2, 2])
    out = ctc.greedy_decode(torch.stack([a, b]), lengths=[8, 5])
    assert out == [[3, 1, 4], [5, 5]]
    assert ctc.greedy_decode(torch.stack([a, b])) == [[3, 1, 4], [5, 5, 2]]
    with pytest.raises(ValueError, match="batch, time, classes"):
        ctc.greedy_decode(a)
    with pytest.raises(ValueError, match="lengths"):
        ctc.greedy_decode(torch.stack([a, b]), lengths=[9, 1])


def test_path_probability_matches_torch_ctc_loss():
    torch.manual_seed(0)
    for target in ([3, 1, 4], [7, 7], [2], [5, 5, 5]):
        lp = torch.randn(8, 11, dtype=torch.float64).log_softmax(-1)
        mine = -ctc.path_probability(lp.exp(), target).log()
        ref = torch.nn.functional.ctc_loss(lp[:, None], torch.tensor([target]), torch.tensor([8]),
                                           torch.tensor([len(target)]), reduction="sum")
        assert float(mine) == pytest.approx(float(ref), rel=1e-10)
    assert ctc.min_frames([5, 5, 5]) == 5 and ctc.min_frames([1, 2, 3]) == 3


def test_ctc_loss_wrapper_and_error_rate():
    logits = torch.randn(2, 10, 11, requires_grad=True)
    loss = ctc.ctc_loss(logits, torch.tensor([10, 7]), [[1, 2], [3]])
    loss.backward()
    assert loss.item() > 0 and logits.grad[1, 7:].abs().sum() == 0, "padding frames get no gradient"
    with pytest.raises(ValueError, match="blank"):
        ctc.ctc_loss(logits, torch.tensor([10, 7]), [[0, 2], [3]])
    assert ctc.edit_distance("kitten", "sitting") == 3
    assert ctc.error_rate([[1, 2, 3], [4]], [[1, 3], [4, 4]]) == pytest.approx(2 / 4)


# ----------------------------------------------------------------------------------------------- widget

def test_voice_explorer_redraws_on_every_control():
    from rnn_book.models import SequenceModel
    from rnn_book.widgets.speech import voice_explorer

    torch.manual_seed(0)
    model = SequenceModel("gru", "cudnn", 8, 10, input_size=13, head="last")
    w = voice_explorer(model=model)
    first = dict(w.data)
    assert first["word"] == "seven" and len(first["probabilities"]) == 10
    assert abs(sum(first["probabilities"]) - 1) < 1e-3
    w.set(word="yes")
    assert w.data["word"] == "yes" and w.data["seconds"] != first["seconds"]
    before = w.data["seconds"]
    w.set(rate=90)
    assert w.data["seconds"] > before, "a slower rate must lengthen the clip"
    w.set(variant="m1")
    assert w.data["voice"] == "en-us+m1" and w.calls == 4


def test_voice_explorer_takes_an_ensemble_and_the_training_band(monkeypatch):
    from rnn_book.models import SequenceModel
    from rnn_book.widgets.speech import voice_explorer

    clip = espeak.say("seven", "en-us+f3", rate=150, pitch=50)
    monkeypatch.setattr(espeak, "say", lambda *a, **k: clip)          # eSpeak is not bit-exact from call to call
    torch.manual_seed(0)
    members = [SequenceModel("gru", "cudnn", 8, 10, input_size=13, head="last") for _ in range(2)]
    w = voice_explorer(model=members, feature_kw=dict(fmin=250.0, fmax=3600.0))
    p = torch.tensor(w.data["probabilities"])
    x = audio.trim(clip[0])
    F = speech.featurise([x], feature_kw=dict(fmin=250.0, fmax=3600.0))
    expected = (members[0](F[0][None])[0].softmax(-1) + members[1](F[0][None])[0].softmax(-1))[0] / 2
    assert torch.allclose(p, expected.detach(), atol=2e-3), "the widget must show the ensemble's mean probabilities"


# ----------------------------------------------------------------------------------------------- ensembles, bands

def test_featurise_passes_the_band_to_the_filterbank():
    x = espeak.say("seven", "en-us+m1")[0]
    full, band = speech.featurise([x])[0], speech.featurise([x], feature_kw=dict(fmin=250.0, fmax=3600.0))[0]
    assert full.shape == band.shape and (full - band).abs().max() > 0.1, "a different band must give different features"
    assert torch.allclose(band, audio.features(x, fmin=250.0, fmax=3600.0))
    with pytest.raises(ValueError, match="fmin"):
        speech.featurise([x], feature_kw=dict(fmin=5000.0))


def test_ensemble_probabilities_are_the_mean_of_its_members():
    from rnn_book.models import SequenceModel

    torch.manual_seed(0)
    feats = [torch.randn(n, 6) for n in (5, 9, 7)]
    members = [SequenceModel("gru", "cudnn", 8, 4, input_size=6, head="last") for _ in range(3)]
    p = speech.probabilities(members, feats)
    each = torch.stack([speech.probabilities(m, feats) for m in members])
    assert p.shape == (3, 4) and torch.allclose(p, each.mean(0)) and torch.allclose(p.sum(-1), torch.ones(3, dtype=p.dtype))
    assert torch.equal(speech.predict(members, feats), p.argmax(-1))
    assert torch.equal(speech.predict(members[0], feats), each[0].argmax(-1)), "one model is an ensemble of one"
    assert all(m.training for m in members), "scoring must leave the models in the mode it found them in"
    with pytest.raises(ValueError, match="empty list"):
        speech.probabilities([], feats)


def test_pitch_finds_the_fundamental_of_a_harmonic_tone():
    sr = audio.SAMPLE_RATE
    t = torch.arange(int(0.5 * sr)) / sr
    for f0 in (90.0, 140.0, 230.0):
        # harmonics 1..5 with falling amplitude, as in a voice; the period is 1/f0 whatever their mix
        x = sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 6))
        assert abs(audio.pitch(x) - f0) < 0.03 * f0, f0
    hiss = 1e-3 * torch.randn(2 * sr, generator=torch.Generator().manual_seed(0))  # 2 s of faint noise, then 0.5 s of tone
    quiet = torch.cat([hiss, 0.5 * torch.sin(2 * math.pi * 180.0 * t)])
    assert abs(audio.pitch(quiet) - 180.0) < 6, "silent frames must not vote"
    with pytest.raises(ValueError, match="fewer than one"):
        audio.pitch(torch.randn(100))
    with pytest.raises(ValueError, match="fmin"):
        audio.pitch(torch.randn(4000), fmin=500.0, fmax=300.0)


# ----------------------------------------------------------------------------------------------- counts, DTW

def test_accuracy_is_a_count_over_the_clips_at_the_boundary():
    """7 of 10 right is exactly 0.7 (a float32 mean would give 0.699999988 and fail a >= 0.7 test)."""

    class Fixed(torch.nn.Module):                 # "predicts" class ids given as the first feature of each clip
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))
            self.training = False

        def forward(self, X, lengths=None):
            return torch.nn.functional.one_hot(X[:, 0, 0].long(), 10).float() * 50 + self.w, None

    labels = list(range(10))
    guesses = [0, 1, 0, 3, 4, 5, 6, 7, 5, 1]          # 7 of 10 right
    feats = [torch.full((3, 1), float(g)) for g in guesses]
    assert speech.correct(Fixed(), feats, labels) == 7
    assert speech.accuracy(Fixed(), feats, labels) == 0.7 and speech.accuracy(Fixed(), feats, labels) >= 0.7
    assert torch.tensor([1.0] * 7 + [0.0] * 3).mean().item() < 0.7, "the float32 mean this replaces misses the boundary"
    with pytest.raises(ValueError, match="one label per clip"):
        speech.correct(Fixed(), feats, labels[:9])


def dtw_by_recursion(a, b):
    """An independent reference: the textbook recursion written top-down with memoisation."""
    import functools

    def cost(i, j):
        return float(torch.linalg.vector_norm(a[i].double() - b[j].double()))

    @functools.lru_cache(maxsize=None)
    def D(i, j):
        if i < 0 or j < 0:
            return math.inf
        if i == 0 and j == 0:
            return cost(0, 0)
        return cost(i, j) + min(D(i - 1, j - 1), D(i - 1, j), D(i, j - 1))
    return D(len(a) - 1, len(b) - 1) / (len(a) + len(b))


def test_dtw_equals_the_recursion_and_the_enumeration_of_every_path():
    from rnn_book.tasks import dtw

    g = torch.Generator().manual_seed(0)
    for m, n in ((1, 1), (1, 6), (5, 1), (3, 4), (4, 4), (2, 7), (6, 3)):
        a, b = torch.randn(m, 5, generator=g), torch.randn(n, 5, generator=g)
        ref = dtw_by_recursion(a, b)
        assert dtw.distance(a, b) == pytest.approx(ref, rel=1e-12, abs=1e-12), (m, n)
        assert dtw.all_paths_distance(a, b) == pytest.approx(ref, rel=1e-12), (m, n)
    q = torch.randn(30, 13, generator=g)
    templates = [torch.randn(k, 13, generator=g) for k in (12, 41, 30, 7)]
    got = dtw.distances(q, templates)
    assert torch.allclose(got, torch.tensor([dtw_by_recursion(q, t) for t in templates], dtype=torch.float64),
                          rtol=1e-12), "a batch of padded templates gives each template's own distance"


def test_dtw_is_blind_to_tempo_and_classifies_by_the_nearest_template():
    from rnn_book.tasks import dtw

    t = torch.linspace(0, 1, 40)[:, None]
    up, down = torch.cat([t, t ** 2], 1), torch.cat([1 - t, (1 - t) ** 2], 1)
    slow_up = up.repeat_interleave(2, dim=0)                         # the same shape, said twice as slowly
    assert dtw.distance(up, slow_up) < 0.1 * dtw.distance(up, down)
    assert dtw.nearest_template([slow_up, down[::2]], [up, down], [3, 8]).tolist() == [3, 8]
    with pytest.raises(ValueError, match="one label per template"):
        dtw.nearest_template([up], [up, down], [3])
    with pytest.raises(ValueError, match="features per frame"):
        dtw.distances(up, [torch.zeros(5, 3)])
    with pytest.raises(ValueError, match=r"\(frames, features\)"):
        dtw.distance(torch.zeros(5), up)
    with pytest.raises(ValueError, match="tiny grids"):
        dtw.all_paths_distance(up, up)


def test_recipes_name_their_sets_and_reject_unknown_names():
    from rnn_book.tasks import speech_recipes as R

    assert list(R.RECIPES)[0].startswith("naive") and R.RECIPES["+ speech band, masking"].band == "speech band"
    assert R.CONFIGS["full"].ensemble == 3 and R.config() == R.CONFIGS["quick"]      # the tests run in quick mode
    with pytest.raises(ValueError, match="unknown recipe 'best'"):
        R.train_recipe("best", data=None)
