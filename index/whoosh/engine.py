"""Whoosh behind the backend-neutral interface: plan queries as numpy set algebra over cached postings,
score with BM25F, count facets from columns, page hits."""

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
from typing import Any, TypeVar

import numpy as np

from archive.errors import XxgkError
from index import analysis, dictionary
from index.api import (
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    FacetValue,
    Hit,
    IndexedDocument,
    IndexStatus,
    NearDocNo,
    Related,
    SearchRequest,
    SearchResult,
)
from index.docno import parse_doc_no
from index.errors import EngineError, QueryError
from index.highlight import highlight_all, query_needles, snippet
from index.query import Clause, ParsedQuery, date_bounds, parse_query
from index.whoosh.postings import PostingCache, intersect, phrase_docs, union
from index.whoosh.sync import META_FILE, check_index, open_index

log = logging.getLogger(__name__)
_F = TypeVar("_F", bound=Callable[..., Any])

# Boosts: a word match ranks above a bigram-only match, the title above the body; 文号 highest.
TITLE_WORD, BODY_WORD, TITLE_GRAM, BODY_GRAM, DOC_NO = 6.0, 1.5, 2.0, 0.3, 8.0
PHRASE_BONUS = 2.0  # the words of a term side by side, as typed
DOC_KEY_BOOST = 1000.0  # the query is this document's 文号
MAX_EXPANSIONS = 64  # agency:/category: values one clause may stand for
MAX_TERMS = 160  # index terms one query may look up
TIME_LIMIT_S = 3.0
_COLUMNS = ("category", "agency", "year", "status", "validity")


def _close_searcher(holder: list[Any]) -> None:
    if holder[0] is not None:
        holder[0].close()
        holder[0] = None


@dataclass
class _Plan:
    """Matching documents (sorted numbers), the (field, text, boost) terms that score them, and the
    (field, run, boost) phrases that add a bonus; `pinned` marks a 文号 match that ranks first."""

    docs: np.ndarray
    scoring: list[tuple[str, str, float]]
    bonus: list[tuple[str, list[str], float]]
    pinned: bool = False
    pinned_docs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class _Column:
    """A facet column over document numbers: distinct values and one code per document."""

    values: list[str]
    codes: np.ndarray

    @classmethod
    def of(cls, raw: list[Any]) -> _Column:
        values = sorted({v for v in raw if v is not None}, key=str)
        index = {v: i for i, v in enumerate(values)}
        codes = np.fromiter((index.get(v, -1) for v in raw), dtype=np.int32, count=len(raw))
        return cls([str(v) for v in values], codes)


def _guarded(method: _F) -> _F:
    """An unexpected failure inside the engine is logged with its traceback, remembered for the health
    check, and raised as EngineError (a friendly 503), never as a bare exception."""

    @functools.wraps(method)
    def call(self: WhooshEngine, *args: Any, **kwargs: Any) -> Any:
        try:
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


