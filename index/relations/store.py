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
from typing import Any

from archive.catalog import Catalog, SchemaPart, StoredDocument, utcnow
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
        -- 已废止 / 已修订 as the relations say (value '' once they no longer do). vseq numbers the
        -- changes, so that the index re-reads exactly the documents whose derived validity moved.
        CREATE TABLE derived_validity (
            doc_id TEXT PRIMARY KEY REFERENCES documents (id),
            value TEXT NOT NULL,
            vseq INTEGER NOT NULL
        );
        CREATE INDEX derived_validity_vseq ON derived_validity (vseq);
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
    validity_changed: int = 0  # documents whose derived validity (已废止, 已修订) changed


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
            catalog.conn.execute("DELETE FROM doc_references")
            catalog.conn.execute("DELETE FROM doc_keys")
        extracted = 0
        for stored in catalog.iter_documents(since_seq=since, until_seq=top):
            extracted += 1
            _extract_one(catalog, stored)
        changed = _resolve_all(catalog) if extracted or since == 0 else 0
        moved = _derive_validity(catalog) if extracted or since == 0 else 0
        catalog.conn.execute(
            "INSERT INTO relations_state (only, seq, extractor, updated_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (only) DO UPDATE SET seq=excluded.seq, extractor=excluded.extractor, updated_at=excluded.updated_at",
            (top, EXTRACTOR_VERSION, utcnow()),
        )
    total, resolved = catalog.conn.execute("SELECT COUNT(*), COUNT(target) FROM doc_references").fetchone()
    result = RelationsSync(extracted, int(total), int(resolved), changed, moved)
    log.info(
        "relations: %d documents extracted, %d references (%d resolved), %d changed, %d validity changes",
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


def _derive_validity(catalog: Catalog) -> int:
    """Recompute every document's derived validity; the changed ones get the next vseq. Returns how many."""
    from index.relations.view import derived_validity

    conn = catalog.conn
    rows = conn.execute(
        f"""SELECT r.target, r.kind, r.sentence, s.published AS source_published, t.published AS target_published
            FROM doc_references r JOIN ({_PUBLISHED}) s ON s.id = r.doc_id JOIN ({_PUBLISHED}) t ON t.id = r.target
            WHERE r.kind IN ('repeals', 'replaces', 'amends') AND r.target IS NOT NULL AND r.target != r.doc_id"""
    ).fetchall()
    incoming: dict[str, list[tuple[str, str, Any]]] = {}
    published: dict[str, Any] = {}
    for row in rows:
        incoming.setdefault(row["target"], []).append((row["kind"], row["sentence"], _date(row["source_published"])))
        published[row["target"]] = _date(row["target_published"])
    now = {doc_id: derived_validity(links, published[doc_id]) for doc_id, links in incoming.items()}
    before = {row[0]: row[1] for row in conn.execute("SELECT doc_id, value FROM derived_validity")}
    moved = {d: v for d, v in now.items() if v and before.get(d, "") != v}
    moved.update({d: "" for d, v in before.items() if v and not now.get(d)})
    if moved:
        vseq = int(conn.execute("SELECT COALESCE(MAX(vseq), 0) FROM derived_validity").fetchone()[0]) + 1
        conn.executemany(
            "INSERT INTO derived_validity (doc_id, value, vseq) VALUES (?, ?, ?) "
            "ON CONFLICT (doc_id) DO UPDATE SET value=excluded.value, vseq=excluded.vseq",
            [(d, v, vseq) for d, v in moved.items()],
        )
    return len(moved)


def validity_changes(catalog: Catalog, after_vseq: int) -> tuple[dict[str, str], int]:
    """Derived validity of the documents changed after `after_vseq` (all when 0), and the latest vseq."""
    if not catalog.ensure_part(PART):
        return {}, 0
    rows = catalog.conn.execute("SELECT doc_id, value FROM derived_validity WHERE vseq > ?", (after_vseq,)).fetchall()
    top = catalog.conn.execute("SELECT COALESCE(MAX(vseq), 0) FROM derived_validity").fetchone()[0]
    return {row[0]: row[1] for row in rows}, int(top)


_PUBLISHED = """SELECT d.id, json_extract(v.data, '$.published') AS published
                FROM documents d JOIN versions v ON v.id = d.current_version"""


def _date(text: str | None) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
