"""Pages: / (search), /search.json (its JSON twin), /doc/<id> and /doc/<id>.json."""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, stream_with_context, url_for
from markupsafe import Markup, escape

from archive.catalog import beat_age_s, is_alive, parse_time
from archive.errors import IndexMissingError, QueryError
from index.api import (
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    QUERY_FIELDS,
    SORTS,
    UNSTATED,
    Hit,
    SearchRequest,
    SearchResult,
    hit_json,
)
from search_web import get_catalog, get_engine, get_settings
from search_web.diff import body_diff, field_changes
from search_web.suggest import suggestions

bp = Blueprint("search", __name__)

FACET_LABELS = {"category": "栏目", "agency": "发布机构", "year": "年份", "month": "月份", "validity": "有效性", "status": "状态"}
STATUS_LABELS = {"active": "公开中", "withdrawn": "已撤回"}
_MONTH = re.compile(r"^(0[1-9]|1[0-2])$")
SORT_LABELS = {"relevance": "按相关度", "date": "按日期"}
FACET_SHOWN = 12
_DOC_ID = re.compile(r"^[0-9a-f]{16}$")
_STATE_KEYS = ("q", "category", "agency", "year", "month", "validity", "status", "from", "to", "sort", "size")


def _bad(message: str) -> None:
    abort(400, description=message)


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        _bad(f"日期“{raw}”格式不正确，请使用 年-月-日，如 2017-03-28。")
    return None


def _printable(name: str, value: str) -> str:
    """The value, or a 400 when it holds control characters or lone surrogates (never a 500 later)."""
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\t" for c in value):
        _bad(f"参数 {name} 含有无法识别的字符，请检查输入。")
    return value


def parse_request() -> SearchRequest:
    """The SearchRequest of the query string; a malformed parameter is a 400 with a message."""
    args = request.args
    for name, value in args.items(multi=True):
        _printable(name, value)
    settings = get_settings()
    raw_size = args.get("size", "").strip()
    if raw_size and (not (raw_size.isascii() and raw_size.isdigit()) or int(raw_size) < 1):
        _bad(f"每页条数 size 应为 1 到 {MAX_PAGE_SIZE} 之间的整数。")
    page_size = min(int(raw_size) if raw_size else settings.page_size, MAX_PAGE_SIZE)
    raw_page = args.get("page", "1").strip() or "1"
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= MAX_PAGE:
        _bad(f"页码应为 1 到 {MAX_PAGE} 之间的整数。")
    sort = args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        _bad("排序方式只能是 relevance（相关度）或 date（日期）。")
    filters = {}
    for facet in FACETS:
        value = args.get(facet, "").strip()
        if len(value) > 100:
            _bad(f"{FACET_LABELS[facet]}参数过长。")
        if value:
            filters[facet] = value
    if "month" in filters and (not _MONTH.match(filters["month"]) or "year" not in filters):
        _bad("月份应为 01 到 12，并且要先选定年份。")
    if "status" in filters and filters["status"] not in STATUS_LABELS:
        _bad("状态只能是 active（公开中）或 withdrawn（已撤回）。")
    date_from, date_to = _date_arg("from"), _date_arg("to")
    if date_from and date_to and date_from > date_to:
        _bad("起始日期不能晚于结束日期。")
    return SearchRequest(
        q=args.get("q", "").strip(),
        filters=filters,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=int(raw_page),
        page_size=page_size,
    )


def state_url(**changes: Any) -> str:
    """The current search with some parameters changed (None removes one); the page resets.

    A month belongs to its year: changing or removing the year drops the month.
    """
    state = {k: request.args.get(k, "") for k in _STATE_KEYS}
    if "year" in changes:
        state["month"] = ""
    state.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
    return "/?" + urlencode({k: v for k, v in state.items() if v})


def facet_display(facet: str, value: str) -> str:
    """How a facet value reads on the page (the URL keeps the raw value)."""
    if facet == "month":
        return f"{int(value)}月" if value.isdigit() else value
    if facet == "status":
        return STATUS_LABELS.get(value, value)
    return value


