"""The analyzer's contract with Whoosh: ordinal positions, offsets into the original text, pickling."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import analysis, highlight
from index.analysis import BigramTokenizer, ChineseTokenizer, bigrams, normalize, normalize_with_map, word_runs
from index.highlight import highlight_all, snippet


def _tokens(text: str, mode: str = "index"):
    return [(t.text, t.pos, t.startchar, t.endchar) for t in ChineseTokenizer()(text, positions=True, chars=True, mode=mode)]


def test_positions_are_word_ordinals_and_subwords_share_the_parent_position() -> None:
    tokens = _tokens("国务院办公厅关于政府信息公开工作的通知")
    words = [t for t in tokens if t[0] in ("国务院办公厅", "关于", "政府", "信息", "公开", "工作", "的", "通知")]
    assert [t[1] for t in words] == list(range(8))
    subwords = [t for t in tokens if t[0] in ("国务院", "办公厅")]
    assert subwords and all(t[1] == 0 for t in subwords)


def test_query_mode_emits_no_subwords() -> None:
    assert [t[0] for t in _tokens("国务院办公厅", mode="query")] == ["国务院办公厅"]


def test_offsets_point_into_the_original_text() -> None:
    text = "余杭 区\n民政局（２０１６年）"
    for word, _, start, end in _tokens(text):
        original = "".join(text[start:end].split())
        assert original.replace("２０１６", "2016") == word or word in original.replace("２０１６", "2016")


def test_punctuation_gaps_words_but_bigrams_bridge_it() -> None:
    assert word_runs("政府，信息公开") == [["政府"], ["信息", "公开"]]
    # Bigrams skip punctuation, so a phrase matches with any punctuation or none where the text has some.
    assert bigrams("余民〔2016〕3号") == ["余民", "民2", "20", "01", "16", "63", "3号"]
    assert bigrams("依法公开，便民高效") == bigrams("依法公开、便民高效") == bigrams("依法公开便民高效")


@pytest.mark.parametrize(
    "text, norm",
    [
        ("二〇二一年度", "2021年度"),
        ("二零一六年", "2016年"),
        ("第四批", "第4批"),
        ("第十二条", "第12条"),
        ("第二十届", "第20届"),
        ("第十届", "第十届"),  # 10 would change the length: left alone
        ("一二三四", "一二三四"),  # not a year
    ],
)
def test_chinese_numerals_in_years_and_ordinals_are_digits(text: str, norm: str) -> None:
    assert normalize(text) == norm


def test_normalisation_folds_width_brackets_and_layout_spaces() -> None:
    norm, offsets = normalize_with_map("国发［2023］15號 信息 公开\nABC")
    assert norm == "国发〔2023〕15号信息公开abc"
    assert len(offsets) == len(norm)


def test_analyzers_pickle_and_compare_equal() -> None:
    for tokenizer in (ChineseTokenizer(), BigramTokenizer()):
        assert pickle.loads(pickle.dumps(tokenizer)) == tokenizer


def test_highlight_escapes_and_marks_original_characters() -> None:
    html = highlight_all("<b>政府 信息公开</b>", ["信息公开"])
    assert html == "&lt;b&gt;政府 <mark>信息公开</mark>&lt;/b&gt;"
    excerpt = snippet("开头。" + "无关内容。" * 60 + "这里是信息公开的段落。", ["信息公开"])
    assert "<mark>信息公开</mark>" in excerpt and excerpt.startswith("…")


def test_a_pasted_passage_marks_itself_and_its_longer_words_not_every_single_character() -> None:
    from index.highlight import query_needles

    passage = "我们要把群众的事情办好，在教育、医疗和养老服务上下功夫，让人民群众有更多获得感。"
    needles = query_needles([passage])
    assert normalize(passage) in needles and {"群众", "教育", "医疗"} <= set(needles)
    assert not {"的", "在", "和", "把", "让"} & set(needles)
    document = "前言。在这里和那里。" + passage + "结尾的话。"
    html = highlight_all(document, needles)
    assert "<mark>" + passage + "</mark>" in html
    assert "在这里和那里" in html  # single characters outside the passage are left alone
    # A short query keeps its single-character words.
    assert "税" in query_needles(["税 减免"])


def test_a_pasted_sentence_is_shown_where_it_stands_marked_whole() -> None:
    from index.highlight import query_needles

    sentence = "全年共受理政府信息公开申请十二件，均在法定期限内答复。"
    opening = "本局政府信息公开工作报告：政府信息、公开申请、法定期限、答复工作。" * 2  # its words, apart
    text = opening + "其他内容。" * 30 + sentence + "以上为全文。"
    for _ in range(2):  # and the same excerpt every time
        excerpt = snippet(text, query_needles([sentence]))
        assert "<mark>" + sentence[:-1] in excerpt, excerpt
    assert len(excerpt) < len(text)


def test_traditional_pinyin_and_width_fold_to_the_same_text() -> None:
    from index.analysis import normalize

    assert normalize("關於進一步做好政府資訊公開工作的通知") == "关于进一步做好政府资讯公开工作的通知"
    assert normalize("執行標(biāo)準(zhǔn)的規定") == "执行标准的规定"
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("乾隆年间") == "乾隆年间" and normalize("乾燥") == "干燥"  # phrase-aware, not per character
    # An English abbreviation in brackets is not pinyin.
    assert normalize("政府(GOV)") == "政府(gov)"
    norm, offsets = normalize_with_map("標(biāo)準(zhǔn)")
    assert norm == "标准" and list(offsets) == [0, 7]


def test_subwords_share_the_position_and_weigh_less() -> None:
    tokens = [(t.text, t.pos, t.boost) for t in ChineseTokenizer()("马克思主义", positions=True, mode="index")]
    assert ("马克思主义", 0, 1.0) in tokens
    assert all(pos == 0 and boost < 1.0 for text, pos, boost in tokens if text != "马克思主义")


def test_highlight_marks_whole_words_only() -> None:
    from index.highlight import query_needles

    html = highlight_all("学习马克思主义，马克先生来访。", query_needles(["马克"]))
    assert html == "学习马克思主义，<mark>马克</mark>先生来访。"
    assert "<mark>" not in highlight_all("南京市长江大桥通车", query_needles(["市长"]))
    assert highlight_all("南京市长江大桥通车", query_needles(["长江大桥"])) == "南京市<mark>长江大桥</mark>通车"
    # Parts of a long compound are whole words of it.
    assert "<mark>人民</mark>" in highlight_all("中华人民共和国", query_needles(["人民"]))
    # Traditional text is marked for a simplified query, on the original characters.
    assert highlight_all("關於<資訊公開>", query_needles(["资讯公开"])) == "關於&lt;<mark>資訊公開</mark>&gt;"


def test_doc_numbers_parse_in_every_bracket_style() -> None:
    from index.docno import parse_doc_no

    spellings = [
        "余政办发〔2019〕12号",
        "余政办发[2019]12号",
        "余政办发(2019)12号",
        "余政办发（2019）12号",
        "余政办发【2019】12号",
        "余政办发﹝2019﹞12號",
        "余政办发 〔2019〕 第12号",
        "余政办发［2019］12号",
    ]
    keys = {parse_doc_no(s).key for s in spellings}  # type: ignore[union-attr]
    assert keys == {"余政办发〔2019〕12号"}
    assert parse_doc_no("关于2019年的通知") is None and parse_doc_no("2019") is None


def test_domain_dictionary_keeps_agency_and_place_names_whole() -> None:
    from index import analysis, dictionary

    words = dictionary.collect(
        ["杭州市余杭区鸬鸟镇人民政府"], ["关于印发《鸬鸟镇山沟沟景区管理办法》的通知"], [], ["鸬政发〔2021〕3号"]
    )
    assert {"杭州市余杭区鸬鸟镇人民政府", "余杭区", "鸬鸟镇", "鸬鸟镇山沟沟景区管理办法", "鸬政发"} <= set(words)
    ident = dictionary.dict_id(words)
    analysis.load_dictionary(ident, words)
    assert analysis.word_runs("鸬鸟镇山沟沟景区管理办法", ident) == [["鸬鸟镇山沟沟景区管理办法"]]
    assert analysis.word_runs("鸬鸟镇山沟沟景区管理办法") != [["鸬鸟镇山沟沟景区管理办法"]]


def _identity_texts() -> list[str]:
    """Texts as the archive holds them: the judged corpus, the seed report, demo sentences, and odd characters."""
    from tests.search_eval.corpus import documents
    from xxgk.demo.corpus import people_daily_sentences, seed_report

    texts = [normalize(f"{d.title}\n{d.body}") for d in documents(distractors=60)]
    title, body, _ = seed_report()
    texts.append(normalize(f"{title}\n{body}"))
    texts.extend(normalize(s) for s in people_daily_sentences()[:400])
    texts.append(normalize("𠀀𠀁测试 g.a 柯亨 C++ 3.5% 余政〔2021〕3号 #tag & e-mail_x 2021年度 ①②"))
    return texts


def test_jieba_rs_cuts_exactly_as_jieba_with_and_without_a_domain_dictionary() -> None:
    from index import analysis, dictionary
    from tests.search_eval.corpus import documents

    texts = _identity_texts()
    docs = documents(distractors=0)
    words = dictionary.collect(
        [d.agency for d in docs], [d.title for d in docs], [d.body for d in docs], [d.doc_no for d in docs]
    )
    ident = dictionary.dict_id(words)
    analysis.load_dictionary(ident, words)
    assert analysis._fast_cutter("") is not None and analysis._fast_cutter(ident) is not None  # the accelerator is in use
    for dict_id in ("", ident):
        differ = [t for t in texts if analysis.cut(t, dict_id) != analysis.cut(t, dict_id, fast=False)]
        assert not differ, f"jieba-rs and jieba cut {len(differ)} texts differently, e.g. {differ[0][:80]!r}"
    # The domain dictionary's words are whole words for both cutters (余杭区民政局 is one of them).
    agency = normalize(docs[0].agency)
    assert [w for w, _, _ in analysis.cut(agency + "关于", ident)][0] == agency
    assert [w for w, _, _ in analysis.cut(agency + "关于", ident, fast=False)][0] == agency


# -- the fast paths of folding and of word boundaries equal their plain definitions ------------------
_POOL = "一二三四年第〇十余杭区民政局工作人民共和国马克思…ﬁ㈠Ⅱ𝐀𠀀Ａ，。、 \n（）abc123"


def _fold_each_character(text: str) -> tuple[str, list[int]]:
    """The definition: every character folded on its own, offsets repeated over what it expands to."""
    table, expanding = analysis._tables()
    out, offsets = [], []
    for i, ch in enumerate(text):
        folded = table[ord(ch)] if ord(ch) < 0x10000 and not expanding.match(ch) else analysis._fold_char(ch)
        out.append(folded)
        offsets.extend([i] * len(folded))
    return analysis._numerals(analysis._to_simplified("".join(out))), offsets


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_POOL, max_size=60))
def test_folding_runs_between_expanding_characters_equals_folding_each_one(text: str) -> None:
    text += "…"  # an expanding character: the path that keeps offsets
    assert analysis._fold(text) == _fold_each_character(text)


_PLAIN = "一二三四年第〇十余杭区民政局工作人民共和国馬克思國Ａｂ，。、 \n（）abcABC123"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_PLAIN, min_size=analysis._ARRAY_FROM, max_size=200), st.sampled_from(["", "…", "𝐀", "𠀀"]))
def test_folding_a_long_text_as_an_array_equals_folding_each_character(text: str, odd: str) -> None:
    """Long texts fold through an array of code points; one with an expanding character or one beyond
    the BMP goes the other ways, and all agree with the definition (𝐀 was once left as it was when no
    character of its text expanded)."""
    text += odd
    folded, offsets = analysis._fold(text)
    expected, expected_offsets = _fold_each_character(text)
    assert folded == expected
    assert (offsets if offsets is not None else list(range(len(text)))) == expected_offsets
    assert (analysis._fold_array(text) is None) == bool(odd)


def _whole_by_scanning(norm: str, s: int, e: int) -> bool:
    """The definition of a whole-word span: widen to the block characters around it, cut the block,
    then the span is whole words, or whole parts of the one long word holding it."""
    block_char = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]")
    bs, be = s, e
    while bs > 0 and block_char.match(norm[bs - 1]):
        bs -= 1
    while be < len(norm) and block_char.match(norm[be]):
        be += 1
    if bs == be:
        return True
    block = norm[bs:be]
    words = [(ws, we) for _, ws, we in analysis.cut(block)]
    for ws, we in words:
        if ws <= s - bs and e - bs <= we and (ws, we) != (s - bs, e - bs):
            inner = highlight._compound_bounds(block[ws:we], "")
            return (s - bs == ws or s - bs - ws in inner) and (e - bs == we or e - bs - ws in inner)
    return s - bs in {ws for ws, _ in words} and e - bs in {we for _, we in words}


_PIECES = [
    "中华人民共和国",
    "马克思主义",
    "余杭区民政局",
    "南京市",
    "长江大桥",
    "人民",
    "学习",
    "，",
    "、",
    " ",
    "ab",
    "1-2",
    "的",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8), st.data())
def test_word_boundaries_from_cached_runs_equal_scanning_for_them(pieces: list[str], data: st.DataObject) -> None:
    norm = normalize("".join(pieces))
    if not norm:
        return
    s = data.draw(st.integers(0, len(norm) - 1))
    e = data.draw(st.integers(s + 1, min(len(norm), s + 8)))
    assert highlight._Words(norm, "").whole(s, e) == _whole_by_scanning(norm, s, e)


def _layout_one_by_one(folded: str) -> tuple[str, list[int]]:
    """The definition: one scan of the pinyin-or-whitespace pattern, and the folded offset of every
    character kept or inserted."""
    out: list[str] = []
    offsets: list[int] = []
    cursor, prev = 0, ""
    for m in re.finditer(rf"(?P<py>{analysis._PINYIN})|(?P<ws>\s+)", folded):
        start, end = m.span()
        if start > cursor:
            out.append(folded[cursor:start])
            offsets.extend(range(cursor, start))
            prev = folded[start - 1]
        cursor = end
        nxt = folded[end : end + 1]
        if m.group("ws") is None or not prev or not nxt or prev == " " or analysis.is_cjk(prev) or analysis.is_cjk(nxt):
            continue
        out.append(" ")
        offsets.append(start)
        prev = " "
    return "".join(out) + folded[cursor:], offsets + list(range(cursor, len(folded)))


_LAYOUT_PIECES = [
    "標(biāo)準(zhǔn)",
    "行(xíng zhèng)",
    "准(zhun3)",
    "政府(GOV)",
    "信息",
    " ",
    "\n",
    "  ",
    "ab",
    " cd ",
    "1 2",
    "（ｘ）",
    "公开",
    "(wén)",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LAYOUT_PIECES), max_size=10))
def test_layout_in_two_scans_with_offsets_as_runs_equals_one_scan_offset_by_offset(pieces: list[str]) -> None:
    text = "".join(pieces)
    folded, _ = analysis._fold(text)
    norm, offsets = analysis._layout(folded, True)
    assert offsets is not None
    expected_norm, expected = _layout_one_by_one(folded)
    assert norm == expected_norm
    assert len(offsets) == len(norm) == len(expected)
    assert [offsets[i] for i in range(len(offsets))] == expected
    assert list(offsets) == expected and offsets[-1:] == expected[-1:]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_PIECES, "，", "。", " ", "abc 12", "的", "社会主义市场经济体制"]), max_size=12))
def test_word_lists_of_the_tantivy_rebuild_equal_the_word_tokens(pieces: list[str]) -> None:
    # The rebuild's fast path gives the tokens and positions Whoosh's tokenizer does, sub-words and gaps included.
    norm = normalize("".join(pieces))
    texts, positions = analysis.word_lists(norm)
    assert list(zip(texts, positions)) == [(text, pos) for text, _, _, _, pos in analysis.word_tokens(norm)]
