"""The tantivy index holds the same terms, in the same documents, at the same positions as the Whoosh
index built from the same catalog; a sync replaces edited documents; a foreign index is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tantivy
from whoosh.query import Phrase

from archive.catalog import Catalog
from archive.settings import Settings
from index import analysis
from index.build import document_fields
from index.errors import IndexMissingError
from index.tantivy import writer as tantivy_writer
from index.whoosh import sync as whoosh_sync
from index.whoosh.sync import open_index
from tests.conftest import make_settings
from tests.index.whoosh.test_bulk import _catalog


def _whoosh_terms(settings: Settings) -> dict[str, dict[str, set[int]]]:
    """Field → term → the catalog seqs of the documents holding it."""
    ix = open_index(settings.index_path)
    out: dict[str, dict[str, set[int]]] = {}
    with ix.searcher() as searcher:
        reader = searcher.reader()
        seqs = {d: reader.stored_fields(d)["seq"] for d in reader.all_doc_ids()}
        for field, btext in reader.all_terms():
            if field not in ("title", "body", "title_ng", "body_ng", "doc_no"):
                continue
            docs = {seqs[d] for d in reader.postings(field, btext).all_ids()}
            out.setdefault(field, {})[btext.decode("utf-8")] = docs
    ix.close()
    return out


def _searcher(settings: Settings) -> tuple[Any, Any]:
    ix = tantivy.Index.open(str(settings.index_path.resolve()))
    return ix, ix.searcher()


def _seqs(ix: Any, searcher: Any, query: Any) -> set[int]:
    hits = searcher.search(query, limit=max(1, searcher.num_docs)).hits
    return set(searcher.fast_field_values("seq", [address for _, address in hits]))


def _tantivy_terms(ix: Any, searcher: Any, fields: tuple[str, ...]) -> dict[str, set[int]]:
    """Term → seqs of the documents holding it in any of `fields`."""
    schema = ix.schema
    out: dict[str, set[int]] = {}
    for field in fields:
        for term, _ in searcher.terms_with_prefix(field, ""):
            out.setdefault(term, set()).update(_seqs(ix, searcher, tantivy.Query.term_query(schema, field, term)))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Settings, Catalog]:
    root = tmp_path_factory.mktemp("tantivy-writer")
    catalog = _catalog(root)
    analysis.configure(root / "cache")
    whoosh_settings = make_settings(root / "w")
    tantivy_settings = make_settings(root / "t")
    whoosh_sync.rebuild(whoosh_settings, catalog)
    assert tantivy_writer.rebuild(tantivy_settings, catalog) == catalog.count()
    return whoosh_settings, tantivy_settings, catalog


def test_both_engines_hold_the_same_terms_in_the_same_documents(built: tuple[Settings, Settings, Catalog]) -> None:
    whoosh_settings, tantivy_settings, _ = built
    expected = _whoosh_terms(whoosh_settings)
    ix, searcher = _searcher(tantivy_settings)
    for field in ("title", "body", "title_ng", "body_ng", "doc_no"):
        assert _tantivy_terms(ix, searcher, (field,)) == expected[field], field


def test_the_shown_text_is_stored_as_written_and_indexes_no_term(built: tuple[Settings, Settings, Catalog]) -> None:
    """The result list's text is stored only: indexed, each value was one term of the dictionary
    (half the index, and a good part of the rebuild)."""
    _, tantivy_settings, catalog = built
    ix, searcher = _searcher(tantivy_settings)
    shown = 0
    for stored in list(catalog.iter_documents())[::7]:
        hits = searcher.search(tantivy.Query.term_query(ix.schema, "id", stored.id), limit=1).hits
        fields = document_fields(stored)
        values = searcher.doc(hits[0][1]).to_dict()
        assert [values[k][0].decode() for k in ("title_text", "url", "text")] == [fields[k] for k in ("title", "url", "text")]
        shown += 1
    assert shown > 10
    for field in ("url", "text", "title_text", "doc_no_text"):
        with pytest.raises(ValueError, match="not an indexed"):
            searcher.terms_with_prefix(field, "")


def test_phrases_match_the_same_documents_in_both_engines(built: tuple[Settings, Settings, Catalog]) -> None:
    whoosh_settings, tantivy_settings, catalog = built
    ix, searcher = _searcher(tantivy_settings)
    # Word pairs and triples as the text has them, including pairs across punctuation (which match nothing).
    phrases: list[tuple[str, list[str]]] = []
    for stored in list(catalog.iter_documents())[::9]:
        runs = analysis.word_runs(stored.doc.body)
        flat = [w for run in runs for w in run]
        phrases += [("body", flat[i : i + 2]) for i in range(0, len(flat) - 1, 7)]
        phrases += [("body", flat[i : i + 3]) for i in range(3, len(flat) - 2, 11)]
        grams = analysis.bigrams(stored.doc.title)
        phrases += [("title_ng", grams[i : i + 3]) for i in range(0, len(grams) - 2, 5)]
    assert len(phrases) > 200
    wix = open_index(whoosh_settings.index_path)
    with wix.searcher() as ws:
        for field, words in phrases:
            wanted = {hit["seq"] for hit in ws.search(Phrase(field, words), limit=None)}
            got = _seqs(ix, searcher, tantivy.Query.phrase_query(ix.schema, field, words))
            assert got == wanted, (field, words)
    wix.close()


def _everything(ix: Any, searcher: Any) -> dict[str, Any]:
    """What a reader sees, by catalog seq: each term's documents, positions (as phrases of the
    text's own word pairs match), stored fields and fast fields."""
    hits = searcher.search(tantivy.Query.all_query(), limit=max(1, searcher.num_docs)).hits
    stored = {}
    for _, address in hits:
        fields = searcher.doc(address).to_dict()
        stored[fields["seq"][0]] = fields
    columns = {
        name: dict(
            zip(searcher.fast_field_values("seq", [a for _, a in hits]), searcher.fast_field_values(name, [a for _, a in hits]))
        )
        for name in ("pubdate", "listdate")
    }
    terms = {
        field: _tantivy_terms(ix, searcher, (field,)) for field in ("title", "body", "title_ng", "body_ng", "doc_no", "agency")
    }
    pairs = {}
    for fields in list(stored.values())[::5]:
        words = analysis.word_lists(analysis.normalize(fields["text"][0].decode()))[0]
        for i in range(0, len(words) - 1, 9):
            query = tantivy.Query.phrase_query(ix.schema, "body", words[i : i + 2])
            pairs[tuple(words[i : i + 2])] = _seqs(ix, searcher, query)
    return {"stored": stored, "columns": columns, "terms": terms, "pairs": pairs}


