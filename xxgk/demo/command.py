"""The `xxgk demo` command (behind `make run`): the demo portal on loopback, crawled, indexed, served."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from archive.clikit import Context, open_archive, pass_ctx
from archive.settings import Settings
from xxgk.demo import demo_sources_dir

log = logging.getLogger("xxgk")


@click.command()
@click.option("--port", type=int, help="Port of the search site.")
@click.option("--portal-port", type=int, help="Port of the demo portal.")
@click.option("--no-serve", is_flag=True, help="Crawl and index, then exit.")
@click.option(
    "--revise/--no-revise", default=True, help="After the first crawl, edit one item and withdraw another, then crawl again."
)
@click.option(
    "--schedule",
    default="* * * * *",
    show_default=True,
    help="Cron schedule of the demo sources for the scheduler started beside the site.",
)
@click.option(
    "--publish-every",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds between new items on the demo portal while serving (0: none).",
)
@pass_ctx
def demo(
    obj: Context, port: int | None, portal_port: int | None, no_serve: bool, revise: bool, schedule: str, publish_every: float
) -> None:
    """Start the bundled demo portal, crawl it, index, then serve the search site beside a scheduler."""
    from crawler.attachments import AttachmentWorker
    from crawler.cli import crawl_and_say
    from crawler.robots import RobotsCache
    from crawler.sources import load_sources
    from xxgk.demo.server import DemoPortal
    from xxgk.pipeline import refresh_derived

    settings = obj.settings
    if port is not None:
        settings = settings.replace(port=port)
    click.echo("正在生成演示门户（杭州市余杭区 政府信息公开）…")
    portal = DemoPortal()
    wanted = portal_port if portal_port is not None else settings.demo_port
    portal_url = portal.serve("127.0.0.1", _free_port("127.0.0.1", wanted))
    click.echo(f"演示门户：{portal_url}/")

    catalog, store = open_archive(settings)
    with catalog, AttachmentWorker(settings.attachment_timeout_s, settings.attachment_memory_mb) as worker:
        sources = [s.with_base_url(portal_url) for s in load_sources([demo_sources_dir()]).values()]
        robots = RobotsCache()  # the demo's sites share one host: robots.txt is read once
        for source in sources:
            crawl_and_say(source, settings, catalog, store, worker, robots)
        click.echo("正在建立索引…")
        click.echo(refresh_derived(settings, catalog).describe())
        if revise:
            portal.revise()
            click.echo("演示：门户修改了一条通知、撤回了一条动态；再次抓取（只发条件请求）…")
            robots = RobotsCache()
            for source in sources:
                crawl_and_say(source, settings, catalog, store, worker, robots)
            # The path every deployment takes after a crawl: only the changed documents, with deletions.
            click.echo(refresh_derived(settings, catalog).describe("索引已增量同步"))
    if no_serve:
        portal.stop()
        return
    from search_web.server import run_server

    sources_dir = _write_demo_sources(settings, portal_url, schedule)
    # Its own session: a Ctrl+C in the terminal reaches only us, and we stop it with one SIGTERM.
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xxgk",
            "--data-dir",
            str(settings.data_path),
            *(["--config", obj.config] if obj.config else []),
            "scheduler",
            "--sources-dir",
            str(sources_dir),
            "--stop-with-parent",
        ],
        env={**os.environ, "XXGK_SOURCES_DIR": ""},
        start_new_session=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` of the demo stops the site and the scheduler cleanly
    click.echo(
        f"调度器已启动（进程 {scheduler.pid}）：演示来源按 “{schedule}” 定时抓取"
        + (f"；演示门户每 {publish_every:g} 秒发布一条新的工作动态" if publish_every > 0 else "")
    )
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
    from xxgk.demo.showcase import QUERIES

    click.echo("文件关系示例（在搜索页输入）：" + "；".join(f"{what}：{query}" for what, query in QUERIES))
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

    try:
        cron_trigger(schedule, UTC)
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


def register(root: click.Group) -> None:
    """Add the demo command to the `xxgk` command."""
    root.add_command(demo)
