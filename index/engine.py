"""Whoosh behind the backend-neutral interface: compile queries, count facets from columns, page hits."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring
from whoosh.collectors import FilterCollector, TimeLimit, TimeLimitCollector

from archive.errors import QueryError
from index import analysis, dictionary
from index.api import FACETS, MAX_PAGE, MAX_PAGE_SIZE, FacetValue, Hit, SearchRequest, SearchResult
from index.docno import parse_doc_no
from index.highlight import highlight_all, query_needles, snippet
from index.query import Clause, ParsedQuery, date_bounds, parse_query
from index.sync import check_index

# Boosts: a word match ranks above a bigram-only match, the title above the body; 文号 highest.
TITLE_WORD, BODY_WORD, TITLE_GRAM, BODY_GRAM, DOC_NO = 6.0, 1.5, 2.0, 0.3, 8.0
PHRASE_BONUS = 2.0  # the words of a term side by side, as typed
DOC_KEY_BOOST = 1000.0  # the query is this document's 文号
MAX_EXPANSIONS = 64  # agency:/category: values one clause may stand for
MAX_TERMS = 160  # index terms one query may look up
TIME_LIMIT_S = 3.0
_COLUMNS = ("category", "agency", "year", "status", "validity")


@dataclass
class _Column:
    """A facet column over document numbers: distinct values and one code per document."""

    values: list[str]
    codes: np.ndarray

    @classmethod
    def of(cls, raw: list[Any]) -> "_Column":
        values = sorted({v for v in raw if v is not None}, key=str)
        index = {v: i for i, v in enumerate(values)}
        codes = np.fromiter((index.get(v, -1) for v in raw), dtype=np.int32, count=len(raw))
        return cls([str(v) for v in values], codes)


def _and(parts: list[Q.Query]) -> Q.Query:
    return parts[0] if len(parts) == 1 else Q.And(parts)


def _or(parts: list[Q.Query]) -> Q.Query:
    return parts[0] if len(parts) == 1 else Q.Or(parts)


def _seq(field: str, run: list[str], boost: float = 1.0) -> Q.Query:
    return Q.Term(field, run[0], boost=boost) if len(run) == 1 else Q.Phrase(field, run, boost=boost)


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
        self._open()

    # -- lifecycle ----------------------------------------------------------------------------------
    def _open(self) -> None:
        self.meta = check_index(self.index_path)
        self._target = self.index_path.resolve()
        self.dict_id = dictionary.load(self._target)
        analysis.segmenter(self.dict_id)  # the dictionary is loaded now, not in the first user's query
        self._ix = whoosh_index.open_dir(str(self._target))
        self._searcher = self._ix.searcher(weighting=scoring.BM25F(B=0.75, K1=1.2, title_B=0.3))
        self._load_columns()

    def _load_columns(self) -> None:
        reader = self._searcher.reader()
        self._cols = {name: _Column.of(list(reader.column_reader(name))) for name in _COLUMNS}
        pubdate = np.fromiter(reader.column_reader("pubdate"), dtype=np.int64)
        self._pubdate = pubdate
        self._cols["month"] = _Column.of([f"{p // 100 % 100:02d}" if p else "" for p in pubdate.tolist()])
        live = np.zeros(len(pubdate), dtype=bool)
        live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self._live = live

    def refresh(self) -> None:
        """Pick up a swapped-in rebuild or new commits (cheap when nothing changed)."""
        with self._lock:
            if self.index_path.resolve() != self._target:
                self.close()
                self._open()
                return
            if not self._searcher.up_to_date():
                self._searcher = self._searcher.refresh()
                self.meta = check_index(self.index_path)
                self._load_columns()

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            if self._ix is not None:
                self._ix.close()
            self._searcher = self._ix = None

    def doc_count(self) -> int:
        with self._lock:
            return int(self._searcher.doc_count())

    # -- compiling ----------------------------------------------------------------------------------
    def _text(self, text: str, phrase: bool, title_only: bool = False) -> tuple[Q.Query, Q.Query | None]:
        """(what must match, what ranks higher when it also matches) for one text clause.

        Unquoted: every word in the title or body (anywhere), or the exact string by bigrams (names
        the dictionary splits). Quoted: the exact string. Either way the words side by side score more.
        """
        word_runs = analysis.word_runs(text, self.dict_id)
        gram_runs = analysis.bigram_runs(text)
        words = list(dict.fromkeys(w for run in word_runs for w in run))
        fields = (("title", TITLE_WORD),) if title_only else (("title", TITLE_WORD), ("body", BODY_WORD))
        gram_fields = (("title_ng", TITLE_GRAM),) if title_only else (("title_ng", TITLE_GRAM), ("body_ng", BODY_GRAM),
                                                                      ("doc_no", DOC_NO))
        exact = [_and([_seq(f, run, b) for run in gram_runs]) for f, b in gram_fields] if gram_runs else []
        scattered = _and([_or([Q.Term(f, w, boost=b) for f, b in fields]) for w in words]) if words else None
        bonus = [_and([_seq(f, run, b * PHRASE_BONUS) for run in word_runs]) for f, b in fields
                 if any(len(run) > 1 for run in word_runs)]
        if phrase:
            required = _or(exact) if exact else scattered
        else:
            required = _or(exact + ([scattered] if scattered is not None else []))
        if required is None:
            raise QueryError(f"“{text}”中没有可检索的文字，请换一个词。")
        return required, (_or(bonus) if bonus else None)

    def _values(self, field: str, text: str) -> Q.Query:
        """agency:/category: — every indexed value containing the text."""
        needle = analysis.normalize(text)
        matches = [v for v in self._cols[field].values if needle in analysis.normalize(v)]
        if len(matches) > MAX_EXPANSIONS:
            raise QueryError(f"“{text}”匹配的{'发布机构' if field == 'agency' else '栏目'}过多（{len(matches)} 个），"
                             "请写得更完整。")
        return _or([Q.Term(field, v) for v in matches]) if matches else Q.NullQuery

    def _clause(self, clause: Clause) -> tuple[Q.Query, Q.Query | None]:
        if clause.field in ("", "title"):
            return self._text(clause.text, clause.phrase, title_only=clause.field == "title")
        if clause.field == "doc_no":
            parsed = parse_doc_no(clause.text)
            if parsed:
                return Q.Term("doc_key", parsed.key, boost=DOC_NO), None
            code = analysis.normalize(clause.text).replace(" ", "")
            runs = analysis.bigram_runs(clause.text)
            parts = [Q.Term("doc_code", code, boost=DOC_NO)] + ([_and([_seq("doc_no", r) for r in runs])] if runs else [])
            return _or(parts), None
        if clause.field == "year":
            return Q.Term("year", clause.text), None
        if clause.field == "date":
            low, high = date_bounds(clause.text)
            # Open ends as None: Whoosh reads a start of 0 as "no start" inconsistently.
            return Q.NumericRange("pubdate", low or 1, None if high >= 99991231 else high), None
        return self._values(clause.field, clause.text), None

    def compile(self, parsed: ParsedQuery, relaxed: bool = False) -> Q.Query:
        """The Whoosh query; `relaxed` lets documents match any of the text groups instead of all."""
        required, optional, excluded, text_groups = [], [], [], []
        for group in parsed.groups:
            compiled = [self._clause(c) for c in group]
            must = _or([m for m, _ in compiled])
            optional.extend(b for _, b in compiled if b is not None)
            if group[0].negated:
                excluded.append(must)
            elif relaxed and all(c.field in ("", "title") for c in group):
                text_groups.append(must)
            else:
                required.append(must)
        if text_groups:
            required.append(_or(text_groups))
        if len(parsed.groups) == 1 and not parsed.groups[0][0].field and not parsed.groups[0][0].negated:
            doc_no = parse_doc_no(parsed.groups[0][0].text)
            if doc_no:  # a 文号 typed as the query: that document first
                required = [Q.Or([Q.Term("doc_key", doc_no.key, boost=DOC_KEY_BOOST), *required])]
        query: Q.Query = _and(required) if required else Q.Every()
        if optional:
            query = Q.AndMaybe(query, _or(optional))
        if excluded:
            query = Q.AndNot(query, _or(excluded))
        terms = sum(1 for _ in query.iter_all_terms())
        if terms > MAX_TERMS:
            raise QueryError(f"查询展开后的检索词过多（{terms} 个），请缩短查询或减少条件。")
        return query

    # -- searching ----------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        parsed = parse_query(request.q, self.max_query_chars)
        page_size = max(1, min(request.page_size, MAX_PAGE_SIZE))
        page = max(1, min(request.page, MAX_PAGE))
        notice = ""
        with self._lock:
            searcher = self._searcher
            query = self.compile(parsed)
            docnums = self._matching(parsed, query)
            if not len(docnums) and parsed.text_groups() > 1:
                query = self.compile(parsed, relaxed=True)
                docnums = self._matching(parsed, query)
                if len(docnums):
                    notice = "没有同时包含全部词语的结果，以下是包含部分词语的结果。"
            facets, allowed = self._facet_counts(docnums, request)
            total = int(len(allowed))
            page_count = max(1, -(-total // page_size))
            page = min(page, page_count)
            wanted = page * page_size
            if parsed.empty or request.sort == "date":
                order = allowed[np.lexsort((-allowed, -self._pubdate[allowed]))][:wanted]
                ranked = [(int(d), 0.0) for d in order]
            else:
                ranked, timed_out = self._ranked(searcher, query, allowed, len(allowed) < len(docnums), wanted)
                if timed_out:
                    notice = "查询耗时较长，以下为部分结果；请加上更具体的词或筛选条件。"
            needles = query_needles(parsed.positive_texts(), self.dict_id)
            hits = [self._hit(searcher.stored_fields(d), score, needles) for d, score in ranked[(page - 1) * page_size:]]
            exact_id = self._doc_no_target(parsed)
        return SearchResult(hits=hits, total=total, page=page, page_count=page_count, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000, terms=parsed.positive_texts(),
                            notice=notice, doc_no_match=exact_id)

    def _matching(self, parsed: ParsedQuery, query: Q.Query) -> np.ndarray:
        if parsed.empty:
            return np.flatnonzero(self._live)
        return np.fromiter(self._searcher.docs_for_query(query), dtype=np.int64)

    def _ranked(self, searcher: Any, query: Q.Query, allowed: np.ndarray, narrowed: bool,
                wanted: int) -> tuple[list[tuple[int, float]], bool]:
        """Top `wanted` by score within `allowed`; equal scores go newest first."""
        if not len(allowed):
            return [], False
        # The time limit wraps the ranking collector and the filter wraps both: a TimeLimitCollector
        # steps through matches itself, so a filter inside it would be bypassed.
        collector: Any = TimeLimitCollector(searcher.collector(limit=wanted + 10), timelimit=self.time_limit_s,
                                            use_alarm=False)
        if narrowed:
            collector = FilterCollector(collector, set(allowed.tolist()))
        timed_out = False
        try:
            searcher.search_with_collector(query, collector)
        except TimeLimit:
            timed_out = True
        results = collector.results()
        scored = [(int(hit.docnum), float(hit.score or 0.0)) for hit in results]
        pubdate = self._pubdate
        scored.sort(key=lambda ds: (-round(ds[1], 4), -int(pubdate[ds[0]])))
        return scored[:wanted], timed_out

    def _doc_no_target(self, parsed: ParsedQuery) -> str:
        """The id of the one document whose 文号 the whole query is ("" otherwise)."""
        if len(parsed.groups) != 1 or parsed.groups[0][0].negated or parsed.groups[0][0].field not in ("", "doc_no"):
            return ""
        doc_no = parse_doc_no(parsed.groups[0][0].text)
        if not doc_no:
            return ""
        found = list(self._searcher.docs_for_query(Q.Term("doc_key", doc_no.key)))
        return str(self._searcher.stored_fields(found[0])["id"]) if len(found) == 1 else ""

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
            id=fields["id"], title=fields.get("title", ""), url=fields.get("url", ""), agency=fields.get("agency", ""),
            category=fields.get("category", ""), doc_no=fields.get("doc_no", ""), published=published,
            snippet=snippet(fields.get("text", ""), needles, dict_id=self.dict_id),
            title_html=highlight_all(fields.get("title", ""), needles, self.dict_id),
            score=score, status=fields.get("status", "active"),
        )

    def highlight(self, text: str, terms: list[str]) -> str:
        """`text` escaped with the query terms' whole words marked (for the document page)."""
        return highlight_all(text, query_needles(terms, self.dict_id), self.dict_id)

    def near_doc_nos(self, text: str, limit: int = 5) -> list[tuple[str, str, str]]:
        """(文号, id, title) of documents whose 文号 has the same 机关代字 as `text`, nearest first."""
        wanted = parse_doc_no(text)
        if not wanted:
            return []
        with self._lock:
            found = []
            for docnum in self._searcher.docs_for_query(Q.Term("doc_code", wanted.code)):
                fields = self._searcher.stored_fields(docnum)
                have = parse_doc_no(fields.get("doc_no", ""))
                if have and have.key != wanted.key:
                    distance = abs(have.year - wanted.year) * 1000 + abs(have.number - wanted.number)
                    found.append((distance, fields["doc_no"], fields["id"], fields.get("title", "")))
        return [(d, i, t) for _, d, i, t in sorted(found)[:limit]]

    def related(self, doc_id: str, title: str, agency: str, doc_no: str, limit: int = 6) -> list[dict[str, Any]]:
        """Documents of the same 文号 family (机关代字), then of the same agency on the same subject."""
        family = parse_doc_no(doc_no) if doc_no else None
        words = [w for run in analysis.word_runs(title, self.dict_id) for w in run if len(w) > 1][:12]
        out: list[dict[str, Any]] = []
        seen = {doc_id}
        with self._lock:
            searcher = self._searcher
            if family:
                hits = searcher.search(Q.Term("doc_code", family.code), limit=limit * 3,
                                       sortedby="pubdate", reverse=True)
                for hit in hits:
                    if hit["id"] not in seen and len(out) < limit // 2:
                        seen.add(hit["id"])
                        out.append(self._related(hit, "同一文号系列"))
            if words:
                about = Q.Or([Q.Term(f, w) for w in words for f in ("title", "body")])
                query = Q.And([Q.Term("agency", agency), about]) if agency else about
                for hit in searcher.search(query, limit=limit * 2):
                    if hit["id"] not in seen and len(out) < limit:
                        seen.add(hit["id"])
                        out.append(self._related(hit, "同机构相近主题"))
        return out

    @staticmethod
    def _related(hit: Any, why: str) -> dict[str, Any]:
        pubdate = hit.get("pubdate") or 0
        return {"id": hit["id"], "title": hit.get("title", ""), "doc_no": hit.get("doc_no", ""), "why": why,
                "published": f"{pubdate // 10000}-{pubdate // 100 % 100:02d}-{pubdate % 100:02d}" if pubdate else None}
