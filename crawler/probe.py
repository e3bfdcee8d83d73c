"""`xxgk sources check`: fetch one list page and one detail page per column and say what was found how."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from archive.catalog import Catalog
from archive.charset import decode
from archive.models import Document
from archive.settings import Settings
from archive.store import WarcStore
from crawler.errors import FetchError
from crawler.extract import extract_item
from crawler.fetch import Fetcher
from crawler.listing import ListItem, ListRequest, parse_listing
from crawler.sources import Column, Source

_GKMLPT_SID = re.compile(r"""SID\s*[:=]\s*['"]?\w+""")


@dataclass
class ProbeReport:
    """What one column's list page and first detail page yielded.

    `errors` stop the column from being crawled (fix the source file); `warnings` describe the portal
    as it is (a page stating no date, a column robots.txt closes) and need no edit.
    """

    column: str = ""
    list_url: str = ""
    items: list[ListItem] = field(default_factory=list)
    more_pages: int = 0
    detail_url: str = ""
    document: Document | None = None
    trace: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@contextmanager
def throwaway_fetcher(source: Source, settings: Settings) -> Iterator[Fetcher]:
    """A fetcher archiving into a temporary directory (the real archive is never touched)."""
    with tempfile.TemporaryDirectory(prefix="xxgk-probe-") as tmp:
        store = WarcStore(Path(tmp) / "warc")
        with (
            Catalog(Path(tmp) / "catalog.sqlite3") as catalog,
            store.session("probe") as session,
            Fetcher(
                settings, store, session, catalog, None, source.hosts(), source.allow_private, source.crawl_delay_s
            ) as fetcher,
        ):
            yield fetcher


def probe_source(source: Source, settings: Settings, columns: list[Column] | None = None) -> list[ProbeReport]:
    """Probe `columns` (default: the first) of `source`, one report each."""
    chosen = columns if columns is not None else list(source.columns[:1])
    with throwaway_fetcher(source, settings) as fetcher:
        return [_probe_column(source, column, fetcher) for column in chosen]


def _no_items_hint(source: Source, column: Column, list_url: str, text: str, status: int) -> tuple[str, bool]:
    """(what to change, whether it is an error) when a column's list page yielded no item."""
    if status != 200:
        return f"列表页 {list_url} 返回 HTTP {status}：在浏览器中打开它，改正 [[columns]] 中“{column.name}”的 url", True
    if source.platform == "gkmlpt":
        fragment = urlsplit(source.absolute(column.url)).fragment
        if not fragment.isdigit():
            return f'gkmlpt 栏目的 url 须以 #栏目号 结尾，例如 url = "/gkmlpt/index#21023"（栏目“{column.name}”）', True
        if list_url.split("?")[0].endswith(f"/api/all/{fragment}"):
            return f"栏目 {fragment} 的接口返回 0 篇文章：栏目现在是空的，不需要修改（有文章后会被抓取）", False
        if not _GKMLPT_SID.search(text):
            return f"{list_url} 中没有 window._CONFIG 的 SID：它不是 gkmlpt 的 index 页面，url 应形如 /gkmlpt/index#栏目号", True
    if source.platform == "hanweb":
        return (
            f'{list_url} 中没有 jpage 的 <record> 列表：url 应为栏目页（/col/colNNN/index.html），或改用 platform = "generic"',
            True,
        )
    if source.platform == "trs":
        return f'{list_url} 中没有 ./YYYYMM/tYYYYMMDD_ID.html 形式的链接：检查 url，或改用 platform = "generic"', True
    if source.selectors.get("list_item"):
        return (
            f'[selectors] list_item = "{source.selectors["list_item"]}" 在 {list_url} 中没有匹配到带链接的元素：改正选择器',
            True,
        )
    return f"{list_url} 中找不到带日期的链接列表：用 [selectors] list_item 写出列表项的 CSS 选择器", True


@dataclass
class FirstList:
    """A column's first list page as the platform adapter reads it (after an index page, for gkmlpt)."""

    url: str
    status: int = 0
    text: str = ""
    items: list[ListItem] = field(default_factory=list)
    more_pages: int = 0


def first_list(fetcher: Fetcher, source: Source, url: str, into: FirstList | None = None) -> FirstList:
    """The first list page of the column at `url`, following an index page once; raises FetchError.

    `into`, when given, is filled as the pages are read (so a caller catching the error knows which
    page failed)."""
    found = into if into is not None else FirstList(url)
    form: bytes | None = None
    for _ in range(2):  # an index page may only lead to the real list (gkmlpt)
        found.url = url
        result = fetcher.get(url, form=form)
        found.status = result.status
        found.text, _ = decode(result.body, result.content_type, source.charset)
        listing = parse_listing(source.platform, found.text, url, source.selectors)
        found.items, found.more_pages = list(listing.items), len(listing.more_pages)
        if found.items or not listing.more_pages or found.status != 200:
            break
        following = listing.more_pages[0]
        if isinstance(following, ListRequest):  # a list that must be POSTed (Hanweb jpage ranges)
            url, form = following.url, urlencode(following.form).encode()
        else:
            url, form = following, None
    return found


def _probe_column(source: Source, column: Column, fetcher: Fetcher) -> ProbeReport:
    report = ProbeReport(column=column.name)
    listed = FirstList(source.absolute(column.url))
    try:
        first_list(fetcher, source, listed.url, listed)
    except FetchError as exc:
        report.list_url = listed.url
        if exc.reason == "robots":
            report.warnings.append(f"robots.txt 不允许抓取栏目“{column.name}”：抓取时跳过它，其他栏目照常（包括撤回检测）")
        else:
            report.errors.append(f"列表页 {report.list_url} 无法读取：{exc.message}（{exc.hint}）")
        return report
    report.list_url, report.items, report.more_pages = listed.url, listed.items, listed.more_pages
    if not report.items:
        hint, fatal = _no_items_hint(source, column, report.list_url, listed.text, listed.status)
        (report.errors if fatal else report.warnings).append(hint)
        return report
    item = report.items[0]
    report.detail_url = item.url
    try:
        result = fetcher.get(item.url)
    except FetchError as exc:
        report.errors.append(f"详情页 {item.url} 无法读取：{exc.message}（{exc.hint}）")
        return report
    if result.status != 200:
        report.errors.append(f"详情页 {item.url} 返回 HTTP {result.status}")
        return report
    report.document, _ = extract_item(source, column, item, result.body, result.content_type, report.trace)
    doc = report.document
    if not doc.body:
        report.errors.append('详情页没有找到正文：用 [selectors] body 写出正文容器的 CSS 选择器（如 "div.article"）')
    if doc.published is None:
        where = "网址" if doc.listed_source == "url" else "列表页"
        seen = f"（列表日期 {doc.listed}，来自{where}，不作为发布日期）" if doc.listed else ""
        report.warnings.append(f"详情页没有写明发布日期{seen}：此类文件归入“日期不详”，不需要修改")
    if not doc.agency:
        report.warnings.append(
            "详情页没有写明发布机构：显示为“未注明”；只有整个网站都由一个机关发布时，才在源文件中写 default_agency = true"
        )
    return report
