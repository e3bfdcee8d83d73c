"""SQLite catalog: documents, versions, captures, attachments and crawl runs, with a change sequence."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError
from archive.models import Document, RecordRef

SCHEMA_VERSION = 4

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        url TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        withdrawn_at TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        current_version INTEGER,
        seq INTEGER NOT NULL,
        UNIQUE (source_id, url)
    );
    CREATE INDEX documents_seq ON documents (seq);
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents (id),
        digest TEXT NOT NULL,
        data TEXT NOT NULL,
        first_capture INTEGER,
        created_at TEXT NOT NULL,
        UNIQUE (doc_id, digest)
    );
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        run_id INTEGER,
        doc_id TEXT,
        url TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        status INTEGER NOT NULL,
        record_type TEXT NOT NULL,
        payload_digest TEXT NOT NULL,
        content_type TEXT NOT NULL DEFAULT '',
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        truncated TEXT NOT NULL DEFAULT '',
        warc_file TEXT NOT NULL,
        warc_offset INTEGER NOT NULL,
        warc_length INTEGER NOT NULL,
        refers_to INTEGER REFERENCES captures (id)
    );
    CREATE INDEX captures_url ON captures (url);
    CREATE INDEX captures_digest ON captures (payload_digest);
    CREATE INDEX captures_doc ON captures (doc_id);
    CREATE TABLE crawl_runs (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        report TEXT
    );
    """,
    2: """
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents (id),
        version_id INTEGER NOT NULL REFERENCES versions (id),
        url TEXT NOT NULL,
        name TEXT NOT NULL,
        content_type TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        sha256 TEXT NOT NULL DEFAULT '',
        text_chars INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX attachments_doc ON attachments (doc_id);
    CREATE INDEX attachments_url ON attachments (url);
    """,
    3: """
    ALTER TABLE crawl_runs ADD COLUMN error TEXT NOT NULL DEFAULT '';
    ALTER TABLE crawl_runs ADD COLUMN trigger TEXT NOT NULL DEFAULT '';
    ALTER TABLE crawl_runs ADD COLUMN log_file TEXT NOT NULL DEFAULT '';
    CREATE INDEX crawl_runs_source ON crawl_runs (source_id, id);
    CREATE TABLE crawl_requests (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        requested_by TEXT NOT NULL DEFAULT '',
        taken_at TEXT
    );
    CREATE TABLE heartbeats (
        name TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at TEXT NOT NULL,
        beat_at TEXT NOT NULL,
        info TEXT NOT NULL DEFAULT '{}'
    );
    """,
    4: """
    CREATE TABLE annual_reports (
        doc_id TEXT PRIMARY KEY REFERENCES documents (id),
        agency TEXT NOT NULL,
        year INTEGER NOT NULL,
        title TEXT NOT NULL,
        format TEXT NOT NULL,
        figures TEXT NOT NULL,
        checks TEXT NOT NULL,
        problems TEXT NOT NULL,
        extracted_at TEXT NOT NULL
    );
    CREATE INDEX annual_reports_agency ON annual_reports (agency, year);
    """,
}


