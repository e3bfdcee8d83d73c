"""The analyzer's contract with Whoosh: ordinal positions, offsets into the original text, pickling."""

from __future__ import annotations

import pickle

from index.analysis import BigramTokenizer, ChineseTokenizer, bigram_runs, normalize_with_map, word_runs
from index.highlight import highlight_all, snippet


def _tokens(text: str, mode: str = "index"):
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in ChineseTokenizer()(text, positions=True, chars=True, mode=mode)]


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


def test_punctuation_leaves_a_position_gap() -> None:
    assert word_runs("政府，信息公开") == [["政府"], ["信息", "公开"]]
    assert bigram_runs("余民〔2016〕3号") == [["余民"], ["20", "01", "16"], ["3号"]]


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
