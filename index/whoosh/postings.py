"""Postings as numpy arrays, read from the Whoosh index once and cached, for set algebra and BM25F.

Whoosh's matchers step through postings one document at a time in Python (tens of microseconds per
matching document across a query tree). Reading a term's posting blocks once into arrays (document
numbers, weights, and on request positions) turns And/Or/Not, phrase checks and BM25 scoring into
vectorised operations. The arrays are global document numbers of the searcher's reader; the cache
belongs to one searcher and is dropped with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.sets import EMPTY, bm25_idf, dedupe_sorted, intersect, locate, values_at
from index.whoosh.internals import SegmentTerms, TermPostings, length_codes, term_postings

K1, B = 1.2, 0.75
MAX_DOC_FREQS = 200_000  # document frequencies kept per searcher
MAX_INFOS = 8192  # terms whose per-segment infos are kept, so that a read after a count probes no segment again
SPARSE = 8  # a phrase's candidates under 1/SPARSE of a term's documents: only their blocks are decoded
FIELD_B = {"title": 0.3, "title_ng": 0.3}


@dataclass
class Posting:
    """One term's postings: sorted document numbers, weights, and optionally every position."""

    ids: np.ndarray
    weights: np.ndarray
    pos_docs: np.ndarray | None = None  # the document of each position (parallel to `pos`)
    pos: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        extra = (self.pos_docs.nbytes + self.pos.nbytes) if self.pos is not None and self.pos_docs is not None else 0
        return int(self.ids.nbytes + self.weights.nbytes + extra)


_NO_POSTING = Posting(EMPTY, np.zeros(0, dtype=np.float32), EMPTY, np.zeros(0, dtype=np.int64))


def _byte_table() -> np.ndarray:
    from whoosh.util.numeric import byte_to_length

    return np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


