"""Chinese numerals as they appear in session names and dates."""

from __future__ import annotations

import re
from datetime import date

_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "0": 0, "一": 1, "二": 2, "两": 2, "三": 3,
           "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DIGITS = "〇一二三四五六七八九"
CN_NUMBER = r"[〇○零一二两三四五六七八九十]+"
_ARABIC_DATE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# Years in Chinese numerals are written digit by digit; ○ (U+25CB), O and 0 stand in for 〇.
CN_DATE = re.compile(
    r"([〇○零O0一二三四五六七八九]{4})年"
    r"([一二三四五六七八九十]{1,3})月"
    r"([一二三四五六七八九十]{1,3})日"
)


def cn_to_int(text: str) -> int | None:
    """Convert a Chinese or Arabic numeral below 100 (十四 -> 14, 二十九 -> 29).

    :return: the number, or None when ``text`` is not such a numeral.
    """
    if text.isdecimal():  # not isdigit(): that also accepts ² and ①, which int() rejects
        return int(text)
    if not text or any(ch not in _DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _DIGITS[text] if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def int_to_cn(number: int) -> str:
    """Convert 1..99 to the Chinese numeral used in session names (14 -> 十四)."""
    if not 0 < number < 100:
        raise ValueError(f"out of range: {number}")
    tens, units = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[units] if units else "")


def parse_date(text: str) -> tuple[str, str, str] | None:
    """Find a date written in Arabic or Chinese numerals.

    :return: ``(iso_date, raw_text, style)`` with style ``arabic`` or ``cn_numeral``, or
        None when the text holds no valid date.
    """
    match = _ARABIC_DATE.search(text)
    style = "arabic"
    month: int | None
    day: int | None
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = CN_DATE.search(text)
        if not match:
            return None
        style = "cn_numeral"
        year = int("".join(str(_DIGITS[ch]) for ch in match.group(1)))
        month, day = cn_to_int(match.group(2)), cn_to_int(match.group(3))
        if month is None or day is None:
            return None
    try:
        iso = date(year, month, day).isoformat()
    except ValueError:
        return None
    return iso, match.group(0), style


# A date whose 年, 月 and 日 were lost (2019615, 202285, 2023529日): a year, then month
# and day run together.
_UNMARKED_DATE = re.compile(r"^\s*((?:19|20)\d{2})(\d{2,4})日?\s*$")
_ISO_DATE = re.compile(
    r"^\s*((?:19|20)\d{2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
)


def unmarked_date_readings(text: str) -> list[str]:
    """Return every valid ISO date that a run of digits without 年月日 can stand for.

    ``2019615`` has one reading (2019-06-15: month 61 does not exist); ``2019111`` has
    two (2019-01-11 and 2019-11-01), and such a date is not to be guessed.
    """
    match = _UNMARKED_DATE.match(text)
    if not match:
        return []
    year, rest = int(match.group(1)), match.group(2)
    readings = []
    for cut in (1, 2):
        month, day = rest[:cut], rest[cut:]
        if not day or len(day) > 2:
            continue
        try:
            readings.append(date(year, int(month), int(day)).isoformat())
        except ValueError:
            continue
    return list(dict.fromkeys(readings))


def parse_listed_date(text: str) -> tuple[str, str, str] | None:
    """Read a date as a page's metadata lists it: 2023年07月27日 or 2023-05-05 (a time may follow)."""
    if found := parse_date(text):
        return found
    match = _ISO_DATE.match(text)
    if not match:
        return None
    try:
        iso = date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None
    return iso, text.strip(), "iso"
