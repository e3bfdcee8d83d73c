"""Decode fetched bytes: BOM, then the HTTP header, then <meta charset>, then UTF-8, then GB18030.

Also what whole text is: JSON can spell half a character (a surrogate escape such as \\ud83d whose pair
was cut off), which no encoding can store; `HALF_CHARACTER` finds one."""

from __future__ import annotations

import codecs
import re

# A surrogate on its own: JSON decodes a paired escape to the one character it spells.
HALF_CHARACTER = re.compile("[\ud800-\udfff]")
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
# WHATWG: gb2312 and gbk labels use the gb18030 decoder (a superset; real pages need it).
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "iso-ir-58": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
}


def normalise_label(label: str) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    label = label.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_encoding(body: bytes, content_type: str = "", override: str = "") -> str:
    """The encoding to decode `body` with: the first declared one that decodes cleanly.

    A declared charset that does not decode the bytes (a portal that lies) yields to the next.
    """
    if override:
        return normalise_label(override) or "utf-8"
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    candidates = []
    match = _HEADER.search(content_type or "")
    if match:
        candidates.append(normalise_label(match.group(1)))
    meta = _META.search(body[:4096])
    if meta:
        candidates.append(normalise_label(meta.group(1).decode("ascii", "ignore")))
    candidates += ["utf-8", "gb18030"]
    for encoding in dict.fromkeys(c for c in candidates if c):
        try:
            body.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return next(c for c in candidates if c)


def decode(body: bytes, content_type: str = "", override: str = "") -> tuple[str, str]:
    """(text, encoding); undecodable bytes become U+FFFD, never an exception."""
    encoding = sniff_encoding(body, content_type, override)
    return body.decode(encoding, errors="replace"), encoding
