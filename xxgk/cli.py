"""The `xxgk` command: the root group, each package's commands registered from its own `cli.py`."""

from __future__ import annotations

import logging

import click

from archive import cli as archive_cli
from archive.clikit import Context, Derived, Group
from crawler import cli as crawler_cli
from index import cli as index_cli
from reports import cli as reports_cli
from search_web import cli as web_cli
from xxgk import pipeline
from xxgk.demo import command as demo_command

DERIVED = Derived(
    refresh=lambda settings, catalog: pipeline.refresh_derived(settings, catalog).describe(),
    verify=pipeline.verify_index,
    describe=pipeline.index_summary,
)


@click.group(cls=Group, help="xxgk-archive：政府信息公开的抓取、存档与检索。")
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
    ctx.obj = Context(config, {"data_dir": data_dir}, level, DERIVED)


for package in (archive_cli, crawler_cli, index_cli, reports_cli, web_cli, demo_command):
    package.register(main)
