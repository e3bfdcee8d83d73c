"""Group commit: one transaction (and one fsync of the WARC files before it) per batch of writes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.catalog import Catalog


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
