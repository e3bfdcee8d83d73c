"""The `xxgk` command line: the CLI root, composing the packages lazily, one thin command each."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from archive.errors import XxgkError
from archive.settings import SETTINGS, Settings, load_settings

log = logging.getLogger("xxgk")


class _Context:
    def __init__(self, config: str | None, overrides: dict[str, Any], level: int) -> None:
        self.config = config
        self.overrides = overrides
        self.level = level
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from archive import logs

            self._settings = load_settings(self.config, overrides=self.overrides)
            logs.configure(self.level, self._settings.log_format)
        return self._settings


pass_ctx = click.make_pass_decorator(_Context)


def _fail(exc: XxgkError) -> click.ClickException:
    return click.ClickException(exc.message + (f"\n提示 / hint: {exc.hint}" if exc.hint else ""))


class _Group(click.Group):
    """Turns our domain errors into a one-line message and exit status 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XxgkError as exc:
            raise _fail(exc) from None


@click.group(cls=_Group, help="xxgk-archive：政府信息公开的抓取、存档与检索。")
@click.option("--config", type=click.Path(dir_okay=False), envvar="XXGK_CONFIG", help="Settings file (TOML).")
@click.option("--data-dir", help="Data directory (default ./data).")
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or debug output (-vv).")
@click.pass_context
def main(ctx: click.Context, config: str | None, data_dir: str | None, verbose: int) -> None:
    from archive import logs

    level = logging.WARNING - 10 * min(verbose, 2)
    logs.configure(level, "text")  # until the settings (and their log_format) are read
    for noisy in ("httpx", "httpcore", "jieba", "werkzeug", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    ctx.obj = _Context(config, {"data_dir": data_dir}, level)


def _open_archive(settings: Settings):  # type: ignore[no-untyped-def]
    from archive.catalog import Catalog
    from archive.store import WarcStore

    store = WarcStore(settings.warc_dir, settings.warc_max_bytes)
    for name in store.recover():
        log.warning("recovered unsealed WARC file %s", name)
    return Catalog(settings.catalog_path), store


@contextlib.contextmanager
def _bar(label: str, total: int):  # type: ignore[no-untyped-def]
    """A progress bar on a terminal (stderr), fed with the count done so far; silent otherwise."""
    if not sys.stderr.isatty() or total <= 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        done = [0]

        def tick(count: int) -> None:
            bar.update(count - done[0])
            done[0] = count

        yield tick


def _progress(source_id: str):  # type: ignore[no-untyped-def]
    """A live count on a terminal (nothing when output goes to a file or a pipe)."""
    if not sys.stdout.isatty():
        return None
    count = [0]

    def tick(url: str) -> None:
        count[0] += 1
        click.echo(f"\r{source_id}: 已处理 {count[0]} 篇 …", nl=False)

    return tick


def _crawl_and_say(source, settings: Settings, catalog, store, worker=None) -> None:  # type: ignore[no-untyped-def]
    from crawler.run import crawl_source

    report = crawl_source(source, settings, catalog, store, progress=_progress(source.id), worker=worker)
    tty = sys.stdout.isatty()
    click.echo(("\r" if tty else "") + report.summary() + (" " * 8 if tty else ""))  # pad over the progress line


def _sources(settings: Settings, extra_dir: str | None):  # type: ignore[no-untyped-def]
    from crawler.sources import load_sources

    dirs = [Path(d) for d in (settings.sources_dir, extra_dir) if d]
    for directory in dirs:
        if not directory.is_dir():
            raise XxgkError(f"sources directory {directory} does not exist", "create it or fix sources_dir")
    return load_sources(dirs)


@main.command()
@click.argument("source_ids", nargs=-1)
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every configured source.")
@click.option("--sources-dir", type=click.Path(file_okay=False, exists=True), help="Extra directory of source TOML files.")
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@click.option("--queue", is_flag=True, help="Ask the running scheduler to crawl them now instead of crawling here.")
@pass_ctx
def crawl(obj: _Context, source_ids: tuple[str, ...], crawl_all: bool, sources_dir: str | None, no_index: bool,
          queue: bool) -> None:
    """Crawl SOURCE... (or --all) into the archive, then update the index."""
    settings = obj.settings
    sources = _sources(settings, sources_dir)
    if crawl_all:
        chosen = list(sources.values())
    else:
        if not source_ids:
            raise click.UsageError("name one or more sources, or pass --all (see `xxgk sources`)")
        unknown = [s for s in source_ids if s not in sources]
        if unknown:
            raise click.UsageError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(sources)) or 'none'}")
        chosen = [sources[s] for s in source_ids]
    if not chosen:
        raise click.UsageError("no sources configured: put source TOML files in a directory and set sources_dir (see README)")
    if queue:
        from archive.catalog import Catalog, is_alive

        with Catalog(settings.catalog_path) as catalog:
            for source in chosen:
                catalog.request_crawl(source.id, f"cli pid {os.getpid()}")
            beat = catalog.heartbeat("scheduler")
        click.echo(f"已请求调度器抓取：{', '.join(s.id for s in chosen)}")
        if not is_alive(beat, settings.scheduler_poll_s):
            click.echo("提示：调度器似乎没有在运行（`xxgk scheduler`），请求会在它启动后执行。", err=True)
        return
    from crawler.attachments import AttachmentWorker

    catalog, store = _open_archive(settings)
    with catalog, AttachmentWorker(settings.attachment_timeout_s, settings.attachment_memory_mb) as worker:
        for source in chosen:
            _crawl_and_say(source, settings, catalog, store, worker)
        if not no_index:
            from index.reports.extract import extract_all
            from index.sync import sync

            click.echo(f"索引已更新：{sync(settings, catalog)} 篇文档")
            extract_all(catalog)


