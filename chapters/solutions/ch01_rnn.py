"""Reference solutions (and plausible wrong answers) for the exercises of chapter 1, 6.2.1 RNN."""
import torch


def param_count(input_size, hidden_size, output_size):
    D, H, Q = input_size, hidden_size, output_size
    return D * H + H * H + H + H * Q + Q      # W_xh, W_hh, b_h, W_ho, b_o -- no T anywhere


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)


def unroll(cell, x, h0):
    h, outputs = h0, []
    for t in range(x.shape[1]):
        h = cell(x[:, t], h)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


def stateful_layout(ids, batch_size):
    n = len(ids) // batch_size
    return ids[:n * batch_size].view(batch_size, n)


def _unroll_no_carry(cell, x, h0):
    outputs = [cell(x[:, t], h0) for t in range(x.shape[1])]       # forgets to carry h
    return torch.stack(outputs, dim=1), outputs[-1]


def _unroll_shifted(cell, x, h0):
    h, outputs = h0, []
    for t in range(x.shape[1]):
        outputs.append(h)                                            # stores h_{t-1} instead of h_t
        h = cell(x[:, t], h)
    return torch.stack(outputs, dim=1), h


SOLUTIONS = {
    "ch01_param_count": param_count,
    "ch01_rnn_step": rnn_step,
    "ch01_unroll": unroll,
    "ch01_stateful_layout": stateful_layout,
}

WRONG = {
    "ch01_param_count": [
        lambda D, H, Q: D * H + H * H + H * Q,                      # no biases
        lambda D, H, Q: D * H + H * H + H,                          # forgets the output layer
        lambda D, H, Q: D * H + H + H * Q + Q,                      # forgets W_hh
    ],
    "ch01_rnn_step": [
        lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh + h @ W_hh.T + b),      # transposed W_hh
        lambda x, h, W_xh, W_hh, b: torch.tanh(x @ W_xh + b),                   # no recurrence
        lambda x, h, W_xh, W_hh, b: torch.sigmoid(x @ W_xh + h @ W_hh + b),     # wrong nonlinearity
        lambda x, h, W_xh, W_hh, b: x @ W_xh + h @ W_hh + b,                    # no nonlinearity
    ],
    "ch01_unroll": [
        _unroll_no_carry,
        _unroll_shifted,
        lambda cell, x, h0: unroll(cell, x, h0)[0],                             # returns only the outputs
    ],
    "ch01_stateful_layout": [
        lambda ids, B: ids[:len(ids) // B * B].view(-1, B).T,                  # interleaved rows
        lambda ids, B: ids[:len(ids) // B * B].view(-1, B),                     # (n, B): time along rows
        lambda ids, B: ids[-(len(ids) // B * B):].view(B, -1),                  # drops the start, not the end
    ],
}
