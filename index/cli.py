"""The index's commands: `reindex`, `search`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from archive.clikit import Context, pass_ctx, progress_bar


@click.command()
@click.option(
    "--backend",
    type=click.Choice(["whoosh", "tantivy"]),
    help="Build the index with this engine (default: the index_backend setting); later syncs keep it.",
)
@pass_ctx
def reindex(obj: Context, backend: str | None) -> None:
    """Rebuild the document relations and the search index from the catalog (new directory, then an atomic swap)."""
    from archive.catalog import Catalog
    from index.api import index_writer, sync_relations

    settings = obj.settings
    backend = backend or settings.index_backend
    with Catalog(settings.catalog_path) as catalog:
        relations = sync_relations(catalog, rebuild=True)
        click.echo(f"文件关系已重建：{relations.references} 处引用，其中 {relations.resolved} 处指向存档中的文件")
        with progress_bar("重建索引", catalog.count()) as tick:
            count = index_writer(settings, backend).rebuild(catalog, progress=tick)
    click.echo(f"索引已重建：{count} 篇文档（检索引擎 {backend}）")


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

    from index.api import TIER_LABELS, SearchRequest, document_relations, hit_json, open_backend, result_json

    settings = obj.settings
    engine = open_backend(settings)
    filters = {k: v for k, v in (("category", category), ("agency", agency), ("year", year)) if v}
    try:
        result = engine.search(SearchRequest(q=query, filters=filters, sort=sort, page_size=limit, literal=literal))
    finally:
        engine.close()
    if as_json:
        data = result_json(result)
        with _catalog(settings) as catalog:  # each hit with its relations, as its document page shows them
            for hit in data["hits"]:
                found = document_relations(catalog, hit["id"]) if catalog is not None else None
                hit["relations"] = found.as_dict() if found else None
        click.echo(json.dumps({"query": query, **data}, ensure_ascii=False, indent=2))
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
        marks = "".join(f" [{v}]" for v in (h.validity,) if v in ("已废止", "已修订")) + (
            f" [另有 {len(h.copies)} 篇相同内容]" if h.copies else ""
        )
        click.echo(
            f"\n{h.id}  {h.score:6.2f}  {h.title}{marks}\n  {h.agency} · {when} · {h.category}"
            f"{' · ' + h.doc_no if h.doc_no else ''}\n  {h.url}\n  {plain}"
        )
        if explain:
            lacks = f"；缺少：{'、'.join(h.missing)}" if h.missing else ""
            click.echo(f"  [{TIER_LABELS[h.tier]}{lacks}]")


@click.command()
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def relations(obj: Context, doc_id: str, as_json: bool) -> None:
    """A document's relations: what it cites, repeals, amends, replaces, interprets or reposts, and what does so to it."""
    from archive.catalog import Catalog
    from archive.errors import XxgkError
    from index.api import document_relations

    with Catalog(obj.settings.catalog_path, readonly=True) as catalog:
        stored = catalog.get(doc_id)
        if stored is None:
            raise XxgkError(f"存档中没有文档 {doc_id}", "文档编号见检索结果或 `xxgk search --json` 的 id")
        found = document_relations(catalog, doc_id)
    if found is None:
        raise XxgkError("文件关系尚未生成", "运行 `xxgk reindex`（或一次抓取）后再查看")
    if as_json:
        click.echo(json.dumps({"id": doc_id, "title": stored.doc.title, **found.as_dict()}, ensure_ascii=False, indent=2))
        return
    click.echo(stored.doc.title)
    validity = found.validity
    if validity.value:
        source = "页面标注" if validity.stated else "由关系推断"
        click.echo(f"有效性：{validity.value}（{source}）")
    if validity.derived and validity.by:
        click.echo(f"  {validity.derived}：{validity.by.title}（{validity.by.published or '日期不详'}）")
        click.echo(f"  依据：{validity.by.sentence}")
    if validity.conflict:
        click.echo(f"  注意：页面标注“{validity.stated}”，但存档中的后续文件已将其废止")
    if found.chain:
        click.echo("版本沿革：" + " → ".join(f"{s.title}（{s.role}，{s.published or '日期不详'}）" for s in found.chain))
    if not found.links:
        click.echo("（未发现与其他文件的关系）")
    for link in found.links:
        where = link.doc_id or ("未收录" if not link.candidates else f"无法确定：{len(link.candidates)} 个同名文件")
        click.echo(f"\n{link.label}  {link.title}{'  ' + link.doc_no if link.doc_no else ''}  [{where}]")
        click.echo(f"  “{link.sentence}”")


@contextmanager
def _catalog(settings: Any) -> Iterator[Any]:
    """The catalog, read-only, or None when there is none yet."""
    from archive.catalog import Catalog

    if not settings.catalog_path.exists():
        yield None
        return
    with Catalog(settings.catalog_path, readonly=True) as catalog:
        yield catalog


def register(root: click.Group) -> None:
    """Add this package's commands to the `xxgk` command."""
    for command in (reindex, search, relations):
        root.add_command(command)
