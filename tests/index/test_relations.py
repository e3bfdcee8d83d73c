"""Relations in the text: mentions, their types, resolution; and the judged set's gate (precision, recall)."""

from __future__ import annotations

from datetime import date

import pytest

from index.analysis import normalize
from index.relations.extract import extract, is_document_title, mentions, own_keys, title_key
from index.relations.resolve import Candidate, Resolver
from tests.relations_eval.evaluate import load, scores


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("《余杭区某办法》（余政办〔2016〕8号）同时废止", [("余杭区某办法", "余政办〔2016〕8号")]),
        ("《余杭区某办法》(余政办[2016]8号)", [("余杭区某办法", "余政办〔2016〕8号")]),
        ("《余杭区某办法》（余政办【2016】8号）", [("余杭区某办法", "余政办〔2016〕8号")]),
        ("《余杭区某办法》（余政办（2016）8号）", [("余杭区某办法", "余政办〔2016〕8号")]),
        ("依据余政办(2016)第8号文件", [("", "余政办〔2016〕8号")]),
        ("根据余政办发〔2016〕8号和浙政发〔2015〕3号", [("", "余政办发〔2016〕8号"), ("", "浙政发〔2015〕3号")]),
        ("《关于印发〈余杭区某办法〉的通知》", [("关于印发〈余杭区某办法〉的通知", "")]),
        ("《余杭区某办法（2019年修订）》与《某规定（试行）》", [("余杭区某办法(2019年修订)", ""), ("某规定(试行)", "")]),
        ("《關於加強管理的意見》（餘政〔2014〕33號）", [("关于加强管理的意见", "余政〔2014〕33号")]),
    ],
)
def test_mentions_in_every_bracket_style(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(m.title, m.doc_no) for m in mentions(normalize(text))] == expected


