"""Reference solutions (and plausible wrong answers) for the exercises of chapter 4, text generation."""
import math

import torch


def temperature_sample(logits, temperature, generator):
    p = torch.softmax(logits / temperature, dim=0)
    return int(torch.multinomial(p, 1, generator=generator))


def perplexity_from_losses(batch_losses, batch_tokens):
    total = sum(l * n for l, n in zip(batch_losses, batch_tokens))     # back to a sum over tokens
    return math.exp(total / sum(batch_tokens))


def leak_free_windows(ids, seq_len, valid_fraction):
    cut = int(len(ids) * (1 - valid_fraction))
    train, valid = ids[:cut], ids[cut:]                                # cut first ...
    return train.unfold(0, seq_len + 1, 1), valid.unfold(0, seq_len + 1, 1)   # ... then window each block


def leaky_windows(ids, seq_len, valid_fraction):
    """The chapter's broken split: windows first, shuffled, then cut: neighbours land on both sides."""
    windows = ids.unfold(0, seq_len + 1, 1)
    windows = windows[torch.randperm(len(windows), generator=torch.Generator().manual_seed(0))]
    cut = int(len(windows) * (1 - valid_fraction))
    return windows[:cut], windows[cut:]


def straddling_windows(ids, seq_len, valid_fraction):
    """Non-overlapping windows, assigned by where they start: the window across the cut leaks."""
    windows = ids.unfold(0, seq_len + 1, seq_len)
    cut = int(len(ids) * (1 - valid_fraction))
    starts = torch.arange(len(windows)) * seq_len
    return windows[starts < cut], windows[starts >= cut]


SOLUTIONS = {
    "ch04_temperature_sampling": temperature_sample,
    "ch04_perplexity_from_losses": perplexity_from_losses,
    "ch04_leak_free_windows": leak_free_windows,
}

WRONG = {
    "ch04_temperature_sampling": [
        lambda z, T, g: int(torch.argmax(z)),                                                   # greedy
        lambda z, T, g: int(torch.multinomial(torch.softmax(z * T, 0), 1, generator=g)),        # multiplies
        lambda z, T, g: int(torch.multinomial(torch.softmax(z, 0), 1, generator=g)),            # ignores T
    ],
    "ch04_perplexity_from_losses": [
        lambda L, n: math.exp(sum(L) / len(L)),                            # mean of batch means
        lambda L, n: sum(math.exp(l) for l in L) / len(L),                 # mean of perplexities
        lambda L, n: sum(l * k for l, k in zip(L, n)) / sum(n),            # forgets the exp
    ],
    "ch04_leak_free_windows": [leaky_windows, straddling_windows],
}
