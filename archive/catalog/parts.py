"""Schema parts: tables other packages keep in the catalog, migrated through one hook."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager

from archive.catalog.schema import SchemaPart, run_script
from archive.errors import ArchiveError


class PartsMixin:
    """`ensure_part`, the hook through which a package brings its own tables up to date."""

    conn: sqlite3.Connection
    readonly: bool

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def part_version(self, name: str) -> int:
        """The version of part `name` in this catalog file; 0 when it was never created."""
        row = self.conn.execute("SELECT version FROM schema_parts WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def ensure_part(self, part: SchemaPart) -> bool:
        """Apply the part's missing migrations (a writable catalog); whether its tables are current and usable.

        A read-only catalog never migrates: it answers False while a writer has not yet created or
        upgraded the part, so readers show "nothing yet" instead of failing on a missing table.
        """
        current = self.part_version(part.name)
        if current > part.version:
            raise ArchiveError(
                f"catalog part {part.name!r} is at version {current}, newer than this program ({part.version})",
                "upgrade xxgk-archive",
            )
        if current == part.version:
            return True
        if self.readonly:
            return False
        for version in range(current + 1, part.version + 1):
            with self.transaction():  # holds the write lock: another process migrating waits here
                if self.part_version(part.name) >= version:  # it migrated this step while we read the old version
                    continue
                run_script(self.conn, part.migrations[version])
                self.conn.execute(
                    "INSERT INTO schema_parts (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = ?",
                    (part.name, version, version),
                )
        return True
