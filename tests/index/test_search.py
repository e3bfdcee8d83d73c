"""Search over the index built from the real crawl: ranking, phrases, facets, filters, errors."""

from __future__ import annotations

from datetime import date

import pytest

from archive.catalog import Catalog
from archive.settings import Settings
from index.analysis import normalize, word_runs
from index.api import SearchRequest
from index.errors import QueryError
from index.whoosh.engine import WhooshEngine
from xxgk.demo.corpus import seed_report


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


def test_phrase_matches_across_punctuation_but_not_scattered_words(tmp_path) -> None:
    from archive.models import Document
    from index.whoosh.sync import rebuild
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    texts = {
        "exact": "本局认真做好政府信息公开工作。",
        "scattered": "政府网站发布信息，公开征求意见。",
        "punctuated": "市政府，信息公开专栏已更新。",
        "reversed": "公开信息政府。",
        "every-bigram": "政府信箱收到消息公布后公开信息。",  # 政府 府信 信息 息公 公开, never in a row
    }
    with Catalog(settings.catalog_path) as catalog:
        for key, body in texts.items():
            catalog.record_document(Document(source_id="t", url=f"http://x/{key}", title=key, body=body), None)
        rebuild(settings, catalog)
        ids = {catalog.get(d.id).doc.title for d in catalog.iter_documents()}
    engine = WhooshEngine(settings.index_path)
    hits = engine.search(SearchRequest(q='"政府信息公开"')).hits
    assert sorted(h.title for h in hits) == ["exact", "punctuated"]  # 政府，信息公开: punctuation matches none
    hits = engine.search(SearchRequest(q='"政府、信息公开"')).hits
    assert sorted(h.title for h in hits) == ["exact", "punctuated"]
    assert ids == set(texts)
    engine.close()


def test_every_word_must_match_and_adjacent_words_rank_first(engine: WhooshEngine, indexed: Settings) -> None:
    terms = ["最低生活保障", "通知"]
    words = [w for t in terms for run in word_runs(t) for w in run]
    docs = {d.id: _searchable_text(d) for d in _all_docs(indexed)}
    exact = {i for i, text in docs.items() if all(normalize(t) in text for t in terms)}
    hits = engine.search(SearchRequest(q=" ".join(terms), page_size=50, literal=True)).hits
    full = [h for h in hits if h.tier in ("exact", "all")]
    found = {h.id for h in full}
    assert exact and exact <= found
    assert all(all(w in docs[i] for w in words) for i in found)
    # The documents with 最低生活保障 as typed come before those where its words are scattered, and
    # every relaxed result (a word missing) after all of them.
    assert {h.id for h in hits[: len(exact)]} == exact
    assert [h.tier for h in hits] == sorted((h.tier for h in hits), key=["exact", "all", "most", "similar"].index)
    assert all(h.missing and not all(w in docs[h.id] for w in words) for h in hits if h.tier == "most")


def test_exclusion_and_or(engine: WhooshEngine, indexed: Settings) -> None:
    docs = _all_docs(indexed)
    either = {d.id for d in docs if "婚姻登记" in _searchable_text(d) or "殡葬管理" in _searchable_text(d)}
    assert _ids(engine, q="婚姻登记 OR 殡葬管理") == either
    without = {d.id for d in docs if "婚姻登记" in _searchable_text(d) and "通知" not in _searchable_text(d)}
    hits = engine.search(SearchRequest(q="婚姻登记 -通知", page_size=50)).hits
    assert {h.id for h in hits if h.tier in ("exact", "all")} == without
    texts = {d.id: _searchable_text(d) for d in docs}
    assert not any("通知" in texts[h.id] for h in hits)  # an exclusion holds on every rung


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
    # Each document has one value; a group of reposts counts once under each value its members have.
    every = engine.search(SearchRequest(q="工作", collapse=False))
    assert sum(v.count for v in every.facets[facet]) == every.total >= base.total
    assert base.total <= sum(v.count for v in values) <= every.total
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
    # A document stating no date sorts by its list date, after the dated ones of that day.
    keys = [((h.published or h.listed), h.published is not None) for h in hits]
    assert all(k[0] for k in keys) and keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("query", ['"未闭合', "*通配", "foo:bar", "OR 救助", "-仅排除", "x" * 600, "救助 OR"])
