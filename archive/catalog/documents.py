"""Documents, their versions and attachments, and the captures of every fetch."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from archive.catalog.clock import utcnow
from archive.catalog.records import Capture, StoredDocument
from archive.models import Document, RecordRef


class _Connected:
    """What the mixins below need of the catalog: its connection and its transactions."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError


class DocumentsMixin(_Connected):
    """Captures, documents, versions and the change sequence."""

    def add_capture(
        self,
        *,
        run_id: int | None,
        url: str,
        status: int,
        record_type: str,
        payload_digest: str,
        ref: RecordRef,
        fetched_at: str,
        content_type: str = "",
        etag: str = "",
        last_modified: str = "",
        truncated: str = "",
        refers_to: int | None = None,
        doc_id: str | None = None,
    ) -> int:
        """Register a capture whose record is already durably written."""
        with self.transaction():
            cur = self.conn.execute(
                """INSERT INTO captures (run_id, doc_id, url, fetched_at, status, record_type, payload_digest,
                   content_type, etag, last_modified, truncated, warc_file, warc_offset, warc_length, refers_to)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    run_id,
                    doc_id,
                    url,
                    fetched_at,
                    status,
                    record_type,
                    payload_digest,
                    content_type,
                    etag,
                    last_modified,
                    truncated,
                    ref.file,
                    ref.offset,
                    ref.length,
                    refers_to,
                ),
            )
        return int(cur.lastrowid or 0)

    def _capture(self, row: sqlite3.Row) -> Capture:
        return Capture(
            id=row["id"],
            url=row["url"],
            fetched_at=row["fetched_at"],
            status=row["status"],
            record_type=row["record_type"],
            payload_digest=row["payload_digest"],
            content_type=row["content_type"],
            etag=row["etag"],
            last_modified=row["last_modified"],
            truncated=row["truncated"],
            ref=RecordRef(row["warc_file"], row["warc_offset"], row["warc_length"]),
            refers_to=row["refers_to"],
        )

    def last_good_capture(self, url: str) -> Capture | None:
        """The newest full (non-truncated, status 200) response record of `url`."""
        row = self.conn.execute(
            """SELECT * FROM captures WHERE url=? AND record_type='response' AND status=200 AND truncated=''
               ORDER BY id DESC LIMIT 1""",
            (url,),
        ).fetchone()
        return self._capture(row) if row else None

    def last_fetched_at(self, url: str) -> str | None:
        """When `url` last answered with its content (200, or 304 to a conditional request); None if never."""
        row = self.conn.execute(
            "SELECT fetched_at FROM captures WHERE url=? AND status IN (200, 304) AND truncated='' ORDER BY id DESC LIMIT 1",
            (url,),
        ).fetchone()
        return row["fetched_at"] if row else None

    def capture_by_digest(self, payload_digest: str) -> Capture | None:
        """The first full response record with this payload digest (for cross-URL revisits)."""
        row = self.conn.execute(
            """SELECT * FROM captures WHERE payload_digest=? AND record_type='response' AND truncated=''
               ORDER BY id LIMIT 1""",
            (payload_digest,),
        ).fetchone()
        return self._capture(row) if row else None

    def get_capture(self, capture_id: int) -> Capture | None:
        row = self.conn.execute("SELECT * FROM captures WHERE id=?", (capture_id,)).fetchone()
        return self._capture(row) if row else None

    def all_captures(self) -> Iterator[Capture]:
        for row in self.conn.execute("SELECT * FROM captures ORDER BY id"):
            yield self._capture(row)

    def current_digest(self, doc_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT v.digest FROM documents d JOIN versions v ON v.id=d.current_version WHERE d.id=?", (doc_id,)
        ).fetchone()
        return row["digest"] if row else None

    def captures_for(self, doc_id: str) -> list[Capture]:
        rows = self.conn.execute("SELECT * FROM captures WHERE doc_id=? ORDER BY id", (doc_id,)).fetchall()
        return [self._capture(r) for r in rows]

    # -- documents --------------------------------------------------------------------------------
    def _insert_attachments(self, doc_id: str, version_id: int, doc: Document) -> None:
        self.conn.executemany(
            """INSERT INTO attachments (doc_id, version_id, url, name, content_type, size, sha256, text_chars, error)
               VALUES (?,?,?,?,?,?,?,?,?)""",
            [
                (doc_id, version_id, a.url, a.name, a.content_type, a.size, a.sha256, len(a.text), a.error)
                for a in doc.attachments
            ],
        )

    def _next_seq(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM documents").fetchone()[0])

    def record_document(
        self, doc: Document, capture_id: int | None, seen_at: str | None = None, doc_id: str | None = None
    ) -> str:
        """Store an extracted document; returns "new", "changed" or "unchanged".

        Same content digest as the current version: only `last_seen` moves (the capture is linked).
        Different digest: a new version is added and the change sequence advances.
        """
        seen_at = seen_at or utcnow()
        digest = doc.content_digest()
        data = json.dumps(doc.to_dict(), ensure_ascii=False)
        doc_id = doc_id or doc.doc_id
        with self.transaction():
            row = self.conn.execute(
                "SELECT d.current_version, v.digest, d.status FROM documents d"
                " LEFT JOIN versions v ON v.id=d.current_version WHERE d.id=?",
                (doc_id,),
            ).fetchone()
            if capture_id is not None:
                self.conn.execute("UPDATE captures SET doc_id=? WHERE id=?", (doc_id, capture_id))
            if row is not None and row["digest"] == digest:
                self.conn.execute(
                    "UPDATE documents SET last_seen=?, status='active', withdrawn_at=NULL WHERE id=?", (seen_at, doc_id)
                )
                if row["status"] != "active":
                    self.conn.execute("UPDATE documents SET seq=? WHERE id=?", (self._next_seq(), doc_id))
                return "unchanged"
            seq = self._next_seq()
            if row is None:
                self.conn.execute(
                    "INSERT INTO documents (id, source_id, url, first_seen, last_seen, seq) VALUES (?,?,?,?,?,?)",
                    (doc_id, doc.source_id, doc.url, seen_at, seen_at, seq),
                )
            existing = self.conn.execute("SELECT id FROM versions WHERE doc_id=? AND digest=?", (doc_id, digest)).fetchone()
            if existing:
                version_id = existing["id"]
            else:
                version_id = self.conn.execute(
                    "INSERT INTO versions (doc_id, digest, data, first_capture, created_at) VALUES (?,?,?,?,?)",
                    (doc_id, digest, data, capture_id, seen_at),
                ).lastrowid
                self._insert_attachments(doc_id, int(version_id or 0), doc)
            self.conn.execute(
                "UPDATE documents SET current_version=?, last_seen=?, seq=?, status='active', withdrawn_at=NULL WHERE id=?",
                (version_id, seen_at, seq, doc_id),
            )
            if row is None:
                return "new"
            return "changed"

    def link_capture(self, capture_id: int, doc_id: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE captures SET doc_id=? WHERE id=?", (doc_id, capture_id))

    def mark_withdrawn(self, doc_id: str, seen_at: str | None = None) -> bool:
        """Mark a document withdrawn (gone from its listing, or 404/410) with the date first seen so."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE documents SET status='withdrawn', withdrawn_at=?, seq=? WHERE id=? AND status='active'",
                (seen_at or utcnow(), self._next_seq(), doc_id),
            )
        return cur.rowcount > 0

    def listed_documents(self, source_id: str, category: str, active_only: bool = False) -> dict[str, str]:
        """URL -> id of the documents of one source column (all of them, or only those not withdrawn)."""
        rows = self.conn.execute(
            """SELECT d.url, d.id FROM documents d JOIN versions v ON v.id=d.current_version
               WHERE d.source_id=? AND json_extract(v.data, '$.category')=?"""
            + (" AND d.status='active'" if active_only else ""),
            (source_id, category),
        ).fetchall()
        return {r["url"]: r["id"] for r in rows}

    def _stored(self, row: sqlite3.Row) -> StoredDocument:
        return StoredDocument(
            id=row["id"],
            doc=Document.from_dict(json.loads(row["data"])),
            status=row["status"],
            withdrawn_at=row["withdrawn_at"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            version_count=row["version_count"],
            seq=row["seq"],
        )

    _SELECT = """SELECT d.*, v.data, (SELECT COUNT(*) FROM versions x WHERE x.doc_id=d.id) AS version_count
                 FROM documents d JOIN versions v ON v.id=d.current_version"""

    def get(self, doc_id: str) -> StoredDocument | None:
        row = self.conn.execute(self._SELECT + " WHERE d.id=?", (doc_id,)).fetchone()
        return self._stored(row) if row else None

    def iter_documents(
        self, since_seq: int = 0, source_id: str | None = None, until_seq: int | None = None
    ) -> Iterator[StoredDocument]:
        """Documents with since_seq < seq (≤ until_seq), in sequence order."""
        sql = self._SELECT + " WHERE d.seq > ?"
        params: list[Any] = [since_seq]
        if until_seq is not None:
            sql += " AND d.seq <= ?"
            params.append(until_seq)
        if source_id:
            sql += " AND d.source_id=?"
            params.append(source_id)
        for row in self.conn.execute(sql + " ORDER BY d.seq", params):
            yield self._stored(row)

    def seq_cuts(self, parts: int) -> list[int]:
        """Sequence numbers splitting the documents into `parts` ranges (cuts[k], cuts[k+1]] of equal size."""
        total = self.count()
        cuts = [0]
        for k in range(1, parts):
            row = self.conn.execute(
                "SELECT seq FROM documents ORDER BY seq LIMIT 1 OFFSET ?", (max(0, total * k // parts - 1),)
            ).fetchone()
            cuts.append(max(cuts[-1], int(row[0]) if row else 0))
        cuts.append(max(cuts[-1], self.max_seq()))
        return cuts

    def count(self, source_id: str | None = None) -> int:
        if source_id:
            return int(self.conn.execute("SELECT COUNT(*) FROM documents WHERE source_id=?", (source_id,)).fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def max_seq(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM documents").fetchone()[0])

    def versions(self, doc_id: str) -> list[tuple[str, Document]]:
        """(time first captured, document) of each version, oldest first."""
        rows = self.conn.execute(
            """SELECT COALESCE(c.fetched_at, v.created_at) AS seen, v.data FROM versions v
               LEFT JOIN captures c ON c.id=v.first_capture WHERE v.doc_id=? ORDER BY v.id""",
            (doc_id,),
        ).fetchall()
        return [(r["seen"], Document.from_dict(json.loads(r["data"]))) for r in rows]
