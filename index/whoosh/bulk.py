"""Bulk segment writer: text-field postings gathered as arrays and written a term at a time.

Whoosh's writer sends every posting through Python three times (the field's `index`, the posting
pool, the postings writer), which costs more than segmenting the text. For a full rebuild this
writer keeps each text field's tokens as numpy arrays (term, document, position, boost), sorts them
and hands Whoosh's codec whole terms; character bigrams are computed on the code point array without
any per-token Python. Past its memory budget, a writer spills its sorted tokens as runs to disk and
merges them when it writes the segment, so a segment is not bounded by memory (SEGMENT_TOKENS bounds
it, for disk). The segments it writes are ordinary Whoosh segments, posting for posting the ones
`SegmentWriter` writes (tests/index/whoosh/test_bulk.py compares them).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.writing import PostingPool, SegmentWriter

from index.analysis import BigramTokenizer, ChineseTokenizer, normalize, word_tokens
from index.whoosh.codec import FieldWriter, codec
from index.whoosh.schema import CompactPositions

log = logging.getLogger(__name__)

BYTES_PER_TOKEN = 80  # buffered arrays plus the sort's temporaries, per token
CHUNK_POSTINGS = 1 << 20  # postings handed to the codec at a time
MERGE_TOKENS = 1 << 22  # tokens of spilled runs merged at a time (whole terms, so a common one may be more)
# A worker's segment holds at most this many tokens (about 150,000 of the bench's documents): past it, it starts
# another. Writing a segment needs its runs, its files and Whoosh's compound copy of them on disk at
# once, so this bounds the rebuild's peak of disk beyond the index, while a 100k rebuild still
# writes one segment per worker.
SEGMENT_TOKENS = 1 << 27
SAMPLE = 1 << 14  # every SAMPLE-th token of a run is a candidate edge between merge chunks
_ALNUM: np.ndarray | None = None


def alnum_table() -> np.ndarray:
    """`str.isalnum` of every code point, as a lookup array (built once per process, ~1 MB)."""
    global _ALNUM
    if _ALNUM is None:
        _ALNUM = np.fromiter((chr(c).isalnum() for c in range(0x110000)), dtype=bool, count=0x110000)
    return _ALNUM


def bigram_arrays(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(keys, positions) of BigramTokenizer's tokens: key = first code point << 21 | second.

    Keys sort like the tokens' UTF-8 bytes, which is the order Whoosh keeps terms in.
    """
    norm = normalize(text)
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    word = codes[alnum_table()[codes]]  # punctuation and spaces skipped: bigrams bridge them
    if len(word) < 2:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32)
    keys = (word[:-1].astype(np.uint64) << np.uint64(21)) | word[1:].astype(np.uint64)
    return keys, np.arange(len(keys), dtype=np.int32)


def _key_text(key: int) -> bytes:
    return (chr(key >> 21) + chr(key & 0x1FFFFF)).encode("utf-8")


_RUN_PARTS = ("keys", "docs", "positions", "boosts")


@dataclass
class _Sorted:
    """One field's tokens sorted by term, in document and position order within a term."""

    keys: np.ndarray  # bigram keys, or word ranks in text order
    docs: np.ndarray
    positions: np.ndarray
    boosts: np.ndarray | None  # None: every boost is 1 (bigrams)

    def save(self, prefix: str) -> None:
        """Write the arrays as a run on disk, one .npy file each (`prefix`.keys.npy ...)."""
        for part in _RUN_PARTS:
            array = getattr(self, part)
            if array is not None:
                np.save(f"{prefix}.{part}.npy", array)

    @staticmethod
    def load(prefix: str) -> _Sorted:
        """A run written by `save`, memory-mapped."""
        paths = [Path(f"{prefix}.{part}.npy") for part in _RUN_PARTS]
        keys, docs, positions, boosts = (np.load(p, mmap_mode="r") if p.exists() else None for p in paths)
        assert keys is not None and docs is not None and positions is not None
        return _Sorted(keys, docs, positions, boosts)

    @staticmethod
    def remove(prefix: str) -> None:
        """Delete a run's files (mapped arrays stay readable until dropped)."""
        for part in (*_RUN_PARTS, "ranks"):
            Path(f"{prefix}.{part}.npy").unlink(missing_ok=True)

    def part(self, lo: int, hi: int) -> _Sorted:
        boosts = None if self.boosts is None else np.asarray(self.boosts[lo:hi])
        return _Sorted(np.asarray(self.keys[lo:hi]), np.asarray(self.docs[lo:hi]), np.asarray(self.positions[lo:hi]), boosts)


