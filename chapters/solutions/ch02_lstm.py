"""Reference solutions (and plausible wrong answers) for the exercises of chapters/02_lstm.md."""
import math

import torch


def lstm_param_count(input_size, hidden_size):
    # four blocks (gates i, f, o and the candidate g), each: W_x (hidden x input), W_h (hidden x hidden), bias_ih and bias_hh
    return 4 * (hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size)


def memory_half_life(f):
    # C_n = f^n C_0 with I = 0, so f^n = 1/2
    return math.log(0.5) / math.log(f)


def gate_order(weight_ih, hidden_size):
    H = hidden_size
    return weight_ih[3 * H:4 * H].T      # torch stacks i, f, g, o; o is the fourth block


def cifg_step(cell, x_t, h, c):
    f = torch.sigmoid(x_t @ cell.W_xf + h @ cell.W_hf + cell.b_f)
    o = torch.sigmoid(x_t @ cell.W_xo + h @ cell.W_ho + cell.b_o)
    c_tilde = torch.tanh(x_t @ cell.W_xc + h @ cell.W_hc + cell.b_c)
    c_t = (1 - f) * c_tilde + f * c      # the input gate is 1 - F
    return o * torch.tanh(c_t), c_t


SOLUTIONS = {
    "ch02_lstm_param_count": lstm_param_count,
    "ch02_memory_half_life": memory_half_life,
    "ch02_gate_order": gate_order,
    "ch02_cifg_step": cifg_step,
    "ch02_gate_pattern": "b",
}


def _plain_step(cell, x_t, h, c):
    return cell(x_t, (h, c))


def _cifg_forgets_h(cell, x_t, h, c):
    h_t, c_t = cifg_step(cell, x_t, h, c)
    return torch.tanh(c_t), c_t


WRONG = {
    "ch02_lstm_param_count": [lambda D, H: 4 * H * (D + H) + 4 * H,       # one bias per gate (the scratch layout)
                              lambda D, H: H * (D + H) + 2 * H,           # a plain RNN
                              lambda D, H: 3 * (H * (D + H) + 2 * H)],    # a GRU
    "ch02_memory_half_life": [lambda f: 1 / (1 - f), lambda f: 0.5 / f, lambda f: math.log(2) * f],
    "ch02_gate_order": [lambda w, H: w[2 * H:3 * H].T,                    # the candidate g
                        lambda w, H: w[3 * H:4 * H],                      # not transposed
                        lambda w, H: w[H:2 * H].T],                       # the forget gate
    "ch02_cifg_step": [_plain_step, _cifg_forgets_h,
                       lambda cell, x, h, c: cifg_step(cell, x, h, -c)],
    "ch02_gate_pattern": ["a", "c", "d", "forget high"],
}
