"""Voice explorer: pick a word, an accent, a voice variant, a speaking rate and a pitch; hear it and see it.

With a trained digit classifier, it also shows what the model hears: its probability for each digit.
"""
from __future__ import annotations

import base64
import io

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from ..tasks import audio, espeak, speech
from .base import Explorer


def render_voice(word: str, accent: str, variant: str, rate: int, pitch: int, model=None, stack: int = 1,
                 feature_kw: dict | None = None):
    """HTML with an audio player and a figure (waveform, log-mel); data holds the numbers shown.

    model: a digit classifier (``head="last"``), or a list of them (an ensemble), reading MFCC frames
    stacked ``stack`` at a time and computed with ``feature_kw`` (as in training).
    """
    from IPython.display import Audio

    x, sr = espeak.say(word, f"{accent}+{variant}", rate=int(rate), pitch=int(pitch))
    x = audio.trim(x)
    L = audio.log_mel(x, sr)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 2.8))
    a1.plot(torch.arange(x.numel()) / sr, x, lw=0.4)
    a1.set_title(f'"{word}" — {accent}+{variant}, {rate} wpm, pitch {pitch}')
    a1.set_xlabel("time (s)"); a1.set_ylabel("amplitude")
    a2.imshow(L.T, origin="lower", aspect="auto", extent=(0, L.shape[0] / 100, 0, L.shape[1]))
    a2.set_title("log-mel spectrogram"); a2.set_xlabel("time (s)"); a2.set_ylabel("mel band")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    data = {"word": word, "voice": f"{accent}+{variant}", "seconds": x.numel() / sr, "frames": int(L.shape[0])}
    html = Audio(x.numpy(), rate=sr)._repr_html_()
    html += f'<br><img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}"/>'
    if model is not None:
        F = speech.featurise([x], stack=stack, feature_kw=feature_kw)
        p = speech.probabilities(model, F)[0]
        data["probabilities"] = [round(float(v), 4) for v in p]
        best = int(p.argmax())
        html += (f"<div>the classifier hears <b>{espeak.DIGITS[best]}</b> ({float(p[best]):.0%}); "
                 + ", ".join(f"{d}: {float(v):.0%}" for d, v in zip(espeak.DIGITS, p)) + "</div>")
    return html, data


def voice_explorer(model=None, stack: int = 1, word: str = "seven", feature_kw: dict | None = None) -> Explorer:
    controls = {
        "word": W.Dropdown(options=list(espeak.DIGITS + espeak.WORDS), value=word, description="word"),
        "accent": W.Dropdown(options=list(espeak.ACCENTS), value="en-us", description="accent"),
        "variant": W.Dropdown(options=espeak.variants(), value="f3", description="voice"),
        "rate": W.IntSlider(value=150, min=80, max=300, step=10, description="words/min"),
        "pitch": W.IntSlider(value=50, min=0, max=100, step=5, description="pitch"),
    }
    return Explorer(controls, lambda **v: render_voice(model=model, stack=stack, feature_kw=feature_kw, **v), title="Voice explorer")
