"""Synonyms the archive teaches itself: "（以下简称…）" definitions and short forms of agency names.

Collected at reindex from the catalog and stored beside the index with its dictionary, so a
query for 市发改委 also finds the documents that only say 杭州市发展和改革委员会.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from index import analysis

LEARNED_FILE = "xxgk-synonyms.json"
MAX_NAME = 30  # longer "full names" are sentences, not names
# 《中华人民共和国政府信息公开条例》（以下简称《条例》）, 杭州市发展和改革委员会（以下简称“市发改委”）
_DEFINED = re.compile(
    r"([^，。；：:,;!?！？（）()\s]{2,60})\s*[(（]\s*以下简称\s*[:：]?\s*"
    r"[“\"《〈'‘]?([^”\"》〉'’()（）]{2,12})[”\"》〉'’]?\s*[)）]"
)
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:自治区|自治州|特别行政区|省|市|区|县|旗|镇|乡|街道)")
_FILLER = frozenset("和 与 及 的 管理 事务 工作".split())
_SUFFIX_SHORT = {"委员会": "委", "办公室": "办", "局": "局", "厅": "厅", "委": "委", "办": "办", "部": "部"}


def _split_place(name: str) -> tuple[str, str]:
    """(places, rest) of an agency name: 杭州市余杭区民政局 → (杭州市余杭区, 民政局)."""
    at = 0
    while (m := _PLACE.match(name, at)) and m.end() < len(name) and not any(c in m.group(0) for c in "和与及"):
        at = m.end()
    return name[:at], name[at:]


def _in_order(short: str, full: str) -> bool:
    """Whether every character of `short` occurs in `full`, in order."""
    at = 0
    for ch in short:
        at = full.find(ch, at) + 1
        if not at:
            return False
    return True


def definitions(text: str) -> list[tuple[str, str]]:
    """(short, full) pairs a text defines with "（以下简称…）".

    The short form must be an abbreviation of the full name (its characters in order) and not
    merely its tail: 《条例》 for a 条例 refers back within the document and is not a synonym.
    """
    out = []
    for m in _DEFINED.finditer(analysis.normalize(text)):
        full, short = m.group(1).strip("《》〈〉“”\"' "), m.group(2).strip()
        if "》" in m.group(1) and "《" in m.group(1):  # a titled name: the title itself
            full = m.group(1)[m.group(1).rfind("《") + 1 :].strip("》")
        else:  # plain text before the bracket: start at the word that holds the short form's first character
            words = analysis.segmenter("").lcut(full, HMM=False)
            first = next((i for i, w in enumerate(words) if short[0] in w), len(words))
            full = "".join(words[first:])
        if not 2 <= len(short) < len(full) <= MAX_NAME or full.endswith(short) or not _in_order(short, full):
            continue
        out.append((short, full))
    return out


def _splits(text: str) -> list[list[str]]:
    """jieba words of `text`, and the same with each four-character word split in two when both halves
    are words (城乡建设 → 城乡 建设): short forms are taken from either."""
    segmenter = analysis.segmenter("")
    whole = segmenter.lcut(text, HMM=False)
    split: list[str] = []
    for w in whole:
        halves = (w[:2], w[2:])
        split.extend(halves if len(w) == 4 and all(segmenter.FREQ.get(h) for h in halves) else (w,))
    return [whole, split] if split != whole else [whole]


def agency_short_forms(agency: str) -> list[str]:
    """Usual short forms of an agency name: initials of its words before the kind of body.

    余杭区人力资源和社会保障局 → 人社局; 杭州市发展和改革委员会 → 发改委, 市发改委; 余杭区市场监督管理局 →
    市监局; 余杭区住房和城乡建设局 → 住建局. Names the rules do not fit give none.
    """
    name = analysis.normalize(agency).replace(" ", "")
    place, body = _split_place(name)
    suffix = next((s for s in sorted(_SUFFIX_SHORT, key=len, reverse=True) if body.endswith(s)), "")
    stem = body[: len(body) - len(suffix)]
    if not suffix or len(stem) < 4:
        return []
    tail = _SUFFIX_SHORT[suffix]
    forms: set[str] = set()
    for words in _splits(stem):
        words = [w for w in words if w not in _FILLER]
        if len(words) >= 2 and all(len(w) >= 2 for w in words):
            forms |= {"".join(w[0] for w in words) + tail, words[0][0] + words[-1][0] + tail}
    if place:
        level = place[-1]  # 市发改委, 区人社局
        forms |= {level + f for f in forms}
    return sorted(f for f in forms if 3 <= len(f) < len(name))


def collect(agencies: Iterable[str], texts: Iterable[str]) -> list[list[str]]:
    """Synonym groups learned from agency names and from the definitions in `texts`."""
    groups: dict[str, set[str]] = {}
    for agency in agencies:
        name = analysis.normalize(agency).replace(" ", "")
        _, body = _split_place(name)
        for form in agency_short_forms(name):
            groups.setdefault(body, {body}).add(form)
    for text in texts:
        if "简称" in text:
            for short, full in definitions(text):
                groups.setdefault(full, {full}).add(short)
    return [sorted(g) for _, g in sorted(groups.items()) if len(g) > 1]


def save(index_dir: Path, groups: list[list[str]]) -> None:
    (index_dir / LEARNED_FILE).write_text(json.dumps({"groups": groups}, ensure_ascii=False, indent=0), encoding="utf-8")


def load(index_dir: Path) -> list[list[str]]:
    """The groups stored with an index (none for an index built before they were learned)."""
    try:
        data = json.loads((index_dir / LEARNED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    groups = data.get("groups") if isinstance(data, dict) else None
    return [g for g in groups or [] if isinstance(g, list) and all(isinstance(w, str) for w in g)]
