"""Build the Whoosh index from the catalog: full rebuild into a new directory then an atomic swap, or sync."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from archive.catalog import Catalog
from archive.locks import index_lock
from archive.settings import Settings
from index import analysis, dictionary
from index.build import INDEX_LOCK_WAIT_S, SyncPlan, checked_meta, document_fields, new_build, no_index
from index.errors import IndexMissingError
from index.whoosh import bulk
from index.whoosh.codec import codec
from index.whoosh.schema import SCHEMA_VERSION, build_schema

log = logging.getLogger(__name__)

PARALLEL_FROM = 2000


def check_index(index_dir: Path) -> dict[str, Any]:
    """The index's meta, or IndexMissingError telling the user to run `xxgk reindex`."""
    try:
        exists = whoosh_index.exists_in(str(index_dir))  # reads the stored schema too
    except _UNREADABLE as exc:
        raise _unreadable(index_dir, exc) from exc
    if not exists:
        raise no_index(index_dir)
    return checked_meta(index_dir, SCHEMA_VERSION)


def open_index(index_dir: Path, mmap: bool = True) -> Any:
    """The Whoosh index in `index_dir`; IndexMissingError (rebuild it) when its stored schema cannot be read.

    Whoosh pickles the schema into the index, naming the classes of our fields: an index written by a
    version of this program whose classes lived elsewhere cannot be opened, only rebuilt.
    """
    from whoosh.filedb.filestore import FileStorage

    try:
        return FileStorage(str(index_dir), supports_mmap=mmap).open_index()
    except _UNREADABLE as exc:
        raise _unreadable(index_dir, exc) from exc


_UNREADABLE = (ImportError, AttributeError, pickle.UnpicklingError)


def _unreadable(index_dir: Path, exc: Exception) -> IndexMissingError:
    return IndexMissingError(
        f"{index_dir} 的检索索引由其他版本的程序写入，无法读取（{exc}）",
        "运行 `xxgk reindex` 从存档重建索引",
    )


def rebuild(settings: Settings, catalog: Catalog, progress: Callable[[int], None] | None = None) -> int:
    """Build a fresh index from every catalog document into a new directory, then swap it in."""
    with index_lock(settings.data_path).acquire(wait_s=INDEX_LOCK_WAIT_S):
        return _rebuild(settings, catalog, progress)


def _rebuild(settings: Settings, catalog: Catalog, progress: Callable[[int], None] | None = None) -> int:
    log.info("index rebuild started")
    analysis.configure(settings.cache_dir)
    with new_build(settings, catalog, {"backend": "whoosh", "schema_version": SCHEMA_VERSION}) as build:
        ix = whoosh_index.create_in(str(build.dir), build_schema(build.dict_id))
        # Forked workers (they inherit the loaded dictionaries) each index a range of the catalog
        # into segments of their own; the segments are committed together.
        cuts = catalog.seq_cuts(bulk.worker_count(catalog.count(), PARALLEL_FROM))
        cuts[-1] = build.seq
        derived = build.derived
        parent = os.getpid()

        def documents(lo: int, hi: int) -> Iterator[dict[str, Any]]:
            # A forked worker opens its own connection; in this process the caller's catalog is used.
            source = contextlib.nullcontext(catalog) if os.getpid() == parent else Catalog(catalog.path, readonly=True)
            with source as part:
                yield from (document_fields(s, derived) for s in part.iter_documents(since_seq=lo, until_seq=hi))

        build.count = bulk.build(ix, documents, cuts, settings.index_writer_mb, progress)
        ix.close()
    log.info("index rebuilt: %d documents in %s", build.count, build.dir.name)
    return build.count


def sync(settings: Settings, catalog: Catalog) -> int:
    """Apply catalog changes since the index's recorded sequence; rebuild when there is no usable index.

    Every index writer (scheduler, `crawl`, `reindex`, `import`) takes the index lock first, so one
    writes at a time across processes and threads.
    """
    with index_lock(settings.data_path).acquire(wait_s=INDEX_LOCK_WAIT_S):
        return _sync(settings, catalog)


def _sync(settings: Settings, catalog: Catalog) -> int:
    analysis.configure(settings.cache_dir)
    index_dir = settings.index_path
    try:
        meta = check_index(index_dir)
        dictionary.load(index_dir.resolve())
        # Without mmap, as the engine reads: the writer's deletions open every segment's term files,
        # and through a mapping Whoosh copies each whole into memory (2 s for a sync of 100 at 100k).
        ix = open_index(index_dir, mmap=False)
    except IndexMissingError:
        return _rebuild(settings, catalog)
    log.info("index sync started: catalog changes after %s", meta.get("catalog_seq", 0))
    plan = SyncPlan.of(catalog, meta)
    try:
        with ix.writer(limitmb=min(settings.index_writer_mb, 256), codec=codec()) as writer:
            for stored in plan.documents:
                writer.update_document(**document_fields(stored, plan.derived))
    finally:
        ix.close()
    plan.record(index_dir.resolve(), meta, catalog)
    changed = len(plan.documents)
    log.info("index synced: %d documents updated", changed)
    return changed
