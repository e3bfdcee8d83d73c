"""SQLite catalog: documents, versions, captures, attachments and crawl runs, with a change sequence.

The `Catalog` class composes one mixin per group of tables (documents and captures, runs and
heartbeats, schema parts) with the connection, transactions and migrations kept here. Other
packages keep tables of their own here through `Catalog.ensure_part` (see `SchemaPart`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.catalog.batch import Batch
from archive.catalog.clock import beat_age_s, is_alive, parse_time, utcnow
from archive.catalog.documents import DocumentsMixin
from archive.catalog.parts import PartsMixin
from archive.catalog.records import Capture, StoredDocument
from archive.catalog.runs import RunsMixin
from archive.catalog.schema import _MIGRATIONS, SCHEMA_VERSION, SchemaPart, run_script
from archive.errors import ArchiveError
from archive.models import Document


class Catalog(DocumentsMixin, RunsMixin, PartsMixin):
    """The SQLite catalog; one connection per object, not shared across threads."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
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
            with self.transaction():  # holds the write lock: another process migrating waits here
                if self._version() >= version:  # it migrated this step while we read the old version
                    continue
                run_script(self.conn, _MIGRATIONS[version])
                if version == 2:
                    self._backfill_attachments()
                if version == 6:
                    self._separate_listed_dates()
                self.conn.execute(f"PRAGMA user_version={version}")

    def _backfill_attachments(self) -> None:
        rows = self.conn.execute("SELECT id, doc_id, data FROM versions").fetchall()
        for version_id, doc_id, data in rows:
            self._insert_attachments(doc_id, version_id, Document.from_dict(json.loads(data)))

    def _separate_listed_dates(self) -> None:
        """Versions whose 发布日期 was only a list or URL date now keep it as 列表日期 (digest recomputed).

        `Document.from_dict` reads the old form the new way; this stores it so, so that a recrawl of an
        unchanged page finds the same digest. A rewrite that would equal another version is left as is.
        """
        rows = self.conn.execute(
            "SELECT id, doc_id, data FROM versions WHERE json_extract(data, '$.date_source') IN ('list', 'url')"
        ).fetchall()
        for version_id, doc_id, data in rows:
            doc = Document.from_dict(json.loads(data))
            digest = doc.content_digest()
            if self.conn.execute("SELECT 1 FROM versions WHERE doc_id=? AND digest=?", (doc_id, digest)).fetchone():
                continue
            self.conn.execute(
                "UPDATE versions SET data=?, digest=? WHERE id=?",
                (json.dumps(doc.to_dict(), ensure_ascii=False), digest, version_id),
            )


__all__ = [
    "Batch",
    "Capture",
    "Catalog",
    "SCHEMA_VERSION",
    "SchemaPart",
    "StoredDocument",
    "_MIGRATIONS",
    "beat_age_s",
    "is_alive",
    "parse_time",
    "utcnow",
]
