"""Benchmark: how soon new documents are found. A long-running engine, as the site's, serves a copy of
the archive of N documents; K new documents are imported into the copy's catalog and the index is
synced, as after a crawl; the time until the engine's next search finds all K is measured, split into
the import, the sync and the site's next request (the engine's refresh, which opens the new index,
then the search).

Usage: python bench/freshness.py [N] [--backend whoosh|tantivy] [--new K] [--rounds R]   (default 100000, whoosh, 100, 3)
The copy (bench/.cache/fresh-N-backend) shares the index's files by hard links (neither engine
rewrites a file in place) and has its own catalog; it is made again on every run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import CACHE, ensure_archive  # noqa: E402
from search import query_mix  # noqa: E402

from archive.catalog import Catalog  # noqa: E402
from archive.settings import Settings, load_settings  # noqa: E402
from archive.transfer import import_documents  # noqa: E402


def _arg(name: str, default: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def copy_archive(base: Settings, n: int, backend: str) -> Settings:
    """A copy of a bench archive: its own catalog, the index's files hard-linked."""
    data = CACHE / f"fresh-{n}-{backend}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    settings = load_settings(env={}, overrides={"data_dir": str(data), "index_backend": backend})
    with Catalog(base.catalog_path, readonly=True) as source:
        source.conn.execute("VACUUM INTO ?", (str(settings.catalog_path),))
    index_dir = base.index_path.resolve()
    target = settings.index_path.with_name(index_dir.name)
    target.mkdir()
    for path in index_dir.iterdir():
        if path.is_file():
            os.link(path, target / path.name)
    settings.index_path.symlink_to(target.name)
    return settings


def new_lines(count: int, marker: str) -> list[str]:
    """`count` new documents, each holding `marker` (a word no generated document has)."""
    return [
        json.dumps(
            {
                "url": f"http://bench.example.gov.cn/fresh/{marker}/{i}.html",
                "title": f"关于{marker}工作的通知（第{i}号）",
                "agency": "余杭区民政局",
                "published": date.today().isoformat(),
                "category": "通知公告",
                "text": f"为做好{marker}工作，现将有关事项通知如下。一、{marker}由各镇街组织实施。二、本通知自印发之日起施行。",
            },
            ensure_ascii=False,
        )
        for i in range(count)
    ]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else 100_000
    backend, count, rounds = _arg("--backend", "whoosh"), int(_arg("--new", "100")), int(_arg("--rounds", "3"))
    from index.api import SearchRequest, index_writer, open_backend

    settings = copy_archive(ensure_archive(n, backend), n, backend)
    engine = open_backend(settings)
    for req in query_mix(50):  # a warm, long-running engine, as the site's
        engine.search(req)
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · {date.today()}")
    print(f"{n:,} documents · {engine.status().backend} · {count} new documents a round")
    print("| round | import | sync | next request (refresh + search) | new documents searchable after |")
    print("| --- | --- | --- | --- | --- |")
    totals = []
    for r, marker in enumerate(["鲟鱼增殖放流", "古树名木养护", "河湖长巡河"][:rounds]):
        request = SearchRequest(q=f'"{marker}"')  # quoted: the exact string only, no relaxed matches
        assert engine.search(request).total == 0, marker
        started = time.perf_counter()
        with Catalog(settings.catalog_path) as catalog:
            import_documents(catalog, new_lines(count, marker))
            imported = time.perf_counter()
            index_writer(settings).sync(catalog)
        synced = time.perf_counter()
        engine.refresh()  # as the site does before each request
        found = engine.search(request).total
        done = time.perf_counter()
        if found != count:
            raise SystemExit(f"round {r + 1}: the engine found {found} of the {count} new documents")
        totals.append(done - started)
        print(
            f"| {r + 1} | {(imported - started) * 1000:.0f} ms | {(synced - imported) * 1000:.0f} ms"
            f" | {(done - synced) * 1000:.0f} ms | {(done - started) * 1000:.0f} ms |",
            flush=True,
        )
    print(f"median: {statistics.median(totals) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
