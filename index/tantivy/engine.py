"""tantivy behind the engine: a `Reader` over one tantivy searcher, and the engine that opens it.

tantivy matches terms and phrases in Rust; the reader hands the engine what it plans with: a term's
live documents as a sorted array of document numbers. Document numbers follow catalog seq order (a
reader opened afresh numbers the live documents by the rank of their seq; one reopened after a sync
keeps its predecessor's numbers), so tantivy, ordering matches by the seq fast field, hands them
over already sorted. Scores are tantivy's BM25, asked for the few documents being ranked, every
term at once (`TantivyPostings.scores`); the engine's field boosts, tiers and bonuses apply on top,
as for Whoosh.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import tantivy

from index.engine import Engine
from index.sets import EMPTY, bm25_idf, intersect, locate, sorted_by_number, union, values_at
from index.tantivy.schema import KEYWORDS, WRITTEN, last_written
from index.tantivy.writer import check_index

# Scoring: a term's scores over the whole index are read once and kept per searcher (cost about its
# document frequency), or the terms not yet kept are scored together in one query filtered to the
# candidates (cost about QUERY_COST postings, plus CANDIDATE_COST per candidate for the filter and the
# hand-over to Python). Measured at 100k documents: a term read 0.47 µs a posting, the filtered query
# 3-5 ms plus 1.4-3 µs a candidate; kept scores serve later requests too, so the costs lean to them.
QUERY_COST, CANDIDATE_COST = 10_000, 6.0
RENUMBER_FRESH = 10_000  # a reopen after a sync that wrote more (and a tenth of the index) numbers afresh
RENUMBER_HOLES = 4_096  # ... as one does past this many holes (and a quarter of the numbers)
FEW_TERMS = 16  # a query of up to this many terms (keywords, which recur) always keeps its terms' scores
_first, _second = operator.itemgetter(0), operator.itemgetter(1)  # of a hit: (score or sort value, address)
_STORED_AS = {"title_text": "title", "doc_no_text": "doc_no"}  # our stored names for the shown text


@dataclass
class TermPosting:
    """One term: the sorted numbers of the live documents holding it (`stale`: as the previous
    reader had them, before the documents written since)."""

    field: str
    text: str
    ids: np.ndarray
    stale: bool = False

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes) + 100


V = TypeVar("V")


class _Lru(Generic[V]):
    """Values read on first use and kept, least recently used dropped past `max_bytes` (thread-safe)."""

    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self._size = size
        self._bytes = 0
        self._items: OrderedDict[tuple[str, str], V] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: tuple[str, str]) -> V | None:
        """The kept value, or None; neither reads nor counts as a use."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[str, str], value: V) -> V:
        """Keep `value` under `key`, in place of what was kept (as most recently used)."""
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += self._size(value) - (self._size(old) if old is not None else 0)
            self._items[key] = value
        return value

    def items(self) -> list[tuple[tuple[str, str], V]]:
        """What is kept, least recently used first."""
        with self._lock:
            return list(self._items.items())

    def get(self, key: tuple[str, str], read: Callable[[], V]) -> V:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = read()  # outside the lock: another thread may read the same term meanwhile
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._bytes += self._size(value)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= self._size(evicted)
        return value


