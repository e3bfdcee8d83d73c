"""The judged evaluation must not fall below its recorded figures (tests/search_eval/baseline.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.search_eval.evaluate import load_queries, run

BASELINE = json.loads((Path(__file__).resolve().parents[1] / "search_eval" / "baseline.json").read_text(encoding="utf-8"))
TOLERANCE = 0.005  # rounding only: any real loss of quality fails
PEOPLE_KINDS = {"pasted", "abbreviation", "typo", "question", "unbroken", "punctuation", "number"}
FLOOR = 0.90  # every kind of query, whatever its recorded figure


def test_judged_queries_cover_every_kind() -> None:
    queries = load_queries()
    assert len(queries) >= 80
    kinds = {q.kind for q in queries}
    assert {"doc_no", "traditional", "pinyin", "overlap", "near-miss", "phrase", "filtered", "unknown-name"} <= kinds
    assert all(any(g > 0 for g in q.rel.values()) for q in queries)
    # The ways people search (pasted text, short forms, typos, questions, run-together words,
    # punctuation and number variants): at least 50 judged queries.
    assert sum(q.kind in PEOPLE_KINDS for q in queries) >= 50 and PEOPLE_KINDS <= kinds


@pytest.mark.parametrize("backend", ["whoosh", "tantivy"])
def test_search_quality_holds_its_recorded_figures(backend: str) -> None:
    summary, per_query = run(backend)
    failures = []
    for group, recorded in BASELINE.items():
        for metric in ("ndcg@10", "recall@10", "mrr"):
            if summary[group][metric] < recorded[metric] - TOLERANCE:
                failures.append(f"{group} {metric}: {summary[group][metric]:.3f} < recorded {recorded[metric]:.3f}")
    failures += [f"{kind} nDCG@10 {s['ndcg@10']:.3f} < {FLOOR}" for kind, s in summary.items() if s["ndcg@10"] < FLOOR]
    worst = sorted(per_query, key=lambda item: item["ndcg@10"])[:5]  # type: ignore[arg-type, return-value]
    assert not failures, "\n".join(failures) + "\nworst queries: " + repr(worst)
