"""Exports of a search: the Atom feed and the CSV file."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from typing import Any

from flask import Response, render_template, request, stream_with_context

from archive.spreadsheet import spreadsheet_safe
from index.api import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    Hit,
    QueryError,
    hit_json,
)
from search_web import get_engine, get_settings
from search_web.params import FACET_LABELS, bad_parameter, facet_display, parse_request, state_url

FEED_ENTRIES = 50
CSV_FIELDS = ("id", "title", "agency", "category", "doc_no", "published", "listed", "url", "doc_url", "snippet")
CSV_HEADERS = {
    "id": "编号",
    "title": "标题",
    "agency": "发布机构",
    "category": "栏目",
    "doc_no": "文号",
    "published": "发布日期",
    "listed": "列表日期",
    "url": "原文网址",
    "doc_url": "档案页面",
    "snippet": "摘要",
}


def _absolute(path: str) -> str:
    return request.host_url.rstrip("/") + path


def _hit_row(hit: Hit) -> dict[str, Any]:
    """A hit as one CSV row (and the plain fields of a feed entry), with the document page's absolute URL."""
    row = hit_json(hit)
    return {name: row.get(name) for name in CSV_FIELDS if name != "doc_url"} | {"doc_url": _absolute(f"/doc/{hit.id}")}


def feed() -> Any:
    """An Atom feed of any search, newest first: subscribe to new disclosures matching a query and filters."""
    req = replace(parse_request(), sort="date", page=1, page_size=FEED_ENTRIES)
    try:
        result = get_engine().search(req)
    except QueryError as exc:
        bad_parameter(exc.message)
    parts = [req.q] + [f"{FACET_LABELS[k]}：{facet_display(k, v)}" for k, v in req.filters.items()]
    title = "政务公开档案检索：" + ("，".join(p for p in parts if p) or "全部新公开文件")
    entries = [
        {
            **_hit_row(h),
            "updated": f"{(h.published or h.listed or date(1970, 1, 1)).isoformat()}T00:00:00+08:00",
            "snippet_html": str(h.snippet),
        }
        for h in result.hits
    ]
    updated = max((e["updated"] for e in entries), default="1970-01-01T00:00:00+08:00")
    body = render_template(
        "feed.xml", title=title, entries=entries, updated=updated, self_url=request.url, html_url=_absolute(state_url())
    )
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}


def search_csv() -> Any:
    """The whole result set (up to `max_export_rows`) as CSV, streamed page by page."""
    req = parse_request()
    cap = get_settings().max_export_rows
    engine = get_engine()
    try:
        first = engine.search(replace(req, page=1, page_size=MAX_PAGE_SIZE))
    except QueryError as exc:
        bad_parameter(exc.message)

    english = request.args.get("header", "") == "en"  # field names for scripts; people get Chinese headers

    def rows() -> Any:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writerow({f: f if english else CSV_HEADERS[f] for f in CSV_FIELDS})
        yield "\ufeff" + out.getvalue()  # the BOM makes Excel and WPS read UTF-8
        sent, page, result = 0, 1, first
        while True:
            for hit in result.hits:
                if sent >= cap:
                    return
                out.seek(0)
                out.truncate()
                writer.writerow({k: spreadsheet_safe(v) for k, v in _hit_row(hit).items()})
                yield out.getvalue()
                sent += 1
            page += 1
            if page > min(result.page_count, MAX_PAGE):
                return
            result = engine.search(replace(req, page=page, page_size=MAX_PAGE_SIZE))

    return Response(
        stream_with_context(rows()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=xxgk-search.csv", "X-Total-Results": str(first.total)},
    )