@main.command()
@click.option("--sources-dir", type=click.Path(file_okay=False, exists=True), help="Extra directory of source TOML files.")
@click.option("--stop-with-parent", is_flag=True, hidden=True, help="Stop when the parent process exits (xxgk demo).")
@pass_ctx
def scheduler(obj: _Context, sources_dir: str | None, stop_with_parent: bool) -> None:
    """Run the sources' crawls on their cron schedules until SIGTERM/Ctrl+C (one per data directory)."""
    from crawler.schedule import CrawlScheduler
    from index.reports.extract import extract_all
    from index.sync import sync

    def after_crawl(settings: Settings, catalog) -> None:  # type: ignore[no-untyped-def]
        sync(settings, catalog)
        extract_all(catalog)

    settings = obj.settings
    sources = _sources(settings, sources_dir)
    if not sources:
        raise click.UsageError("no sources configured: put source TOML files in a directory and set sources_dir (see README)")
    raise SystemExit(CrawlScheduler(settings, sources, after_crawl=after_crawl,
                                    parent_pid=os.getppid() if stop_with_parent else None).run())


@main.command()
@click.option("--sources-dir", type=click.Path(file_okay=False, exists=True), help="Extra directory of source TOML files.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(obj: _Context, sources_dir: str | None, as_json: bool) -> None:
    """Per source the last run and the next one, and whether the scheduler is alive."""
    from archive.catalog import Catalog, is_alive, parse_time

    settings = obj.settings
    sources = _sources(settings, sources_dir)
    with Catalog(settings.catalog_path) as catalog:
        beat = catalog.heartbeat("scheduler")
        alive = is_alive(beat, settings.scheduler_poll_s)
        next_runs = (beat or {}).get("info", {}).get("next_runs", {}) if alive else {}
        pending = {r["source_id"] for r in catalog.pending_requests()}  # one query, not one per source
        rows = []
        for source_id in sorted(set(sources) | {r["source_id"] for r in catalog.runs()}):
            last = catalog.last_run(source_id)
            rows.append({"source": source_id, "schedule": sources[source_id].schedule if source_id in sources else "",
                         "last_run": last, "next_run": next_runs.get(source_id),
                         "consecutive_failures": catalog.consecutive_failures(source_id),
                         "pending_request": source_id in pending})
    if as_json:
        click.echo(json.dumps({"scheduler": {"alive": alive, **(beat or {})}, "sources": rows}, ensure_ascii=False, indent=2))
        return
    if alive:
        click.echo(f"调度器：运行中（进程 {beat['pid']}，{beat['host']}，最近心跳 {beat['beat_at']}）")
    elif beat:
        click.echo(f"调度器：未运行（最近心跳 {beat['beat_at']}{'，已正常停止' if beat['info'].get('stopped_at') else ''}）")
    else:
        click.echo("调度器：从未运行（`xxgk scheduler`）")
    for row in rows:
        last = row["last_run"]
        click.echo(f"{row['source']}  计划 {row['schedule'] or '无（仅手动）'}")
        if last:
            report = last["report"] or {}
            took = ""
            if last["finished_at"]:
                took = f"，用时 {(parse_time(last['finished_at']) - parse_time(last['started_at'])).total_seconds():.0f} 秒"
            failed = sum((report.get("failed") or {}).values())
            click.echo(f"  上次 {last['started_at']}（{last['trigger'] or 'manual'}）{last['status']}{took}："
                       f"新增 {report.get('new', 0)}，变更 {report.get('changed', 0)}，撤回 {report.get('withdrawn', 0)}，失败 {failed}")
            if last["error"]:
                click.echo(f"  错误：{last['error'].strip().splitlines()[-1]}")
            if last["log_file"]:
                click.echo(f"  日志：{last['log_file']}")
        else:
            click.echo("  尚未抓取")
        if row["next_run"]:
            click.echo(f"  下次 {row['next_run']}")
        if row["consecutive_failures"] >= settings.failure_backoff_after:
            click.echo(f"  ⚠ 连续失败 {row['consecutive_failures']} 次，已退避（间隔逐次加倍）")
        if row["pending_request"]:
            click.echo("  已请求立即抓取，等待调度器执行")


@main.group(invoke_without_command=True)
@click.option("--sources-dir", type=click.Path(file_okay=False, exists=True), help="Extra directory of source TOML files.")
@click.pass_context
def sources(ctx: click.Context, sources_dir: str | None) -> None:
    """List the configured sources (or `check` one)."""
    ctx.meta["sources_dir"] = sources_dir
    if ctx.invoked_subcommand is None:
        for source in _sources(ctx.find_object(_Context).settings, sources_dir).values():
            click.echo(f"{source.id}\t{source.platform}\t{source.name}\t{len(source.columns)} 栏目\t{source.base_url}")


@sources.command(name="check")
@click.argument("source_id")
@click.pass_context
def sources_check(ctx: click.Context, source_id: str) -> None:
    """Fetch one list page and one detail page of SOURCE_ID; show each field and where it came from."""
    from crawler.probe import probe_source

    settings = ctx.find_object(_Context).settings
    known = _sources(settings, ctx.meta.get("sources_dir"))
    if source_id not in known:
        raise click.UsageError(f"unknown source {source_id!r}; known: {', '.join(sorted(known)) or 'none'}")
    report = probe_source(known[source_id], settings)
    click.echo(f"列表页 {report.list_url}: {len(report.items)} 条" + (f"，另有 {report.more_pages} 个列表页" if report.more_pages else ""))
    for item in report.items[:3]:
        click.echo(f"  {item.list_date or '----------'}  {item.title}  {item.url}")
    if report.document is not None:
        doc = report.document
        click.echo(f"详情页 {report.detail_url}:")
        rows = (("标题", "title", doc.title), ("发布机构", "agency", doc.agency), ("发布日期", "published", doc.published),
                ("成文日期", "written", doc.written), ("文号", "doc_no", doc.doc_no), ("索引号", "index_no", doc.index_no),
                ("主题分类", "topic", doc.topic), ("正文", "body", f"{len(doc.body)} 字"))
        for label, key, value in rows:
            found = report.trace.get(key, "")
            click.echo(f"  {'✓' if value and found else '✗'} {label}\t{value or '—'}\t[{found or 'not found'}]")
    for problem in report.problems:
        click.echo(f"提示: {problem}", err=True)
    if report.problems:
        raise click.exceptions.Exit(1)


@main.command()
@pass_ctx
def reindex(obj: _Context) -> None:
    """Rebuild the search index from the catalog (new directory, then an atomic swap)."""
    from archive.catalog import Catalog
    from index.sync import rebuild

    settings = obj.settings
    with Catalog(settings.catalog_path) as catalog, _bar("重建索引", catalog.count()) as tick:
        count = rebuild(settings, catalog, progress=tick)
    click.echo(f"索引已重建：{count} 篇文档")


@main.command()
@click.argument("query", default="")
@click.option("--category", help="Only this category (栏目).")
@click.option("--agency", help="Only this agency (发布机构).")
@click.option("--year", help="Only this year.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance")
@click.option("--limit", type=click.IntRange(1, 50), default=10)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def search(obj: _Context, query: str, category: str | None, agency: str | None, year: str | None, sort: str,
           limit: int, as_json: bool) -> None:
    """Search the index from the terminal (ranked: id, score, title, url, snippet)."""
    import html
    import re

    from index import analysis
    from index.api import SearchRequest
    from index.engine import WhooshEngine

    settings = obj.settings
    analysis.configure(settings.cache_dir)
    engine = WhooshEngine(settings.index_path, settings.max_query_chars)
    filters = {k: v for k, v in (("category", category), ("agency", agency), ("year", year)) if v}
    try:
        result = engine.search(SearchRequest(q=query, filters=filters, sort=sort, page_size=limit))
    finally:
        engine.close()
    if as_json:
        out = {"query": query, "total": result.total, "took_ms": round(result.took_ms, 1), "notice": result.notice,
               "doc_no_match": result.doc_no_match or None, "hits": [
            {"id": h.id, "title": h.title, "url": h.url, "agency": h.agency, "category": h.category, "doc_no": h.doc_no,
             "published": h.published.isoformat() if h.published else None, "score": round(h.score, 3),
             "snippet": html.unescape(re.sub(r"</?mark>", "", h.snippet)), "snippet_html": h.snippet}
            for h in result.hits]}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"共 {result.total} 条结果（{result.took_ms:.0f} 毫秒）")
    if result.notice:
        click.echo(result.notice)
    if result.doc_no_match:
        click.echo(f"文号对应文件：{result.doc_no_match}")
    for h in result.hits:
        plain = html.unescape(re.sub(r"</?mark>", "", h.snippet))
        click.echo(f"\n{h.id}  {h.score:6.2f}  {h.title}\n  {h.agency} · {h.published or '日期不详'} · {h.category}"
                   f"{' · ' + h.doc_no if h.doc_no else ''}\n  {h.url}\n  {plain}")


