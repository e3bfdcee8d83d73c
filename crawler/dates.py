"""Pure date parsing for Chinese portals: ISO-ish, 年月日, Chinese numerals; bounded, else None."""

from __future__ import annotations

import re
from datetime import date, timedelta

MIN_DATE = date(1949, 10, 1)
_CN_NUM = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_NUMERIC = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)")
_CN = re.compile(r"([〇○零一二三四五六七八九O]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
_URL_HANWEB = re.compile(r"/art/(\d{4})/(\d{1,2})/(\d{1,2})/")
_URL_TRS = re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+")


def _valid(year: int, month: int, day: int, today: date | None) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    upper = (today or date.today()) + timedelta(days=1)
    return value if MIN_DATE <= value <= upper else None


def _cn_number(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0)
    return _CN_NUM[text]


def parse_date(text: str, today: date | None = None) -> date | None:
    """The first plausible date in `text`; impossible or future dates give None."""
    if not text:
        return None
    match = _NUMERIC.search(text)
    if match:
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)), today)
    match = _CN.search(text)
    if match:
        year = int("".join(str(_CN_NUM[c]) for c in match.group(1)))
        return _valid(year, _cn_number(match.group(2)), _cn_number(match.group(3)), today)
    return None


def parse_month_day(text: str, year: int, today: date | None = None) -> date | None:
    """A list-page date written MM-DD only (TRS), completed with `year`."""
    match = re.search(r"(?<!\d)(\d{1,2})-(\d{1,2})(?!\d)", text or "")
    if not match:
        return None
    return _valid(year, int(match.group(1)), int(match.group(2)), today)


def date_from_url(url: str, today: date | None = None) -> date | None:
    """The CMS publish date some URLs carry (/art/2017/3/28/, t20170328_): a last resort."""
    for pattern in (_URL_HANWEB, _URL_TRS):
        match = pattern.search(url)
        if match:
            return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)), today)
    return None
