"""Chapter 04, text generation (文本生成): temperature sampling, perplexity from losses, a leaky split."""
from __future__ import annotations

import math

import torch

from .core import Wrong, call, exercise


@exercise
def ch04_temperature_sampling(fn):
    """``fn(logits, temperature, generator) -> int``: one index drawn from softmax(logits / temperature)."""
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    draws = 2000
    for T in (0.5, 1.0, 2.0):
        g = torch.Generator().manual_seed(0)
        counts = torch.zeros(4)
        for _ in range(draws):
            i = call(fn, logits.clone(), T, g)
            try:
                i = int(i)
            except (TypeError, ValueError, RuntimeError):
                raise Wrong(f"return one index (an int); got {i!r}")
            if not 0 <= i < 4:
                raise Wrong(f"an index must lie in 0..3 for 4 logits; got {i}")
            counts[i] += 1
        freq = counts / draws
        want = torch.softmax(logits / T, dim=0)
        gap = (freq - want).abs().max().item()
        if gap > 0.05:
            hint = ""
            if freq.max() == 1.0:
                hint = " -- every draw gave the same index: that is argmax (greedy), not sampling"
            elif (freq - torch.softmax(logits * T, dim=0)).abs().max() < 0.05:
                hint = " -- it looks like you multiplied by the temperature; divide the logits by it"
            elif (freq - torch.softmax(logits, dim=0)).abs().max() < 0.05:
                hint = " -- the temperature has no effect: divide the logits by it before the softmax"
            raise Wrong(f"at temperature {T} the frequencies {[round(v, 2) for v in freq.tolist()]} are far from "
                        f"softmax(logits / T) = {[round(v, 2) for v in want.tolist()]}{hint}")


@exercise
def ch04_perplexity_from_losses(fn):
    """``fn(batch_losses, batch_tokens) -> perplexity`` of the whole stream (losses are per-batch means in nats)."""
    cases = [([1.2, 1.1, 3.0], [2048, 2048, 64]),
             ([2.0], [10]),
             ([0.5, 0.7, 0.9, 2.5], [512, 512, 512, 8])]
    for losses, tokens in cases:
        want = math.exp(sum(l * n for l, n in zip(losses, tokens)) / sum(tokens))
        got = call(fn, list(losses), list(tokens))
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise Wrong(f"return one number; got {got!r}")
        if not math.isclose(got, want, rel_tol=1e-6):
            hint = ""
            if math.isclose(got, math.exp(sum(losses) / len(losses)), rel_tol=1e-6):
                hint = (" -- that is the mean of the batch means: the short last batch counts as much as a full one; "
                        "weight each loss by its number of tokens")
            elif math.isclose(got, sum(math.exp(l) for l in losses) / len(losses), rel_tol=1e-6):
                hint = " -- that averages perplexities; average the losses (log space) first, then exponentiate"
            elif math.isclose(got, math.log(want), rel_tol=1e-6):
                hint = " -- that is the mean loss; perplexity is its exponential"
            raise Wrong(f"for losses {losses} over {tokens} tokens the perplexity is not {got:.4f}{hint}")


@exercise
def ch04_leak_free_windows(fn):
    """``fn(ids, seq_len, valid_fraction) -> (train_windows, valid_windows)``, windows of seq_len + 1 ids.

    The checker feeds ``torch.arange(N)`` as the text, so every id is its own position: a position
    that shows up in both sets is a character the model trained on and is then scored on.
    """
    for N, seq_len, vf in ((1000, 10, 0.2), (777, 16, 0.1)):
        ids = torch.arange(N)
        out = call(fn, ids.clone(), seq_len, vf)
        try:
            train, valid = (torch.as_tensor(w) for w in out)
        except (TypeError, ValueError):
            raise Wrong("return a pair (train_windows, valid_windows) of 2-D tensors")
        for name, w in (("train", train), ("valid", valid)):
            if w.dim() != 2 or w.shape[1] != seq_len + 1 or w.shape[0] == 0:
                raise Wrong(f"{name}_windows should have shape (number of windows, seq_len + 1 = {seq_len + 1}); "
                            f"got {tuple(w.shape)}")
            if not bool(((w[:, 1:] - w[:, :-1]) == 1).all()):
                raise Wrong(f"each {name} window must be a contiguous piece of the text (input plus next-character "
                            "target)")
        shared = set(train.flatten().tolist()) & set(valid.flatten().tolist())
        if shared:
            raise Wrong(f"{len(shared)} character positions are in both sets (e.g. {sorted(shared)[:5]}): the model "
                        "is scored on text it trained on. Cut the stream into two blocks first, then make windows "
                        "inside each block")
        covered = len(set(valid.flatten().tolist()))
        if covered < 0.5 * vf * N:
            raise Wrong(f"the validation windows cover only {covered} of {N} positions; with "
                        f"valid_fraction={vf} expect about {int(vf * N)}")
