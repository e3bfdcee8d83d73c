"""The archive's commands: `verify`, `export`, `import`, `settings`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click

from archive.clikit import Context, open_archive, pass_ctx, progress_bar
from archive.settings import SETTINGS


@click.command()
@click.option(
    "--index", "check_index", is_flag=True, help="Compare the search index with the catalog instead of checking the WARC files."
)
@pass_ctx
def verify(obj: Context, check_index: bool) -> None:
    """Recompute every WARC digest and the manifest; check every catalog pointer (or, with --index, the index)."""
    if check_index:
        if not obj.derived.verify(obj.settings):
            raise click.exceptions.Exit(1)
        return
    from archive.verify import verify_archive

    catalog, store = open_archive(obj.settings)
    with catalog:
        report = verify_archive(store, catalog)
    for problem in report.problems:
        click.echo(f"FAIL {problem}", err=True)
    click.echo(
        f"检查了 {report.files} 个 WARC 文件、{report.records} 条记录、{report.captures} 条抓取记录："
        + ("全部通过" if report.ok else f"{len(report.problems)} 处问题")
    )
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default stdout).")
@pass_ctx
def export_cmd(obj: Context, fmt: str, output: str | None) -> None:
    """Write the catalog's documents as JSON lines or CSV."""
    import contextlib

    from archive.catalog import Catalog
    from archive.transfer import export_documents

    with Catalog(obj.settings.catalog_path) as catalog, contextlib.ExitStack() as stack:
        if output:
            out: TextIO = stack.enter_context(
                Path(output).open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
            )
        else:
            out = sys.stdout
        count = export_documents(catalog, out, fmt)
    click.echo(f"导出 {count} 篇文档", err=True)


@click.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="import", help="Source id for lines without one.")
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@click.option("--strict", is_flag=True, help="Refuse lines with fields this program does not know (default: ignore them).")
@pass_ctx
def import_cmd(obj: Context, file: str, source: str, no_index: bool, strict: bool) -> None:
    """Load documents from a JSON-lines file (url, title, agency, published, listed, category, doc_no, index_no, text, id)."""
    from archive.transfer import import_documents

    catalog, _ = open_archive(obj.settings)
    with catalog, open(file, encoding="utf-8-sig") as fh:
        lines = fh.readlines()
        with progress_bar("导入", sum(1 for line in lines if line.strip())) as tick:
            report = import_documents(catalog, lines, source, progress=tick, strict=strict)
        for number, message in report.errors:
            click.echo(f"{file}:{number}: skipped: {message}", err=True)
        if report.ignored:
            named = "、".join(f"{name}（{count} 行）" for name, count in sorted(report.ignored.items()))
            click.echo(f"提示：忽略了本程序不认识的字段 {named}；加 --strict 可拒绝含有这些字段的行。", err=True)
        click.echo(f"导入：新增 {report.new}，变更 {report.changed}，未变 {report.unchanged}，跳过 {len(report.errors)} 行")
        if not no_index:
            click.echo(obj.derived.refresh(obj.settings, catalog))
    if report.errors:
        raise click.exceptions.Exit(1)


@click.command(name="settings")
def show_settings() -> None:
    """List every setting with its default and help."""
    for s in SETTINGS:
        click.echo(f"{s.name} = {s.default!r}\n    {s.help}")


def register(root: click.Group) -> None:
    """Add this package's commands to the `xxgk` command."""
    for command in (verify, export_cmd, import_cmd, show_settings):
        root.add_command(command)
