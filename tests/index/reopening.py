"""Shared by the reopen tests of both engines: an archive, a sync of edits, and the answers a
long-running engine and a fresh one must agree on."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.settings import Settings
from archive.transfer import import_documents
from index.api import SearchRequest, index_writer, open_backend
from index.engine import Engine
from tests.conftest import make_settings
from tests.index.test_live import QUERIES, WORDS, _all, _facets, _line


def archive(tmp_path: Path, count: int, backend: str) -> tuple[Settings, Catalog]:
    """`count` imported documents, indexed by `backend`."""
    settings = make_settings(tmp_path / "data", index_backend=backend)
    catalog = Catalog(settings.catalog_path)
    import_documents(catalog, [_line(n, 1, (WORDS[n % 6], WORDS[(n + 1) % 6])) for n in range(count)])
    index_writer(settings).rebuild(catalog)
    return settings, catalog


def churn(settings: Settings, catalog: Catalog, kept: Engine) -> None:
    """Documents 0-4 edited (their old versions deleted), 30-32 new, 7 withdrawn; synced; `kept` refreshed."""
    import_documents(catalog, [_line(n, 2, (WORDS[(n + 2) % 6],)) for n in range(5)])
    import_documents(catalog, [_line(n, 1, (WORDS[n % 6],)) for n in range(30, 33)])
    catalog.mark_withdrawn("imp-7")
    index_writer(settings).sync(catalog)
    kept.refresh()


def same_answers(kept: Engine, settings: Settings) -> None:
    """A long-running engine answers as a fresh one: ids in order, totals, facets, scores."""
    fresh = open_backend(settings)
    try:
        assert kept.status().documents == fresh.status().documents
        for request in [*QUERIES, SearchRequest(q="第2稿"), SearchRequest(q="", filters={"validity": "已废止"})]:
            kept_ids, kept_page = _all(kept, request)
            fresh_ids, fresh_page = _all(fresh, request)
            assert kept_ids == fresh_ids, request
            assert kept_page.total == fresh_page.total == len(kept_ids), request
            assert _facets(kept_page) == _facets(fresh_page), request
            assert [h.score for h in kept_page.hits] == pytest.approx([h.score for h in fresh_page.hits]), request
    finally:
        fresh.close()
