"""The part of tantivy's on-disk layout that a rebuild in parts relies on (index.tantivy.layout): the
pinned tantivy still writes it, a join refuses parts it cannot join, a failing part leaves the current
index as it was, and a joined index takes syncs like any other."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import tantivy

from archive.catalog import Catalog
from index import analysis
from index.errors import EngineError, LayoutError
from index.tantivy import layout
from index.tantivy import writer as tantivy_writer
from index.tantivy.schema import build_schema
from tests.conftest import make_settings
from tests.index.whoosh.test_bulk import _catalog


def _tiny_index(where: Path, texts: list[str], schema: object | None = None) -> Path:
    where.mkdir(parents=True)
    ix = tantivy.Index(schema or build_schema(), path=str(where))
    writer = ix.writer(heap_size=32 << 20, num_threads=1)
    for text in texts:
        doc = tantivy.Document()
        doc.add_text("body" if schema is None else "other", text)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    return where


def test_the_pinned_tantivy_writes_the_layout_a_join_relies_on(tmp_path: Path) -> None:
    index_dir = _tiny_index(tmp_path / "ix", ["甲 乙", "乙 丙"])
    meta = json.loads((index_dir / layout.META).read_text())
    assert tuple(meta) == layout.LAYOUT[layout.META]
    assert [tuple(segment) for segment in meta["segments"]] == [layout.LAYOUT["segment"]]
    segment = meta["segments"][0]
    assert segment["max_doc"] == 2 and segment["deletes"] is None
    files = layout.segment_files(index_dir, segment["segment_id"])
    assert {p.suffix for p in files} >= {".term", ".idx", ".store", ".fast"}
    managed = json.loads((index_dir / layout.MANAGED).read_text())
    assert set(managed) == {layout.META} | {p.name for p in files}


def test_a_join_moves_every_segment_and_counts_every_document(tmp_path: Path) -> None:
    parts = [_tiny_index(tmp_path / f"part-{k}", [f"词{k} 共同", "共同"]) for k in range(3)]
    target = tmp_path / "joined"
    target.mkdir()
    assert layout.join(parts, target) == 6
    searcher = tantivy.Index.open(str(target)).searcher()
    assert searcher.num_docs == 6
    schema = tantivy.Index.open(str(target)).schema
    assert searcher.search(tantivy.Query.term_query(schema, "body", "共同"), limit=10).count == 6
    assert searcher.search(tantivy.Query.term_query(schema, "body", "词1"), limit=10).count == 1
    assert all(not any(part.glob("*.term")) for part in parts)


def test_a_join_refuses_parts_of_another_schema_and_names_them(tmp_path: Path) -> None:
    other = tantivy.SchemaBuilder()
    other.add_text_field("other")
    parts = [_tiny_index(tmp_path / "a", ["甲"]), _tiny_index(tmp_path / "b", ["乙"], other.build())]
    target = tmp_path / "joined"
    target.mkdir()
    with pytest.raises(LayoutError, match="schema") as raised:
        layout.join(parts, target)
    assert str(parts[1]) in str(raised.value)
    assert not (target / layout.META).exists()  # no half-joined index


def test_a_layout_of_another_tantivy_version_is_refused(tmp_path: Path) -> None:
    index_dir = _tiny_index(tmp_path / "ix", ["甲"])
    meta = json.loads((index_dir / layout.META).read_text())
    meta["payload"] = None  # as if a newer tantivy wrote more than we know how to join
    (index_dir / layout.META).write_text(json.dumps(meta))
    with pytest.raises(LayoutError, match="payload"):
        layout.read_meta(index_dir)


def test_a_failing_part_stops_the_rebuild_and_leaves_the_current_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _catalog(tmp_path)
    settings = make_settings(tmp_path / "t")
    analysis.configure(tmp_path / "cache")
    assert tantivy_writer.rebuild(settings, catalog) == catalog.count()
    current = settings.index_path.resolve()
    before = sorted(p.name for p in current.iterdir())
    victim = list(catalog.iter_documents())[-3].seq
    real = tantivy_writer.document_fields

    def broken(stored, derived):  # type: ignore[no-untyped-def]
        if stored.seq == victim:
            raise ValueError(f"unreadable document {stored.seq}")
        return real(stored, derived)

    monkeypatch.setattr(tantivy_writer, "document_fields", broken)  # inherited by the forked parts
    monkeypatch.setattr(tantivy_writer, "_workers", lambda total: 2)
    with pytest.raises(EngineError, match=f"unreadable document {victim}") as raised:
        tantivy_writer.rebuild(settings, catalog)
    assert "xxgk reindex" in raised.value.hint
    assert settings.index_path.resolve() == current
    assert sorted(p.name for p in current.iterdir()) == before
    assert sorted(p.name for p in settings.index_path.parent.iterdir() if p.name.startswith("index")) == ["index", current.name]
    assert tantivy.Index.open(str(current)).searcher().num_docs == catalog.count()


def test_a_joined_index_takes_syncs_and_keeps_only_its_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog: Catalog = _catalog(tmp_path)
    settings = make_settings(tmp_path / "t")
    analysis.configure(tmp_path / "cache")
    monkeypatch.setattr(tantivy_writer, "_workers", lambda total: 3)
    assert tantivy_writer.rebuild(settings, catalog) == catalog.count()
    documents = list(catalog.iter_documents())
    for stored in documents[:: max(1, len(documents) // 12)]:  # edits in every part
        catalog.record_document(replace(stored.doc, body=stored.doc.body + "另附犀牛保护区巡查记录。"), None)
    assert tantivy_writer.sync(settings, catalog) >= 12
    index_dir = settings.index_path.resolve()
    ix = tantivy.Index.open(str(index_dir))
    searcher = ix.searcher()
    assert searcher.num_docs == catalog.count()
    assert searcher.search(tantivy.Query.term_query(ix.schema, "body", "犀牛"), limit=1).count >= 12
    live = {segment["segment_id"].replace("-", "") for segment in layout.read_meta(index_dir)["segments"]}
    stems = {p.name.split(".", 1)[0] for p in index_dir.iterdir() if not p.name.startswith((".", "meta", "xxgk"))}
    assert stems == live  # files of segments merged away are collected, none left behind
