"""Benchmark: rebuild the index of N generated documents with each engine, from the same catalog, one run.

Whoosh is `index.whoosh.sync.rebuild` (our bulk writer), tantivy is `index.tantivy.writer.rebuild`
(the same analysis in forked workers, tantivy indexing in the parent). The catalog is the bench
archive of `bench/corpus.py`; each index is built into a temporary data directory.

Usage: python bench/tantivy_build.py [N ...] [--only tantivy]   (default 10000 100000)
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import CACHE  # noqa: E402
from import_export import make_lines  # noqa: E402

from archive.catalog import Catalog  # noqa: E402
from archive.settings import load_settings  # noqa: E402
from archive.transfer import import_documents  # noqa: E402


def catalog_of(n: int) -> Path:
    """A catalog of `n` generated documents, kept between runs."""
    path = CACHE / f"catalog-{n}.sqlite3"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with Catalog(path.with_suffix(".tmp")) as catalog:
            import_documents(catalog, iter(make_lines(n)))
        os.replace(path.with_suffix(".tmp"), path)
    return path


def size_mb(where: Path) -> float:
    return sum(p.stat().st_size for p in where.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    from index.tantivy.writer import rebuild as tantivy_rebuild
    from index.whoosh.sync import rebuild as whoosh_rebuild

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    args = [a for a in args if a != only]
    sizes = [int(a) for a in args] or [10_000, 100_000]
    engines = {"whoosh": whoosh_rebuild, "tantivy": tantivy_rebuild}
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · {date.today()}")
    print("| documents | engine | rebuild | docs/s | index MB | MB per 1,000 docs |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in sizes:
        with Catalog(catalog_of(n), readonly=True) as catalog:
            for name, rebuild in engines.items():
                if only and name != only:
                    continue
                with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
                    settings = load_settings(env={}, overrides={"data_dir": tmp})
                    started = time.perf_counter()
                    count = rebuild(settings, catalog)
                    spent = time.perf_counter() - started
                    mb = size_mb(settings.index_path.resolve())
                    print(
                        f"| {n:,} | {name} | {spent:.1f} s | {count / spent:,.0f} | {mb:,.0f} | {mb * 1000 / n:.2f} |", flush=True
                    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the parent: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
