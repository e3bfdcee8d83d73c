"""Benchmark: index N generated documents with the project's build and with the naive build, same corpus.

The naive build is the obvious one: jieba's stock `ChineseAnalyzer` on title and body, the default
Whoosh writer, one process. The project's build is `index.whoosh.sync.rebuild` (normalisation, domain
dictionary, words with sub-words, bigram fields, structured 文号, two writer processes), reading the
documents from the catalog as in production. Then the incremental step: 100 new documents added
and made searchable in the larger index.

Usage: python bench/index_build.py [N ...] [--writer-mb MB] [--skip-naive]   (default 10000 100000, 1024 MB)
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import CACHE  # noqa: E402
from import_export import make_lines  # noqa: E402

from archive.catalog import Catalog  # noqa: E402
from archive.models import Document  # noqa: E402
from archive.settings import load_settings  # noqa: E402
from archive.transfer import import_documents  # noqa: E402


def naive_build(catalog: Catalog, where: Path) -> float:
    import logging

    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    jieba.setLogLevel(logging.WARNING)
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=ChineseAnalyzer(), stored=True),
        body=TEXT(analyzer=ChineseAnalyzer()),
    )
    where.mkdir()
    started = time.perf_counter()
    ix = index.create_in(str(where), schema)
    with ix.writer() as writer:
        for stored in catalog.iter_documents():
            writer.add_document(id=stored.id, title=stored.doc.title, body=stored.doc.body)
    return time.perf_counter() - started


def our_build(catalog: Catalog, data_dir: Path, writer_mb: int) -> float:
    from index.whoosh.sync import rebuild

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir), "index_writer_mb": writer_mb})
    started = time.perf_counter()
    rebuild(settings, catalog)
    return time.perf_counter() - started


def incremental(catalog: Catalog, data_dir: Path) -> float:
    """Seconds to add 100 documents to the catalog and make them searchable (index sync + reopen)."""
    from index.api import SearchRequest
    from index.whoosh.engine import WhooshEngine
    from index.whoosh.sync import sync

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    engine = WhooshEngine(settings.index_path)
    started = time.perf_counter()
    for i in range(100):
        catalog.record_document(
            Document(
                source_id="bench",
                url=f"http://bench.example.gov.cn/new/{i}.html",
                title=f"新增测试文件第{i}号 增量索引验证",
                body=f"增量索引验证正文 编号{i}。",
                published=date(2026, 11, 1),
                agency="余杭区民政局",
            ),
            None,
        )
    sync(settings, catalog)
    engine.refresh()
    found = engine.search(SearchRequest(q="增量索引验证")).total
    elapsed = time.perf_counter() - started
    assert found == 100, found
    engine.close()
    return elapsed


def main() -> None:
    argv = sys.argv[1:]
    writer_mb = int(argv[argv.index("--writer-mb") + 1]) if "--writer-mb" in argv else 1024
    if "--writer-mb" in argv:
        del argv[argv.index("--writer-mb") : argv.index("--writer-mb") + 2]
    args = [a for a in argv if not a.startswith("--")]
    sizes = [int(a) for a in args] or [10_000, 100_000]
    skip_naive = "--skip-naive" in sys.argv
    print(
        f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · {date.today()}"
        f" · index_writer_mb={writer_mb}"
    )
    print("| documents | naive build | docs/s | our build | docs/s | ratio | +100 docs searchable |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n in sizes:
        data = CACHE / f"archive-{n}"
        data.mkdir(parents=True, exist_ok=True)
        (data / "ready").unlink(missing_ok=True)
        catalog = Catalog(data / "catalog.sqlite3")
        if catalog.count() < n:
            import_documents(catalog, make_lines(n))
        with tempfile.TemporaryDirectory() as tmp:
            naive = None if skip_naive else naive_build(catalog, Path(tmp) / "naive")
        ours = our_build(catalog, data, writer_mb)
        inc = incremental(catalog, data)
        catalog.close()
        (data / "ready").write_text(f"{ours:.1f}\n")  # bench/search.py and bench/load.py reuse this archive
        naive_cells = f"{naive:.1f} s | {n / naive:.0f}" if naive else "— | —"
        ratio = f"{naive / ours:.2f}x" if naive else "—"
        print(f"| {n:,} | {naive_cells} | {ours:.1f} s | {n / ours:.0f} | {ratio} | {inc:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
