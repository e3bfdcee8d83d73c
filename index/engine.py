"""The search engine over any index reader: plan queries as numpy set algebra over postings, score
with BM25F, count facets from columns, page hits.

An engine package (index/whoosh, index/tantivy) supplies a `Reader`: term postings as sorted arrays of
document numbers, with BM25 for a term over a set of documents, phrase matches, stored fields and the
facet columns of one unchanging view of its index. Everything a user sees of ranking, the relaxation
ladder, facets, collapse, snippets and related documents is decided here, once for every engine.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from archive.errors import XxgkError
from index import analysis, dictionary, learned, vocabulary
from index.api import (
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    TIER_LABELS,
    UNKNOWN_YEAR,
    Copy,
    FacetValue,
    Hit,
    IndexedDocument,
    IndexStatus,
    NearDocNo,
    Related,
    SearchRequest,
    SearchResult,
)
from index.build import META_FILE
from index.docno import parse_doc_no
from index.errors import EngineError, QueryError
from index.highlight import highlight_all, query_needles, snippet
from index.query import Clause, ParsedQuery, date_bounds, parse_query
from index.sets import EMPTY, code_keys, difference, intersect, labelled, union

log = logging.getLogger(__name__)
_F = TypeVar("_F", bound=Callable[..., Any])

# Boosts: a word match ranks above a bigram-only match, the title above the body; 文号 highest.
TITLE_WORD, BODY_WORD, TITLE_GRAM, BODY_GRAM, DOC_NO = 6.0, 1.5, 2.0, 0.3, 8.0
PHRASE_BONUS = 2.0  # the words of a term side by side, as typed
DOC_KEY_BOOST = 1000.0  # the query is this document's 文号
MAX_EXPANSIONS = 64  # agency:/category: values one clause may stand for
MAX_TERMS = 160  # index terms one query scores with (the most informative ones, for pasted text)
MAX_UNITS, MAX_GRAMS = 12, 32  # a pasted passage is matched by this many of its rarest words, and their bigrams
SYNONYM_WEIGHT = 0.5  # a synonym's terms score half of the typed words'
MOST_WORDS = 0.45  # "most words": a document holds this share of the query's informative words, by IDF
GRAM_COVERAGE = 0.6  # "similar text": a document holds this share of the query's bigrams, by IDF
WINDOW, MAX_WINDOWS = 8, 6  # a long pasted string is matched as a few windows of this many bigrams
RARE_WORDS, MAX_VERIFIED = 6, 200  # or by its rarest words' bigrams, the few holders checked on their text
ALL_WORDS, MOST = 1, 2  # rungs of the relaxation ladder (indexes into TIER_NAMES)
TIER_NAMES = tuple(TIER_LABELS)
FEW = 20  # the similar-text tier is computed only when the tiers above hold fewer results
MAX_BONUS = 40  # phrase bonuses one query may look up
MAX_CANDIDATES = 8  # typo correction: candidates checked against the documents
TIME_LIMIT_S = 3.0
_COLUMNS = ("category", "agency", "year", "status", "validity")


class Postings(Protocol):
    """A reader's term postings: sorted live document numbers, IDF and BM25 of one term."""

    doc_count: int  # the size of document-number arrays (deleted documents included)
    live_count: int

    def get(self, field: str, text: str) -> Any:
        """The term's posting: its `ids` are the sorted numbers of the live documents holding it."""
        ...

    def idf_of(self, df: int) -> float: ...

    def doc_freq(self, field: str, text: str) -> int:
        """How many documents hold the term, from the term dictionary (deleted ones may count)."""
        ...

    def among(self, field: str, text: str, docs: np.ndarray) -> np.ndarray:
        """The documents of `docs` (sorted, live) that hold the term (perhaps without reading it whole)."""
        ...

    def live_freq(self, field: str, text: str) -> int:
        """How many live documents hold the term (its IDF's count), without reading its postings where
        the dictionary's count is already exact (no document deleted)."""
        ...

    def bm25(self, field: str, text: str, docs: np.ndarray, boost: float) -> np.ndarray:
        """BM25 of one term in one field for `docs` (sorted); 0 where the term is absent."""
        ...

    def scores(self, terms: list[tuple[str, str, float]], docs: np.ndarray) -> np.ndarray | None:
        """The summed BM25 of (field, text, boost) terms for `docs` (sorted) in one pass, when the
        engine can do that cheaper than term by term; None otherwise."""
        ...


class Reader(Protocol):
    """One unchanging view of an engine's index, as the engine plans and ranks over it."""

    @property
    def postings(self) -> Postings: ...

    long_phrases: bool
    """Whether a phrase of hundreds of tokens costs about what its rarest token does (tantivy, which
    intersects postings in Rust); Whoosh reads every token's positions into Python, so there pasted
    text is found by its rarest words and checked on the stored text instead."""

    @property
    def live(self) -> np.ndarray:
        """Per document number: not deleted."""
        ...

    def phrase(self, field: str, run: list[str], within: np.ndarray | None = None) -> np.ndarray:
        """Documents (among `within`) holding the run's tokens at consecutive positions."""
        ...

    def stored(self, docnum: int) -> dict[str, Any]:
        """The stored fields of a document: id, title, url, agency, category, doc_no, pubdate, listdate,
        status, validity, group, text, seq."""
        ...

    changed: np.ndarray | None
    """When this reader was reopened from the engine's previous one and keeps its document numbers:
    the numbers whose documents were written since (new, or rewritten in place); any other live
    number holds the same document as before. None when the reader numbered its documents afresh."""

    def column(self, name: str) -> list[Any]:
        """A number column, one value per document number: pubdate, listdate."""
        ...

    def coded_column(self, name: str) -> tuple[list[str], np.ndarray]:
        """A keyword column (category, agency, year, status, validity, group) as `index.sets.code_values`
        of its value per document number gives it."""
        ...

    def rows(self, names: tuple[str, ...], docs: np.ndarray) -> dict[str, list[Any]]:
        """Columns of a few documents, each document read once: per name, a keyword column's values
        ("" for none) or a number column's (0 for none)."""
        ...

    def doc_count(self) -> int: ...

    def up_to_date(self) -> bool: ...

    def reopen(self) -> Reader:
        """A reader of the index's latest commit."""
        ...

    def close(self) -> None: ...


def _close_reader(holder: list[Any]) -> None:
    if holder[0] is not None:
        holder[0].close()
        holder[0] = None


@dataclass
class _Plan:
    """Matching documents (sorted numbers), the (field, text, boost) terms that score them, and the
    (field, run, boost) phrases that add a bonus; `pinned` marks a 文号 match that ranks first.

    A text clause also carries what the relaxation ladder needs: the documents holding its exact
    string, its informative words each with the documents holding it (`units`), its bigrams, and
    the synonym-table words it was expanded with."""

    docs: np.ndarray
    scoring: list[tuple[str, str, float]]
    bonus: list[tuple[str, list[str], float]]
    pinned: bool = False
    pinned_docs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    exact: np.ndarray | None = None
    units: list[tuple[str, np.ndarray]] = field(default_factory=list)
    grams: list[str] = field(default_factory=list)
    expanded: list[str] = field(default_factory=list)
    tiers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # per document of `docs`