def _facet_view(result: SearchResult, req: SearchRequest) -> list[dict[str, Any]]:
    out = []
    for facet in FACETS:
        if facet == "month" and "year" not in req.filters:
            continue  # months are offered within a chosen year
        values = result.facets.get(facet, [])
        shown = [v for v in values if v.count or v.selected]
        if facet == "validity" and all(v.value == UNSTATED and not v.selected for v in shown):
            continue  # no document here states its 有效性: nothing to choose from
        if facet == "year":
            shown.sort(key=lambda v: v.value, reverse=True)
        out.append(
            {
                "name": facet,
                "label": FACET_LABELS[facet],
                "truncated": len(shown) > FACET_SHOWN,
                "values": [
                    {
                        "value": v.value,
                        "display": facet_display(facet, v.value),
                        "count": v.count,
                        "selected": v.selected,
                        "toggle_url": state_url(**{facet: None if v.selected else v.value}),
                    }
                    for v in shown[:FACET_SHOWN]
                    if v.count or v.selected
                ],
            }
        )
    return out


def _run_search() -> tuple[SearchRequest, SearchResult | None, str]:
    req = parse_request()
    try:
        return req, get_engine().search(req), ""
    except QueryError as exc:
        return req, None, exc.message


def _hints(req: SearchRequest, result: SearchResult | None) -> list[dict[str, Any]]:
    if result is None or result.total:
        return []
    label = lambda name, value: f"{FACET_LABELS[name]}：{facet_display(name, value)}"  # noqa: E731
    return suggestions(get_engine(), req, state_url, label)


@bp.get("/")
def search_page() -> Any:
    req, result, error = _run_search()
    if result and result.doc_no_match and req.page == 1 and not req.filters and request.args.get("go") != "0":
        # The query is one document's 文号: go straight to it (the result list stays one click away).
        return redirect(url_for("search.document_page", doc_id=result.doc_no_match, q=req.q, found="doc_no"))
    chips = [
        {"label": f"{FACET_LABELS[f]}：{facet_display(f, v)}", "remove_url": state_url(**{f: None})}
        for f, v in req.filters.items()
    ]
    if req.date_from or req.date_to:
        span = f"{req.date_from or '…'} 至 {req.date_to or '…'}"
        chips.append({"label": f"日期：{span}", "remove_url": state_url(**{"from": None, "to": None})})
    hints = _hints(req, result)
    context = dict(
        req=req,
        result=result,
        error=error,
        chips=chips,
        hints=hints,
        sort_labels=SORT_LABELS,
        state_url=state_url,
        facets=_facet_view(result, req) if result else [],
        Markup=Markup,
        q_param=urlencode({"q": req.q}) if req.q else "",
    )
    return render_template("search.html", **context), 400 if error else 200


@bp.get("/help")
def help_page() -> Any:
    return render_template("help.html", max_chars=get_settings().max_query_chars)


@bp.get("/help.json")
def help_json() -> Any:
    return jsonify(
        {
            "ok": True,
            "max_query_chars": get_settings().max_query_chars,
            "max_clauses": 12,
            "max_page": MAX_PAGE,
            "max_page_size": MAX_PAGE_SIZE,
            "syntax": [
                {"form": "词 词", "meaning": "all words must appear"},
                {"form": '"短语"', "meaning": "the exact string"},
                {"form": "-词", "meaning": "exclude"},
                {"form": "词 OR 词", "meaning": "either"},
                {"form": "title: agency: category: doc_no: year: date:", "meaning": "fields"},
            ],
            "fields": sorted(QUERY_FIELDS),
        }
    )


