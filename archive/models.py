"""Frozen data classes for what the archive holds: documents, attachments and record locations."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any


def doc_id_for(source_id: str, url: str) -> str:
    """Stable document id: a document is its canonical URL within a source."""
    return hashlib.sha1(f"{source_id}\n{url}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RecordRef:
    """Where a WARC record lives: sealed file name, byte offset and length of the gzip member."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class Attachment:
    """A file linked from a document (PDF, DOCX, ...), with the text extracted from it."""

    url: str
    name: str
    content_type: str = ""
    size: int = 0
    sha256: str = ""
    text: str = ""
    error: str = ""


@dataclass(frozen=True)
class Document:
    """One disclosure item as extracted from its detail page.

    `published` is the 发布日期 as the page states it (or 公开日期/生成日期, or the signature date
    at the end of the body when that is all there is); `date_source` says where it came from
    ("table", "header", "meta", "api", "signature", "import"). A date known only from the list page
    or the URL is never a 发布日期: it is `listed` (列表日期), with `listed_source` "list" or "url".
    Dates that cannot be read are None, with the raw text kept in `published_raw`.
    """

    source_id: str
    url: str
    title: str
    agency: str = ""
    category: str = ""
    doc_no: str = ""
    index_no: str = ""
    topic: str = ""
    validity: str = ""
    written: date | None = None
    published: date | None = None
    published_raw: str = ""
    date_source: str = ""
    listed: date | None = None
    listed_source: str = ""
    body: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)

    @property
    def doc_id(self) -> str:
        return doc_id_for(self.source_id, self.url)

    def content_digest(self) -> str:
        """Digest of the normalised text and metadata: equal digests mean an unchanged version."""
        data = self.to_dict()
        for att in data["attachments"]:
            att.pop("error", None)
        blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies and was a measurable share of a crawl.
        data = {f.name: getattr(self, f.name) for f in _DOC_FIELDS}
        data["attachments"] = [{f.name: getattr(a, f.name) for f in _ATTACHMENT_FIELDS} for a in self.attachments]
        for key in _DATES:
            data[key] = data[key].isoformat() if data[key] else None
        for key in _OPTIONAL:  # absent when empty, so that older versions keep their digests
            if not data[key]:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if values.get("date_source") in _WEAK and "listed" not in values:
            # Written before list and URL dates were kept apart: such a date was never the page's.
            values["listed"], values["listed_source"] = values.get("published"), values["date_source"]
            values["published"], values["date_source"] = None, ""
        for key in _DATES:
            if values.get(key):
                values[key] = date.fromisoformat(values[key])
        values["attachments"] = tuple(Attachment(**a) for a in values.get("attachments") or ())
        return cls(**values)


_DOC_FIELDS = fields(Document)
_DATES = ("written", "published", "listed")
_OPTIONAL = ("listed", "listed_source")
_WEAK = ("list", "url")  # where a date may come from without being a 发布日期
_ATTACHMENT_FIELDS = fields(Attachment)
