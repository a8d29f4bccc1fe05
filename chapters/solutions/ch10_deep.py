"""Reference solutions for chapter 10 (deep and bidirectional RNNs)."""
import torch


def stacked_bilstm_params(input_size, hidden_size, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else D * hidden_size
        # four blocks (three gates and the candidate), each with input weights, hidden weights and two bias vectors, per direction
        total += D * 4 * (hidden_size * inputs + hidden_size * hidden_size + 2 * hidden_size)
    return total


def reverse_within_lengths(x, lengths):
    out = x.clone()
    for b, n in enumerate(lengths.tolist()):
        out[b, :n] = x[b, :n].flip(0)
    return out


def _params_ignoring_direction_growth(i, h, L, bi):
    D = 2 if bi else 1
    return D * sum(4 * (h * (i if l == 0 else h) + h * h + 2 * h) for l in range(L))


SOLUTIONS = {
    "ch10_stacked_bilstm_params": stacked_bilstm_params,
    "ch10_reverse_within_lengths": reverse_within_lengths,
    "ch10_where_bidirectional_fits": {"b", "c", "d"},
}
WRONG = {
    "ch10_stacked_bilstm_params": [_params_ignoring_direction_growth, lambda i, h, L, bi: L * 4 * (h * i + h * h + h)],
    "ch10_reverse_within_lengths": [lambda x, n: x.flip(1), lambda x, n: x],
    "ch10_where_bidirectional_fits": [{"a", "b", "c", "d"}, {"b", "c"}, {"b", "c", "d", "e"}],
}
