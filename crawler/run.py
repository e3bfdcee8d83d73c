"""One crawl run of one source: walk its listings, fetch details and attachments, record documents."""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Union
from urllib.parse import urldefrag, urlencode

from archive.catalog import Catalog, parse_time
from archive.charset import decode
from archive.locks import source_lock
from archive.logs import crawl_context
from archive.models import Attachment, Document, doc_id_for
from archive.settings import Settings
from archive.sniff import is_html, sniff_content_type
from archive.store import WarcSession, WarcStore
from crawler.attachments import AttachmentWorker
from crawler.errors import FetchError
from crawler.extract import extract_item
from crawler.fetch import Fetcher, FetchResult
from crawler.links import AttachmentLink, file_name
from crawler.listing import ListItem, ListRequest, parse_listing
from crawler.robots import RobotsCache
from crawler.sources import Column, Source
from crawler.urls import canonicalize, trap_reason

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class CrawlReport:
    """Outcome counts of a run: documents new/changed/unchanged, failures by reason."""

    source_id: str
    run_id: int = 0
    name: str = ""  # the source's name (the agency or site), for pages that list runs
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    listed: int = 0
    list_pages: int = 0
    requests: int = 0
    failed: Counter = field(default_factory=Counter)
    failed_urls: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, url: str, reason: str) -> None:
        self.failed[reason] += 1
        if len(self.failed_urls) < 200:
            self.failed_urls.append((url, reason))

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source_id,
            "name": self.name,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "listed": self.listed,
            "list_pages": self.list_pages,
            "requests": self.requests,
            "failed": dict(self.failed),
            "failed_urls": self.failed_urls,
        }

    def summary(self) -> str:
        failed = sum(self.failed.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items()))
        return (
            f"{self.source_id}: 新增 {self.new}，变更 {self.changed}，未变 {self.unchanged}，撤回 {self.withdrawn}，失败 {failed}"
            + (f"（{reasons}）" if reasons else "")
            + f"；列表页 {self.list_pages}，请求 {self.requests}"
        )


Extracted = Union[Attachment, "Future[Attachment]"]


class _Extractor:
    """Attachment text extraction on one background thread, so the crawl goes on while a PDF is read.

    The thread only talks to the worker process; the catalog and the WARC session stay on the crawl's thread.
    """

    def __init__(self, worker: AttachmentWorker) -> None:
        self.worker = worker
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attachment-text")

    def _run(self, attachment: Attachment, data: bytes) -> Attachment:
        try:
            text, error = self.worker.extract(data, attachment.name, attachment.content_type)
        except Exception as exc:  # noqa: BLE001 - a failed extraction is recorded on the document, never fatal
            log.exception("attachment %s: extraction failed", attachment.url)
            text, error = "", f"extraction failed: {type(exc).__name__}: {exc}"[:300]
        return replace(attachment, text=text, error=error)

    def submit(self, attachment: Attachment, data: bytes) -> Future[Attachment]:
        return self.pool.submit(self._run, attachment, data)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Pending:
    """A detail page fetched and parsed, waiting for its attachments' text before it is recorded."""

    doc: Document
    record_id: str
    capture_id: int | None
    attachments: list[Extracted]

    def ready(self) -> bool:
        return all(not isinstance(a, Future) or a.done() for a in self.attachments)


MAX_PENDING = 32
GROUP_COMMIT_S = 0.25  # longest a crawl keeps catalog writes uncommitted (when it never waits politely)


class CrawlStopped(Exception):
    """Raised inside a run when `should_stop()` turned true; the run ends as "interrupted"."""


