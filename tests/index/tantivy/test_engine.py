"""The tantivy reader under the shared engine: scoring all terms in one query equals scoring them one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tantivy

from archive.catalog import Catalog
from archive.settings import Settings
from index import analysis
from index.query import parse_query
from index.sets import locate
from index.tantivy import writer as tantivy_writer
from index.tantivy.engine import TantivyEngine, TantivyReader
from tests.conftest import make_settings
from tests.index.tantivy.test_writer import built  # noqa: F401 - the fixture: a catalog indexed by both engines
from tests.index.whoosh.test_bulk import _catalog
from tests.search_eval.evaluate import load_queries


@pytest.mark.parametrize("cost", [0.0, 1e9, "mixed"], ids=["filtered-query", "kept-term-scores", "both"])
def test_terms_scored_together_equal_the_sum_of_each_terms_bm25(
    built: tuple[Settings, Settings, Catalog],  # noqa: F811
    cost: float | str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every way of scoring many terms (one filtered query; each term's kept scores; some terms kept
    # and the others in one query) gives tantivy's BM25.
    monkeypatch.setattr("index.tantivy.engine.QUERY_COST", 0 if cost != 1e9 else cost)
    monkeypatch.setattr("index.tantivy.engine.FEW_TERMS", 0)
    monkeypatch.setattr("index.tantivy.engine.CANDIDATE_COST", 0.0 if cost == "mixed" else cost)
    _, tantivy_settings, _ = built
    engine = TantivyEngine(tantivy_settings.index_path)
    postings = engine._postings  # noqa: SLF001 - the reader's postings are what is compared
    checked = 0
    try:
        for judged in load_queries()[::3]:
            plan = engine.plan(parse_query(judged.q))
            docs = plan.docs
            if not plan.scoring or not len(docs):
                continue
            if cost == "mixed":  # every other term's scores kept beforehand
                for field, text, _ in plan.scoring[::2]:
                    if engine._reader.doc_freq(field, text):  # noqa: SLF001
                        postings._scored_posting(field, text)  # noqa: SLF001
            summed = postings.scores(plan.scoring, docs)
            # The reference: each term's own query over the whole index, unfiltered, placed on `docs`.
            one_by_one = np.zeros(len(docs), dtype=np.float32)
            reader = engine._reader  # noqa: SLF001
            for field, text, boost in plan.scoring:
                if not reader.doc_freq(field, text):
                    continue
                nums, values = reader.scored(tantivy.Query.term_query(reader.schema, field, text))
                where, present = locate(docs, nums)
                one_by_one[where[present]] += boost * values[present]
            assert np.allclose(summed, one_by_one, rtol=1e-4, atol=1e-4), judged.q
            checked += 1
    finally:
        engine.close()
    assert checked >= 30


def _column_one_by_one(reader: TantivyReader, name: str) -> list[str]:
    """The definition: each value's documents given that value, one document at a time ("" for none)."""
    column = [""] * reader.size
    for value, _ in reader._searcher.terms_with_prefix(name, ""):  # noqa: SLF001 - the index's own terms
        for num in reader.postings.get(name, value).ids.tolist():
            column[num] = value
    return column


def test_columns_coded_from_postings_equal_the_columns_read_document_by_document(tmp_path: Path) -> None:
    from index.sets import code_keys, code_values
    from index.tantivy.schema import KEYWORDS

    catalog = _catalog(tmp_path)
    settings = make_settings(tmp_path / "t")
    analysis.configure(tmp_path / "cache")
    tantivy_writer.rebuild(settings, catalog)
    documents = list(catalog.iter_documents())
    catalog.mark_withdrawn(documents[3].id)  # a second status value, and a sync's deletion
    tantivy_writer.sync(settings, catalog)
    reader = TantivyEngine(settings.index_path)._reader
    for name in KEYWORDS:
        if name == "id" or name == "doc_key":
            continue
        values, codes = reader.coded_column(name)
        expected_values, expected_codes = code_values(_column_one_by_one(reader, name))
        assert values == expected_values, name
        assert codes.tolist() == expected_codes.tolist(), name
    days = np.array([0, 20200000, 20201231, 19990105, 20200101, 0, 9990101], dtype=np.int64)
    for label, keys, plain in (
        ("month", np.where(days > 0, days // 100 % 100 + 1, 0), [f"{d // 100 % 100:02d}" if d else "" for d in days]),
        ("year", np.where(days > 0, days // 10000 + 1, 0), [str(d // 10000) if d else "" for d in days]),
    ):
        fmt = (lambda k: f"{k - 1:02d}" if k else "") if label == "month" else (lambda k: str(k - 1) if k else "")
        values, codes = code_keys(keys, fmt)
        expected_values, expected_codes = code_values(plain)
        assert (values, codes.tolist()) == (expected_values, expected_codes.tolist()), label
