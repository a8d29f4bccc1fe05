"""Reference solutions (and plausible wrong answers) for the exercises of chapter 05, translation."""
from collections import Counter

import torch

DIGITS = "零一二三四五六七八九"


def chinese_below_10000(n):
    if n == 0:
        return "零"
    s, pending_zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            pending_zero = bool(s)          # a zero after some digit: maybe one 零, if a digit follows
        else:
            s += ("零" if pending_zero else "") + DIGITS[d] + unit
            pending_zero = False
    return s[1:] if s.startswith("一十") else s


def chinese_with_yi_shi(n):           # wrong: 一十五 instead of 十五
    s = chinese_below_10000(n)
    return "一" + s if 10 <= n < 20 else s


def chinese_without_zero(n):          # wrong: drops every 零 (三百五 would mean 350)
    return chinese_below_10000(n).replace("零", "") or "零"


def masked_loss(logits, target, pad_id):
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none")   # (B, T)
    mask = (target != pad_id).float()
    return (nll * mask).sum() / mask.sum()


def unmasked_loss(logits, target, pad_id):   # wrong: padding counted as if it were text
    return torch.nn.functional.cross_entropy(logits.transpose(1, 2), target)


def masked_sum_over_all(logits, target, pad_id):   # wrong: masked, but divided by every position
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none")
    return (nll * (target != pad_id)).sum() / target.numel()


def beam_step(scores, log_probs, width):
    K, V = log_probs.shape
    total = (scores[:, None] + log_probs).flatten()
    top, flat = total.topk(width)
    return top, flat // V, flat % V


def beam_step_forgetting_prefix(scores, log_probs, width):   # wrong: ranks by the next token alone
    K, V = log_probs.shape
    top, flat = log_probs.flatten().topk(width)
    return scores[flat // V] + top, flat // V, flat % V


def beam_step_per_row(scores, log_probs, width):   # wrong: the best tokens of each prefix, then cut
    K, V = log_probs.shape
    total = scores[:, None] + log_probs
    out = [(float(total[k, v]), k, v) for k in range(K) for v in total[k].topk(min(width, V)).indices.tolist()]
    out = out[:width]
    return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]


def clipped_precision(hyp, ref, n):
    h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
    r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
    return sum(min(c, r[g]) for g, c in h.items()), sum(h.values())


def unclipped_precision(hyp, ref, n):   # wrong: 零零零 would score 3/3 against 一百零五
    grams = [hyp[i:i + n] for i in range(len(hyp) - n + 1)]
    return sum(g in ref for g in grams), len(grams)


SOLUTIONS = {
    "ch05_chinese_below_10000": chinese_below_10000,
    "ch05_masked_loss": masked_loss,
    "ch05_beam_step": beam_step,
    "ch05_clipped_precision": clipped_precision,
}

WRONG = {
    "ch05_chinese_below_10000": [chinese_with_yi_shi, chinese_without_zero],
    "ch05_masked_loss": [unmasked_loss, masked_sum_over_all],
    "ch05_beam_step": [beam_step_forgetting_prefix, beam_step_per_row],
    "ch05_clipped_precision": [unclipped_precision],
}
