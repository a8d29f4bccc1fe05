"""The one training loop: device placement, divergence, clipping, early stopping, step limits."""
from __future__ import annotations

import math
from typing import NamedTuple

import pytest
import torch
from torch import nn

from rnn_book.train import EarlyStopping, History, fit, make_optimizer, to_device, train_epoch


class Pair(NamedTuple):
    x: torch.Tensor
    y: torch.Tensor


def _regression(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return x, x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3


def _mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x).squeeze(-1), y)


def test_to_device_moves_every_tensor_and_keeps_the_container():
    b = to_device({"a": (torch.ones(1), [torch.zeros(2)]), "p": Pair(torch.ones(1), torch.ones(2)), "n": 3},
                  torch.device("cpu"))
    assert isinstance(b["p"], Pair) and isinstance(b["a"], tuple) and isinstance(b["a"][1], list) and b["n"] == 3


def test_fit_learns_and_records_every_step():
    torch.manual_seed(0)
    x, y = _regression()
    model = nn.Linear(3, 1)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    h = fit(model, batches, _mse, epochs=30, lr=0.05, device="cpu")
    assert h.steps == 120 and len(h.train_loss) == 30 and len(h.step_norm) == 120
    assert h.train_loss[-1] < 0.01 * h.train_loss[0], "a linear model fits a linear target"
    assert not model.training, "fit leaves the model in eval mode"


def test_max_steps_stops_inside_an_epoch():
    x, y = _regression()
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 64, 8)]
    h = fit(nn.Linear(3, 1), batches, _mse, epochs=5, max_steps=11, device="cpu")
    assert h.steps == 11 and len(h.train_loss) == 2


def test_divergence_is_reported_not_raised():
    x, y = _regression()
    h = fit(nn.Linear(3, 1), [(x, y * float("nan"))], _mse, epochs=3, device="cpu")
    assert h.diverged and h.diverged_at == 0 and len(h.train_loss) == 1 and math.isnan(h.train_loss[0])


def test_clip_bounds_the_update_but_the_norm_is_recorded_unclipped():
    torch.manual_seed(0)
    x, y = _regression()
    model = nn.Linear(3, 1)
    h = History()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]
    train_epoch(model, [(x, 100 * y)], _mse, opt, h, clip=1e-3)
    moved = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)]).norm()
    assert h.step_norm[0] > 1 and moved <= 1e-3 + 1e-9, (h.step_norm[0], float(moved))


def test_early_stopping_restores_the_best_weights():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    scores = iter([3.0, 1.0, 2.0, 2.5, 9.0])
    kept = {}

    def evaluate(m):
        value = next(scores)
        if value == 1.0:
            kept["w"] = m.weight.detach().clone()
        return {"v": value}

    x = torch.randn(8, 1)
    h = fit(model, [(x, x.squeeze(-1))], _mse, epochs=5, lr=0.1, evaluate=evaluate, early_stopping=("v", 2),
            device="cpu")
    assert len(h.valid) == 4 and h.best_epoch == 1
    assert torch.equal(model.weight, kept["w"]), "the weights of the best epoch are back"


def test_bad_arguments_name_what_is_expected():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer(nn.Linear(1, 1), "adagrad", 0.1)
    with pytest.raises(ValueError, match="epochs must be an int >= 0"):
        fit(nn.Linear(1, 1), [], _mse, epochs=-1)
    with pytest.raises(ValueError, match="patience must be a positive int"):
        EarlyStopping("v", 0)
    with pytest.raises(KeyError, match="early_stopping watches 'loss'"):
        fit(nn.Linear(1, 1), [(torch.ones(2, 1), torch.ones(2))], _mse, epochs=1, evaluate=lambda m: {"v": 1.0},
            early_stopping=("loss", 2), device="cpu")


def test_prepare_hook_sees_every_batch():
    seen = []
    x, y = _regression(16)
    fit(nn.Linear(3, 1), [(x, y)] * 3, _mse, epochs=2, device="cpu", prepare=lambda b: seen.append(1) or b)
    assert len(seen) == 6
