"""The domain dictionary: agency, place, 《》 title and 文号 代字 words from the archive's own metadata, and synonym-table words.

It is built at reindex, stored beside the index (so queries are segmented exactly as the documents
were) and loaded into jieba on top of its own dictionary, so these names stay whole words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from index import analysis
from index.docno import doc_nos_in, parse_doc_no

DICT_FILE = "xxgk-dict.txt"
MAX_TITLE = 16
_TITLE = re.compile(rf"《([^《》]{{2,{MAX_TITLE}}})》")
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:自治区|自治州|特别行政区|省|市|区|县|旗|镇|乡|街道)")
_ORG_TAIL = re.compile(r"(?:人民政府|办公室|委员会|局|厅|委|办|所|中心|院|署)$")


def _places(name: str) -> list[str]:
    """Administrative place names at the start of an agency name: 杭州市余杭区民政局 → 杭州市, 余杭区."""
    out: list[str] = []
    rest = name
    while True:
        m = _PLACE.match(rest)
        if not m or len(m.group(0)) == len(rest):
            return out
        out.append(m.group(0))
        rest = rest[m.end() :]


def collect(
    agencies: Iterable[str], titles: Iterable[str], texts: Iterable[str], doc_nos: Iterable[str], extra: Iterable[str] = ()
) -> list[str]:
    """Dictionary words from metadata: agency names and their places, 《》 titles, 文号 代字; plus `extra` words."""
    words: set[str] = set(extra)
    for agency in agencies:
        name = analysis.normalize(agency).replace(" ", "")
        if 2 <= len(name) <= 24 and _ORG_TAIL.search(name):
            words.add(name)
            words.update(_places(name))
    for text in [*titles, *texts]:
        norm = analysis.normalize(text)
        words.update(m.group(1) for m in _TITLE.finditer(norm) if " " not in m.group(1))
        words.update(doc_nos_in(norm))
    for raw in doc_nos:
        parsed = parse_doc_no(raw)
        if parsed:
            words.add(parsed.code)
    return sorted(w for w in words if len(w) >= 2)


def dict_id(words: list[str]) -> str:
    """A content hash: the same words give the same id (and the same loaded segmenter)."""
    if not words:
        return ""
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()[:16]


def save(index_dir: Path, words: list[str]) -> str:
    (index_dir / DICT_FILE).write_text("\n".join(words) + ("\n" if words else ""), encoding="utf-8")
    ident = dict_id(words)
    analysis.load_dictionary(ident, words)
    return ident


def load(index_dir: Path) -> str:
    """Load the dictionary stored with an index into jieba; returns its id ("" when there is none)."""
    path = index_dir / DICT_FILE
    if not path.exists():
        return ""
    words = [w for w in path.read_text(encoding="utf-8").split("\n") if w]
    ident = dict_id(words)
    analysis.load_dictionary(ident, words)
    return ident
