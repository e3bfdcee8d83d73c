"""Benchmark: document relations and near-duplicate groups over N generated documents.

Measures a full rebuild of the relations (every document's references extracted, typed and
resolved; every MinHash fingerprint computed; groups and derived validity) and then the sync after
a crawl of 100 new documents that cite, repeal and repost older ones (time per crawled document).

Usage: python bench/relations.py [N]   (default 100000; uses the generated archive of bench/corpus.py,
copied so that the benchmark never changes it).
"""

from __future__ import annotations

import json
import platform
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import CACHE, ensure_archive  # noqa: E402

from archive.catalog import Catalog  # noqa: E402
from archive.transfer import import_documents  # noqa: E402
from index.api import sync_relations  # noqa: E402


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


def _crawl_batch(catalog: Catalog, count: int) -> list[str]:
    """New documents acting on old ones: citing by title, repealing by 文号, reposting whole texts."""
    rng = random.Random(11)
    old = [
        (stored.doc.title, stored.doc.doc_no, stored.doc.body, stored.doc.agency)
        for stored in catalog.iter_documents(until_seq=5000)
    ]
    lines = []
    for i in range(count):
        title, doc_no, body, agency = rng.choice(old)
        if i % 3 == 0:
            text = f"根据《{title}》要求，结合实际，现将有关事项通知如下。" + body[:200]
        elif i % 3 == 1:
            text = f"本办法自2025年1月1日起施行，《{title}》（{doc_no or '余政〔2015〕12号'}）同时废止。" + body[:200]
        else:
            text = f"各镇人民政府、街道办事处：\n现将《{title}》转发给你们，请认真贯彻执行。\n{body}\n{agency}\n2025年3月1日"
        lines.append(
            json.dumps(
                {
                    "url": f"http://bench.example.gov.cn/new/{i}.html",
                    "title": f"关于转发{title}的通知" if i % 3 == 2 else f"关于第{i}号事项的通知",
                    "agency": "余杭区人民政府办公室",
                    "published": "2025-03-01",
                    "category": "通知公告",
                    "text": text,
                },
                ensure_ascii=False,
            )
        )
    return lines


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    settings = ensure_archive(n)
    work = CACHE / f"relations-{n}" / "catalog.sqlite3"
    _copy(settings.catalog_path, work)
    with Catalog(work) as catalog:
        started = time.perf_counter()
        full = sync_relations(catalog, rebuild=True)
        rebuild_s = time.perf_counter() - started
        import_documents(catalog, _crawl_batch(catalog, 100))
        started = time.perf_counter()
        after = sync_relations(catalog)
        crawl_s = time.perf_counter() - started
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}")
    print(f"documents: {n}")
    print(f"full rebuild: {rebuild_s:.1f} s ({n / rebuild_s:.0f} documents/s)")
    print(f"  {full.references} references, {full.resolved} resolved")
    print(f"  groups: {full.groups}; derived fields: {full.derived_changed}")
    print(
        f"after a crawl of 100 documents: {crawl_s:.2f} s ({crawl_s * 10:.1f} ms per crawled document); "
        f"{after.references - full.references} new references, groups {after.groups}"
    )


if __name__ == "__main__":
    main()
