"""Near-duplicate documents (reposts, copies on several agencies' sites) grouped by MinHash over character shingles.

A document's core text is its text without the lines a repost or a 印发 notice wraps around the
content (salutation, "现将…转发给你们", "请认真贯彻执行", signature and date), normalised (simplified,
half-width, no punctuation or spaces). Two documents join a group when their MinHash estimate of
shingle Jaccard similarity reaches `THRESHOLD`, and nothing says they differ: no two different 文号
(unless one is a 转发 page, which has a 文号 of its own), and the same numbers in their core texts apart from those in either
one's title or 文号 (the same 办法 of another year, or a notice with other amounts, stays apart).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from index.analysis import normalize

SHINGLE = 5
PERMUTATIONS = 64
BANDS = 16  # LSH: 16 bands of 4 rows find pairs above ~0.5 similarity with high probability
THRESHOLD = 0.8  # chosen on the judged pairs (tests/relations_eval/pairs.py): see docs/relations.md
MIN_CHARS = 60  # shorter core texts are not compared (a two-line notice says too little)

# Matched on the raw lines (simplified and traditional forms), so that the text is normalised once.
_WRAPPER = re.compile(
    "[现現]将.{0,80}(?:[转轉]发|印发|印發|下发|下發|发|發)[给給]你[们們]|[转轉][发發][给給]你[们們]|印[发發][给給]你[们們]|"
    "[请請](?:认真|認真|结合|結合|遵照|按照|各)|遵照[执執]行|[贯貫][彻徹][执執]行|[贯貫][彻徹]落[实實]|特此通知|抓好落[实實]|"
    "^附件[:：]|此件公开发布|此件公開發布|^[(（]?此[页頁]无正文|^[(（]?此[页頁]無正文"
)
_SALUTATION = re.compile(r"^[^。;；]{2,60}[:：]$")
_SIGNATURE = re.compile(
    r"^[^。,，;；]{0,30}(?:[0-9０-９〇零一二三四五六七八九]{4}年[0-9０-９一二三四五六七八九十]{1,3}月[0-9０-９一二三四五六七八九十]{1,3}日"
    r"|[局委办辦厅廳府室心院会會部处處]|\d{4}-\d{1,2}-\d{1,2})$"
)
_KEEP = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_NUMBER = re.compile(r"\d+")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _content(body: str) -> str:
    """The normalised content of a text: wrapper, salutation and signature lines dropped."""
    kept = []
    for line in body.splitlines():
        text = line.strip()
        if not text or _WRAPPER.search(text) or _SALUTATION.match(text) or (len(text) <= 30 and _SIGNATURE.match(text)):
            continue
        kept.append(text)
    return normalize("\n".join(kept))


def fingerprint(body: str) -> tuple[np.ndarray, frozenset[str]] | None:
    """(MinHash of the core text, the numbers it states) of a text, normalised once; None when too short.

    Numbers are read before punctuation goes, so 〔2017〕26号 is two."""
    content = _content(body)
    hashed = minhash(_KEEP.sub("", content))
    return None if hashed is None else (hashed, frozenset(_NUMBER.findall(content)))


def _coefficients() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20161231)  # fixed: stored fingerprints stay comparable across runs
    a = rng.integers(1, 2**63 - 1, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63 - 1, size=PERMUTATIONS, dtype=np.uint64)
    return a, b


_A, _B = _coefficients()


def minhash(core: str) -> np.ndarray | None:
    """64 MinHash values of the core text's character 5-shingles (None when the text is too short)."""
    if len(core) < MIN_CHARS:
        return None
    codes = np.frombuffer(core.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    # A polynomial hash of each window of SHINGLE characters (wrapping uint64 arithmetic).
    h = np.zeros(len(codes) - SHINGLE + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SHINGLE):
            h = h * np.uint64(1_000_003) + codes[k : len(codes) - SHINGLE + 1 + k]
        h = np.unique(h)
        mixed = h[None, :] * _A[:, None] + _B[:, None]
    # The high bits of a multiply-add mix well; the minimum of each row is one MinHash value.
    return (mixed >> np.uint64(16)).min(axis=1)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The MinHash estimate of the two texts' shingle Jaccard similarity."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


@dataclass(frozen=True)
class Print:
    """What grouping needs of one document."""

    id: str
    minhash: np.ndarray
    numbers: frozenset[str]  # the numbers its core text states
    own: frozenset[str]  # the numbers its title and 文号 carry (a repost may quote the original's head)
    doc_no: str  # 文号 key ("" when none)
    reposting: bool = False  # a 转发 page (it has a reposts reference): its own 文号 is not the original's


def numbers_in(text: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(normalize(text)))


_BAND_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)


def band_keys(hashed: np.ndarray) -> list[int]:
    """One key per LSH band (its rows mixed, the band's number in it): documents sharing a key are candidates."""
    rows = PERMUTATIONS // BANDS
    with np.errstate(over="ignore"):
        mixed = (hashed.reshape(BANDS, rows) * _BAND_MIX[:rows]).sum(axis=1, dtype=np.uint64)
        mixed = mixed + np.arange(BANDS, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
    return [int(k) >> 1 for k in mixed.tolist()]  # 63 bits: an SQLite integer


def pairs(prints: Iterable[Print], threshold: float = THRESHOLD) -> list[tuple[str, str, float]]:
    """Every pair of documents similar enough to share a group, with its similarity (LSH, then checked)."""
    items = list(prints)
    buckets: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(items):
        for band in band_keys(p.minhash):
            buckets[band].append(i)
    seen: set[tuple[int, int]] = set()
    out = []
    for members in buckets.values():
        if len(members) < 2:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pair = (members[x], members[y])
                if pair in seen:
                    continue
                seen.add(pair)
                a, b = items[pair[0]], items[pair[1]]
                if (sim := similar_enough(a, b, threshold)) is not None:
                    out.append((min(a.id, b.id), max(a.id, b.id), sim))
    return out


def similar_enough(a: Print, b: Print, threshold: float = THRESHOLD) -> float | None:
    """Their similarity when two documents belong in one group, else None."""
    sim = similarity(a.minhash, b.minhash)
    return sim if sim >= threshold and same_document(a, b) else None


def same_document(a: Print, b: Print) -> bool:
    """Whether two similar texts may be one document: no two different 文号 (unless a repost), the same numbers."""
    if a.doc_no and b.doc_no and a.doc_no != b.doc_no and not (a.reposting or b.reposting):
        return False
    either = a.own | b.own
    return a.numbers - either == b.numbers - either


def groups(prints: Iterable[Print], threshold: float = THRESHOLD) -> list[list[str]]:
    """Groups of two or more documents (connected through similar pairs), each sorted by id."""
    return components((a, b) for a, b, _ in pairs(prints, threshold))


def components(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The connected components (two or more members) of a graph given by its edges, each sorted."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        members[find(x)].append(x)
    return [sorted(m) for m in members.values() if len(m) > 1]
