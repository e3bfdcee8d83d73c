"""Suggestions for a search with no results: drop a filter, the mainland wording, a near 文号."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from index.api import QueryError, SearchBackend, SearchRequest, normalize

_converters: list[Any] = []


def _mainland(text: str) -> str:
    """Taiwan wording in mainland terms (資訊/资讯 → 信息, 軟體 → 软件), via OpenCC's phrase tables:
    to traditional characters first, so simplified input with Taiwan wording is caught too."""
    if not _converters:
        import opencc

        _converters.extend([opencc.OpenCC("s2tw"), opencc.OpenCC("tw2sp")])
    to_traditional, to_mainland = _converters
    return str(to_mainland.convert(to_traditional.convert(text)))


def suggestions(
    engine: SearchBackend, req: SearchRequest, url: Callable[..., str], label: Callable[[str, str], str]
) -> list[dict[str, Any]]:
    """Links worth trying, each with the number of results it gives."""
    out: list[dict[str, Any]] = []

    def count(candidate: SearchRequest) -> int:
        try:
            return engine.search(replace(candidate, page=1, page_size=1)).total
        except QueryError:
            return 0

    for name, value in req.filters.items():
        n = count(replace(req, filters={k: v for k, v in req.filters.items() if k != name}))
        if n:
            out.append({"text": f"去掉筛选“{label(name, value)}”", "count": n, "url": url(**{name: None})})
    if req.date_from or req.date_to:
        n = count(replace(req, date_from=None, date_to=None))
        if n:
            out.append({"text": "去掉日期范围", "count": n, "url": url(**{"from": None, "to": None})})
    if req.q:
        alt = _mainland(req.q)
        if normalize(alt) != normalize(req.q):
            n = count(replace(req, q=alt))
            if n:
                out.append({"text": f"改用大陆用语：{alt}", "count": n, "url": url(q=alt)})
        for near in engine.near_doc_nos(req.q):
            out.append({"text": f"相近文号：{near.doc_no}（{near.title}）", "count": 1, "url": f"/doc/{near.id}"})
    return out
