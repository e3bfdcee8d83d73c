"""The tantivy index holds the same terms, in the same documents, at the same positions as the Whoosh
index built from the same catalog; a sync replaces edited documents; a foreign index is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tantivy
from whoosh.query import Phrase

from archive.catalog import Catalog
from archive.settings import Settings
from index import analysis
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


def test_the_parallel_build_equals_the_serial_one(
    built: tuple[Settings, Settings, Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, tantivy_settings, catalog = built
    monkeypatch.setattr(tantivy_writer, "PARALLEL_FROM", 1)
    monkeypatch.setattr(tantivy_writer, "BATCH", 37)
    parallel = make_settings(tmp_path / "p")
    assert tantivy_writer.rebuild(parallel, catalog) == catalog.count()
    for settings_pair in ((tantivy_settings, parallel),):
        (a_ix, a), (b_ix, b) = (_searcher(s) for s in settings_pair)
        assert a.num_docs == b.num_docs == catalog.count()
        for fields in (("body",), ("title_ng",)):
            assert _tantivy_terms(a_ix, a, fields) == _tantivy_terms(b_ix, b, fields)


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
