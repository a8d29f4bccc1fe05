"""English dates in several styles and their Chinese form: "November 27, 2026" -> 2026年11月27日.

The English styles follow the usual US/UK conventions (the CLDR patterns that babel also uses,
including the British "Sept"); the Chinese form is year年month月day日 with Arabic digits and no
leading zeros. Years run from 1800 to 2199; whole years are held out for testing, so a test date's
year never occurs in training, in any style.
"""
from __future__ import annotations

import datetime
import random
import re

from .split import check_split, split_of

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FIRST_YEAR, LAST_YEAR = 1800, 2199


def _abbr(month: int, uk: bool) -> str:
    name = MONTHS[month - 1]
    return "Sept" if (uk and month == 9) else name[:3]


STYLES = {
    "us_long": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",              # November 27, 2026
    "uk_long": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",               # 27 November 2026
    "us_medium": lambda d: f"{_abbr(d.month, False)} {d.day}, {d.year}",          # Nov 27, 2026
    "uk_medium": lambda d: f"{d.day} {_abbr(d.month, True)} {d.year}",            # 27 Nov 2026
    "us_full": lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",  # Friday, November 27, 2026
    "iso": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",                   # 2026-11-27
}


def _check_date(d, who: str) -> datetime.date:
    if not isinstance(d, datetime.date) or isinstance(d, datetime.datetime):
        raise TypeError(f"{who}: expected a datetime.date; got {type(d).__name__} {d!r}")
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise ValueError(f"{who}: expected a year in {FIRST_YEAR}..{LAST_YEAR}; got {d.year}")
    return d


def to_english_date(d: datetime.date, style: str = "us_long") -> str:
    """A date in one of :data:`STYLES`: ``to_english_date(date(2026, 11, 27), "uk_medium")`` -> "27 Nov 2026"."""
    _check_date(d, "to_english_date")
    if style not in STYLES:
        raise ValueError(f"to_english_date: style must be one of {sorted(STYLES)}; got {style!r}")
    return STYLES[style](d)


def to_chinese_date(d: datetime.date) -> str:
    """date(2026, 11, 27) -> 2026年11月27日 (Arabic digits, no leading zeros)."""
    _check_date(d, "to_chinese_date")
    return f"{d.year}年{d.month}月{d.day}日"


_MONTH_OF = {m.lower(): i for i, m in enumerate(MONTHS, 1)} | {m[:3].lower(): i for i, m in enumerate(MONTHS, 1)}
_MONTH_OF["sept"] = 9


def parse_english_date(text: str) -> datetime.date:
    """The inverse of :func:`to_english_date` for every style (case and extra spaces ignored)."""
    if not isinstance(text, str):
        raise TypeError(f"parse_english_date: expected a string; got {type(text).__name__}")
    s = " ".join(text.strip().lower().replace(",", " , ").split())
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        y, mo, d = map(int, m.groups())
    else:
        s = re.sub(r"^(" + "|".join(w.lower() for w in WEEKDAYS) + r") , ", "", s)
        m1 = re.fullmatch(r"([a-z]+) (\d{1,2}) , (\d{4})", s)       # November 27, 2026
        m2 = re.fullmatch(r"(\d{1,2}) ([a-z]+) (\d{4})", s)         # 27 November 2026
        if m1:
            name, d, y = m1.group(1), int(m1.group(2)), int(m1.group(3))
        elif m2:
            name, d, y = m2.group(2), int(m2.group(1)), int(m2.group(3))
        else:
            raise ValueError(f"parse_english_date: {text!r} is not a date in a known style "
                             f"(e.g. {', '.join(repr(f(datetime.date(2026, 11, 27))) for f in STYLES.values())})")
        if name not in _MONTH_OF:
            raise ValueError(f"parse_english_date: {name!r} is not a month name or abbreviation")
        mo = _MONTH_OF[name]
    try:
        date = datetime.date(y, mo, d)
    except ValueError as e:
        raise ValueError(f"parse_english_date: {text!r} is not a valid date ({e})") from None
    return _check_date(date, "parse_english_date")


YEAR_SALT = 0x5BD1E995         # a split of the years independent of the numbers' (1800..2199 are numbers too)


def split_of_year(year: int) -> str:
    """'test', 'valid' or 'train' for a whole year (:func:`rnn_book.data.split.split_of`)."""
    return split_of(year, salt=YEAR_SALT)


def years(split: str) -> list[int]:
    check_split(split, "years")
    return [y for y in range(FIRST_YEAR, LAST_YEAR + 1) if split_of_year(y) == split]


def sample_dates(count: int, split: str = "train", rng: random.Random | None = None) -> list[tuple[datetime.date, str]]:
    """``count`` (date, style) pairs, the year drawn from ``split``'s years, the style uniformly."""
    rng = rng or random.Random(0)
    ys, styles = years(split), list(STYLES)
    out = []
    while len(out) < count:
        y, m = rng.choice(ys), rng.randint(1, 12)
        d = rng.randint(1, 31)
        try:
            date = datetime.date(y, m, d)
        except ValueError:            # 31 April etc.: draw again, so every valid day is equally likely
            continue
        out.append((date, rng.choice(styles)))
    return out
