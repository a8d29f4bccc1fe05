"""The translation data generators: hand-picked tricky cases, round trips, held-out splits, and
agreement with independent implementations (cn2an for Chinese numerals, num2words for English words,
babel's CLDR data for dates) over thousands of values."""
import datetime
import random

import pytest

from rnn_book.data import dates, parallel, zh_numbers
from rnn_book.data.dates import parse_english_date, to_chinese_date, to_english_date
from rnn_book.data.zh_numbers import parse_english, split_of, to_chinese, to_english

TRICKY = {
    0: "零", 2: "二", 10: "十", 11: "十一", 15: "十五", 20: "二十", 22: "二十二", 100: "一百", 101: "一百零一",
    110: "一百一十", 115: "一百一十五", 200: "二百", 305: "三百零五", 1000: "一千", 1001: "一千零一",
    1010: "一千零一十", 1100: "一千一百", 2222: "二千二百二十二", 10000: "一万", 10001: "一万零一",
    10010: "一万零一十", 10500: "一万零五百", 11000: "一万一千", 20002: "二万零二", 100000: "十万",
    100010: "十万零一十", 100100: "十万零一百", 110000: "十一万", 123456: "十二万三千四百五十六",
    150000: "十五万", 1000000: "一百万", 1005000: "一百万五千", 1100000: "一百一十万", 2002000: "二百万二千",
    10000000: "一千万", 10000001: "一千万零一", 10005000: "一千万五千", 10100000: "一千零一十万",
    50000500: "五千万零五百", 99999999: "九千九百九十九万九千九百九十九",
}


@pytest.mark.parametrize("n,zh", sorted(TRICKY.items()))
def test_chinese_tricky_cases(n, zh):
    assert to_chinese(n) == zh


def test_conventions_two_and_leading_ten():
    assert all("两" not in to_chinese(n) for n in (2, 200, 2000, 20000, 222222, 2000000)), "2 is always 二"
    assert not any(to_chinese(n).startswith("一十") for n in range(10, 200_000, 7))
    assert "零零" not in "".join(to_chinese(n) for n in range(0, 120_000, 3)), "one 零 per run of zeros"
    assert not any(to_chinese(n).endswith("零") for n in range(1, 120_000, 3)), "trailing zeros are silent"


ENGLISH = {
    0: "zero", 5: "five", 13: "thirteen", 21: "twenty-one", 100: "one hundred", 105: "one hundred and five",
    305: "three hundred and five", 1005: "one thousand and five", 10500: "ten thousand five hundred",
    123456: "one hundred and twenty-three thousand four hundred and fifty-six",
    2000005: "two million and five",
    99999999: "ninety-nine million nine hundred and ninety-nine thousand nine hundred and ninety-nine",
}


@pytest.mark.parametrize("n,en", sorted(ENGLISH.items()))
def test_english_tricky_cases(n, en):
    assert to_english(n) == en
    assert to_english(n, "us") == en.replace(" and", "")
    assert parse_english(en) == n and parse_english(en.replace(" and", "").upper()) == n


def test_english_round_trip_over_all_small_and_many_large_numbers():
    rng = random.Random(3)
    for n in list(range(0, 3000)) + [rng.randint(0, zh_numbers.MAX_NUMBER) for _ in range(3000)]:
        assert parse_english(to_english(n)) == n and parse_english(to_english(n, "us")) == n


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="0..99,999,999"):
        to_chinese(100_000_000)
    with pytest.raises(ValueError, match="0..99,999,999"):
        to_english(-1)
    with pytest.raises(TypeError, match="expected an int"):
        to_chinese(3.0)
    with pytest.raises(ValueError, match="style must be"):
        to_english(3, "au")
    with pytest.raises(ValueError, match="'fivety' is not an English number word"):
        parse_english("fivety")
    with pytest.raises(ValueError, match="known style"):
        parse_english_date("27/11/2026")
    with pytest.raises(ValueError, match="not a valid date"):
        parse_english_date("February 30, 2026")
    with pytest.raises(ValueError, match="year in 1800..2199"):
        to_chinese_date(datetime.date(1700, 1, 1))
    with pytest.raises(ValueError, match="style must be one of"):
        to_english_date(datetime.date(2026, 1, 1), "german")


