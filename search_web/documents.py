"""Document pages: /doc/<id> and its JSON twin."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from flask import abort, jsonify, render_template, request
from markupsafe import Markup, escape

from index.api import IndexMissingError, QueryError, document_relations
from search_web import get_catalog, get_engine
from search_web.diff import body_diff, field_changes
from search_web.params import literal_arg, search_state

_DOC_ID = re.compile(r"^[0-9a-f]{16}$")


def _load_doc(doc_id: str):  # type: ignore[no-untyped-def]
    if not _DOC_ID.match(doc_id):
        abort(404)
    stored = get_catalog().get(doc_id)
    if stored is None:
        abort(404)
    return stored


def document_page(doc_id: str) -> Any:
    stored = _load_doc(doc_id)
    q = request.args.get("q", "").strip()
    doc = stored.doc
    catalog = get_catalog()
    texts = [doc.title] + [p for p in doc.body.split("\n") if p.strip()]
    marked = [str(escape(t)) for t in texts]
    if q:
        try:
            marked = get_engine().highlight(texts, q, literal=literal_arg(request.args))
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
    relations = document_relations(catalog, doc_id)
    state = search_state()  # the results this page was opened from (query, filters, sort, page)
    return render_template(
        "doc.html",
        stored=stored,
        doc=doc,
        paragraphs=paragraphs,
        q=q,
        versions=versions,
        related=_related(stored),
        relations=relations,
        link_groups=_grouped(relations.links) if relations else [],
        back_url="/?" + state if state else "/",
        changes=changes,
        captures=catalog.captures_for(doc_id),
        attachment_copies=attachment_copies,
        title_html=title_html,
        found_by_doc_no=request.args.get("found") == "doc_no" and bool(q),
    )


def _grouped(links: list[Any]) -> list[tuple[str, list[Any]]]:
    """Links under their labels (废止, 被废止, 修订 ...), in the order the relations module gives them."""
    groups: dict[str, list[Any]] = {}
    for link in links:
        groups.setdefault(link.label, []).append(link)
    return list(groups.items())


def _related(stored: Any) -> list[dict[str, Any]]:
    """Related documents from the index; none (not an error) when the index is unavailable."""
    try:
        return [asdict(r) for r in get_engine().related(stored.id, stored.doc.title, stored.doc.agency, stored.doc.doc_no)]
    except IndexMissingError:
        return []


def document_json(doc_id: str) -> Any:
    stored = _load_doc(doc_id)
    captures = get_catalog().captures_for(doc_id)
    relations = document_relations(get_catalog(), doc_id)
    return jsonify(
        {
            "ok": True,
            "id": stored.id,
            "status": stored.status,
            "first_seen": stored.first_seen,
            "related": _related(stored),
            "relations": relations.as_dict() if relations else None,
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
