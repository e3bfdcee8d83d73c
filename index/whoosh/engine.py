"""Whoosh behind the engine: a `Reader` over one Whoosh searcher, and the engine that opens it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from index.engine import Engine
from index.sets import code_values
from index.whoosh.postings import PostingCache, phrase_docs
from index.whoosh.sync import check_index, open_index

# A reopen renumbers afresh when the documents to read again are more than this (and a tenth of the index).
RENUMBER_CHANGED = 10_000


class WhooshReader:
    """One Whoosh searcher: postings read into arrays once (`PostingCache`), positions for phrases.

    Whoosh numbers documents by segment, in segment order. A reader reopened after a sync whose
    earlier segments are unchanged (a sync adds a segment, and merges only small ones) keeps their
    numbers: `changed` lists the numbers from the first segment that differs, which the engine
    reads again; deletions in the kept segments show in `live`.
    """

    long_phrases = False  # a phrase reads every token's positions into Python

    def __init__(self, ix: Any, previous: WhooshReader | None = None) -> None:
        self._ix = ix
        self._searcher = ix.searcher()
        reader = self._searcher.reader()
        leaves = reader.leaf_readers()
        live = np.ones(reader.doc_count_all(), dtype=bool)
        for leaf, offset in leaves:  # each segment's deleted set: no Python call per document
            if leaf.has_deletions():
                live[offset + np.fromiter(leaf.deleted_docs_set, dtype=np.int64)] = False
        self.live = live
        self.segments = [(leaf.segment().segment_id(), leaf.doc_count_all()) for leaf, _ in leaves]
        self.changed: np.ndarray | None = None
        kept = 0
        if previous is not None:
            for before, now in zip(previous.segments, self.segments, strict=False):
                if before != now:
                    break
                kept += now[1]
            if kept and len(live) - kept <= max(RENUMBER_CHANGED, len(live) // 10):
                self.changed = np.arange(kept, len(live), dtype=np.int64)
        # The field lengths of the kept segments' documents are the previous reader's.
        earlier = previous.postings if previous is not None and self.changed is not None else None
        self.postings: PostingCache = PostingCache(self._searcher, live, previous=earlier, kept=kept)

    def phrase(self, field: str, run: list[str], within: np.ndarray | None = None) -> np.ndarray:
        return phrase_docs(self.postings, field, run, within=within)

    def stored(self, docnum: int) -> dict[str, Any]:
        return dict(self._searcher.stored_fields(docnum))

    def column(self, name: str) -> list[Any]:
        return list(self._searcher.reader().column_reader(name))

    def coded_column(self, name: str) -> tuple[list[str], np.ndarray]:
        return code_values(self.column(name))

    def rows(self, names: tuple[str, ...], docs: np.ndarray) -> dict[str, list[Any]]:
        numbers = docs.tolist()
        out = {}
        for name in names:  # a column reader per name: Whoosh keeps each column apart
            values = self._searcher.reader().column_reader(name)
            if name in ("pubdate", "listdate"):
                out[name] = [values[d] or 0 for d in numbers]
            else:
                out[name] = [str(values[d]) if values[d] is not None else "" for d in numbers]
        return out

    def doc_count(self) -> int:
        return int(self._searcher.doc_count())

    def up_to_date(self) -> bool:
        return bool(self._searcher.up_to_date())

    def reopen(self) -> WhooshReader:
        """A new searcher, never Whoosh's `Searcher.refresh()`: that reuses the reader of every segment
        whose id is unchanged, and such a reader keeps the deletions it was opened with, so a document
        replaced since would be found twice."""
        return WhooshReader(self._ix, previous=self)

    def close(self) -> None:
        self.postings.close()
        self._searcher.close()  # the index object holds no open files of its own


class WhooshEngine(Engine):
    """The engine over a Whoosh index (the default backend)."""

    backend = "whoosh"

    def _check(self, index_path: Path) -> dict[str, Any]:
        return check_index(index_path)

    def _open_reader(self, target: Path) -> WhooshReader:
        # Without mmap: Whoosh maps each compound segment file whole and copies it (a searcher over a
        # 300 MB index held ~600 MB); plain reads through the OS page cache keep it at tens of MB.
        return WhooshReader(open_index(target, mmap=False))