def crawl_source(
    source: Source,
    settings: Settings,
    catalog: Catalog,
    store: WarcStore,
    progress: Progress | None = None,
    worker: AttachmentWorker | None = None,
    trigger: str = "manual",
    should_stop: Callable[[], bool] | None = None,
    robots: RobotsCache | None = None,
) -> CrawlReport:
    """Crawl `source` once; every response is archived before its document is recorded.

    Holds the source's crawl lock for the whole run (raises LockHeld, naming the holder, if another
    process or thread is crawling it). Pass a `worker` to share one attachment extraction process
    across sources. `should_stop` is polled between pages: when it turns true the run stops at that
    safe point and is recorded as "interrupted" (the next run picks up where it left off). Pass one
    `robots` cache to the runs of sources sharing a host, so that robots.txt is read once for all.
    """
    with source_lock(settings.data_path, source.id).acquire():
        report = CrawlReport(source.id, name=source.name)
        report.run_id = catalog.begin_run(source.id, trigger)
        status, error, log_file = "failed", "", ""
        try:
            with crawl_context(source.id, report.run_id, settings.log_dir, settings.log_format, settings.timezone) as log_path:
                log_file = str(log_path)
                log.info("crawl run %d of %s started (%s)", report.run_id, source.id, trigger)
                try:
                    run = _Run(source, settings, catalog, report, progress, should_stop or (lambda: False))
                    run.execute(store, worker, robots)
                    status = "ok"
                    if report.list_pages == 0 and report.failed:
                        status = "failed"
                        error = "no list page could be read: " + ", ".join(f"{k} {v}" for k, v in report.failed.items())
                        log.warning("crawl run %d: %s", report.run_id, error)
                except CrawlStopped:
                    status = "interrupted"
                    log.warning("crawl run %d stopped on request; the next run continues it", report.run_id)
                except Exception:
                    error = traceback.format_exc()
                    log.exception("crawl run %d failed", report.run_id)
                    raise
                finally:
                    log.info("crawl run %d: %s (%s)", report.run_id, report.summary(), status)
        finally:
            catalog.finish_run(report.run_id, status, report.as_dict(), error=error, log_file=log_file)
    return report


