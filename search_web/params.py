"""Request parameters: the search state in the query string, checked, and links that change it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import unquote_to_bytes, urlencode

from flask import abort, request

from index.api import (
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    SORTS,
    UNKNOWN_YEAR,
    SearchRequest,
    year_value,
)
from search_web import get_settings

FACET_LABELS = {
    "category": "栏目",
    "agency": "发布机构",
    "year": "年份",
    "month": "月份",
    "listyear": "列表年份",
    "validity": "有效性",
    "status": "状态",
}
STATUS_LABELS = {"active": "公开中", "withdrawn": "已撤回"}
_MONTH = re.compile(r"^(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(19|20)\d{2}$")
SORT_LABELS = {"relevance": "按相关度", "date": "按日期"}
FACET_SHOWN = 12
_STATE_KEYS = (
    "q", "category", "agency", "year", "month", "listyear", "validity", "status", "from", "to", "sort", "size", "literal",
    "collapse",
)  # fmt: skip


def bad_parameter(message: str) -> None:
    abort(400, description=message)


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        bad_parameter(f"日期“{raw}”格式不正确，请使用 年-月-日，如 2017-03-28。")
    return None


def _printable(name: str, value: str) -> str:
    """The value, or a 400 when it holds control characters or lone surrogates (never a 500 later)."""
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\t" for c in value):
        bad_parameter(f"参数 {name} 含有无法识别的字符，请检查输入。")
    return value


def parse_request() -> SearchRequest:
    """The SearchRequest of the query string; a malformed parameter is a 400 with a message."""
    args = request.args
    try:  # percent-encoded bytes that are not UTF-8 (a GBK-encoding client): say so, not garbled text
        unquote_to_bytes(request.query_string.decode("ascii", "replace").replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        bad_parameter("查询参数不是 UTF-8 编码：请按 UTF-8 对中文进行百分号编码（浏览器会自动这样做）。")
    for name, value in args.items(multi=True):
        _printable(name, value)
    settings = get_settings()
    raw_size = args.get("size", "").strip()
    if raw_size and (not (raw_size.isascii() and raw_size.isdigit()) or int(raw_size) < 1):
        bad_parameter(f"每页条数 size 应为 1 到 {MAX_PAGE_SIZE} 之间的整数。")
    page_size = min(int(raw_size) if raw_size else settings.page_size, MAX_PAGE_SIZE)
    raw_page = args.get("page", "1").strip() or "1"
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= MAX_PAGE:
        bad_parameter(f"页码应为 1 到 {MAX_PAGE} 之间的整数。")
    sort = args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        bad_parameter("排序方式只能是 relevance（相关度）或 date（日期）。")
    filters = {}
    for facet in FACETS:
        value = args.get(facet, "").strip()
        if len(value) > 100:
            bad_parameter(f"{FACET_LABELS[facet]}参数过长。")
        if value:
            filters[facet] = value
    if "year" in filters:
        filters["year"] = year_value(filters["year"])
    if "year" in filters and not (_YEAR.match(filters["year"]) or filters["year"] == UNKNOWN_YEAR):
        bad_parameter(f"年份应为四位数字（如 2019），或“{UNKNOWN_YEAR}”。")
    if "month" in filters and (not _MONTH.match(filters["month"]) or "year" not in filters):
        bad_parameter("月份应为 01 到 12，并且要先选定年份。")
    if "listyear" in filters and (not _YEAR.match(filters["listyear"]) or filters.get("year") != UNKNOWN_YEAR):
        bad_parameter(f"列表年份应为四位数字，并且要先选定年份“{UNKNOWN_YEAR}”。")
    if "status" in filters and filters["status"] not in STATUS_LABELS:
        bad_parameter("状态只能是 active（公开中）或 withdrawn（已撤回）。")
    collapse = args.get("collapse", "").strip()
    if collapse not in ("", "0", "1"):
        bad_parameter("collapse 只能是 1（合并相同内容，默认）或 0（逐篇列出）。")
    date_from, date_to = _date_arg("from"), _date_arg("to")
    if date_from and date_to and date_from > date_to:
        bad_parameter("起始日期不能晚于结束日期。")
    return SearchRequest(
        q=args.get("q", "").strip(),
        filters=filters,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=int(raw_page),
        page_size=page_size,
        literal=literal_arg(args),
        collapse=collapse != "0",
    )


def literal_arg(args: Mapping[str, str]) -> bool:
    """Whether the words are meant as typed (`literal=1`: no synonyms, no typo correction)."""
    return args.get("literal", "") not in ("", "0")


def search_state(with_page: bool = True) -> str:
    """The current search's parameters as a query string ("" for none): what a document page keeps
    so that its "back to results" link returns to the same results, filters and page."""
    keys = _STATE_KEYS + (("page",) if with_page else ())
    return urlencode({k: v for k in keys if (v := request.args.get(k, ""))})


def state_url(**changes: Any) -> str:
    """The current search with some parameters changed (None removes one); the page resets.

    A month belongs to its year: changing or removing the year drops the month (and the 列表年份,
    offered within 日期不详).
    """
    state = {k: request.args.get(k, "") for k in _STATE_KEYS}
    if "year" in changes:
        state["month"] = state["listyear"] = ""
    state.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
    return "/?" + urlencode({k: v for k, v in state.items() if v})


def facet_display(facet: str, value: str) -> str:
    """How a facet value reads on the page (the URL keeps the raw value)."""
    if facet == "month":
        return f"{int(value)}月" if value.isdigit() else value
    if facet == "status":
        return STATUS_LABELS.get(value, value)
    if facet == "listyear":
        return f"列表 {value}"
    return value
