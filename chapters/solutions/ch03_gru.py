"""Reference solutions (and plausible wrong answers) for the exercises of chapter 3, 6.2.1.2 GRU."""
import math

import torch


def gru_step(x_t, h_prev, p):
    r = torch.sigmoid(x_t @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])
    z = torch.sigmoid(x_t @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])
    h_tilde = torch.tanh(x_t @ p["W_xh"] + (r * h_prev) @ p["W_hh"] + p["b_h"])
    return z * h_prev + (1 - z) * h_tilde


def param_count(input_size, hidden_size, engine):
    D, H = input_size, hidden_size
    biases = 2 if engine == "cudnn" else 1          # torch.nn keeps bias_ih and bias_hh
    return 3 * (D * H + H * H + biases * H)


def half_life(z):
    n = 1
    while z ** n > 0.5:
        n += 1
    return n


def forms_agree(hidden_size):
    return torch.diag(torch.linspace(0.5, 1.5, hidden_size))   # diagonal: no unit is mixed into another


def _step_makemore(x_t, h_prev, p):
    r = torch.sigmoid(x_t @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])
    z = torch.sigmoid(x_t @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])
    h_tilde = torch.tanh(x_t @ p["W_xh"] + (r * h_prev) @ p["W_hh"] + p["b_h"])
    return (1 - z) * h_prev + z * h_tilde                     # Z and 1 - Z swapped (makemore's convention)


def _step_reset_after(x_t, h_prev, p):
    r = torch.sigmoid(x_t @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])
    z = torch.sigmoid(x_t @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])
    h_tilde = torch.tanh(x_t @ p["W_xh"] + r * (h_prev @ p["W_hh"]) + p["b_h"])
    return z * h_prev + (1 - z) * h_tilde


SOLUTIONS = {
    "ch03_gru_step": gru_step,
    "ch03_param_count": param_count,
    "ch03_half_life": half_life,
    "ch03_forms_agree": forms_agree,
}

WRONG = {
    "ch03_gru_step": [_step_makemore, _step_reset_after],
    "ch03_param_count": [lambda D, H, engine: 4 * (D * H + H * H + H),          # an LSTM's count
                         lambda D, H, engine: 3 * (D * H + H * H + H)],         # one bias, also for cuDNN
    "ch03_half_life": [lambda z: math.log(0.5) / math.log(z),                   # not a whole number of steps
                       lambda z: math.floor(math.log(0.5) / math.log(z)),       # one step too few
                       lambda z: max(1, math.ceil(math.log(0.5) / math.log(1 - z)))],   # Z read the other way
    "ch03_forms_agree": [lambda H: torch.ones(H, H),                            # mixes every unit
                         lambda H: torch.zeros(H, H)],                          # the past no longer counts
}
