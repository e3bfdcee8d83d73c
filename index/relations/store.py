"""Relations in the catalog: each document's references and keys, kept up to date from the catalog's changes.

Derived data: `sync_relations` re-extracts the documents changed since its recorded sequence number
and then resolves every reference again against every document's keys (a new document can resolve
an old reference); `rebuild_relations` starts from nothing. A change of the extraction rules
(`EXTRACTOR_VERSION`) makes the next sync a rebuild.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from archive.catalog import Catalog, SchemaPart, StoredDocument, utcnow
from index.docno import parse_doc_no
from index.relations import similar
from index.relations.extract import extract
from index.relations.resolve import Candidate, Resolver, keys_of

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "1"
PARALLEL_FROM = 2000  # a rebuild of this many documents or more is shared among two forked workers

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
        -- Its LSH band keys (documents sharing one are compared) and the pairs found similar.
        CREATE TABLE doc_bands (doc_id TEXT NOT NULL REFERENCES documents (id), band_key INTEGER NOT NULL);
        CREATE INDEX doc_bands_doc ON doc_bands (doc_id);
        CREATE INDEX doc_bands_key ON doc_bands (band_key);
        CREATE TABLE doc_pairs (a TEXT NOT NULL, b TEXT NOT NULL, similarity REAL NOT NULL, PRIMARY KEY (a, b));
        CREATE INDEX doc_pairs_b ON doc_pairs (b);
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
            for table in ("doc_references", "doc_keys", "doc_fingerprints", "doc_bands", "doc_pairs"):
                catalog.conn.execute(f"DELETE FROM {table}")
        touched: set[str] = set()
        for derived in _derive_all(catalog, since, top):
            touched.add(derived.doc_id)
            _store(catalog, derived, replace=since > 0)
        extracted = len(touched)
        retargeted = _resolve_all(catalog) if extracted or since == 0 else set()
        changed = len(retargeted)
        if since == 0:
            _pair_all(catalog)
        elif touched:
            _pair_some(catalog, touched)
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


@dataclass(frozen=True)
class _Derived:
    """One document's rows for the three tables: its references, its keys, its fingerprint (or None)."""

    doc_id: str
    references: list[tuple[Any, ...]]
    keys: list[tuple[str, str, str]]
    fingerprint: tuple[Any, ...] | None
    bands: list[tuple[str, int]]


def _derive(stored: StoredDocument) -> _Derived:
    """Everything relations keep of one document, computed from it alone (so any process can)."""
    doc = stored.doc
    text = document_text(stored)
    refs = extract(doc.title, text, doc.doc_no)
    printed = similar.fingerprint(text)
    fingerprint, bands = None, []
    if printed is not None:
        bands = [(stored.id, key) for key in similar.band_keys(printed[0])]
        parsed = parse_doc_no(doc.doc_no) if doc.doc_no else None
        own = sorted(similar.numbers_in(doc.title + " " + doc.doc_no))
        fingerprint = (
            stored.id,
            printed[0].tobytes(),
            json.dumps(sorted(printed[1])),
            json.dumps(own),
            parsed.key if parsed else "",
        )
    return _Derived(
        stored.id,
        [(stored.id, i, r.kind, r.title, r.doc_no, r.mention, r.sentence) for i, r in enumerate(refs)],
        [(stored.id, kind, key) for kind, key in keys_of(_candidate(stored))],
        fingerprint,
        bands,
    )


def _store(catalog: Catalog, derived: _Derived, replace: bool) -> None:
    conn = catalog.conn
    if replace:
        for table in ("doc_references", "doc_keys", "doc_fingerprints", "doc_bands"):
            conn.execute(f"DELETE FROM {table} WHERE doc_id=?", (derived.doc_id,))
    conn.executemany(
        "INSERT INTO doc_references (doc_id, ord, kind, title, doc_no, mention, sentence) VALUES (?, ?, ?, ?, ?, ?, ?)",
        derived.references,
    )
    conn.executemany("INSERT OR IGNORE INTO doc_keys (doc_id, kind, key) VALUES (?, ?, ?)", derived.keys)
    if derived.fingerprint is not None:
        conn.execute(
            "INSERT INTO doc_fingerprints (doc_id, minhash, numbers, own, doc_no) VALUES (?, ?, ?, ?, ?)", derived.fingerprint
        )
    conn.executemany("INSERT INTO doc_bands (doc_id, band_key) VALUES (?, ?)", derived.bands)


def _derive_range(job: tuple[str, int, int]) -> list[_Derived]:
    """A forked worker's share of a rebuild: the documents with lo < seq <= hi, read on its own connection."""
    path, lo, hi = job
    with Catalog(Path(path), readonly=True) as catalog:
        return [_derive(stored) for stored in catalog.iter_documents(since_seq=lo, until_seq=hi)]


