"""The crawler's commands: `crawl`, `scheduler`, `status`, `sources` (and `sources check`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from archive.clikit import Context, open_archive, pass_ctx
from archive.errors import XxgkError
from archive.settings import Settings

_SOURCES_DIR = click.option(
    "--sources-dir", type=click.Path(file_okay=False, exists=True), help="Extra directory of source TOML files."
)


# `sources add` may name a directory it is about to create.
_SOURCES_DIR_TO_BE = click.option(
    "--sources-dir", type=click.Path(file_okay=False), help="Directory of source TOML files (`add` creates it)."
)


def _progress(source_id: str):  # type: ignore[no-untyped-def]
    """A live count on a terminal (nothing when output goes to a file or a pipe)."""
    if not sys.stdout.isatty():
        return None
    count = [0]

    def tick(url: str) -> None:
        count[0] += 1
        click.echo(f"\r{source_id}: 已处理 {count[0]} 篇 …", nl=False)

    return tick


def crawl_and_say(source, settings: Settings, catalog, store, worker=None, robots=None) -> None:  # type: ignore[no-untyped-def]
    from crawler.run import crawl_source

    report = crawl_source(source, settings, catalog, store, progress=_progress(source.id), worker=worker, robots=robots)
    tty = sys.stdout.isatty()
    click.echo(("\r" if tty else "") + report.summary() + (" " * 8 if tty else ""))  # pad over the progress line


def _sources(settings: Settings, extra_dir: str | None):  # type: ignore[no-untyped-def]
    from crawler.sources import load_sources

    dirs = [Path(d) for d in (settings.sources_dir, extra_dir) if d]
    for directory in dirs:
        if not directory.is_dir():
            raise XxgkError(f"sources directory {directory} does not exist", "create it or fix sources_dir")
    return load_sources(dirs)


def _context(ctx: click.Context) -> Context:
    found = ctx.find_object(Context)
    assert found is not None, "the xxgk root command sets the context"
    return found


@click.command()
@click.argument("source_ids", nargs=-1)
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every configured source.")
@_SOURCES_DIR
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@click.option("--queue", is_flag=True, help="Ask the running scheduler to crawl them now instead of crawling here.")
@pass_ctx
def crawl(
    obj: Context, source_ids: tuple[str, ...], crawl_all: bool, sources_dir: str | None, no_index: bool, queue: bool
) -> None:
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
    from crawler.robots import RobotsCache

    catalog, store = open_archive(settings)
    robots = RobotsCache()  # one read of robots.txt per host for the whole invocation
    with catalog, AttachmentWorker(settings.attachment_timeout_s, settings.attachment_memory_mb) as worker:
        for source in chosen:
            crawl_and_say(source, settings, catalog, store, worker, robots)
        if not no_index:
            click.echo(obj.derived.refresh(settings, catalog))


@click.command()
@_SOURCES_DIR
@click.option("--stop-with-parent", is_flag=True, hidden=True, help="Stop when the parent process exits (xxgk demo).")
@pass_ctx
def scheduler(obj: Context, sources_dir: str | None, stop_with_parent: bool) -> None:
    """Run the sources' crawls on their cron schedules until SIGTERM/Ctrl+C (one per data directory)."""
    from crawler.schedule import CrawlScheduler

    def after_crawl(settings: Settings, catalog) -> None:  # type: ignore[no-untyped-def]
        obj.derived.refresh(settings, catalog)

    settings = obj.settings
    sources = _sources(settings, sources_dir)
    if not sources:
        raise click.UsageError("no sources configured: put source TOML files in a directory and set sources_dir (see README)")
    raise SystemExit(
        CrawlScheduler(settings, sources, after_crawl=after_crawl, parent_pid=os.getppid() if stop_with_parent else None).run()
    )


