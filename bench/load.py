"""Benchmark: the running site under load. gunicorn (several workers) serves a generated archive of N
documents; a second process drives a mix of realistic requests over loopback for a fixed time.

Prints requests/s, p50/p95/p99 latency, the error count and each worker's memory (RSS).

Usage: python bench/load.py [N] [--seconds S] [--workers W] [--clients C] [--backend whoosh|tantivy]
(default 10000, 60 s, 4, 4, whoosh; the site follows the engine the archive's index was built with)
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ensure_archive  # noqa: E402
from search import query_mix, rss_mb  # noqa: E402


def _arg(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request_paths(n: int, doc_ids: list[str]) -> list[str]:
    """The mix: the search page (most), its JSON twin, document pages, feeds, a help page."""
    rng = random.Random(5)
    paths = []
    for req in query_mix(n):
        params = {"q": req.q, **req.filters}
        if req.sort != "relevance":
            params["sort"] = req.sort
        if req.page > 1:
            params["page"] = str(req.page)
        if req.date_from:
            params["from"], params["to"] = req.date_from.isoformat(), req.date_to.isoformat()  # type: ignore[union-attr]
        roll = rng.random()
        if roll < 0.6:
            paths.append("/?" + urlencode(params))
        elif roll < 0.8:
            paths.append("/search.json?" + urlencode(params))
        elif roll < 0.95:
            paths.append(f"/doc/{rng.choice(doc_ids)}")
        elif roll < 0.98:
            paths.append("/feed.atom?" + urlencode({"q": req.q}))
        else:
            paths.append("/help")
    return paths


def drive(port: int, paths: list[str], seconds: float, clients: int, out: multiprocessing.Queue[tuple]) -> None:
    """The load process: `clients` threads in a closed loop until the time is up."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        i = offset
        while time.monotonic() < stop_at:
            path = paths[i % len(paths)]
            i += clients
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status in (200, 302)  # a 文号 query redirects to its document
                status = str(response.status)
            except OSError as exc:
                ok, status = False, type(exc).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(f"{status} {path}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors))


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else 10_000
    seconds, workers, clients = _arg("--seconds", 60), _arg("--workers", 4), _arg("--clients", 4)
    backend = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "whoosh"
    settings = ensure_archive(n, backend)
    from archive.catalog import Catalog

    with Catalog(settings.catalog_path) as catalog:
        doc_ids = [row[0] for row in catalog.conn.execute("SELECT id FROM documents ORDER BY seq LIMIT 2000")]
    port = _free_port()
    env = {**os.environ, "XXGK_DATA_DIR": str(settings.data_path)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--limit-request-line",  # as the site's own worker sets it: the mix pastes 480-character paragraphs
            "8190",
            "--log-level",
            "warning",
            "search_web.wsgi:app",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not come up")
            time.sleep(0.3)
        paths = request_paths(3000, doc_ids)
        warm: multiprocessing.Queue[tuple] = multiprocessing.Queue()
        drive(port, paths[-200:], 10, workers, warm)  # every worker opens its searcher and warms its caches
        warm.get()
        out: multiprocessing.Queue[tuple] = multiprocessing.Queue()
        loader = multiprocessing.Process(target=drive, args=(port, paths, seconds, clients, out))
        loader.start()
        latencies, errors = out.get()
        loader.join()
        rss = [rss_mb(pid) for pid in _children(server.pid)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]  # noqa: E731
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · {date.today()}")
    print(f"{n:,} documents · {backend} · gunicorn -w {workers} · {clients} clients · {seconds} s")
    print(f"requests: {len(latencies)} ({len(latencies) / seconds:.1f}/s) · errors: {len(errors)}")
    print(f"p50 {pct(50):.0f} ms · p95 {pct(95):.0f} ms · p99 {pct(99):.0f} ms · max {latencies[-1]:.0f} ms")
    print("worker RSS: " + ", ".join(f"{mb:.0f} MB" for mb in rss))
    for line in errors[:5]:
        print("  error:", line)


if __name__ == "__main__":
    main()
