"""The query language: words (AND), "phrases", -exclusions, OR, and whitelisted field:value."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.errors import QueryError

FIELDS = {"title": "title", "标题": "title", "agency": "agency", "机构": "agency", "doc_no": "doc_no",
          "文号": "doc_no", "category": "category", "栏目": "category", "year": "year", "年份": "year"}
MAX_CLAUSES = 12
_TOKEN = re.compile(r'\s*(-?)(?:([A-Za-z_]+|标题|机构|文号|栏目|年份)[:：])?("([^"]*)"?|\S+)')


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

    def positive_texts(self) -> list[str]:
        return [c.text for g in self.groups for c in g if not c.negated and c.field in ("", "title", "doc_no")]

    @property
    def empty(self) -> bool:
        return not self.groups


def parse_query(q: str, max_chars: int = 200) -> ParsedQuery:
    """Parse user input; raises QueryError with a message fit to show the user."""
    q = q.replace("“", '"').replace("”", '"').replace("＂", '"').strip()
    if len(q) > max_chars:
        raise QueryError(f"查询过长（{len(q)} 字），请控制在 {max_chars} 字以内。")
    if q.count('"') % 2:
        raise QueryError("引号不成对：请检查查询中的双引号，短语需用一对引号括起，如 \"政府信息公开\"。")
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
                raise QueryError(f"不支持的字段“{field_name}”。可用字段：{allowed}（或 标题/机构/文号/栏目/年份）。")
        else:
            key = ""
        text = quoted if quoted is not None else raw
        text = text.strip()
        if not text:
            if raw == "-":
                raise QueryError("减号后面需要跟要排除的词，如：救助 -临时。")
            continue
        if "*" in text or "?" in text:
            if text.startswith(("*", "?")):
                raise QueryError("不支持以 * 或 ? 开头的通配符查询，请输入完整的词。")
            raise QueryError("暂不支持通配符，请直接输入词语；中文词语会自动按片段匹配。")
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
    if sum(len(g) for g in groups) > MAX_CLAUSES:
        raise QueryError(f"查询条件过多，请控制在 {MAX_CLAUSES} 个以内。")
    if groups and all(g[0].negated for g in groups):
        raise QueryError("查询不能只包含排除词，请至少输入一个要查找的词。")
    return ParsedQuery(tuple(tuple(g) for g in groups))
