"""Export the catalog's documents (JSON lines or CSV) and import documents from JSON lines."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

from archive.catalog import Catalog, utcnow
from archive.charset import HALF_CHARACTER
from archive.models import Document
from archive.spreadsheet import spreadsheet_safe

FIELDS = (
    "id", "source", "url", "title", "agency", "published", "published_source", "listed", "listed_source",
    "category", "doc_no", "index_no", "text",
)  # fmt: skip
PUBLISHED_SOURCES = ("table", "header", "meta", "api", "signature", "import")
LISTED_SOURCES = ("list", "url", "import")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TEXT_FIELDS = ("title", "agency", "category", "doc_no", "index_no", "text", "source", "published_source", "listed_source")


@dataclass
class ImportReport:
    """Counts of an import, and each rejected line with its number and the reason."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # unknown field -> lines that had it (not --strict)


def _row(stored_id: str, doc: Document) -> dict[str, Any]:
    return {
        "id": stored_id,
        "source": doc.source_id,
        "url": doc.url,
        "title": doc.title,
        "agency": doc.agency,
        "published": doc.published.isoformat() if doc.published else None,
        "published_source": doc.date_source if doc.published else "",
        "listed": doc.listed.isoformat() if doc.listed else None,
        "listed_source": doc.listed_source if doc.listed else "",
        "category": doc.category,
        "doc_no": doc.doc_no,
        "index_no": doc.index_no,
        "text": doc.body,
    }


def export_documents(catalog: Catalog, out: TextIO, fmt: str = "jsonl") -> int:
    """Write every document (current version) to `out`; returns the count. In CSV, a text cell that
    starts like a formula (= + - @) is prefixed with an apostrophe, as the site's CSV export does."""
    count = 0
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
    for stored in catalog.iter_documents():
        row = _row(stored.id, stored.doc)
        if writer is not None:  # a spreadsheet opens the CSV: no cell may run as a formula
            writer.writerow({k: spreadsheet_safe("" if v is None else v) for k, v in row.items()})
        else:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def _date_field(data: dict[str, Any], key: str) -> date | None:
    if not data.get(key):
        return None
    try:
        return date.fromisoformat(str(data[key]))
    except ValueError:
        raise ValueError(f"field {key!r} must be YYYY-MM-DD, got {data[key]!r}") from None


def parse_line(
    line: str, default_source: str = "import", strict: bool = False, ignored: dict[str, int] | None = None
) -> tuple[str | None, Document]:
    """(explicit id or None, Document) from one JSON line; ValueError says what is wrong.

    Fields this program does not know (another tool's `lang`, `notes` ...) are ignored and counted in
    `ignored`, unless `strict`, which refuses the line."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown and strict:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    for name in unknown:
        if ignored is not None:
            ignored[name] = ignored.get(name, 0) + 1
    for key in _TEXT_FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"field {key!r} must be a string")
    for key in FIELDS:
        lone = HALF_CHARACTER.search(data[key]) if isinstance(data.get(key), str) else None
        if lone:
            raise ValueError(
                f"field {key!r} holds \\u{ord(lone.group()):04x} at character {lone.start() + 1}, half of a character"
                " (a surrogate escape without its pair); write the whole character, or drop the escape"
            )
    url = data.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
        raise ValueError("field 'url' is required and must be an http(s) URL")
    if not (data.get("title") or "").strip():
        raise ValueError("field 'title' is required")
    published, listed = _date_field(data, "published"), _date_field(data, "listed")
    for key, allowed in (("published_source", PUBLISHED_SOURCES), ("listed_source", LISTED_SOURCES)):
        if data.get(key) and data[key] not in allowed:
            raise ValueError(
                f"field {key!r} must be one of {', '.join(allowed)}, got {data[key]!r}"
                + ("; a list or URL date is not a publication date: give it as 'listed'" if data[key] in LISTED_SOURCES else "")
            )
    doc_id = data.get("id")
    if doc_id is not None and (not isinstance(doc_id, str) or not _ID.match(doc_id)):
        raise ValueError("field 'id' must be 1-64 letters, digits, '-' or '_'")
    doc = Document(
        source_id=data.get("source") or default_source,
        url=url,
        title=data["title"],
        agency=data.get("agency") or "",
        category=data.get("category") or "",
        doc_no=data.get("doc_no") or "",
        index_no=data.get("index_no") or "",
        published=published,
        date_source=(data.get("published_source") or "import") if published else "",
        listed=listed,
        listed_source=(data.get("listed_source") or "import") if listed else "",
        body=data.get("text") or "",
    )
    return doc_id, doc


def import_documents(
    catalog: Catalog,
    lines: Iterable[str],
    default_source: str = "import",
    progress: Callable[[int], None] | None = None,
    strict: bool = False,
) -> ImportReport:
    """Validate every line, then record the good ones in one transaction; bad lines are reported and skipped.

    `progress` is called with the number of documents recorded so far.
    """
    report = ImportReport()
    parsed: list[tuple[str | None, Document]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            parsed.append(parse_line(line, default_source, strict, report.ignored))
        except ValueError as exc:
            report.errors.append((number, str(exc)))
    now = utcnow()
    with catalog.transaction():
        for doc_id, doc in parsed:
            outcome = catalog.record_document(doc, None, seen_at=now, doc_id=doc_id)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if progress is not None:
                progress(report.new + report.changed + report.unchanged)
    return report
