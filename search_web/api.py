"""The OpenAPI document of the JSON API (every page's .json twin), served at /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from index.api import TIER_LABELS

bp = Blueprint("api", __name__)

_ERROR = {
    "type": "object",
    "required": ["ok", "error", "status"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string"},
        "status": {"type": "integer"},
        "hint": {"type": "string"},
    },
}
_STR_OR_NULL = {"type": ["string", "null"]}
_HIT = {
    "type": "object",
    "required": ["id", "title", "url", "agency", "category", "doc_no", "published", "snippet_html", "doc_url"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "url": {"type": "string"},
        "agency": {"type": "string"},
        "category": {"type": "string"},
        "doc_no": {"type": "string"},
        "published": _STR_OR_NULL,
        "listed": _STR_OR_NULL,
        "snippet_html": {"type": "string"},
        "doc_url": {"type": "string"},
        "tier": {"enum": list(TIER_LABELS)},
        "missing": {"type": "array", "items": {"type": "string"}},
        "validity": _STR_OR_NULL,
        "copies": {
            "type": "array",
            "description": "The other members of this result's group (reposts and copies of the same content).",
            "items": {
                "type": "object",
                "required": ["id", "title", "agency", "published"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "agency": {"type": "string"},
                    "published": _STR_OR_NULL,
                },
            },
        },
    },
}
_FACET = {
    "type": "object",
    "required": ["name", "label", "values"],
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "truncated": {"type": "boolean"},
        "values": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["value", "count", "selected", "toggle_url"],
                "properties": {
                    "value": {"type": "string"},
                    "display": {"type": "string"},
                    "count": {"type": "integer"},
                    "selected": {"type": "boolean"},
                    "toggle_url": {"type": "string"},
                },
            },
        },
    },
}
_SEARCH = {
    "type": "object",
    "required": ["ok", "query", "total", "page", "page_count", "hits", "facets"],
    "properties": {
        "ok": {"const": True},
        "query": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "page_count": {"type": "integer", "minimum": 1},
        "took_ms": {"type": "number"},
        "notice": {"type": "string"},
        "doc_no_match": _STR_OR_NULL,
        "terms": {"type": "array", "items": {"type": "string"}},
        "expanded": {"type": "array", "items": {"type": "string"}},
        "corrected": _STR_OR_NULL,
        "tiers": {"type": "object", "additionalProperties": {"type": "integer"}},
        "collapsed": {"type": "integer", "minimum": 0, "description": "Documents not listed: another member of their group is."},
        "facet_counts": {"enum": ["groups", "documents"]},
        "literal": {"type": "boolean"},
        "filters": {"type": "object"},
        "from": _STR_OR_NULL,
        "to": _STR_OR_NULL,
        "sort": {"enum": ["relevance", "date"]},
        "hits": {"type": "array", "items": _HIT},
        "facets": {"type": "array", "items": _FACET},
        "suggestions": {"type": "array", "items": {"type": "object"}},
    },
}
_DOC = {
    "type": "object",
    "required": ["ok", "id", "status", "document", "captures"],
    "properties": {
        "ok": {"const": True},
        "id": {"type": "string"},
        "status": {"enum": ["active", "withdrawn"]},
        "first_seen": {"type": "string"},
        "last_seen": {"type": "string"},
        "versions": {"type": "integer"},
        "document": {"type": "object"},
        "captures": {"type": "array", "items": {"type": "object"}},
        "related": {"type": "array", "items": {"type": "object"}},
        "relations": {
            "type": ["object", "null"],
            "description": "Links both ways (cites, repeals, amends, replaces, interprets, reposts), validity, chain.",
            "properties": {
                "links": {"type": "array", "items": {"type": "object"}},
                "validity": {"type": "object"},
                "chain": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}
_OBJECT_OK = {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}}


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or {"type": "string"}}


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema or {"type": "string"}}


def _responses(ok: dict[str, Any], *errors: int, media: str = "application/json") -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {media: {"schema": ok}}}}
    for status in errors:
        out[str(status)] = {
            "description": {400: "Bad parameter (the message says which)", 404: "Not found", 503: "Index or archive unavailable"}[
                status
            ],
            "content": {"application/json": {"schema": _ERROR}},
        }
    return out


SEARCH_PARAMS = [
    _param(
        "q",
        'Query: words (all ranked first, then most, then similar text), "phrases", -word, OR, '
        "title:/agency:/doc_no:/category:/year:/date:",
    ),
    _param("category", "栏目 facet value"),
    _param("agency", "发布机构 facet value"),
    _param("year", "Year facet value"),
    _param("month", "Month 01-12 (needs year)"),
    _param("listyear", "List year YYYY of documents stating no date (needs year=日期不详)"),
    _param("validity", "有效性 facet value"),
    _param("status", "active or withdrawn"),
    _param("from", "Published on or after (YYYY-MM-DD)"),
    _param("to", "Published on or before (YYYY-MM-DD)"),
    _param("sort", "relevance (default) or date"),
    _param("page", "Page 1-100"),
    _param("size", "Results per page, 1-50"),
    _param("literal", "1: the words as typed (no synonyms, no typo correction)"),
    _param("collapse", "0: list every document; by default reposts and copies of the same content show once"),
]


def openapi() -> dict[str, Any]:
    """The document: one operation per JSON twin, one error shape for every 4xx/5xx."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "xxgk-archive JSON API",
            "version": "1",
            "description": "Every page of the search site has a JSON twin with the same query string. "
            "Errors are {ok: false, error, status}.",
        },
        "paths": {
            "/search.json": {
                "get": {
                    "operationId": "search",
                    "summary": "Search (twin of /)",
                    "parameters": SEARCH_PARAMS,
                    "responses": _responses(_SEARCH, 400, 503),
                }
            },
            "/doc/{doc_id}.json": {
                "get": {
                    "operationId": "document",
                    "summary": "A document (twin of /doc/{id})",
                    "parameters": [_path("doc_id", "16 hex digits")],
                    "responses": _responses(_DOC, 404),
                }
            },
            "/capture/{capture_id}.json": {
                "get": {
                    "operationId": "capture",
                    "summary": "One capture's record and extracted text (twin of /capture/{id})",
                    "parameters": [_path("capture_id", "Capture number", {"type": "integer"})],
                    "responses": _responses(_OBJECT_OK, 404, 503),
                }
            },
            "/reports.json": {
                "get": {
                    "operationId": "reports",
                    "summary": "Annual reports index (twin of /reports/)",
                    "responses": _responses(_OBJECT_OK),
                }
            },
            "/reports/year/{year}.json": {
                "get": {
                    "operationId": "reportsYear",
                    "summary": "Agencies side by side for a year",
                    "parameters": [_path("year", "Year", {"type": "integer"})],
                    "responses": _responses(_OBJECT_OK, 404),
                }
            },
            "/reports/doc/{doc_id}.json": {
                "get": {
                    "operationId": "reportDoc",
                    "summary": "One report's figures and checks",
                    "parameters": [_path("doc_id", "Document id")],
                    "responses": _responses(_OBJECT_OK, 404),
                }
            },
            "/reports/figures.json": {
                "get": {
                    "operationId": "figures",
                    "summary": "Every extracted figure",
                    "parameters": [_param("agency", "Agency"), _param("year", "Year")],
                    "responses": _responses(_OBJECT_OK, 400),
                }
            },
            "/help.json": {
                "get": {
                    "operationId": "help",
                    "summary": "The query language (twin of /help)",
                    "responses": _responses(_OBJECT_OK),
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Index age and scheduler heartbeat",
                    "responses": _responses(_OBJECT_OK, 503),
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Any:
    doc = openapi()
    doc["servers"] = [{"url": request.host_url.rstrip("/")}]
    return jsonify(doc)
