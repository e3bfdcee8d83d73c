"""Advisory file locks between processes (crawl of a source, the scheduler, the index writer).

A lock is `flock` on a file under `<data_dir>/locks/`; the kernel drops it when its process dies, so a
killed crawl never leaves a stale lock. The holder writes who it is into the file, so a refused
caller can say who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.errors import LockHeld


class FileLock:
    """An exclusive, non-reentrant lock on `<directory>/<name>.lock`."""

    def __init__(self, directory: Path, name: str, what: str) -> None:
        self.path = Path(directory) / f"{name}.lock"
        self.what = what
        self._fd: int | None = None

    def holder(self) -> dict[str, Any]:
        """Who holds (or last held) the lock, as written into the file."""
        try:
            return json.loads(self.path.read_text("utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self, wait_s: float = 0.0) -> FileLock:
        """Take the lock, waiting up to `wait_s`; raises LockHeld naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockHeld(self.what, self.holder()) from None
                time.sleep(0.05)
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(["xxgk", *sys.argv[1:]])[:200],
            "since": datetime.now(UTC).replace(microsecond=0).isoformat(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me, ensure_ascii=False).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> FileLock:
        return self if self._fd is not None else self.acquire()  # `with lock.acquire(wait_s=...)` works too

    def __exit__(self, *exc: object) -> None:
        self.release()


def source_lock(data_dir: Path, source_id: str) -> FileLock:
    """The lock every crawl of `source_id` takes, whichever process runs it."""
    return FileLock(Path(data_dir) / "locks", f"source-{source_id}", f"来源 {source_id} 的抓取锁")


def scheduler_lock(data_dir: Path) -> FileLock:
    return FileLock(Path(data_dir) / "locks", "scheduler", "此数据目录的调度器锁")


def index_lock(data_dir: Path) -> FileLock:
    return FileLock(Path(data_dir) / "locks", "index", "索引写入锁")
