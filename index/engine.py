"""Whoosh behind the backend-neutral interface: compile queries, count facets from columns, page hits."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.sorting import FieldFacet

from archive.errors import QueryError
from index import analysis
from index.api import FACETS, MAX_PAGE, MAX_PAGE_SIZE, FacetValue, Hit, SearchRequest, SearchResult
from index.highlight import highlight_all, query_needles, snippet
from index.query import Clause, ParsedQuery, parse_query
from index.sync import check_index

# Word matches rank above bigram-only matches; title above body.
_TEXT_FIELDS = (("title", "words", 6.0), ("body", "words", 2.0), ("title_ng", "grams", 1.5), ("body_ng", "grams", 0.5),
                ("doc_no", "grams", 4.0))
_COLUMNS = ("category", "agency", "year", "pubdate", "status", "validity")


def _field_query(name: str, runs: list[list[str]], boost: float) -> Q.Query:
    """Each run of consecutive tokens must appear as a phrase; all runs must appear."""
    parts = [Q.Term(name, run[0], boost=boost) if len(run) == 1 else Q.Phrase(name, run, boost=boost) for run in runs]
    return parts[0] if len(parts) == 1 else Q.And(parts)


def _text_query(text: str, fields: tuple[tuple[str, str, float], ...]) -> Q.Query | None:
    runs = {"words": analysis.word_runs(text), "grams": analysis.bigram_runs(text)}
    parts = [_field_query(name, runs[kind], boost) for name, kind, boost in fields if runs[kind]]
    if not parts:
        return None
    return Q.Or(parts)


class WhooshEngine:
    """One open index; safe to share between threads (searches are serialised on a lock)."""

    def __init__(self, index_path: Path, max_query_chars: int = 200) -> None:
        self.index_path = Path(index_path)
        self.max_query_chars = max_query_chars
        self._lock = threading.RLock()
        self._target: Path | None = None
        self._ix: Any = None
        self._searcher: Any = None
        self._columns: dict[str, list[Any]] = {}
        self._distinct: dict[str, list[tuple[str, str]]] = {}
        self.meta: dict[str, Any] = {}
        self._open()

    # -- lifecycle ----------------------------------------------------------------------------------
    def _open(self) -> None:
        self.meta = check_index(self.index_path)
        analysis.segmenter()  # load the dictionary now, not during the first user's query
        self._target = self.index_path.resolve()
        self._ix = whoosh_index.open_dir(str(self._target))
        self._searcher = self._ix.searcher()
        self._load_columns()

    def _load_columns(self) -> None:
        reader = self._searcher.reader()
        self._columns = {name: list(reader.column_reader(name)) for name in _COLUMNS}
        self._columns["month"] = [f"{p // 100 % 100:02d}" if p else "" for p in self._columns["pubdate"]]
        # (normalised, raw) distinct values for `agency:` / `category:` clauses, once per searcher.
        self._distinct = {name: [(analysis.normalize(v), v) for v in sorted(set(self._columns[name]))]
                          for name in ("agency", "category")}

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
    def _clause_query(self, clause: Clause) -> Q.Query:
        if clause.field in ("", "title"):
            fields = _TEXT_FIELDS if clause.field == "" else tuple(f for f in _TEXT_FIELDS if f[0].startswith("title"))
            query = _text_query(clause.text, fields)
        elif clause.field == "doc_no":
            query = _text_query(clause.text, (("doc_no", "grams", 4.0),))
        elif clause.field == "year":
            query = Q.Term("year", clause.text)
        else:  # agency, category: any indexed value containing the text
            needle = analysis.normalize(clause.text)
            matches = [raw for norm, raw in self._distinct[clause.field] if needle in norm]
            query = Q.Or([Q.Term(clause.field, v) for v in matches]) if matches else Q.NullQuery
        if query is None:
            raise QueryError(f"“{clause.text}”中没有可检索的文字，请换一个词。")
        return query

    def compile(self, parsed: ParsedQuery) -> Q.Query:
        required, excluded = [], []
        for group in parsed.groups:
            queries = [self._clause_query(c) for c in group]
            if group[0].negated:
                excluded.extend(queries)
            else:
                required.append(queries[0] if len(queries) == 1 else Q.Or(queries))
        query: Q.Query = Q.And(required) if len(required) > 1 else (required[0] if required else Q.Every())
        if excluded:
            query = Q.AndNot(query, Q.Or(excluded))
        return query

    # -- searching ----------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        parsed = parse_query(request.q, self.max_query_chars)
        page_size = max(1, min(request.page_size, MAX_PAGE_SIZE))
        page = max(1, min(request.page, MAX_PAGE))
        with self._lock:
            query = self.compile(parsed)
            searcher = self._searcher
            if parsed.empty:
                docnums = list(searcher.reader().all_doc_ids())
            else:
                docnums = list(searcher.docs_for_query(query))
            facets, allowed = self._facet_counts(docnums, request)
            by_date = request.sort == "date" or parsed.empty
            sortedby = FieldFacet("pubdate", reverse=True) if by_date else None
            total = len(allowed)
            page_count = max(1, -(-total // page_size))
            page = min(page, page_count)
            hits: list[Hit] = []
            if allowed:
                results = searcher.search(query, filter=allowed, limit=page * page_size, sortedby=sortedby,
                                          terms=False)
                needles = query_needles(parsed.positive_texts())
                for hit in list(results)[(page - 1) * page_size:]:
                    hits.append(self._hit(hit, needles))
        return SearchResult(hits=hits, total=total, page=page, page_count=page_count, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000, terms=parsed.positive_texts())

    def _facet_counts(self, docnums: list[int], request: SearchRequest) -> tuple[dict[str, list[FacetValue]], set[int]]:
        """Per facet, counts under every other filter (so a count equals the results of clicking it)."""
        cols = self._columns
        filters = {k: v for k, v in request.filters.items() if k in FACETS and v}
        low = int(request.date_from.strftime("%Y%m%d")) if request.date_from else None
        high = int(request.date_to.strftime("%Y%m%d")) if request.date_to else None
        counters = {f: Counter() for f in FACETS}
        allowed: set[int] = set()
        pubdate = cols["pubdate"]
        for d in docnums:
            if low is not None and not (pubdate[d] and pubdate[d] >= low):
                continue
            if high is not None and not (pubdate[d] and pubdate[d] <= high):
                continue
            failing = [f for f, v in filters.items() if cols[f][d] != v]
            if not failing:
                allowed.add(d)
                for f in FACETS:
                    counters[f][cols[f][d]] += 1
            elif len(failing) == 1:
                f = failing[0]
                counters[f][cols[f][d]] += 1
        facets = {}
        for f in FACETS:
            items = counters[f].items()
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
        return facets, allowed

    def _hit(self, hit: Any, needles: list[str]) -> Hit:
        fields = hit.fields()
        pubdate = fields.get("pubdate") or 0
        published = date(pubdate // 10000, pubdate // 100 % 100, pubdate % 100) if pubdate else None
        return Hit(
            id=fields["id"], title=fields.get("title", ""), url=fields.get("url", ""), agency=fields.get("agency", ""),
            category=fields.get("category", ""), doc_no=fields.get("doc_no", ""), published=published,
            snippet=snippet(fields.get("text", ""), needles), title_html=highlight_all(fields.get("title", ""), needles),
            score=float(hit.score) if isinstance(hit.score, (int, float)) else 0.0,
            status=fields.get("status", "active"),
        )
