"""The query language: words (AND), "phrases", -exclusions, OR, and whitelisted field:value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as _date

from index.docno import DocNo, parse_doc_no
from index.errors import QueryError

FIELDS = {
    "title": "title",
    "标题": "title",
    "agency": "agency",
    "机构": "agency",
    "doc_no": "doc_no",
    "文号": "doc_no",
    "category": "category",
    "栏目": "category",
    "year": "year",
    "年份": "year",
    "date": "date",
    "日期": "date",
}
UNKNOWN_YEAR = "日期不详"  # the year of a document whose page states no date (list dates do not count)
_UNKNOWN_YEAR_ALIASES = frozenset((UNKNOWN_YEAR, "不详", "未知"))  # 未知: what earlier versions called it


def year_value(text: str) -> str:
    """A year as the index holds it: YYYY, or UNKNOWN_YEAR for any of its names."""
    return UNKNOWN_YEAR if text in _UNKNOWN_YEAR_ALIASES else text


MAX_CLAUSES = 12
PASTED_CHARS = 20  # plain text this long (an unbalanced quote in it, or spaces) is a pasted passage
_TOKEN = re.compile(r'\s*(-?)(?:([A-Za-z_]+|标题|机构|文号|栏目|年份|日期)[:：])?("([^"]*)"?|\S+)')


_DATE = re.compile(r"(\d{4})(?:[-./年](\d{1,2})(?:[-./月](\d{1,2})日?)?月?)?年?")


def _date_end(text: str, upper: bool) -> int:
    m = _DATE.fullmatch(text)
    if not m:
        raise QueryError(f"日期“{text}”无法识别，请写成 2019、2019-03 或 2019-03-15。")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if month is None:
        return year * 10000 + (1231 if upper else 101)
    month_n = int(month)
    if not 1 <= month_n <= 12:
        raise QueryError(f"日期“{text}”中的月份应在 1 到 12 之间。")
    if day is None:
        return year * 10000 + month_n * 100 + (31 if upper else 1)
    day_n = int(day)
    try:
        _date(year, month_n, day_n)
    except ValueError:
        raise QueryError(f"日期“{text}”不存在，请检查年月日。") from None
    return year * 10000 + month_n * 100 + day_n


def date_bounds(text: str) -> tuple[int, int]:
    """`date:` values as inclusive yyyymmdd bounds: 2019, 2019-03, 2019-01..2019-06, ..2019, 2019-03.."""
    low_text, sep, high_text = text.partition("..")
    if not sep:
        low_text = high_text = text
    if not low_text and not high_text:
        raise QueryError("日期范围至少需要一端，如 date:2019-01..2019-06 或 date:..2019。")
    low = _date_end(low_text, False) if low_text else 0
    high = _date_end(high_text, True) if high_text else 99991231
    if low > high:
        raise QueryError(f"日期范围“{text}”的起点晚于终点。")
    return low, high


@dataclass(frozen=True)
class Clause:
    """One condition: text (a word run or a quoted phrase), optionally in a field, maybe negated."""

    text: str
    field: str = ""
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """Groups of clauses: all groups must match; within a group any clause (OR) may."""

    groups: tuple[tuple[Clause, ...], ...]
    doc_no: DocNo | None = None  # the 文号 the whole query is (a bare term or one doc_no: clause)
    note: str = ""  # how the input was read, when not as written (shown above the results)

    def positive_texts(self) -> list[str]:
        return [c.text for g in self.groups for c in g if not c.negated and c.field in ("", "title", "doc_no")]

    def text_groups(self) -> int:
        """How many required groups search text (the ones a fallback may relax)."""
        return sum(1 for g in self.groups if not g[0].negated and all(c.field in ("", "title") for c in g))

    @property
    def empty(self) -> bool:
        return not self.groups


def parse_query(q: str, max_chars: int = 500) -> ParsedQuery:
    """Parse user input; raises QueryError with a message fit to show the user."""
    q = q.replace("“", '"').replace("”", '"').replace("＂", '"').strip()
    if len(q) > max_chars:
        raise QueryError(f"查询过长（{len(q)} 字），请控制在 {max_chars} 字以内。")
    whole = parse_doc_no(q)
    if whole:
        # A 文号 typed with spaces (杭民发 〔2020〕 5 号) is one term, not four.
        return ParsedQuery(((Clause(text=q),),), doc_no=whole)
    note = ""
    if q.count('"') % 2:
        if len(q) < PASTED_CHARS:
            raise QueryError('引号不成对：请检查查询中的双引号，短语需用一对引号括起，如 "政府信息公开"。')
        # Pasted text cut inside a quotation: its quotes are punctuation, not phrase marks.
        q = q.replace('"', " ")
        note = "引号不成对，已按普通文字检索（不作短语）。"
    groups: list[list[Clause]] = []
    pending_or = False
    pos = 0
    while pos < len(q):
        match = _TOKEN.match(q, pos)
        if not match or match.end() == pos:
            break
        pos = match.end()
        negated, field_name, raw, quoted = match.group(1) == "-", match.group(2), match.group(3), match.group(4)
        if raw == "OR" and not negated and not field_name:
            if not groups or pending_or:
                raise QueryError("OR 需要写在两个词之间，如：低保 OR 救助。")
            pending_or = True
            continue
        if field_name:
            key = FIELDS.get(field_name) or FIELDS.get(field_name.lower())
            if key is None:
                allowed = "、".join(sorted({k for k in FIELDS if k.isascii()}))
                raise QueryError(f"不支持的字段“{field_name}”。可用字段：{allowed}（或 标题/机构/文号/栏目/年份/日期）。")
        else:
            key = ""
        text = quoted if quoted is not None else raw
        text = text.strip()
        if not text:
            if raw == "-":
                raise QueryError("减号后面需要跟要排除的词，如：救助 -临时。")
            continue
        text = text.replace("?", " ").strip()  # a question mark, not a wildcard (怎么办理?)
        if not text:
            continue
        if "*" in text:
            if text.startswith("*"):
                raise QueryError("不支持以 * 或 ? 开头的通配符查询，请输入完整的词。")
            raise QueryError("暂不支持通配符，请直接输入词语；中文词语会自动按片段匹配。")
        if key == "date":
            date_bounds(text)  # validate now: a bad date is a parse error
        elif key == "year":
            text = year_value(text)
            if not re.fullmatch(r"\d{4}", text) and text != UNKNOWN_YEAR:
                raise QueryError(f"年份“{text}”应为四位数字，如 year:2019；时间段请用 date:2019-01..2019-06。")
        clause = Clause(text=text, field=key, phrase=quoted is not None, negated=negated)
        if pending_or:
            if negated or groups[-1][0].negated:
                raise QueryError("OR 两侧不能是排除词（-词）。")
            groups[-1].append(clause)
            pending_or = False
        else:
            groups.append([clause])
    if pending_or:
        raise QueryError("OR 需要写在两个词之间，如：低保 OR 救助。")
    plain = all(len(g) == 1 and not (g[0].field or g[0].phrase or g[0].negated) for g in groups)
    pasted = plain and len(groups) >= 3 and sum(len(g[0].text) for g in groups) >= PASTED_CHARS
    if sum(len(g) for g in groups) > MAX_CLAUSES and not plain:
        raise QueryError(f"查询条件过多，请控制在 {MAX_CLAUSES} 个以内。")
    if pasted:
        # A passage broken by spaces or line breaks (copied from a PDF): one string, not many terms.
        groups = [[Clause(text=" ".join(g[0].text for g in groups))]]
    if groups and all(g[0].negated for g in groups):
        raise QueryError("查询不能只包含排除词，请至少输入一个要查找的词。")
    first = groups[0][0] if len(groups) == 1 else None
    doc_no = parse_doc_no(first.text) if first and not first.negated and first.field in ("", "doc_no") else None
    return ParsedQuery(tuple(tuple(g) for g in groups), doc_no=doc_no, note=note)
