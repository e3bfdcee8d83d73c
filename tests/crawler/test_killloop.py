"""Kill loop: SIGKILL a real crawl-and-index process at random moments; nothing archived is ever lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

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


def _run_until(command: list[str], phase: str, nth: int) -> str:
    """Run `command`, reading its log; SIGKILL it right after its `nth` line of `phase` ("crawl": a page
    processed; "index": an index sync or rebuild begun). Returns the phase the kill landed in, or "" when
    the process ended first (it then finished on its own)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = 0
    landed = ""
    for line in process.stderr:
        if (
            phase == "crawl"
            and ": processed " in line
            or phase == "index"
            and ("index sync started" in line or "index rebuild started" in line)
        ):
            seen += 1
            if seen == nth:
                os.kill(process.pid, signal.SIGKILL)
                landed = phase
                break
    process.stderr.close()
    process.wait()
    # A kill that raced the process's own exit did not land.
    return landed if process.returncode == -signal.SIGKILL else ""


@pytest.mark.slow
def test_sigkill_loop_loses_nothing_and_converges(crawled: Crawled, tmp_path: Path) -> None:
    sources = write_sources(crawled.sources, tmp_path / "sources")
    data = tmp_path / "data"
    crawl = [*CLI, "-vv", "--data-dir", str(data), "crawl", "--all", "--sources-dir", str(sources)]
    verify = [*CLI, "--data-dir", str(data), "verify"]
    rng = random.Random(20170328)
    archived: dict[str, str] = {}
    landed = []
    for k in range(KILLS):
        # Every fourth kill waits for the index writer; the others land after a random number of pages.
        phase = "index" if k % 4 == 3 else "crawl"
        landed.append(_run_until(crawl, phase, 1 if phase == "index" else rng.randint(1, 120)))
        check = subprocess.run(verify, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        now = _state(data / "catalog.sqlite3")
        missing = set(archived) - set(now)
        assert not missing, f"{len(missing)} archived documents lost after a kill"
        archived = now
    # What the loop can know: which kills landed in a crawl and which in an index write, from the
    # process's own log (a run that finished first lost nothing either, and is not counted).
    assert "crawl" in landed and "index" in landed, landed
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
