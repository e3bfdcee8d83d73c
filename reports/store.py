"""The annual-report figures in the catalog: a table of the reports package's own, replaced by each extraction."""

from __future__ import annotations

import json
from typing import Any

from archive.catalog import Catalog, SchemaPart, utcnow

PART = SchemaPart(
    "reports",
    {
        1: """
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
    },
)

_JSON_COLUMNS = ("figures", "checks", "problems")


def replace_reports(catalog: Catalog, rows: list[dict[str, Any]]) -> None:
    """Store the extracted reports, replacing the previous extraction in one transaction."""
    catalog.ensure_part(PART)
    with catalog.transaction():
        catalog.conn.execute("DELETE FROM annual_reports")
        catalog.conn.executemany(
            """INSERT INTO annual_reports (doc_id, agency, year, title, format, figures, checks, problems, extracted_at)
               VALUES (:doc_id, :agency, :year, :title, :format, :figures, :checks, :problems, :extracted_at)""",
            [
                {**row, **{k: json.dumps(row[k], ensure_ascii=False) for k in _JSON_COLUMNS}, "extracted_at": utcnow()}
                for row in rows
            ],
        )


def stored_reports(
    catalog: Catalog, agency: str | None = None, year: int | None = None, doc_id: str | None = None
) -> list[dict[str, Any]]:
    """The stored reports matching the filters, by agency and year; none before the first extraction."""
    if not catalog.ensure_part(PART):
        return []
    sql, args = "SELECT * FROM annual_reports WHERE 1=1", list[Any]()
    if doc_id is not None:
        sql, args = sql + " AND doc_id=?", [*args, doc_id]
    if agency is not None:
        sql, args = sql + " AND agency=?", [*args, agency]
    if year is not None:
        sql, args = sql + " AND year=?", [*args, year]
    rows = catalog.conn.execute(sql + " ORDER BY agency, year, doc_id", args).fetchall()
    return [dict(r, **{k: json.loads(r[k]) for k in _JSON_COLUMNS}) for r in rows]
