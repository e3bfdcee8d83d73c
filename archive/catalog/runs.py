"""Crawl runs, crawl-now requests and heartbeats: what the scheduler, the CLI and the staff pages share."""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from typing import Any

from archive.catalog.clock import utcnow


class _Connected:
    """What the mixins below need of the catalog: its connection and its transactions."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError


class RunsMixin(_Connected):
    """Crawl runs, requests and heartbeats."""

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
