"""Pure date parsing for Chinese portals: ISO-ish, 年月日, Chinese numerals; bounded, else None."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MIN_DATE = date(1949, 10, 1)
_CN_NUM = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "Ｏ": 0,
    "0": 0,
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
_CN = re.compile(r"([〇○零一二三四五六七八九OＯ0]{4})\s*年\s*([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
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


# The signature (落款) at the end of a document: the issuing body on its own line(s), then the date.
_SIGN_DATE = (
    r"(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[〇○零一二三四五六七八九OＯ0]{4}\s*年\s*[一二三四五六七八九十]{1,3}\s*月\s*[一二三四五六七八九十]{1,3}\s*日"
    r"|(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2})"
)
_SIGN_LINE = re.compile(rf"^(?:(?P<issuer>\S.*?)\s+)?[（(]?\s*(?P<date>{_SIGN_DATE})\s*[)）]?$")
# How the name of an issuing body (a 局, 委员会, 人民政府, 街道办事处 ...) ends.
ISSUER_END = (
    "局", "委", "办", "办公室", "政府", "委员会", "中心", "院", "厅", "部", "署", "所", "站", "队", "会",
    "处", "科", "镇", "乡", "街道", "办事处", "公司", "集团", "学校", "大学", "馆", "社", "室", "组", "府",
)  # fmt: skip
_SENTENCE = re.compile(r"[，。；！？：:、“”《》,;!?]")
_PARENTHESISED = re.compile(r"^[（(][^）)]{1,10}[)）]$")
_NOTE = re.compile(r"^(?:[（(].*[)）]|(?:抄送|附件|联系人|联系电话|主题词|签发|公开方式|印发|信息公开选项)\S*.*|.*印发)$")
SIGNATURE_LINES = 8  # how far from the end of the body a signature may be


@dataclass(frozen=True)
class Signature:
    """The 落款 of a document: its date, and the issuing body named just above it ("" when none)."""

    date: date
    issuer: str
    line: str


def _issuer(line: str) -> str:
    """`line` when it reads as the name of an issuing body (the first one when several share the line)."""
    first = line.split()[0] if line.split() else ""
    if not 2 <= len(first) <= 40 or _SENTENCE.search(first) or first[-1].isdigit():
        return ""
    return first if first.endswith(ISSUER_END) else ""


def signature(body: str, today: date | None = None) -> Signature | None:
    """The signature date (and issuing body) on the last lines of a body, or None.

    A line holding only a date (2019年8月23日, 二〇一九年八月二十三日, 2019-08-23), or an issuing body
    and a date, among the last lines; closing notes such as （此件公开发布） or 抄送 lines may follow.
    The date counts when an issuing body stands right above it (or on its line), or when it ends the
    text after a finished sentence: a date in a table or in running text is not a signature.
    """
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    tail = lines[-SIGNATURE_LINES:]
    for back in range(len(tail) - 1, -1, -1):
        line = tail[back]
        match = _SIGN_LINE.match(line)
        if match is None:
            if _NOTE.match(line):
                continue
            return None
        value = parse_date(match.group("date"), today)
        if value is None:
            return None
        issuer = _issuer(match.group("issuer") or "")
        k = back - 1
        while k >= 0 and _PARENTHESISED.match(tail[k]):  # （盖章） between the issuer and the date
            k -= 1
        above = tail[k] if k >= 0 else ""
        if not issuer and above:
            issuer = _issuer(above)
            # Joint documents stack their issuers; the first of the block leads.
            k -= 1
            while issuer and k >= 0 and _issuer(tail[k]):
                issuer = _issuer(tail[k])
                k -= 1
        if issuer or (match.group("issuer") is None and above.endswith(("。", "！", "”"))):
            return Signature(value, issuer, line)
        return None
    return None
