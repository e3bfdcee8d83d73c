"""Judged search evaluation: build the corpus into a fresh archive and index, run every judged query,
print nDCG@10, recall@10 and MRR overall and per kind of query.

Usage: python -m tests.search_eval.evaluate [--json] [--show-misses] [--backend whoosh|tantivy]
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from archive.catalog import Catalog
from archive.settings import load_settings
from index.api import SearchBackend, SearchRequest, index_writer, open_backend
from tests.search_eval.corpus import documents

HERE = Path(__file__).resolve().parent
K = 10


@dataclass(frozen=True)
class Judged:
    q: str
    kind: str
    rel: dict[str, int]


def load_queries() -> list[Judged]:
    data = tomllib.loads((HERE / "queries.toml").read_text(encoding="utf-8"))
    return [Judged(item["q"], item["kind"], {k: int(v) for k, v in item["rel"].items()}) for item in data["query"]]


def ndcg(ranked: list[str], rel: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** rel.get(key, 0) - 1) / math.log2(i + 2) for i, key in enumerate(ranked[:k]))
    ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], rel: dict[str, int], k: int = K) -> float:
    wanted = {key for key, g in rel.items() if g > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def reciprocal_rank(ranked: list[str], rel: dict[str, int]) -> float:
    return next((1.0 / (i + 1) for i, key in enumerate(ranked) if rel.get(key, 0) > 0), 0.0)


def build(workdir: Path, backend: str = "whoosh") -> SearchBackend:
    """The corpus recorded in a fresh catalog and indexed with the production build of `backend`."""
    settings = load_settings(env={}, overrides={"data_dir": str(workdir), "index_backend": backend})
    with Catalog(settings.catalog_path) as catalog:
        for doc in documents():
            catalog.record_document(doc, None)
        index_writer(settings).rebuild(catalog)
    return open_backend(settings)


def evaluate(engine: SearchBackend, queries: list[Judged]) -> tuple[dict[str, dict[str, float]], list[dict[str, object]]]:
    keys_by_url = {}
    per_query = []
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for judged in queries:
        result = engine.search(SearchRequest(q=judged.q, page_size=K))
        ranked = []
        for hit in result.hits:
            if hit.url not in keys_by_url:
                keys_by_url[hit.url] = hit.url.rsplit("/", 1)[-1].removesuffix(".html")
            ranked.append(keys_by_url[hit.url])
        scores = {
            "ndcg@10": ndcg(ranked, judged.rel),
            "recall@10": recall(ranked, judged.rel),
            "mrr": reciprocal_rank(ranked, judged.rel),
        }
        per_query.append({"q": judged.q, "kind": judged.kind, "ranked": ranked, **scores})
        for group in ("overall", judged.kind):
            sums[group]["queries"] += 1
            for name, value in scores.items():
                sums[group][name] += value
    summary = {
        group: {"queries": int(v["queries"]), **{m: round(v[m] / v["queries"], 4) for m in ("ndcg@10", "recall@10", "mrr")}}
        for group, v in sums.items()
    }
    return summary, per_query


def run(backend: str = "whoosh") -> tuple[dict[str, dict[str, float]], list[dict[str, object]]]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(Path(tmp), backend)
        try:
            return evaluate(engine, load_queries())
        finally:
            engine.close()


def main() -> None:
    backend = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "whoosh"
    summary, per_query = run(backend)
    if "--json" in sys.argv:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print(f"{'kind':<14}{'queries':>8}{'nDCG@10':>10}{'recall@10':>11}{'MRR':>8}")
    for group in ["overall"] + sorted(g for g in summary if g != "overall"):
        s = summary[group]
        print(f"{group:<14}{s['queries']:>8}{s['ndcg@10']:>10.3f}{s['recall@10']:>11.3f}{s['mrr']:>8.3f}")
    if "--show-misses" in sys.argv:
        for item in per_query:
            if item["ndcg@10"] < 0.999:  # type: ignore[operator]
                print(f"\n{item['q']}  [{item['kind']}]  nDCG {item['ndcg@10']:.3f}: {item['ranked']}")


if __name__ == "__main__":
    main()
