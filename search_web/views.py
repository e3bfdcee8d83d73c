"""The site's public routes, on one blueprint ("search"): each page lives in the module named beside it."""

from __future__ import annotations

from flask import Blueprint

from search_web import documents, exports, pages

bp = Blueprint("search", __name__)

ROUTES = (
    ("/", pages.search_page),
    ("/help", pages.help_page),
    ("/help.json", pages.help_json),
    ("/search.json", pages.search_json),
    ("/doc/<doc_id>", documents.document_page),
    ("/doc/<doc_id>.json", documents.document_json),
    ("/healthz", pages.healthz),
    ("/feed.atom", exports.feed),
    ("/search.csv", exports.search_csv),
    ("/favicon.ico", pages.favicon),
)

for _rule, _view in ROUTES:
    bp.add_url_rule(_rule, view_func=_view, methods=["GET"])
