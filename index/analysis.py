"""Chinese analysis honouring Whoosh's token contract; this import path is pickled into the index.

Normalisation (NFKC, lower case, whitespace beside CJK characters dropped, 文号 brackets unified)
keeps a map from each normalised character to its offset in the original text, so highlights land
on the original characters. Word tokens come from jieba at word ordinals; punctuation leaves a
position gap so a phrase never matches across it.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from pathlib import Path
from typing import Iterator

from whoosh.analysis import Token, Tokenizer

# Bump when tokens change (normalisation, segmentation, dictionary): an index built with another
# version must be rebuilt, since query and index tokens would differ.
ANALYZER_VERSION = "1"

_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "［": "〔", "］": "〕", "【": "〔", "】": "〕", "﹝": "〔", "﹞": "〕",
                           "號": "号"})
_jieba_lock = threading.Lock()
_jieba = None
_cache_dir: Path | None = None


def configure(cache_dir: os.PathLike[str] | str) -> None:
    """Where jieba keeps its dictionary cache (a private directory, never the shared /tmp)."""
    global _cache_dir
    _cache_dir = Path(cache_dir)


def segmenter():  # type: ignore[no-untyped-def]
    """The process's jieba tokenizer, initialised once (thread-safe)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging

                import jieba

                # jieba sets its own logger to DEBUG with a stderr handler on import; keep it quiet.
                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                cache = _cache_dir or Path.home() / ".cache" / "xxgk-archive"
                cache.mkdir(parents=True, exist_ok=True)
                tk.tmp_dir = str(cache)
                tk.initialize()
                _jieba = tk
    return _jieba


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0002ffff"


def is_wordchar(ch: str) -> bool:
    return ch.isalnum()


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """(normalised text, original offset of each normalised character)."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).translate(_BRACKETS).lower()
        for c in folded:
            if c.isspace():
                c = " "
            out.append(c)
            offsets.append(i)
    # Drop whitespace next to a CJK character (layout noise, PDF line wraps); fold other runs to one space.
    keep_chars: list[str] = []
    keep_offsets: list[int] = []
    n = len(out)
    for j, c in enumerate(out):
        if c == " ":
            prev = keep_chars[-1] if keep_chars else ""
            nxt = next((out[k] for k in range(j + 1, n) if out[k] != " "), "")
            if not prev or not nxt or prev == " " or is_cjk(prev) or is_cjk(nxt):
                continue
        keep_chars.append(c)
        keep_offsets.append(offsets[j])
    return "".join(keep_chars), keep_offsets


def normalize(text: str) -> str:
    return normalize_with_map(text)[0]


def _runs(tokens: Iterator[Token]) -> list[list[str]]:
    """Tokens grouped into runs of consecutive positions (a gap marks punctuation between them)."""
    runs: list[list[str]] = []
    last = None
    for t in tokens:
        if last is None or t.pos != last + 1:
            runs.append([])
        runs[-1].append(t.text)
        last = t.pos
    return runs


def word_runs(text: str) -> list[list[str]]:
    """Query-mode word tokens of `text`, split where punctuation separates them."""
    return _runs(ChineseTokenizer()(text, positions=True, mode="query"))


def bigram_runs(text: str) -> list[list[str]]:
    """Character bigrams of `text`, split where punctuation or spaces separate them."""
    return _runs(BigramTokenizer()(text, positions=True))


class _StatelessTokenizer(Tokenizer):
    """A tokenizer without options: equal to any instance of its own class (Whoosh compares schemas)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class ChineseTokenizer(_StatelessTokenizer):
    """jieba words at ordinal positions; in index mode, dictionary sub-words share the parent's position."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: object) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = normalize(value)
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        norm, offsets = normalize_with_map(value)
        tk = segmenter()
        freq = tk.FREQ
        pos = start_pos
        for word, start, end in tk.tokenize(norm):
            if word == " ":
                continue
            if not any(is_wordchar(c) for c in word):
                pos += 1  # punctuation: a gap, so phrases do not match across it
                continue
            subwords: list[tuple[str, int, int]] = [(word, start, end)]
            if mode == "index" and len(word) > 2:
                for size in (2, 3):
                    for i in range(len(word) - size + 1):
                        gram = word[i:i + size]
                        if gram != word and freq.get(gram):
                            subwords.append((gram, start + i, start + i + size))
            for text, s, e in subwords:
                t.text = text
                t.boost = 1.0
                if keeporiginal:
                    t.original = text
                t.stopped = False
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar = start_char + offsets[s]
                    t.endchar = start_char + offsets[e - 1] + 1
                yield t
            pos += 1


class BigramTokenizer(_StatelessTokenizer):
    """Overlapping character bigrams of word-character runs; position = character index."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: object) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        norm, offsets = normalize_with_map(value)
        for i in range(len(norm) - 1):
            a, b = norm[i], norm[i + 1]
            if not (is_wordchar(a) and is_wordchar(b)):
                continue
            t.text = a + b
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar = start_char + offsets[i]
                t.endchar = start_char + offsets[i + 1] + 1
            yield t


def word_analyzer() -> ChineseTokenizer:
    return ChineseTokenizer()


def bigram_analyzer() -> BigramTokenizer:
    return BigramTokenizer()
