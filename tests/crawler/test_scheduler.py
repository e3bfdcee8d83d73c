"""The scheduler as a real process: overrun, catch-up, two schedulers, failures, signals, web workers.

Schedules use the six-field form (seconds first) so that triggers come every second; the crawled site
is a local fake portal whose request log tells what the scheduler really did.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.catalog import Catalog, parse_time
from tests.fakeserver import FakeServer, Reply
from tests.processes import free_port, http_status, process_env, start_gunicorn, wait_for

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _site(items: int = 4) -> FakeServer:
    server = FakeServer()
    server.route("/robots.txt", Reply(404, b""))
    links = "".join(
        f'<li><a href="/a/{n}.html">通知{n}</a><span class="date">2024-05-{n:02d}</span></li>' for n in range(1, items + 1)
    )
    server.route("/list/index.html", Reply(200, f'<ul class="news-list">{links}</ul>'.encode(), HTML))
    for n in range(1, items + 1):
        server.route(
            f"/a/{n}.html", Reply(200, f"<h1>通知{n}</h1><div class='content'><p>正文第{n}条。</p></div>".encode(), HTML)
        )
    return server


def _source(
    directory: Path, source_id: str, server: FakeServer, schedule: str, delay: float = 0.0, list_item: str = "ul.news-list li"
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{source_id}.toml").write_text(
        f'''
id = "{source_id}"
name = "测试局"
platform = "generic"
base_url = "{server.url}"
allow_private = true
crawl_delay_s = {delay}
schedule = "{schedule}"
[selectors]
list_item = "{list_item}"
list_date = "span.date"
[[columns]]
name = "通知公告"
url = "/list/index.html"
''',
        encoding="utf-8",
    )
    return directory


def _xxgk(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xxgk", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=process_env(**env),
    )


def _start(data: Path, sources: Path, **env: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "xxgk", "--data-dir", str(data), "scheduler", "--sources-dir", str(sources)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(**env),
    )
    wait_for(lambda: _heartbeat(data) is not None and _heartbeat(data)["pid"] == proc.pid or proc.poll() is not None, 20)
    return proc


def _polled(data: Path, count: int, timeout: float = 30) -> bool:
    """Wait until the running scheduler has turned its poll loop `count` more times (its heartbeat says)."""
    beat = _heartbeat(data)
    start = (beat or {}).get("info", {}).get("polls", 0)
    return wait_for(lambda: ((_heartbeat(data) or {}).get("info", {}).get("polls", 0)) >= start + count, timeout)


def _runs(data: Path) -> list[dict]:
    path = data / "catalog.sqlite3"
    if not path.exists():
        return []
    with Catalog(path) as catalog:
        return catalog.runs()


def _heartbeat(data: Path) -> dict | None:
    path = data / "catalog.sqlite3"
    if not path.exists():
        return None
    try:
        with Catalog(path) as catalog:
            return catalog.heartbeat("scheduler")
    except sqlite3.OperationalError:
        return None


def _stop(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.mark.slow
def test_overrunning_crawl_is_not_started_twice(tmp_path: Path) -> None:
    server = _site(items=4)
    try:
        sources = _source(tmp_path / "sources", "slow", server, "* * * * * *", delay=0.5)  # ~3 s per run, a trigger every second
        proc = _start(tmp_path / "d", sources, XXGK_WARC_MAX_BYTES="2000")
        wait_for(lambda: sum(r["status"] == "ok" for r in _runs(tmp_path / "d")) >= 2, 30)
        code, err = _stop(proc)
    finally:
        server.stop()
    runs = [r for r in _runs(tmp_path / "d") if r["finished_at"]]
    assert code == 0, err
    assert len(runs) >= 2
    spans = sorted((parse_time(r["started_at"]), parse_time(r["finished_at"])) for r in runs)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end - timedelta(seconds=1)  # second resolution: a run never starts inside another
    assert "previous run still going; this trigger is skipped" in err
    assert len(list((tmp_path / "d" / "warc").glob("*.warc.gz"))) > len(runs)  # the scheduler honours warc_max_bytes
    assert all(r["status"] == "ok" for r in runs[:-1])
    detail = [s for s in server.log if s.path.startswith("/a/")]
    assert len(detail) <= 4 * len(runs)  # each run fetched each page at most once


@pytest.mark.slow
def test_missed_run_is_caught_up_exactly_once_after_a_restart(tmp_path: Path) -> None:
    server = _site(items=2)
    data = tmp_path / "d"
    try:
        sources = _source(tmp_path / "sources", "daily", server, "0 2 * * *")
        with Catalog(data / "catalog.sqlite3") as catalog:  # the scheduler was down for three days
            run = catalog.begin_run("daily", "schedule")
            catalog.finish_run(run, "ok", {})
            old = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0).isoformat()
            catalog.conn.execute("UPDATE crawl_runs SET started_at=?, finished_at=? WHERE id=?", (old, old, run))
        proc = _start(data, sources)
        assert wait_for(lambda: any(r["trigger"] == "catch-up" and r["finished_at"] for r in _runs(data)), 30)
        assert _polled(data, 5)  # several poll periods: no second catch-up for the other missed triggers
        code, err = _stop(proc)
        assert code == 0, err
        assert [r["trigger"] for r in _runs(data)] == ["schedule", "catch-up"]
        assert "catching up once now" in err
        proc = _start(data, sources)  # restarted soon after: nothing was missed this time
        assert _polled(data, 5)
        code, err = _stop(proc)
    finally:
        server.stop()
    assert code == 0, err
    assert [r["trigger"] for r in _runs(data)] == ["schedule", "catch-up"]
    assert "catching up once now" not in err and "0 catching up" in err


@pytest.mark.slow
def test_a_second_scheduler_or_a_manual_crawl_never_runs_the_same_source(tmp_path: Path) -> None:
    server = _site(items=6)
    data = tmp_path / "d"
    try:
        sources = _source(tmp_path / "sources", "busy", server, "* * * * * *", delay=0.4)
        first = _start(data, sources)
        assert wait_for(lambda: any(r["status"] == "running" for r in _runs(data)), 20)
        second = subprocess.run(
            [sys.executable, "-m", "xxgk", "--data-dir", str(data), "scheduler", "--sources-dir", str(sources)],
            capture_output=True,
            text=True,
            timeout=60,
            env=process_env(),
        )
        manual = _xxgk(data, "crawl", "busy", "--sources-dir", str(sources))
        code, err = _stop(first)
    finally:
        server.stop()
    assert second.returncode == 1 and "调度器锁" in second.stderr and f"进程 {first.pid}" in second.stderr
    assert manual.returncode == 1 and "抓取锁" in manual.stderr and f"进程 {first.pid}" in manual.stderr
    assert code == 0, err
    runs = _runs(data)
    assert all(r["status"] in ("ok", "interrupted") for r in runs)


@pytest.mark.slow
def test_failing_job_is_recorded_scheduler_keeps_running_and_backs_off(tmp_path: Path) -> None:
    server = _site(items=2)
    data = tmp_path / "d"
    try:
        sources = _source(tmp_path / "sources", "good", server, "*/2 * * * * *")
        _source(sources, "broken", server, "* * * * * *", list_item="ul..li[")  # the crawl raises inside the job
        proc = _start(data, sources, XXGK_FAILURE_BACKOFF_AFTER="2")
        assert wait_for(lambda: sum(r["source_id"] == "good" and r["status"] == "ok" for r in _runs(data)) >= 3, 40)
        assert _polled(data, 4)
        status = _xxgk(data, "status", "--sources-dir", str(sources), XXGK_FAILURE_BACKOFF_AFTER="2")
        alive = proc.poll() is None
        code, err = _stop(proc)
    finally:
        server.stop()
    assert alive and code == 0, err
    broken = [r for r in _runs(data) if r["source_id"] == "broken"]
    assert broken and all(r["status"] == "failed" for r in broken)
    assert "SelectorSyntaxError" in broken[0]["error"] and "Traceback" in broken[0]["error"]
    assert Path(broken[0]["log_file"]).read_text(encoding="utf-8").count("SelectorSyntaxError") >= 1
    good_runs = sum(r["source_id"] == "good" for r in _runs(data))
    assert len(broken) < 2 * good_runs - 1  # a trigger every second, yet backing off after 2 failures
    assert "backing off" in err
    assert "连续失败" in status.stdout and "调度器：运行中" in status.stdout


@pytest.mark.slow
def test_sigterm_mid_crawl_then_verify_passes_and_the_next_start_resumes(tmp_path: Path) -> None:
    server = _site(items=12)
    data = tmp_path / "d"
    try:
        sources = _source(tmp_path / "sources", "long", server, "0 3 * * *", delay=0.25)
        proc = _start(data, sources)  # never crawled: it catches up at once
        assert wait_for(lambda: len([s for s in server.log if s.path.startswith("/a/")]) >= 3, 30)
        started = time.monotonic()
        code, err = _stop(proc)
        assert code == 0, err
        assert time.monotonic() - started < 10
        assert _runs(data)[-1]["status"] == "interrupted"
        assert not list((data / "warc").glob("*.open"))  # sealed on the way out
        verify = _xxgk(data, "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        proc = _start(data, sources)  # resumes: the interrupted run is caught up
        assert wait_for(lambda: _runs(data)[-1]["status"] == "ok", 40)
        with Catalog(data / "catalog.sqlite3") as catalog:
            assert catalog.count() == 12
        # A second signal exits at once; files stay valid.
        mark = len(server.log)
        code, err = _stop(proc)
        assert code == 0
        for n in range(1, 13):  # pages now trickle in: a fetch is in flight when the signals come
            server.route(
                f"/a/{n}.html",
                Reply(200, f"<h1>通知{n}</h1><div class='content'><p>改后正文{n}。</p></div>".encode(), HTML, drip=0.05),
            )
        proc = _start(data, sources)
        _xxgk(data, "crawl", "long", "--queue", "--sources-dir", str(sources))
        assert wait_for(lambda: any(s.path.startswith("/a/") for s in server.log[mark:]), 30)
        assert proc.stderr is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
        reader.start()
        proc.send_signal(signal.SIGTERM)
        assert wait_for(lambda: any("SIGTERM: stopping" in line for line in lines), 10)  # the first one was heard
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        reader.join(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        assert proc.returncode == 1
    finally:
        server.stop()
    verify = _xxgk(data, "verify")  # the unsealed file of the killed run is recovered first
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
def test_web_app_under_gunicorn_with_four_workers_starts_no_jobs(tmp_path: Path) -> None:
    server, control = _site(items=2), _site(items=1)
    data = tmp_path / "d"
    sources = _source(tmp_path / "sources", "every-second", server, "* * * * * *")
    port = free_port()
    web = start_gunicorn(port, 4, XXGK_DATA_DIR=str(data), XXGK_SOURCES_DIR=str(sources))
    try:
        assert wait_for(lambda: http_status(f"http://127.0.0.1:{port}/healthz") is not None, 30)
        statuses = {http_status(f"http://127.0.0.1:{port}/?q=通知") for _ in range(8)}
        # The event that shows a worker had its chance: a real scheduler given the same kind of source,
        # started after the workers were up, has crawled twice. A job any worker started would have too.
        control_sources = _source(tmp_path / "control-sources", "control", control, "* * * * * *")
        scheduler = _start(tmp_path / "control-data", control_sources)
        try:
            fired = wait_for(lambda: sum(r["status"] == "ok" for r in _runs(tmp_path / "control-data")) >= 2, 60)
        finally:
            _stop(scheduler)
    finally:
        web.send_signal(signal.SIGTERM)
        _, err = web.communicate(timeout=30)
        server.stop()
        control.stop()
    assert fired, "the control scheduler never crawled: nothing was observed"
    assert err.count("Booting worker") == 4
    assert statuses <= {200, 503}  # served (no index yet is a friendly 503), never crashed
    assert server.log == []  # no crawl from any worker
    assert _runs(data) == [] and _heartbeat(data) is None


@pytest.mark.parametrize(
    "expr, fires",
    [
        ("30 2 * * 0", "2026-11-29 02:30"),  # crontab Sunday (APScheduler alone would take 0 as Monday)
        ("30 2 * * 1-5", "2026-11-30 02:30"),
        ("0 0 * * 7", "2026-11-29 00:00"),
    ],
)
def test_cron_weekdays_follow_crontab(expr: str, fires: str) -> None:
    from zoneinfo import ZoneInfo

    from crawler.cron import cron_trigger

    tz = ZoneInfo("Asia/Shanghai")
    after = datetime(2026, 11, 28, 12, 0, tzinfo=tz)  # a Saturday
    assert cron_trigger(expr, tz).get_next_fire_time(None, after).strftime("%Y-%m-%d %H:%M") == fires


def test_status_and_logs_speak_the_configured_time_zone_and_the_schedulers_plan(tmp_path: Path) -> None:
    import logging
    import os
    from zoneinfo import ZoneInfo

    from click.testing import CliRunner

    from archive import logs
    from archive.catalog import Catalog, parse_time
    from xxgk.cli import main

    data = tmp_path / "d"
    with Catalog(data / "catalog.sqlite3") as catalog:
        run_id = catalog.begin_run("portal-a", "schedule")
        catalog.finish_run(run_id, "ok", {"new": 1})
        started = catalog.last_run("portal-a")["started_at"]
        # A scheduler that reads its own source files: it knows the plan this command cannot.
        catalog.beat("scheduler", os.getpid(), "host", started, {"next_runs": {"portal-a": "2026-12-01T02:15:00+08:00"},
                                                                 "schedules": {"portal-a": "15 2 * * *"}})  # fmt: skip
    result = CliRunner().invoke(main, ["--data-dir", str(data), "status"])
    assert result.exit_code == 0, result.output
    local = parse_time(started).astimezone(ZoneInfo("Asia/Shanghai")).isoformat(sep=" ", timespec="seconds")
    assert f"上次 {local}" in result.output and "+08:00" in local
    assert "portal-a  计划 15 2 * * *" in result.output and "下次 2026-12-01 02:15:00+08:00" in result.output
    assert "索引：不可用" in result.output and "xxgk reindex" in result.output  # no index yet, and the remedy
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "抓取开始", None, None)
    record.created, record.msecs = 0.0, 0.0  # 1970-01-01 00:00 UTC
    logs.ContextFilter().filter(record)
    assert logs.formatter("text", "Asia/Shanghai").format(record).startswith("1970-01-01 08:00:00,000+08:00 INFO")
    assert '"time": "1970-01-01T08:00:00.000+08:00"' in logs.formatter("json", "Asia/Shanghai").format(record)


def _run_row(status: str, started: datetime, finished: datetime | None) -> dict[str, object]:
    return {"id": 7, "status": status, "started_at": started.isoformat(), "finished_at": finished and finished.isoformat()}


@pytest.mark.parametrize(
    ("schedule", "run", "now", "catch_up"),
    [
        # `make run`'s shape: the demo crawled its sources a moment ago and starts the scheduler just
        # after a minute boundary passed; that trigger is served by the crawl that just ended.
        ("* * * * *", ("ok", "10:00:10", "10:00:35"), "10:01:05", ""),
        ("* * * * *", ("ok", "10:00:50", "10:00:58"), "10:01:57", ""),
        # ... but a scheduler that started more than a minute after the run ended missed a trigger.
        ("* * * * *", ("ok", "10:00:10", "10:00:35"), "10:02:05", "missed the run due"),
        # A daily schedule down over its trigger time: caught up, whoever ran last.
        ("15 2 * * *", ("ok", "02:15:00", "02:20:00"), "+1 02:16:00", "missed the run due"),
        ("15 2 * * *", ("failed", "02:15:00", "02:15:30"), "+3 09:00:00", "missed the run due"),
        # A manual crawl that ended just before the trigger time stands for it; one long before does not.
        ("15 2 * * *", ("ok", "02:10:00", "02:14:30"), "02:16:00", ""),
        ("15 2 * * *", ("ok", "01:00:00", "01:05:00"), "02:16:00", "missed the run due"),
        # A trigger time while the run was going is served by it (the scheduler would have skipped it).
        ("15 2 * * *", ("ok", "02:00:00", "02:40:00"), "03:00:00", ""),
        ("15 2 * * *", ("interrupted", "02:00:00", "02:10:00"), "02:11:00", "last run 7 was interrupted"),
        ("15 2 * * *", None, "02:11:00", "never crawled"),
    ],
)
def test_a_run_is_caught_up_only_when_a_trigger_time_passed_unserved(
    schedule: str, run: tuple[str, str, str] | None, now: str, catch_up: str
) -> None:
    from zoneinfo import ZoneInfo

    from crawler.schedule import plan_source
    from crawler.sources import load_sources
    from xxgk.demo import demo_sources_dir

    tz = ZoneInfo("Asia/Shanghai")
    day = datetime(2026, 3, 2, tzinfo=tz)

    def at(text: str) -> datetime:
        days, _, clock = text.rpartition(" ")
        hour, minute, second = map(int, clock.split(":"))
        return day + timedelta(days=int(days or 0), hours=hour, minutes=minute, seconds=second)

    source = replace(load_sources([demo_sources_dir()])["demo-mzj"], schedule=schedule)
    last = _run_row(run[0], at(run[1]).astimezone(UTC), at(run[2]).astimezone(UTC)) if run else None
    plan = plan_source(source, last, tz, at(now))
    assert plan.catch_up.startswith(catch_up) if catch_up else plan.catch_up == "", plan.catch_up