def test_malformed_query_raises_a_friendly_error(engine: WhooshEngine, query: str) -> None:
    with pytest.raises(QueryError) as info:
        engine.search(SearchRequest(q=query))
    assert info.value.status == 400 and info.value.message


def test_page_beyond_the_end_is_clamped(engine: WhooshEngine) -> None:
    result = engine.search(SearchRequest(q="通知", page=99))
    assert result.page == result.page_count and result.hits


def _tiny_index(tmp_path, docs: dict[str, dict]):  # type: ignore[no-untyped-def]
    from archive.models import Document
    from index.whoosh.sync import rebuild
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        for key, fields in docs.items():
            catalog.record_document(Document(source_id="t", url=f"http://x/{key}", **fields), None)
        rebuild(settings, catalog)
    return settings, WhooshEngine(settings.index_path)


def test_filtered_relevance_hits_respect_the_filter(engine: WhooshEngine) -> None:
    result = engine.search(SearchRequest(q="信息公开 年度报告", filters={"year": "2016"}))
    assert len(result.hits) <= result.total
    assert all(h.published and h.published.year == 2016 for h in result.hits)


def test_traditional_query_and_document_meet(tmp_path) -> None:
    _, engine = _tiny_index(
        tmp_path,
        {
            "trad": {"title": "關於開展老年人優待證辦理工作的公告", "body": "持身份證到社區辦理。"},
            "simp": {"title": "老年人优待证办理指南", "body": "持身份证到社区办理。"},
            "other": {"title": "老年大学招生", "body": "欢迎报名。"},
        },
    )
    for q in ("老年人优待证", "老年人優待證"):
        result = engine.search(SearchRequest(q=q))
        assert {h.title for h in result.hits} == {"關於開展老年人優待證辦理工作的公告", "老年人优待证办理指南"}, q
        assert all("<mark>" in h.title_html for h in result.hits)
    engine.close()


def test_doc_no_query_goes_to_the_document_and_structured_field(tmp_path) -> None:
    _, engine = _tiny_index(
        tmp_path,
        {
            "a": {"title": "最低生活保障实施办法", "doc_no": "余政办发〔2019〕12号", "body": "印发实施办法。"},
            "b": {"title": "调整低保标准", "doc_no": "余民发〔2021〕15号", "body": "根据余政办发〔2019〕12号文件调整标准。"},
            "c": {"title": "养老服务意见", "doc_no": "余政办发[2019]21号", "body": "养老服务。"},
        },
    )
    for q in ("余政办发(2019)12号", "余政办发 【2019】 第12號", "doc_no:余政办发﹝2019﹞12号"):
        result = engine.search(SearchRequest(q=q))
        assert result.hits[0].title == "最低生活保障实施办法", q
        assert result.doc_no_match == result.hits[0].id
    by_code = engine.search(SearchRequest(q="doc_no:余政办发"))
    assert {h.title for h in by_code.hits} == {"最低生活保障实施办法", "养老服务意见"}
    engine.close()


def test_no_match_for_all_words_falls_back_to_some_with_a_notice(tmp_path) -> None:
    _, engine = _tiny_index(
        tmp_path, {"a": {"title": "养老服务体系建设", "body": "居家养老。"}, "b": {"title": "垃圾分类", "body": "分类投放。"}}
    )
    result = engine.search(SearchRequest(q="养老 火星"))
    assert [h.title for h in result.hits] == ["养老服务体系建设"] and result.notice
    assert engine.search(SearchRequest(q="养老 服务")).notice == ""
    assert engine.search(SearchRequest(q="火星 月球")).total == 0
    engine.close()


