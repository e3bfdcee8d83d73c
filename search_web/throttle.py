"""Failed staff logins per client address, kept in the catalog so that every web worker sees them."""

from __future__ import annotations

import time
from pathlib import Path

from archive.catalog import Catalog, SchemaPart

PART = SchemaPart(
    "admin_logins",
    {
        1: """
        CREATE TABLE login_failures (client TEXT NOT NULL, at REAL NOT NULL);
        CREATE INDEX login_failures_client ON login_failures (client, at);
        """
    },
)
WINDOW_S = 300
ATTEMPTS = 5


def wait_s(catalog: Catalog, client: str, now: float | None = None) -> float:
    """Seconds until `client` may try a password again (0 when it may): ATTEMPTS failures within
    WINDOW_S lock it out until the oldest of them leaves the window."""
    if not catalog.ensure_part(PART):
        return 0.0  # no failure was ever recorded (the table does not exist yet)
    now = time.time() if now is None else now
    rows = catalog.conn.execute(
        "SELECT at FROM login_failures WHERE client=? AND at>? ORDER BY at", (client, now - WINDOW_S)
    ).fetchall()
    if len(rows) < ATTEMPTS:
        return 0.0
    return max(0.0, float(rows[-ATTEMPTS][0]) + WINDOW_S - now)


def record_failure(catalog_path: Path, client: str, now: float | None = None) -> None:
    """Note one failed login of `client` (and forget failures older than the window)."""
    now = time.time() if now is None else now
    with Catalog(catalog_path) as catalog:
        catalog.ensure_part(PART)
        with catalog.transaction():
            catalog.conn.execute("DELETE FROM login_failures WHERE at<?", (now - WINDOW_S,))
            catalog.conn.execute("INSERT INTO login_failures (client, at) VALUES (?, ?)", (client, now))
