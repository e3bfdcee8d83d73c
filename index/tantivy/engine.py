"""tantivy behind the engine: a `Reader` over one tantivy searcher, and the engine that opens it.

tantivy matches terms and phrases in Rust; the reader hands the engine what it plans with: a term's
live documents as a sorted array of document numbers, with tantivy's BM25 score of the term in each
(so the engine's field boosts, tiers and bonuses apply on top, as for Whoosh). A document's number is
its segment's base plus its id in the segment, fixed for the life of one searcher.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from index.engine import Engine
from index.sets import EMPTY, bm25_idf, intersect, locate
from index.tantivy.schema import KEYWORDS, NUMBERS
from index.tantivy.writer import check_index

SCORED_TOGETHER = 5000  # up to this many candidates, all terms are scored in one query over them alone
_STORED_AS = {"title_text": "title", "doc_no_text": "doc_no"}  # our stored names for the shown text


@dataclass
class TermPosting:
    """One term: sorted live document numbers and tantivy's BM25 score of the term in each."""

    ids: np.ndarray
    scores: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.scores.nbytes)


_NONE = TermPosting(EMPTY, np.zeros(0, dtype=np.float32))


class TantivyPostings:
    """Term postings of one searcher, read on first use (LRU, bounded in bytes)."""

    def __init__(self, reader: TantivyReader, max_bytes: int = 256 << 20) -> None:
        self._reader = reader
        self.doc_count = reader.size
        self.live_count = reader.doc_count()
        self.max_bytes = max_bytes
        self._bytes = 0
        self._cache: OrderedDict[tuple[str, str], TermPosting] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, field: str, text: str) -> TermPosting:
        key = (field, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        posting = self._read(field, text)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = posting
                self._bytes += posting.nbytes
            while self._bytes > self.max_bytes and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                self._bytes -= evicted.nbytes
        return posting

    def _read(self, field: str, text: str) -> TermPosting:
        reader = self._reader
        if not text or reader.doc_freq(field, text) == 0:
            return _NONE
        nums, scores = reader.matches(tantivy.Query.term_query(reader.schema, field, text))
        if not len(nums):
            return _NONE
        order = np.argsort(nums, kind="stable")
        return TermPosting(nums[order], scores[order])

    def idf(self, posting: TermPosting) -> float:
        return self.idf_of(len(posting.ids))

    def scores(self, terms: list[tuple[str, str, float]], docs: np.ndarray) -> np.ndarray | None:
        """Every term's BM25 times its boost, summed, for `docs` only: one tantivy query (the terms as
        boosted alternatives, the documents as a zero-scored filter on their catalog seq), so no
        term's whole posting is read. The scores are tantivy's, as `bm25` gives them one by one."""
        if not terms or not len(docs) or len(docs) > SCORED_TOGETHER:
            return None
        reader = self._reader
        schema = reader.schema
        should = tantivy.Occur.Should
        wanted = [
            (should, tantivy.Query.boost_query(tantivy.Query.term_query(schema, f, t), b))
            for f, t, b in terms
            if t and reader.doc_freq(f, t)
        ]
        out = np.zeros(len(docs), dtype=np.float32)
        if not wanted:
            return out
        within = tantivy.Query.term_set_query(schema, "seq", reader.seqs(docs))
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.boolean_query(wanted)),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(within, 0.0)),
            ]
        )
        nums, values = reader.matches(query, limit=len(docs))
        if len(nums):
            where, present = locate(docs, nums)
            out[where[present]] = values[present]
        return out

    def idf_of(self, df: int) -> float:
        """BM25's IDF of a term held by `df` live documents (the engine's own weights use it)."""
        return bm25_idf(self.live_count, df)

    def bm25(self, field: str, posting: TermPosting, docs: np.ndarray, boost: float) -> np.ndarray:
        """tantivy's BM25 of the term for `docs` (sorted), times `boost`; 0 where the term is absent."""
        out = np.zeros(len(docs), dtype=np.float32)
        if not len(posting.ids) or not len(docs):
            return out
        where, present = locate(posting.ids, docs)
        out[present] = boost * posting.scores[where[present]]
        return out