@dataclass
class _FieldBuffer:
    """One text field's tokens in this segment: one array chunk per document since the last spill,
    and the runs spilled to disk before it."""

    grams: bool
    terms: list[np.ndarray] = field(default_factory=list)
    docs: list[np.ndarray] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    boosts: list[np.ndarray] = field(default_factory=list)
    tokens: int = 0
    runs: list[str] = field(default_factory=list)  # file prefixes of the spilled runs, in document order

    def add(self, docnum: int, terms: np.ndarray, positions: np.ndarray, boosts: np.ndarray) -> int:
        n = len(terms)
        if n:
            self.terms.append(terms)
            self.docs.append(np.full(n, docnum, dtype=np.int32))
            self.positions.append(positions)
            self.boosts.append(boosts)
            self.tokens += n
        return n

    def drop_doc(self, docnum: int) -> None:
        """Undo a document's tokens (the document failed half way)."""
        if self.docs and self.docs[-1][0] == docnum:
            self.tokens -= len(self.docs[-1])
            for chunks in (self.terms, self.docs, self.positions, self.boosts):
                chunks.pop()

    def take(self, rank_of: np.ndarray | None, ids: bool = False) -> _Sorted:
        """The buffered tokens sorted by term, emptying the buffer. Keys are bigram keys, or the words'
        ranks in `rank_of` (their ids with `ids`: a spilled run's ranks change as words are added)."""
        terms = np.concatenate(self.terms)
        keys = terms if rank_of is None else rank_of[terms]
        order = np.argsort(keys, kind="stable")  # documents and positions stay in order within a term
        taken = _Sorted(
            (terms if ids else keys)[order],
            np.concatenate(self.docs)[order],
            np.concatenate(self.positions)[order],
            None if self.grams else np.concatenate(self.boosts)[order],
        )
        self.terms, self.docs, self.positions, self.boosts = [], [], [], []
        self.tokens = 0
        return taken


