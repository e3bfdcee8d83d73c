"""Benchmark: rebuild the index of N generated documents with each engine, from the same catalog, one run.

Whoosh is `index.whoosh.sync.rebuild` (our bulk writer), tantivy is `index.tantivy.writer.rebuild`
(one process per core, each analysing and indexing its range of the catalog, then joined). Each
engine rebuilds the bench archive of `bench/corpus.py` (`bench/.cache/archive-N[-tantivy]`), which is
then ready for `bench/search.py`, `bench/freshness.py` and `bench/load.py`. Prints the time, the
speed, and disk per 1,000 documents for the catalog and each index.

Usage: python bench/tantivy_build.py [N ...] [--only whoosh|tantivy] [--limit-s S]   (default 10000 100000)
With --limit-s, an engine's rebuild is stopped after S seconds and the documents it had indexed by
then are reported instead (issue #18 asks for Whoosh's figure at 1M or the point where it passed an hour).
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import shutil
import signal
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import archive_settings, catalog_of  # noqa: E402

from archive.catalog import Catalog  # noqa: E402


def size_mb(where: Path) -> float:
    return sum(p.stat().st_size for p in where.rglob("*") if p.is_file()) / 1e6


def _rebuild(n: int, engine: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """In a child process (so a time limit can stop it): rebuild, reporting progress and the end."""
    from index.api import index_writer

    os.setpgid(0, 0)  # its own process group, with the workers it forks: a time limit stops them all
    settings = archive_settings(n, engine)
    (settings.data_path / "ready").unlink(missing_ok=True)
    with Catalog(settings.catalog_path) as catalog:
        count = index_writer(settings, engine).rebuild(catalog, lambda done: out.put(("progress", done)))
    (settings.data_path / "ready").write_text("bench/tantivy_build.py\n")
    out.put(("done", count))


def main() -> None:
    args = sys.argv[1:]
    only = args[args.index("--only") + 1] if "--only" in args else ""
    limit = float(args[args.index("--limit-s") + 1]) if "--limit-s" in args else 0.0
    sizes = [int(a) for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))]
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · {date.today()}")
    print("| documents | engine | rebuild | docs/s | catalog MB per 1,000 | index MB | index MB per 1,000 | parent peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in sizes or [10_000, 100_000]:
        catalog_mb = catalog_of(n).stat().st_size / 1e6
        for engine in ("whoosh", "tantivy"):
            if only and engine != only:
                continue
            settings = archive_settings(n, engine)
            out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            child = multiprocessing.get_context("fork").Process(target=_rebuild, args=(n, engine, out))
            started = time.perf_counter()
            child.start()
            done, count = 0, None
            while count is None and child.exitcode is None or not out.empty():
                left = limit - (time.perf_counter() - started) if limit else 5.0
                if limit and left <= 0:
                    break
                try:
                    kind, value = out.get(timeout=min(5.0, max(0.1, left)))
                except Exception:  # queue.Empty: look at the clock and the child again
                    continue
                if kind == "progress":
                    done = value
                else:
                    count = value
            spent = time.perf_counter() - started
            if count is None:  # over the limit (or failed): stop it and its workers, report how far it got
                assert child.pid is not None
                os.killpg(child.pid, signal.SIGKILL)
                child.join()
                for partial in settings.data_path.glob(settings.index_path.name + "-*"):
                    if partial != settings.index_path.resolve():
                        shutil.rmtree(partial)
                row = f"| {n:,} | {engine} | stopped at {spent:.0f} s: {done:,} indexed | {done / spent:,.0f} |"
                print(row + " | | | |", flush=True)
                continue
            child.join()
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            index_mb = size_mb(settings.index_path.resolve())
            print(
                f"| {n:,} | {engine} | {spent:.1f} s | {count / spent:,.0f} | {catalog_mb * 1000 / n:.2f} | {index_mb:,.0f} |"
                f" {index_mb * 1000 / n:.2f} | {peak:,.0f} MB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
