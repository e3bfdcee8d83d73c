"""Build the tantivy index from the catalog: a rebuild into a new directory then the swap, or a sync.

A rebuild of a large catalog runs in forked processes, one per core, each analysing and indexing its
own range of the catalog into an index of its own; `index.tantivy.layout` then joins their segments
into the new index. Every write takes the index lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import tantivy

from archive.catalog import Catalog
from archive.locks import index_lock
from archive.settings import Settings
from index import analysis, dictionary
from index.build import INDEX_LOCK_WAIT_S, Build, SyncPlan, checked_meta, document_fields, new_build, no_index, read_meta
from index.errors import EngineError, IndexMissingError
from index.tantivy import layout
from index.tantivy.schema import SCHEMA_VERSION, analysed, build_schema, last_written, to_document

log = logging.getLogger(__name__)

BATCH = 500  # documents between progress reports
PARALLEL_FROM = 2000  # from this many documents, a rebuild indexes in parts, one process per core
MAX_PARTS = 8
BACKEND = "tantivy"


def check_index(index_dir: Path) -> dict[str, Any]:
    """The index's meta, or IndexMissingError telling the user to run `xxgk reindex`."""
    if not index_dir.exists() or read_meta(index_dir).get("backend") != BACKEND or not tantivy.Index.exists(str(index_dir)):
        raise no_index(index_dir, "tantivy")
    return checked_meta(index_dir, SCHEMA_VERSION)


# -- a rebuild in parts ------------------------------------------------------------------------------
_job: dict[str, Any] = {}  # set in the parent before the fork; each part's process reads it


def _workers(total: int) -> int:
    return min(MAX_PARTS, len(os.sched_getaffinity(0))) if total >= PARALLEL_FROM else 1


def _add_range(writer: Any, catalog: Catalog, build: Build, lo: int, hi: int, added: Callable[[int], None]) -> int:
    """Analyse and add the catalog documents of seqs (lo, hi]; `added` hears every BATCH."""
    derived, dict_id = build.derived, build.dict_id
    count = pending = 0
    for stored in catalog.iter_documents(since_seq=lo, until_seq=hi):
        writer.add_document(to_document(analysed(document_fields(stored, derived), dict_id)))
        count += 1
        pending += 1
        if pending == BATCH:
            added(pending)
            pending = 0
    added(pending)
    return count


def _build_part(part_dir: Path, lo: int, hi: int, queue: Any) -> None:
    """In a forked process: index seqs (lo, hi] into a tantivy index of its own, telling the parent."""
    try:
        part_dir.mkdir()
        with Catalog(_job["path"], readonly=True) as catalog:
            writer = tantivy.Index(build_schema(), path=str(part_dir)).writer(heap_size=_job["heap"], num_threads=1)
            _add_range(writer, catalog, _job["build"], lo, hi, lambda n: queue.put(("added", n)))
            writer.commit()
            writer.wait_merging_threads()
        queue.put(("done", 0))
    except BaseException as exc:  # the parent turns it into the rebuild's error
        queue.put(("failed", f"{type(exc).__name__}: {exc}"))


def _index_in_parts(catalog: Catalog, build: Build, heap: int, workers: int, progress: Callable[[int], None] | None) -> int:
    """Index the catalog in `workers` forked processes, each its own range of seqs into its own
    index (segmentation and tantivy's indexing both take a core each document), then join them."""
    cuts = catalog.seq_cuts(workers)
    cuts[-1] = build.seq
    ranges = [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1) if cuts[k + 1] > cuts[k]]
    parts = [build.dir / f"part-{k}" for k in range(len(ranges))]
    _job.clear()
    _job.update(path=catalog.path, build=build, heap=heap)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_build_part, args=(part, lo, hi, queue), daemon=True)
        for part, (lo, hi) in zip(parts, ranges, strict=True)
    ]
    try:
        for proc in procs:
            proc.start()
        count = finished = 0
        while finished < len(procs):
            try:
                kind, value = queue.get(timeout=1.0)
            except Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise EngineError(
                        f"an index build process exited with code {dead[0].exitcode}",
                        "see the log above; check free memory and disk, then run `xxgk reindex` again",
                    ) from None
                continue
            if kind == "failed":
                raise EngineError(f"building the tantivy index failed: {value}", "run `xxgk reindex` again once it is fixed")
            if kind == "added":
                count += value
                if progress is not None and value:
                    progress(count)
            else:
                finished += 1
        for proc in procs:
            proc.join()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
        _job.clear()
    joined = layout.join(parts, build.dir)
    if joined != count:
        raise EngineError(f"the joined tantivy index holds {joined} documents, its parts {count}", "run `xxgk reindex` again")
    for part in parts:
        shutil.rmtree(part)
    return count


# -- rebuild and sync ---------------------------------------------------------------------------------
def rebuild(settings: Settings, catalog: Catalog, progress: Callable[[int], None] | None = None) -> int:
    """Build a fresh index of every catalog document into a new directory, then swap it in."""
    with index_lock(settings.data_path).acquire(wait_s=INDEX_LOCK_WAIT_S):
        return _rebuild(settings, catalog, progress)


def _rebuild(settings: Settings, catalog: Catalog, progress: Callable[[int], None] | None) -> int:
    log.info("tantivy index rebuild started")
    analysis.configure(settings.cache_dir)
    heap = max(settings.index_writer_mb, 32) << 20
    with new_build(settings, catalog, {"backend": BACKEND, "schema_version": SCHEMA_VERSION}) as build:
        workers = _workers(catalog.count())
        if workers > 1:
            build.count = _index_in_parts(catalog, build, heap, workers, progress)
        else:
            writer = tantivy.Index(build_schema(), path=str(build.dir)).writer(heap_size=heap, num_threads=1)
            build.count = _add_range(writer, catalog, build, 0, build.seq, _counter(progress))
            writer.commit()
            writer.wait_merging_threads()
    log.info("tantivy index rebuilt: %d documents in %s (%d processes)", build.count, build.dir.name, workers)
    return build.count


def _counter(progress: Callable[[int], None] | None) -> Callable[[int], None]:
    """`progress` told the running total, from the increments `_add_range` reports."""
    total = 0

    def added(n: int) -> None:
        nonlocal total
        total += n
        if progress is not None and n:
            progress(total)

    return added


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
        # Above every stamp in the index and every one recorded (one of a sync whose meta was not
        # written), so a reader of an earlier commit finds exactly the documents written since.
        written = 1 + max(last_written(ix.searcher()), int(meta.get("written", 0)))
        writer = ix.writer(heap_size=min(settings.index_writer_mb, 256) << 20, num_threads=1)
        try:
            for stored in plan.documents:
                writer.delete_documents_by_term("id", stored.id)
                writer.add_document(to_document(analysed(document_fields(stored, plan.derived), dict_id), written))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        if plan.documents:
            meta["written"] = written
        plan.record(index_dir.resolve(), meta, catalog)
        changed = len(plan.documents)
        log.info("tantivy index synced: %d documents updated", changed)
        return changed
