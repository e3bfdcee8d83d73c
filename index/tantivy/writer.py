"""Build the tantivy index from the catalog: a rebuild into a new directory then the swap, or a sync.

A rebuild analyses documents in forked workers (segmentation is the bound, one core each) and adds
them in the parent, where tantivy's own threads index them. Every write takes the index lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import tantivy

from archive.catalog import Catalog
from archive.locks import index_lock
from archive.settings import Settings
from index import analysis, dictionary
from index.build import INDEX_LOCK_WAIT_S, SyncPlan, document_fields, new_build, read_meta
from index.errors import IndexMissingError
from index.tantivy.schema import SCHEMA_VERSION, analysed, build_schema, to_document

log = logging.getLogger(__name__)

BATCH = 500  # documents a worker analyses per task
PARALLEL_FROM = 2000
BACKEND = "tantivy"


def check_index(index_dir: Path) -> dict[str, Any]:
    """The index's meta, or IndexMissingError telling the user to run `xxgk reindex`."""
    meta = read_meta(index_dir)
    if not index_dir.exists() or meta.get("backend") != BACKEND or not tantivy.Index.exists(str(index_dir)):
        raise IndexMissingError(f"no tantivy search index at {index_dir}", "run `xxgk reindex` to build it from the archive")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise IndexMissingError(
            f"search index at {index_dir} has schema {meta.get('schema_version')!r}, this program needs {SCHEMA_VERSION!r}",
            "run `xxgk reindex` to rebuild it from the archive",
        )
    return meta


# -- parallel analysis --------------------------------------------------------------------------------
_job: dict[str, Any] = {}  # set in the parent before the fork; each worker reads it (and opens its own catalog)


def _analyse_range(bounds: tuple[int, int]) -> list[dict[str, Any]]:
    lo, hi = bounds
    catalog = _job.get("catalog")
    if catalog is None or _job.get("pid") != os.getpid():
        catalog = _job["catalog"] = Catalog(_job["path"], readonly=True)
        _job["pid"] = os.getpid()
    derived, dict_id = _job["derived"], _job["dict_id"]
    return [analysed(document_fields(s, derived), dict_id) for s in catalog.iter_documents(since_seq=lo, until_seq=hi)]


def _ranges(catalog: Catalog, total: int, last_seq: int) -> list[tuple[int, int]]:
    cuts = catalog.seq_cuts(max(1, -(-total // BATCH)))
    cuts.append(last_seq)
    return [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1) if cuts[k + 1] > cuts[k]]


def _analysed_documents(
    catalog: Catalog, derived: Mapping[str, tuple[str, str]], dict_id: str, last_seq: int
) -> Iterator[list[dict[str, Any]]]:
    """Batches of analysed documents in catalog order: forked workers for a large catalog, else here."""
    total = catalog.count()
    workers = min(2, len(os.sched_getaffinity(0))) if total >= PARALLEL_FROM else 1
    if workers == 1:
        batch: list[dict[str, Any]] = []
        for stored in catalog.iter_documents(until_seq=last_seq):
            batch.append(analysed(document_fields(stored, derived), dict_id))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    _job.clear()
    _job.update(path=catalog.path, derived=derived, dict_id=dict_id)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_analyse_range, _ranges(catalog, total, last_seq))
    _job.clear()


# -- rebuild and sync ---------------------------------------------------------------------------------
def rebuild(settings: Settings, catalog: Catalog, progress: Callable[[int], None] | None = None) -> int:
    """Build a fresh index of every catalog document into a new directory, then swap it in."""
    with index_lock(settings.data_path).acquire(wait_s=INDEX_LOCK_WAIT_S):
        return _rebuild(settings, catalog, progress)


def _rebuild(settings: Settings, catalog: Catalog, progress: Callable[[int], None] | None) -> int:
    log.info("tantivy index rebuild started")
    analysis.configure(settings.cache_dir)
    with new_build(settings, catalog, {"backend": BACKEND, "schema_version": SCHEMA_VERSION}) as build:
        ix = tantivy.Index(build_schema(), path=str(build.dir))
        writer = ix.writer(heap_size=settings.index_writer_mb << 20, num_threads=1)
        for batch in _analysed_documents(catalog, build.derived, build.dict_id, build.seq):
            for values in batch:
                writer.add_document(to_document(values))
            build.count += len(batch)
            if progress is not None:
                progress(build.count)
        writer.commit()
        writer.wait_merging_threads()
    log.info("tantivy index rebuilt: %d documents in %s", build.count, build.dir.name)
    return build.count


def sync(settings: Settings, catalog: Catalog) -> int:
    """Apply catalog changes since the index's recorded sequence; rebuild when there is no usable index."""
    with index_lock(settings.data_path).acquire(wait_s=INDEX_LOCK_WAIT_S):
        analysis.configure(settings.cache_dir)
        index_dir = settings.index_path
        try:
            meta = check_index(index_dir)
        except IndexMissingError:
            return _rebuild(settings, catalog, None)
        dict_id = dictionary.load(index_dir.resolve())
        plan = SyncPlan.of(catalog, meta)
        ix = tantivy.Index.open(str(index_dir.resolve()))
        writer = ix.writer(heap_size=min(settings.index_writer_mb, 256) << 20, num_threads=1)
        try:
            for stored in plan.documents:
                writer.delete_documents_by_term("id", stored.id)
                writer.add_document(to_document(analysed(document_fields(stored, plan.derived), dict_id)))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        plan.record(index_dir.resolve(), meta, catalog)
        changed = len(plan.documents)
        log.info("tantivy index synced: %d documents updated", changed)
        return changed
