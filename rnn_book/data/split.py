"""The book's one train / valid / test split: a fixed hash of an item's key decides where it goes.

Fibonacci hashing spreads consecutive keys evenly: the fractional part of key·φ (φ the golden ratio,
here in 32-bit integers) is below 0.10 for a tenth of the keys (held out for testing) and in
[0.10, 0.15) for a twentieth (validation). The split never changes, whatever is sampled or in what
order, so no test item can leak into training. ``salt`` gives a different, equally fixed, split
(so that, say, the years of the dates are not the numbers 1800..2199 held out). A string key (a
sentence id) is first turned into an integer by a stable hash.
"""
from __future__ import annotations

import hashlib

SPLITS = ("train", "valid", "test")
TEST_FRACTION, VALID_FRACTION = 0.10, 0.05
_GOLDEN = 0x9E3779B1            # 2^32 / φ


def key_of(key: int | str) -> int:
    """An integer for ``key``: itself, or for a string the first 8 bytes of its BLAKE2b digest."""
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise TypeError(f"split_of: key must be an int or a str; got {type(key).__name__}")
    if isinstance(key, str):
        return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")
    return key


def split_of(key: int | str, salt: int = 0) -> str:
    """'test', 'valid' or 'train' for ``key``, fixed forever."""
    frac = ((key_of(key) * _GOLDEN) ^ salt) & 0xFFFFFFFF
    if frac < TEST_FRACTION * 2 ** 32:
        return "test"
    if frac < (TEST_FRACTION + VALID_FRACTION) * 2 ** 32:
        return "valid"
    return "train"


def check_split(split: str, who: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"{who}: split must be one of {SPLITS}; got {split!r}")
    return split
