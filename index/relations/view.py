"""One document's relations as a reader sees them: links both ways, derived validity, and its chain of versions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from archive.catalog import Catalog
from index.analysis import normalize
from index.relations.store import PART, parse_day

KIND_LABELS = {
    ("cites", "out"): "引用",
    ("cites", "in"): "被引用",
    ("repeals", "out"): "废止",
    ("repeals", "in"): "被废止",
    ("amends", "out"): "修订",
    ("amends", "in"): "被修订",
    ("replaces", "out"): "替代",
    ("replaces", "in"): "被替代",
    ("interprets", "out"): "解读",
    ("interprets", "in"): "解读材料",
    ("reposts", "out"): "转发",
    ("reposts", "in"): "被转发",
}
ORDER = ("repeals", "replaces", "amends", "interprets", "reposts", "cites")
REPEALED, AMENDED = "已废止", "已修订"
_WHOLLY = re.compile("代替|取代|替代")  # "以本办法为准" overrides only where the two differ: not a repeal
_DECISION = re.compile("废止|失效|清理|修改|修订|修正")  # a decision about other documents is not their successor
_IN_FORCE = re.compile("^(?:现行)?有效|继续有效|现行")


@dataclass(frozen=True)
class Link:
    """One relation of a document, from its side: `direction` "out" (it does this) or "in" (done to it)."""

    kind: str
    direction: str
    doc_id: str | None  # the other document; None when the reference is not (uniquely) archived
    title: str  # its title, or the mention as written when unresolved
    published: date | None
    sentence: str  # the evidence, as written
    candidates: tuple[str, ...] = ()  # the documents an ambiguous reference may mean
    doc_no: str = ""

    @property
    def label(self) -> str:
        return KIND_LABELS[(self.kind, self.direction)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "direction": self.direction,
            "label": self.label,
            "doc_id": self.doc_id,
            "title": self.title,
            "doc_no": self.doc_no or None,
            "published": self.published.isoformat() if self.published else None,
            "sentence": self.sentence,
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True)
class Validity:
    """Whether a document is still in force: what its page states, what its relations say, and whether they clash."""

    stated: str
    derived: str  # 已废止, 已修订 or ""
    by: Link | None  # the document that repealed (or last amended) it
    conflict: bool

    @property
    def value(self) -> str:
        """The 有效性 facet's value: the page's own statement wins; else the derived one."""
        return self.stated or self.derived

    def as_dict(self) -> dict[str, Any]:
        return {
            "stated": self.stated or None,
            "derived": self.derived or None,
            "value": self.value or None,
            "by": self.by.as_dict() if self.by else None,
            "conflict": self.conflict,
        }


@dataclass(frozen=True)
class Step:
    """One document in a validity chain (original → amendments → replacement)."""

    doc_id: str
    title: str
    published: date | None
    role: str  # 原文件, 修订, 替代, 本文件 ...


@dataclass(frozen=True)
class DocumentRelations:
    links: list[Link]
    validity: Validity
    chain: list[Step]

    def as_dict(self) -> dict[str, Any]:
        return {
            "links": [link.as_dict() for link in self.links],
            "validity": self.validity.as_dict(),
            "chain": [
                {
                    "doc_id": s.doc_id,
                    "title": s.title,
                    "published": s.published.isoformat() if s.published else None,
                    "role": s.role,
                }
                for s in self.chain
            ],
        }


# The other document's fields, joined by primary key (a join through a subquery would read every document).
_OTHER = """json_extract(v.data, '$.title') AS other_title, json_extract(v.data, '$.published') AS other_published,
            json_extract(v.data, '$.doc_no') AS other_doc_no"""
_DOC = """SELECT d.id, json_extract(v.data, '$.title') AS title, json_extract(v.data, '$.published') AS published,
                 json_extract(v.data, '$.doc_no') AS doc_no, json_extract(v.data, '$.validity') AS validity
          FROM documents d JOIN versions v ON v.id = d.current_version"""


def _links(catalog: Catalog, doc_id: str) -> list[Link]:
    conn = catalog.conn
    out: list[Link] = []
    seen: set[tuple[str, str, str]] = set()
    rows = conn.execute(
        f"""SELECT r.*, {_OTHER} FROM doc_references r
            LEFT JOIN documents d ON d.id = r.target LEFT JOIN versions v ON v.id = d.current_version
            WHERE r.doc_id = ? ORDER BY r.ord""",
        (doc_id,),
    ).fetchall()
    for r in rows:
        key = (r["kind"], "out", r["target"] or r["doc_no"] or r["title"])
        if key in seen or r["target"] == doc_id:
            continue
        seen.add(key)
        out.append(
            Link(
                r["kind"],
                "out",
                r["target"],
                r["other_title"] if r["target"] else r["mention"],
                parse_day(r["other_published"]),
                r["sentence"],
                tuple(json.loads(r["candidates"])),
                (r["other_doc_no"] or "") if r["target"] else r["doc_no"],
            )
        )
    rows = conn.execute(
        f"""SELECT r.*, {_OTHER} FROM doc_references r
            JOIN documents d ON d.id = r.doc_id JOIN versions v ON v.id = d.current_version
            WHERE r.target = ? ORDER BY other_published, r.doc_id""",
        (doc_id,),
    ).fetchall()
    for r in rows:
        key = (r["kind"], "in", r["doc_id"])
        if key in seen or r["doc_id"] == doc_id:
            continue
        seen.add(key)
        out.append(
            Link(
                r["kind"],
                "in",
                r["doc_id"],
                r["other_title"],
                parse_day(r["other_published"]),
                r["sentence"],
                (),
                r["other_doc_no"] or "",
            )
        )
    out.sort(key=lambda link: (ORDER.index(link.kind), link.direction))
    return out


def _effect(kind: str, sentence: str, source: date | None, target: date | None) -> str:
    """What one incoming relation says of a document's validity: 已废止, 已修订 or nothing.

    Only a later (or same-day) document repeals or amends; "以本办法为准" overrides only where the
    two differ, so of the replacing sentences only 代替/取代/替代 repeal."""
    if source is not None and target is not None and source < target:
        return ""
    if kind == "repeals" or (kind == "replaces" and _WHOLLY.search(sentence)):
        return REPEALED
    return AMENDED if kind == "amends" else ""


def derived_validity(incoming: list[tuple[str, str, date | None]], published: date | None) -> str:
    """A document's derived validity from its incoming (kind, sentence, source date) relations."""
    effects = {_effect(kind, sentence, source, published) for kind, sentence, source in incoming}
    return REPEALED if REPEALED in effects else AMENDED if AMENDED in effects else ""


