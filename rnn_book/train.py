"""The one training loop every chapter uses.

``fit`` knows nothing about the task: the chapter passes a function that turns a batch into a loss
(and, optionally, one that evaluates the model). The model and every batch go to one device, decided
here (``rnn_book.device()`` unless ``device=`` says otherwise). The loop clips gradients on request,
records the gradient norm, catches a NaN/inf loss (reporting divergence instead of crashing the
notebook), and can stop early and show live progress.

:func:`train_epoch` is the loop itself, short enough to read in one go (chapter 1 shows it).
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn

from .settings import device as default_device

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adamw": torch.optim.AdamW,
              "rmsprop": torch.optim.RMSprop}


@dataclass
class History:
    """What one run of :func:`fit` measured, epoch by epoch."""

    train_loss: list[float] = field(default_factory=list)
    valid: list[dict[str, float]] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)     # median pre-clipping norm per epoch
    step_loss: list[float] = field(default_factory=list)     # every optimiser step
    step_norm: list[float] = field(default_factory=list)     # pre-clipping gradient norm of every step
    seconds: list[float] = field(default_factory=list)
    diverged: bool = False
    diverged_at: int | None = None                           # optimiser step where the loss went non-finite
    best_epoch: int | None = None

    def metric(self, name: str) -> list[float]:
        return [v[name] for v in self.valid]

    @property
    def steps(self) -> int:
        return len(self.step_loss)

    @property
    def final_train_loss(self) -> float:
        return self.train_loss[-1] if self.train_loss else float("nan")

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds)

    def record_step(self, loss: float, norm: float) -> None:
        self.step_loss.append(loss)
        self.step_norm.append(norm)

    def record_divergence(self) -> None:
        self.diverged, self.diverged_at = True, self.steps

    def close_epoch(self, first_step: int, seconds: float) -> None:
        """Summarise the steps since ``first_step`` as one epoch: mean loss, median gradient norm."""
        losses, norms = self.step_loss[first_step:], self.step_norm[first_step:]
        self.train_loss.append(sum(losses) / len(losses) if losses else float("nan"))
        self.grad_norm.append(statistics.median(norms) if norms else float("nan"))
        self.seconds.append(seconds)


def train_epoch(model: nn.Module, batches: Iterable, loss_fn: Callable, opt: torch.optim.Optimizer,
                history: History, *, clip: float | None = None, prepare: Callable = lambda b: b,
                max_steps: int | None = None) -> None:
    """One pass over ``batches``: loss, backward, clip, step -- and stop at the first non-finite number."""
    model.train()
    t0, first = time.perf_counter(), history.steps
    for batch in batches:
        loss = loss_fn(model, prepare(batch))
        if not torch.isfinite(loss):
            history.record_divergence()
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # the norm is measured on every step, clipped or not (clip=None: an infinite threshold)
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else math.inf)
        if not torch.isfinite(norm):
            history.record_divergence()
            break
        opt.step()
        history.record_step(loss.item(), float(norm))
        if max_steps is not None and history.steps >= max_steps:
            break
    history.close_epoch(first, time.perf_counter() - t0)


def to_device(batch, device: torch.device):
    """``batch`` with every tensor in it (nested in tuples, lists, dicts, named tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):            # a NamedTuple keeps its type
        return type(batch)(*(to_device(b, device) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def make_optimizer(model: nn.Module, optimizer: str | torch.optim.Optimizer, lr: float,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """An optimiser by name ("adam", "adamw", "sgd", "rmsprop") over ``model``'s parameters, or ``optimizer`` itself."""
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"fit: optimizer must be one of {sorted(OPTIMIZERS)} or a torch optimizer; got {optimizer!r}")
    return OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)


class EarlyStopping:
    """Stop when ``metric`` (lower is better) has not improved for ``patience`` epochs; keep the best weights."""

    def __init__(self, metric: str, patience: int):
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"fit: early_stopping patience must be a positive int; got {patience!r}")
        self.metric, self.patience = metric, patience
        self.best, self.best_state, self.waited = math.inf, None, 0

    def should_stop(self, model: nn.Module, history: History, epoch: int) -> bool:
        if self.metric not in history.valid[-1]:
            raise KeyError(f"fit: early_stopping watches {self.metric!r}, but evaluate returned "
                           f"{sorted(history.valid[-1])}")
        value = history.valid[-1][self.metric]
        if value < self.best:
            self.best, self.waited, history.best_epoch = value, 0, epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


def fit(model: nn.Module, batches: Callable[[int], Iterable] | Iterable, loss_fn: Callable[[nn.Module, object], torch.Tensor],
        epochs: int, lr: float = 1e-3, optimizer: str | torch.optim.Optimizer = "adam", weight_decay: float = 0.0,
        clip: float | None = None, evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
        early_stopping: tuple[str, int] | None = None, progress: bool = False, on_epoch: Callable | None = None,
        max_steps: int | None = None, device: torch.device | str | None = None,
        prepare: Callable | None = None) -> History:
    """Train ``model`` on ``device`` and return its :class:`History`.

    batches: an iterable of batches, or ``epoch -> iterable`` for data that changes per epoch.
    loss_fn: ``(model, batch) -> scalar loss``; the batch arrives on the model's device.
    evaluate: ``model -> {"name": value}``, run in eval mode without gradients after every epoch.
    early_stopping: ``(metric, patience)``: stop when ``metric`` (lower is better) has not improved for
        ``patience`` epochs, and restore the best weights.
    on_epoch: ``(epoch, history) -> None``, e.g. to redraw a live plot.
    device: where the model trains (default ``rnn_book.device()``: the GPU when there is one).
    prepare: ``batch -> batch`` before the loss (default: every tensor in the batch moved to ``device``).
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0; got {epochs!r}")
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    prepare = prepare or (lambda batch: to_device(batch, dev))
    opt = make_optimizer(model, optimizer, lr, weight_decay)
    stopper = EarlyStopping(*early_stopping) if early_stopping is not None else None
    history = History()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="epochs", leave=False)
    for epoch in range(epochs):
        data = batches(epoch) if callable(batches) else batches
        train_epoch(model, data, loss_fn, opt, history, clip=clip, prepare=prepare, max_steps=max_steps)
        if history.diverged:
            break
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                history.valid.append({k: float(v) for k, v in evaluate(model).items()})
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}",
                            **({k: f"{v:.4f}" for k, v in history.valid[-1].items()} if history.valid else {}))
        if on_epoch is not None:
            on_epoch(epoch, history)
        if stopper is not None and history.valid and stopper.should_stop(model, history, epoch):
            break
        if max_steps is not None and history.steps >= max_steps:
            break
    if bar is not None:
        bar.close()
    if stopper is not None:
        stopper.restore(model)
    model.eval()
    return history


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
