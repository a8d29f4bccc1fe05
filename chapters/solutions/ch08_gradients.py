"""Reference solutions (and plausible wrong answers) for the exercises of chapter 8."""
import math

import torch


def steps_to_shrink(rho, factor):
    return math.ceil(math.log(factor) / math.log(rho))


def rnn_step_jacobian(h_t, W_hh):
    # h_t = tanh(a_t), a_t = ... + h_{t-1} W_hh  =>  ∂h_t[i]/∂h_{t-1}[j] = (1 - h_t[i]^2) W_hh[j, i]
    return torch.diag(1 - h_t ** 2) @ W_hh.T


def clip_by_norm(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / float(total))
    return [g * scale for g in grads]


def forget_path(f):
    T = f.shape[0]
    # suffix products: row t = f_{t+1} ⊙ ... ⊙ f_{T-1}
    out = torch.ones_like(f)
    for t in range(T - 2, -1, -1):
        out[t] = out[t + 1] * f[t + 1]
    return out


SOLUTIONS = {
    "ch08_steps_to_shrink": steps_to_shrink,
    "ch08_rnn_step_jacobian": rnn_step_jacobian,
    "ch08_clip_by_norm": clip_by_norm,
    "ch08_forget_path": forget_path,
}

WRONG = {
    "ch08_steps_to_shrink": [
        lambda rho, factor: round(math.log(factor) / math.log(rho)),        # rounds instead of ceiling
        lambda rho, factor: math.ceil(math.log10(factor) / math.log(rho)),  # mixes log bases
    ],
    "ch08_rnn_step_jacobian": [
        lambda h_t, W_hh: W_hh.T,                                     # forgets tanh'
        lambda h_t, W_hh: torch.diag(1 - h_t ** 2) @ W_hh,            # forgets the transpose
        lambda h_t, W_hh: torch.diag(1 - torch.tanh(h_t) ** 2) @ W_hh.T,  # applies tanh twice
    ],
    "ch08_clip_by_norm": [
        lambda grads, m: [g.clamp(-m, m) for g in grads],                          # clips by value
        lambda grads, m: [g * min(1.0, m / float(g.norm())) for g in grads],        # one norm per tensor
        lambda grads, m: [g * (m / float(torch.sqrt(sum((t ** 2).sum() for t in grads)))) for g in grads],  # always rescales
    ],
    "ch08_forget_path": [
        lambda f: torch.stack([f[t:].prod(0) for t in range(f.shape[0])]),          # includes f_t
        lambda f: f.flip(0).cumprod(0).flip(0),                                     # same mistake, vectorised
        lambda f: torch.ones_like(f),                                               # ignores the gates
    ],
}