def utcnow() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def parse_time(text: str) -> datetime:
    """A catalog timestamp (ISO 8601, UTC when it has no offset)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def beat_age_s(beat: dict[str, Any] | None) -> float | None:
    """Seconds since a heartbeat; None when there never was one or its process stopped cleanly."""
    if not beat or beat["info"].get("stopped_at"):
        return None
    return (datetime.now(UTC) - parse_time(beat["beat_at"])).total_seconds()


def is_alive(beat: dict[str, Any] | None, poll_s: float) -> bool:
    """Whether a heartbeat is recent: at most three poll periods (plus slack) old."""
    age = beat_age_s(beat)
    return age is not None and age <= 3 * poll_s + 5


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


class Batch:
    """An open group commit of a Catalog (see `Catalog.batch`).

    The transaction starts with the first write (BEGIN IMMEDIATE, so a writer waits for the lock
    instead of failing on a stale snapshot) and lasts until `flush()` or an old enough `checkpoint()`.
    """

    def __init__(self, catalog: Catalog, before_commit: Callable[[], None], max_age_s: float) -> None:
        self._catalog = catalog
        self._before_commit = before_commit
        self.max_age_s = max_age_s
        self.started = 0.0

    def begin(self) -> None:
        """Called by the catalog at the first write after a commit."""
        self._catalog.conn.execute("BEGIN IMMEDIATE")
        self._catalog._depth = 1
        self.started = time.monotonic()

    def flush(self) -> None:
        """Commit what was written (after `before_commit`); the next write starts a new transaction."""
        conn = self._catalog.conn
        if not conn.in_transaction:
            return
        try:
            self._before_commit()
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            self._catalog._depth = 0

    def checkpoint(self) -> None:
        """Commit if the transaction is older than `max_age_s`."""
        if self._catalog.conn.in_transaction and time.monotonic() - self.started >= self.max_age_s:
            self.flush()


class Catalog:
    """The SQLite catalog; one connection per object, not shared across threads."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self._depth = 0
        self._batch: Batch | None = None
        if readonly:
            if not self.path.exists():
                raise ArchiveError(f"catalog {self.path} does not exist", "run `xxgk crawl --all` or `xxgk demo` first")
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self._migrate()
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys=ON")
        if readonly:
            self._check_version()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all.

        A nested use is a savepoint: if it fails, its own writes are undone and the outer transaction
        (or batch) keeps the rest.
        """
        if not self._depth and self._batch is not None:
            self._batch.begin()  # the batch's transaction; this block is a savepoint inside it
        if self._depth:
            self._depth += 1
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self._depth = 1
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()
        finally:
            self._depth = 0

    @contextmanager
    def batch(self, before_commit: Callable[[], None], max_age_s: float) -> Iterator[Batch]:
        """Group commit for a crawl: writes inside share one transaction, committed by
        `Batch.checkpoint()` once it is `max_age_s` old, by `Batch.flush()`, and at the end, also
        when the block fails (every write inside is a complete step of its own). `before_commit`
        runs before each commit (the WARC fsync).
        """
        if self._depth or self._batch is not None:
            raise ArchiveError("a batch cannot be nested in a transaction")
        batch = Batch(self, before_commit, max_age_s)
        self._batch = batch
        try:
            yield batch
        finally:
            self._batch = None
            batch.flush()

    # -- schema -------------------------------------------------------------------------------
    def _version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        if self._version() != SCHEMA_VERSION:
            raise ArchiveError(
                f"catalog schema version {self._version()} differs from {SCHEMA_VERSION}",
                "run any writing command (e.g. `xxgk crawl`) once to migrate it",
            )

    def _migrate(self) -> None:
        current = self._version()
        if current > SCHEMA_VERSION:
            raise ArchiveError(
                f"catalog schema version {current} is newer than this program ({SCHEMA_VERSION})", "upgrade xxgk-archive"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                if version == 2:
                    self._backfill_attachments()
                self.conn.execute(f"PRAGMA user_version={version}")

    def _backfill_attachments(self) -> None:
        rows = self.conn.execute("SELECT id, doc_id, data FROM versions").fetchall()
        for version_id, doc_id, data in rows:
            self._insert_attachments(doc_id, version_id, Document.from_dict(json.loads(data)))

    def _insert_attachments(self, doc_id: str, version_id: int, doc: Document) -> None:
        self.conn.executemany(
            """INSERT INTO attachments (doc_id, version_id, url, name, content_type, size, sha256, text_chars, error)
               VALUES (?,?,?,?,?,?,?,?,?)""",
            [
                (doc_id, version_id, a.url, a.name, a.content_type, a.size, a.sha256, len(a.text), a.error)
                for a in doc.attachments
            ],
        )

    # -- crawl runs -------------------------------------------------------------------------------
    def begin_run(self, source_id: str, trigger: str = "manual") -> int:
        """Start a run; runs of this source still marked running were cut short (killed process).

        Call it only while holding the source's crawl lock (see `crawler.run`), so that a run marked
        running by another live process is never taken for a dead one.
        """
        with self.transaction():
            self.conn.execute(
                "UPDATE crawl_runs SET status='interrupted', finished_at=? WHERE source_id=? AND status='running'",
                (utcnow(), source_id),
            )
            cur = self.conn.execute(
                "INSERT INTO crawl_runs (source_id, started_at, trigger) VALUES (?, ?, ?)", (source_id, utcnow(), trigger)
            )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, report: dict[str, Any], error: str = "", log_file: str = "") -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE crawl_runs SET finished_at=?, status=?, report=?, error=?, log_file=? WHERE id=?",
                (utcnow(), status, json.dumps(report, ensure_ascii=False), error, log_file, run_id),
            )

    def runs(self, source_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM crawl_runs" + (" WHERE source_id=?" if source_id else "") + " ORDER BY id"
        rows = self.conn.execute(sql, (source_id,) if source_id else ()).fetchall()
        return [dict(r, report=json.loads(r["report"]) if r["report"] else None) for r in rows]

    def last_run(self, source_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM crawl_runs WHERE source_id=? ORDER BY id DESC LIMIT 1", (source_id,)).fetchone()
        return dict(row, report=json.loads(row["report"]) if row["report"] else None) if row else None

    def consecutive_failures(self, source_id: str) -> int:
        """How many of the source's latest runs failed in a row."""
        count = 0
        for row in self.conn.execute("SELECT status FROM crawl_runs WHERE source_id=? ORDER BY id DESC LIMIT 50", (source_id,)):
            if row["status"] != "failed":
                break
            count += 1
        return count

    # -- annual reports (derived data, replaced as a whole by `xxgk reports extract`) -----------------
    def replace_reports(self, rows: list[dict[str, Any]]) -> None:
        """Store the extracted reports, replacing the previous extraction in one transaction."""
        with self.transaction():
            self.conn.execute("DELETE FROM annual_reports")
            self.conn.executemany(
                """INSERT INTO annual_reports (doc_id, agency, year, title, format, figures, checks, problems, extracted_at)
                   VALUES (:doc_id, :agency, :year, :title, :format, :figures, :checks, :problems, :extracted_at)""",
                [
                    {
                        **row,
                        **{k: json.dumps(row[k], ensure_ascii=False) for k in ("figures", "checks", "problems")},
                        "extracted_at": utcnow(),
                    }
                    for row in rows
                ],
            )

    def reports(self, agency: str | None = None, year: int | None = None, doc_id: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM annual_reports WHERE 1=1", list[Any]()
        if doc_id is not None:
            sql, args = sql + " AND doc_id=?", [*args, doc_id]
        if agency is not None:
            sql, args = sql + " AND agency=?", [*args, agency]
        if year is not None:
            sql, args = sql + " AND year=?", [*args, year]
        rows = self.conn.execute(sql + " ORDER BY agency, year, doc_id", args).fetchall()
        return [dict(r, **{k: json.loads(r[k]) for k in ("figures", "checks", "problems")}) for r in rows]

    # -- requests and heartbeats (web and CLI -> scheduler) ----------------------------------------
    def request_crawl(self, source_id: str, requested_by: str) -> int:
        """File a "crawl now" request for the scheduler process to pick up."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO crawl_requests (source_id, requested_at, requested_by) VALUES (?,?,?)",
                (source_id, utcnow(), requested_by),
            )
        return int(cur.lastrowid or 0)

    def take_requests(self) -> list[str]:
        """Source ids with open requests, marking them taken (several requests for one source count once)."""
        with self.transaction():
            rows = self.conn.execute("SELECT DISTINCT source_id FROM crawl_requests WHERE taken_at IS NULL").fetchall()
            self.conn.execute("UPDATE crawl_requests SET taken_at=? WHERE taken_at IS NULL", (utcnow(),))
        return [r["source_id"] for r in rows]

    def pending_requests(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM crawl_requests WHERE taken_at IS NULL ORDER BY id")]

    def beat(self, name: str, pid: int, host: str, started_at: str, info: dict[str, Any]) -> None:
        with self.transaction():
            self.conn.execute(
                """INSERT INTO heartbeats (name, pid, host, started_at, beat_at, info) VALUES (?,?,?,?,?,?)
                   ON CONFLICT (name) DO UPDATE SET pid=excluded.pid, host=excluded.host,
                   started_at=excluded.started_at, beat_at=excluded.beat_at, info=excluded.info""",
                (name, pid, host, started_at, utcnow(), json.dumps(info, ensure_ascii=False)),
            )

    def heartbeat(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM heartbeats WHERE name=?", (name,)).fetchone()
        return dict(row, info=json.loads(row["info"])) if row else None

    # -- captures ---------------------------------------------------------------------------------
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


__all__ = ["Capture", "Catalog", "SCHEMA_VERSION", "StoredDocument", "utcnow"]
