"""Type an English number or date; see the model's translation, the beam's candidates and their scores."""
from __future__ import annotations

import html

import ipywidgets as W

from ..data.parallel import tokenize_en
from ..data.vocab import Vocab
from ..tasks.seq2seq import Seq2Seq, beam_translate
from ..tasks.translation import reference_of
from .base import Explorer


def render_translation(model: Seq2Seq, src_vocab: Vocab, tgt_vocab: Vocab, text: str, width: int) -> tuple[str, dict]:
    """The widget's callback: HTML for the view, and the numbers shown (for tests)."""
    tokens = tokenize_en(text)
    unknown = [t for t in tokens if t not in src_vocab]
    ref, kind = reference_of(text)
    data = {"text": text, "tokens": tokens, "unknown": unknown, "reference": ref, "kind": kind,
            "candidates": [], "translation": None, "message": ""}
    if not tokens:
        data["message"] = "type an English number (e.g. 'ten thousand five hundred') or a date (e.g. 'Nov 27, 2026')"
        return f"<i>{html.escape(data['message'])}</i>", data
    cands = beam_translate(model, text, src_vocab, tgt_vocab, width=width)
    data["candidates"], data["translation"] = cands, cands[0][0]
    rows = "".join(
        f"<tr><td>{i}</td><td style='font-size:1.2em'>{html.escape(zh)}</td><td>{score:.3f}</td>"
        f"<td>{'✅' if ref is not None and zh == ref else ''}</td></tr>" for i, (zh, score) in enumerate(cands, 1))
    notes = []
    if unknown:
        notes.append(f"unknown words (read as &lt;unk&gt;): {html.escape(', '.join(unknown))}")
    notes.append(f"correct answer: <b>{html.escape(ref)}</b>" if ref is not None
                 else "not a number in words or a date in a known style: no reference to compare with")
    view = (f"<div>tokens: <code>{html.escape(' '.join(tokens))}</code></div>"
            f"<div style='font-size:1.4em;margin:4px 0'>→ {html.escape(cands[0][0])}</div>"
            f"<table><tr><th>#</th><th>candidate</th><th>log P</th><th></th></tr>{rows}</table>"
            + "".join(f"<div><small>{n}</small></div>" for n in notes))
    return view, data


def translate_explorer(model: Seq2Seq, src_vocab: Vocab, tgt_vocab: Vocab, text: str = "ten thousand five hundred",
                       width: int = 4) -> Explorer:
    """A text box for the English input and a slider for the beam width."""
    controls = {"text": W.Text(value=text, description="English"),
                "width": W.IntSlider(value=width, min=1, max=10, description="beam width")}
    return Explorer(controls, lambda text, width: render_translation(model, src_vocab, tgt_vocab, text, width),
                    title="English → Chinese: the beam's candidates and their log-probabilities")
