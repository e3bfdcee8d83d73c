"""Text of attachments (PDF via pypdf, DOCX via python-docx), capped; failures become an error string."""

from __future__ import annotations

import io
import logging
import zipfile

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000
DOCX_MAX_UNCOMPRESSED = 50_000_000


def kind_of(name: str, content_type: str, data: bytes) -> str:
    """"pdf", "docx" or "" from the bytes first (our own sniffing), then the name and type."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") and (name.lower().endswith(".docx") or "wordprocessingml" in content_type):
        return "docx"
    return ""


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts = []
    total = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        parts.append(text)
        total += len(text)
        if total > MAX_TEXT_CHARS:
            break
    return "\n".join(parts)


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if sum(i.file_size for i in zf.infolist()) > DOCX_MAX_UNCOMPRESSED:
            raise ValueError("DOCX expands beyond the size limit")
    import docx

    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs if p.text.strip())


def extract_text(data: bytes, name: str = "", content_type: str = "") -> tuple[str, str]:
    """(text, error): text capped at MAX_TEXT_CHARS; an unsupported or broken file gives an error."""
    kind = kind_of(name, content_type, data)
    try:
        if kind == "pdf":
            text = _pdf_text(data)
        elif kind == "docx":
            text = _docx_text(data)
        else:
            return "", "unsupported attachment type"
    except Exception as exc:  # noqa: BLE001 - any parser failure is recorded on the document, never fatal
        log.warning("attachment %s: text extraction failed: %s", name, exc)
        return "", f"extraction failed: {type(exc).__name__}: {exc}"[:300]
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return text[:MAX_TEXT_CHARS], ""
