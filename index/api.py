"""Backend-neutral search types: a request in; hits, snippets and facet counts out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

FACETS = ("category", "agency", "year", "month", "validity", "status")
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
