"""Archived copies, served safely: a text view, raw HTML only in a CSP sandbox, files as downloads."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from flask import Blueprint, Response, abort, jsonify, render_template

from archive.catalog import Capture
from archive.charset import decode
from archive.errors import ArchiveError
from archive.sniff import is_html, sniff_content_type
from archive.store import StoredResponse, WarcStore
from search_web import get_catalog, get_settings

bp = Blueprint("archived", __name__)

# Archived pages run with no scripts, a unique origin, and no way to load anything from the live web.
SANDBOX_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_EXTENSIONS = {"application/pdf": "pdf", "application/msword": "doc", "application/zip": "zip", "application/ofd": "ofd"}


def _load(capture_id: int) -> tuple[Capture, Capture, StoredResponse, bytes]:
    """(capture, capture holding the bytes, record, decoded body); a revisit resolves to its original."""
    if not 0 < capture_id < 2**63:  # a row id SQLite can hold; anything else cannot exist
        abort(404)
    catalog = get_catalog()
    capture = catalog.get_capture(capture_id)
    if capture is None:
        abort(404)
    content = catalog.get_capture(capture.refers_to) if capture.refers_to else capture
    if content is None:
        abort(404)
    try:
        record = WarcStore(get_settings().warc_dir, create=False).read(content.ref)
        body = record.body()
    except ArchiveError as exc:
        abort(503, description=f"存档记录无法读取：{exc}")
    return capture, content, record, body


@bp.get("/capture/<int:capture_id>.json")
def capture_json(capture_id: int) -> Any:
    return capture_text(capture_id, as_json=True)


@bp.get("/capture/<int:capture_id>")
def capture_text(capture_id: int, as_json: bool = False) -> Any:
    capture, content, record, body = _load(capture_id)
    mime = sniff_content_type(body)
    paragraphs: list[str] = []
    if is_html(mime):
        text, _ = decode(body, record.header("content-type"))
        soup = BeautifulSoup(text, "lxml")
        for junk in soup.find_all(["script", "style", "noscript"]):
            junk.decompose()
        paragraphs = [" ".join(line.split()) for line in soup.get_text("\n").splitlines() if line.strip()]
    if as_json:
        return jsonify(
            {
                "ok": True,
                "id": capture.id,
                "url": capture.url,
                "fetched_at": capture.fetched_at,
                "status": capture.status,
                "type": capture.record_type,
                "content_type": mime,
                "size": len(body),
                "payload_digest": capture.payload_digest,
                "warc_file": capture.ref.file,
                "truncated": capture.truncated or None,
                "raw_url": f"/capture/{capture.id}/raw",
                "text": paragraphs,
            }
        )
    return render_template(
        "capture.html", capture=capture, content=content, record=record, mime=mime, paragraphs=paragraphs, size=len(body)
    )


@bp.get("/capture/<int:capture_id>/raw")
def capture_raw(capture_id: int) -> Any:
    capture, _, record, body = _load(capture_id)
    mime = sniff_content_type(body)
    response = Response(body)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if is_html(mime):
        _, encoding = decode(body, record.header("content-type"))
        response.headers["Content-Type"] = f"text/html; charset={encoding}"
        response.headers["Content-Security-Policy"] = SANDBOX_CSP
    else:
        extension = _EXTENSIONS.get(mime) or ("docx" if "wordprocessingml" in mime else "bin")
        response.headers["Content-Type"] = mime
        response.headers["Content-Disposition"] = f'attachment; filename="capture-{capture.id}.{extension}"'
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