@main.command(name="admin-password")
@click.password_option(prompt="管理密码", confirmation_prompt="再次输入")
def admin_password(password: str) -> None:
    """Print the hash of a staff password, for `admin_password_hash` in the config file."""
    from werkzeug.security import generate_password_hash

    if len(password) < 10:
        raise click.UsageError("密码至少需要 10 个字符。")
    click.echo(generate_password_hash(password))


@main.command()
@click.option("--host", help="Address to listen on.")
@click.option("--port", type=int, help="Port to listen on.")
@pass_ctx
def serve(obj: _Context, host: str | None, port: int | None) -> None:
    """Serve the search site."""
    from search_web.server import run_server

    settings = obj.settings.replace(**{k: v for k, v in (("host", host), ("port", port)) if v is not None})
    run_server(settings)


@main.command()
@click.option("--port", type=int, help="Port of the search site.")
@click.option("--portal-port", type=int, help="Port of the demo portal.")
@click.option("--no-serve", is_flag=True, help="Crawl and index, then exit.")
@click.option("--revise/--no-revise", default=True, help="After the first crawl, edit one item and withdraw another, then crawl again.")
@click.option("--schedule", default="* * * * *", show_default=True,
              help="Cron schedule of the demo sources for the scheduler started beside the site.")
@click.option("--publish-every", type=float, default=60.0, show_default=True,
              help="Seconds between new items on the demo portal while serving (0: none).")
