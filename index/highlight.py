"""Snippets and highlights: find query strings in normalised text, mark the original characters."""

from __future__ import annotations

from html import escape

from index.analysis import normalize, normalize_with_map

SNIPPET_CHARS = 140


def _spans(norm: str, needles: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans of every needle occurrence, longest needle first."""
    taken = [False] * len(norm)
    spans = []
    for needle in sorted({n for n in needles if n}, key=len, reverse=True):
        start = norm.find(needle)
        while start != -1:
            end = start + len(needle)
            if not any(taken[start:end]):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            start = norm.find(needle, start + 1)
    return sorted(spans)


def query_needles(texts: list[str]) -> list[str]:
    """Normalised strings to look for; a query term with spaces also counts word by word."""
    out = []
    for text in texts:
        norm = normalize(text)
        out.append(norm)
        out.extend(part for part in norm.split(" ") if part)
    return [n for n in dict.fromkeys(out) if n]


def _render(text: str, offsets: list[int], spans: list[tuple[int, int]], start: int, end: int) -> str:
    """Escaped original text [start, end) (original offsets) with spans (normalised) wrapped in <mark>."""
    pieces, cursor = [], start
    for s, e in spans:
        o_start, o_end = offsets[s], offsets[e - 1] + 1
        if o_end <= start or o_start >= end:
            continue
        o_start, o_end = max(o_start, start), min(o_end, end)
        pieces.append(escape(text[cursor:o_start]))
        pieces.append("<mark>" + escape(text[o_start:o_end]) + "</mark>")
        cursor = o_end
    pieces.append(escape(text[cursor:end]))
    return "".join(pieces)


def highlight_all(text: str, needles: list[str]) -> str:
    """The whole text, escaped, every occurrence of the needles marked."""
    norm, offsets = normalize_with_map(text)
    return _render(text, offsets, _spans(norm, needles), 0, len(text))


def snippet(text: str, needles: list[str], size: int = SNIPPET_CHARS) -> str:
    """An escaped excerpt around the densest cluster of matches (the opening when none match)."""
    norm, offsets = normalize_with_map(text)
    spans = _spans(norm, needles)
    if not spans:
        end = min(len(text), size)
        return escape(text[:end]) + ("…" if end < len(text) else "")
    best, best_score = spans[0][0], -1
    for i, (s, _) in enumerate(spans):
        window = [sp for sp in spans[i:] if sp[0] < s + size]
        score = len({norm[a:b] for a, b in window}) * 100 + len(window)
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
