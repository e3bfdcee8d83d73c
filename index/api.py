"""The index's interface: backend-neutral search types, the `SearchBackend` and `IndexWriter` protocols,
and `open_backend` / `index_writer`, which pick the engine: the one the index on disk was built with,
else the one the `index_backend` setting names.

Everything outside `index` (the web, reports, the command line) talks to the index through this
module only; engine types never leak past their sub-packages (`index.whoosh`, `index.tantivy`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from archive.settings import SETTINGS
from index.analysis import normalize  # noqa: F401 - text as the index compares it, for callers outside index
from index.errors import EngineError, IndexMissingError, QueryError  # noqa: F401 - the errors callers catch
from index.query import FIELDS as QUERY_FIELDS  # noqa: F401 - the field names the query language knows
from index.query import UNKNOWN_YEAR, year_value  # noqa: F401 - the year facet's value for undated documents

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from archive.settings import Settings
    from index.agreement import Agreement
    from index.relations.store import RelationsSync
    from index.relations.view import DocumentRelations

BACKENDS = next(s.choices for s in SETTINGS if s.name == "index_backend")
FACETS = ("category", "agency", "year", "month", "listyear", "validity", "status")  # listyear: 列表年份 of the undated
UNSTATED = "未注明"  # the 有效性 facet of a document that states none
SORTS = ("relevance", "date")
MAX_PAGE_SIZE = 50
MAX_PAGE = 100


@dataclass(frozen=True)
class SearchRequest:
    """What the user asked: query text, facet filters (one value each), date window, sort, page."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20
    literal: bool = False  # no synonyms and no typo correction: the words as typed
    collapse: bool = True  # one result per group of reposts and copies (facets then count groups)


@dataclass(frozen=True)
class Copy:
    """Another member of a result's group: a repost or copy of the same content."""

    id: str
    title: str
    agency: str
    published: date | None


@dataclass(frozen=True)
class Hit:
    """One result, with everything the result list shows; `snippet` is escaped HTML with <mark>."""

    id: str
    title: str
    url: str
    agency: str
    category: str
    doc_no: str
    published: date | None
    snippet: str
    title_html: str
    score: float
    status: str = "active"
    tier: str = "all"  # the rung of the relaxation ladder: exact, all (words), most (words), similar (text)
    missing: tuple[str, ...] = ()  # for "most": the query words this document lacks
    listed: date | None = None  # 列表日期: the list page's or URL's date of a document that states none
    validity: str = ""  # 有效性: the page's own, else as its relations say (已废止, 已修订), else 未注明
    copies: tuple[Copy, ...] = ()  # the group's other members, collapsed under this result


_MARK = re.compile(r"</?mark>")


def hit_json(hit: Hit) -> dict[str, Any]:
    """A hit as JSON (the site's search.json, feeds and exports, and `xxgk search --json` use this one form)."""
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "agency": hit.agency,
        "category": hit.category,
        "doc_no": hit.doc_no,
        "published": hit.published.isoformat() if hit.published else None,
        "listed": hit.listed.isoformat() if hit.listed else None,
        "status": hit.status,
        "validity": hit.validity or None,
        "copies": [
            {"id": c.id, "title": c.title, "agency": c.agency, "published": c.published.isoformat() if c.published else None}
            for c in hit.copies
        ],
        "score": round(hit.score, 3),
        "tier": hit.tier,
        "missing": list(hit.missing),
        "snippet": html.unescape(_MARK.sub("", hit.snippet)),
        "snippet_html": hit.snippet,
    }


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchResult:
    """Hits of one page, the total, and per-facet counts under the other facets' filters."""

    hits: list[Hit]
    total: int
    page: int
    page_count: int
    facets: dict[str, list[FacetValue]]
    took_ms: float
    terms: list[str]
    notice: str = ""  # e.g. the words were relaxed from all to some
    doc_no_match: str = ""  # id of the one document whose 文号 the whole query is
    expanded: list[str] = field(default_factory=list)  # synonym-table words searched beside the query's
    corrected: str = ""  # the corrected query whose results these are ("" when the query was searched as typed)
    tier_counts: dict[str, int] = field(default_factory=dict)  # results per rung of the relaxation ladder
    collapsed: int = 0  # documents not shown because another member of their group is (0: nothing collapsed)


TIER_LABELS = {"exact": "完整匹配", "all": "包含全部词语", "most": "包含部分词语", "similar": "文字相近"}


def result_json(result: SearchResult) -> dict[str, Any]:
    """A result page as JSON (the site's search.json and `xxgk search --json` use this one form)."""
    return {
        "total": result.total,
        "page": result.page,
        "page_count": result.page_count,
        "took_ms": round(result.took_ms, 1),
        "terms": result.terms,
        "notice": result.notice,
        "doc_no_match": result.doc_no_match or None,
        "expanded": result.expanded,
        "corrected": result.corrected or None,
        "tiers": result.tier_counts,
        "collapsed": result.collapsed,
        "facet_counts": "groups" if result.collapsed else "documents",
        "hits": [hit_json(h) for h in result.hits],
    }


@dataclass(frozen=True)
class Related:
    """A document related to another, and why (same 文号 series, same agency and subject)."""

    id: str
    title: str
    doc_no: str
    why: str
    published: str | None


@dataclass(frozen=True)
class NearDocNo:
    """A document whose 文号 is near the one asked for (same 机关代字, a close number or year)."""

    doc_no: str
    id: str
    title: str