def _derive_all(catalog: Catalog, since: int, top: int) -> Iterator[_Derived]:
    """Every changed document's rows; a rebuild of many documents is shared among forked workers."""
    total = catalog.count() if since == 0 else 0
    workers = min(os.cpu_count() or 1, 2) if total >= PARALLEL_FROM and hasattr(os, "fork") else 1
    if workers == 1:
        yield from (_derive(stored) for stored in catalog.iter_documents(since_seq=since, until_seq=top))
        return
    cuts = catalog.seq_cuts(workers * 8)
    cuts[-1] = top
    jobs = [(str(catalog.path), lo, hi) for lo, hi in zip(cuts, cuts[1:]) if hi > lo]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for part in pool.imap(_derive_range, jobs):
            yield from part


def _resolve_all(catalog: Catalog) -> set[str]:
    """Resolve every stored reference against every document's keys; returns the documents whose targets changed."""
    from index.relations.extract import Reference

    conn = catalog.conn
    docs = [
        Candidate(row[0], row[1] or "", row[2] or "", parse_day(row[3]))
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
    return {row[3] for row in updates}


def _reposting(catalog: Catalog) -> set[str]:
    """The 转发 pages: documents with a reposts reference (resolved or not)."""
    return {row[0] for row in catalog.conn.execute("SELECT DISTINCT doc_id FROM doc_references WHERE kind='reposts'")}


def _prints(catalog: Catalog, reposting: set[str], ids: list[str] | None = None) -> list[similar.Print]:
    """The stored fingerprints (of `ids`, or all), each marked when it is a 转发 page."""
    conn = catalog.conn
    sql = "SELECT doc_id, minhash, numbers, own, doc_no FROM doc_fingerprints"
    rows = (
        conn.execute(sql).fetchall()
        if ids is None
        else [r for chunk in _chunks(ids) for r in conn.execute(sql + f" WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk)]
    )
    return [
        similar.Print(
            row[0],
            np.frombuffer(row[1], dtype=np.uint64),
            frozenset(json.loads(row[2])),
            frozenset(json.loads(row[3])),
            row[4],
            row[0] in reposting,
        )
        for row in rows
    ]


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pair_all(catalog: Catalog) -> None:
    """Every similar pair of the archive, found through the LSH bands in memory (a rebuild)."""
    pairs = similar.pairs(_prints(catalog, _reposting(catalog)))
    catalog.conn.executemany("INSERT INTO doc_pairs (a, b, similarity) VALUES (?, ?, ?)", pairs)


def _pair_some(catalog: Catalog, ids: set[str]) -> None:
    """The pairs of the documents `ids` found again: compared with those sharing a band key with them."""
    conn = catalog.conn
    for chunk in _chunks(sorted(ids)):
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM doc_pairs WHERE a IN ({marks}) OR b IN ({marks})", chunk + chunk)
    reposting = _reposting(catalog)
    mine = {p.id: p for p in _prints(catalog, reposting, sorted(ids))}
    found: dict[tuple[str, str], float] = {}
    for doc_id, printed in mine.items():
        keys = [row[0] for row in conn.execute("SELECT band_key FROM doc_bands WHERE doc_id=?", (doc_id,))]
        if not keys:
            continue
        others = [
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT doc_id FROM doc_bands WHERE band_key IN ({','.join('?' * len(keys))}) AND doc_id != ?",
                (*keys, doc_id),
            )
        ]
        for other in _prints(catalog, reposting, others):
            if (sim := similar.similar_enough(printed, other)) is not None:
                found[(min(doc_id, other.id), max(doc_id, other.id))] = sim
    conn.executemany(
        "INSERT OR REPLACE INTO doc_pairs (a, b, similarity) VALUES (?, ?, ?)", [(a, b, s) for (a, b), s in found.items()]
    )


def _groups(catalog: Catalog, published: dict[str, Any]) -> dict[str, str]:
    """Each grouped document's group id: the group's earliest member (by date, then id)."""
    out: dict[str, str] = {}
    for members in similar.components(catalog.conn.execute("SELECT a, b FROM doc_pairs")):
        first = min(members, key=lambda d: (published.get(d) or date.max, d))
        out.update({d: first for d in members})
    return out


def _derive_fields(catalog: Catalog) -> int:
    """Recompute every document's derived validity and group; the changed ones get the next vseq. Returns how many."""
    from index.relations.view import derived_validity

    conn = catalog.conn
    published = {row[0]: parse_day(row[1]) for row in conn.execute(_PUBLISHED)}
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


def parse_day(text: str | None) -> date | None:
    """An ISO date as the catalog's JSON stores it; None when absent or unreadable."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
