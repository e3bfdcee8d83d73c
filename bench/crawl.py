"""Benchmark: the crawler's own cost, detail pages parsed and archived per second.

The demo portal runs in a separate process (as a real portal would); delays are 0; every WARC record
and catalog row is fsynced as in production. Printed per run: wall-clock rate, and the CPU the crawl
used (the crawler process, and its attachment-text worker) as pages per CPU-second, i.e. on one core.
Usage: python bench/crawl.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.catalog import Catalog
from archive.settings import load_settings
from archive.store import WarcStore
from crawler.attachments import AttachmentWorker
from crawler.run import crawl_source
from crawler.sources import load_sources
from xxgk.demo import demo_sources_dir

SERVE = (
    "import sys, time; from xxgk.demo.server import DemoPortal; p = DemoPortal(); "
    "print(p.serve('127.0.0.1', 0), flush=True); time.sleep(3600)"
)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    portal = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, text=True)
    try:
        url = portal.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(env={}, overrides={"data_dir": tmp, "crawl_delay_s": 0.0})
            store = WarcStore(Path(settings.warc_dir))
            with Catalog(settings.catalog_path) as catalog:
                for label in ("first crawl", "recrawl (unchanged)"):
                    started, own, worker_cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
                    pages = requests = 0
                    # One worker per run, as `xxgk crawl --all` does; it exits (and is counted) at the end.
                    with AttachmentWorker(settings.attachment_timeout_s, settings.attachment_memory_mb) as worker:
                        for source in load_sources([demo_sources_dir()]).values():
                            report = crawl_source(source.with_base_url(url), settings, catalog, store, worker=worker)
                            pages += report.new + report.changed + report.unchanged
                            requests += report.requests
                    elapsed = time.perf_counter() - started
                    own = _cpu(resource.RUSAGE_SELF) - own
                    worker_cpu = _cpu(resource.RUSAGE_CHILDREN) - worker_cpu
                    print(
                        f"{label}: {pages} detail pages, {requests} requests in {elapsed:.2f} s: "
                        f"{pages / elapsed:.1f} detail pages/s, {requests / elapsed:.1f} requests/s; "
                        f"CPU {own:.2f} s crawler + {worker_cpu:.2f} s attachment worker = "
                        f"{pages / (own + worker_cpu):.1f} detail pages per CPU-second"
                    )
    finally:
        portal.kill()
        portal.wait()


if __name__ == "__main__":
    main()
