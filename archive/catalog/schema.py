"""The catalog's tables and the migrations that bring an older catalog file up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

SCHEMA_VERSION = 6

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
    # 4 created the annual-report table, which now belongs to the reports package (a schema part, see 5).
    4: "",
    5: """
    CREATE TABLE schema_parts (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
    INSERT INTO schema_parts (name, version)
        SELECT 'reports', 1 FROM sqlite_master WHERE type = 'table' AND name = 'annual_reports';
    """,
    # 6 keeps list and URL dates apart from 发布日期: versions are rewritten by Catalog._separate_listed_dates.
    6: "",
}


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute a migration's statements one by one (inside the caller's transaction, unlike executescript)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


@dataclass(frozen=True)
class SchemaPart:
    """Tables another package keeps in the catalog, with numbered migrations of their own.

    The package owning them declares one `SchemaPart` and passes it to `Catalog.ensure_part`; the
    catalog records each part's version in `schema_parts`, as it records its own in `user_version`.
    """

    name: str
    migrations: Mapping[int, str]

    @property
    def version(self) -> int:
        return max(self.migrations)