class BulkWriter(SegmentWriter):
    """A SegmentWriter for new documents whose text fields bypass the posting pool.

    Only `add_document` and `commit` are meant to be used: no merging of older segments (it is for
    building a new index) and no field boosts or custom stored values.
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        kwargs.setdefault("codec", codec())
        super().__init__(ix, **kwargs)
        # Whoosh names the temporary directory after the index, so writers side by side would share
        # it (and the first to finish would remove it): each bulk writer takes its own.
        self._tempstorage = self.storage.temp_storage(f"{self.indexname}.{self.newsegment.segid}.tmp")
        self.pool = PostingPool(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))
        self._buffers: dict[str, _FieldBuffer] = {}
        self._words: dict[str, int] = {}
        self.spilled_tokens = 0
        for name, fieldobj in self.schema.items():
            if isinstance(fieldobj.format, CompactPositions) and not fieldobj.vector:
                self._buffers[name] = _FieldBuffer(grams=isinstance(fieldobj.analyzer, BigramTokenizer))

    @property
    def buffered_tokens(self) -> int:
        return sum(b.tokens for b in self._buffers.values())

    def _word_ranks(self) -> tuple[list[str], np.ndarray]:
        """The words seen so far in Whoosh's term order, and each word id's rank in that order."""
        texts = sorted(self._words)  # code point order = UTF-8 byte order = Whoosh's term order
        ids_in_order = np.fromiter((self._words[t] for t in texts), dtype=np.int64, count=len(texts))
        rank_of = np.empty(len(texts), dtype=np.int32)
        rank_of[ids_in_order] = np.arange(len(texts), dtype=np.int32)
        return texts, rank_of

    def spill(self) -> None:
        """Move the buffered tokens to sorted runs on disk, merged when the segment is written: a
        segment's size is then not bounded by the memory its postings take to sort."""
        folder = Path(self._tempstorage.folder)
        rank_of = self._word_ranks()[1]
        for name, buffer in self._buffers.items():
            if not buffer.tokens:
                continue
            taken = buffer.take(None if buffer.grams else rank_of, ids=True)
            prefix = str(folder / f"{name}.run{len(buffer.runs)}")
            taken.save(prefix)
            buffer.runs.append(prefix)
            self.spilled_tokens += len(taken.keys)

    def _word_arrays(self, fieldobj: Any, value: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        analyzer = fieldobj.analyzer
        if isinstance(analyzer, ChineseTokenizer):  # the tokenizer's own core, without Token objects
            items = [(text, boost, pos) for text, _, _, boost, pos in word_tokens(normalize(value), analyzer.dict_id)]
        else:
            items = [(t.text, t.boost, t.pos) for t in analyzer(value, positions=True, boosts=True, mode="index")]
        if not items:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64)
        texts, boosts, poses = zip(*items)
        words = self._words
        ids = [words.get(text, -1) for text in texts]
        if -1 in ids:
            for i, tid in enumerate(ids):
                if tid < 0:
                    ids[i] = words.setdefault(texts[i], len(words))
        return (np.array(ids, dtype=np.int32), np.array(poses, dtype=np.int32), np.array(boosts, dtype=np.float64))

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("the bulk writer takes no boosts or custom stored values (fields starting with _)")
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        names = sorted(fields)
        self._check_fields(schema, names)
        posts: list[tuple[str, bytes, int, float, bytes]] = []  # pooled only once the whole document is in
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                fieldobj = schema[name]
                length = 0
                if fieldobj.indexed:
                    buffer = self._buffers.get(name)
                    if buffer is not None:
                        if buffer.grams:
                            keys, poses = bigram_arrays(value)
                            length = buffer.add(docnum, keys, poses, np.ones(len(keys)))
                        else:
                            length = buffer.add(docnum, *self._word_arrays(fieldobj, value))
                    else:
                        for tbytes, freq, weight, vbytes in fieldobj.index(value):
                            if fieldobj.scorable:
                                length += freq
                            posts.append((name, tbytes, docnum, weight, vbytes))
                perdoc.add_field(name, fieldobj, value if fieldobj.stored else None, length)
                if fieldobj.column_type:
                    perdoc.add_column_value(name, fieldobj.column_type, fieldobj.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            for buffer in self._buffers.values():
                buffer.drop_doc(docnum)
            raise
        for post in posts:
            self.pool.add(post)
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader: Any) -> None:
        raise NotImplementedError("the bulk writer builds new segments; merge with Whoosh's own writer")

    def _merge_segments(self, mergetype: Any, optimize: Any, merge: Any) -> list[Any]:
        return list(self.segments)  # a new index: nothing to merge

    def _flush_segment(self) -> None:
        """Fields in name order: pooled ones through Whoosh's own posting loop, buffered ones as arrays."""
        self.perdocwriter.close()
        pending = sorted(self._buffers)
        for name, postings in groupby(self.pool.iter_postings(), key=itemgetter(0)):
            while pending and pending[0] < name:
                self._write_field(pending.pop(0))
            self.fieldwriter.add_postings(self.schema, None, postings)
        for name in pending:
            self._write_field(name)
        self.fieldwriter.close()

    def _write_field(self, name: str) -> None:
        buffer = self._buffers[name]
        if not buffer.tokens and not buffer.runs:
            return
        fieldobj = self.schema[name]
        texts, rank_of = (None, None) if buffer.grams else self._word_ranks()
        sources = [self._run(prefix, rank_of) for prefix in buffer.runs]
        if buffer.tokens:
            sources.append(buffer.take(rank_of))
        fw: FieldWriter = self.fieldwriter
        fw.start_field(name, fieldobj)
        for chunk in _merged(sources):
            self._write_terms(fieldobj, texts, chunk)
        fw.finish_field()
        del sources
        for prefix in buffer.runs:  # merged: their disk is freed before the segment is assembled
            _Sorted.remove(prefix)
        buffer.runs = []

    def _run(self, prefix: str, rank_of: np.ndarray | None) -> _Sorted:
        """A spilled run, memory-mapped; its word ids become ranks in the final term order (which
        keeps the run sorted: the words it holds keep their relative order as others are added)."""
        run = _Sorted.load(prefix)
        if rank_of is not None:
            ranks = np.lib.format.open_memmap(f"{prefix}.ranks.npy", mode="w+", dtype=np.int32, shape=run.keys.shape)
            for lo in range(0, len(ranks), MERGE_TOKENS):
                ranks[lo : lo + MERGE_TOKENS] = rank_of[run.keys[lo : lo + MERGE_TOKENS]]
            run.keys = ranks
        return run

    def _write_terms(self, fieldobj: Any, texts: list[str] | None, tokens: _Sorted) -> None:
        """Hand the codec the postings of whole terms, from their tokens sorted by term."""
        ranks, docs, positions = tokens.keys, tokens.docs, tokens.positions
        boosts = np.ones(len(ranks)) if tokens.boosts is None else tokens.boosts
        # Postings: runs of one (term, document); terms: runs of one term among the postings.
        n = len(ranks)
        change = np.flatnonzero((ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [n]))
        post_docs = docs[starts]
        post_weights = np.add.reduceat(boosts, starts) * fieldobj.format.field_boost
        post_ranks = ranks[starts]
        blob = positions.astype("<u4").tobytes()
        term_starts = np.flatnonzero(np.concatenate(([True], post_ranks[1:] != post_ranks[:-1])))
        term_ends = np.concatenate((term_starts[1:], [len(post_ranks)]))

        fw: FieldWriter = self.fieldwriter
        # In chunks of whole terms, so the Python lists add_terms wants stay small.
        first = 0
        while first < len(term_starts):
            last = int(np.searchsorted(term_starts, term_starts[first] + CHUNK_POSTINGS, side="right"))
            last = max(last, first + 1)
            lo, hi = int(term_starts[first]), int(term_ends[last - 1])
            ranks_here = post_ranks[term_starts[first:last]].tolist()
            if texts is None:
                btexts = [_key_text(rank) for rank in ranks_here]
            else:
                btexts = [texts[rank].encode("utf-8") for rank in ranks_here]
            bounds = (term_starts[first:last] - lo).tolist() + [hi - lo]
            offsets = (np.append(starts[lo:hi], ends[hi - 1]) * 4).tolist()
            values = [blob[a:b] for a, b in zip(offsets, offsets[1:])]
            fw.add_terms(btexts, bounds, post_docs[lo:hi].tolist(), post_weights[lo:hi].tolist(), values)
            first = last