class TantivyReader:
    """One tantivy searcher, its document numbering, and its postings."""

    def __init__(self, ix: Any, index_dir: Path) -> None:
        self._ix = ix
        self._dir = index_dir
        self._stamp = self._commit_stamp()
        ix.reload()
        self._searcher = ix.searcher()
        self.schema = ix.schema
        # Every live document's address, numbered segment by segment.
        hits = self._searcher.search(tantivy.Query.all_query(), limit=max(1, self._searcher.num_docs), count=False).hits
        addresses = [address for _, address in hits]
        ends: dict[int, int] = {}
        for a in addresses:
            if a.doc >= ends.get(a.segment_ord, 0):
                ends[a.segment_ord] = a.doc + 1
        self._base = [0] * (max(ends, default=-1) + 1)
        total = 0
        for segment in range(len(self._base)):
            self._base[segment] = total
            total += ends.get(segment, 0)
        self.size = total
        nums = self._nums(addresses)
        self._addresses: list[Any] = [None] * total
        for num, a in zip(nums.tolist(), addresses):
            self._addresses[num] = a
        self._live = np.zeros(total, dtype=bool)
        self._live[nums] = True
        self._seq: np.ndarray | None = None
        self._postings = TantivyPostings(self)

    @property
    def postings(self) -> TantivyPostings:
        return self._postings

    @property
    def live(self) -> np.ndarray:
        return self._live

    def _nums(self, addresses: list[Any]) -> np.ndarray:
        base = self._base
        return np.fromiter((base[a.segment_ord] + a.doc for a in addresses), dtype=np.int64, count=len(addresses))

    def doc_freq(self, field: str, text: str) -> int:
        return int(self._searcher.doc_freq(field, text))

    def seqs(self, docs: np.ndarray) -> list[int]:
        """The catalog seq of each document number (unique per document: what a query can filter on)."""
        if self._seq is None:
            self._seq = np.array(self.column("seq"), dtype=np.int64)
        return list(self._seq[docs].tolist())

    def matches(self, query: Any, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and scores of the live documents matching `query` (unsorted; all by default)."""
        hits = self._searcher.search(query, limit=limit or max(1, self._searcher.num_docs), count=False).hits
        if not hits:
            return EMPTY, np.zeros(0, dtype=np.float32)
        scores = np.fromiter((s for s, _ in hits), dtype=np.float32, count=len(hits))
        return self._nums([a for _, a in hits]), scores

    def phrase(self, field: str, run: list[str], within: np.ndarray | None = None) -> np.ndarray:
        if len(run) == 1:
            ids = self._postings.get(field, run[0]).ids
        else:
            if any(self.doc_freq(field, t) == 0 for t in run):
                return EMPTY
            terms: list[str | tuple[int, str]] = list(run)
            ids = np.sort(self.matches(tantivy.Query.phrase_query(self.schema, field, terms))[0])
        return ids if within is None else intersect(within, ids, self.size)

    def stored(self, docnum: int) -> dict[str, Any]:
        values = self._searcher.doc(self._addresses[docnum]).to_dict()
        return {_STORED_AS.get(k, k): v[0] for k, v in values.items() if v}

    def column(self, name: str) -> list[Any]:
        if name in NUMBERS:
            present = np.flatnonzero(self._live)
            values = self._searcher.fast_field_values(name, [self._addresses[i] for i in present.tolist()])
            out = np.zeros(self.size, dtype=np.int64)
            out[present] = np.array([v or 0 for v in values], dtype=np.int64)
            return list(out.tolist())
        assert name in KEYWORDS, name
        column: list[Any] = [""] * self.size
        for value, _ in self._searcher.terms_with_prefix(name, ""):
            for num in self._postings.get(name, value).ids.tolist():
                column[num] = value
        return column

    def doc_count(self) -> int:
        return int(self._searcher.num_docs)

    def _commit_stamp(self) -> tuple[int, int]:
        try:
            info = (self._dir / "meta.json").stat()  # tantivy rewrites it at every commit
        except OSError:
            return (0, 0)
        return (info.st_mtime_ns, info.st_size)

    def up_to_date(self) -> bool:
        return self._commit_stamp() == self._stamp

    def reopen(self) -> TantivyReader:
        return TantivyReader(self._ix, self._dir)

    def close(self) -> None:
        """Nothing to release by hand: tantivy frees the searcher with its last reference."""


class TantivyEngine(Engine):
    """The engine over a tantivy index (`index_backend = "tantivy"`)."""

    backend = "tantivy"

    def _check(self, index_path: Path) -> dict[str, Any]:
        return check_index(index_path)

    def _open_reader(self, target: Path) -> TantivyReader:
        return TantivyReader(tantivy.Index.open(str(target)), target)
