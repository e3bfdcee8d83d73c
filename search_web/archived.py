"""Archived copies, served safely: a text view, raw HTML only in a CSP sandbox, files as downloads."""

from __future__ import annotations

import re
import warnings
from typing import Any
from urllib.parse import quote

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from flask import Blueprint, Response, abort, jsonify, render_template

from archive.catalog import Capture
from archive.charset import decode
from archive.errors import ArchiveError
from archive.filenames import names_in_url
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
        with warnings.catch_warnings():
            # Hanweb's dataproxy.jsp answers XML whose CDATA holds the list's HTML: read as HTML on purpose.
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
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


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


# Extensions a download may keep from its URL when the bytes say nothing more specific.
_PLAIN_EXTENSIONS = frozenset("pdf doc docx xls xlsx wps et ofd zip rar 7z txt csv".split())


def download_name(url: str, extension: str, fallback: str) -> str:
    """The file name a capture downloads under: its URL's (robots.txt, 附件.pdf, or the file a download
    handler names in its query), with the extension of what the bytes are (`extension`, "bin" when
    unknown: then only a document's extension from the URL is kept); else `fallback`."""
    for name in names_in_url(url):
        stem, dot, ext = _UNSAFE_NAME.sub("_", name).strip(" .").rpartition(".")
        if not (stem and dot and ext.isalnum() and len(ext) <= 5) or ext.lower() in ("jsp", "asp", "aspx", "php", "do"):
            continue
        if extension == "doc" and ext.lower() in ("xls", "wps", "et", "ppt"):
            pass  # one container (OLE) for all of these: the URL tells which
        elif extension != "bin" and ext.lower() != extension:
            ext = extension  # what the bytes are decides how the file opens
        elif extension == "bin" and ext.lower() not in _PLAIN_EXTENSIONS:
            ext = "bin"
        return f"{stem[:100]}.{ext}"
    return fallback


def _disposition(name: str) -> str:
    """`attachment` with an ASCII file name for old clients and the UTF-8 one (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


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
        name = download_name(capture.url, extension, f"capture-{capture.id}.{extension}")
        response.headers["Content-Disposition"] = _disposition(name)
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