def test_a_rebuild_in_parts_reads_exactly_as_one_built_by_a_single_writer(
    built: tuple[Settings, Settings, Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, tantivy_settings, catalog = built
    parts: list[int] = []
    monkeypatch.setattr(tantivy_writer, "_workers", lambda total: parts.append(total) or 3)
    monkeypatch.setattr(tantivy_writer, "BATCH", 37)
    heard: list[int] = []
    parallel = make_settings(tmp_path / "p")
    assert tantivy_writer.rebuild(parallel, catalog, heard.append) == catalog.count()
    assert parts == [catalog.count()]
    assert heard == sorted(heard) and heard[-1] == catalog.count()  # progress from every part, in total
    index_dir = parallel.index_path.resolve()
    assert len(json.loads((index_dir / "meta.json").read_text())["segments"]) >= 3  # joined, not rebuilt serially
    assert not [p for p in index_dir.iterdir() if p.name.startswith("part-")]
    single, joined = _everything(*_searcher(tantivy_settings)), _everything(*_searcher(parallel))
    assert len(single["stored"]) == len(joined["stored"]) == catalog.count()
    assert len(single["pairs"]) > 100
    for key in ("stored", "columns", "terms", "pairs"):
        assert joined[key] == single[key], key


def test_a_sync_replaces_edited_documents_and_adds_new_ones(tmp_path: Path) -> None:
    from dataclasses import replace

    catalog = _catalog(tmp_path)
    settings = make_settings(tmp_path / "t")
    analysis.configure(tmp_path / "cache")
    assert tantivy_writer.sync(settings, catalog) == catalog.count()  # no index yet: a rebuild
    first = next(iter(catalog.iter_documents()))
    catalog.record_document(replace(first.doc, body=first.doc.body + "另附犀牛保护区巡查记录。"), None)
    withdrawn = list(catalog.iter_documents())[5]
    assert catalog.mark_withdrawn(withdrawn.id)
    assert tantivy_writer.sync(settings, catalog) == 2
    ix, searcher = _searcher(settings)
    assert searcher.num_docs == catalog.count()  # edited documents replaced, not added beside
    for doc_id in (first.id, withdrawn.id):
        assert searcher.search(tantivy.Query.term_query(ix.schema, "id", doc_id)).count == 1
    assert _seqs(ix, searcher, tantivy.Query.term_query(ix.schema, "body", "犀牛")) == {catalog.get(first.id).seq}
    status = tantivy.Query.term_query(ix.schema, "status", "withdrawn")
    assert _seqs(ix, searcher, status) == {catalog.get(withdrawn.id).seq}


def test_an_index_of_another_engine_is_refused_with_the_remedy(built: tuple[Settings, Settings, Catalog]) -> None:
    whoosh_settings, _, _ = built
    with pytest.raises(IndexMissingError) as raised:
        tantivy_writer.check_index(whoosh_settings.index_path)
    assert "xxgk reindex" in str(raised.value)
