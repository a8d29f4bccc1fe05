"""A text generator to play with: a prompt box, a temperature slider, top-k and length."""
from __future__ import annotations

import html

import ipywidgets as W
import torch

from ..tasks.sampling import generate
from .base import Explorer


def render_text(model, vocab, prompt: str, temperature: float, top_k: int, length: int, seed: int = 0,
                stop: str | None = None):
    """Generate from ``prompt``; returns (HTML with the prompt in bold, data with the generated text).

    A fixed ``seed`` makes the render a pure function of the controls, so moving a control and back
    shows the same text again, and a test can tell that a change of control changed the output.
    """
    try:
        text = generate(model, vocab, prompt, length, temperature=temperature, top_k=top_k or None,
                        stop=stop, generator=torch.Generator().manual_seed(seed))
    except ValueError as e:            # e.g. a character the model never saw: say so instead of crashing
        return f'<pre style="color:#cf222e">{html.escape(str(e))}</pre>', {"prompt": prompt, "error": str(e)}
    view = (f'<pre style="white-space:pre-wrap;font-size:13px"><b>{html.escape(prompt)}</b>'
            f'{html.escape(text)}</pre>')
    return view, {"prompt": prompt, "text": text, "temperature": temperature, "top_k": top_k}


def textgen_explorer(model, vocab, prompt: str = "", length: int = 300, temperature: float = 0.8,
                     stop: str | None = None) -> Explorer:
    """Regenerates the text whenever the prompt (on Enter), temperature, top-k, length or seed changes."""
    controls = {
        "prompt": W.Text(value=prompt, description="prompt"),
        "temperature": W.FloatSlider(value=temperature, min=0.1, max=2.0, step=0.05, description="temperature"),
        "top_k": W.IntSlider(value=0, min=0, max=50, description="top-k (0 = all)"),
        "length": W.IntSlider(value=length, min=20, max=1000, step=20, description="length"),
        "seed": W.IntText(value=0, description="seed"),
    }
    return Explorer(controls, lambda **v: render_text(model, vocab, stop=stop, **v),
                    title="Text generation: move the temperature, edit the prompt and press Enter")
