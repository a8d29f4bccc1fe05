"""Reference solutions (and plausible wrong answers) for the exercises of chapter 05b, translating sentences."""
import torch


def additive_score(s, H, W_q, W_k, b_k, v):
    return torch.tanh(W_q @ s + H @ W_k.T + b_k) @ v           # e_j = v · tanh(W_q s + W_k h_j + b_k)


def additive_score_without_query(s, H, W_q, W_k, b_k, v):     # wrong: the decoder state never enters
    return torch.tanh(H @ W_k.T + b_k) @ v


def additive_score_tanh_outside(s, H, W_q, W_k, b_k, v):      # wrong: v · (tanh(W_q s) + tanh(W_k h_j + b_k))
    return (torch.tanh(W_q @ s) + torch.tanh(H @ W_k.T + b_k)) @ v


def masked_weights(e, mask):
    return e.masked_fill(~mask, float("-inf")).softmax(0)


def unmasked_weights(e, mask):                                # wrong: padding takes part in the softmax
    return e.softmax(0)


def weights_zeroed_after_softmax(e, mask):                    # wrong: zeros on padding, but the rest no longer sums to 1
    return e.softmax(0) * mask


def length_normalised(hypotheses, alpha):
    return sorted(hypotheses, key=lambda h: -h[1] / len(h[0]) ** alpha)


def not_normalised(hypotheses, alpha):                        # wrong: raw log P favours short outputs
    return sorted(hypotheses, key=lambda h: -h[1])


def normalised_by_length_only(hypotheses, alpha):             # wrong: ignores alpha (always alpha = 1)
    return sorted(hypotheses, key=lambda h: -h[1] / len(h[0]))


SOLUTIONS = {
    "ch05b_additive_score": additive_score,
    "ch05b_masked_weights": masked_weights,
    "ch05b_length_normalised": length_normalised,
}

WRONG = {
    "ch05b_additive_score": [additive_score_without_query, additive_score_tanh_outside],
    "ch05b_masked_weights": [unmasked_weights, weights_zeroed_after_softmax],
    "ch05b_length_normalised": [not_normalised, normalised_by_length_only],
}