@dataclass(frozen=True)
class IndexStatus:
    """What the index the backend serves says of itself (for /healthz and `xxgk status`)."""

    backend: str
    documents: int
    catalog_seq: int
    built_at: str | None
    updated_at: str | None
    last_error: str  # the last unexpected engine failure since the index last changed ("" when none)


@dataclass(frozen=True)
class IndexedDocument:
    """One document as the index holds it: enough to compare the index with the catalog."""

    id: str
    seq: int
    status: str


class SearchBackend(Protocol):
    """An open index: safe to share between threads; `refresh()` picks up commits and swapped rebuilds
    of the same engine (a rebuild by the other engine needs another `open_backend`)."""

    backend: str  # the engine: "whoosh" or "tantivy"

    def search(self, request: SearchRequest) -> SearchResult: ...

    def related(self, doc_id: str, title: str, agency: str, doc_no: str, limit: int = 6) -> list[Related]: ...

    def near_doc_nos(self, text: str, limit: int = 5) -> list[NearDocNo]: ...

    def highlight(self, texts: list[str], q: str, literal: bool = False) -> list[str]:
        """Each text as escaped HTML with the query's words marked as its results mark them (a document
        page): the synonyms it searched too, a typo's correction, none of either when `literal`;
        QueryError for a bad `q`."""
        ...

    def status(self) -> IndexStatus: ...

    def documents(self) -> list[IndexedDocument]: ...

    def refresh(self) -> None: ...

    def close(self) -> None: ...


class IndexWriter(Protocol):
    """Derives the index from the catalog; every write takes the data directory's index lock."""

    def rebuild(self, catalog: Catalog, progress: Callable[[int], None] | None = None) -> int:
        """Build a new index of every catalog document beside the old one, then swap it in."""
        ...

    def sync(self, catalog: Catalog) -> int:
        """Apply the catalog's changes since the index's recorded sequence number (rebuild when none)."""
        ...


def built_backend(settings: Settings) -> str:
    """The engine of the index on disk, which its meta names ("" when there is no index; an index built
    before the meta named its engine is Whoosh's)."""
    from index.build import read_meta

    meta = read_meta(settings.index_path)
    return str(meta.get("backend") or "whoosh") if meta else ""


def index_summary(settings: Settings) -> dict[str, Any]:
    """The index as its meta describes it (engine, documents, built and last synced), read without
    opening it; {"error": ...} when there is none."""
    try:
        meta = check_index(settings)
    except IndexMissingError as exc:  # none, or built by another version of the analysis or the schema
        return {"error": f"{exc.message}；{exc.hint}"}
    return {
        "backend": built_backend(settings),
        "documents": int(meta.get("documents", 0)),
        "built_at": meta.get("built_at"),
        "updated_at": meta.get("synced_at") or meta.get("built_at"),
    }


def check_index(settings: Settings) -> dict[str, Any]:
    """The meta of the index on disk, or IndexMissingError, naming the remedy, unless it is one this
    program can open (its engine's files, schema and analysis version); the index is not opened."""
    backend = built_backend(settings) or settings.index_backend
    if backend == "tantivy":
        from index.tantivy.writer import check_index as check
    else:
        from index.whoosh.sync import check_index as check
    return check(settings.index_path)


def open_backend(settings: Settings) -> SearchBackend:
    """The engine of the index on disk (else the one the settings name), opened on the data directory's index."""
    from index import analysis
    from index.vocabulary import load_synonyms

    analysis.configure(settings.cache_dir)
    synonyms = load_synonyms(settings.synonyms_file or None)
    backend = built_backend(settings) or settings.index_backend
    if backend == "whoosh":
        from index.whoosh.engine import WhooshEngine

        return WhooshEngine(settings.index_path, settings.max_query_chars, synonyms=synonyms)
    if backend == "tantivy":
        from index.tantivy.engine import TantivyEngine

        return TantivyEngine(settings.index_path, settings.max_query_chars, synonyms=synonyms)
    raise ValueError(f"unknown index_backend {backend!r}; known: {', '.join(BACKENDS)}")


def compare_with_catalog(backend: SearchBackend, catalog: Catalog) -> Agreement:
    """How the index a backend serves differs from the catalog it derives from (`xxgk verify --index`)."""
    from index.agreement import compare

    return compare(backend, catalog)


def index_writer(settings: Settings, backend: str = "") -> IndexWriter:
    """The index writer of `backend`; by default the engine of the index on disk, else the settings' one.

    A sync keeps the engine the index was built with; `xxgk reindex` builds with the settings' engine
    (or `--backend`), beside the old index, and swaps: that is how an archive changes engine."""
    from index.build import BoundWriter

    backend = backend or built_backend(settings) or settings.index_backend
    if backend == "whoosh":
        from index.whoosh import sync as whoosh

        return BoundWriter(settings, whoosh.rebuild, whoosh.sync)
    if backend == "tantivy":
        from index.tantivy import writer as tantivy

        return BoundWriter(settings, tantivy.rebuild, tantivy.sync)
    raise ValueError(f"unknown index_backend {backend!r}; known: {', '.join(BACKENDS)}")


def sync_relations(catalog: Catalog, rebuild: bool = False) -> RelationsSync:
    """Bring the document relations (references, their types and targets) up to date with the catalog."""
    from index.relations.store import sync_relations as sync

    return sync(catalog, rebuild=rebuild)


def document_relations(catalog: Catalog, doc_id: str) -> DocumentRelations | None:
    """A document's relations both ways, its derived validity and its chain (None before the first sync)."""
    from index.relations.view import document_relations as relations

    return relations(catalog, doc_id)
