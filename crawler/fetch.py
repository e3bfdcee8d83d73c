"""The only module doing HTTP: robots.txt, per-host delay, guards, caps, conditional GET, archiving."""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from archive.catalog import Catalog, utcnow
from archive.errors import BodyEncodingError
from archive.settings import Settings
from archive.store import WarcSession, WarcStore, decode_content_encoding
from crawler.errors import FetchError
from crawler.robots import RobotsCache, RobotsRules

log = logging.getLogger(__name__)

REDIRECTS = {301, 302, 303, 307, 308}
RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_REASONS = {"timeout", "connect", "http"}
# Phrases of WAF and rate-limit pages that some portals send with status 200.
ANTI_BOT_MARKERS = ("访问过于频繁", "请求过于频繁", "访问受限", "安全验证", "请开启JavaScript", "请启用JavaScript")
ANTI_BOT_MAX_BYTES = 20_000
BACKOFF_CAP_S = 60.0
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass
class FetchResult:
    """A fetched (or re-read, on 304) response; `body` has content-encoding removed."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    capture_id: int | None = None
    record_id: str = ""
    truncated: str = ""
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type")


def payload_digest(data: bytes) -> str:
    """WARC payload digest as warcio writes it: sha1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every fetcher (loading the CA bundle costs ~40 ms each time)."""
    return httpx.create_ssl_context()


class Fetcher:
    """Fetches URLs for one source in one crawl run, archiving every response before returning it."""

    def __init__(
        self,
        settings: Settings,
        store: WarcStore,
        session: WarcSession,
        catalog: Catalog,
        run_id: int | None,
        allowed_hosts: tuple[str, ...],
        allow_private: bool = False,
        delay_s: float | None = None,
        robots: RobotsCache | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.session = session
        self.catalog = catalog
        self.run_id = run_id
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.allow_private = allow_private
        self.delay_s = settings.crawl_delay_s if delay_s is None else delay_s
        self.robots = robots if robots is not None else RobotsCache()
        self._last_request: dict[str, float] = {}
        self._capped: set[str] = set()
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.request_timeout_s),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
            verify=_tls_context(),
        )
        self.request_count = 0
        self.before_wait: Callable[[], None] | None = None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- guards -----------------------------------------------------------------------------------
    def check_url(self, url: str) -> None:
        """Scheme, host allow-list and egress guard; raises FetchError(reason="egress")."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"refusing non-http URL {url}", "only http(s) links are crawled", "egress")
        host = parts.hostname.lower()
        if host not in self.allowed_hosts:
            raise FetchError(
                f"host {host} is not allowed for this source", "add it to allowed_hosts in the source file", "egress"
            )
        if self.allow_private:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
        except socket.gaierror as exc:
            raise FetchError(f"cannot resolve {host}: {exc}", "check the host name", "dns") from None
        for info in infos:
            addr = ipaddress.ip_address(info[4][0])
            if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast:
                raise FetchError(
                    f"{host} resolves to non-public address {addr}",
                    "set allow_private = true in the source only for local test portals",
                    "egress",
                )

    def _polite_wait(self, netloc: str, delay: float) -> None:
        last = self._last_request.get(netloc)
        if last is not None:
            wait = last + delay - time.monotonic()
            if wait > 0:
                self._sleep(wait)
        self._last_request[netloc] = time.monotonic()

    def _sleep(self, seconds: float) -> None:
        """Wait politely; pending catalog writes are committed first, so no lock is held while idle."""
        if self.before_wait is not None:
            self.before_wait()
        time.sleep(seconds)

    def _robots_for(self, url: str) -> RobotsRules:
        """The host's rules, read once per run: RFC 9309 — 4xx allows all; 5xx or unreachable disallows all."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        return self.robots.get(key, lambda: self._read_robots(key))

    def _read_robots(self, key: str) -> RobotsRules:
        robots_url = key + "/robots.txt"
        try:
            result = self._exchange(robots_url, {}, ROBOTS_MAX_BYTES)
        except FetchError as exc:
            log.warning("robots.txt %s unreachable (%s): treating the host as disallowed", robots_url, exc)
            return RobotsRules(None, False, exc)
        if 400 <= result.status < 500:
            return RobotsRules(None, True)
        if result.status >= 500 or result.status in REDIRECTS:
            log.warning("robots.txt %s answered %d: host disallowed", robots_url, result.status)
            return RobotsRules(None, False)
        text = result.body.decode("utf-8", "replace").lstrip("\ufeff")
        return RobotsRules(Protego.parse(text), True)

    def allowed_by_robots(self, url: str) -> bool:
        rules = self._robots_for(url)
        if rules.parser is None:
            return rules.allow_all
        return bool(rules.parser.can_fetch(url, self.settings.user_agent))

    # -- fetching ---------------------------------------------------------------------------------
    def get(self, url: str, conditional: bool = True, max_bytes: int | None = None, form: bytes | None = None) -> FetchResult:
        """GET `url` (or POST the urlencoded `form`), following allowed redirects, archived.

        A 304 answer to a conditional GET re-reads the stored body; a POST is never conditional.
        """
        limit = max_bytes or self.settings.max_page_bytes
        conditional = conditional and form is None
        redirects: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            self.check_url(current)
            if not self.allowed_by_robots(current):
                failure = self._robots_for(current).failure
                if failure is not None and failure.reason in ("tls", "dns"):
                    raise failure  # name the real cause: the host could not be reached safely at all
                if failure is not None:  # not a rule: robots.txt could not be read, so nothing is fetched
                    raise FetchError(
                        f"robots.txt of {urlsplit(current).netloc} could not be read ({failure.message}): nothing fetched",
                        failure.hint or "check that the portal is up",
                        "robots-unreachable",
                    )
                raise FetchError(f"robots.txt disallows {current}", "the portal asks crawlers to stay away", "robots")
            previous = self.catalog.last_good_capture(current) if conditional else None
            extra = {}
            if previous is not None:
                if previous.etag:
                    extra["If-None-Match"] = previous.etag
                if previous.last_modified:
                    extra["If-Modified-Since"] = previous.last_modified
            result = self._with_retries(current, extra, limit, previous.id if previous else None, form)
            if result.status in REDIRECTS and result.header("location"):
                redirects.append(current)
                current = urljoin(current, result.header("location"))
                form = None  # a redirected POST is followed with a GET, as browsers do
                continue
            result.redirects = redirects
            return result
        raise FetchError(
            f"more than {self.settings.max_redirects} redirects from {url}", "check the URL in a browser", "redirects"
        )

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_CAP_S, self.settings.retry_base_s * 2**attempt * random.uniform(0.5, 1.5))

    def _retry_after(self, result: FetchResult) -> float | None:
        value = result.header("retry-after").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())

    @staticmethod
    def blocked(result: FetchResult) -> bool:
        """An anti-bot or rate-limit page instead of content (412, or a short page saying so)."""
        if result.status == 412:
            return True
        if result.status != 200 or len(result.body) > ANTI_BOT_MAX_BYTES:
            return False
        text = result.body.decode("utf-8", "ignore") + result.body.decode("gb18030", "ignore")
        return any(marker in text for marker in ANTI_BOT_MARKERS)

    def _with_retries(
        self, url: str, extra: dict[str, str], limit: int, previous_id: int | None, form: bytes | None = None
    ) -> FetchResult:
        """One hop with retries: network errors, 429/5xx and anti-bot pages back off and try again."""
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                result = self._exchange(url, extra, limit, previous_id, form)
            except FetchError as exc:
                if exc.reason not in RETRY_REASONS or last:
                    raise
                log.info("retrying %s after %s", url, exc.reason)
                self._sleep(self._backoff(attempt))
                continue
            blocked = self.blocked(result)
            if result.status not in RETRY_STATUSES and not blocked:
                return result
            retry_after = self._retry_after(result)
            if retry_after is not None and retry_after > self.settings.max_retry_after_s:
                raise FetchError(
                    f"{url}: Retry-After {retry_after:.0f} s exceeds max_retry_after_s",
                    "the portal asks us to come back later",
                    "rate-limited",
                )
            if last:
                if blocked:
                    raise FetchError(
                        f"{url}: anti-bot or rate-limit page (status {result.status})",
                        "slow down (crawl_delay_s) or try later",
                        "anti-bot",
                    )
                return result
            log.info("retrying %s after status %d", url, result.status)
            self._sleep(retry_after if retry_after is not None else self._backoff(attempt))
        raise AssertionError("unreachable")

    def _exchange(
        self, url: str, extra_headers: dict[str, str], limit: int, previous_id: int | None = None, form: bytes | None = None
    ) -> FetchResult:
        parts = urlsplit(url)
        known = self.robots.peek(f"{parts.scheme}://{parts.netloc}")
        parser = known.parser if known is not None else None
        robots_delay = float((parser.crawl_delay(self.settings.user_agent) if parser is not None else None) or 0)
        if robots_delay > self.settings.max_crawl_delay_s:
            if parts.netloc not in self._capped:
                log.warning(
                    "%s asks for Crawl-delay %.0f s; capped at max_crawl_delay_s = %.0f s",
                    parts.netloc,
                    robots_delay,
                    self.settings.max_crawl_delay_s,
                )
                self._capped.add(parts.netloc)
            robots_delay = self.settings.max_crawl_delay_s
        self._polite_wait(parts.netloc, max(self.delay_s, robots_delay))
        if form is not None:
            extra_headers = {**extra_headers, "Content-Type": "application/x-www-form-urlencoded"}
        request_headers = [
            ("Host", parts.netloc),
            ("User-Agent", self.settings.user_agent),
            ("Accept-Encoding", "gzip, deflate"),
            *extra_headers.items(),
        ]
        deadline = time.monotonic() + self.settings.fetch_deadline_s
        self.request_count += 1
        fetched_at = utcnow()
        truncated = ""
        try:
            method = "GET" if form is None else "POST"
            with self.client.stream(method, url, headers=extra_headers, content=form) as response:
                chunks, size = [], 0
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        truncated = "length"
                        break
                    if time.monotonic() > deadline:
                        truncated = "time"
                        break
                raw = b"".join(chunks)[:limit]
                status, reason = response.status_code, response.reason_phrase
                headers = list(response.headers.multi_items())
        except httpx.TimeoutException as exc:
            raise FetchError(f"timeout fetching {url}: {exc}", "the portal is slow; retry later", "timeout") from None
        except httpx.ConnectError as exc:
            if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper():
                raise FetchError(
                    f"TLS failure for {url}: {exc}",
                    "the portal's certificate is not trusted; never turn verification off globally",
                    "tls",
                ) from None
            raise FetchError(f"cannot connect to {url}: {exc}", "is the portal up?", "connect") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"HTTP error fetching {url}: {exc}", "retry later", "http") from None
        capture_id, record_id, body, not_modified = self._archive(
            url, request_headers, status, reason, headers, raw, truncated, fetched_at, previous_id, form
        )
        if not not_modified:
            encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
            try:
                body = decode_content_encoding(body, encoding, limit)
            except BodyEncodingError as exc:  # archived as sent; the crawl reports it like any failed fetch
                raise FetchError(exc.message, exc.hint, exc.reason) from None
        return FetchResult(url, 200 if not_modified else status, headers, body, capture_id, record_id, truncated, not_modified)

    def _archive(self, url, request_headers, status, reason, headers, raw, truncated, fetched_at, previous_id, form=None):  # type: ignore[no-untyped-def]
        """Write the exchange (response, or revisit when the payload is already stored), then register it."""
        get = lambda name: next((v for k, v in headers if k.lower() == name), "")  # noqa: E731
        common = dict(
            run_id=self.run_id,
            url=url,
            status=status,
            fetched_at=fetched_at,
            content_type=get("content-type"),
            etag=get("etag"),
            last_modified=get("last-modified"),
        )
        if status == 304 and previous_id is not None:
            original = self.catalog.get_capture(previous_id)
            assert original is not None
            written = self.session.write_revisit(
                url,
                request_headers,
                status,
                reason,
                headers,
                original.payload_digest,
                original.url,
                original.fetched_at,
                not_modified=True,
            )
            capture_id = self.catalog.add_capture(
                record_type="revisit",
                payload_digest=original.payload_digest,
                ref=written.ref,
                refers_to=original.id,
                **{
                    **common,
                    "content_type": original.content_type,
                    "etag": get("etag") or original.etag,
                    "last_modified": get("last-modified") or original.last_modified,
                },
            )
            body = self.store.read(original.ref).body(self.settings.max_page_bytes * 4)
            return capture_id, written.record_id, body, True
        digest = payload_digest(raw)
        original = None if truncated else self.catalog.capture_by_digest(digest)
        if original is not None and status == 200:
            written = self.session.write_revisit(
                url, request_headers, status, reason, headers, digest, original.url, original.fetched_at, request_body=form
            )
            capture_id = self.catalog.add_capture(
                record_type="revisit", payload_digest=digest, ref=written.ref, refers_to=original.id, **common
            )
        else:
            written = self.session.write_response(
                url, request_headers, status, reason, headers, raw, truncated, request_body=form
            )
            capture_id = self.catalog.add_capture(
                record_type="response",
                payload_digest=written.payload_digest or digest,
                ref=written.ref,
                truncated=truncated,
                **common,
            )
        return capture_id, written.record_id, raw, False
