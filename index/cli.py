"""The index's commands: `reindex`, `search`."""

from __future__ import annotations

import json

import click

from archive.clikit import Context, pass_ctx, progress_bar


@click.command()
@pass_ctx
def reindex(obj: Context) -> None:
    """Rebuild the search index from the catalog (new directory, then an atomic swap)."""
    from archive.catalog import Catalog
    from index.api import index_writer

    settings = obj.settings
    with Catalog(settings.catalog_path) as catalog, progress_bar("重建索引", catalog.count()) as tick:
        count = index_writer(settings).rebuild(catalog, progress=tick)
    click.echo(f"索引已重建：{count} 篇文档")


@click.command()
@click.argument("query", default="")
@click.option("--category", help="Only this category (栏目).")
@click.option("--agency", help="Only this agency (发布机构).")
@click.option("--year", help="Only this year.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance")
@click.option("--limit", type=click.IntRange(1, 50), default=10)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--literal", is_flag=True, help="The words as typed: no synonyms, no typo correction.")
@click.option("--explain", is_flag=True, help="Show the terms, synonyms, correction and each hit's tier.")
@pass_ctx
def search(
    obj: Context,
    query: str,
    category: str | None,
    agency: str | None,
    year: str | None,
    sort: str,
    limit: int,
    as_json: bool,
    literal: bool,
    explain: bool,
) -> None:
    """Search the index from the terminal (ranked: id, score, title, url, snippet)."""

    from index.api import TIER_LABELS, SearchRequest, hit_json, open_backend, result_json

    settings = obj.settings
    engine = open_backend(settings)
    filters = {k: v for k, v in (("category", category), ("agency", agency), ("year", year)) if v}
    try:
        result = engine.search(SearchRequest(q=query, filters=filters, sort=sort, page_size=limit, literal=literal))
    finally:
        engine.close()
    if as_json:
        click.echo(json.dumps({"query": query, **result_json(result)}, ensure_ascii=False, indent=2))
        return
    click.echo(f"共 {result.total} 条结果（{result.took_ms:.0f} 毫秒）")
    if result.corrected:
        click.echo(f"显示的是“{result.corrected}”的结果；仍然搜索“{query}”：加 --literal")
    if result.expanded:
        click.echo("同时搜索了：" + "、".join(result.expanded))
    if explain:
        click.echo("检索词：" + "、".join(result.terms))
        click.echo("各层结果：" + "，".join(f"{TIER_LABELS[k]} {v}" for k, v in result.tier_counts.items()))
    if result.notice:
        click.echo(result.notice)
    if result.doc_no_match:
        click.echo(f"文号对应文件：{result.doc_no_match}")
    for h in result.hits:
        plain = hit_json(h)["snippet"]
        when = h.published or ("日期不详" + (f"（列表日期 {h.listed}）" if h.listed else ""))
        click.echo(
            f"\n{h.id}  {h.score:6.2f}  {h.title}\n  {h.agency} · {when} · {h.category}"
            f"{' · ' + h.doc_no if h.doc_no else ''}\n  {h.url}\n  {plain}"
        )
        if explain:
            lacks = f"；缺少：{'、'.join(h.missing)}" if h.missing else ""
            click.echo(f"  [{TIER_LABELS[h.tier]}{lacks}]")


def register(root: click.Group) -> None:
    """Add this package's commands to the `xxgk` command."""
    for command in (reindex, search):
        root.add_command(command)