@bp.get("/search.json")
def search_json() -> Any:
    req, result, error = _run_search()
    if error:
        return jsonify({"ok": False, "error": error, "status": 400}), 400
    assert result is not None
    return jsonify(
        {
            "ok": True,
            "query": req.q,
            "total": result.total,
            "page": result.page,
            "page_count": result.page_count,
            "took_ms": round(result.took_ms, 1),
            "notice": result.notice,
            "doc_no_match": result.doc_no_match or None,
            "filters": req.filters,
            "from": req.date_from.isoformat() if req.date_from else None,
            "to": req.date_to.isoformat() if req.date_to else None,
            "sort": req.sort,
            "hits": [{**hit_json(h), "doc_url": f"/doc/{h.id}"} for h in result.hits],
            "facets": _facet_view(result, req),
            "suggestions": [{"text": h["text"], "count": h["count"], "url": h["url"]} for h in _hints(req, result)],
        }
    )


def _load_doc(doc_id: str):  # type: ignore[no-untyped-def]
    if not _DOC_ID.match(doc_id):
        abort(404)
    stored = get_catalog().get(doc_id)
    if stored is None:
        abort(404)
    return stored


@bp.get("/doc/<doc_id>")
def document_page(doc_id: str) -> Any:
    stored = _load_doc(doc_id)
    q = request.args.get("q", "").strip()
    doc = stored.doc
    catalog = get_catalog()
    texts = [doc.title] + [p for p in doc.body.split("\n") if p.strip()]
    marked = [str(escape(t)) for t in texts]
    if q:
        try:
            marked = get_engine().highlight(texts, q)
        except (QueryError, IndexMissingError):
            pass  # a malformed query or no index: the page shows the text unmarked
    title_html, paragraphs = Markup(marked[0]), [Markup(p) for p in marked[1:]]
    versions = catalog.versions(doc_id)
    changes = [
        {
            "from": versions[i - 1][0],
            "to": versions[i][0],
            "fields": field_changes(versions[i - 1][1], versions[i][1]),
            "body": body_diff(versions[i - 1][1].body, versions[i][1].body),
        }
        for i in range(len(versions) - 1, 0, -1)
    ]
    attachment_copies = {a.url: catalog.last_good_capture(a.url) for a in doc.attachments}
    referrer = request.referrer or ""
    back = referrer[len(request.host_url) - 1 :] if referrer.startswith(request.host_url + "?") else ""
    return render_template(
        "doc.html",
        stored=stored,
        doc=doc,
        paragraphs=paragraphs,
        q=q,
        versions=versions,
        related=_related(stored),
        back_url=back or ("/?" + urlencode({"q": q}) if q else "/"),
        changes=changes,
        captures=catalog.captures_for(doc_id),
        attachment_copies=attachment_copies,
        title_html=title_html,
        found_by_doc_no=request.args.get("found") == "doc_no" and bool(q),
    )


def _related(stored: Any) -> list[dict[str, Any]]:
    """Related documents from the index; none (not an error) when the index is unavailable."""
    try:
        return [asdict(r) for r in get_engine().related(stored.id, stored.doc.title, stored.doc.agency, stored.doc.doc_no)]
    except IndexMissingError:
        return []