def _validity(links: list[Link], stated: str, published: date | None) -> Validity:
    incoming = [link for link in links if link.direction == "in"]
    effects = [(link, _effect(link.kind, link.sentence, link.published, published)) for link in incoming]
    repealed = [link for link, effect in effects if effect == REPEALED]
    amended = [link for link, effect in effects if effect == AMENDED]
    by = (repealed or amended)[-1] if repealed or amended else None
    derived = REPEALED if repealed else AMENDED if amended else ""
    conflict = bool(stated) and derived == REPEALED and bool(_IN_FORCE.search(stated))
    return Validity(stated, derived, by, conflict)


def _successors(links: list[Link]) -> list[Link]:
    """Documents that replaced this one (a new rule that repeals or replaces it, not a decision about many)."""
    return [
        link
        for link in links
        if link.direction == "in"
        and link.doc_id
        and (
            link.kind == "replaces"
            and _WHOLLY.search(link.sentence)
            or link.kind == "repeals"
            and not _DECISION.search(normalize(link.title))
        )
    ]


def _predecessors(links: list[Link], own_title: str) -> list[Link]:
    if _DECISION.search(normalize(own_title)):
        return []
    return [
        link
        for link in links
        if link.direction == "out"
        and link.doc_id
        and (link.kind == "repeals" or (link.kind == "replaces" and _WHOLLY.search(link.sentence)))
    ]


def _chain(catalog: Catalog, doc_id: str, title: str, published: date | None, links: list[Link]) -> list[Step]:
    """Predecessors, this document, its successors; each followed by the documents that amended it."""
    back: list[Step] = []
    cursor_links, cursor_title, seen = links, title, {doc_id}
    while (prev := [p for p in _predecessors(cursor_links, cursor_title) if p.doc_id not in seen]) and len(back) < 10:
        earlier = prev[0]
        seen.add(earlier.doc_id or "")
        back.insert(0, Step(earlier.doc_id or "", earlier.title, earlier.published, "原文件"))
        cursor_links, cursor_title = _links(catalog, earlier.doc_id or ""), earlier.title
    forward: list[Step] = []
    cursor_links = links
    while (nxt := [s for s in _successors(cursor_links) if s.doc_id not in seen]) and len(forward) < 10:
        later = nxt[0]
        seen.add(later.doc_id or "")
        forward.append(Step(later.doc_id or "", later.title, later.published, "替代文件"))
        cursor_links = _links(catalog, later.doc_id or "")
    steps: list[Step] = []
    for step in [*back, Step(doc_id, title, published, "本文件"), *forward]:
        steps.append(step)
        own = links if step.doc_id == doc_id else _links(catalog, step.doc_id)
        steps.extend(
            Step(link.doc_id or "", link.title, link.published, "修订")
            for link in sorted((x for x in own if x.direction == "in" and x.kind == "amends"), key=_when)
        )
    return steps if len(steps) > 1 else []


def _when(link: Link) -> date:
    return link.published or date.min


def document_relations(catalog: Catalog, doc_id: str) -> DocumentRelations | None:
    """The document's relations (None when the relations were never derived or the document is unknown)."""
    if not catalog.ensure_part(PART):
        return None
    row = catalog.conn.execute(_DOC + " WHERE d.id = ?", (doc_id,)).fetchone()
    if row is None:
        return None
    links = _links(catalog, doc_id)
    published = parse_day(row["published"])
    validity = _validity(links, (row["validity"] or "").strip(), published)
    return DocumentRelations(links, validity, _chain(catalog, doc_id, row["title"] or "", published, links))
