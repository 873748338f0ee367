"""Chinese numerals in session names and dates (archive.numerals)."""

from __future__ import annotations

import pytest

from reply_archive.archive.numerals import cn_to_int, int_to_cn, parse_date

UNITS = "一二三四五六七八九"


@pytest.mark.parametrize(
    ("text", "number"),
    [(ch, i) for i, ch in enumerate(UNITS, 1)]
    + [("十", 10), ("十一", 11), ("十四", 14), ("十九", 19), ("二十", 20), ("二十一", 21), ("二十九", 29), ("两", 2)],
)
def test_cn_to_int_reads_chinese_numerals(text, number):
    assert cn_to_int(text) == number


@pytest.mark.parametrize(("text", "number"), [("5", 5), ("14", 14), ("0487", 487), ("１４", 14)])
def test_cn_to_int_reads_arabic_numerals(text, number):
    assert cn_to_int(text) == number


@pytest.mark.parametrize("junk", ["", "abc", "届", "百", "一二", "十十", "二十一二", "十四a", "3a", "-1", "²", "①"])
def test_cn_to_int_rejects_junk(junk):
    assert cn_to_int(junk) is None


@pytest.mark.parametrize("number", range(1, 30))
def test_int_to_cn_round_trips(number):
    assert cn_to_int(int_to_cn(number)) == number


def test_int_to_cn_spells_session_numbers():
    assert [int_to_cn(n) for n in (1, 6, 10, 14, 20, 29)] == ["一", "六", "十", "十四", "二十", "二十九"]


@pytest.mark.parametrize("number", [0, 100, -3])
def test_int_to_cn_rejects_out_of_range(number):
    with pytest.raises(ValueError):
        int_to_cn(number)


@pytest.mark.parametrize(
    ("text", "iso", "raw"),
    [
        ("2022年9月23日", "2022-09-23", "2022年9月23日"),
        ("2022 年 9 月 23 日", "2022-09-23", "2022 年 9 月 23 日"),
        ("福田区委统战部 2023年06月30日 印发", "2023-06-30", "2023年06月30日"),
        ("1999年12月31日", "1999-12-31", "1999年12月31日"),
    ],
)
def test_parse_date_reads_arabic_dates(text, iso, raw):
    assert parse_date(text) == (iso, raw, "arabic")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("二〇二二年九月二十三日", "2022-09-23"),  # 〇 U+3007, the standard zero
        ("二○一九年八月二十日", "2019-08-20"),  # ○ U+25CB, a white circle
        ("二O一九年八月二十日", "2019-08-20"),  # Latin capital O
        ("二0一九年十二月三十一日", "2019-12-31"),  # ASCII zero
        ("二零二零年二月二十九日", "2020-02-29"),  # 零, and a leap day
        ("一九九八年十月一日", "1998-10-01"),
    ],
)
def test_parse_date_reads_chinese_numeral_dates(text, iso):
    assert parse_date(text) == (iso, text, "cn_numeral")


def test_parse_date_keeps_the_raw_text_as_printed():
    assert "○" in parse_date("青溪市教育局 二○一九年八月二十日")[1]


@pytest.mark.parametrize(
    "text",
    [
        "2022年2月30日",
        "2023年13月1日",
        "2023年6月0日",
        "二〇二〇年二月三十日",
        "二〇二一年二月二十九日",  # 2021 is no leap year
        "二〇二二年十三月一日",
        "二〇二二年九月三十二日",
        "九月二十三日",
        "此复。",
        "",
    ],
)
def test_parse_date_rejects_invalid_or_missing_dates(text):
    assert parse_date(text) is None