@dataclass
class _Column:
    """A facet column over document numbers: distinct values and one code per document."""

    values: list[str]
    codes: np.ndarray


def _grown(col: _Column, n: int, changed: np.ndarray, values: list[str]) -> _Column:
    """`col` over `n` document numbers, the `changed` ones holding `values`."""
    merged = sorted(set(col.values) | set(values))
    index = {v: i for i, v in enumerate(merged)}
    remap = np.array([index[v] for v in col.values] + [-1], dtype=np.int32)  # code -1 (no value) stays -1
    codes = np.full(n, -1, dtype=np.int32)
    kept = min(n, len(col.codes))
    codes[:kept] = remap[col.codes[:kept]]
    codes[changed] = np.array([index[v] for v in values], dtype=np.int32)
    return _Column(merged, codes)


def _pruned(col: _Column, live: np.ndarray) -> _Column:
    """`col` without the values no live document holds (deleted documents' codes become -1 if theirs go)."""
    codes = col.codes[live]
    held = np.bincount(codes[codes >= 0], minlength=len(col.values)) > 0
    if held.all():
        return col
    remap = np.append(np.where(held, np.cumsum(held) - 1, -1), -1).astype(np.int32)
    return _Column([v for v, h in zip(col.values, held, strict=True) if h], remap[col.codes])


def _listyear(key: int) -> str:
    return str(key - 1) if key else ""


def _month(key: int) -> str:
    return f"{key - 1:02d}" if key else ""


MAX_COPIES = 50  # members of a group listed under its shown document


def _day(yyyymmdd: int) -> date | None:
    return date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100) if yyyymmdd else None


