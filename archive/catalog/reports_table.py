"""The annual-report figures (derived data, replaced as a whole by each extraction)."""

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


class ReportsMixin(_Connected):
    """The annual_reports table."""

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
