"""robots.txt rules per host, shared by every source crawled on that host within one run (or a time window)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from protego import Protego

from crawler.errors import FetchError


@dataclass(frozen=True)
class RobotsRules:
    """What a host's robots.txt says: a parser, or allow/deny all (with why it could not be read)."""

    parser: Protego | None
    allow_all: bool
    failure: FetchError | None = None


class RobotsCache:
    """Rules by scheme://host:port, each read once per `ttl_s` however many sources share the host.

    `xxgk crawl` keeps one for its whole invocation; the scheduler one for its process, so that the
    sources of one portal crawled the same hour ask for robots.txt once. Thread-safe: two crawls
    needing the same host's rules at once read robots.txt once between them.
    """

    def __init__(self, ttl_s: float = 3600.0) -> None:
        self.ttl_s = ttl_s
        self._rules: dict[str, tuple[RobotsRules, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, host_key: str, load: Callable[[], RobotsRules]) -> RobotsRules:
        """The host's rules, calling `load` (which fetches and archives robots.txt) when none are fresh."""
        with self._guard:
            lock = self._locks.setdefault(host_key, threading.Lock())
        with lock:
            cached = self._rules.get(host_key)
            if cached is not None and time.monotonic() - cached[1] < self.ttl_s:
                return cached[0]
            rules = load()
            self._rules[host_key] = (rules, time.monotonic())
            return rules

    def peek(self, host_key: str) -> RobotsRules | None:
        """The host's rules if already read (no fetch)."""
        cached = self._rules.get(host_key)
        return cached[0] if cached else None