def _one_per_group(group: np.ndarray | None, tiers: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A mask keeping, of each group (group >= 0), the member of the best tier and then the highest key."""
    keep = np.ones(len(tiers), dtype=bool)
    if group is None:
        return keep
    grouped = np.flatnonzero(group >= 0)
    if not len(grouped):
        return keep
    order = grouped[np.lexsort((-key[grouped], tiers[grouped], group[grouped]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    keep[order[~first]] = False
    return keep


def _tiers_present(tiers: np.ndarray) -> list[int]:
    """The tiers that `tiers` holds, best first (counted, not sorted as np.unique would)."""
    return list(np.flatnonzero(np.bincount(tiers)).tolist())


def _first(key: np.ndarray, tiers: np.ndarray, group: np.ndarray | None, wanted: int) -> list[int]:
    """The indexes of the first `wanted` results: tier by tier, highest key first, a group shown once
    (by its member of the best tier and highest key)."""
    shown = _one_per_group(group, tiers, key)
    out: list[int] = []
    for tier in _tiers_present(tiers):
        if len(out) >= wanted:
            break
        members = np.flatnonzero((tiers == tier) & shown)
        keep = min(len(members), wanted - len(out))
        sub = key[members]
        top = np.argpartition(-sub, keep - 1)[:keep] if keep < len(members) else np.arange(len(members))
        out += members[top[np.argsort(-sub[top], kind="stable")]].tolist()
    return out


def _newest(when: np.ndarray, docnums: np.ndarray, among: np.ndarray, wanted: int) -> np.ndarray:
    """The first `wanted` of the indexes `among`, newest first (then the higher document number): the
    few wanted are picked before they are sorted, not every document sorted (browsing a million)."""
    key = when[among].astype(np.int64) << 32 | docnums[among]  # unique: document numbers are
    if len(among) > wanted:
        top = np.argpartition(-key, wanted - 1)[:wanted]
        among, key = among[top], key[top]
    return among[np.argsort(-key)]


def _contenders(scores: np.ndarray, tiers: np.ndarray, wanted: int, room: float, group: np.ndarray | None) -> np.ndarray:
    """A mask of the documents that may be among the first `wanted` (by tier, then score) once some
    of them gain up to `room` more score: in each tier, those within `room` of the score the tier's
    last shown place needs (a group counts once, by its best member, as the list shows it)."""
    out = np.zeros(len(scores), dtype=bool)
    shown = _one_per_group(group, tiers, scores)
    left = wanted
    for tier in _tiers_present(tiers):
        if left <= 0:
            break
        members = np.flatnonzero(tiers == tier)
        places = scores[members[shown[members]]]
        if len(places) <= left:
            out[members] = True
            left -= len(places)
            continue
        needed = np.partition(places, len(places) - left)[len(places) - left]  # the left-th highest
        out[members[scores[members] >= needed - room - 1e-3]] = True
        left = 0
    return out


def _distinct(docnums: np.ndarray, group: np.ndarray | None) -> int:
    """How many results `docnums` are when each group counts once."""
    if group is None:
        return int(len(docnums))
    g = group[docnums]
    return int(np.count_nonzero(g < 0) + len(np.unique(g[g >= 0])))


def _once_per_group(codes: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Facet codes with each (value, group) pair kept once: a group counts once under each of its values."""
    grouped = groups >= 0
    if not np.any(grouped):
        return codes
    pairs = np.unique(np.stack([codes[grouped], groups[grouped]]), axis=1)
    return np.concatenate([codes[~grouped], pairs[0]])


def _guarded(method: _F) -> _F:
    """An unexpected failure inside the engine is logged with its traceback, remembered for the health
    check, and raised as EngineError (a friendly 503), never as a bare exception."""

    @functools.wraps(method)
    def call(self: Engine, *args: Any, **kwargs: Any) -> Any:
        try:
            if self.dict_id and not analysis.has_dictionary(self.dict_id) and self._target is not None:
                # Other indexes opened in this process pushed ours out of the segmenters kept loaded.
                dictionary.load(self._target)
            return method(self, *args, **kwargs)
        except XxgkError:
            raise
        except Exception as exc:
            log.exception("search engine failed in %s", method.__name__)
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise EngineError(
                "检索服务暂时出错，请稍后再试。",
                "错误已记录；管理员可运行 `xxgk verify --index` 检查索引，必要时运行 `xxgk reindex`",
            ) from exc

    return call  # type: ignore[return-value]


class Engine:
    """One open index; safe to share between threads (searches are serialised on a lock).

    An engine package subclasses it with `backend`, `_check` (the index's meta, or IndexMissingError)
    and `_open_reader`."""

    backend = ""

    def __init__(
        self,
        index_path: Path,
        max_query_chars: int = 500,
        time_limit_s: float = TIME_LIMIT_S,
        synonyms: vocabulary.Synonyms | None = None,
    ) -> None:
        self.index_path = Path(index_path)
        self.synonyms = synonyms if synonyms is not None else vocabulary.load_synonyms()
        self._table = self.synonyms  # with the groups the open index learned (see _open)
        self._alternatives: dict[tuple[str, bool], np.ndarray | None] = {}  # per searcher
        self.max_query_chars = max_query_chars
        self.time_limit_s = time_limit_s
        self._lock = threading.RLock()
        self._target: Path | None = None
        self._reader: Any = None
        self._cols: dict[str, _Column] = {}
        self._coded: dict[str, _Column] = {}  # the keyword columns as read, kept for a reopen to extend
        self._pubdate = np.zeros(0, dtype=np.int64)
        self._listdate = np.zeros(0, dtype=np.int64)
        self._when = np.zeros(0, dtype=np.int64)
        self._live = np.zeros(0, dtype=bool)
        self._every_live = EMPTY
        self.dict_id = ""
        self.meta: dict[str, Any] = {}
        self._meta_seen = (0, 0)
        self.last_error = ""  # the last unexpected failure since the index last changed ("" when none)
        self._open_reader_slot: list[Any] = [None]
        weakref.finalize(self, _close_reader, self._open_reader_slot)
        self._open()

    def _check(self, index_path: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _open_reader(self, target: Path) -> Reader:
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------------------
    def _open(self) -> None:
        self._target = self.index_path.resolve()
        self._meta_seen = self._meta_stamp()
        self.meta = self._check(self.index_path)
        self.dict_id = dictionary.load(self._target)
        self._table = self.synonyms.with_groups(learned.load(self._target))
        analysis.segmenter(self.dict_id)  # the dictionary is loaded now, not in the first user's query
        vocabulary.neighbour_chars(self.dict_id)  # and the typo candidates' table
        self._reader = self._open_reader(self._target)
        # Segment files stay open while searched; an engine dropped without close() (a discarded
        # app, the end of the process) still closes them.
        self._open_reader_slot[0] = self._reader
        self._load_columns()
        self.last_error = ""

    def _load_columns(self, changed: np.ndarray | None = None) -> None:
        """The per-document columns of the reader; with `changed` (the reader kept the previous
        one's numbers), only those documents' values are read, the rest kept."""
        reader = self._reader
        self._live = live = reader.live
        self._every_live = np.flatnonzero(live)  # the base of a query with no fielded clause: read-only, shared
        self._every_live.flags.writeable = False
        self._postings = reader.postings
        self._alternatives = {}
        names = (*_COLUMNS, "group")
        if changed is None:
            cols = {name: _Column(*reader.coded_column(name)) for name in names}
            pubdate = np.array(reader.column("pubdate"), dtype=np.int64)
            listdate = np.array(reader.column("listdate"), dtype=np.int64)
        else:
            n = len(live)
            rows = reader.rows((*names, "pubdate", "listdate"), changed)
            cols = {name: _grown(self._coded[name], n, changed, rows[name]) for name in names}
            pubdate, listdate = (np.zeros(n, dtype=np.int64) for _ in range(2))
            for now, before, name in ((pubdate, self._pubdate, "pubdate"), (listdate, self._listdate, "listdate")):
                kept = min(n, len(before))  # a reader may hold fewer numbers (Whoosh merged its last segments)
                now[:kept] = before[:kept]
                now[changed] = np.array(rows[name], dtype=np.int64)
        # Values held by live documents only, so a long-running engine's columns equal a fresh one's.
        self._coded = {name: _pruned(col, live) for name, col in cols.items()}
        self._cols = {name: self._coded[name] for name in _COLUMNS}
        self._pubdate, self._listdate = pubdate, listdate
        # Sorting by date: the stated date, else the list date (after the dated documents of that day).
        self._when = np.where(pubdate > 0, pubdate * 2 + 1, listdate * 2)
        # 列表年份 of the documents stating no date (only those have a listdate; the facet within 日期不详).
        # Keys 0 for no date, else the year or month + 1 (a month may be 00 when only the year is known).
        self._cols["listyear"] = _pruned(_Column(*code_keys(np.where(listdate > 0, listdate // 10000 + 1, 0), _listyear)), live)
        self._cols["month"] = _pruned(_Column(*code_keys(np.where(pubdate > 0, pubdate // 100 % 100 + 1, 0), _month)), live)
        # The group of reposts and copies of each document (-1: none); results show one per group.
        group = self._coded["group"]
        blank = group.values.index("") if "" in group.values else -2
        self._group = np.where(group.codes == blank, -1, group.codes).astype(np.int64)

    @_guarded
    def refresh(self) -> None:
        """Pick up a swapped-in rebuild or new commits (cheap when nothing changed).

        New commits get a reader of their own (`Reader.reopen`).
        """
        with self._lock:
            if self.index_path.resolve() != self._target:
                self.close()
                try:
                    self._open()
                except BaseException:
                    self._target = None  # opened again on the next refresh, never left half-open
                    raise
                return
            # The writer records its catalog sequence after its commit, so the meta read first is never
            # ahead of the searcher opened after it.
            stamp = self._meta_stamp()
            if stamp != self._meta_seen:
                self._meta_seen = stamp
                self.meta = self._check(self.index_path)
            if not self._reader.up_to_date():
                old, new = self._reader, self._reader.reopen()
                self._reader = self._open_reader_slot[0] = new
                old.close()
                self._load_columns(new.changed)
                self.last_error = ""

    def _meta_stamp(self) -> tuple[int, int]:
        try:
            info = ((self._target or self.index_path) / META_FILE).stat()
        except OSError:
            return (0, 0)
        return (info.st_mtime_ns, info.st_size)

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._open_reader_slot[0] = None
            self._reader = None

    @_guarded
    def documents(self) -> list[IndexedDocument]:
        """Every live document in the index (id, catalog seq, status), in document-number order."""
        with self._lock:
            out = []
            for docnum in np.flatnonzero(self._live).tolist():
                fields = self._reader.stored(docnum)
                out.append(IndexedDocument(str(fields["id"]), int(fields.get("seq") or 0), str(fields.get("status", "active"))))
            return out

    @_guarded
    def status(self) -> IndexStatus:
        with self._lock:
            return IndexStatus(
                backend=self.backend,
                documents=int(self._reader.doc_count()),
                catalog_seq=int(self.meta.get("catalog_seq", 0)),
                built_at=self.meta.get("built_at"),
                updated_at=self.meta.get("synced_at") or self.meta.get("built_at"),
                last_error=self.last_error,
            )

    @_guarded
    def highlight(self, texts: list[str], q: str, literal: bool = False) -> list[str]:
        """Each text as escaped HTML with the words of the query `q` marked, segmented as the index was:
        as its results mark them, with the synonyms it searched too or a typo's correction (unless
        `literal`)."""
        needles: list[str] = []
        if q.strip():
            parsed = parse_query(q, self.max_query_chars)
            with self._lock:
                parsed, plan, _ = self._read(parsed, literal)
            needles = query_needles(parsed.positive_texts() + plan.expanded, self.dict_id)
        return [highlight_all(text, needles, self.dict_id) for text in texts]

    @_guarded
    def doc_count(self) -> int:
        with self._lock:
            return int(self._reader.doc_count())

    # -- compiling: a plan of document sets and scoring terms, evaluated with numpy -------------------
    def _exact(self, text: str, title_only: bool) -> np.ndarray | None:
        """Documents holding `text` as a string, punctuation-insensitive (None when it has no bigram).

        A long string (pasted text) is one phrase of all its bigrams where the reader makes that cheap;
        otherwise it is checked on the stored text of the few documents holding its rarest words, or
        as a few evenly spread windows of WINDOW bigrams.
        """
        cache = self._postings
        n = cache.doc_count
        grams = analysis.bigrams(text)
        if not grams:
            return None
        windows = [grams]
        if len(grams) > 2 * WINDOW and not self._reader.long_phrases:
            found = self._verified(text, title_only)
            if found is not None:
                return found
            count = min(MAX_WINDOWS, len(grams) // WINDOW)
            step = (len(grams) - WINDOW) / max(1, count - 1)
            windows = [grams[int(i * step) : int(i * step) + WINDOW] for i in range(count)]
        fields = ("title_ng",) if title_only else ("title_ng", "body_ng", "doc_no")
        per_field = []
        for f in fields:
            docs: np.ndarray | None = None
            for window in windows:
                docs = self._reader.phrase(f, window, within=docs)
                if not len(docs):
                    break
            if docs is not None:
                per_field.append(docs)
        return union(per_field, n)

    def _verified(self, text: str, title_only: bool) -> np.ndarray | None:
        """Documents holding a long string, found by its rarest bigrams and checked against the stored
        text; None when too many documents hold those bigrams to check one by one.

        Pasted text is mostly common bigrams, whose postings are large: the bigrams of its rarest
        words narrow the candidates for the price of a few small posting reads."""
        cache = self._postings
        n = cache.doc_count
        words = [w for run in analysis.word_runs(text, self.dict_id) for w in run if len(w) > 1]
        rare = list(dict.fromkeys(g for w in self._rarest(words)[:RARE_WORDS] for g in analysis.bigrams(w)))
        if not rare:
            return None
        fields = ("title_ng",) if title_only else ("title_ng", "body_ng")
        candidates = EMPTY
        for f in fields:  # the rarest bigram read whole, the others only where it is
            ordered = sorted(rare, key=lambda g: cache.doc_freq(f, g))
            docs = cache.get(f, ordered[0]).ids
            for g in ordered[1:]:
                if not len(docs):
                    break
                docs = cache.among(f, g, docs)
            candidates = union([candidates, docs], n)
        if len(candidates) > MAX_VERIFIED:
            return None
        wanted = analysis.skeleton(text)
        held = []
        for doc in candidates.tolist():
            stored = self._reader.stored(doc)
            values = (stored.get("title", ""),) if title_only else (stored.get("title", ""), stored.get("text", ""))
            if any(wanted in analysis.skeleton(v) for v in values):
                held.append(doc)
        return np.array(held, dtype=np.int64)

    def _holding(self, words: list[str], fields: tuple[tuple[str, float], ...]) -> list[tuple[str, np.ndarray]]:
        """Each word with the documents holding it in one of `fields`."""
        cache = self._postings
        return [(w, union([cache.get(f, w).ids for f, _ in fields], cache.doc_count)) for w in words]

    def _every(self, held: list[tuple[str, np.ndarray]]) -> np.ndarray | None:
        """Documents holding every word of `held` (None for no words)."""
        n = self._postings.doc_count
        return functools.reduce(lambda a, b: intersect(a, b, n), (d for _, d in held)) if held else None

    def _text(self, text: str, phrase: bool, title_only: bool = False, literal: bool = False, weight: float = 1.0) -> _Plan:
        """One text clause.

        Quoted: the exact string (punctuation-insensitive). Unquoted: the exact string ranks first
        (`exact`), then documents with every informative word (question words need not match), a
        synonym-table word being held by its words or, unless `literal`, by any of its alternatives
        (scored at SYNONYM_WEIGHT), or with every word of one way the dictionary covers an unbroken
        string (余杭区长 = 余杭区 + 区长). `units` (word, documents holding it or a synonym) feed the
        "most words" tier. A pasted passage is matched by its MAX_UNITS rarest words, as typed.
        """
        n = self._postings.doc_count
        word_runs = analysis.word_runs(text, self.dict_id)
        words = list(dict.fromkeys(w for run in word_runs for w in run))
        required = vocabulary.informative(words)
        pasted = len(required) > MAX_UNITS or len(analysis.skeleton(text)) > 2 * WINDOW
        if pasted:  # a pasted passage is matched by its rarest words, as the dictionary counts them
            keep = set(self._rarest(required)[:MAX_UNITS])
            required = [w for w in required if w in keep]
        fields = (("title", TITLE_WORD),) if title_only else (("title", TITLE_WORD), ("body", BODY_WORD))
        gram_fields = (
            (("title_ng", TITLE_GRAM),) if title_only else (("title_ng", TITLE_GRAM), ("body_ng", BODY_GRAM), ("doc_no", DOC_NO))
        )
        exact = self._exact(text, title_only)
        if phrase:
            docs = exact if exact is not None else self._every(self._holding(words, fields))
            if docs is None:
                raise QueryError(f"“{text}”中没有可检索的文字，请换一个词。")
            grams = list(dict.fromkeys(analysis.bigrams(text)))
            scoring = [(f, g, b * weight) for g in grams for f, b in gram_fields] + [
                (f, w, b * weight) for w in words for f, b in fields
            ]
            return _Plan(docs, scoring, [], exact=docs)
        # Without its question words (怎样申请低保 → 申请低保), for bigrams and synonyms.
        stripped = "".join(w for run in word_runs for w in run if w in required) if len(required) < len(words) else text
        units, alternatives = self._units(required, stripped, fields, title_only, literal or pasted)
        literal_every = self._every([(w, d) for w, d, _ in units])
        either = [(w, union([d, a], n)) for w, d, a in units]
        matches = [a for a in (exact, self._every(either)) if a is not None]
        # An unbroken string jieba splits (余杭区长 → 余杭 区长) may mean other words (余杭区 区长); one
        # jieba keeps whole (婚姻登记) is not taken apart.
        for cover in vocabulary.covers(text, self.dict_id) if 2 <= len(words) <= 3 else []:
            found = self._every(self._holding(cover, fields))
            if found is not None:
                matches.append(found)
        if not matches:
            raise QueryError(f"“{text}”中没有可检索的文字，请换一个词。")
        docs = union(matches, n)
        if pasted:  # the bigrams of its rarest words; its exact string (windows) ranks it already
            grams = list(dict.fromkeys(g for w in required for g in analysis.bigrams(w)))[:MAX_GRAMS]
            bonus = []
        else:
            grams = list(dict.fromkeys(analysis.bigrams(stripped)))
            bonus = [(f, run, b * PHRASE_BONUS * weight) for run in word_runs if len(run) > 1 for f, b in fields]
        scoring = [(f, w, b * weight) for w in required for f, b in fields] + [
            (f, g, b * weight) for g in grams for f, b in gram_fields
        ]
        # A synonym scores below the typed word, unless the typed wording finds nothing (低保 in an
        # archive that only says 最低生活保障): then the synonym is what the user means.
        found_literally = (exact is not None and len(exact)) or (literal_every is not None and len(literal_every))
        alt_weight = weight * (SYNONYM_WEIGHT if found_literally else 1.0 - 1e-3)
        for alt in alternatives:
            alt_words = [w for run in analysis.word_runs(alt, self.dict_id) for w in run]
            scoring += [(f, w, b * alt_weight) for w in alt_words for f, b in fields]
            scoring += [(f, g, b * alt_weight) for g in analysis.bigrams(alt) for f, b in gram_fields]
            if len(alt_words) > 1:
                bonus += [(f, alt_words, b * PHRASE_BONUS * alt_weight) for f, b in fields]
        return _Plan(
            docs,
            scoring,
            bonus,
            exact=exact,
            units=either,
            # A passage relaxes to most of its rarest words; bigram coverage is for a few typed words.
            grams=[] if pasted else grams,
            expanded=alternatives,
        )

    def _alternative(self, alt: str, title_only: bool) -> np.ndarray | None:
        """Documents holding a synonym-table word as a string; the table is small and its words recur
        in queries, so each is looked up once per searcher."""
        key = (alt, title_only)
        if key not in self._alternatives:
            self._alternatives[key] = self._exact(alt, title_only)
        return self._alternatives[key]

    def _rarest(self, words: list[str]) -> list[str]:
        """`words` (each once), rarest first by how many documents hold them in the title or the text
        (from the term dictionary, no posting read); words no document holds come last, as they match
        nothing. Of a long passage, only the 2 × MAX_UNITS words rarest in the dictionary are looked
        up and returned (a lookup costs Whoosh one hash probe per segment)."""
        words = list(dict.fromkeys(words))
        if len(words) > 2 * MAX_UNITS:
            freq = analysis.segmenter(self.dict_id).FREQ
            words = sorted(words, key=lambda w: (freq.get(w) or 0, -len(w)))[: 2 * MAX_UNITS]
        cache = self._postings
        held = {w: cache.doc_freq("title", w) + cache.doc_freq("body", w) for w in words}
        return sorted(words, key=lambda w: (held[w] == 0, held[w], -len(w)))

    def _units(
        self, required: list[str], stripped: str, fields: tuple[tuple[str, float], ...], title_only: bool, literal: bool
    ) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], list[str]]:
        """The words that must match, each as (label, documents holding it, documents holding a synonym).

        A synonym-table word the query contains (低保; 信息公开 over two jieba words) is one unit, held
        by a document with its words or with any of its alternatives as a string. Also returns the
        alternatives some document holds, for the page's "同时搜索了".
        """
        norm = analysis.normalize(stripped).replace(" ", "")
        spans = [] if literal else self._table.found_in(norm, self.dict_id)
        offsets: list[int] = []
        cursor = 0
        for w in required:
            at = norm.find(w, cursor)
            offsets.append(at)
            cursor = at + len(w) if at >= 0 else cursor
        held = dict(self._holding(required, fields))
        taken: set[int] = set()
        units: list[tuple[str, np.ndarray, np.ndarray]] = []
        found_alts: list[str] = []
        for start, end, label in spans:
            inside = [i for i, at in enumerate(offsets) if at >= 0 and start <= at and at + len(required[i]) <= end]
            if not inside or sum(len(required[i]) for i in inside) != end - start:
                continue
            taken.update(inside)
            alt_docs = []
            for alt in self._table.alternatives(label)[: vocabulary.MAX_ALTERNATIVES]:
                docs = self._alternative(alt, title_only)
                if docs is not None and len(docs):
                    alt_docs.append(docs)
                    found_alts.append(alt)
            words_docs = self._every([(required[i], held[required[i]]) for i in inside])
            assert words_docs is not None
            units.append((label, words_docs, union(alt_docs, self._postings.doc_count)))
        for i, w in enumerate(required):
            if i not in taken:
                units.append((w, held[w], EMPTY))
        order = {label: norm.find(label) for label, _, _ in units}
        units.sort(key=lambda u: order[u[0]])
        return units, list(dict.fromkeys(found_alts))

    def _values(self, field: str, text: str) -> np.ndarray:
        """agency:/category: — documents whose value contains the text."""
        needle = analysis.normalize(text)
        column = self._cols[field]
        codes = [i for i, v in enumerate(column.values) if needle in analysis.normalize(v)]
        if len(codes) > MAX_EXPANSIONS:
            raise QueryError(
                f"“{text}”匹配的{'发布机构' if field == 'agency' else '栏目'}过多（{len(codes)} 个），请写得更完整。"
            )
        return np.flatnonzero(np.isin(column.codes, codes)).astype(np.int64)

    def _clause(self, clause: Clause, literal: bool = False) -> _Plan:
        cache = self._postings
        if clause.field in ("", "title"):
            return self._text(clause.text, clause.phrase, title_only=clause.field == "title", literal=literal)
        if clause.field == "doc_no":
            parsed = parse_doc_no(clause.text)
            if parsed:
                return _Plan(cache.get("doc_key", parsed.key).ids, [], [], pinned=True)
            code = analysis.normalize(clause.text).replace(" ", "")
            grams = analysis.bigrams(clause.text)
            docs = cache.get("doc_code", code).ids
            if grams:
                docs = union([docs, self._reader.phrase("doc_no", grams)], cache.doc_count)
            return _Plan(docs, [("doc_no", g, DOC_NO) for g in grams], [])
        if clause.field == "year":
            return _Plan(cache.get("year", clause.text).ids, [], [])
        if clause.field == "date":
            low, high = date_bounds(clause.text)
            pubdate = self._pubdate
            return _Plan(np.flatnonzero((pubdate >= max(low, 1)) & (pubdate <= high)).astype(np.int64), [], [])
        return _Plan(self._values(clause.field, clause.text), [], [])

    def plan(self, parsed: ParsedQuery, literal: bool = False) -> _Plan:
        """Matching documents, each with its tier of the relaxation ladder, and what scores them.

        Tiers, best first: every text clause as its exact string; every informative word (or a
        synonym's); most informative words (MOST_WORDS of their IDF weight); similar text
        (GRAM_COVERAGE of the bigrams' IDF weight, counted only when the tiers above hold few
        results, and not for a pasted passage). Fielded clauses, quoted phrases and exclusions hold
        in every tier.
        """
        cache = self._postings
        n = cache.doc_count
        required: list[np.ndarray] = []  # fielded clauses, phrases: every tier
        exact_groups: list[np.ndarray] = []
        word_groups: list[np.ndarray] = []
        excluded: list[np.ndarray] = []
        terms: list[tuple[str, str, float]] = []
        bonus: list[tuple[str, list[str], float]] = []
        units: list[tuple[str, np.ndarray]] = []
        grams: list[str] = []
        expanded: list[str] = []
        pinned = np.zeros(0, dtype=np.int64)
        for group in parsed.groups:
            plans = [self._clause(c, literal) for c in group]
            docs = union([p.docs for p in plans], n)
            if group[0].negated:
                excluded.append(docs)
                continue
            for p in plans:
                terms.extend(p.scoring)
                bonus.extend(p.bonus)
                expanded += [e for e in p.expanded if e not in expanded]
                if p.pinned:
                    pinned = union([pinned, p.docs], n)
            relaxable = all(c.field in ("", "title") and not c.phrase for c in group)
            if not relaxable:
                required.append(docs)
                continue
            exact_groups.append(union([p.exact for p in plans if p.exact is not None], n))
            word_groups.append(docs)
            if len(group) == 1:  # an OR group is one unit of its own: either side holds it
                units.extend(plans[0].units)
                grams.extend(plans[0].grams)
            else:
                units.append((" OR ".join(c.text for c in group), docs))
        if parsed.doc_no and not parsed.groups[0][0].field:  # a 文号 typed as the query: that document first
            pinned = cache.get("doc_key", parsed.doc_no.key).ids
            word_groups = [union([word_groups[0], pinned], n)] if word_groups else []
            exact_groups = [union([exact_groups[0], pinned], n)] if exact_groups else []
            if not word_groups:
                required = [union([required[0], pinned], n)] if required else [pinned]
        base = self._base(required, excluded, n)
        tiers = [base]
        if word_groups:

            def meet(groups: list[np.ndarray]) -> np.ndarray:
                met = functools.reduce(lambda a, b: intersect(a, b, n), groups)
                return self._in_base(met, base)

            exact, every = meet(exact_groups), meet(word_groups)
            most = self._most(units, base, every, n)
            tiers = [exact, difference(every, exact, n), most]
            if len(every) + len(most) < FEW:
                tiers.append(self._similar(grams, base, union([every, most], n), n))
        members, labels = labelled(tiers, n)  # the tiers are disjoint: their members, sorted, with the tier of each
        return _Plan(
            members,
            self._strongest(list(dict.fromkeys(terms))),
            bonus[:MAX_BONUS],
            pinned_docs=pinned,
            expanded=expanded,
            units=units,
            tiers=labels,
        )

    def _base(self, required: list[np.ndarray], excluded: list[np.ndarray], n: int) -> np.ndarray:
        """Live documents meeting every fielded clause and phrase and no exclusion (all live ones when none)."""
        if not required:
            docs = self._every_live
        else:
            docs = functools.reduce(lambda a, b: intersect(a, b, n), required).astype(np.int64)
            docs = docs[self._live[docs]] if len(docs) else docs
        for out in excluded:
            docs = difference(docs, out, n)
        return docs

    def _most(self, units: list[tuple[str, np.ndarray]], base: np.ndarray, every: np.ndarray, n: int) -> np.ndarray:
        """Documents (not in `every`) holding MOST_WORDS of the informative words' IDF weight."""
        if len(units) < 2:
            return EMPTY
        # A single character (a fragment jieba left over, as 零 of 申零) is weak evidence: half weight.
        weights = [self._postings.idf_of(len(d)) * (0.5 if len(w) == 1 else 1.0) if len(d) else 0.0 for w, d in units]
        total = sum(weights)
        if total <= 0:
            return EMPTY
        held = np.zeros(n, dtype=np.float32)
        worded = np.zeros(n, dtype=bool)  # holds a unit of two or more characters
        for (label, d), w in zip(units, weights):
            if len(d):
                held[d] += w
                if len(label) > 1:
                    worded[d] = True
        # Single characters alone are no match: the 5 of PM2.5 or the 1 of alert(1), whose words no
        # document holds, would otherwise bring every document with the digit.
        return difference(self._in_base((held >= MOST_WORDS * total - 1e-6) & worded, base), every, n)

    def _in_base(self, docs: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The documents of `base` (sorted) among `docs`: a sorted array of numbers, or a mask over all
        documents. When `base` is every live document, liveness alone decides, with no set built."""
        if docs.dtype == bool:
            if base is self._every_live:
                return np.flatnonzero(docs & self._live)
            return base[docs[base]] if len(base) else base
        if base is self._every_live:
            return docs[self._live[docs]] if len(docs) else docs
        return intersect(base, docs, len(self._live))

    def _similar(self, grams: list[str], base: np.ndarray, above: np.ndarray, n: int) -> np.ndarray:
        """Documents (not in `above`) holding GRAM_COVERAGE of the query's bigrams by IDF.

        Bigrams no document holds (a typo's) count for nothing; but when they are most of the query's
        (申请低保, where the archive says 最低生活保障), the few held ones say too little to go on."""
        cache = self._postings
        grams = list(dict.fromkeys(grams))
        if len(grams) < 2:
            return EMPTY
        held = np.zeros(n, dtype=np.float32)
        total = 0.0
        seen = 0
        for g in grams[:MAX_TERMS]:
            ids = union([cache.get(f, g).ids for f in ("title_ng", "body_ng")], n)
            if not len(ids):
                continue
            w = cache.idf_of(len(ids))
            held[ids] += w
            total += w
            seen += 1
        if total <= 0 or 2 * seen < min(len(grams), MAX_TERMS):
            return EMPTY
        return difference(self._in_base(held >= GRAM_COVERAGE * total - 1e-6, base), above, n)

    def _strongest(self, terms: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
        """At most MAX_TERMS scoring terms: for pasted text, the most informative (by IDF) are kept."""
        if len(terms) <= MAX_TERMS:
            return terms
        cache = self._postings
        ranked = sorted(terms, key=lambda t: -cache.idf_of(cache.live_freq(t[0], t[1])) * t[2])
        return ranked[:MAX_TERMS]

    # -- searching ----------------------------------------------------------------------------------
    @_guarded
    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        parsed = parse_query(request.q, self.max_query_chars)
        read_as = parsed.note
        page_size = max(1, min(request.page_size, MAX_PAGE_SIZE))
        page = max(1, min(request.page, MAX_PAGE))
        notice = ""
        with self._lock:
            reader = self._reader
            parsed, plan, corrected = self._read(parsed, request.literal)
            collapse = request.collapse and bool(np.any(self._group[plan.docs] >= 0))
            group = self._group if collapse else None
            facets, kept = self._facet_counts(plan.docs, request, group)
            allowed, tiers = plan.docs[kept], plan.tiers[kept]
            total = _distinct(allowed, group)
            page_count = max(1, -(-total // page_size))
            page = min(page, page_count)
            wanted = page * page_size
            if parsed.empty or request.sort == "date":
                # By date, a group is shown by its earliest member: the original, not a later repost.
                keep = _one_per_group(group[allowed] if group is not None else None, tiers, -self._when[allowed])
                order = _newest(self._when[allowed], allowed, np.flatnonzero(keep), wanted)
                ranked = [(int(allowed[i]), 0.0, int(tiers[i])) for i in order]
            else:
                ranked, timed_out = self._ranked(
                    plan, allowed, tiers, wanted, started + self.time_limit_s, group[allowed] if group is not None else None
                )
                if timed_out:
                    notice = "查询耗时较长，排序只用了部分词语；请加上更具体的词或筛选条件。"
            if len(tiers) and not np.any(tiers <= ALL_WORDS) and parsed.text_groups():
                notice = notice or "没有同时包含全部词语的结果，以下是包含部分词语或相近文字的结果。"
            notice = "".join(part for part in (read_as, notice) if part)
            needles = query_needles(parsed.positive_texts() + plan.expanded, self.dict_id)
            hits = [
                self._hit(
                    reader.stored(d),
                    score,
                    needles,
                    TIER_NAMES[tier],
                    self._lacking(plan, d, tier),
                    self._copies(d, group),
                )
                for d, score, tier in ranked[(page - 1) * page_size :]
            ]
            exact_id = self._doc_no_target(parsed)
        return SearchResult(
            hits=hits,
            total=total,
            page=page,
            page_count=page_count,
            facets=facets,
            took_ms=(time.perf_counter() - started) * 1000,
            terms=parsed.positive_texts(),
            notice=notice,
            doc_no_match=exact_id,
            expanded=plan.expanded,
            corrected=corrected,
            tier_counts={TIER_NAMES[t]: int(c) for t, c in enumerate(np.bincount(tiers, minlength=len(TIER_NAMES))) if c},
            collapsed=int(len(allowed)) - total,
        )

    def _read(self, parsed: ParsedQuery, literal: bool) -> tuple[ParsedQuery, _Plan, str]:
        """The query as searched: its plan, or a typo's correction (query, plan and its text) when the
        index's vocabulary can mend one; not when a synonym already finds every word. Under the lock."""
        plan = self.plan(parsed, literal)
        full = int(np.count_nonzero(plan.tiers <= ALL_WORDS))
        if not literal and full < FEW and not (plan.expanded and full):
            better = self._correction(parsed, full)
            if better is not None:
                corrected, parsed, plan = better
                return parsed, plan, corrected
        return parsed, plan, ""

    def _copies(self, docnum: int, group: np.ndarray | None) -> tuple[Copy, ...]:
        """The other members of a shown document's group (reposts and copies), earliest first."""
        if group is None or group[docnum] < 0:
            return ()
        members = np.flatnonzero((group == group[docnum]) & self._live)
        members = members[members != docnum][:MAX_COPIES]
        out = []
        for d in members[np.argsort(self._when[members], kind="stable")]:
            fields = self._reader.stored(int(d))
            out.append(Copy(fields["id"], fields.get("title", ""), fields.get("agency", ""), _day(fields.get("pubdate") or 0)))
        return tuple(out)

    def _correction(self, parsed: ParsedQuery, full: int) -> tuple[str, ParsedQuery, _Plan] | None:
        """A one-character correction of the query from the index's own vocabulary, or None.

        Only a clause that looks mistyped is corrected: an unquoted text clause with a bigram no
        document holds or one far rarer than its others (`vocabulary.suspects`), outside the synonym
        table's words, whose exact string no document holds either. It is tried with the candidates
        of `vocabulary.one_edit_candidates`; the one held as a string by the most documents wins if
        that is at least twice the `full` matches of the query as typed (its words found scattered in
        a document or two are chance), and the corrected query must find every word.
        """
        cache = self._postings
        neighbours = vocabulary.neighbour_chars(self.dict_id)
        freq = analysis.segmenter(self.dict_id).FREQ

        @functools.cache
        def df(gram: str) -> int:  # candidates share most of their bigrams: each is looked up once
            return sum(cache.live_freq(f, gram) for f in ("title_ng", "body_ng"))

        def worded(text: str) -> int:  # characters inside the dictionary's words of two or more, as jieba cuts it
            return sum(len(w) for run in analysis.word_runs(text, self.dict_id) for w in run if len(w) > 1 and freq.get(w))

        changed = False
        groups: list[tuple[Clause, ...]] = []
        for group in parsed.groups:
            clauses = []
            for c in group:
                norm = analysis.normalize(c.text).replace(" ", "")
                eligible = not c.negated and not c.phrase and c.field in ("", "title") and vocabulary.correctable(norm)
                suspect = vocabulary.suspects(norm, df) if eligible else []
                if not suspect or self._known(norm, suspect) or self._held(norm):
                    clauses.append(c)
                    continue
                best, best_count = "", max(0, 2 * full - 1)
                plausible = lambda gram: freq.get(gram) or 0  # noqa: E731
                candidates = vocabulary.one_edit_candidates(norm, neighbours, df, plausible, MAX_CANDIDATES, worded, suspect)
                for candidate in candidates:
                    count = self._held(candidate)
                    if count > best_count:
                        best, best_count = candidate, count
                if best:
                    clauses.append(Clause(text=best, field=c.field))
                    changed = True
                else:
                    clauses.append(c)
            groups.append(tuple(clauses))
        if not changed:
            return None
        fixed = ParsedQuery(tuple(groups), doc_no=parsed.doc_no)
        plan = self.plan(fixed)
        if not np.any(plan.tiers <= ALL_WORDS):
            return None
        text = " ".join(("-" if c.negated else "") + (f'"{c.text}"' if c.phrase else c.text) for g in groups for c in g)
        return text, fixed, plan

    def _known(self, norm: str, suspect: list[int]) -> bool:
        """Whether every suspect bigram (by its start in `norm`) lies inside a word of the synonym
        table: a real word this archive happens not to hold (卫健委 where its documents all say
        卫生健康委员会) is not a typo to be "corrected" into another word (卫生委)."""
        spans = self._table.found_in(norm, self.dict_id)
        return all(any(start <= i and i + 2 <= end for start, end, _ in spans) for i in suspect)

    @staticmethod
    def _lacking(plan: _Plan, doc: int, tier: int) -> list[str]:
        """The query words a "most words" result lacks (shown on the result list)."""
        if tier != MOST:
            return []
        return [w for w, ids in plan.units if not len(ids) or ids[min(int(np.searchsorted(ids, doc)), len(ids) - 1)] != doc]

    def _held(self, norm: str) -> int:
        """How many documents hold `norm` as a string (the postings hold live documents only)."""
        exact = self._exact(norm, title_only=False)
        return 0 if exact is None else len(exact)

    def _ranked(
        self, plan: _Plan, allowed: np.ndarray, tiers: np.ndarray, wanted: int, deadline: float, group: np.ndarray | None = None
    ) -> tuple[list[tuple[int, float, int]], bool]:
        """Top `wanted` of `allowed`, tier by tier; in a tier by BM25F plus phrase bonus, equal scores newest first.

        Past the deadline the remaining terms are left out of the score (the set of results is
        already exact), and the caller says so.
        """
        if not len(allowed):
            return [], False
        cache = self._postings
        timed_out = False
        together = cache.scores(plan.scoring, allowed)
        if together is not None:  # the engine scored every term at once, over these documents only
            scores = together
        else:
            scores = np.zeros(len(allowed), dtype=np.float32)
            for name, text, boost in plan.scoring:
                if time.perf_counter() > deadline:
                    timed_out = True
                    break
                scores += cache.bm25(name, text, allowed, boost)
        if len(plan.pinned_docs):
            where = np.searchsorted(allowed, plan.pinned_docs)
            ok = where < len(allowed)
            hit = where[ok][allowed[where[ok]] == plan.pinned_docs[ok]]
            scores[hit] += DOC_KEY_BOOST
        bonuses = [
            (name, run, boost * sum(cache.idf_of(cache.live_freq(name, t)) for t in run)) for name, run, boost in plan.bonus
        ]
        if bonuses:
            # Only documents whose score plus every bonus could reach the page are checked for phrases.
            contenders = allowed[_contenders(scores, tiers, wanted, sum(w for *_, w in bonuses), group)]
            for name, run, weight in bonuses:
                if timed_out or time.perf_counter() > deadline:
                    timed_out = True
                    break
                docs = self._reader.phrase(name, run, within=contenders)
                if len(docs):
                    scores[np.searchsorted(allowed, docs)] += weight
        # One key: the score to 4 decimals (float noise is a tie), then the date (newest first among equals).
        key = np.round(scores.astype(np.float64), 4) * 1e4 * 1e9 + self._when[allowed]
        return [(int(allowed[i]), float(scores[i]), int(tiers[i])) for i in _first(key, tiers, group, wanted)], timed_out

    def _doc_no_target(self, parsed: ParsedQuery) -> str:
        """The id of the one document whose 文号 the whole query is ("" otherwise)."""
        if not parsed.doc_no:
            return ""
        found = self._postings.get("doc_key", parsed.doc_no.key).ids
        found = found[self._live[found]] if len(found) else found
        return str(self._reader.stored(int(found[0]))["id"]) if len(found) == 1 else ""

    def _facet_counts(
        self, docnums: np.ndarray, request: SearchRequest, group: np.ndarray | None = None
    ) -> tuple[dict[str, list[FacetValue]], np.ndarray]:
        """Per facet, counts under every other filter (so a count equals the results of clicking it).

        With `group`, a group of reposts and copies counts once under each value its members have
        (as the collapsed results of clicking it show it once). Also returns which of `docnums` every
        filter keeps."""
        filters = {k: v for k, v in request.filters.items() if k in FACETS and v}
        base = np.ones(len(docnums), dtype=bool)
        if request.date_from:
            base &= self._pubdate[docnums] >= int(request.date_from.strftime("%Y%m%d"))
        if request.date_to:
            base &= (self._pubdate[docnums] <= int(request.date_to.strftime("%Y%m%d"))) & (self._pubdate[docnums] > 0)
        masks = {}
        for f, v in filters.items():
            col = self._cols[f]
            code = col.values.index(v) if v in col.values else -2
            masks[f] = col.codes[docnums] == code
        every = base.copy()
        for m in masks.values():
            every &= m
        facets = {}
        filtered = bool(masks) or bool(request.date_from) or bool(request.date_to)
        shared = docnums[every] if filtered else docnums  # what a facet without a filter of its own counts
        for f in FACETS:
            col = self._cols[f]
            docs = shared
            if f in masks:
                keep = base.copy()
                for other, m in masks.items():
                    if other != f:
                        keep &= m
                docs = docnums[keep]
            codes = col.codes[docs]
            if group is not None:
                codes = _once_per_group(codes, group[docs])
            counts = np.bincount(codes[codes >= 0], minlength=len(col.values))
            items = [(col.values[i], int(n)) for i in np.flatnonzero(counts) for n in (counts[i],)]
            if f == "year":  # newest first; 日期不详 last
                ordered = sorted(items, key=lambda kv: (kv[0] != UNKNOWN_YEAR, kv[0]), reverse=True)
            elif f == "month":
                ordered = sorted((kv for kv in items if kv[0]), key=lambda kv: kv[0])
            elif f == "listyear":
                ordered = sorted((kv for kv in items if kv[0]), key=lambda kv: kv[0], reverse=True)
            else:
                ordered = sorted(items, key=lambda kv: (-kv[1], kv[0]))
            values = [FacetValue(v, n, filters.get(f) == v) for v, n in ordered]
            if filters.get(f) and not any(fv.selected for fv in values):
                values.insert(0, FacetValue(filters[f], 0, True))
            facets[f] = values
        return facets, every

    def _hit(
        self,
        fields: dict[str, Any],
        score: float,
        needles: list[str],
        tier: str = "all",
        missing: list[str] | None = None,
        copies: tuple[Copy, ...] = (),
    ) -> Hit:
        published, listed = _day(fields.get("pubdate") or 0), _day(fields.get("listdate") or 0)
        return Hit(
            id=fields["id"],
            title=fields.get("title", ""),
            url=fields.get("url", ""),
            agency=fields.get("agency", ""),
            category=fields.get("category", ""),
            doc_no=fields.get("doc_no", ""),
            published=published,
            snippet=snippet(fields.get("text", ""), needles, dict_id=self.dict_id),
            title_html=highlight_all(fields.get("title", ""), needles, self.dict_id),
            score=score,
            status=fields.get("status", "active"),
            tier=tier,
            missing=tuple(missing or ()),
            listed=listed,
            validity=fields.get("validity", ""),
            copies=copies,
        )

    @_guarded
    def near_doc_nos(self, text: str, limit: int = 5) -> list[NearDocNo]:
        """(文号, id, title) of documents whose 文号 is near `text`: same 机关代字, a close number or year."""
        wanted = parse_doc_no(text)
        if not wanted:
            return []
        near = [(0, wanted.year, wanted.number + d) for d in (-1, 1, -2, 2, -3, 3)]
        near += [(1, wanted.year + d, wanted.number) for d in (-1, 1)]
        found: list[NearDocNo] = []
        with self._lock:
            for _, year, number in sorted(near):
                if number < 1 or len(found) >= limit:
                    continue
                key = f"{wanted.code}〔{year}〕{number}号"
                for docnum in self._postings.get("doc_key", key).ids[:1]:
                    fields = self._reader.stored(int(docnum))
                    found.append(NearDocNo(fields.get("doc_no", key), fields["id"], fields.get("title", "")))
        return found

    @_guarded
    def related(self, doc_id: str, title: str, agency: str, doc_no: str, limit: int = 6) -> list[Related]:
        """Documents of the same 文号 series (机关代字), nearest in date; then the same agency's documents
        sharing the title's words, by BM25."""
        family = parse_doc_no(doc_no) if doc_no else None
        words = list(dict.fromkeys(w for run in analysis.word_runs(title, self.dict_id) for w in run if len(w) > 1))
        out: list[Related] = []
        with self._lock:
            cache = self._postings
            # The title's rarest words say most about its subject (and keep the candidate set small).
            words = sorted(words, key=lambda w: len(cache.get("title", w).ids))[:6]
            own = cache.get("id", doc_id).ids
            seen = set(own.tolist())
            if family:
                series = cache.get("doc_code", family.code).ids
                series = series[self._live[series]] if len(series) else series
                if len(series):
                    when = self._pubdate[own[0]] if len(own) else 0
                    for docnum in series[np.argsort(np.abs(self._pubdate[series] - when), kind="stable")]:
                        if len(out) >= limit // 2:
                            break
                        if int(docnum) not in seen:
                            seen.add(int(docnum))
                            out.append(self._related(self._reader.stored(int(docnum)), "同一文号系列"))
            if words:
                candidates = union([cache.get(f, w).ids for w in words for f in ("title", "body")], cache.doc_count)
                if agency and agency in self._cols["agency"].values and len(candidates):
                    code = self._cols["agency"].values.index(agency)
                    candidates = candidates[self._cols["agency"].codes[candidates] == code]
                candidates = candidates[self._live[candidates]] if len(candidates) else candidates
                if len(candidates):
                    scores = np.zeros(len(candidates), dtype=np.float32)
                    for w in words:
                        scores += cache.bm25("title", w, candidates, TITLE_WORD)
                        scores += cache.bm25("body", w, candidates, BODY_WORD)
                    for i in np.argsort(-scores, kind="stable")[: limit * 2]:
                        docnum = int(candidates[i])
                        if len(out) >= limit:
                            break
                        if docnum not in seen:
                            seen.add(docnum)
                            out.append(self._related(self._reader.stored(docnum), "同机构相近主题"))
        return out

    @staticmethod
    def _related(hit: Any, why: str) -> Related:
        pubdate = hit.get("pubdate") or 0
        return Related(
            id=hit["id"],
            title=hit.get("title", ""),
            doc_no=hit.get("doc_no", ""),
            why=why,
            published=f"{pubdate // 10000}-{pubdate // 100 % 100:02d}-{pubdate % 100:02d}" if pubdate else None,
        )
