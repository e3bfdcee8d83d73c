"""Benchmark: the crawler's own cost, detail pages parsed and archived per second.

The demo portal runs in a separate process (as a real portal would); delays are 0; every WARC record
and catalog row is fsynced as in production. Usage: python bench/crawl.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.catalog import Catalog
from archive.settings import load_settings
from archive.store import WarcStore
from crawler.run import crawl_source
from crawler.sources import demo_sources_dir, load_sources

SERVE = ("import sys, time; from crawler.demo_portal.server import DemoPortal; p = DemoPortal(); "
         "print(p.serve('127.0.0.1', 0), flush=True); time.sleep(3600)")


def main() -> None:
    portal = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, text=True)
    try:
        url = portal.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(env={}, overrides={"data_dir": tmp, "crawl_delay_s": 0.0})
            store = WarcStore(Path(settings.warc_dir))
            with Catalog(settings.catalog_path) as catalog:
                for label in ("first crawl", "recrawl (unchanged)"):
                    started = time.perf_counter()
                    pages = requests = 0
                    for source in load_sources([demo_sources_dir()]).values():
                        report = crawl_source(source.with_base_url(url), settings, catalog, store)
                        pages += report.new + report.changed + report.unchanged
                        requests += report.requests
                    elapsed = time.perf_counter() - started
                    print(f"{label}: {pages} detail pages, {requests} requests in {elapsed:.1f} s: "
                          f"{pages / elapsed:.1f} detail pages/s, {requests / elapsed:.1f} requests/s")
    finally:
        portal.kill()


if __name__ == "__main__":
    main()
