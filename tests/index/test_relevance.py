"""Search finds what people mean: the relaxation ladder, synonyms, typos, questions, pasted text (on the demo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.errors import ConfigError
from archive.models import Document
from archive.settings import Settings
from index import analysis
from index.analysis import normalize
from index.api import SearchRequest
from index.vocabulary import Synonyms, covers, load_synonyms, suspects
from index.whoosh.engine import WhooshEngine
from index.whoosh.sync import rebuild, sync
from tests.conftest import make_settings
from xxgk.demo.corpus import seed_report

TIERS = ["exact", "all", "most", "similar"]


def _texts(settings: Settings) -> dict[str, str]:
    with Catalog(settings.catalog_path) as catalog:
        return {s.id: normalize(s.doc.title + "\n" + s.doc.body) for s in catalog.iter_documents()}


def _all_hits(engine: WhooshEngine, q: str, **kwargs: object) -> list:
    first = engine.search(SearchRequest(q=q, page_size=50, **kwargs))  # type: ignore[arg-type]
    hits = list(first.hits)
    for page in range(2, first.page_count + 1):
        hits += engine.search(SearchRequest(q=q, page=page, page_size=50, **kwargs)).hits  # type: ignore[arg-type]
    assert len(hits) == first.total
    return hits


def _in_tier_order(hits: list) -> bool:
    return [h.tier for h in hits] == sorted((h.tier for h in hits), key=TIERS.index)


def test_an_abbreviation_finds_the_full_term_and_says_so(engine: WhooshEngine, indexed: Settings) -> None:
    texts = _texts(indexed)
    assert not any("低保" in t for t in texts.values())  # the demo only says 最低生活保障
    full = {i for i, t in texts.items() if "最低生活保障" in t}
    result = engine.search(SearchRequest(q="低保", page_size=50))
    assert "最低生活保障" in result.expanded
    assert full <= {h.id for h in _all_hits(engine, "低保")}
    assert engine.search(SearchRequest(q="低保", literal=True)).total == 0  # the literal search stays literal


def test_every_annual_report_is_listed_first(engine: WhooshEngine, indexed: Settings) -> None:
    with Catalog(indexed.catalog_path) as catalog:
        reports = {s.id for s in catalog.iter_documents() if s.doc.category == "政府信息公开年度报告"}
    assert len(reports) >= 20  # titled 年度报告, 年报 and 工作报告
    hits = engine.search(SearchRequest(q="信息公开 年度报告", page_size=50)).hits
    assert {h.id for h in hits[: len(reports)]} == reports
    assert hits[0].title == seed_report()[0]


def test_a_sentence_copied_from_the_seed_report_finds_it_first(engine: WhooshEngine) -> None:
    title, _, paragraphs = seed_report()
    sentence = next(p for p in paragraphs if 60 <= len(p) <= 200)
    for pasted in (sentence, sentence.replace("，", " ").replace("。", ""), "　" + sentence + "……"):
        result = engine.search(SearchRequest(q=pasted))
        assert result.hits[0].title == title, pasted
    long = "".join(paragraphs)[:480]  # a whole paragraph, far beyond the term caps
    assert engine.search(SearchRequest(q=long)).hits[0].title == title


def test_a_typo_is_corrected_from_the_archive_vocabulary(engine: WhooshEngine, indexed: Settings) -> None:
    texts = _texts(indexed)
    result = engine.search(SearchRequest(q="最低生火保障"))
    assert result.corrected == "最低生活保障"
    exact = [h for h in result.hits if h.tier == "exact"]
    assert exact and all("最低生活保障" in texts[h.id] for h in exact)
    literal = engine.search(SearchRequest(q="最低生火保障", literal=True))
    assert literal.corrected == ""
    assert engine.search(SearchRequest(q="最低生活保障")).corrected == ""  # a correct query is left alone


def test_a_typo_that_is_no_homophone_or_whose_pairs_all_occur_is_corrected(engine: WhooshEngine, indexed: Settings) -> None:
    """求 for 救 (临时求助) sounds different: the candidate that reads as dictionary words (临时 救助)
    is looked up before nonsense ones (临时间求助). Every character pair of 低收入家庭人定 occurs
    somewhere (家庭人口, 个人定期 ...), but 庭人 is far rarer than the string's other pairs."""
    texts = _texts(indexed)
    for typed, meant in (("临时求助", "临时救助"), ("低收入家庭人定", "低收入家庭认定")):
        assert not any(typed in t for t in texts.values()) and any(meant in t for t in texts.values())
        result = engine.search(SearchRequest(q=typed))
        assert result.corrected == meant, typed
        exact = [h for h in result.hits if h.tier == "exact"]
        assert exact and all(meant in texts[h.id].replace(" ", "") for h in exact)
    joined = "\n".join(texts.values())
    assert all(g in joined for g in analysis.bigrams("低收入家庭人定"))
    for correct in ("临时救助", "低收入家庭认定", "婚姻登记在哪里办", "余杭区民政局电话"):
        assert engine.search(SearchRequest(q=correct)).corrected == "", correct