def _kinds(title: str, body: str, doc_no: str = "") -> list[tuple[str, str]]:
    return [(r.kind, r.doc_no or r.title) for r in extract(title, body, doc_no)]


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        # The clause's verb types the mention; a list after "下列文件同时废止:" takes the announced type.
        ("某办法", "本办法自2020年起施行，《余杭区甲办法》（余政办〔2016〕8号）同时废止。", [("repeals", "余政办〔2016〕8号")]),
        (
            "某决定",
            "下列文件同时废止：\n1.《甲办法》\n2.《乙规定》\n\n特此决定。",
            [("repeals", "甲办法"), ("repeals", "乙规定")],
        ),
        ("某办法", "原《甲办法》不再执行。", [("repeals", "甲办法")]),
        ("某通知", "《甲办法》自即日起停止执行。", [("repeals", "甲办法")]),
        ("某办法", "本办法代替《甲办法》。", [("replaces", "甲办法")]),
        ("某办法", "《甲办法》与本办法不一致的，以本办法为准。", [("replaces", "甲办法")]),
        ("某通知", "现对《甲办法》（余政〔2018〕11号）作如下修改：", [("amends", "余政〔2018〕11号")]),
        ("某通知", "现将《甲办法》第八条修改为：", [("amends", "甲办法")]),
        # The basis of an action is cited, not acted on; a revision only reported amends nothing.
        ("某说明", "根据《乙条例》，对原办法进行了修订。", [("cites", "乙条例")]),
        ("某报告", "新修订的《政府信息公开条例》施行后，公开范围扩大。", [("cites", "政府信息公开条例")]),
        ("某报告", "《政府信息公开条例》修订后，公开范围扩大。", [("cites", "政府信息公开条例")]),
        # Not documents: a newspaper; the document itself; a short title defined in the text.
        ("某报告", "在《余杭时报》刊登。依据《条例》（以下简称《条例》）。", []),
        ("关于印发《甲办法》的通知", "现将《甲办法》印发给你们。", []),
        # Titles that say what the document does.
        ("关于废止《甲办法》的决定", "决定废止《甲办法》。", [("repeals", "甲办法")]),
        ("关于《甲办法》的补充通知", "现补充通知如下。", [("amends", "甲办法")]),
        ("《甲办法》政策解读", "一、《甲办法》出台背景；原《乙办法》同时废止。", [("interprets", "甲办法"), ("cites", "乙办法")]),
        ("一图读懂《甲办法》", "", [("interprets", "甲办法")]),
        ("甲办法解读", "", [("interprets", "甲办法")]),
        ("关于转发市民政局关于做好救助工作的通知的通知", "", [("reposts", "做好救助工作的通知")]),
        ("转发市民政局关于做好救助工作的通知", "", [("reposts", "做好救助工作的通知")]),
        ("關於轉發《杭州市關於加強安全生產的通知》的通知", "", [("reposts", "加强安全生产的通知")]),
        # A same-titled document of another year is another document (its 文号 differs).
        (
            "关于调整养老金标准的通知",
            "《关于调整养老金标准的通知》（余人社〔2020〕5号）同时停止执行。",
            [("repeals", "余人社〔2020〕5号")],
        ),
    ],
)
def test_each_reference_is_typed_by_its_sentence(title: str, body: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(title, body) == [(k, title_key(t) if "〔" not in t else t) for k, t in expected]


def test_the_evidence_is_the_sentence_as_written() -> None:
    refs = extract("餘杭區關於印發《某辦法》的通知", "第一條 總則。原《餘杭區某某辦法》（餘政辦【2016】8號）同時廢止。")
    assert [(r.kind, r.doc_no, r.sentence) for r in refs] == [
        ("repeals", "余政办〔2016〕8号", "原《餘杭區某某辦法》（餘政辦【2016】8號）同時廢止。")
    ]


def test_titles_and_own_keys() -> None:
    assert title_key("杭州市卫健委关于做好流感防控工作的通知") == title_key("《关于做好流感防控工作的通知》")
    assert title_key("關於做好防汛工作的通知") == "做好防汛工作的通知"
    assert own_keys("关于印发《余杭区甲办法》的通知", "余政办〔2016〕8号") == {
        "印发余杭区甲办法的通知",
        "余杭区甲办法",
        "余政办〔2016〕8号",
    }
    assert title_key("余杭区甲办法") in own_keys("余杭区人民政府关于印发余杭区甲办法的通知")
    assert "余杭区甲办法" not in own_keys("关于修改《余杭区甲办法》的通知")
    assert is_document_title("余杭区甲办法（试行）") and is_document_title("劳动法")
    assert not is_document_title("杭州日报") and not is_document_title("条例")


def test_resolution_prefers_the_doc_no_then_the_title_and_leaves_a_tie_unresolved() -> None:
    docs = [
        Candidate("a", "关于印发《甲办法》的通知", "余政办〔2016〕8号", date(2016, 1, 1)),
        Candidate("b", "关于做好防汛工作的通知", "余水〔2019〕2号", date(2019, 1, 1)),
        Candidate("c", "关于做好防汛工作的通知", "余应急〔2020〕1号", date(2020, 1, 1)),
        Candidate("d", "关于做好防汛工作的通知", "余应急〔2025〕1号", date(2025, 1, 1)),
    ]
    resolver = Resolver(docs)
    me = Candidate("z", "某通知", "", date(2021, 6, 1))
    refs = extract("某通知", "依照余政办〔2016〕8号文件和《甲办法》。按照《关于做好防汛工作的通知》要求。")
    got = [resolver.resolve(r, me) for r in refs]
    assert [(g.target, g.how) for g in got] == [("a", "doc_no"), ("a", "title"), (None, "title")]
    assert got[2].candidates == ("b", "c")  # d was published after the citing document
    # The words before a 机关代字 in running text do not stop its resolution.
    assert resolver.resolve(extract("x", "请各地遵照余政办〔2016〕8号执行。")[0], me).target == "a"


def test_the_judged_relations_are_extracted_with_precision_095_and_recall_090_per_type() -> None:
    docs, labels = load()
    assert len(labels) >= 80 and len(docs) >= 60
    assert any(not d["title"].isascii() and normalize(d["title"]) != d["title"] for d in docs)  # traditional ones
    for score in scores():
        assert score.labelled >= 7, score
        assert score.precision >= 0.95 and score.recall >= 0.90, score
