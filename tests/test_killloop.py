"""Kill loop: SIGKILL a real crawl-and-index process at random moments; nothing archived is ever lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from archive.catalog import Catalog
from tests.conftest import Crawled, warcio_check, write_sources

KILLS = 20
CLI = [sys.executable, "-c", "from xxgk.cli import main; main()"]


def _state(catalog_path: Path) -> dict[str, str]:
    if not catalog_path.exists():
        return {}
    with Catalog(catalog_path) as catalog:
        return {
            row[0]: row[1]
            for row in catalog.conn.execute("SELECT d.id, v.digest FROM documents d JOIN versions v ON v.id = d.current_version")
        }


def test_sigkill_loop_loses_nothing_and_converges(crawled: Crawled, tmp_path: Path) -> None:
    sources = write_sources(crawled.sources, tmp_path / "sources")
    data = tmp_path / "data"
    crawl = [*CLI, "--data-dir", str(data), "crawl", "--all", "--sources-dir", str(sources)]
    verify = [*CLI, "--data-dir", str(data), "verify"]
    rng = random.Random(20170328)
    archived: dict[str, str] = {}
    kills = 0
    for _ in range(KILLS):
        process = subprocess.Popen(crawl, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 6.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        check = subprocess.run(verify, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        now = _state(data / "catalog.sqlite3")
        missing = set(archived) - set(now)
        assert not missing, f"{len(missing)} archived documents lost after a kill"
        archived = now
    assert kills >= KILLS // 2, "most runs should have been killed mid-way"
    final = subprocess.run(crawl, capture_output=True, text=True)
    assert final.returncode == 0, final.stdout + final.stderr
    assert subprocess.run(verify, capture_output=True, text=True).returncode == 0
    assert _state(data / "catalog.sqlite3") == _state(crawled.settings.catalog_path)
    with Catalog(data / "catalog.sqlite3") as catalog:
        runs = catalog.runs()
        assert {r["status"] for r in runs} <= {"ok", "interrupted", "running"}
        assert runs[-1]["status"] == "ok"
    from index.whoosh.engine import WhooshEngine

    engine = WhooshEngine(data / "index")
    assert engine.doc_count() == len(_state(data / "catalog.sqlite3"))
    engine.close()
    assert not list((data / "warc").glob("*.open"))
    assert warcio_check(sorted((data / "warc").glob("*.warc.gz"))).returncode == 0
