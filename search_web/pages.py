"""Search pages: / and its JSON twin /search.json, the help page, and /healthz."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from archive.catalog import beat_age_s, is_alive, parse_time
from index.api import (
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    QUERY_FIELDS,
    UNKNOWN_YEAR,
    UNSTATED,
    IndexMissingError,
    QueryError,
    SearchRequest,
    SearchResult,
    hit_json,
    result_json,
)
from search_web import get_catalog, get_engine, get_settings
from search_web.params import (
    FACET_LABELS,
    FACET_SHOWN,
    SORT_LABELS,
    facet_display,
    parse_request,
    search_state,
    state_url,
)
from search_web.suggest import suggestions


def _facet_view(result: SearchResult, req: SearchRequest) -> list[dict[str, Any]]:
    out = []
    for facet in FACETS:
        if facet == "month" and req.filters.get("year", UNKNOWN_YEAR) == UNKNOWN_YEAR:
            continue  # months are offered within a chosen year
        if facet == "listyear" and req.filters.get("year") != UNKNOWN_YEAR:
            continue  # the list years of the documents stating no date, offered within 日期不详
        values = result.facets.get(facet, [])
        shown = [v for v in values if v.count or v.selected]
        if facet == "validity" and all(v.value == UNSTATED and not v.selected for v in shown):
            continue  # no document here states its 有效性: nothing to choose from
        kept = shown[:FACET_SHOWN]
        # The undated (日期不详) and unnamed (未注明) stay reachable however many years or agencies there are.
        kept += [v for v in shown[FACET_SHOWN:] if v.value in (UNKNOWN_YEAR, UNSTATED) or v.selected]
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
                    for v in kept
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
    if result is None or result.tier_counts.get("exact") or result.tier_counts.get("all"):
        return []  # suggestions when nothing matches in full (relaxed results may still be listed)
    label = lambda name, value: f"{FACET_LABELS[name]}：{facet_display(name, value)}"  # noqa: E731
    return suggestions(get_engine(), req, state_url, label)


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
        q_param=search_state(),
        max_chars=get_settings().max_query_chars,
    )
    return render_template("search.html", **context), 400 if error else 200


def help_page() -> Any:
    return render_template("help.html", max_chars=get_settings().max_query_chars)


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


def search_json() -> Any:
    req, result, error = _run_search()
    if error:
        return jsonify({"ok": False, "error": error, "status": 400}), 400
    assert result is not None
    return jsonify(
        {
            "ok": True,
            "query": req.q,
            **result_json(result),
            "literal": req.literal,
            "collapse": req.collapse,
            "filters": req.filters,
            "from": req.date_from.isoformat() if req.date_from else None,
            "to": req.date_to.isoformat() if req.date_to else None,
            "sort": req.sort,
            "hits": [{**hit_json(h), "doc_url": f"/doc/{h.id}"} for h in result.hits],
            "facets": _facet_view(result, req),
            "suggestions": [{"text": h["text"], "count": h["count"], "url": h["url"]} for h in _hints(req, result)],
        }
    )


def healthz() -> Any:
    """Liveness of the web app, with the index's age and lag and the scheduler's heartbeat (for monitoring).

    Not ok (503) when the index cannot be opened (none, or one built by another version of the
    program: the problem names the remedy), when the engine failed on a request since the index last
    changed, or when the index the site serves holds another number of documents than the catalog
    although it is not behind it. Always answered as JSON.
    """
    catalog = get_catalog()
    catalog_documents = catalog.count()
    problems = []
    try:
        index = get_engine().status()
    except IndexMissingError as exc:
        index = None
        problems.append(f"{exc.message}；{exc.hint}")
    behind = max(0, catalog.max_seq() - index.catalog_seq) if index else None
    if index and index.last_error:
        problems.append(f"检索引擎出错：{index.last_error}")
    if index and not behind and index.documents != catalog_documents:
        problems.append(f"索引有 {index.documents} 篇文档，存档有 {catalog_documents} 篇：请运行 `xxgk verify --index`")
    beat = catalog.heartbeat("scheduler")
    age = beat_age_s(beat)
    body = {
        "ok": not problems,
        "problems": problems,
        "documents": index.documents if index else None,
        "catalog_documents": catalog_documents,
        "index_backend": index.backend if index else None,
        "index_built_at": index.built_at if index else None,
        "index_updated_at": index.updated_at if index else None,
        "index_age_s": round((datetime.now(UTC) - parse_time(index.updated_at)).total_seconds())
        if index and index.updated_at
        else None,
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


def favicon() -> Any:
    """The site's icon where a browser asks for it by habit (pages name favicon.svg)."""
    from pathlib import Path

    from flask import Response, current_app

    icon = Path(current_app.static_folder or "static") / "favicon.svg"
    return Response(icon.read_bytes(), mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