class TantivyPostings:
    """Term postings of one searcher, read on first use (LRU, bounded in bytes).

    A reader that kept its predecessor's numbering (`TantivyReader.changed`) starts with the
    predecessor's postings, marked stale: on first use each is brought up to date by dropping the
    documents deleted or rewritten since and adding those written since that hold the term (a small
    query), rather than read whole. Scores are not kept over: every term's BM25 moves with the counts.
    """

    def __init__(self, reader: TantivyReader, max_bytes: int = 256 << 20, previous: TantivyPostings | None = None) -> None:
        self._reader = reader
        self.doc_count = reader.size  # document numbers, holes included
        self.live_count = reader.live_count
        self._ids: _Lru[TermPosting] = _Lru(max_bytes, lambda p: p.nbytes)
        self._scored: _Lru[tuple[np.ndarray, np.ndarray]] = _Lru(max_bytes, lambda v: int(v[0].nbytes + v[1].nbytes))
        self._counts: _Lru[int] = _Lru(max_bytes >> 6, lambda _: 100)
        self._phrases: _Lru[np.ndarray] = _Lru(max_bytes >> 2, lambda ids: int(ids.nbytes) + 100)  # not kept over
        if previous is not None and reader.changed is not None:
            for key, posting in previous._ids.items():
                if not posting.stale:  # one still stale there knows only the changes before that reader
                    self._ids.put(key, TermPosting(posting.field, posting.text, posting.ids, stale=True))

    def get(self, field: str, text: str) -> TermPosting:
        reader = self._reader

        def read() -> TermPosting:
            held = text and reader.doc_freq(field, text)
            return TermPosting(field, text, reader.ids(tantivy.Query.term_query(reader.schema, field, text)) if held else EMPTY)

        posting = self._ids.get((field, text), read)
        if posting.stale:
            posting = self._ids.put((field, text), TermPosting(field, text, self._brought_up(posting)))
        return posting

    def _brought_up(self, posting: TermPosting) -> np.ndarray:
        """A stale posting's ids in this reader: the unchanged documents it held, and the documents
        written since the previous reader that hold the term."""
        reader = self._reader
        assert reader.changed is not None
        ids = posting.ids
        if len(ids):
            ids = ids[reader.live[ids]]
            ids = np.setdiff1d(ids, reader.changed, assume_unique=True)
        if not len(reader.changed) or not (posting.text and reader.doc_freq(posting.field, posting.text)):
            return ids  # (no text: no term, as `get` reads it)
        term = tantivy.Query.term_query(reader.schema, posting.field, posting.text)
        written = reader.ids(tantivy.Query.boolean_query([(tantivy.Occur.Must, term), (tantivy.Occur.Must, reader.since)]))
        return union([ids, written], self.doc_count)

    def doc_freq(self, field: str, text: str) -> int:
        return self._reader.doc_freq(field, text) if text else 0

    def phrase(self, field: str, run: list[str]) -> np.ndarray:
        """The live documents holding the terms of `run` one after another. Kept (LRU): a query's
        phrases recur with it, and at a million documents one of common bigrams costs milliseconds."""
        reader = self._reader

        def read() -> np.ndarray:
            if any(reader.doc_freq(field, t) == 0 for t in run):
                return EMPTY
            terms: list[str | tuple[int, str]] = list(run)
            return reader.ids(tantivy.Query.phrase_query(reader.schema, field, terms))

        return self._phrases.get((field, " ".join(run)), read)

    def among(self, field: str, text: str, docs: np.ndarray) -> np.ndarray:
        return intersect(docs, self.get(field, text).ids, self.doc_count)

    def live_freq(self, field: str, text: str) -> int:
        # tantivy's dictionary counts deleted documents until a merge drops them: the exact count is
        # the kept posting's length, else tantivy's count of the term's live documents (in Rust, about
        # a hundredth of handing them over: pasted text asks it of hundreds of terms to pick the rarest).
        posting = self._ids.peek((field, text))
        if posting is not None and not posting.stale:
            return len(posting.ids)
        reader = self._reader
        if not text or not reader.doc_freq(field, text):
            return 0
        return self._counts.get((field, text), lambda: reader.count(tantivy.Query.term_query(reader.schema, field, text)))

    def idf_of(self, df: int) -> float:
        """BM25's IDF of a term held by `df` live documents (the engine's own weights use it)."""
        return bm25_idf(self.live_count, df)

    def scores(self, terms: list[tuple[str, str, float]], docs: np.ndarray) -> np.ndarray:
        """Every term's BM25 times its boost, summed, for `docs` (sorted).

        Terms whose scores over the whole index are kept (keywords recur between requests) are
        placed from them. The others are read and kept the same way when that costs less than one
        tantivy query of them as boosted alternatives, filtered to the candidates (a zero-scored
        filter on their catalog seq): pasted text brings many common terms, seen once, over a few
        candidates, and an unusual pair of common words many candidates but no kept scores."""
        out = np.zeros(len(docs), dtype=np.float32)
        reader = self._reader
        held = [(f, t, b, df) for f, t, b in terms if t and (df := reader.doc_freq(f, t))]
        if not held or not len(docs):
            return out
        kept: list[tuple[str, str, float, int]] = []
        cold: list[tuple[str, str, float, int]] = []
        for term in held:
            (kept if self._scored.peek((term[0], term[1])) is not None else cold).append(term)
        if len(held) <= FEW_TERMS or sum(df for *_, df in cold) <= QUERY_COST + CANDIDATE_COST * len(docs):
            kept, cold = held, []
        for f, t, b, _ in kept:
            nums, values = self._scored_posting(f, t)
            out += b * values_at(nums, values, docs, self.doc_count)
        if not cold:
            return out
        schema = reader.schema
        wanted = [
            (tantivy.Occur.Should, tantivy.Query.boost_query(tantivy.Query.term_query(schema, f, t), b)) for f, t, b, _ in cold
        ]
        within = tantivy.Query.term_set_query(schema, "seq", reader.seqs(docs))
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.boolean_query(wanted)),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(within, 0.0)),
            ]
        )
        nums, values = reader.scored(query, len(docs))
        if len(nums):
            where, present = locate(docs, nums)
            out[where[present]] += values[present]
        return out

    def _scored_posting(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A term's live documents (sorted) with its BM25 in each, read once per searcher (LRU)."""

        def read() -> tuple[np.ndarray, np.ndarray]:
            nums, values = self._reader.scored(tantivy.Query.term_query(self._reader.schema, field, text))
            return sorted_by_number(nums, values, self.doc_count)

        return self._scored.get((field, text), read)

    def bm25(self, field: str, text: str, docs: np.ndarray, boost: float) -> np.ndarray:
        """tantivy's BM25 of the term for `docs` (sorted), times `boost`; 0 where the term is absent."""
        return self.scores([(field, text, boost)], docs)


class TantivyReader:
    """One tantivy searcher, its document numbering (by catalog seq), and its postings.

    A reader opened afresh numbers the live documents 0, 1, ... in seq order. One reopened after a
    sync (`reopen`) keeps its predecessor's numbers: a document the sync deleted leaves a hole (not
    live), one rewritten under its old seq (its derived fields moved) keeps its number, and new
    documents, whose seqs are above every earlier one, are numbered after the rest. Number order is
    still seq order, so both rank alike; `changed` lists the numbers whose documents the sync wrote,
    and the engine re-reads only those of its columns. A reader renumbers afresh when that is not
    exact, when the sync wrote more than RENUMBER_FRESH documents, or when holes pass RENUMBER_HOLES.
    """

    long_phrases = True  # a phrase query intersects its terms' postings in Rust, rarest first

    def __init__(self, ix: Any, index_dir: Path, previous: TantivyReader | None = None) -> None:
        self._ix = ix
        self._dir = index_dir
        self._stamp = self._commit_stamp()
        ix.reload()
        self._searcher = ix.searcher()
        self.schema = ix.schema
        self.live_count = int(self._searcher.num_docs)
        self.changed: np.ndarray | None = None
        self._dates: dict[str, list[Any]] = {}  # pubdate and listdate of every number, read when numbered afresh
        self.since: Any = tantivy.Query.empty_query()  # the documents written since the previous reader
        if previous is None or not self._continue(previous):
            self._number_afresh()
        self._postings = TantivyPostings(self, previous=previous.postings if previous is not None else None)

    def _number_afresh(self) -> None:
        hits = self._searcher.search(
            tantivy.Query.all_query(),
            limit=max(1, self._searcher.num_docs),
            count=False,
            order_by_field="seq",
            order=tantivy.Order.Asc,
        ).hits
        self._seq = np.fromiter((k for k, _ in hits), dtype=np.int64, count=len(hits))
        # The engine reads the date columns of every document once; a stored document is looked up by
        # its seq (4 µs), so no address per document is kept (about 64 MB at a million documents).
        addresses = [a for _, a in hits]
        self._dates = {name: self._searcher.fast_field_values(name, addresses) for name in ("pubdate", "listdate")}
        del hits, addresses
        self.size = len(self._seq)
        # int32: every posting read is numbered through it, and kept at half the memory of int64.
        self._num_of_seq = np.full(int(self._seq[-1]) + 1 if self.size else 1, -1, dtype=np.int32)
        self._num_of_seq[self._seq] = np.arange(self.size, dtype=np.int32)
        self._live = np.ones(self.size, dtype=bool)
        self._written = last_written(self._searcher)

    def _continue(self, previous: TantivyReader) -> bool:
        """Number as `previous` did, with what the syncs since wrote; False when that is not exact."""
        self.since = since = tantivy.Query.range_query(
            self.schema, WRITTEN, tantivy.FieldType.Unsigned, previous._written, None, False
        )
        count = self._searcher.search(since, limit=1, count=True).count or 0
        if count > max(RENUMBER_FRESH, previous.size // 10):
            return False
        hits = (
            self._searcher.search(since, limit=count, count=False, order_by_field="seq", order=tantivy.Order.Asc).hits
            if count
            else []
        )
        live = previous.live.copy()
        if hits:  # the sync deleted every earlier document of a written one's id
            ids = [self._searcher.doc(address).to_dict()["id"][0] for _, address in hits]
            live[previous.ids(tantivy.Query.term_set_query(previous.schema, "id", ids))] = False
        top = int(previous._seq[-1]) if previous.size else -1
        kept: list[int] = []
        added: list[int] = []
        for seq in (int(k) for k, _ in hits):
            if seq > top:
                added.append(seq)
            elif seq < len(previous._num_of_seq) and previous._num_of_seq[seq] >= 0 and previous.live[previous._num_of_seq[seq]]:
                kept.append(int(previous._num_of_seq[seq]))  # rewritten under its old seq
            else:
                return False  # an earlier seq the previous reader never held: not a sync's doing
        live[kept] = True
        size = previous.size + len(added)
        exact = int(np.count_nonzero(live)) + len(added) == self.live_count
        if not exact or size - self.live_count > max(RENUMBER_HOLES, size // 4):
            return False
        self.size = size
        self._seq = np.concatenate([previous._seq, np.array(added, dtype=np.int64)])
        self._live = np.concatenate([live, np.ones(len(added), dtype=bool)])
        self._num_of_seq = previous._num_of_seq
        if added:
            self._num_of_seq = np.full(added[-1] + 1, -1, dtype=np.int32)
            self._num_of_seq[: len(previous._num_of_seq)] = previous._num_of_seq
            self._num_of_seq[added] = np.arange(previous.size, size, dtype=np.int32)
        self.changed = np.union1d(np.array(kept, dtype=np.int64), np.arange(previous.size, size, dtype=np.int64))
        stamps = self._searcher.fast_field_values(WRITTEN, [address for _, address in hits]) if hits else []
        self._written = max([previous._written, *(int(v or 0) for v in stamps)])
        return True

    @property
    def postings(self) -> TantivyPostings:
        return self._postings

    @property
    def live(self) -> np.ndarray:
        return self._live

    def doc_freq(self, field: str, text: str) -> int:
        return int(self._searcher.doc_freq(field, text))

    def seqs(self, docs: np.ndarray) -> list[int]:
        """The catalog seq of each document number (unique per document: what a query can filter on)."""
        return list(self._seq[docs].tolist())

    def ids(self, query: Any) -> np.ndarray:
        """The sorted numbers of every live document matching `query`."""
        hits = self._searcher.search(
            query, limit=max(1, self.live_count), count=False, order_by_field="seq", order=tantivy.Order.Asc
        ).hits
        if not hits:
            return EMPTY
        return self._num_of_seq[np.fromiter(map(_first, hits), dtype=np.int64, count=len(hits))]

    def count(self, query: Any) -> int:
        """How many live documents match `query` (counted in tantivy, none handed over)."""
        return int(self._searcher.search(query, limit=1, count=True).count or 0)

    def scored(self, query: Any, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and scores of the live documents matching `query` (unsorted; all by default)."""
        hits = self._searcher.search(query, limit=limit or max(1, self.live_count), count=False).hits
        if not hits:
            return EMPTY, np.zeros(0, dtype=np.float32)
        scores = np.fromiter(map(_first, hits), dtype=np.float32, count=len(hits))
        seqs = self._searcher.fast_field_values("seq", list(map(_second, hits)))
        return self._num_of_seq[np.array(seqs, dtype=np.int64)], scores

    def phrase(self, field: str, run: list[str], within: np.ndarray | None = None) -> np.ndarray:
        ids = self._postings.get(field, run[0]).ids if len(run) == 1 else self._postings.phrase(field, run)
        return ids if within is None else intersect(within, ids, self.size)

    def _address(self, docnum: int) -> Any:
        query = tantivy.Query.term_query(self.schema, "seq", int(self._seq[docnum]))
        return self._searcher.search(query, limit=1, count=False).hits[0][1]

    def stored(self, docnum: int) -> dict[str, Any]:
        values = self._searcher.doc(self._address(docnum)).to_dict()
        return {_STORED_AS.get(k, k): v[0].decode() if isinstance(v[0], bytes) else v[0] for k, v in values.items() if v}

    def column(self, name: str) -> list[Any]:
        if name not in self._dates:
            raise ValueError("a reader reopened after a sync reads the columns of given documents only (`rows`)")
        return [v or 0 for v in self._dates.pop(name)]  # read once, by the engine

    def coded_column(self, name: str) -> tuple[list[str], np.ndarray]:
        """Codes straight from each value's documents: no Python string per document (a keyword field
        holds one value per document; one without a term reads as "")."""
        assert name in KEYWORDS, name
        held = {value: self._postings.get(name, value).ids for value, _ in self._searcher.terms_with_prefix(name, "")}
        values = sorted(set(held) | ({""} if sum(len(ids) for ids in held.values()) < self.live_count else set()))
        codes = np.full(self.size, values.index("") if "" in values else -1, dtype=np.int32)
        for code, value in enumerate(values):
            if value in held:
                codes[held[value]] = code
        return values, codes

    def rows(self, names: tuple[str, ...], docs: np.ndarray) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {name: [] for name in names}
        for d in docs.tolist():
            fields = self.stored(d)  # every column from one read of the document
            for name, values in out.items():
                values.append(str(fields.get(name, "")) if name in KEYWORDS else int(fields.get(name) or 0))
        return out

    def doc_count(self) -> int:
        return self.live_count

    def _commit_stamp(self) -> tuple[int, int]:
        try:
            info = (self._dir / "meta.json").stat()  # tantivy rewrites it at every commit
        except OSError:
            return (0, 0)
        return (info.st_mtime_ns, info.st_size)

    def up_to_date(self) -> bool:
        return self._commit_stamp() == self._stamp

    def reopen(self) -> TantivyReader:
        return TantivyReader(self._ix, self._dir, previous=self)

    def close(self) -> None:
        """Nothing to release by hand: tantivy frees the searcher with its last reference."""


class TantivyEngine(Engine):
    """The engine over a tantivy index (`index_backend = "tantivy"`)."""

    backend = "tantivy"

    def _check(self, index_path: Path) -> dict[str, Any]:
        return check_index(index_path)

    def _open_reader(self, target: Path) -> TantivyReader:
        return TantivyReader(tantivy.Index.open(str(target)), target)
