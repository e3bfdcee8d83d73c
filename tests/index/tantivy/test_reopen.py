"""A tantivy reader reopened after a sync keeps its numbering: only what the sync wrote is read again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tantivy

from archive.catalog import Catalog
from archive.settings import Settings
from archive.transfer import import_documents
from index.agreement import compare
from index.api import SearchRequest, index_writer
from index.build import document_fields
from index.tantivy.engine import TantivyEngine
from index.tantivy.schema import analysed, last_written, to_document
from tests.index.reopening import archive, churn, same_answers
from tests.index.test_live import QUERIES, WORDS, _line


def _same_postings(kept: TantivyEngine, settings: Settings) -> int:
    """Every term the long-running engine keeps holds the same documents as in a fresh engine; how
    many of them were stale (kept over from the previous reader) before this check."""
    fresh = TantivyEngine(settings.index_path)
    postings = kept._postings  # noqa: SLF001 - the cache is what is checked
    stale = 0
    try:
        for key, posting in postings._ids.items():  # noqa: SLF001
            stale += posting.stale
            # Counted in tantivy (no posting kept yet), a term's live documents are its posting's.
            counted = fresh._postings.live_freq(*key), postings.live_freq(*key)  # noqa: SLF001
            mine = [kept._reader.stored(d)["id"] for d in postings.get(*key).ids.tolist()]  # noqa: SLF001
            theirs = [fresh._reader.stored(d)["id"] for d in fresh._postings.get(*key).ids.tolist()]  # noqa: SLF001
            assert mine == theirs, key
            assert counted == (len(theirs), len(mine)), key
    finally:
        fresh.close()
    return stale


def test_a_reopen_after_a_sync_reads_only_the_written_documents(tmp_path: Path) -> None:
    settings, catalog = archive(tmp_path, 30, "tantivy")
    kept = TantivyEngine(settings.index_path)
    before = kept._reader  # noqa: SLF001 - the numbering is what is checked
    assert before.changed is None and before.size == 30
    same_answers(kept, settings)  # and the posting cache warm, to be kept over
    churn(settings, catalog, kept)
    reader = kept._reader  # noqa: SLF001
    assert reader is not before
    # Nine documents written: each a new number after the thirty, and six holes where they were.
    assert reader.changed is not None and reader.changed.tolist() == list(range(30, 39))
    assert reader.size == 39 and reader.live_count == 33
    assert not reader.live[[0, 1, 2, 3, 4, 7]].any() and reader.live[30:].all()
    # Number order is seq order, as a fresh reader's.
    seqs = [reader.stored(d)["seq"] for d in np.flatnonzero(reader.live)]
    assert seqs == sorted(seqs)
    same_answers(kept, settings)
    assert kept.search(SearchRequest(q="第2稿")).total == 5
    assert compare(kept, catalog).ok
    kept.close()
    catalog.close()


def test_a_document_rewritten_under_its_old_seq_keeps_its_number(tmp_path: Path) -> None:
    # A sync rewrites an unchanged document whose derived fields moved (repealed by a newer one,
    # grouped with a repost) under its own seq: its number stays, its columns are read again.
    settings, catalog = archive(tmp_path, 12, "tantivy")
    kept = TantivyEngine(settings.index_path)
    stored = catalog.get("imp-4")
    assert stored is not None
    ix = tantivy.Index.open(str(settings.index_path.resolve()))
    written = last_written(ix.searcher()) + 1
    writer = ix.writer(heap_size=32 << 20, num_threads=1)
    writer.delete_documents_by_term("id", "imp-4")
    moved = document_fields(stored, {"imp-4": ("已废止", "")})
    writer.add_document(to_document(analysed(moved, kept.dict_id), written))
    writer.commit()
    writer.wait_merging_threads()
    number = int(kept._postings.get("id", "imp-4").ids[0])  # noqa: SLF001
    kept.refresh()
    reader = kept._reader  # noqa: SLF001
    assert reader.changed is not None and reader.changed.tolist() == [number]
    assert reader.size == 12 and reader.live.all()
    assert _same_postings(kept, settings) > 10  # the columns' values read at open, among them imp-4's old 有效性
    assert [h.id for h in kept.search(SearchRequest(q="", filters={"validity": "已废止"})).hits] == ["imp-4"]
    same_answers(kept, settings)
    kept.close()
    catalog.close()


def test_a_reopen_numbers_afresh_past_the_holes_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("index.tantivy.engine.RENUMBER_HOLES", 0)
    settings, catalog = archive(tmp_path, 12, "tantivy")
    kept = TantivyEngine(settings.index_path)
    import_documents(catalog, [_line(n, 2, (WORDS[n % 6],)) for n in range(2)])  # 2 holes of 14: kept
    index_writer(settings).sync(catalog)
    kept.refresh()
    assert kept._reader.changed is not None  # noqa: SLF001
    import_documents(catalog, [_line(n, 2, (WORDS[n % 6],)) for n in range(2, 6)])  # 6 of 18: past a quarter
    index_writer(settings).sync(catalog)
    kept.refresh()
    reader = kept._reader  # noqa: SLF001
    assert reader.changed is None and reader.size == 12 and reader.live.all()
    same_answers(kept, settings)
    kept.close()
    catalog.close()


def _warm(tmp_path: Path) -> tuple[Settings, Catalog, TantivyEngine, list[tuple[str, str]]]:
    """An archive of 30, a long-running engine that answered QUERIES, and the terms it keeps."""
    settings, catalog = archive(tmp_path, 30, "tantivy")
    kept = TantivyEngine(settings.index_path)
    for request in QUERIES:
        kept.search(request)
    cached = [key for key, _ in kept._postings._ids.items()]  # noqa: SLF001 - the cache is what is checked
    assert len(cached) > 20
    return settings, catalog, kept, cached


def test_kept_postings_are_brought_up_to_date_on_first_use(tmp_path: Path) -> None:
    settings, catalog, kept, cached = _warm(tmp_path)
    before = {key: kept._postings.get(*key).ids.tolist() for key in cached}  # noqa: SLF001
    import_documents(catalog, [_line(n, 2, (WORDS[(n + 3) % 6],)) for n in range(0, 12, 2)])
    import_documents(catalog, [_line(n, 1, (WORDS[n % 6], "推进")) for n in range(30, 34)])
    catalog.mark_withdrawn("imp-9")
    index_writer(settings).sync(catalog)
    kept.refresh()
    postings = kept._postings  # noqa: SLF001
    assert set(cached) <= {key for key, p in postings._ids.items() if p.stale}  # noqa: SLF001
    moved = sum(postings.get(*key).ids.tolist() != before[key] for key in cached)
    assert moved > 5  # the sync changed what many kept terms hold
    _same_postings(kept, settings)
    same_answers(kept, settings)
    kept.close()
    catalog.close()


def test_a_posting_unused_over_two_syncs_is_read_anew(tmp_path: Path) -> None:
    # A stale posting knows only the changes since the reader before: after a second reopen it is
    # dropped, never brought up by the second sync's changes alone.
    settings, catalog, kept, cached = _warm(tmp_path)
    churn(settings, catalog, kept)  # the first sync: nothing asked of the reopened reader
    import_documents(catalog, [_line(n, 3, (WORDS[(n + 4) % 6],)) for n in range(10, 14)])
    index_writer(settings).sync(catalog)
    kept.refresh()
    held = {key for key, _ in kept._postings._ids.items()}  # noqa: SLF001
    assert not set(cached) & held
    _same_postings(kept, settings)
    same_answers(kept, settings)
    kept.close()
    catalog.close()
