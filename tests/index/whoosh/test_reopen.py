"""A Whoosh reader reopened after a sync keeps the numbers of its unchanged segments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from whoosh.reading import SegmentReader

from archive.transfer import import_documents
from index.agreement import compare
from index.api import index_writer
from index.whoosh.engine import WhooshEngine
from index.whoosh.sync import open_index
from tests.index.reopening import archive, churn, same_answers
from tests.index.test_live import WORDS, _line


def test_a_reopen_after_a_sync_reads_only_the_new_segment(tmp_path: Path) -> None:
    settings, catalog = archive(tmp_path, 30, "whoosh")
    kept = WhooshEngine(settings.index_path)
    before = kept._reader  # noqa: SLF001 - the numbering is what is checked
    assert before.changed is None and len(before.segments) == 1
    same_answers(kept, settings)
    churn(settings, catalog, kept)
    reader = kept._reader  # noqa: SLF001
    # The sync's nine documents are a new segment after the first; the first keeps its numbers.
    assert reader.segments[0] == before.segments[0] and len(reader.segments) == 2
    assert reader.changed is not None and reader.changed.tolist() == list(range(30, 39))
    assert not reader.live[[0, 1, 2, 3, 4, 7]].any() and reader.live[30:].all()
    same_answers(kept, settings)
    assert compare(kept, catalog).ok
    kept.close()
    catalog.close()


def _merge_after_first(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy: every segment but the first merged into the new one."""
    for segment in segments[1:]:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return segments[:1]


def test_merged_segments_are_read_again_from_where_they_start(tmp_path: Path) -> None:
    settings, catalog = archive(tmp_path, 30, "whoosh")
    kept = WhooshEngine(settings.index_path)
    for k in range(3):  # three syncs editing the same three documents: three small segments after the first
        import_documents(catalog, [_line(n, 2 + k, (WORDS[(n + k) % 6],)) for n in range(3)])
        index_writer(settings).sync(catalog)
        kept.refresh()
    assert len(kept._reader.segments) == 4  # noqa: SLF001
    same_answers(kept, settings)
    # Merged (their deleted documents dropped), the small segments hold fewer numbers than before.
    ix = open_index(settings.index_path, mmap=False)
    ix.writer().commit(mergetype=_merge_after_first)
    ix.close()
    kept.refresh()
    reader = kept._reader  # noqa: SLF001
    assert len(reader.segments) == 2 and len(reader.live) == 33  # 39 numbers before
    assert reader.changed is not None and reader.changed.tolist() == list(range(30, len(reader.live)))
    same_answers(kept, settings)
    # Everything merged: nothing kept, numbered afresh.
    ix = open_index(settings.index_path, mmap=False)
    ix.optimize()
    ix.close()
    kept.refresh()
    assert kept._reader.changed is None and kept._reader.live.all()  # noqa: SLF001
    assert np.count_nonzero(kept._reader.live) == 30  # noqa: SLF001
    same_answers(kept, settings)
    kept.close()
    catalog.close()
