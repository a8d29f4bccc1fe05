"""Reference solutions (and plausible wrong answers) for chapter 07's exercises."""
import math

import torch


def frame_count(n_samples, n_fft, hop):
    return 1 + (n_samples - n_fft) // hop


def collapse(path, blank):
    out, prev = [], None
    for s in path:
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return out


def min_frames(target):
    return len(target) + sum(a == b for a, b in zip(target, target[1:]))


def add_noise(x, snr_db, generator):
    noise = torch.randn(x.shape, generator=generator)
    return x + noise * math.sqrt(float(x.pow(2).mean()) / 10 ** (snr_db / 10))


SOLUTIONS = {
    "ch07_frame_count": frame_count,
    "ch07_ctc_collapse": collapse,
    "ch07_ctc_min_frames": min_frames,
    "ch07_add_noise": add_noise,
}

WRONG = {
    "ch07_frame_count": [lambda n, n_fft, hop: n // hop, lambda n, n_fft, hop: (n - n_fft) // hop],
    "ch07_ctc_collapse": [
        lambda path, blank: collapse([s for s in path if s != blank], blank),      # blanks dropped first
        lambda path, blank: [s for s in path if s != blank],                        # repeats never merged
    ],
    "ch07_ctc_min_frames": [lambda target: len(target), lambda target: 2 * len(target) + 1],
    "ch07_add_noise": [
        lambda x, snr, g: x + torch.randn(x.shape, generator=g) * float(x.pow(2).mean().sqrt()) / 10 ** (snr / 10),
        lambda x, snr, g: x + torch.rand(x.shape, generator=g) * float(x.pow(2).mean().sqrt()) / 10 ** (snr / 20),
    ],
}
