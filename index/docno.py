"""文号 (document numbers) parsed into 机关代字, year and serial number, whatever bracket style was typed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.analysis import normalize

# After normalisation every bracket style is 〔〕 except round brackets, which stay as typed.
_DOCNO = re.compile(r"^(?P<code>[\u3400-\u9fffa-z]{1,16}?)[〔(]?(?P<year>(?:19|20)\d{2})[〕)]?第?(?P<num>\d{1,6})号?$")
_FIND = re.compile(r"(?<![\u3400-\u9fff])[\u3400-\u9fff]{2,8}[〔(](?:19|20)\d{2}[〕)]第?\d{1,6}号")


@dataclass(frozen=True)
class DocNo:
    """A parsed 文号: code (机关代字, e.g. 浙政办发), year and number."""

    code: str
    year: int
    number: int

    @property
    def key(self) -> str:
        """One spelling for every way of writing the same 文号 (the structured field's value)."""
        return f"{self.code}〔{self.year}〕{self.number}号"


def parse_doc_no(text: str) -> DocNo | None:
    """The 文号 in `text` when the whole text is one (any bracket style, 号/號, spaces), else None."""
    norm = normalize(text).replace(" ", "")
    m = _DOCNO.match(norm)
    if not m:
        return None
    # Without brackets the year must still be followed by a serial number ending in 号.
    if "〔" not in norm and "(" not in norm and not norm.endswith("号"):
        return None
    return DocNo(m.group("code"), int(m.group("year")), int(m.group("num")))


def doc_nos_in(text: str) -> list[str]:
    """The 机关代字 of 文号 cited in a normalised text, for the domain dictionary."""
    return [parse_doc_no(m.group(0)).code for m in _FIND.finditer(text) if parse_doc_no(m.group(0))]  # type: ignore[union-attr]
