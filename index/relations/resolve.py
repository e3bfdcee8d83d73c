"""References resolved to archived documents: by structured 文号 first, then by normalised title.

A reference that fits no document stays unresolved (a law, a provincial notice not archived); one
that fits several equally is ambiguous and left unresolved with its candidates listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from index.docno import DocNo, parse_doc_no
from index.relations.extract import Reference, own_keys


@dataclass(frozen=True)
class Candidate:
    """What resolution needs of an archived document."""

    id: str
    title: str
    doc_no: str = ""
    published: date | None = None


@dataclass(frozen=True)
class Resolution:
    """Where a reference points: one document, or none (with the candidates when it was ambiguous)."""

    target: str | None
    candidates: tuple[str, ...] = field(default=())
    how: str = ""  # "doc_no", "title", "" when unresolved


def keys_of(doc: Candidate) -> list[tuple[str, str]]:
    """(kind, key) a document answers to: "doc_no" and its 文号 key, "title" and each title key."""
    parsed = parse_doc_no(doc.doc_no) if doc.doc_no else None
    return ([("doc_no", parsed.key)] if parsed else []) + [("title", key) for key in sorted(own_keys(doc.title))]


class Resolver:
    """An index of the archive's documents by 文号 and by title key."""

    def __init__(self, docs: Iterable[Candidate], keys: Iterable[tuple[str, str, str]] | None = None) -> None:
        """`keys` (doc id, kind, key) when stored beforehand; else each document's `keys_of`."""
        self.docs: dict[str, Candidate] = {doc.id: doc for doc in docs}
        self.by_no: dict[str, list[str]] = defaultdict(list)
        self.by_title: dict[str, list[str]] = defaultdict(list)
        if keys is None:
            keys = ((doc.id, kind, key) for doc in self.docs.values() for kind, key in keys_of(doc))
        for doc_id, kind, key in keys:
            (self.by_no if kind == "doc_no" else self.by_title)[key].append(doc_id)

    def _by_doc_no(self, key: str) -> list[str]:
        parsed = parse_doc_no(key)
        if not parsed:
            return []
        # Words before a 机关代字 in running text may still be on it: try its tails, longest first.
        for cut in range(len(parsed.code) - 1):
            found = self.by_no.get(DocNo(parsed.code[cut:], parsed.year, parsed.number).key)
            if found:
                return found
        return []

    def resolve(self, ref: Reference, source: Candidate) -> Resolution:
        """The document `ref` (found in `source`) points to."""
        if ref.doc_no:
            found = [d for d in self._by_doc_no(ref.doc_no) if d != source.id]
            if len(found) > 1 and ref.title:
                found = [d for d in found if d in self.by_title.get(ref.title, ())] or found
            if found:
                return self._one(found, source, "doc_no")
        if ref.title:
            found = [d for d in self.by_title.get(ref.title, []) if d != source.id]
            if found:
                return self._one(found, source, "title")
        return Resolution(None)

    def _one(self, found: list[str], source: Candidate, how: str) -> Resolution:
        if len(found) == 1:
            return Resolution(found[0], how=how)
        # Several: a reference points back in time; the one document before the source is it.
        if source.published:
            earlier = [d for d in found if (p := self.docs[d].published) is not None and p <= source.published]
            if len(earlier) == 1:
                return Resolution(earlier[0], how=how)
            found = earlier or found
        return Resolution(None, tuple(sorted(found)), how)
