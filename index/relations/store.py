"""Relations in the catalog: each document's references and keys, kept up to date from the catalog's changes.

Derived data: `sync_relations` re-extracts the documents changed since its recorded sequence number
and then resolves every reference again against every document's keys (a new document can resolve
an old reference); `rebuild_relations` starts from nothing. A change of the extraction rules
(`EXTRACTOR_VERSION`) makes the next sync a rebuild.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from archive.catalog import Catalog, SchemaPart, StoredDocument, utcnow
from index.docno import parse_doc_no
from index.relations import similar
from index.relations.extract import extract
from index.relations.resolve import Candidate, Resolver, keys_of

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "1"

PART = SchemaPart(
    "relations",
    {
        1: """
        CREATE TABLE doc_references (
            doc_id TEXT NOT NULL REFERENCES documents (id),
            ord INTEGER NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            doc_no TEXT NOT NULL,
            mention TEXT NOT NULL,
            sentence TEXT NOT NULL,
            target TEXT,
            candidates TEXT NOT NULL DEFAULT '[]',
            how TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (doc_id, ord)
        );
        CREATE INDEX doc_references_target ON doc_references (target);
        CREATE TABLE doc_keys (
            doc_id TEXT NOT NULL REFERENCES documents (id),
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (doc_id, kind, key)
        );
        CREATE TABLE relations_state (
            only INTEGER PRIMARY KEY CHECK (only = 1),
            seq INTEGER NOT NULL,
            extractor TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        -- MinHash of each document's core text, with the numbers it states (near-duplicate grouping).
        CREATE TABLE doc_fingerprints (
            doc_id TEXT PRIMARY KEY REFERENCES documents (id),
            minhash BLOB NOT NULL,
            numbers TEXT NOT NULL,
            own TEXT NOT NULL,
            doc_no TEXT NOT NULL
        );
        -- What the index takes from the relations: validity (已废止, 已修订) and the group of reposts
        -- and copies ('' when none). vseq numbers the changes, so that the index re-reads exactly
        -- the documents whose derived fields moved.
        CREATE TABLE derived_fields (
            doc_id TEXT PRIMARY KEY REFERENCES documents (id),
            validity TEXT NOT NULL DEFAULT '',
            group_id TEXT NOT NULL DEFAULT '',
            vseq INTEGER NOT NULL
        );
        CREATE INDEX derived_fields_vseq ON derived_fields (vseq);
        """,
    },
)


@dataclass(frozen=True)
class RelationsSync:
    """What one sync did."""

    documents: int  # documents whose references were extracted again
    references: int  # references stored in all
    resolved: int  # of which resolved to an archived document
    changed: int  # references whose target changed in this sync
    derived_changed: int = 0  # documents whose derived validity (已废止, 已修订) or group changed
    groups: int = 0  # groups of reposts and copies


def _candidate(stored: StoredDocument) -> Candidate:
    doc = stored.doc
    return Candidate(stored.id, doc.title, doc.doc_no, doc.published)


def document_text(stored: StoredDocument) -> str:
    """The text references are looked for in: the body, then each attachment's text."""
    return "\n\n".join([stored.doc.body, *(a.text for a in stored.doc.attachments if a.text)])


def _state(catalog: Catalog) -> dict[str, Any] | None:
    row = catalog.conn.execute("SELECT seq, extractor FROM relations_state").fetchone()
    return dict(row) if row else None


def sync_relations(catalog: Catalog, rebuild: bool = False) -> RelationsSync:
    """Bring the relations up to date with the catalog (from nothing when `rebuild` or the rules changed)."""
    catalog.ensure_part(PART)
    state = _state(catalog)
    if rebuild or state is None or state["extractor"] != EXTRACTOR_VERSION:
        since = 0
    else:
        since = int(state["seq"])
    top = catalog.max_seq()
    with catalog.transaction():
        if since == 0:
            for table in ("doc_references", "doc_keys", "doc_fingerprints"):
                catalog.conn.execute(f"DELETE FROM {table}")
        extracted = 0
        for stored in catalog.iter_documents(since_seq=since, until_seq=top):
            extracted += 1
            _extract_one(catalog, stored)
        changed = _resolve_all(catalog) if extracted or since == 0 else 0
        moved = _derive_fields(catalog) if extracted or since == 0 else 0
        catalog.conn.execute(
            "INSERT INTO relations_state (only, seq, extractor, updated_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (only) DO UPDATE SET seq=excluded.seq, extractor=excluded.extractor, updated_at=excluded.updated_at",
            (top, EXTRACTOR_VERSION, utcnow()),
        )
    total, resolved = catalog.conn.execute("SELECT COUNT(*), COUNT(target) FROM doc_references").fetchone()
    grouped = catalog.conn.execute("SELECT COUNT(DISTINCT group_id) FROM derived_fields WHERE group_id != ''").fetchone()[0]
    result = RelationsSync(extracted, int(total), int(resolved), changed, moved, int(grouped))
    log.info(
        "relations: %d documents extracted, %d references (%d resolved), %d changed, %d derived changes, %d groups",
        *vars(result).values(),
    )
    return result


def _extract_one(catalog: Catalog, stored: StoredDocument) -> None:
    conn = catalog.conn
    conn.execute("DELETE FROM doc_references WHERE doc_id=?", (stored.id,))
    conn.execute("DELETE FROM doc_keys WHERE doc_id=?", (stored.id,))
    doc = stored.doc
    refs = extract(doc.title, document_text(stored), doc.doc_no)
    conn.executemany(
        "INSERT INTO doc_references (doc_id, ord, kind, title, doc_no, mention, sentence) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(stored.id, i, r.kind, r.title, r.doc_no, r.mention, r.sentence) for i, r in enumerate(refs)],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO doc_keys (doc_id, kind, key) VALUES (?, ?, ?)",
        [(stored.id, kind, key) for kind, key in keys_of(_candidate(stored))],
    )
    conn.execute("DELETE FROM doc_fingerprints WHERE doc_id=?", (stored.id,))
    text = document_text(stored)
    hashed = similar.minhash(similar.core_text(text))
    if hashed is not None:
        parsed = parse_doc_no(doc.doc_no) if doc.doc_no else None
        conn.execute(
            "INSERT INTO doc_fingerprints (doc_id, minhash, numbers, own, doc_no) VALUES (?, ?, ?, ?, ?)",
            (
                stored.id,
                hashed.tobytes(),
                json.dumps(sorted(similar.core_numbers(text))),
                json.dumps(sorted(similar.numbers_in(doc.title + " " + doc.doc_no))),
                parsed.key if parsed else "",
            ),
        )


def _resolve_all(catalog: Catalog) -> int:
    """Resolve every stored reference against every document's keys; returns how many targets changed."""
    from index.relations.extract import Reference

    conn = catalog.conn
    docs = [
        Candidate(row[0], row[1] or "", row[2] or "", _date(row[3]))
        for row in conn.execute(
            """SELECT d.id, json_extract(v.data, '$.title'), json_extract(v.data, '$.doc_no'),
                      json_extract(v.data, '$.published')
               FROM documents d JOIN versions v ON v.id = d.current_version"""
        )
    ]
    resolver = Resolver(docs, conn.execute("SELECT doc_id, kind, key FROM doc_keys"))
    updates = []
    for row in conn.execute("SELECT doc_id, ord, kind, title, doc_no, target, candidates, how FROM doc_references"):
        source = resolver.docs.get(row["doc_id"])
        if source is None:
            continue
        where = resolver.resolve(Reference(row["kind"], row["title"], row["doc_no"], "", ""), source)
        candidates = json.dumps(list(where.candidates))
        if (where.target, candidates, where.how) != (row["target"], row["candidates"], row["how"]):
            updates.append((where.target, candidates, where.how, row["doc_id"], row["ord"]))
    conn.executemany("UPDATE doc_references SET target=?, candidates=?, how=? WHERE doc_id=? AND ord=?", updates)
    return len(updates)


def _groups(catalog: Catalog, published: dict[str, Any]) -> dict[str, str]:
    """Each grouped document's group id: the group's earliest member (by date, then id)."""
    conn = catalog.conn
    reposts: dict[str, set[str]] = {}
    for doc_id, target in conn.execute("SELECT doc_id, target FROM doc_references WHERE kind='reposts' AND target IS NOT NULL"):
        reposts.setdefault(doc_id, set()).add(target)
    prints = [
        similar.Print(
            row[0],
            np.frombuffer(row[1], dtype=np.uint64),
            frozenset(json.loads(row[2])),
            frozenset(json.loads(row[3])),
            row[4],
            frozenset(reposts.get(row[0], ())),
        )
        for row in conn.execute("SELECT doc_id, minhash, numbers, own, doc_no FROM doc_fingerprints")
    ]
    out: dict[str, str] = {}
    for members in similar.groups(prints):
        first = min(members, key=lambda d: (published.get(d) or date.max, d))
        out.update({d: first for d in members})
    return out


def _derive_fields(catalog: Catalog) -> int:
    """Recompute every document's derived validity and group; the changed ones get the next vseq. Returns how many."""
    from index.relations.view import derived_validity

    conn = catalog.conn
    published = {row[0]: _date(row[1]) for row in conn.execute(_PUBLISHED)}
    incoming: dict[str, list[tuple[str, str, Any]]] = {}
    for target, kind, sentence, source in conn.execute(
        """SELECT target, kind, sentence, doc_id FROM doc_references
           WHERE kind IN ('repeals', 'replaces', 'amends') AND target IS NOT NULL AND target != doc_id"""
    ):
        incoming.setdefault(target, []).append((kind, sentence, published.get(source)))
    validity = {doc_id: derived_validity(links, published.get(doc_id)) for doc_id, links in incoming.items()}
    group = _groups(catalog, published)
    now = {d: (validity.get(d, ""), group.get(d, "")) for d in set(validity) | set(group)}
    now = {d: v for d, v in now.items() if v != ("", "")}
    before = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT doc_id, validity, group_id FROM derived_fields")}
    moved = {d: v for d, v in now.items() if before.get(d, ("", "")) != v}
    moved.update({d: ("", "") for d, v in before.items() if v != ("", "") and d not in now})
    if moved:
        vseq = int(conn.execute("SELECT COALESCE(MAX(vseq), 0) FROM derived_fields").fetchone()[0]) + 1
        conn.executemany(
            "INSERT INTO derived_fields (doc_id, validity, group_id, vseq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (doc_id) DO UPDATE SET validity=excluded.validity, group_id=excluded.group_id, vseq=excluded.vseq",
            [(d, v, g, vseq) for d, (v, g) in moved.items()],
        )
    return len(moved)


def derived_changes(catalog: Catalog, after_vseq: int) -> tuple[dict[str, tuple[str, str]], int]:
    """(validity, group id) of the documents whose derived fields changed after `after_vseq` (all when 0),
    and the latest vseq."""
    if not catalog.ensure_part(PART):
        return {}, 0
    rows = catalog.conn.execute("SELECT doc_id, validity, group_id FROM derived_fields WHERE vseq > ?", (after_vseq,)).fetchall()
    top = catalog.conn.execute("SELECT COALESCE(MAX(vseq), 0) FROM derived_fields").fetchone()[0]
    return {row[0]: (row[1], row[2]) for row in rows}, int(top)


_PUBLISHED = """SELECT d.id, json_extract(v.data, '$.published') AS published
                FROM documents d JOIN versions v ON v.id = d.current_version"""


def _date(text: str | None) -> Any:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
