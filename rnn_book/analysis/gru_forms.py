"""The GRU's two published forms trained side by side, and what happens when weights move between them.

The textbook GRU (Cho et al. 2014) resets H_{t-1} before its product with W_hh; cuDNN and
``torch.nn.GRU`` reset the product afterwards and add a bias b_hh inside. :func:`train_forms` trains
both on one character-level task from the same start (the cuDNN form loads the textbook weights and
b_hh = 0), then loads the trained textbook weights into the cuDNN form to see what carries over.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from ..settings import seed as set_seed
from ..weights import layer_of
from . import compare

FORMS = ("textbook", "cuDNN form")


def forms_task(corpus, batch_size: int = 64, seq_len: int = 32) -> compare.Task:
    """:func:`compare.char_lm_task` on the scratch engine (only it has the textbook form), one kind per form."""
    textbook = compare.char_lm_task(corpus, batch_size=batch_size, seq_len=seq_len, engine="scratch", fused=True)
    after = compare.char_lm_task(corpus, batch_size=batch_size, seq_len=seq_len, engine="scratch", fused=True,
                                 reset_after=True)

    def build_form(form: str, hidden: int) -> nn.Module:
        """Both forms from the same random start: the cuDNN form loads the textbook weights, b_hh = 0."""
        book = textbook.build_model("gru", hidden)               # textbook form (reset_after=False)
        if form == "textbook":
            return book
        return carry_over(book, after.build_model("gru", hidden))

    return dataclasses.replace(textbook, build_model=build_form, kinds=FORMS)


@torch.no_grad()
def carry_over(textbook_model: nn.Module, after_model: nn.Module) -> nn.Module:
    """Load a textbook-form GRU model's weights into a cuDNN-form one (same names; its extra b_hh set to 0)."""
    book, after = (layer_of(m, "carry_over", "GRU") for m in (textbook_model, after_model))
    if book.reset_after or not after.reset_after:
        raise ValueError("carry_over: expected a textbook-form model (reset_after=False) and a cuDNN-form one "
                         f"(reset_after=True); got reset_after={book.reset_after} and {after.reset_after}")
    if (book.input_size, book.hidden_size) != (after.input_size, after.hidden_size):
        raise ValueError(f"carry_over: the GRUs differ in size: (input, hidden) = {(book.input_size, book.hidden_size)} "
                         f"and {(after.input_size, after.hidden_size)}")
    missing, unexpected = after_model.load_state_dict(textbook_model.state_dict(), strict=False)
    if unexpected or any(not k.endswith("b_hh") for k in missing):
        raise ValueError(f"carry_over: the models differ beyond b_hh: missing {missing}, unexpected {unexpected}")
    after_model.rnn.cell(0).b_hh.zero_()
    return after_model


@dataclass
class FormsResult:
    """Both forms trained alike; bits per character on held-out text, and the textbook weights carried over."""

    rows: list                  # compare.Row per form (models kept)
    baseline: float             # bits per character of knowing nothing
    swapped: float              # the trained textbook weights evaluated in the cuDNN form

    @property
    def textbook(self) -> float:
        return self.rows[0].final

    @property
    def cudnn_form(self) -> float:
        return self.rows[1].final

    @property
    def gap(self) -> float:
        return abs(self.textbook - self.cudnn_form)


def train_forms(corpus, hidden: int = 64, epochs: int = 8, lr: float = 1e-2, seed: int = 0,
                batch_size: int = 64, seq_len: int = 32) -> FormsResult:
    """Train the textbook and the cuDNN form from the same start on ``corpus``; then carry the weights over."""
    task = forms_task(corpus, batch_size, seq_len)
    rows = compare.run(task, {f"GRU, H={hidden}": {f: hidden for f in FORMS}}, epochs=epochs, lr=lr, seed=seed,
                       keep_models=True)
    set_seed(seed)
    after = compare.char_lm_task(corpus, batch_size=batch_size, seq_len=seq_len, engine="scratch", fused=True,
                                 reset_after=True)
    swapped = carry_over(rows[0].model, after.build_model("gru", hidden).to(next(rows[0].model.parameters()).device))
    return FormsResult(rows, task.baseline, task.evaluate(swapped)["bpc"])
