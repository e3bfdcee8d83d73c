"""The reports' commands: `reports extract`."""

from __future__ import annotations

import click

from archive.clikit import Context, pass_ctx


@click.group()
def reports() -> None:
    """Annual reports (政府信息公开工作年度报告) as data."""


@reports.command(name="extract")
@pass_ctx
def reports_extract(obj: Context) -> None:
    """Find the annual reports in the archive and extract their figures again (idempotent)."""
    from archive.catalog import Catalog
    from reports.extract import extract_all

    with Catalog(obj.settings.catalog_path) as catalog:
        found = extract_all(catalog)
    standard = sum(r.format == "standard" for r in found)
    failed = [(r, c) for r in found for c in r.checks if not c.ok]
    click.echo(
        f"年度报告：{len(found)} 份（标准表格 {standard} 份，文字 {len(found) - standard} 份），"
        f"数字 {sum(len(r.figures) for r in found)} 个，校验未通过 {len(failed)} 项"
    )
    for report, check in failed:
        click.echo(f"  {report.agency} {report.year}：{check.name}：{check.detail}")
    for report in found:
        for problem in report.problems:
            click.echo(f"  {report.agency} {report.year}：未能读取 {problem}", err=True)


def register(root: click.Group) -> None:
    """Add this package's commands to the `xxgk` command."""
    root.add_command(reports)