def test_dates_in_every_style():
    d = datetime.date(2026, 11, 27)
    want = {"us_long": "November 27, 2026", "uk_long": "27 November 2026", "us_medium": "Nov 27, 2026",
            "uk_medium": "27 Nov 2026", "us_full": "Friday, November 27, 2026", "iso": "2026-11-27"}
    assert {s: to_english_date(d, s) for s in dates.STYLES} == want
    assert to_chinese_date(d) == "2026年11月27日"
    assert to_chinese_date(datetime.date(1801, 1, 5)) == "1801年1月5日", "no leading zeros"
    assert to_english_date(datetime.date(2026, 9, 3), "uk_medium") == "3 Sept 2026"
    assert to_english_date(datetime.date(2024, 2, 29), "us_full") == "Thursday, February 29, 2024"
    for s in dates.STYLES:
        assert parse_english_date(to_english_date(d, s)) == d


def test_held_out_numbers_and_years_never_reach_training():
    train = set(zh_numbers.sample_numbers(20_000, "train", rng=random.Random(1)))
    test = set(zh_numbers.sample_numbers(5_000, "test", rng=random.Random(2)))
    assert not train & test and all(split_of(n) == "test" for n in test)
    small_test = zh_numbers.all_numbers("test", 9999)
    assert 900 < len(small_test) < 1100, "about 10% of 0..9999 is held out"
    train_pairs = parallel.make_pairs("train", 3000, 3000, 9999)
    test_pairs = parallel.make_pairs("test", 0, 2000, 9999, all_held_out=True)
    assert not {p.en for p in train_pairs} & {p.en for p in test_pairs}
    assert not {p.value.year for p in train_pairs if p.kind == "date"} & set(dates.years("test"))
    lengths = {len(str(n)) for n in zh_numbers.sample_numbers(2000, "train", rng=random.Random(0))}
    assert lengths == set(range(1, 9)), "the number of digits is drawn first, so every length occurs"


# -- independent implementations (dev extra: cn2an, num2words, babel) ----------------------------------------
def test_chinese_agrees_with_cn2an():
    cn2an = pytest.importorskip("cn2an", reason="cn2an (dev extra) is not installed: pip install cn2an")
    rng = random.Random(7)
    numbers = list(range(0, 1200)) + [rng.randint(0, zh_numbers.MAX_NUMBER) for _ in range(2500)]
    numbers += zh_numbers.sample_numbers(1500, "test", rng=rng)
    for n in numbers:
        assert to_chinese(n) == cn2an.an2cn(n, "low"), n
        assert cn2an.cn2an(to_chinese(n), "strict") == n, n


def test_english_agrees_with_num2words():
    num2words = pytest.importorskip("num2words", reason="num2words (dev extra) is not installed").num2words
    rng = random.Random(8)
    for n in list(range(0, 1200)) + [rng.randint(0, zh_numbers.MAX_NUMBER) for _ in range(2500)]:
        assert to_english(n) == num2words(n).replace(",", ""), n


def test_dates_agree_with_babel():
    babel_dates = pytest.importorskip("babel.dates", reason="babel (dev extra) is not installed")
    fmt = babel_dates.format_date
    ref = {"us_long": ("long", "en_US"), "uk_long": ("long", "en_GB"), "us_medium": ("medium", "en_US"),
           "uk_medium": ("medium", "en_GB"), "us_full": ("full", "en_US"), "iso": ("yyyy-MM-dd", "en")}
    pairs = dates.sample_dates(2000, "train", random.Random(1)) + dates.sample_dates(1000, "test", random.Random(2))
    for d, _ in pairs:
        assert to_chinese_date(d) == fmt(d, "long", locale="zh_CN"), d
        for style, (f, loc) in ref.items():
            assert to_english_date(d, style) == fmt(d, f, locale=loc), (d, style)
