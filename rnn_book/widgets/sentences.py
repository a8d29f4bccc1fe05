"""Type an English sentence: the model's Chinese, the beam's alternatives, and where attention looked."""
from __future__ import annotations

import base64
import html
import io

import ipywidgets as W
import matplotlib.pyplot as plt

from ..data.parallel import tokenize_en
from ..data.vocab import Vocab
from ..plots import heatmap
from ..tasks.attention import AttentionSeq2Seq, attention_map
from ..tasks.seq2seq import beam_translate
from .base import Explorer

EMPTY = "type an English sentence, e.g. 'I want to drink a cup of tea.'"
ALL_UNKNOWN = ("none of these words occurs in the training sentences, so the model would read only <unk>: "
               "there is nothing to translate")


def attention_png(src_tokens, tgt_tokens, weights) -> str:
    """The attention weights as a heatmap, PNG in base64 (rows: Chinese characters written, columns: English read)."""
    fig, ax = plt.subplots(figsize=(1.2 + 0.45 * len(src_tokens), 1.0 + 0.3 * len(tgt_tokens)))
    heatmap(weights, "Attention while translating", "English token read", "Chinese character written",
            xticks=src_tokens, yticks=tgt_tokens, ax=ax, cmap="Blues", colorbar="weight α", vmin=0, vmax=1)
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def render_sentence(model, src_vocab: Vocab, tgt_vocab: Vocab, text: str, width: int, alpha: float = 0.0):
    """The widget's callback: HTML for the view, and the numbers shown (for tests)."""
    tokens = tokenize_en(text)
    unknown = [t for t in tokens if t not in src_vocab]
    data = {"text": text, "tokens": tokens, "unknown": unknown, "candidates": [], "translation": None,
            "weights": None, "message": ""}
    if not tokens or len(unknown) == len(tokens):
        data["message"] = EMPTY if not tokens else ALL_UNKNOWN
        return f"<i>{html.escape(data['message'])}</i>", data
    cands = beam_translate(model, text, src_vocab, tgt_vocab, width=width, alpha=alpha)
    data["candidates"], data["translation"] = cands, cands[0][0]
    rows = "".join(f"<tr><td>{i}</td><td style='font-size:1.2em'>{html.escape(zh)}</td><td>{score:.3f}</td></tr>"
                   for i, (zh, score) in enumerate(cands, 1))
    parts = [f"<div>tokens: <code>{html.escape(' '.join(tokens))}</code></div>",
             f"<div style='font-size:1.4em;margin:4px 0'>→ {html.escape(cands[0][0])}</div>",
             f"<table><tr><th>#</th><th>beam candidate</th><th>score</th></tr>{rows}</table>"]
    if unknown:
        data["message"] = (f"words never seen in training, read as <unk>: {', '.join(unknown)}; "
                           "their meaning cannot reach the translation")
        parts.append(f"<div><small>{html.escape(data['message'])}</small></div>")
    if isinstance(model, AttentionSeq2Seq):
        src_tokens, tgt_tokens, weights = attention_map(model, src_vocab, tgt_vocab, text, cands[0][0])
        data["weights"] = weights.tolist()
        parts.append(f'<img src="data:image/png;base64,{attention_png(src_tokens, tgt_tokens, weights)}"/>')
    return "".join(parts), data


def sentence_explorer(model, src_vocab: Vocab, tgt_vocab: Vocab, text: str = "I want to drink a cup of tea.",
                      width: int = 4) -> Explorer:
    """A text box for the English sentence, sliders for the beam width and the length normalisation alpha."""
    controls = {"text": W.Text(value=text, description="English", layout=W.Layout(width="420px")),
                "width": W.IntSlider(value=width, min=1, max=10, description="beam width"),
                "alpha": W.FloatSlider(value=0.0, min=0.0, max=1.5, step=0.1, description="alpha")}
    return Explorer(controls, lambda text, width, alpha: render_sentence(model, src_vocab, tgt_vocab, text, width,
                                                                         alpha),
                    title="English → Chinese: translation, the beam's candidates, and the attention weights")
