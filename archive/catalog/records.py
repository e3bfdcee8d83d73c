"""What the catalog hands out: a capture row and a document with its status and history."""

from __future__ import annotations

from dataclasses import dataclass

from archive.models import Document, RecordRef


@dataclass(frozen=True)
class Capture:
    """One fetch of a URL as recorded in the catalog."""

    id: int
    url: str
    fetched_at: str
    status: int
    record_type: str
    payload_digest: str
    content_type: str
    etag: str
    last_modified: str
    truncated: str
    ref: RecordRef
    refers_to: int | None


@dataclass(frozen=True)
class StoredDocument:
    """A document as the catalog knows it: its current version plus status and history counts."""

    id: str
    doc: Document
    status: str
    withdrawn_at: str | None
    first_seen: str
    last_seen: str
    version_count: int
    seq: int