def test_date_field_and_ranges(tmp_path) -> None:
    _, engine = _tiny_index(
        tmp_path,
        {
            "a": {"title": "通知一", "published": date(2019, 3, 5)},
            "b": {"title": "通知二", "published": date(2019, 8, 1)},
            "c": {"title": "通知三", "published": date(2020, 1, 2)},
        },
    )
    titles = lambda q: sorted(h.title for h in engine.search(SearchRequest(q=q)).hits)  # noqa: E731
    assert titles("通知 date:2019") == ["通知一", "通知二"]
    assert titles("通知 date:2019-03") == ["通知一"]
    assert titles("通知 date:2019-06..2020-01") == ["通知三", "通知二"]
    assert titles("通知 日期:..2019-03-05") == ["通知一"]
    assert titles("通知 year:2020") == ["通知三"]
    for bad in ("date:2019-13", "date:2020..2019", "date:昨天", "year:去年"):
        with pytest.raises(QueryError):
            engine.search(SearchRequest(q=bad))
    engine.close()


def test_exact_phrase_ranks_above_scattered_words(tmp_path) -> None:
    _, engine = _tiny_index(
        tmp_path,
        {
            "scattered": {"title": "会议纪要", "body": "政府网站发布信息，公开征求意见，做好工作。"},
            "exact": {"title": "会议纪要", "body": "本局认真做好政府信息公开工作。"},
        },
    )
    result = engine.search(SearchRequest(q="政府信息公开"))
    assert [h.url.rsplit("/", 1)[1] for h in result.hits] == ["exact", "scattered"]
    engine.close()


def test_index_with_another_analyzer_asks_for_reindex(tmp_path) -> None:
    import json

    from index.build import META_FILE
    from index.errors import IndexMissingError

    settings, engine = _tiny_index(tmp_path, {"a": {"title": "通知"}})
    engine.close()
    meta_path = settings.index_path.resolve() / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = "3.0"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexMissingError) as info:
        WhooshEngine(settings.index_path)
    assert "reindex" in str(info.value.remedy if hasattr(info.value, "remedy") else info.value)


def test_cli_search_prints_json(indexed: Settings) -> None:
    import json

    from click.testing import CliRunner

    from xxgk.cli import main

    result = CliRunner().invoke(main, ["--data-dir", str(indexed.data_dir), "search", "信息公开 年度报告", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] > 0 and data["hits"][0]["title"] == seed_report()[0]
    assert {"id", "title", "url", "score", "snippet"} <= set(data["hits"][0])
    bad = CliRunner().invoke(main, ["--data-dir", str(indexed.data_dir), "search", '"未闭合'])
    assert bad.exit_code != 0 and "引号" in bad.output


def test_equal_scores_put_the_newer_document_first(tmp_path) -> None:
    same = {"title": "关于开展安全生产检查的通知", "body": "各单位开展安全生产检查。"}
    _, engine = _tiny_index(
        tmp_path,
        {
            "old": {**same, "published": date(2018, 5, 1)},
            "new": {**same, "published": date(2021, 5, 1)},
            "mid": {**same, "published": date(2019, 5, 1)},
        },
    )
    hits = engine.search(SearchRequest(q="安全生产检查")).hits
    assert [h.published.year for h in hits] == [2021, 2019, 2018]  # type: ignore[union-attr]
    assert len({round(h.score, 4) for h in hits}) == 1
    engine.close()


def test_time_limit_keeps_the_results_and_says_ranking_was_cut(engine: WhooshEngine) -> None:
    full = engine.search(SearchRequest(q="信息公开 年度报告"))
    limit = engine.time_limit_s
    engine.time_limit_s = 0.0  # every search is past its deadline before ranking starts
    try:
        cut = engine.search(SearchRequest(q="信息公开 年度报告"))
    finally:
        engine.time_limit_s = limit
    assert full.total and not full.notice
    assert cut.total == full.total  # the matching set is exact; only the scores are partial
    assert len(cut.hits) == len(full.hits)
    assert "查询耗时较长" in cut.notice