class _Run:
    """One run's state (the source, its fetcher, WARC session, catalog, report and page budget) and its steps."""

    def __init__(
        self,
        source: Source,
        settings: Settings,
        catalog: Catalog,
        report: CrawlReport,
        progress: Progress | None,
        should_stop: Callable[[], bool],
    ) -> None:
        self.source = source
        self.settings = settings
        self.catalog = catalog
        self.report = report
        self.progress = progress
        self.should_stop = should_stop
        self.budget = settings.max_pages_per_source
        # Pages columns name by fragment, fetched this run: gkmlpt's columns share one index page.
        self.list_pages: dict[str, FetchResult] = {}
        # Set by execute() for the duration of the run:
        self.fetcher: Fetcher
        self.session: WarcSession
        self.extractor: _Extractor
        self.checkpoint: Callable[[], None] = lambda: None

    def _stop_point(self) -> None:
        """A safe point: raise CrawlStopped when a stop was asked for."""
        if self.should_stop():
            raise CrawlStopped

    def execute(self, store: WarcStore, worker: AttachmentWorker | None, robots: RobotsCache | None = None) -> None:
        """Open the WARC session, fetcher and attachment worker, crawl every column, then check withdrawals."""
        source, settings = self.source, self.settings
        with (
            store.session(prefix=source.id) as session,
            Fetcher(
                settings,
                store,
                session,
                self.catalog,
                self.report.run_id,
                source.hosts(),
                source.allow_private,
                source.crawl_delay_s,
                robots,
            ) as fetcher,
            (
                nullcontext(worker)
                if worker is not None
                else AttachmentWorker(settings.attachment_timeout_s, settings.attachment_memory_mb)
            ) as worker,
        ):
            self.session, self.fetcher = session, fetcher
            # Group commit: records are fsynced once per batch, just before the catalog rows pointing at them.
            session.deferred_sync = True
            try:
                with self.catalog.batch(session.sync, GROUP_COMMIT_S) as batch:
                    fetcher.before_wait = batch.flush  # never hold the catalog's write lock while waiting politely
                    self.checkpoint = batch.checkpoint
                    self.extractor = _Extractor(worker)
                    try:
                        incomplete, listed = self._crawl_columns()
                    finally:
                        self.extractor.close()
                    self._withdraw_unlisted(listed, incomplete)
            finally:
                self.report.requests = fetcher.request_count

    def _crawl_columns(self) -> tuple[set[str], set[str]]:
        """Every column's listing and items; (the categories of columns not listed completely, the URLs listed)."""
        source, report = self.source, self.report
        listed: set[str] = set()
        incomplete: set[str] = set()
        pending: list[_Pending] = []
        for column, start in source.column_urls():
            items, column_complete = self._walk_column(column, start)
            if not column_complete:
                incomplete.add(column.category)
            report.listed += len(items)
            listed.update(item.url for item in items)
            for item in items:
                self._stop_point()  # pending documents are dropped: their pages are archived, the next run records them
                if self.budget <= 0:
                    report.fail(item.url, "page-budget")
                    incomplete.add(column.category)
                    continue
                self.budget -= 1
                waiting = self._crawl_item(column, item)
                if waiting is not None:
                    pending.append(waiting)
                pending = self._record_ready(pending, wait=len(pending) > MAX_PENDING)
                self.checkpoint()
                log.debug("%s: processed %s", source.id, item.url)
                if self.progress:
                    self.progress(item.url)
        self._record_ready(pending, wait=True)
        return incomplete, listed

    def _list_page(self, page_url: str, form: bytes | None) -> FetchResult:
        """A list page; a page several columns name by fragment (gkmlpt's index#21023) is fetched once per run."""
        key, fragment = urldefrag(page_url)
        if form is not None or not fragment:
            return self.fetcher.get(page_url, form=form)
        if key not in self.list_pages:
            self.list_pages[key] = self.fetcher.get(page_url)
        else:
            self.budget += 1  # no request was made
        return self.list_pages[key]

    def _walk_column(self, column: Column, start: str) -> tuple[list[ListItem], bool]:
        """All items of a column following the platform's pagination, and whether every list page was read."""
        queue: list[str | ListRequest] = [start]
        seen_pages: set[str | ListRequest] = {start}
        items: dict[str, ListItem] = {}
        complete = True
        source, report = self.source, self.report
        known = set(self.catalog.listed_documents(source.id, column.category)) if source.stop_after_known_pages else set()
        known_pages = 0
        while queue and self.budget > 0:
            self._stop_point()
            page = queue.pop(0)
            page_url = page.url if isinstance(page, ListRequest) else page
            form = urlencode(page.form).encode() if isinstance(page, ListRequest) else None
            self.budget -= 1
            try:
                result = self._list_page(page_url, form)
            except FetchError as exc:
                report.fail(page_url, exc.reason)
                complete = False
                continue
            if result.status != 200 or result.truncated:
                report.fail(page_url, f"http-{result.status}" if result.status != 200 else "truncated")
                complete = False
                continue
            report.list_pages += 1
            text, _ = decode(result.body, result.content_type, source.charset)
            listing = parse_listing(source.platform, text, page_url, source.selectors)
            urls = [canonicalize(item.url) for item in listing.items]
            nothing_new = bool(known) and bool(urls) and all(url in known for url in urls)
            known_pages = known_pages + 1 if nothing_new else 0
            for item, url in zip(listing.items, urls):
                trap = trap_reason(url)
                if trap:
                    report.fail(url, "trap")
                    log.info("%s: skipped %s (%s)", source.id, url, trap)
                    continue
                items.setdefault(url, replace(item, url=url))
            for more in listing.more_pages:
                more = replace(more, url=canonicalize(more.url)) if isinstance(more, ListRequest) else canonicalize(more)
                if trap_reason(more.url if isinstance(more, ListRequest) else more):
                    report.fail(str(more), "trap")
                    continue
                if more not in seen_pages:
                    seen_pages.add(more)
                    queue.append(more)
            if known and known_pages >= source.stop_after_known_pages:
                log.info("%s/%s: %d list pages with nothing new; stopping here", source.id, column.name, known_pages)
                queue.clear()
                complete = False
        return list(items.values()), complete and not queue

    def _crawl_item(self, column: Column, item: ListItem) -> _Pending | None:
        """Fetch and parse one detail page and fetch its attachments; None when there is nothing to record."""
        source, report, catalog = self.source, self.report, self.catalog
        try:
            result = self.fetcher.get(item.url)
        except FetchError as exc:
            report.fail(item.url, exc.reason)
            return None
        if result.status in (404, 410):
            doc_id = doc_id_for(source.id, item.url)
            if catalog.get(doc_id) is None:
                report.fail(item.url, f"http-{result.status}")
            else:
                self._withdraw(doc_id, result.capture_id)
            return None
        if result.status != 200:
            report.fail(item.url, f"http-{result.status}")
            return None
        if result.truncated:
            report.fail(item.url, f"truncated-{result.truncated}")
            return None
        doc, links = extract_item(source, column, item, result.body, result.content_type)
        if not doc.title or not doc.body:
            report.fail(item.url, "extract-empty")
            return None
        stored = catalog.get(doc.doc_id) if links else None  # only attachments need the previous version
        known = {a.url: a for a in stored.doc.attachments} if stored else {}
        # Only a page recorded before and unchanged since vouches for its links (an interrupted run recorded nothing).
        unchanged = result.not_modified and stored is not None
        fetched = (self._fetch_attachment(link, known.get(link.url), unchanged) for link in links)
        attachments = [a for a in fetched if a is not None]
        return _Pending(doc, result.record_id, result.capture_id, attachments)

    def _still_fresh(self, url: str, previous: Attachment | None, page_unchanged: bool) -> bool:
        """Whether a link need not be asked for again: its recorded page answered 304, the server gave no
        validator to ask conditionally with, and within `attachment_recheck_days` it was archived whole as
        the attachment recorded (or answered with a web page: not an attachment)."""
        if not page_unchanged:
            return False
        capture = self.catalog.last_good_capture(url)
        last = self.catalog.last_fetched_at(url)
        if capture is None or capture.etag or capture.last_modified or last is None:
            return False
        if previous is not None and (not previous.sha256 or previous.error):
            return False
        if previous is None and not capture.content_type.lower().startswith(("text/html", "application/xhtml")):
            return False
        return datetime.now(UTC) - parse_time(last) < timedelta(days=self.source.attachment_recheck_days)

    def _fetch_attachment(self, link: AttachmentLink, previous: Attachment | None, page_unchanged: bool) -> Extracted | None:
        """The attachment, or a future of it while its text is extracted beside the crawl; None when the
        link answered with a web page instead of a file (not an attachment)."""
        url, name = link.url, link.name
        if self._still_fresh(url, previous, page_unchanged):
            return previous  # None: a web page last time, still not an attachment
        try:
            result = self.fetcher.get(url, max_bytes=self.settings.max_attachment_bytes)
        except FetchError as exc:
            return Attachment(url=url, name=name, error=f"{exc.reason}: {exc.message}")
        if result.status != 200:
            return Attachment(url=url, name=name, error=f"HTTP {result.status}")
        if is_html(sniff_content_type(result.body)) or result.content_type.lower().startswith(("text/html", "application/xhtml")):
            log.info("%s: %s answered with a web page, not a file: not an attachment", self.source.id, url)
            return None
        name = file_name(link, result.header("content-disposition"))
        if result.truncated:
            return Attachment(url=url, name=name, size=len(result.body), error="truncated: larger than max_attachment_bytes")
        digest = hashlib.sha256(result.body).hexdigest()
        if previous is not None and previous.sha256 == digest and previous.name == name:
            return previous  # same bytes as last time: the text extracted then still holds
        return self.extractor.submit(
            Attachment(url=url, name=name, content_type=result.content_type, size=len(result.body), sha256=digest), result.body
        )

    def _record_ready(self, pending: list[_Pending], wait: bool) -> list[_Pending]:
        """Record the pending documents whose attachments are done (all of them when `wait`); the rest remain."""
        remaining = []
        for item in pending:
            if wait or item.ready():
                self._record(item)
            else:
                remaining.append(item)
        return remaining

    def _record(self, item: _Pending) -> None:
        """Record a document whose attachments are done; a new version also goes into the archive."""
        attachments = tuple(a.result() if isinstance(a, Future) else a for a in item.attachments)
        doc = replace(item.doc, attachments=attachments)
        if self.catalog.current_digest(doc.doc_id) != doc.content_digest():
            # The archive alone can rebuild every version: write what was extracted beside the capture.
            blob = json.dumps(doc.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8")
            self.session.write_metadata(doc.url, blob, item.record_id)
        outcome = self.catalog.record_document(doc, item.capture_id)
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def _withdraw_unlisted(self, listed: set[str], incomplete: set[str]) -> None:
        """Documents no longer in any listing of the source are withdrawn; the page's answer is archived.

        A column whose listing could not be read completely (a robots rule, an error, the page budget,
        an incremental stop) is skipped: its documents may merely be unseen. The others are checked.
        """
        for category in sorted(incomplete):
            log.warning("%s/%s: listing incomplete this run; withdrawals not checked for it", self.source.id, category)
        for category in dict.fromkeys(column.category for column in self.source.columns):
            if category in incomplete:
                continue
            for url, doc_id in self.catalog.listed_documents(self.source.id, category, active_only=True).items():
                if url in listed:
                    continue
                self._stop_point()
                capture_id = None
                try:
                    capture_id = self.fetcher.get(url).capture_id  # the 404/410 (or the unlisted page) goes into the archive
                except FetchError as exc:
                    log.info("%s: unlisted %s not re-fetched: %s", self.source.id, url, exc)
                self._withdraw(doc_id, capture_id)

    def _withdraw(self, doc_id: str, capture_id: int | None) -> None:
        """Link the capture that shows the withdrawal to the document, then mark it withdrawn (once)."""
        if capture_id is not None:
            self.catalog.link_capture(capture_id, doc_id)
        if self.catalog.mark_withdrawn(doc_id):
            self.report.withdrawn += 1