class WhooshEngine:
    """One open index; safe to share between threads (searches are serialised on a lock)."""

    def __init__(self, index_path: Path, max_query_chars: int = 200, time_limit_s: float = TIME_LIMIT_S) -> None:
        self.index_path = Path(index_path)
        self.max_query_chars = max_query_chars
        self.time_limit_s = time_limit_s
        self._lock = threading.RLock()
        self._target: Path | None = None
        self._ix: Any = None
        self._searcher: Any = None
        self._cols: dict[str, _Column] = {}
        self._pubdate = np.zeros(0, dtype=np.int64)
        self._live = np.zeros(0, dtype=bool)
        self.dict_id = ""
        self.meta: dict[str, Any] = {}
        self._meta_seen = (0, 0)
        self.last_error = ""  # the last unexpected failure since the index last changed ("" when none)
        self._open_searcher: list[Any] = [None]
        weakref.finalize(self, _close_searcher, self._open_searcher)
        self._open()

    # -- lifecycle ----------------------------------------------------------------------------------
    def _open(self) -> None:
        self._target = self.index_path.resolve()
        self._meta_seen = self._meta_stamp()
        self.meta = check_index(self.index_path)
        self.dict_id = dictionary.load(self._target)
        analysis.segmenter(self.dict_id)  # the dictionary is loaded now, not in the first user's query
        # Without mmap: Whoosh maps each compound segment file whole and copies it (a searcher over a
        # 300 MB index held ~600 MB); plain reads through the OS page cache keep it at tens of MB.
        self._ix = open_index(self._target, mmap=False)
        self._searcher = self._ix.searcher()
        # Segment files stay open while searched; an engine dropped without close() (a discarded
        # app, the end of the process) still closes them.
        self._open_searcher[0] = self._searcher
        self._load_columns()
        self.last_error = ""

    def _load_columns(self) -> None:
        reader = self._searcher.reader()
        live = np.zeros(reader.doc_count_all(), dtype=bool)
        live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self._live = live
        self._postings = PostingCache(self._searcher, live)
        self._cols = {name: _Column.of(list(reader.column_reader(name))) for name in _COLUMNS}
        pubdate = np.fromiter(reader.column_reader("pubdate"), dtype=np.int64)
        self._pubdate = pubdate
        self._cols["month"] = _Column.of([f"{p // 100 % 100:02d}" if p else "" for p in pubdate.tolist()])

    @_guarded
    def refresh(self) -> None:
        """Pick up a swapped-in rebuild or new commits (cheap when nothing changed).

        New commits get a searcher of their own, never Whoosh's `Searcher.refresh()`: that reuses
        the reader of every segment whose id is unchanged, and such a reader keeps the deletions it
        was opened with, so a document replaced since would be found twice.
        """
        with self._lock:
            if self.index_path.resolve() != self._target:
                self.close()
                self._open()
                return
            # The writer records its catalog sequence after its commit, so the meta read first is never
            # ahead of the searcher opened after it.
            stamp = self._meta_stamp()
            if stamp != self._meta_seen:
                self._meta_seen = stamp
                self.meta = check_index(self.index_path)
            if not self._searcher.up_to_date():
                old, new = self._searcher, self._ix.searcher()
                self._searcher = self._open_searcher[0] = new
                old.close()
                self._load_columns()
                self.last_error = ""

    def _meta_stamp(self) -> tuple[int, int]:
        try:
            info = ((self._target or self.index_path) / META_FILE).stat()
        except OSError:
            return (0, 0)
        return (info.st_mtime_ns, info.st_size)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._open_searcher[0] = None
            if self._ix is not None:
                self._ix.close()
            self._searcher = self._ix = None

    @_guarded
    def documents(self) -> list[IndexedDocument]:
        """Every live document in the index (id, catalog seq, status), in document-number order."""
        with self._lock:
            reader = self._searcher.reader()
            out = []
            for docnum in np.flatnonzero(self._live).tolist():
                fields = reader.stored_fields(docnum)
                out.append(IndexedDocument(str(fields["id"]), int(fields.get("seq") or 0), str(fields.get("status", "active"))))
            return out

    @_guarded
    def status(self) -> IndexStatus:
        with self._lock:
            return IndexStatus(
                backend="whoosh",
                documents=int(self._searcher.doc_count()),
                catalog_seq=int(self.meta.get("catalog_seq", 0)),
                built_at=self.meta.get("built_at"),
                updated_at=self.meta.get("synced_at") or self.meta.get("built_at"),
                last_error=self.last_error,
            )

    @_guarded
    def highlight(self, texts: list[str], q: str) -> list[str]:
        """Each text as escaped HTML with the words of the query `q` marked, segmented as the index was."""
        needles = query_needles(parse_query(q, self.max_query_chars).positive_texts(), self.dict_id) if q.strip() else []
        return [highlight_all(text, needles, self.dict_id) for text in texts]

    @_guarded
    def doc_count(self) -> int:
        with self._lock:
            return int(self._searcher.doc_count())

    # -- compiling: a plan of document sets and scoring terms, evaluated with numpy -------------------
    def _text(self, text: str, phrase: bool, title_only: bool = False) -> _Plan:
        """One text clause.

        Unquoted: every word in the title or body (anywhere), or the exact string by bigrams (names
        the dictionary splits). Quoted: the exact string. Either way the words side by side score more.
        """
        cache = self._postings
        n = cache.doc_count
        word_runs = analysis.word_runs(text, self.dict_id)
        gram_runs = analysis.bigram_runs(text)
        words = list(dict.fromkeys(w for run in word_runs for w in run))
        fields = (("title", TITLE_WORD),) if title_only else (("title", TITLE_WORD), ("body", BODY_WORD))
        gram_fields = (
            (("title_ng", TITLE_GRAM),) if title_only else (("title_ng", TITLE_GRAM), ("body_ng", BODY_GRAM), ("doc_no", DOC_NO))
        )
        exact = None
        if gram_runs:
            per_field = []
            for f, _ in gram_fields:
                docs: np.ndarray | None = None
                for run in gram_runs:
                    found = phrase_docs(cache, f, run, within=docs)
                    docs = found if docs is None else intersect(docs, found, n)
                if docs is not None:
                    per_field.append(docs)
            exact = union(per_field, n)
        scattered = None
        if words:
            for w in words:
                either = union([cache.get(f, w).ids for f, _ in fields], n)
                scattered = either if scattered is None else intersect(scattered, either, n)
        if phrase:
            docs = exact if exact is not None else scattered
        else:
            docs = exact if scattered is None else (scattered if exact is None else union([exact, scattered], n))
        if docs is None:
            raise QueryError(f"“{text}”中没有可检索的文字，请换一个词。")
        grams = list(dict.fromkeys(g for run in gram_runs for g in run))
        scoring = [(f, w, b) for w in words for f, b in fields] + [(f, g, b) for g in grams for f, b in gram_fields]
        bonus = [(f, run, b * PHRASE_BONUS) for run in word_runs if len(run) > 1 for f, b in fields]
        return _Plan(docs, scoring, bonus)

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

    def _clause(self, clause: Clause) -> _Plan:
        cache = self._postings
        if clause.field in ("", "title"):
            return self._text(clause.text, clause.phrase, title_only=clause.field == "title")
        if clause.field == "doc_no":
            parsed = parse_doc_no(clause.text)
            if parsed:
                return _Plan(cache.get("doc_key", parsed.key).ids, [], [], pinned=True)
            code = analysis.normalize(clause.text).replace(" ", "")
            runs = analysis.bigram_runs(clause.text)
            docs = cache.get("doc_code", code).ids
            if runs:
                exact: np.ndarray | None = None
                for run in runs:
                    found = phrase_docs(cache, "doc_no", run, within=exact)
                    exact = found if exact is None else intersect(exact, found, cache.doc_count)
                if exact is not None:
                    docs = union([docs, exact], cache.doc_count)
            return _Plan(docs, [("doc_no", g, DOC_NO) for run in runs for g in run], [])
        if clause.field == "year":
            return _Plan(cache.get("year", clause.text).ids, [], [])
        if clause.field == "date":
            low, high = date_bounds(clause.text)
            pubdate = self._pubdate
            return _Plan(np.flatnonzero((pubdate >= max(low, 1)) & (pubdate <= high)).astype(np.int64), [], [])
        return _Plan(self._values(clause.field, clause.text), [], [])

    def plan(self, parsed: ParsedQuery, relaxed: bool = False) -> _Plan:
        """Matching documents and what scores them; `relaxed` lets any text group match instead of all."""
        n = self._postings.doc_count
        required: list[np.ndarray] = []
        text_groups: list[np.ndarray] = []
        excluded: list[np.ndarray] = []
        terms: list[tuple[str, str, float]] = []
        bonus: list[tuple[str, list[str], float]] = []
        pinned = np.zeros(0, dtype=np.int64)
        for group in parsed.groups:
            plans = [self._clause(c) for c in group]
            docs = union([p.docs for p in plans], n)
            if group[0].negated:
                excluded.append(docs)
                continue
            for p in plans:
                terms.extend(p.scoring)
                bonus.extend(p.bonus)
                if p.pinned:
                    pinned = union([pinned, p.docs], n)
            if relaxed and all(c.field in ("", "title") for c in group):
                text_groups.append(docs)
            else:
                required.append(docs)
        if text_groups:
            required.append(union(text_groups, n))
        if parsed.doc_no and not parsed.groups[0][0].field:  # a 文号 typed as the query: that document first
            pinned = self._postings.get("doc_key", parsed.doc_no.key).ids
            required = [union([required[0], pinned], n)] if required else [pinned]
        looked_up = len(terms) + sum(len(run) for _, run, _ in bonus)
        if looked_up > MAX_TERMS:
            raise QueryError(f"查询展开后的检索词过多（{looked_up} 个），请缩短查询或减少条件。")
        docs = (
            functools.reduce(lambda a, b: intersect(a, b, n), required)
            if required
            else np.flatnonzero(self._live).astype(np.int64)
        )
        for out in excluded:
            docs = np.setdiff1d(docs, out, assume_unique=True)
        docs = docs[self._live[docs]] if len(docs) else docs
        return _Plan(docs, list(dict.fromkeys(terms)), bonus, pinned=False, pinned_docs=pinned)

    # -- searching ----------------------------------------------------------------------------------
    @_guarded
    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        parsed = parse_query(request.q, self.max_query_chars)
        page_size = max(1, min(request.page_size, MAX_PAGE_SIZE))
        page = max(1, min(request.page, MAX_PAGE))
        notice = ""
        with self._lock:
            searcher = self._searcher
            plan = self.plan(parsed)
            if not len(plan.docs) and parsed.text_groups() > 1:
                plan = self.plan(parsed, relaxed=True)
                if len(plan.docs):
                    notice = "没有同时包含全部词语的结果，以下是包含部分词语的结果。"
            facets, allowed = self._facet_counts(plan.docs, request)
            total = int(len(allowed))
            page_count = max(1, -(-total // page_size))
            page = min(page, page_count)
            wanted = page * page_size
            if parsed.empty or request.sort == "date":
                order = allowed[np.lexsort((-allowed, -self._pubdate[allowed]))][:wanted]
                ranked = [(int(d), 0.0) for d in order]
            else:
                ranked, timed_out = self._ranked(plan, allowed, wanted, started + self.time_limit_s)
                if timed_out:
                    notice = "查询耗时较长，排序只用了部分词语；请加上更具体的词或筛选条件。"
            needles = query_needles(parsed.positive_texts(), self.dict_id)
            hits = [self._hit(searcher.stored_fields(d), score, needles) for d, score in ranked[(page - 1) * page_size :]]
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
        )

    def _ranked(self, plan: _Plan, allowed: np.ndarray, wanted: int, deadline: float) -> tuple[list[tuple[int, float]], bool]:
        """Top `wanted` of `allowed` by BM25F plus phrase bonus; equal scores go newest first.

        Past the deadline the remaining terms are left out of the score (the set of results is
        already exact), and the caller says so.
        """
        if not len(allowed):
            return [], False
        cache = self._postings
        scores = np.zeros(len(allowed), dtype=np.float32)
        timed_out = False
        for name, text, boost in plan.scoring:
            if time.perf_counter() > deadline:
                timed_out = True
                break
            scores += cache.bm25(name, cache.get(name, text), allowed, boost)
        for name, run, boost in plan.bonus:
            if timed_out or time.perf_counter() > deadline:
                timed_out = True
                break
            docs = phrase_docs(cache, name, run, within=allowed)
            if len(docs):
                weight = boost * sum(cache.idf(cache.get(name, t)) for t in run)
                scores[np.searchsorted(allowed, docs)] += weight
        if len(plan.pinned_docs):
            where = np.searchsorted(allowed, plan.pinned_docs)
            ok = where < len(allowed)
            hit = where[ok][allowed[where[ok]] == plan.pinned_docs[ok]]
            scores[hit] += DOC_KEY_BOOST
        # One key: the score to 4 decimals (float noise is a tie), then the date (newest first among equals).
        key = np.round(scores.astype(np.float64), 4) * 1e4 * 1e8 + self._pubdate[allowed]
        keep = min(len(allowed), wanted)
        top = np.argpartition(-key, keep - 1)[:keep] if keep < len(allowed) else np.arange(len(allowed))
        order = top[np.argsort(-key[top], kind="stable")]
        return [(int(allowed[i]), float(scores[i])) for i in order[:wanted]], timed_out

    def _doc_no_target(self, parsed: ParsedQuery) -> str:
        """The id of the one document whose 文号 the whole query is ("" otherwise)."""
        if not parsed.doc_no:
            return ""
        found = self._postings.get("doc_key", parsed.doc_no.key).ids
        found = found[self._live[found]] if len(found) else found
        return str(self._searcher.stored_fields(int(found[0]))["id"]) if len(found) == 1 else ""

    def _facet_counts(self, docnums: np.ndarray, request: SearchRequest) -> tuple[dict[str, list[FacetValue]], np.ndarray]:
        """Per facet, counts under every other filter (so a count equals the results of clicking it)."""
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
        for f in FACETS:
            col = self._cols[f]
            keep = base.copy()
            for other, m in masks.items():
                if other != f:
                    keep &= m
            codes = col.codes[docnums[keep]]
            counts = np.bincount(codes[codes >= 0], minlength=len(col.values))
            items = [(col.values[i], int(n)) for i in np.flatnonzero(counts) for n in (counts[i],)]
            if f == "year":
                ordered = sorted(items, key=lambda kv: kv[0], reverse=True)
            elif f == "month":
                ordered = sorted((kv for kv in items if kv[0]), key=lambda kv: kv[0])
            else:
                ordered = sorted(items, key=lambda kv: (-kv[1], kv[0]))
            values = [FacetValue(v, n, filters.get(f) == v) for v, n in ordered]
            if filters.get(f) and not any(fv.selected for fv in values):
                values.insert(0, FacetValue(filters[f], 0, True))
            facets[f] = values
        return facets, docnums[every]

    def _hit(self, fields: dict[str, Any], score: float, needles: list[str]) -> Hit:
        pubdate = fields.get("pubdate") or 0
        published = date(pubdate // 10000, pubdate // 100 % 100, pubdate % 100) if pubdate else None
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
                    fields = self._searcher.stored_fields(int(docnum))
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
                            out.append(self._related(self._searcher.stored_fields(int(docnum)), "同一文号系列"))
            if words:
                candidates = union([cache.get(f, w).ids for w in words for f in ("title", "body")], cache.doc_count)
                if agency and agency in self._cols["agency"].values and len(candidates):
                    code = self._cols["agency"].values.index(agency)
                    candidates = candidates[self._cols["agency"].codes[candidates] == code]
                candidates = candidates[self._live[candidates]] if len(candidates) else candidates
                if len(candidates):
                    scores = np.zeros(len(candidates), dtype=np.float32)
                    for w in words:
                        scores += cache.bm25("title", cache.get("title", w), candidates, TITLE_WORD)
                        scores += cache.bm25("body", cache.get("body", w), candidates, BODY_WORD)
                    for i in np.argsort(-scores, kind="stable")[: limit * 2]:
                        docnum = int(candidates[i])
                        if len(out) >= limit:
                            break
                        if docnum not in seen:
                            seen.add(docnum)
                            out.append(self._related(self._searcher.stored_fields(docnum), "同机构相近主题"))
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