@pass_ctx
def demo(obj: _Context, port: int | None, portal_port: int | None, no_serve: bool, revise: bool, schedule: str,
         publish_every: float) -> None:
    """Start the bundled demo portal, crawl it, index, then serve the search site beside a scheduler."""
    from crawler.demo_portal.server import DemoPortal
    from crawler.sources import demo_sources_dir, load_sources
    from index.sync import sync

    settings = obj.settings
    if port is not None:
        settings = settings.replace(port=port)
    click.echo("正在生成演示门户（杭州市余杭区 政府信息公开）…")
    portal = DemoPortal()
    wanted = portal_port if portal_port is not None else settings.demo_port
    portal_url = portal.serve("127.0.0.1", _free_port("127.0.0.1", wanted))
    click.echo(f"演示门户：{portal_url}/")
    from crawler.attachments import AttachmentWorker

    catalog, store = _open_archive(settings)
    with catalog, AttachmentWorker(settings.attachment_timeout_s, settings.attachment_memory_mb) as worker:
        sources = [s.with_base_url(portal_url) for s in load_sources([demo_sources_dir()]).values()]
        for source in sources:
            _crawl_and_say(source, settings, catalog, store, worker)
        click.echo("正在建立索引…")
        click.echo(f"索引已更新：{sync(settings, catalog)} 篇文档")
        if revise:
            portal.revise()
            click.echo("演示：门户修改了一条通知、撤回了一条动态；再次抓取（只发条件请求）…")
            for source in sources:
                _crawl_and_say(source, settings, catalog, store, worker)
            # The path every deployment takes after a crawl: only the changed documents, with deletions.
            click.echo(f"索引已增量同步：{sync(settings, catalog)} 篇文档")
        from index.reports.extract import extract_all

        click.echo(f"年度报告数据：{len(extract_all(catalog))} 份")
    if no_serve:
        portal.stop()
        return
    from search_web.server import run_server

    sources_dir = _write_demo_sources(settings, portal_url, schedule)
    # Its own session: a Ctrl+C in the terminal reaches only us, and we stop it with one SIGTERM.
    scheduler = subprocess.Popen([sys.executable, "-m", "archive.cli", "--data-dir", str(settings.data_path),
                                  *(["--config", obj.config] if obj.config else []),
                                  "scheduler", "--sources-dir", str(sources_dir), "--stop-with-parent"],
                                 env={**os.environ, "XXGK_SOURCES_DIR": ""}, start_new_session=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` of the demo stops the site and the scheduler cleanly
    click.echo(f"调度器已启动（进程 {scheduler.pid}）：演示来源按 “{schedule}” 定时抓取" +
               (f"；演示门户每 {publish_every:g} 秒发布一条新的工作动态" if publish_every > 0 else ""))
    stop = threading.Event()
    if publish_every > 0:
        threading.Thread(target=_publish_loop, args=(portal, publish_every, stop), daemon=True).start()
    if not settings.admin_password_hash:
        # The demo's staff pages get a one-off password (a real deployment sets admin_password_hash).
        import secrets

        from werkzeug.security import generate_password_hash

        demo_password = secrets.token_urlsafe(9)
        settings = settings.replace(admin_password_hash=generate_password_hash(demo_password))
        click.echo(f"管理页面 /admin/ 的演示密码：{demo_password}（仅本次运行有效）")
    try:
        run_server(settings.replace(port=_free_port(settings.host, settings.port)))
    finally:
        stop.set()
        scheduler.send_signal(signal.SIGTERM)
        try:
            scheduler.wait(timeout=settings.stop_timeout_s + 10)
        except subprocess.TimeoutExpired:
            scheduler.kill()
        portal.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _write_demo_sources(settings: Settings, portal_url: str, schedule: str) -> Path:
    """The demo sources, pointed at the running portal and put on `schedule`, for the scheduler process."""
    from crawler.cron import cron_trigger
    from crawler.sources import demo_sources_dir

    try:
        cron_trigger(schedule, timezone.utc)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--schedule") from None
    target = settings.data_path / "demo-sources"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(demo_sources_dir().glob("*.toml")):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("base_url ="):
                line = f'base_url = "{portal_url}"'
            elif line.startswith("schedule ="):
                line = f'schedule = "{schedule}"'
            lines.append(line)
        (target / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _publish_loop(portal, every_s: float, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """New items keep appearing on the demo portal, as on a real one."""
    from zoneinfo import ZoneInfo

    while not stop.wait(every_s):
        portal.publish(datetime.now(ZoneInfo("Asia/Shanghai")).date())


def _free_port(host: str, preferred: int) -> int:
    """`preferred` when it is free (0 means any), else a free port chosen by the OS."""
    import socket

    for candidate in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                if candidate:
                    log.warning("port %d is in use; picking a free one", candidate)
                continue
            return int(sock.getsockname()[1])
    raise click.ClickException(f"no free port on {host}")


@main.command()
@click.option("--index", "check_index", is_flag=True,
              help="Compare the search index with the catalog instead of checking the WARC files.")
@pass_ctx
def verify(obj: _Context, check_index: bool) -> None:
    """Recompute every WARC digest and the manifest; check every catalog pointer (or, with --index, the index)."""
    if check_index:
        _verify_index(obj.settings)
        return
    from archive.verify import verify_archive

    catalog, store = _open_archive(obj.settings)
    with catalog:
        report = verify_archive(store, catalog)
    for problem in report.problems:
        click.echo(f"FAIL {problem}", err=True)
    click.echo(f"检查了 {report.files} 个 WARC 文件、{report.records} 条记录、{report.captures} 条抓取记录："
               + ("全部通过" if report.ok else f"{len(report.problems)} 处问题"))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _verify_index(settings: Settings) -> None:
    """Every catalog document in the index once, at its current version and status, and nothing else."""
    from archive.catalog import Catalog
    from index.agreement import compare
    from index.engine import WhooshEngine

    engine = WhooshEngine(settings.index_path)
    try:
        with Catalog(settings.catalog_path, readonly=True) as catalog:
            report = compare(engine, catalog)
            behind = max(0, catalog.max_seq() - int(engine.meta.get("catalog_seq", 0)))
    finally:
        engine.close()
    for problem in report.problems():
        click.echo(f"FAIL {problem}", err=True)
    differences = len(report.missing) + len(report.extra) + len(report.duplicated) + len(report.stale) + len(report.status)
    click.echo(f"索引 {report.index_documents} 篇，存档 {report.catalog_documents} 篇："
               + ("一致" if report.ok else f"{differences} 处不一致"))
    if behind:
        click.echo(f"索引落后存档 {behind} 个变更：运行 `xxgk crawl` 或 `xxgk import` 后会同步，也可运行 `xxgk reindex`")
    elif not report.ok:
        click.echo("提示 / hint: 运行 `xxgk reindex` 从存档重建索引", err=True)
    if not report.ok:
        raise click.exceptions.Exit(1)


@main.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default stdout).")
@pass_ctx
def export_cmd(obj: _Context, fmt: str, output: str | None) -> None:
    """Write the catalog's documents as JSON lines or CSV."""
    import contextlib

    from archive.catalog import Catalog
    from archive.transfer import export_documents

    with Catalog(obj.settings.catalog_path) as catalog, contextlib.ExitStack() as stack:
        out = stack.enter_context(open(output, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")) \
            if output else click.get_text_stream("stdout")
        count = export_documents(catalog, out, fmt)
    click.echo(f"导出 {count} 篇文档", err=True)


@main.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="import", help="Source id for lines without one.")
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@pass_ctx
def import_cmd(obj: _Context, file: str, source: str, no_index: bool) -> None:
    """Load documents from a JSON-lines file (url, title, agency, published, category, doc_no, index_no, text, id)."""
    from archive.transfer import import_documents

    catalog, _ = _open_archive(obj.settings)
    with catalog, open(file, encoding="utf-8-sig") as fh:
        lines = fh.readlines()
        with _bar("导入", sum(1 for line in lines if line.strip())) as tick:
            report = import_documents(catalog, lines, source, progress=tick)
        for number, message in report.errors:
            click.echo(f"{file}:{number}: skipped: {message}", err=True)
        click.echo(f"导入：新增 {report.new}，变更 {report.changed}，未变 {report.unchanged}，跳过 {len(report.errors)} 行")
        if not no_index:
            from index.sync import sync

            click.echo(f"索引已更新：{sync(obj.settings, catalog)} 篇文档")
    if report.errors:
        raise click.exceptions.Exit(1)


@main.group()
def reports() -> None:
    """Annual reports (政府信息公开工作年度报告) as data."""


@reports.command(name="extract")
@pass_ctx
def reports_extract(obj: _Context) -> None:
    """Find the annual reports in the archive and extract their figures again (idempotent)."""
    from archive.catalog import Catalog
    from index.reports.extract import extract_all

    with Catalog(obj.settings.catalog_path) as catalog:
        found = extract_all(catalog)
    standard = sum(r.format == "standard" for r in found)
    failed = [(r, c) for r in found for c in r.checks if not c.ok]
    click.echo(f"年度报告：{len(found)} 份（标准表格 {standard} 份，文字 {len(found) - standard} 份），"
               f"数字 {sum(len(r.figures) for r in found)} 个，校验未通过 {len(failed)} 项")
    for report, check in failed:
        click.echo(f"  {report.agency} {report.year}：{check.name}：{check.detail}")
    for report in found:
        for problem in report.problems:
            click.echo(f"  {report.agency} {report.year}：未能读取 {problem}", err=True)


@main.command(name="settings")
def show_settings() -> None:
    """List every setting with its default and help."""
    for s in SETTINGS:
        click.echo(f"{s.name} = {s.default!r}\n    {s.help}")


if __name__ == "__main__":  # `python -m archive.cli`, used to start the scheduler beside `xxgk demo`
    main()
