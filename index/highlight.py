"""Snippets and highlights: mark whole words of the query at their original characters.

An occurrence of a query string in the normalised text is marked only when it starts and ends on
word boundaries of the document's own segmentation (马克 is never marked inside 马克思; inside a long
compound such as 中华人民共和国 its parts 中华人民 and 人民 count). jieba segments every run of
word characters independently, so only the runs around occurrences are segmented at query time,
never the whole document.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from html import escape

from index.analysis import cut, normalize, normalize_with_map, segmenter, word_runs

SNIPPET_CHARS = 140
MAX_OCCURRENCES = 400
PASSAGE_WORDS = 12  # a query text of more words is pasted text (the engine matches it by 12 of its words)
_BLOCK_RUN = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")


@lru_cache(maxsize=4096)
def _compound_bounds(word: str, dict_id: str) -> frozenset[int]:
    """Inner boundaries of a long word: its best segmentation without itself, recursively."""
    if len(word) < 4:
        return frozenset()
    tk = segmenter(dict_id)
    dag = tk.get_DAG(word)
    dag[0] = [k for k in dag[0] if k != len(word) - 1] or [0]
    route: dict[int, tuple[float, int]] = {}
    tk.calc(word, dag, route)
    bounds: set[int] = set()
    i = 0
    while i < len(word):
        j = route[i][1] + 1
        bounds.add(i)
        bounds.update(i + b for b in _compound_bounds(word[i:j], dict_id) if word[i:j] != word)
        i = j
    bounds.discard(0)
    return frozenset(bounds)


@lru_cache(maxsize=8192)
def _block_words(block: str, dict_id: str) -> tuple[tuple[int, ...], tuple[int, ...], frozenset[int], frozenset[int]]:
    """A block's words as sorted starts and ends, and the same as sets (jieba's words partition it)."""
    words = [(start, end) for _, start, end in cut(block, dict_id)]
    starts, ends = tuple(s for s, _ in words), tuple(e for _, e in words)
    return starts, ends, frozenset(starts), frozenset(ends)


class _Words:
    """Word boundaries of normalised text, segmenting only the blocks asked about."""

    def __init__(self, norm: str, dict_id: str) -> None:
        self.norm = norm
        self.dict_id = dict_id
        self._reversed: str | None = None  # the text backwards, to find where a run begins

    def _block(self, s: int, e: int) -> tuple[int, int]:
        """[s, e) widened to the runs of block characters it touches on either side."""
        norm = self.norm
        if s > 0:  # the run holding norm[s - 1], if any: matched backwards from it
            if self._reversed is None:
                self._reversed = norm[::-1]
            run = _BLOCK_RUN.match(self._reversed, len(norm) - s)
            if run is not None:
                s = len(norm) - run.end()
        if e < len(norm):  # the run holding norm[e], if any
            run = _BLOCK_RUN.match(norm, e)
            if run is not None:
                e = run.end()
        return s, e

    def whole(self, s: int, e: int) -> bool:
        """Whether norm[s:e] is a run of whole words (or whole parts of one long compound)."""
        bs, be = self._block(s, e)
        if bs == be:
            return True
        block = self.norm[bs:be]
        starts, ends, start_set, end_set = _block_words(block, self.dict_id)
        s, e = s - bs, e - bs
        if s in start_set and e in end_set:
            return True
        # Inside one word: allowed on the inner boundaries of a long compound.
        k = bisect_right(starts, s) - 1
        if k < 0 or ends[k] < e:
            return False
        ws, we = starts[k], ends[k]
        inner = _compound_bounds(block[ws:we], self.dict_id)
        return (s == ws or s - ws in inner) and (e == we or e - ws in inner)


def query_needles(texts: list[str], dict_id: str = "") -> list[str]:
    """Normalised strings to mark: each query text whole, and each of its words; of a pasted passage
    (more than PASSAGE_WORDS words), only the words of two or more characters, since marking every
    的 and 在 of a document says nothing and costs a word-boundary check for each."""
    out = []
    for text in texts:
        norm = normalize(text)
        out.append(norm)
        out.extend(part for part in norm.split(" ") if part)
        words = [word for run in word_runs(text, dict_id) for word in run]
        if len(words) > PASSAGE_WORDS:
            words = [w for w in words if len(w) > 1]
        out.extend(words)
    return [n for n in dict.fromkeys(out) if n.strip()]


def _spans(norm: str, needles: list[str], dict_id: str, limit: int = MAX_OCCURRENCES) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans of whole-word needle occurrences, longest needle first."""
    taken = bytearray(len(norm))
    words = _Words(norm, dict_id)
    spans: list[tuple[int, int]] = []
    for needle in sorted(dict.fromkeys(needles), key=len, reverse=True):  # equal lengths in query order
        start = norm.find(needle)
        while start != -1 and len(spans) < limit:
            end = start + len(needle)
            if not any(taken[start:end]) and words.whole(start, end):
                spans.append((start, end))
                taken[start:end] = b"\x01" * (end - start)
            start = norm.find(needle, start + 1)
    return sorted(spans)


def _render(text: str, offsets: Sequence[int], spans: list[tuple[int, int]], start: int, end: int) -> str:
    """Escaped original text [start, end) (original offsets) with spans (normalised) wrapped in <mark>."""
    pieces, cursor = [], start
    for s, e in spans:
        o_start, o_end = offsets[s], offsets[e - 1] + 1
        if o_end <= start or o_start >= end:
            continue
        o_start, o_end = max(o_start, start, cursor), min(o_end, end)
        if o_start >= o_end:
            continue
        pieces.append(escape(text[cursor:o_start]))
        pieces.append("<mark>" + escape(text[o_start:o_end]) + "</mark>")
        cursor = o_end
    pieces.append(escape(text[cursor:end]))
    return "".join(pieces)


def highlight_all(text: str, needles: list[str], dict_id: str = "") -> str:
    """The whole text, escaped, every whole-word occurrence of the needles marked."""
    norm, offsets = normalize_with_map(text)
    return _render(text, offsets, _spans(norm, needles, dict_id), 0, len(text))


def snippet(text: str, needles: list[str], size: int = SNIPPET_CHARS, dict_id: str = "") -> str:
    """An escaped excerpt around the richest cluster of matches, by the characters of the distinct
    strings it holds (the opening when none match)."""
    norm, offsets = normalize_with_map(text)
    spans = _spans(norm, needles, dict_id, limit=60)
    if not spans:
        end = min(len(text), size)
        return escape(text[:end]).replace("\n", " ") + ("…" if end < len(text) else "")
    best, best_score = spans[0][0], -1
    firsts = [a for a, _ in spans]
    shown = size - size // 4  # the excerpt opens a quarter of its size before the window's first match
    for i, s in enumerate(firsts):
        window = spans[i : bisect_right(firsts, s + shown - 1, lo=i)]
        # The characters of the distinct strings matched: a pasted sentence found whole outweighs its
        # words found apart elsewhere, and two different words outweigh one word twice.
        score = sum(map(len, {norm[a:b] for a, b in window})) * 100 + len(window)
        if score > best_score:
            best, best_score = s, score
    o_first = offsets[best]
    start = max(0, o_first - size // 4)
    end = min(len(text), start + size)
    # Start after a line break when one is close, so the excerpt reads from a sentence start.
    cut = text.rfind("\n", start, o_first)
    if cut != -1:
        start = cut + 1
        end = min(len(text), start + size)
    body = _render(text, offsets, spans, start, end).replace("\n", " ")
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
