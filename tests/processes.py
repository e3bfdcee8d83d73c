"""Helpers for tests that run real processes: their environment, a free port, and waiting for an event."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def process_env(**extra: str) -> dict[str, str]:
    """The environment for an `xxgk` child process: fast polls and retries, no sources unless given."""
    return {**os.environ, "XXGK_SCHEDULER_POLL_S": "0.5", "XXGK_SOURCES_DIR": "", "XXGK_RETRY_BASE_S": "0.05", **extra}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    """Poll `condition` until it is true (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def http_status(url: str) -> int | None:
    """The status of a GET to `url`, or None when nothing answers."""
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def start_gunicorn(port: int, workers: int, **env: str) -> subprocess.Popen[str]:
    """`gunicorn -w WORKERS search_web.wsgi:app` on loopback `port`, as docs/deploy.md runs it (output piped)."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", str(workers), "-b", f"127.0.0.1:{port}", "search_web.wsgi:app"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(**env),
    )