class PostingCache:
    """Term postings and field lengths of one searcher, read on first use (LRU, bounded in bytes).

    Postings hold live documents only: a segment with deletions still stores the deleted documents'
    postings until it is merged away, and `live` (one flag per document number) drops them at read.
    Document frequencies and the document count for IDF are those of live documents, so a segment's
    deletions never skew scores.
    """

    def __init__(
        self, searcher: Any, live: np.ndarray, max_bytes: int = 256 << 20, previous: PostingCache | None = None, kept: int = 0
    ) -> None:
        """With `previous`, whose first `kept` document numbers (whole segments) hold the same documents:
        their field lengths are taken from it as read there, not read again."""
        self.searcher = searcher
        self.segments = [(SegmentTerms(leaf.reader()), offset) for leaf, offset in searcher.leaf_searchers()]
        self.doc_count = searcher.reader().doc_count_all()  # the size of document-number arrays
        self.live = live
        self.live_count = int(live.sum())
        self.max_bytes = max_bytes
        self._bytes = 0
        self._cache: OrderedDict[tuple[str, str], Posting] = OrderedDict()
        self._lengths: dict[str, tuple[np.ndarray, float]] = {}
        self._kept_lengths = {f: lengths[:kept] for f, (lengths, _) in (previous._lengths.items() if previous else ())}
        self._doc_freqs: dict[tuple[str, str], int] = {}
        self._infos: OrderedDict[tuple[str, str], tuple[Any, ...]] = OrderedDict()
        self._sparse_seen: set[tuple[str, str]] = set()  # terms whose positions were read for a few documents
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the segments' files opened for term lookups (the searcher closes its own)."""
        for segment, _ in self.segments:
            segment.close()

    # -- postings ---------------------------------------------------------------------------------
    def get(self, field: str, text: str, positions: bool = False) -> Posting:
        """One entry per term: read with positions when first asked for them (replacing an ids-only one)."""
        key = (field, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and (hit.pos is not None or not positions):
                self._cache.move_to_end(key)
                return hit
        posting = self._read(field, text, positions)
        with self._lock:
            old = self._cache.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
                if old.pos is not None and posting.pos is None:
                    posting = old  # another thread read it with positions meanwhile: keep the richer one
            self._cache[key] = posting
            self._bytes += posting.nbytes
            while self._bytes > self.max_bytes and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                self._bytes -= evicted.nbytes
        return posting

    def cached(self, field: str, text: str) -> Posting | None:
        """The term's posting if it is in the cache (nothing is read; a hit counts as a use)."""
        return self._touch(self._cache, (field, text))

    def _touch(self, store: OrderedDict[tuple[str, str], Any], key: tuple[str, str]) -> Any:
        """What one of the LRU stores keeps under `key`, counted as a use (None: nothing)."""
        with self._lock:
            hit = store.get(key)
            if hit is not None:
                store.move_to_end(key)
            return hit

    def _few(self, docs: np.ndarray, size: int) -> bool:
        """Whether `docs` are far fewer than a term's `size` documents: then only the blocks that may
        hold them are decoded, not the whole term."""
        return len(docs) * SPARSE < size

    def among(self, field: str, text: str, docs: np.ndarray) -> np.ndarray:
        """The documents of `docs` (sorted, live) that hold the term. A term many more documents hold
        is not read whole for a few candidates: only the blocks that may hold them are decoded."""
        held = self.cached(field, text)
        if held is None and self._few(docs, self.doc_freq(field, text)):
            ids, _ = self._within(field, text, docs)
            return intersect(docs, ids, self.doc_count)
        return intersect(docs, (held if held is not None else self.get(field, text)).ids, self.doc_count)

    def _read(self, field: str, text: str, positions: bool) -> Posting:
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        pos_docs: list[np.ndarray] = []
        pos: list[np.ndarray] = []
        for (segment, offset), info in zip(self.segments, self._term_infos(field, text)):
            found = None if info is None else term_postings(segment, field, text, positions, info=info)
            if found is None:
                continue
            ids.append(found.ids + offset)
            weights.append(found.weights)
            if positions:
                _add_positions(found, offset, pos_docs, pos)
        if not ids:
            return _NO_POSTING
        posting = Posting(np.concatenate(ids), np.concatenate(weights))
        if positions:
            posting.pos_docs, posting.pos = _joined(pos_docs), _joined(pos)
        if self.live_count < self.doc_count:  # drop deleted documents, whole arrays at a time
            keep = self.live[posting.ids]
            if not keep.all():
                posting.ids, posting.weights = posting.ids[keep], posting.weights[keep]
                if posting.pos is not None and posting.pos_docs is not None:
                    keep_pos = self.live[posting.pos_docs]
                    posting.pos, posting.pos_docs = posting.pos[keep_pos], posting.pos_docs[keep_pos]
                if not len(posting.ids):
                    return _NO_POSTING
        return posting

    def positions(self, field: str, text: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document, position) of each occurrence of the term in `docs` (sorted, live), and maybe in
        others. Candidates spread over most of the term's blocks, or a term asked for a second time
        and not far more common than the candidates, read it whole with its positions and keep it;
        otherwise only the blocks that may hold the candidates are read."""
        key = (field, text)
        hit = self.cached(field, text)
        if hit is not None and hit.pos is not None and hit.pos_docs is not None:
            return hit.pos_docs, hit.pos
        # The dictionary's count (deleted documents included) decides without reading the postings.
        size = len(hit.ids) if hit is not None else self.doc_freq(field, text)
        if self._few(docs, size):
            with self._lock:
                again = key in self._sparse_seen  # asked before: a phrase that recurs keeps its positions
                self._sparse_seen.add(key)
            # ... unless the term is far more common than the candidates (的, 在 over a page of them):
            # its whole positions would cost more than many reads of a few blocks.
            if not again or len(docs) * SPARSE * SPARSE < size:
                return self._positions_within(field, text, docs)
        full = self.get(field, text, positions=True)
        assert full.pos is not None and full.pos_docs is not None
        return full.pos_docs, full.pos

    def _segments_within(self, field: str, text: str, docs: np.ndarray, values: bool) -> Iterator[tuple[TermPostings, int]]:
        """Each segment's postings of the term from the blocks that may hold `docs`, with its offset."""
        for (segment, offset), info in zip(self.segments, self._term_infos(field, text)):
            if info is None:
                continue
            local = docs[(docs >= offset) & (docs < offset + segment.reader.doc_count_all())] - offset
            found = term_postings(segment, field, text, values=values, within=local, info=info) if len(local) else None
            if found is not None:
                yield found, offset

    def _positions_within(self, field: str, text: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos_docs: list[np.ndarray] = []
        pos: list[np.ndarray] = []
        for found, offset in self._segments_within(field, text, docs, values=True):
            _add_positions(found, offset, pos_docs, pos)
        return _joined(pos_docs), _joined(pos)

    # -- lengths ----------------------------------------------------------------------------------
    def lengths(self, field: str) -> tuple[np.ndarray, float]:
        """Per-document field lengths (Whoosh's one-byte approximation) and their average."""
        found = self._lengths.get(field)
        if found is not None:
            return found
        table = _byte_table()
        kept = self._kept_lengths.pop(field, np.zeros(0, dtype=np.float32))
        parts = [kept]
        for segment, offset in self.segments:
            if offset < len(kept):
                continue
            reader = segment.reader
            codes = length_codes(reader, field)
            if codes is not None:
                parts.append(table[codes])
            else:  # another codec: the slow, public way
                parts.append(
                    np.array([reader.doc_field_length(d, field) or 0 for d in range(reader.doc_count_all())], dtype=np.float32)
                )
        lengths = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        # Whoosh's exact total counts every stored document, deleted ones too (until a merge drops
        # them): divided by all of them it stays an estimate of the average a clean index would give.
        total = self.searcher.reader().field_length(field)
        average = (total / max(1, self.doc_count)) or 1.0
        self._lengths[field] = (lengths, average)
        return lengths, average

    def doc_freq(self, field: str, text: str) -> int:
        """From the term infos of every segment (deleted documents count until a merge drops them),
        kept per searcher: each segment's lookup is a hash probe in Python."""
        if not text:
            return 0
        key = (field, text)
        found = self._doc_freqs.get(key)
        if found is None:
            if len(self._doc_freqs) >= MAX_DOC_FREQS:
                self._doc_freqs.clear()
            found = sum(int(info.doc_frequency()) for info in self._term_infos(field, text) if info is not None)
            self._doc_freqs[key] = found
        return found

    def _term_infos(self, field: str, text: str) -> tuple[Any, ...]:
        """The term's info in each segment (None where it is absent), kept for the last MAX_INFOS terms:
        a term counted for ranking is usually read next, and each lookup is a probe per segment."""
        key = (field, text)
        found: tuple[Any, ...] | None = self._touch(self._infos, key)
        if found is not None:
            return found
        found = tuple(segment.info(field, text) for segment, _ in self.segments)
        with self._lock:
            self._infos[key] = found
            while len(self._infos) > MAX_INFOS:
                self._infos.popitem(last=False)
        return found

    def live_freq(self, field: str, text: str) -> int:
        hit = self.cached(field, text)
        if hit is not None:
            return len(hit.ids)
        if self.live_count == self.doc_count:
            return self.doc_freq(field, text)
        return len(self.get(field, text).ids)

    def idf_of(self, df: int) -> float:
        """BM25's IDF of a term held by `df` live documents."""
        return bm25_idf(self.live_count, df)

    # -- scoring ----------------------------------------------------------------------------------
    def scores(self, terms: list[tuple[str, str, float]], docs: np.ndarray) -> np.ndarray | None:
        """None: Whoosh scores term by term from the cached postings (the engine's loop, with its deadline)."""
        return None

    def bm25(self, field: str, text: str, docs: np.ndarray, boost: float) -> np.ndarray:
        """BM25 of one term in one field for `docs` (sorted, live); 0 where the term is absent.

        A term many more documents hold than `docs` (a common word scored over a few candidates) is
        not read whole: only the blocks that may hold those documents are decoded."""
        out = np.zeros(len(docs), dtype=np.float32)
        if not len(docs):
            return out
        posting = self.cached(field, text)
        df = self.doc_freq(field, text) if posting is None and self.live_count == self.doc_count else 0
        if df and self._few(docs, df):  # nothing deleted: the dictionary's count is exact
            ids, weights = self._within(field, text, docs)
        else:
            posting = posting if posting is not None else self.get(field, text)
            ids, weights, df = posting.ids, posting.weights, len(posting.ids)
        if not len(ids):
            return out
        held = values_at(ids, weights, docs, self.doc_count)  # 0 where absent (a score of 0 all the same)
        present = np.flatnonzero(held)
        if not len(present):
            return out
        tf = held[present]
        lengths, average = self.lengths(field)
        b = FIELD_B.get(field, B)
        norm = K1 * (1 - b + b * lengths[docs[present]] / average)
        out[present] = boost * self.idf_of(df) * tf * (K1 + 1) / (tf + norm)
        return out

    def _within(self, field: str, text: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, weights) of the term's postings in the blocks that may hold `docs` (and others)."""
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for found, offset in self._segments_within(field, text, docs, values=False):
            ids.append(found.ids + offset)
            weights.append(found.weights)
        return _joined(ids), np.concatenate(weights) if weights else np.zeros(0, dtype=np.float32)


def _add_positions(found: TermPostings, offset: int, pos_docs: list[np.ndarray], pos: list[np.ndarray]) -> None:
    """Append a segment's (document, position) pairs, from each posting's packed positions."""
    assert found.values is not None
    counts = np.fromiter(map(len, found.values), dtype=np.int64, count=len(found.values)) >> 2
    pos.append(np.frombuffer(b"".join(found.values), dtype=np.uint32).astype(np.int64))
    pos_docs.append(np.repeat(found.ids + offset, counts))


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else EMPTY


def phrase_docs(cache: PostingCache, field: str, run: list[str], within: np.ndarray | None = None) -> np.ndarray:
    """Documents where the run's tokens sit at consecutive positions (optionally only among `within`).

    A token many more documents hold than the candidates is not read whole: its documents and
    positions are read from the candidates' blocks only (a phrase bonus over a page of candidates
    need not read every 的 in the index)."""
    n = cache.doc_count
    if len(run) == 1:
        ids = cache.get(field, run[0]).ids
        return ids if within is None else intersect(within, ids, n)
    rarest_first = sorted(set(run), key=lambda t: cache.doc_freq(field, t))
    candidates = cache.get(field, rarest_first[0]).ids if within is None else within
    for text in rarest_first[1:] if within is None else rarest_first:
        if not len(candidates):  # pasted text no document holds fails after a few terms
            return EMPTY
        candidates = cache.among(field, text, candidates)
    if not len(candidates):
        return EMPTY
    keys = None
    member = np.zeros(n, dtype=bool)
    member[candidates] = True
    for i, text in enumerate(run):
        pos_docs, pos = cache.positions(field, text, candidates)
        mask = member[pos_docs]
        # Sorted by document, then position: a posting's positions ascend within each document.
        k = pos_docs[mask] * (1 << 32) + (pos[mask] - i + (1 << 20))  # the shift keeps p - i non-negative
        k = dedupe_sorted(k) if bool(np.all(k[1:] >= k[:-1])) else np.unique(k)
        keys = k if keys is None else keys[locate(k, keys)[1]] if len(k) else EMPTY
        if not len(keys):
            return EMPTY
    assert keys is not None
    return dedupe_sorted(keys >> 32)
