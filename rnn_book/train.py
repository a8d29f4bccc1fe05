"""The one training loop every chapter uses.

``fit`` knows nothing about the task: the chapter passes a function that turns a batch into a loss
(and, optionally, one that evaluates the model). It clips gradients on request, records the
gradient norm, catches a NaN/inf loss (reporting divergence instead of crashing the notebook), and
can show live progress with tqdm.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn


@dataclass
class History:
    """What one run of :func:`fit` measured, epoch by epoch."""

    train_loss: list[float] = field(default_factory=list)
    valid: list[dict[str, float]] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)     # median pre-clipping norm per epoch
    step_loss: list[float] = field(default_factory=list)     # every optimiser step
    seconds: list[float] = field(default_factory=list)
    diverged: bool = False
    diverged_at: int | None = None                           # optimiser step where the loss went non-finite
    best_epoch: int | None = None

    def metric(self, name: str) -> list[float]:
        return [v[name] for v in self.valid]

    @property
    def final_train_loss(self) -> float:
        return self.train_loss[-1] if self.train_loss else float("nan")

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds)


def fit(model: nn.Module, batches: Callable[[int], Iterable] | Iterable, loss_fn: Callable[[nn.Module, object], torch.Tensor],
        epochs: int, lr: float = 1e-3, optimizer: str | torch.optim.Optimizer = "adam", weight_decay: float = 0.0,
        clip: float | None = None, evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
        early_stopping: tuple[str, int] | None = None, progress: bool = False, on_epoch: Callable | None = None,
        max_steps: int | None = None) -> History:
    """Train ``model`` and return its :class:`History`.

    batches: an iterable of batches, or ``epoch -> iterable`` for data that changes per epoch.
    loss_fn: ``(model, batch) -> scalar loss``.
    evaluate: ``model -> {"name": value}``, run in eval mode without gradients after every epoch.
    early_stopping: ``(metric, patience)``: stop when ``metric`` (lower is better) has not improved for
        ``patience`` epochs, and restore the best weights.
    on_epoch: ``(epoch, history) -> None``, e.g. to redraw a live plot.
    """
    if isinstance(optimizer, str):
        opts = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adamw": torch.optim.AdamW,
                "rmsprop": torch.optim.RMSprop}
        if optimizer not in opts:
            raise ValueError(f"fit: optimizer must be one of {sorted(opts)} or a torch optimizer; got {optimizer!r}")
        opt = opts[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = optimizer
    hist = History()
    best, best_state, waited = math.inf, None, 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="epochs", leave=False)
    step = 0
    for epoch in range(epochs):
        model.train()
        t0 = time.perf_counter()
        losses, norms = [], []
        data = batches(epoch) if callable(batches) else batches
        for batch in data:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            if not torch.isfinite(loss):
                hist.diverged, hist.diverged_at = True, step
                break
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip else math.inf)
            if not torch.isfinite(norm):
                hist.diverged, hist.diverged_at = True, step
                break
            norms.append(float(norm))
            opt.step()
            value = loss.detach().item()
            losses.append(value)
            hist.step_loss.append(value)
            step += 1
            if max_steps is not None and step >= max_steps:
                break
        hist.seconds.append(time.perf_counter() - t0)
        hist.train_loss.append(sum(losses) / len(losses) if losses else float("nan"))
        hist.grad_norm.append(sorted(norms)[len(norms) // 2] if norms else float("nan"))
        if hist.diverged:
            break
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                hist.valid.append({k: float(v) for k, v in evaluate(model).items()})
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{hist.train_loss[-1]:.4f}", **({k: f"{v:.4f}" for k, v in hist.valid[-1].items()}
                                                                   if hist.valid else {}))
        if on_epoch is not None:
            on_epoch(epoch, hist)
        if early_stopping is not None and hist.valid:
            name, patience = early_stopping
            value = hist.valid[-1][name]
            if value < best:
                best, waited, hist.best_epoch = value, 0, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= patience:
                    break
        if max_steps is not None and step >= max_steps:
            break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return hist


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