def test_an_agency_under_its_name_before_the_reform_finds_its_reports(engine: WhooshEngine, indexed: Settings) -> None:
    """The demo's 卫生健康局 was 卫生局 before 2018; one unrelated demo text happens to say 卫生局."""
    texts = _texts(indexed)
    assert not any("卫生健康局" in t for i, t in texts.items() if "卫生局" in t)
    result = engine.search(SearchRequest(q="卫生局 2015 工作报告"))
    assert "卫生健康局" in result.expanded
    top = result.hits[0]
    assert "卫生健康局" in top.title and "2015" in top.title and top.tier in ("exact", "all")
    assert engine.search(SearchRequest(q="低保户")).hits[0].tier == "all"  # a table word holding another (低保)


def test_single_characters_alone_are_no_partial_match(engine: WhooshEngine, indexed: Settings) -> None:
    """PM2.5 and alert(1): no document holds their words, and a digit held everywhere is no match."""
    texts = _texts(indexed)
    assert sum("5" in t for t in texts.values()) > 100 and not any("pm2" in t for t in texts.values())
    for q in ("PM2.5", "<script>alert(1)</script>"):
        assert engine.search(SearchRequest(q=q)).total == 0, q
    # A word no document holds beside one the archive holds still lists the latter's documents.
    hits = _all_hits(engine, "锟斤拷 婚姻登记")
    assert hits and all("婚姻登记" in texts[h.id] for h in hits) and {h.tier for h in hits} == {"most"}


def test_suspect_pairs_are_unseen_ones_or_else_far_rarer_than_the_rest() -> None:
    counts = {"低收": 28, "收入": 142, "入家": 24, "家庭": 141, "庭人": 5, "人定": 8}
    assert suspects("低收入家庭人定", lambda g: counts.get(g, 0)) == [4]  # 5 × 4 < the median, 28
    assert suspects("低收入家庭人定", lambda g: 0 if g == "人定" else counts[g]) == [5]  # unseen ones only
    common = {"余杭": 100, "杭区": 90, "区长": 30}
    assert suspects("余杭区长", lambda g: common[g]) == []
    assert suspects("救助站", lambda g: {"救助": 50, "助站": 1}[g]) == []  # two pairs: no median to go by


