"""The scheduler process: one cron job per source, catch-up after downtime, "crawl now" requests, clean stop.

One process per data directory (a file lock makes a second one refuse to start, naming the first).
Each job crawls one source under that source's crawl lock and then brings the index up to date
through `after_crawl` (the CLI passes the index sync: this process is the single index writer).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from archive.catalog import Catalog, parse_time, utcnow
from archive.errors import ConfigError, LockHeld
from archive.locks import scheduler_lock
from archive.settings import Settings
from archive.store import WarcStore
from crawler.cron import cron_trigger, interval_of
from crawler.robots import RobotsCache
from crawler.run import crawl_source
from crawler.sources import Source

log = logging.getLogger(__name__)

HEARTBEAT = "scheduler"
MAX_BACKOFF = timedelta(days=7)
MIN_GRACE_S = 60
JUST_CRAWLED = timedelta(seconds=60)  # a trigger time this soon after a run ended is served by that run

AfterCrawl = Callable[[Settings, Catalog], Any]


def zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {settings.timezone!r}", 'use an IANA name such as "Asia/Shanghai"') from None


@dataclass(frozen=True)
class Plan:
    """What the scheduler will do for one source."""

    source_id: str
    trigger: CronTrigger | None
    grace_s: int
    catch_up: str  # why it runs at start ("" when it does not)


def plan_source(source: Source, last_run: dict[str, Any] | None, tz: ZoneInfo, now: datetime) -> Plan:
    """The job of a source and whether a run was missed while no scheduler was running.

    Missed = never crawled, the last run was cut short, or a trigger time passed since the last run
    ended (a trigger time while it ran, or within `JUST_CRAWLED` after, is served by it: a scheduler
    started right after a manual crawl does not repeat it). However many passed, the catch-up is one run.
    """
    if not source.schedule:
        return Plan(source.id, None, 0, "")
    trigger = cron_trigger(source.schedule, tz)
    grace = max(MIN_GRACE_S, int(interval_of(trigger, now).total_seconds() // 2))
    if last_run is None:
        return Plan(source.id, trigger, grace, "never crawled")
    if last_run["status"] in ("interrupted", "running"):
        return Plan(source.id, trigger, grace, f"last run {last_run['id']} was {last_run['status']}")
    ended = last_run.get("finished_at")
    served = parse_time(ended) + JUST_CRAWLED if ended else parse_time(last_run["started_at"])
    due = trigger.get_next_fire_time(None, served.astimezone(tz))
    if due is not None and due <= now:
        return Plan(source.id, trigger, grace, f"missed the run due {due:%Y-%m-%d %H:%M %Z}")
    return Plan(source.id, trigger, grace, "")


class CrawlScheduler:
    """Runs the sources' crawls on their schedules until SIGTERM/SIGINT."""

    def __init__(
        self, settings: Settings, sources: dict[str, Source], after_crawl: AfterCrawl | None = None, parent_pid: int | None = None
    ) -> None:
        self.settings = settings
        self.parent_pid = parent_pid
        self.sources = sources
        self.after_crawl = after_crawl
        self.robots = RobotsCache(ttl_s=3600)  # sources of one portal crawled within the hour share its robots.txt
        self.tz = zone(settings)
        self.stopping = threading.Event()
        self._guard = threading.Lock()
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._reason: dict[str, str] = {}
        self._idle = threading.Condition(self._guard)
        self._polls = 0  # heartbeats so far: a monitor (or a test) can tell the loop is turning
        self._started_at = utcnow()
        self.scheduler = BlockingScheduler(
            timezone=self.tz,
            # The heartbeat has its own thread, so busy crawl workers never make the scheduler look dead.
            executors={"default": ThreadPoolExecutor(max(1, settings.scheduler_workers)), "poll": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    # -- jobs -------------------------------------------------------------------------------------
    def _catalog(self) -> Catalog:
        return Catalog(self.settings.catalog_path)

    def add_jobs(self, now: datetime | None = None) -> list[Plan]:
        """One job per scheduled source (replacing any of the same id); catch-ups run at once."""
        now = now or datetime.now(self.tz)
        plans = []
        with self._catalog() as catalog:
            for source in self.sources.values():
                plan = plan_source(source, catalog.last_run(source.id), self.tz, now)
                plans.append(plan)
                if plan.trigger is None:
                    log.info("%s has no schedule: crawled only on request", source.id)
                    continue
                extra = {}
                if plan.catch_up:
                    log.warning("%s: catching up once now (%s)", source.id, plan.catch_up)
                    self._reason[source.id] = "catch-up"
                    extra["next_run_time"] = now
                self.scheduler.add_job(
                    self.run_source,
                    plan.trigger,
                    args=[source.id],
                    id=source.id,
                    name=source.name,
                    replace_existing=True,
                    misfire_grace_time=plan.grace_s,
                    **extra,
                )
        self.scheduler.add_job(
            self.poll,
            "interval",
            seconds=self.settings.scheduler_poll_s,
            id="_poll",
            executor="poll",
            replace_existing=True,
            next_run_time=now,
            misfire_grace_time=None,
        )
        return plans

    def run_source(self, source_id: str) -> None:
        """The job body: crawl one source (unless stopping, backing off or already running), then index."""
        with self._guard:
            reason = self._reason.pop(source_id, "schedule")
            if self.stopping.is_set() or source_id in self._running:
                return
            self._running.add(source_id)
        try:
            with self._catalog() as catalog:
                if reason == "schedule" and self._backing_off(catalog, source_id):
                    return
                try:
                    crawl_source(
                        self.sources[source_id],
                        self.settings,
                        catalog,
                        WarcStore(self.settings.warc_dir, self.settings.warc_max_bytes),
                        trigger=reason,
                        should_stop=self.stopping.is_set,
                        robots=self.robots,
                    )
                except LockHeld as exc:
                    log.warning("%s: not crawled now: %s", source_id, exc.message)
                    return
                except Exception as exc:  # noqa: BLE001 - recorded on the run with its traceback; the scheduler goes on
                    log.error(
                        "%s: crawl failed (%s: %s); the traceback is in the run's record and log file",
                        source_id,
                        type(exc).__name__,
                        exc,
                    )
                if self.after_crawl is not None:
                    self.after_crawl(self.settings, catalog)
        finally:
            with self._guard:
                self._running.discard(source_id)
                again = source_id in self._again and not self.stopping.is_set()
                self._again.discard(source_id)
                self._idle.notify_all()
            if again:
                self.crawl_now(source_id, "request")

    def _backing_off(self, catalog: Catalog, source_id: str) -> bool:
        """After `failure_backoff_after` failed runs in a row, wait 2, 4, 8 ... periods (at most a week)."""
        failures = catalog.consecutive_failures(source_id)
        if failures < self.settings.failure_backoff_after:
            return False
        last = catalog.last_run(source_id)
        job = self.scheduler.get_job(source_id)
        if last is None or job is None:
            return False
        period = interval_of(job.trigger, datetime.now(self.tz))
        wait = min(MAX_BACKOFF, period * 2 ** (failures - self.settings.failure_backoff_after + 1))
        if datetime.now(UTC) - parse_time(last["started_at"]) < wait:
            log.warning(
                "%s: %d failed runs in a row; backing off (next attempt after %s)",
                source_id,
                failures,
                (parse_time(last["started_at"]) + wait).astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S"),
            )
            return True
        return False

    def crawl_now(self, source_id: str, reason: str) -> None:
        """Run a source as soon as a worker is free (once more after the current run, if one is going)."""
        if source_id not in self.sources:
            log.warning("crawl requested for unknown source %r; ignored", source_id)
            return
        with self._guard:
            if source_id in self._running:
                self._again.add(source_id)
                return
            self._reason[source_id] = reason
        now = datetime.now(self.tz)
        if self.scheduler.get_job(source_id) is not None:
            self.scheduler.modify_job(source_id, next_run_time=now)
        else:
            self.scheduler.add_job(
                self.run_source,
                "date",
                run_date=now,
                args=[source_id],
                id=source_id,
                replace_existing=True,
                misfire_grace_time=None,
            )

    def poll(self) -> None:
        """Heartbeat, then pick up "crawl now" requests filed in the catalog (by the staff page or the CLI)."""
        if self.parent_pid is not None and os.getppid() != self.parent_pid and not self.stopping.is_set():
            log.warning("parent process %d is gone: stopping", self.parent_pid)
            self.stop()
            return
        self._polls += 1
        with self._catalog() as catalog:
            catalog.beat(HEARTBEAT, os.getpid(), socket.gethostname(), self._started_at, self.status_info())
            requested = catalog.take_requests()
        for source_id in requested:
            log.info("%s: crawl requested", source_id)
            self.crawl_now(source_id, "request")

    def status_info(self) -> dict[str, Any]:
        jobs = {}
        for job in self.scheduler.get_jobs():
            if not job.id.startswith("_"):
                next_run = getattr(job, "next_run_time", None)
                jobs[job.id] = next_run.isoformat() if next_run else None
        with self._guard:
            running = sorted(self._running)
        schedules = {source_id: self.sources[source_id].schedule for source_id in jobs if source_id in self.sources}
        return {
            "next_runs": jobs,
            "schedules": schedules,  # what `xxgk status` shows beside the next run, as the scheduler has it
            "running": running,
            "stopping": self.stopping.is_set(),
            "polls": self._polls,
        }

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("%s: previous run still going; this trigger is skipped", event.job_id)
        elif event.code == EVENT_JOB_MISSED:
            log.warning("%s: run due at %s missed (beyond the grace time)", event.job_id, event.scheduled_run_time)

    # -- process ----------------------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping.is_set():
            log.error("second %s: exiting at once (WARC files are recovered at next start)", signal.Signals(signum).name)
            os._exit(1)
        log.warning("%s: stopping after the pages in flight (again to exit at once)", signal.Signals(signum).name)
        self.stop()

    def stop(self) -> None:
        """Stop scheduling; running crawls end at their next safe point (see `run`)."""
        self.stopping.set()
        self.scheduler.shutdown(wait=False)

    def run(self) -> int:
        """Hold the scheduler lock, schedule, block until a signal, then stop cleanly; the exit status."""
        with scheduler_lock(self.settings.data_path).acquire():
            recovered = WarcStore(self.settings.warc_dir).recover()
            for name in recovered:
                log.warning("recovered unsealed WARC file %s", name)
            plans = self.add_jobs()
            log.warning(
                "scheduler started (pid %d): %d sources scheduled, %d catching up",
                os.getpid(),
                sum(p.trigger is not None for p in plans),
                sum(bool(p.catch_up) for p in plans),
            )
            # The handlers stay until the process exits: a second signal, even after the clean stop has
            # begun or ended, exits at once with status 1.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
            self.scheduler.start()  # blocks until a signal (or a lost parent) shuts it down
            return self._wait_for_jobs()

    def _wait_for_jobs(self) -> int:
        with self._guard:
            finished = self._idle.wait_for(lambda: not self._running, timeout=self.settings.stop_timeout_s)
            left = sorted(self._running)
        with self._catalog() as catalog:
            catalog.beat(
                HEARTBEAT, os.getpid(), socket.gethostname(), self._started_at, {**self.status_info(), "stopped_at": utcnow()}
            )
        if not finished:
            log.error("crawls of %s did not stop within %g s; exiting anyway", ", ".join(left), self.settings.stop_timeout_s)
            return 1
        log.warning("scheduler stopped cleanly")
        return 0
