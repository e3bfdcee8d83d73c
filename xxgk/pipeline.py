"""What follows every change to the archive (a crawl, an import, a scheduled run): derive the rest from it."""

from __future__ import annotations

from dataclasses import dataclass

import click

from archive.catalog import Catalog
from archive.settings import Settings


@dataclass(frozen=True)
class Refreshed:
    """What one refresh of the derived data did."""

    indexed: int  # documents written to the index
    reports: int  # annual reports found and extracted
    relations: int = 0  # references between archived documents (resolved ones)

    def describe(self, what: str = "索引已更新") -> str:
        return f"{what}：{self.indexed} 篇文档；年度报告数据：{self.reports} 份；文件关系：{self.relations} 条"


def refresh_derived(settings: Settings, catalog: Catalog, rebuild: bool = False) -> Refreshed:
    """Derive the relations, sync the index with the catalog's changes, then extract the annual reports again.

    Relations come first: a document's derived validity (已废止) is what the index's 有效性 facet shows.
    """
    from index.api import index_writer, sync_relations
    from reports.extract import extract_all

    relations = sync_relations(catalog, rebuild=rebuild)
    indexed = index_writer(settings).sync(catalog)
    return Refreshed(indexed=indexed, reports=len(extract_all(catalog)), relations=relations.resolved)


def index_summary(settings: Settings) -> dict[str, object]:
    """`xxgk status`: the index's engine, documents and dates, from its meta (the index is not opened)."""
    from index.api import index_summary as summary

    return summary(settings)


def verify_index(settings: Settings) -> bool:
    """`xxgk verify --index`: print how the index differs from the catalog; True when it does not."""
    from index.api import compare_with_catalog, open_backend

    engine = open_backend(settings)
    try:
        with Catalog(settings.catalog_path, readonly=True) as catalog:
            report = compare_with_catalog(engine, catalog)
            behind = max(0, catalog.max_seq() - engine.status().catalog_seq)
    finally:
        engine.close()
    for problem in report.problems():
        click.echo(f"FAIL {problem}", err=True)
    click.echo(
        f"索引 {report.index_documents} 篇，存档 {report.catalog_documents} 篇："
        + ("一致" if report.ok else f"{report.differences} 处不一致")
    )
    if behind:
        click.echo(f"索引落后存档 {behind} 个变更：运行 `xxgk crawl` 或 `xxgk import` 后会同步，也可运行 `xxgk reindex`")
    elif not report.ok:
        click.echo("提示 / hint: 运行 `xxgk reindex` 从存档重建索引", err=True)
    return report.ok
