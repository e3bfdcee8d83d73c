"""Near-duplicate documents (reposts, copies on several agencies' sites) grouped by MinHash over character shingles.

A document's core text is its text without the lines a repost or a 印发 notice wraps around the
content (salutation, "现将…转发给你们", "请认真贯彻执行", signature and date), normalised (simplified,
half-width, no punctuation or spaces). Two documents join a group when their MinHash estimate of
shingle Jaccard similarity reaches `THRESHOLD`, and nothing says they differ: no two different 文号
(unless one reposts the other), and the same numbers in their core texts apart from those in either
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

_WRAPPER = re.compile(
    "现将.{0,80}(?:转发|印发|下发|发)给你们|转发给你们|印发给你们|请(?:认真|结合|遵照|按照|各)|遵照执行|贯彻执行|贯彻落实|特此通知|"
    "抓好落实|^附件[:：]|此件公开发布|^\\(?此页无正文"
)
_SALUTATION = re.compile(r"^[^。;；]{2,60}[:：]$")
_SIGNATURE = re.compile(r"^[^。,，;；]{0,30}(?:\d{4}年\d{1,2}月\d{1,2}日|[局委办厅府室心院会部处]|\d{4}-\d{1,2}-\d{1,2})$")
_KEEP = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_NUMBER = re.compile(r"\d+")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _content_lines(body: str) -> list[str]:
    """The normalised lines of a text that are its content (wrapper, salutation and signature lines dropped)."""
    kept = []
    for line in body.splitlines():
        text = normalize(line).strip()
        if not text or _WRAPPER.search(text) or _SALUTATION.match(text) or (len(text) <= 30 and _SIGNATURE.match(text)):
            continue
        kept.append(text)
    return kept


def core_text(body: str) -> str:
    """The content of a document's text: wrapper lines dropped, normalised, punctuation and spaces removed."""
    return _KEEP.sub("", "".join(_content_lines(body)))


def core_numbers(body: str) -> frozenset[str]:
    """The numbers the content of a text states (read before punctuation goes, so 〔2017〕26号 is two)."""
    return frozenset(_NUMBER.findall(" ".join(_content_lines(body))))


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
    reposts: frozenset[str] = frozenset()  # ids of the documents it reposts (from the relations)


def numbers_in(text: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(normalize(text)))


def pairs(prints: Iterable[Print], threshold: float = THRESHOLD) -> list[tuple[str, str, float]]:
    """Every pair of documents similar enough to share a group, with its similarity (LSH, then checked)."""
    items = list(prints)
    rows = PERMUTATIONS // BANDS
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, p in enumerate(items):
        for band in range(BANDS):
            buckets[(band, p.minhash[band * rows : (band + 1) * rows].tobytes())].append(i)
    seen: set[tuple[int, int]] = set()
    out = []
    for members in buckets.values():
        if len(members) < 2:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                key = (members[x], members[y])
                if key in seen:
                    continue
                seen.add(key)
                a, b = items[key[0]], items[key[1]]
                sim = similarity(a.minhash, b.minhash)
                if sim >= threshold and same_document(a, b):
                    out.append((a.id, b.id, sim))
    return out


def same_document(a: Print, b: Print) -> bool:
    """Whether two similar texts may be one document: no two different 文号 (unless a repost), the same numbers."""
    if a.doc_no and b.doc_no and a.doc_no != b.doc_no and b.id not in a.reposts and a.id not in b.reposts:
        return False
    either = a.own | b.own
    return a.numbers - either == b.numbers - either


def groups(prints: Iterable[Print], threshold: float = THRESHOLD) -> list[list[str]]:
    """Groups of two or more documents (connected through similar pairs), each sorted by id."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b, _ in pairs(prints, threshold):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        members[find(x)].append(x)
    for root in list(members):
        if root not in members[root]:
            members[root].append(root)
    return [sorted(m) for m in members.values() if len(m) > 1]