@click.command()
@_SOURCES_DIR
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(obj: Context, sources_dir: str | None, as_json: bool) -> None:
    """Per source the last run and the next one, and whether the scheduler is alive."""
    from archive.catalog import Catalog, is_alive, parse_time

    settings = obj.settings
    sources = _sources(settings, sources_dir)
    with Catalog(settings.catalog_path) as catalog:
        beat = catalog.heartbeat("scheduler")
        alive = is_alive(beat, settings.scheduler_poll_s)
        info = (beat or {}).get("info", {}) if alive else {}
        next_runs, schedules = info.get("next_runs", {}), info.get("schedules", {})
        pending = {r["source_id"] for r in catalog.pending_requests()}  # one query, not one per source
        rows = []
        for source_id in sorted(set(sources) | {r["source_id"] for r in catalog.runs()}):
            last = catalog.last_run(source_id)
            rows.append(
                {
                    "source": source_id,
                    # The scheduler's own plan when it runs (it may read other source files than this command).
                    "schedule": schedules.get(source_id) or (sources[source_id].schedule if source_id in sources else ""),
                    "last_run": last,
                    "next_run": next_runs.get(source_id),
                    "consecutive_failures": catalog.consecutive_failures(source_id),
                    "pending_request": source_id in pending,
                }
            )
    index = obj.derived.describe(settings)
    if as_json:
        body = {"scheduler": {"alive": alive, **(beat or {})}, "index": index, "sources": rows}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    from crawler.schedule import zone

    tz = zone(settings)

    def local(stamp: str) -> str:  # every time in the configured zone, with its offset
        return parse_time(stamp).astimezone(tz).isoformat(sep=" ", timespec="seconds")

    if alive and beat:
        click.echo(f"调度器：运行中（进程 {beat['pid']}，{beat['host']}，最近心跳 {local(beat['beat_at'])}）")
    elif beat:
        stopped = "，已正常停止" if beat["info"].get("stopped_at") else ""
        click.echo(f"调度器：未运行（最近心跳 {local(beat['beat_at'])}{stopped}）")
    else:
        click.echo("调度器：从未运行（`xxgk scheduler`）")
    if "error" in index:
        click.echo(f"索引：不可用（{index['error']}）")
    else:
        updated = f"，最近更新 {local(index['updated_at'])}" if index.get("updated_at") else ""
        click.echo(f"索引：检索引擎 {index['backend']}，{index['documents']} 篇文档{updated}")
    for row in rows:
        last = row["last_run"]
        plan = row["schedule"] or ("见调度器" if row["next_run"] else "无（仅手动）")
        click.echo(f"{row['source']}  计划 {plan}")
        if last:
            report = last["report"] or {}
            took = ""
            if last["finished_at"]:
                took = f"，用时 {(parse_time(last['finished_at']) - parse_time(last['started_at'])).total_seconds():.0f} 秒"
            failed = sum((report.get("failed") or {}).values())
            click.echo(
                f"  上次 {local(last['started_at'])}（{last['trigger'] or 'manual'}）{last['status']}{took}："
                f"新增 {report.get('new', 0)}，变更 {report.get('changed', 0)}，撤回 {report.get('withdrawn', 0)}，失败 {failed}"
            )
            if last["error"]:
                click.echo(f"  错误：{last['error'].strip().splitlines()[-1]}")
            if last["log_file"]:
                click.echo(f"  日志：{last['log_file']}")
        else:
            click.echo("  尚未抓取")
        if row["next_run"]:
            click.echo(f"  下次 {local(row['next_run'])}")
        if row["consecutive_failures"] >= settings.failure_backoff_after:
            click.echo(f"  ⚠ 连续失败 {row['consecutive_failures']} 次，已退避（间隔逐次加倍）")
        if row["pending_request"]:
            click.echo("  已请求立即抓取，等待调度器执行")


@click.group(invoke_without_command=True)
@_SOURCES_DIR_TO_BE
@click.pass_context
def sources(ctx: click.Context, sources_dir: str | None) -> None:
    """List the configured sources; `check` one, or `add` one from a portal's address."""
    ctx.meta["sources_dir"] = sources_dir
    if ctx.invoked_subcommand is None:
        for source in _sources(_context(ctx).settings, sources_dir).values():
            click.echo(f"{source.id}\t{source.platform}\t{source.name}\t{len(source.columns)} 栏目\t{source.base_url}")


@sources.command(name="check")
@click.argument("source_id")
@click.option("--column", "column_names", multiple=True, metavar="NAME", help="Probe this column (repeatable).")
@click.option("--all", "all_columns", is_flag=True, help="Probe every column.")
@click.pass_context
def sources_check(ctx: click.Context, source_id: str, column_names: tuple[str, ...], all_columns: bool) -> None:
    """Fetch one list page and one detail page per column of SOURCE_ID (the first column unless --column
    or --all); show each field and where it came from. Exit 1 only on errors the source file can fix."""
    from crawler.probe import probe_source

    settings = _context(ctx).settings
    known = _sources(settings, ctx.meta.get("sources_dir"))
    if source_id not in known:
        raise click.UsageError(f"unknown source {source_id!r}; known: {', '.join(sorted(known)) or 'none'}")
    source = known[source_id]
    by_name = {c.name: c for c in source.columns}
    missing = [n for n in column_names if n not in by_name]
    if missing:
        raise click.UsageError(f"unknown column(s) {', '.join(missing)}; columns of {source_id}: {', '.join(by_name)}")
    columns = list(source.columns) if all_columns else [by_name[n] for n in column_names] or None
    reports = probe_source(source, settings, columns)
    for report in reports:
        _say_probe(report)
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    click.echo(f"检查了 {len(reports)} 个栏目：错误 {errors}，提示 {warnings}" + ("（见上面的错误）" if errors else ""))
    if errors:
        raise click.exceptions.Exit(1)


