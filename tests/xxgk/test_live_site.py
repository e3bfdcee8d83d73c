"""The site under gunicorn stays right while the scheduler crawls a portal that keeps changing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from archive.catalog import Catalog
from archive.store import WarcStore
from crawler.run import crawl_source
from crawler.sources import load_sources
from index.api import MAX_PAGE_SIZE, SearchRequest
from index.build import META_FILE
from index.whoosh.engine import WhooshEngine
from index.whoosh.sync import rebuild
from tests.conftest import make_settings, write_sources
from tests.processes import free_port, process_env, wait_for
from xxgk.demo import demo_sources_dir
from xxgk.demo.server import DemoPortal

POLL_S = 0.5
QUERIES = {
    "工作推进会": SearchRequest(q="工作推进会"),
    "更正": SearchRequest(q="更正"),
    "撤回": SearchRequest(q="", filters={"status": "withdrawn"}),
}


def _params(query: SearchRequest) -> dict[str, str]:
    return {"q": query.q, "size": str(MAX_PAGE_SIZE), **query.filters}


def _expected(index_path: Path, query: SearchRequest) -> tuple[int, list[str]]:
    engine = WhooshEngine(index_path)
    try:
        result = engine.search(replace(query, page_size=MAX_PAGE_SIZE))
        return result.total, sorted(h.id for h in result.hits)
    finally:
        engine.close()


def _synced(settings, after_run: int) -> bool:  # type: ignore[no-untyped-def]
    """A run that started after `after_run` has finished and the index has every catalog change."""
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        runs = [r for r in catalog.runs("demo-wjw") if r["id"] > after_run and r["finished_at"]]
        seq = catalog.max_seq()
    try:
        meta = json.loads((settings.index_path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(runs) and meta.get("catalog_seq") == seq


def _last_run(settings) -> int:  # type: ignore[no-untyped-def]
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        runs = catalog.runs("demo-wjw")
    return runs[-1]["id"] if runs else 0


@pytest.mark.slow
def test_gunicorn_workers_follow_scheduled_crawls_of_a_changing_portal(tmp_path: Path) -> None:
    portal = DemoPortal()
    portal.serve()
    source = load_sources([demo_sources_dir()])["demo-wjw"].with_base_url(portal.url)
    sources = write_sources({"demo-wjw": source}, tmp_path / "sources", **{'schedule = "35 2 * * *"': 'schedule = "* * * * * *"'})
    settings = make_settings(tmp_path / "data")
    with Catalog(settings.catalog_path) as catalog:
        crawl_source(source, settings, catalog, WarcStore(settings.warc_dir))
        rebuild(settings, catalog)
    port = free_port()
    env = process_env(XXGK_DATA_DIR=str(settings.data_path), XXGK_SCHEDULER_POLL_S=str(POLL_S))
    web = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{port}", "search_web.wsgi:app"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "xxgk", "--data-dir", str(settings.data_path), "scheduler", "--sources-dir", str(sources)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        """Searches all the time from two clients at once (so both workers serve), checking each answer."""
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                for name, query in QUERIES.items():
                    response = client.get("/search.json", params=_params(query))
                    statuses[response.status_code] += 1
                    if response.status_code != 200:
                        problems.append(f"{name}: HTTP {response.status_code} {response.text[:200]}")
                        continue
                    ids = [h["id"] for h in response.json()["hits"]]
                    if len(ids) != len(set(ids)):
                        problems.append(f"{name}: an id twice: {sorted(i for i, n in Counter(ids).items() if n > 1)}")

    workers_seen: set[int] = set()
    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(2)]
    try:
        assert wait_for(lambda: _health(base) is not None, 60), "the site did not start"
        for t in threads:
            t.start()
        for step in range(1, 6):
            mark = _last_run(settings)
            portal.churn(step)
            portal.publish(date(2026, 11, 1) + timedelta(days=step))
            assert wait_for(lambda mark=mark: _synced(settings, mark), 60), f"no scheduled crawl and sync after change {step}"
            for name, query in QUERIES.items():
                expected = _expected(settings.index_path, query)
                # Both workers, right after the sync: each answers what a freshly opened engine answers.
                answers: dict[int, tuple[int, list[str]]] = {}
                deadline = time.monotonic() + 30
                while len(answers) < 2 and time.monotonic() < deadline:
                    with httpx.Client(base_url=base, timeout=30) as client:
                        pid = client.get("/healthz").json()["worker_pid"]
                        body = client.get("/search.json", params=_params(query)).json()
                    answers.setdefault(pid, (body["total"], sorted(h["id"] for h in body["hits"])))
                workers_seen |= set(answers)
                for pid, got in answers.items():
                    assert got == expected, f"change {step}, {name}: worker {pid} answered {got[0]}, fresh engine {expected[0]}"
            health = _health(base)
            assert health and health["documents"] == health["catalog_documents"], health
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        for proc in (scheduler, web):
            proc.send_signal(signal.SIGTERM)
        for proc in (scheduler, web):
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        portal.stop()
    assert not problems, problems[:5]
    assert statuses[200] > 20
    assert len(_runs_finished(settings)) >= 6
    assert len(workers_seen) == 2


def _health(base: str) -> dict | None:  # type: ignore[type-arg]
    try:
        return httpx.get(base + "/healthz", timeout=10).json()  # type: ignore[no-any-return]
    except (httpx.HTTPError, ValueError):
        return None


def _runs_finished(settings) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        return [r for r in catalog.runs("demo-wjw") if r["finished_at"]]