@bp.get("/doc/<doc_id>.json")
def document_json(doc_id: str) -> Any:
    stored = _load_doc(doc_id)
    captures = get_catalog().captures_for(doc_id)
    return jsonify(
        {
            "ok": True,
            "id": stored.id,
            "status": stored.status,
            "first_seen": stored.first_seen,
            "related": _related(stored),
            "last_seen": stored.last_seen,
            "versions": stored.version_count,
            "document": stored.doc.to_dict(),
            "captures": [
                {
                    "fetched_at": c.fetched_at,
                    "status": c.status,
                    "type": c.record_type,
                    "payload_digest": c.payload_digest,
                    "warc_file": c.ref.file,
                }
                for c in captures
            ],
        }
    )


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness of the web app, with the index's age and lag and the scheduler's heartbeat (for monitoring).

    Not ok (503) when the engine failed on a request since the index last changed, or when the index
    the site serves holds another number of documents than the catalog although it is not behind it.
    """
    index = get_engine().status()
    catalog = get_catalog()
    behind = max(0, catalog.max_seq() - index.catalog_seq)
    catalog_documents = catalog.count()
    problems = []
    if index.last_error:
        problems.append(f"检索引擎出错：{index.last_error}")
    if not behind and index.documents != catalog_documents:
        problems.append(f"索引有 {index.documents} 篇文档，存档有 {catalog_documents} 篇：请运行 `xxgk verify --index`")
    beat = catalog.heartbeat("scheduler")
    age = beat_age_s(beat)
    body = {
        "ok": not problems,
        "problems": problems,
        "documents": index.documents,
        "catalog_documents": catalog_documents,
        "index_backend": index.backend,
        "index_built_at": index.built_at,
        "index_updated_at": index.updated_at,
        "index_age_s": round((datetime.now(UTC) - parse_time(index.updated_at)).total_seconds()) if index.updated_at else None,
        "index_behind": behind,
        "worker_pid": os.getpid(),
        "scheduler": {
            "alive": is_alive(beat, get_settings().scheduler_poll_s),
            "heartbeat_at": beat["beat_at"] if beat else None,
            "heartbeat_age_s": round(age) if age is not None else None,
            "pid": beat["pid"] if beat else None,
        },
    }
    if problems:
        body.update(error="；".join(problems), status=503)
    return jsonify(body), 200 if not problems else 503


FEED_ENTRIES = 50
CSV_FIELDS = ("id", "title", "agency", "category", "doc_no", "published", "url", "doc_url", "snippet")


def _absolute(path: str) -> str:
    return request.host_url.rstrip("/") + path


def _hit_row(hit: Hit) -> dict[str, Any]:
    """A hit as one CSV row (and the plain fields of a feed entry), with the document page's absolute URL."""
    row = hit_json(hit)
    return {name: row.get(name) for name in CSV_FIELDS if name != "doc_url"} | {"doc_url": _absolute(f"/doc/{hit.id}")}


@bp.get("/feed.atom")
def feed() -> Any:
    """An Atom feed of any search, newest first: subscribe to new disclosures matching a query and filters."""
    req = replace(parse_request(), sort="date", page=1, page_size=FEED_ENTRIES)
    try:
        result = get_engine().search(req)
    except QueryError as exc:
        _bad(exc.message)
    parts = [req.q] + [f"{FACET_LABELS[k]}：{facet_display(k, v)}" for k, v in req.filters.items()]
    title = "政务公开档案检索：" + ("，".join(p for p in parts if p) or "全部新公开文件")
    entries = [
        {
            **_hit_row(h),
            "updated": f"{h.published.isoformat() if h.published else '1970-01-01'}T00:00:00+08:00",
            "snippet_html": str(h.snippet),
        }
        for h in result.hits
    ]
    updated = max((e["updated"] for e in entries), default="1970-01-01T00:00:00+08:00")
    body = render_template(
        "feed.xml", title=title, entries=entries, updated=updated, self_url=request.url, html_url=_absolute(state_url())
    )
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}


@bp.get("/search.csv")
def search_csv() -> Any:
    """The whole result set (up to `max_export_rows`) as CSV, streamed page by page."""
    req = parse_request()
    cap = get_settings().max_export_rows
    engine = get_engine()
    try:
        first = engine.search(replace(req, page=1, page_size=MAX_PAGE_SIZE))
    except QueryError as exc:
        _bad(exc.message)

    def rows() -> Any:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
        yield "\ufeff" + out.getvalue()
        sent, page, result = 0, 1, first
        while True:
            for hit in result.hits:
                if sent >= cap:
                    return
                out.seek(0)
                out.truncate()
                writer.writerow(_hit_row(hit))
                yield out.getvalue()
                sent += 1
            page += 1
            if page > min(result.page_count, MAX_PAGE):
                return
            result = engine.search(replace(req, page=page, page_size=MAX_PAGE_SIZE))

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=xxgk-search.csv", "X-Total-Results": str(first.total)},
    )