@sources.command(name="add")
@click.argument("url")
@click.option("--id", "new_id", default="", help="Id of the new source (default: from the host name).")
@click.option("--allow-private", is_flag=True, help="The portal is on this machine or a private network (demo, tests).")
@click.option("--force", is_flag=True, help="Overwrite an existing source file of that id.")
@click.pass_context
def sources_add(ctx: click.Context, url: str, new_id: str, allow_private: bool, force: bool) -> None:
    """Find the platform and columns of the portal at URL (its 政府信息公开 page, or any column page),
    probe one list and one detail page of each, and write a commented source file to review."""
    from crawler.discover import discover, source_file

    settings = _context(ctx).settings
    directory = Path(ctx.meta.get("sources_dir") or settings.sources_dir or "sources")
    if new_id and (directory / f"{new_id}.toml").exists() and not force:  # say so before any request
        raise click.UsageError(f"{directory / (new_id + '.toml')} already exists; pass --force to overwrite it")
    found = discover(url, settings, allow_private=allow_private, source_id_=new_id)
    path = directory / f"{found.id}.toml"
    if path.exists() and not force:
        raise click.UsageError(f"{path} already exists; pass --force to overwrite it, or --id to choose another id")
    known = _sources(settings, None) if settings.sources_dir and Path(settings.sources_dir).is_dir() else {}
    if found.id in known and Path(known[found.id].path) != path:
        raise click.UsageError(f"id {found.id!r} is already used by {known[found.id].path}; choose another with --id")
    if not found.crawled:
        raise click.exceptions.Exit(_say_nothing_found(found))
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(source_file(found), encoding="utf-8")
    click.echo(f"平台：{found.platform}；网站：{found.name or '（未识别）'}")
    for column in found.columns:
        if column.note:
            click.echo(f"  ✗ {column.name}\t{column.url}\t{column.note}")
            continue
        doc = column.sample
        about = f"；样例 {doc.title[:24]}（{doc.published or '日期不详'}，{doc.agency or '发布机构未注明'}）" if doc else ""
        more = f"，另有 {column.more_pages} 个列表页" if column.more_pages else ""
        click.echo(f"  ✓ {column.name}\t{column.url}\t首页 {column.items} 条{more}{about}")
    configured = bool(settings.sources_dir) and Path(settings.sources_dir).resolve() == directory.resolve()
    flag = "" if configured else f" --sources-dir {directory}"
    click.echo(f"已写入 {path}：请核对后运行 `xxgk sources{flag} check {found.id} --all`，再 `xxgk crawl {found.id}{flag}`")
    if not configured:
        click.echo(f'提示：在设置文件中写 sources_dir = "{directory}"，调度器和 `xxgk crawl --all` 就会包括它。')


def _say_nothing_found(found) -> int:  # type: ignore[no-untyped-def]
    click.echo(
        f"在 {found.entry} 上没有找到带日期的文件列表（平台判断为 {found.platform}）："
        "请给出网站“政府信息公开”目录页或某个栏目列表页的地址；也可以手写源文件（见 README“Adding a portal”）。",
        err=True,
    )
    return 1


def _say_probe(report) -> None:  # type: ignore[no-untyped-def]
    click.echo(f"栏目“{report.column}”")
    click.echo(
        f"  列表页 {report.list_url}: {len(report.items)} 条"
        + (f"，另有 {report.more_pages} 个列表页" if report.more_pages else "")
    )
    for item in report.items[:3]:
        click.echo(f"    {item.list_date or '----------'}  {item.title}  {item.url}")
    if report.document is not None:
        doc = report.document
        click.echo(f"  详情页 {report.detail_url}:")
        rows = (
            ("标题", "title", doc.title),
            ("发布机构", "agency", doc.agency),
            ("发布日期", "published", doc.published),
            ("列表日期", "listed", doc.listed),  # the list's or URL's date: shown, never taken as 发布日期
            ("成文日期", "written", doc.written),
            ("文号", "doc_no", doc.doc_no),
            ("索引号", "index_no", doc.index_no),
            ("主题分类", "topic", doc.topic),
            ("正文", "body", f"{len(doc.body)} 字"),
        )
        for label, key, value in rows:
            found = report.trace.get(key, "")
            click.echo(f"    {'✓' if value and found else '✗'} {label}\t{value or '—'}\t[{found or 'not found'}]")
    for error in report.errors:
        click.echo(f"  错误: {error}", err=True)
    for warning in report.warnings:
        click.echo(f"  提示: {warning}", err=True)


def register(root: click.Group) -> None:
    """Add this package's commands to the `xxgk` command."""
    for command in (crawl, scheduler, status, sources):
        root.add_command(command)
