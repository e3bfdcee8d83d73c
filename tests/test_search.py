"""Search over the index built from the real crawl: ranking, phrases, facets, filters, errors."""

from __future__ import annotations

from datetime import date

import pytest

from archive.catalog import Catalog
from archive.errors import QueryError
from archive.settings import Settings
from crawler.demo_portal.corpus import seed_report
from index.analysis import normalize
from index.api import SearchRequest
from index.engine import WhooshEngine


def _all_docs(settings: Settings):
    with Catalog(settings.catalog_path) as catalog:
        return list(catalog.iter_documents())


def _ids(engine: WhooshEngine, **kwargs) -> set[str]:
    result = engine.search(SearchRequest(page_size=50, **kwargs))
    ids = {h.id for h in result.hits}
    for page in range(2, result.page_count + 1):
        ids |= {h.id for h in engine.search(SearchRequest(page=page, page_size=50, **kwargs)).hits}
    assert len(ids) == result.total
    return ids


def _searchable_text(stored) -> str:
    doc = stored.doc
    return normalize("\n".join([doc.title, doc.body, *(a.text for a in doc.attachments)]))


def test_seed_report_is_first_for_the_readme_query(engine: WhooshEngine) -> None:
    result = engine.search(SearchRequest(q="信息公开 年度报告"))
    assert result.hits[0].title == seed_report()[0]
    assert result.hits[0].published == date(2017, 3, 28)
    assert "<mark>信息公开</mark>" in result.hits[0].snippet


def test_phrase_matches_exactly_the_documents_containing_the_string(engine: WhooshEngine, indexed: Settings) -> None:
    phrase = "政府信息公开"
    expected = {d.id for d in _all_docs(indexed) if phrase in _searchable_text(d)}
    assert expected, "the corpus must contain the phrase"
    assert _ids(engine, q=f'"{phrase}"') == expected


def test_phrase_does_not_match_scattered_or_punctuated_words(tmp_path) -> None:
    from archive.models import Document
    from index.sync import rebuild
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    texts = {"exact": "本局认真做好政府信息公开工作。", "scattered": "政府网站发布信息，公开征求意见。",
             "punctuated": "市政府，信息公开专栏已更新。", "reversed": "公开信息政府。"}
    with Catalog(settings.catalog_path) as catalog:
        for key, body in texts.items():
            catalog.record_document(Document(source_id="t", url=f"http://x/{key}", title=key, body=body), None)
        rebuild(settings, catalog)
        ids = {catalog.get(d.id).doc.title for d in catalog.iter_documents()}
    engine = WhooshEngine(settings.index_path)
    hits = engine.search(SearchRequest(q='"政府信息公开"')).hits
    assert [h.title for h in hits] == ["exact"]
    assert ids == set(texts)
    engine.close()


def test_every_term_must_match(engine: WhooshEngine, indexed: Settings) -> None:
    terms = ["最低生活保障", "通知"]
    expected = {d.id for d in _all_docs(indexed) if all(normalize(t) in _searchable_text(d) for t in terms)}
    assert expected and _ids(engine, q=" ".join(terms)) == expected


def test_exclusion_and_or(engine: WhooshEngine, indexed: Settings) -> None:
    docs = _all_docs(indexed)
    either = {d.id for d in docs if "婚姻登记" in _searchable_text(d) or "殡葬管理" in _searchable_text(d)}
    assert _ids(engine, q="婚姻登记 OR 殡葬管理") == either
    without = {d.id for d in docs if "婚姻登记" in _searchable_text(d) and "通知" not in _searchable_text(d)}
    assert _ids(engine, q="婚姻登记 -通知") == without


def test_doc_number_in_any_bracket_style_finds_the_document(engine: WhooshEngine, indexed: Settings) -> None:
    target = next(d.doc for d in _all_docs(indexed) if d.doc.doc_no)
    square = target.doc_no.replace("〔", "[").replace("〕", "]")
    for query in (target.doc_no, square, f"doc_no:{target.doc_no}"):
        titles = [h.title for h in engine.search(SearchRequest(q=query, page_size=50)).hits]
        assert target.title in titles, query


@pytest.mark.parametrize("facet", ["category", "agency", "year"])
def test_facet_counts_equal_the_results_of_clicking_them(engine: WhooshEngine, facet: str) -> None:
    base = engine.search(SearchRequest(q="工作"))
    values = base.facets[facet]
    assert sum(v.count for v in values) == base.total
    for value in values:
        narrowed = engine.search(SearchRequest(q="工作", filters={facet: value.value}))
        assert narrowed.total == value.count, value


def test_facet_counts_under_another_facets_filter(engine: WhooshEngine) -> None:
    req = SearchRequest(q="公开", filters={"agency": "余杭区民政局"})
    result = engine.search(req)
    selected = [v for v in result.facets["agency"] if v.selected]
    assert selected and selected[0].count == result.total
    for value in result.facets["year"]:
        both = engine.search(SearchRequest(q="公开", filters={"agency": "余杭区民政局", "year": value.value}))
        assert both.total == value.count


def test_date_range_filter(engine: WhooshEngine, indexed: Settings) -> None:
    low, high = date(2016, 1, 1), date(2017, 6, 30)
    expected = {d.id for d in _all_docs(indexed) if d.doc.published and low <= d.doc.published <= high}
    assert _ids(engine, date_from=low, date_to=high) == expected
    hits = engine.search(SearchRequest(date_from=low, date_to=high, sort="date", page_size=50)).hits
    dates = [h.published for h in hits]
    assert dates == sorted(dates, reverse=True)


def test_sort_by_date_orders_newest_first(engine: WhooshEngine) -> None:
    hits = engine.search(SearchRequest(q="通知", sort="date", page_size=30)).hits
    assert [h.published for h in hits] == sorted((h.published for h in hits), reverse=True)


@pytest.mark.parametrize("query", ['"未闭合', "*通配", "foo:bar", "OR 救助", "-仅排除", "x" * 300, "救助 OR"])
def test_malformed_query_raises_a_friendly_error(engine: WhooshEngine, query: str) -> None:
    with pytest.raises(QueryError) as info:
        engine.search(SearchRequest(q=query))
    assert info.value.status == 400 and info.value.message


def test_page_beyond_the_end_is_clamped(engine: WhooshEngine) -> None:
    result = engine.search(SearchRequest(q="通知", page=99))
    assert result.page == result.page_count and result.hits