def _merged(sources: list[_Sorted]) -> Iterable[_Sorted]:
    """The tokens of sorted sources (in document order: runs, then what was buffered last) as one
    sorted stream, in pieces of about MERGE_TOKENS that each hold whole terms (so the postings built
    from a piece stay small)."""
    samples = np.sort(np.concatenate([np.asarray(s.keys[::SAMPLE]) for s in sources]))
    edges = np.unique(samples[:: max(1, MERGE_TOKENS // SAMPLE)])[1:]  # each piece starts at an edge
    bounds = [[0, *np.searchsorted(s.keys, edges, side="left").tolist(), len(s.keys)] for s in sources]
    for i in range(len(edges) + 1):
        parts = [s.part(b[i], b[i + 1]) for s, b in zip(sources, bounds) if b[i + 1] > b[i]]
        if len(parts) < 2:
            yield from parts
            continue
        keys = np.concatenate([p.keys for p in parts])
        order = np.argsort(keys, kind="stable")  # sources in document order: a term's postings stay so
        boosts = None if parts[0].boosts is None else np.concatenate([p.boosts for p in parts])[order]
        yield _Sorted(
            keys[order],
            np.concatenate([p.docs for p in parts])[order],
            np.concatenate([p.positions for p in parts])[order],
            boosts,
        )


# -- a parallel rebuild -------------------------------------------------------------------------------
@dataclass
class _Part:
    lo: int  # catalog sequence range (lo, hi]
    hi: int


def _index_range(
    ix: Any, documents: Callable[[int, int], Iterable[dict[str, Any]]], part: _Part, max_tokens: int, counted: Callable[[], None]
) -> list[Any]:
    """Index the documents of one sequence range into new segments of up to SEGMENT_TOKENS tokens;
    returns them. Buffered tokens past `max_tokens` are spilled to sorted runs on disk."""
    segments = []
    writer = BulkWriter(ix, _lk=False)
    try:
        for fields in documents(part.lo, part.hi):
            writer.add_document(**fields)
            counted()
            if writer.spilled_tokens + writer.buffered_tokens > SEGMENT_TOKENS:
                segments.append(_finish(writer))
                writer = BulkWriter(ix, _lk=False)
            elif writer.buffered_tokens > max_tokens:
                writer.spill()
    except BaseException:
        writer.cancel()  # its spilled runs go with its temporary directory
        raise
    if writer._added:
        segments.append(_finish(writer))
    else:
        writer.cancel()
    return segments


def _worker(
    ix: Any, documents: Callable[[int, int], Iterable[dict[str, Any]]], part: _Part, max_tokens: int, done: Any, results: Any
) -> None:
    """A forked worker: its segments, or the traceback of what went wrong, go back to the parent."""
    # The parent's handlers (the scheduler's graceful stop) are not the worker's: a stop signal ends
    # it, and the parent, seeing it gone, abandons the rebuild and keeps the old index.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def counted() -> None:
        with done.get_lock():
            done.value += 1

    try:
        results.put(("ok", _index_range(ix, documents, part, max_tokens, counted)))
    except Exception:
        results.put(("error", traceback.format_exc()))


def _finish(writer: BulkWriter) -> Any:
    segment = writer._finalize_segment()
    writer._finish()
    return segment


def build(
    ix: Any,
    documents: Callable[[int, int], Iterable[dict[str, Any]]],
    cuts: list[int],
    limit_mb: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index documents into the empty index `ix`, one forked worker per range (cuts[k], cuts[k+1]].

    `documents(lo, hi)` yields index fields and is called in the workers (a fresh catalog
    connection per worker). Each worker writes a segment per SEGMENT_TOKENS tokens (one at 100k
    documents); past `limit_mb` its buffers are spilled to sorted runs on disk and merged when the
    segment is written.
    Returns the number of documents; the index is unchanged if anything fails.
    """
    alnum_table()  # built once, before the fork, and shared with the workers
    max_tokens = max(10_000, limit_mb * (1 << 20) // BYTES_PER_TOKEN)
    parts = [_Part(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:])]
    writer = ix.writer(codec=codec())  # holds the index lock and commits the segments
    try:
        if len(parts) == 1:
            count = 0

            def counted() -> None:
                nonlocal count
                count += 1
                if progress and count % 100 == 0:
                    progress(count)

            segments = _index_range(ix, documents, parts[0], max_tokens, counted)
        else:
            context = multiprocessing.get_context("fork")
            done = context.Value("q", 0)
            results = context.Queue()
            workers = [
                context.Process(
                    target=_worker, args=(ix, documents, part, max_tokens, done, results), name=f"xxgk-index-{k}", daemon=True
                )
                for k, part in enumerate(parts)
            ]
            for w in workers:
                w.start()
            answers = _wait(workers, results, done, progress)
            segments = _collect(answers)
            count = done.value
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        writer.cancel()
        raise
    log.info("indexed %d documents into %d segments (%d workers)", count, len(segments), len(parts))
    if progress:
        progress(count)
    return count


def _wait(workers: list[Any], results: Any, done: Any, progress: Callable[[int], None] | None) -> list[Any]:
    answers: list[Any] = []
    try:
        while len(answers) < len(workers):
            try:
                answers.append(results.get(timeout=0.5))
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    dead = [f"{w.name} exit {w.exitcode}" for w in workers if w.exitcode not in (None, 0)]
                    raise RuntimeError(f"index worker died ({', '.join(dead)})") from None
            if progress:
                progress(done.value)
        for w in workers:
            w.join()
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join()
    return answers


def _collect(answers: list[Any]) -> list[Any]:
    segments: list[Any] = []
    for status, payload in answers:
        if status != "ok":
            raise RuntimeError(f"an index worker failed:\n{payload}")
        segments.extend(payload)
    return segments


def worker_count(total: int, parallel_from: int) -> int:
    """Processes for a rebuild of `total` documents: two cores' worth past `parallel_from`."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, 2)) if total >= parallel_from else 1


__all__ = ["BulkWriter", "bigram_arrays", "build", "worker_count"]