def test_a_pasted_passage_is_not_relaxed_to_bigram_coverage(engine: WhooshEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A passage relaxes to most of its rarest words; the similar-text tier (bigram coverage, for a few
    typed words) is not computed for it: on a large archive it read dozens of bigrams whole for nothing."""
    from index.engine import Engine
    from xxgk.demo.corpus import people_daily_sentences

    calls: list[int] = []
    original = Engine._similar

    def counted(self: Engine, grams: list[str], *args: object) -> object:
        calls.append(len(grams))
        return original(self, grams, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "_similar", counted)
    sentences = people_daily_sentences()
    passage = "".join(sentences[1000:1008])[:480]
    result = engine.search(SearchRequest(q=passage))
    assert result.total < 20 and "similar" not in result.tier_counts
    assert not any(calls)  # planned without bigrams to cover
    engine.search(SearchRequest(q="申领 老年优待"))  # a few typed words with few results still get the tier
    assert any(calls)


def test_a_word_of_the_synonym_table_is_not_corrected_into_another_word(tmp_path: Path) -> None:
    """卫健委 where the archive only says 卫生委 (one character away): a known short form, not a typo;
    a typo is still corrected."""
    bodies = {f"通知{i}": "市卫生委发布环境保护工作安排" for i in range(6)}
    with _tiny(tmp_path, bodies) as engine:
        assert engine.search(SearchRequest(q="卫健委 环境保护")).corrected == ""
        assert engine.search(SearchRequest(q="卫生委 环境保户")).corrected == "卫生委 环境保护"


def test_relaxed_results_follow_every_full_match(engine: WhooshEngine, indexed: Settings) -> None:
    texts = _texts(indexed)
    hits = _all_hits(engine, "2016年 民政 预算")
    assert hits and _in_tier_order(hits)
    counted = engine.search(SearchRequest(q="2016年 民政 预算")).tier_counts
    assert counted == {t: n for t in TIERS if (n := sum(h.tier == t for h in hits))} and len(counted) >= 2
    for h in hits:
        if h.tier == "most":
            assert h.missing and all(w not in texts[h.id] for w in h.missing if w != "年")


def test_question_words_need_not_match(engine: WhooshEngine, indexed: Settings) -> None:
    texts = _texts(indexed)
    hits = engine.search(SearchRequest(q="怎样申请低保", page_size=50)).hits
    assert hits and _in_tier_order(hits)
    full = [h for h in hits if h.tier in ("exact", "all")]
    assert full and all("申请" in texts[h.id] and all(w in texts[h.id] for w in ("最低", "生活", "保障")) for h in full)
    assert all("怎样" not in h.missing for h in hits)


@contextmanager
def _tiny(tmp_path: Path, bodies: dict[str, str], agencies: dict[str, str] | None = None) -> Iterator[WhooshEngine]:
    """An engine over an index of `bodies` (title = key), closed when the block ends."""
    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        for key, body in bodies.items():
            agency = (agencies or {}).get(key, "")
            catalog.record_document(Document(source_id="t", url=f"http://x/{key}", title=key, agency=agency, body=body), None)
        rebuild(settings, catalog)
    with closing(WhooshEngine(settings.index_path)) as engine:
        yield engine


def test_a_question_lists_every_document_with_the_full_term(tmp_path: Path) -> None:
    # 低保 asked, 最低生活保障 written; of those, only one says 申请 (a common word): the other follows
    # it one tier down, and the documents that only say 申请 are not listed.
    bodies = {"guide": "申请最低生活保障需提交家庭收入证明。", "rule": "城乡居民最低生活保障实施办法全文。"}
    bodies |= {f"other{i}": f"申请{what}的办理流程。" for i, what in enumerate(["公租房", "营业执照", "创业补贴", "残疾人证"])}
    with _tiny(tmp_path, bodies | {"park": "公园绿化养护工作安排。"}) as engine:
        hits = engine.search(SearchRequest(q="怎样申请低保")).hits
        assert [(h.title, h.tier) for h in hits] == [("guide", "all"), ("rule", "most")]


def test_the_publisher_is_searched_with_the_text(tmp_path: Path) -> None:
    with _tiny(
        tmp_path,
        {"ours": "开展光荣牌悬挂工作。", "theirs": "开展光荣牌悬挂工作的情况。"},
        {"ours": "余杭区退役军人事务局", "theirs": "余杭区民政局"},
    ) as engine:
        hits = engine.search(SearchRequest(q="退役军人事务局 光荣牌")).hits
        assert hits[0].title == "ours" and hits[0].tier in ("exact", "all")
        assert all(h.tier not in ("exact", "all") for h in hits[1:])
        assert "退役军人事务局" not in hits[0].snippet  # searchable, not shown as if it were text


def test_an_abbreviation_jieba_does_not_know_is_a_table_word(tmp_path: Path) -> None:
    # jieba alone cuts 第三批非遗 as 第三 批非 遗; the table's short forms are dictionary words.
    with _tiny(
        tmp_path,
        {
            "third": "公布第三批非物质文化遗产代表性项目名录。",
            "fourth": "公布第四批非物质文化遗产代表性项目名录。",
            "card": "第三代社会保障卡申领。",
        },
    ) as engine:
        result = engine.search(SearchRequest(q="第三批非遗"))
        assert result.hits[0].title == "third" and "非物质文化遗产" in result.expanded


def test_a_typo_beside_a_synonym_word_is_corrected_and_a_known_abbreviation_is_not(tmp_path: Path) -> None:
    with _tiny(
        tmp_path,
        {
            "card": "第三代社会保障卡申领指南。",
            "insurance": "社会保险缴费通知。",
            "guide": "残疾人证办理指南。",
            "aid": "困难残疾人生活补贴发放。",
            "rehab": "残疾人康复服务。",
        },
    ) as engine:
        result = engine.search(SearchRequest(q="社会保障卡申零"))  # 社会保障 is a table word, 申零 a typo
        assert result.corrected == "社会保障卡申领" and result.hits[0].title == "card"
        result = engine.search(SearchRequest(q="残疾证"))  # the table says 残疾人证: no "did you mean 残疾人"
        assert result.corrected == "" and result.hits[0].title == "guide" and "残疾人证" in result.expanded


def test_short_forms_are_learned_at_reindex(tmp_path: Path) -> None:
    bodies = {
        "define": "根据杭州市城市更新办公室（以下简称“市更新办”）的部署，开展调查。",
        "full": "杭州市城市更新办公室发布年度计划。",
        "forest": "发布护林防火通告。",
    }
    with _tiny(tmp_path, bodies, {"forest": "余杭区林业水利局"}) as engine:
        result = engine.search(SearchRequest(q="市更新办"))
        assert {h.title for h in result.hits} == {"define", "full"} and "杭州市城市更新办公室" in result.expanded
        assert [h.title for h in engine.search(SearchRequest(q="林水局")).hits] == ["forest"]
    # Derived from the catalog: once the definition is edited away, a reindex forgets the pair.
    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        catalog.record_document(Document(source_id="t", url="http://x/define", title="define", body="开展调查。"), None)
        rebuild(settings, catalog)
    with closing(WhooshEngine(settings.index_path)) as engine:
        assert engine.search(SearchRequest(q="市更新办")).expanded == []


def test_an_unbroken_string_matches_every_way_it_can_be_split(tmp_path: Path) -> None:
    assert ["余杭区", "区长"] in covers("余杭区长")
    with _tiny(tmp_path, {"mayor": "余杭区人民政府区长主持召开常务会议。", "other": "余杭区召开会议。"}) as engine:
        hits = engine.search(SearchRequest(q="余杭区长")).hits
        assert hits[0].title == "mayor" and hits[0].tier in ("exact", "all")


def test_numbers_and_punctuation_in_any_form(tmp_path: Path) -> None:
    with _tiny(
        tmp_path,
        {
            "cn-year": "二〇二一年度部门预算公开。",
            "ordinal": "第四批省级非物质文化遗产名录。",
            "punct": "坚持依法公开、便民高效的原则。",
        },
    ) as engine:
        assert [h.title for h in engine.search(SearchRequest(q="2021年 预算")).hits][:1] == ["cn-year"]
        assert [h.title for h in engine.search(SearchRequest(q='"第4批"')).hits] == ["ordinal"]
        for q in ('"依法公开，便民高效"', '"依法公开便民高效"', '"依法公开；便民高效"'):
            assert [h.title for h in engine.search(SearchRequest(q=q)).hits] == ["punct"], q


def test_a_query_never_ends_at_zero_while_a_document_shares_its_informative_words(tmp_path: Path) -> None:
    with _tiny(tmp_path, {"a": "城乡居民医疗保险缴费标准调整。", "b": "公园绿化养护工作安排。"}) as engine:
        result = engine.search(SearchRequest(q="医疗保险 缴费 截止日期 查询"))
        assert [h.title for h in result.hits] == ["a"]
        assert result.hits[0].tier in ("most", "similar") and result.notice


def test_operator_synonyms_are_merged_and_a_bad_file_is_named(tmp_path: Path) -> None:
    extra = tmp_path / "syn.toml"
    extra.write_text('groups = [["一件事", "一件事一次办"]]\n', encoding="utf-8")
    table = load_synonyms(extra)
    assert "一件事一次办" in table.alternatives("一件事") and table.alternatives("低保")
    extra.write_text("groups = [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="groups"):
        load_synonyms(extra)
    with pytest.raises(ConfigError, match="does not exist"):
        load_synonyms(tmp_path / "missing.toml")
    assert Synonyms.of([["低保", "最低生活保障"]]).found_in(normalize("最低保障")) == []  # not across words


def test_an_engine_outlives_the_dictionaries_loaded_after_it(tmp_path: Path) -> None:
    # A process keeps only a few segmenters; indexes opened later must not break an open engine.
    with _tiny(tmp_path, {"plan": "发布护林防火年度计划。"}, {"plan": "余杭区林业水利局"}) as engine:
        assert engine.dict_id
        for i in range(analysis._MAX_DERIVED + 1):  # noqa: SLF001 - the bound the test must exceed
            analysis.load_dictionary(f"other-{i}", [f"测试词{i}"])
        assert [h.title for h in engine.search(SearchRequest(q="年度计划")).hits] == ["plan"]


def test_a_long_running_engine_sees_synonym_matches_added_after_it_opened(tmp_path: Path) -> None:
    # The documents holding a table word's alternatives are remembered per searcher, not longer.
    with _tiny(tmp_path, {"old": "城乡居民最低生活保障标准调整。", "park": "公园绿化养护工作安排。"}) as engine:
        assert [h.title for h in engine.search(SearchRequest(q="低保")).hits] == ["old"]
        settings = make_settings(tmp_path)
        with Catalog(settings.catalog_path) as catalog:
            catalog.record_document(Document(source_id="t", url="http://x/new", title="new", body="最低生活保障金发放。"), None)
            sync(settings, catalog)
        engine.refresh()
        with closing(WhooshEngine(settings.index_path)) as fresh:
            for reader in (engine, fresh):
                assert sorted(h.title for h in reader.search(SearchRequest(q="低保")).hits) == ["new", "old"]


def test_a_pasted_passage_is_matched_by_the_words_this_archive_holds_least(tmp_path: Path) -> None:
    # 工作 is among the dictionary's most frequent words but one document here holds it; 救助站 is rare
    # in the dictionary but every document here holds it; 望远镜 no document holds, so it matches nothing.
    bodies = {f"station{i}": f"救助站第{i}次发放物资。" for i in range(4)} | {"work": "救助站年度工作总结。"}
    with _tiny(tmp_path, bodies) as engine:
        order = engine._rarest(["望远镜", "救助站", "发放", "工作"])  # noqa: SLF001 - the choice itself
        assert order == ["工作", "发放", "救助站", "望远镜"]
