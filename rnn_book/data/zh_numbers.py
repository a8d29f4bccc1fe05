"""English number words and Chinese numerals for 0..99,999,999: the number half of the translation data.

Conventions of the Chinese side: the everyday written numerals (小写), one spelling per number, as
number converters such as cn2an write them by default (cheques use the financial numerals 壹贰叁…仟
instead, which we do not):

* digits 零一二三四五六七八九, place units 十 百 千 inside a group of four digits, and 万 after the
  upper group: Chinese groups digits by four (万 = 10^4), English by three (thousand, million);
* **2 is always 二** (二百, 二千, 二万), never the colloquial 两;
* a leading one-ten is just 十 (十五, 十万, 十二万) but keeps its 一 inside a number (一百一十, 一万零一十);
* 零: one 零 stands for each run of zeros between two non-zero digits, also across the 万 boundary
  (10500 -> 一万零五百); zeros at the end of a group are silent (10005000 -> 一千万五千).

The English side is British by default ("three hundred and five"); ``style="us"`` leaves out "and".
"""
from __future__ import annotations

import random
import re

from .split import check_split, split_of as split_by_hash

DIGITS = "零一二三四五六七八九"
UNITS = ("", "十", "百", "千")
MAX_NUMBER = 99_999_999

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _check_number(n, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{who}: expected an int in 0..{MAX_NUMBER:,}; got {type(n).__name__} {n!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{who}: expected an int in 0..{MAX_NUMBER:,}; got {n:,}")
    return n


def _group(g: int) -> str:
    """Chinese for 1..9999 inside a number: 一十 keeps its 一, one 零 per inner run of zeros, no trailing 零."""
    out, zeros = [], False
    for place in (3, 2, 1, 0):
        d = g // 10 ** place % 10
        if d == 0:
            zeros = bool(out)             # a zero after a non-zero digit may need a 零 later
            continue
        if zeros:
            out.append("零")
            zeros = False
        out.append(DIGITS[d] + UNITS[place])
    return "".join(out)


def to_chinese(n: int) -> str:
    """0..99,999,999 as a Chinese numeral: 305 -> 三百零五, 10500 -> 一万零五百, 123456 -> 十二万三千四百五十六."""
    _check_number(n, "to_chinese")
    if n == 0:
        return "零"
    upper, lower = divmod(n, 10_000)
    s = (_group(upper) + "万") if upper else ""
    if lower:
        if upper and lower < 1000:          # zeros between the 万 group and the rest: 一万零五百
            s += "零"
        s += _group(lower)
    if s.startswith("一十"):                 # 十五, 十万: a leading one-ten drops its 一
        s = s[1:]
    return s


def _english_below_1000(n: int, style: str) -> list[str]:
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [ONES[hundreds], "hundred"]
        if rest and style == "uk":
            words.append("and")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(TENS[tens] + (f"-{ONES[ones]}" if ones else ""))
    elif rest:
        words.append(ONES[rest])
    return words


def to_english(n: int, style: str = "uk") -> str:
    """0..99,999,999 in English words: 305 -> "three hundred and five" ("three hundred five" with style="us")."""
    _check_number(n, "to_english")
    if style not in ("uk", "us"):
        raise ValueError(f"to_english: style must be 'uk' or 'us'; got {style!r}")
    if n == 0:
        return "zero"
    words = []
    for scale, name in ((1_000_000, "million"), (1_000, "thousand")):
        if n >= scale:
            words += _english_below_1000(n // scale, style) + [name]
            n %= scale
    if n:
        if words and n < 100 and style == "uk":   # "one thousand and five"
            words.append("and")
        words += _english_below_1000(n, style)
    return " ".join(words)


_WORD_VALUE = {w: i for i, w in enumerate(ONES)} | {w: 10 * i for i, w in enumerate(TENS) if w}


def parse_english(text: str) -> int:
    """The inverse of :func:`to_english` (either style, any case, hyphens or spaces): "Three hundred and five" -> 305.

    Raises ValueError on anything that is not a number in words.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_english: expected a string of English number words; got {type(text).__name__}")
    words = [w for w in re.split(r"[\s,\-]+", text.strip().lower()) if w]
    if not words:
        raise ValueError("parse_english: expected English number words such as 'three hundred and five'; got ''")
    total, current, seen = 0, 0, False
    for w in words:
        if w == "and":
            continue
        if w in _WORD_VALUE:
            current += _WORD_VALUE[w]
        elif w == "hundred":
            current *= 100
        elif w in ("thousand", "million"):
            total += current * (1000 if w == "thousand" else 1_000_000)
            current = 0
        else:
            raise ValueError(f"parse_english: {w!r} is not an English number word (expected words like 'five', "
                             "'twenty', 'hundred', 'thousand', 'million', 'and')")
        seen = True
    if not seen:
        raise ValueError(f"parse_english: no number words in {text!r}")
    n = total + current
    if n > MAX_NUMBER:
        raise ValueError(f"parse_english: {text!r} is {n:,}, above {MAX_NUMBER:,}")
    return n


# -- splits: a fixed 10% of all numbers is never trained on -------------------------------------------
def split_of(n: int) -> str:
    """'test', 'valid' or 'train' for each number, fixed forever (:func:`rnn_book.data.split.split_of`).

    Numbers below 100 are always trained on: they are the vocabulary itself ("zero" occurs nowhere
    else), and no model can be asked to translate a word it has never seen.
    """
    return "train" if n < 100 else split_by_hash(n)


def sample_numbers(count: int, split: str = "train", max_value: int = MAX_NUMBER, rng: random.Random | None = None,
                   distinct: bool = False) -> list[int]:
    """``count`` numbers of ``split`` in 0..max_value, the number of digits drawn uniformly first.

    Drawing the length first gives short numbers a fair share (uniform draws would be nearly all 8 digits).
    """
    check_split(split, "sample_numbers")
    _check_number(max_value, "sample_numbers(max_value)")
    rng = rng or random.Random(0)
    top = len(str(max_value))
    out, seen = [], set()
    if distinct:
        available = sum(split_of(n) == split for n in range(max_value + 1)) if max_value < 200_000 else None
        if available is not None and count > available:
            raise ValueError(f"sample_numbers: asked for {count} distinct {split} numbers below {max_value + 1:,}; "
                             f"only {available} exist")
    while len(out) < count:
        digits = rng.randint(1, top)
        lo, hi = (0 if digits == 1 else 10 ** (digits - 1)), min(10 ** digits - 1, max_value)
        if lo > hi:
            continue
        n = rng.randint(lo, hi)
        if split_of(n) != split or (distinct and n in seen):
            continue
        seen.add(n)
        out.append(n)
    return out


def all_numbers(split: str, max_value: int) -> list[int]:
    """Every number of ``split`` in 0..max_value (for small ranges: a whole held-out set)."""
    _check_number(max_value, "all_numbers(max_value)")
    return [n for n in range(max_value + 1) if split_of(n) == split]
