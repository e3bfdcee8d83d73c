"""The tantivy reader under the shared engine: scoring all terms in one query equals scoring them one by one."""

from __future__ import annotations

import numpy as np

from archive.catalog import Catalog
from archive.settings import Settings
from index.query import parse_query
from index.tantivy.engine import TantivyEngine
from tests.index.tantivy.test_writer import built  # noqa: F401 - the fixture: a catalog indexed by both engines
from tests.search_eval.evaluate import load_queries


def test_terms_scored_together_equal_the_sum_of_each_terms_bm25(built: tuple[Settings, Settings, Catalog]) -> None:  # noqa: F811
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
            together = postings.scores(plan.scoring, docs)
            assert together is not None
            one_by_one = np.zeros(len(docs), dtype=np.float32)
            for field, text, boost in plan.scoring:
                one_by_one += postings.bm25(field, postings.get(field, text), docs, boost)
            assert np.allclose(together, one_by_one, rtol=1e-4, atol=1e-4), judged.q
            checked += 1
    finally:
        engine.close()
    assert checked >= 30
