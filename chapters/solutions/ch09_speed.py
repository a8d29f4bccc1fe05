"""Reference solutions (and plausible wrong answers) for the exercises of chapter 9, 6.2.1 open problems."""
import math

import numpy as np
import torch

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def train_flops(kind, batch, time, input_size, hidden_size):
    forward = 2 * batch * time * GATES[kind] * hidden_size * (input_size + hidden_size)
    return 3 * forward            # backward: dX (and dH) = dG W^T, dW = X^T dG -- two products per product


def log_uniform(n, low, high, seed):
    rng = np.random.default_rng(seed)
    return np.exp(rng.uniform(math.log(low), math.log(high), size=n))


def variational_mask(batch, time, hidden, p, generator):
    keep = torch.bernoulli(torch.full((batch, 1, hidden), 1 - p), generator=generator) / (1 - p)
    return keep.expand(batch, time, hidden)


def early_stopping(valid_losses, patience):
    best, kept, waited = math.inf, 0, 0
    for epoch, v in enumerate(valid_losses):
        if v < best:
            best, kept, waited = v, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch + 1, kept
    return len(valid_losses), kept


# -- plausible wrong answers ------------------------------------------------------------------------------
def _flops_forward_only(kind, batch, time, input_size, hidden_size):
    return 2 * batch * time * GATES[kind] * hidden_size * (input_size + hidden_size)


def _flops_no_gates(kind, batch, time, input_size, hidden_size):
    return 3 * 2 * batch * time * hidden_size * (input_size + hidden_size)


def _uniform(n, low, high, seed):
    return np.random.default_rng(seed).uniform(low, high, size=n)


def _per_step_mask(batch, time, hidden, p, generator):
    return torch.bernoulli(torch.full((batch, time, hidden), 1 - p), generator=generator) / (1 - p)


def _unscaled_mask(batch, time, hidden, p, generator):
    return torch.bernoulli(torch.full((batch, 1, hidden), 1 - p), generator=generator).expand(batch, time, hidden)


def _stop_on_equal_is_improvement(valid_losses, patience):
    best, kept, waited = math.inf, 0, 0
    for epoch, v in enumerate(valid_losses):
        if v <= best:
            best, kept, waited = v, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch + 1, kept
    return len(valid_losses), kept


def _keep_last(valid_losses, patience):
    run, _ = early_stopping(valid_losses, patience)
    return run, run - 1


SOLUTIONS = {
    "ch09_train_flops": train_flops,
    "ch09_log_uniform": log_uniform,
    "ch09_variational_mask": variational_mask,
    "ch09_early_stopping": early_stopping,
}

WRONG = {
    "ch09_train_flops": [_flops_forward_only, _flops_no_gates],
    "ch09_log_uniform": [_uniform],
    "ch09_variational_mask": [_per_step_mask, _unscaled_mask],
    "ch09_early_stopping": [_stop_on_equal_is_improvement, _keep_last],
}
