"""`xxgk sources check`: fetch one list page and one detail page of a source and say what was found how."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from archive.catalog import Catalog
from archive.charset import decode
from archive.models import Document
from archive.settings import Settings
from archive.store import WarcStore
from crawler.extract import extract_item
from crawler.fetch import Fetcher
from crawler.listing import ListItem, ListRequest, parse_listing
from crawler.sources import Source


@dataclass
class ProbeReport:
    """What one list page and one detail page yielded; `problems` say what to fix in the source file."""

    list_url: str = ""
    items: list[ListItem] = field(default_factory=list)
    more_pages: int = 0
    detail_url: str = ""
    document: Document | None = None
    trace: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def probe_source(source: Source, settings: Settings) -> ProbeReport:
    """Probe the first column into a throwaway archive (the real one is not touched)."""
    report = ProbeReport()
    with tempfile.TemporaryDirectory(prefix="xxgk-probe-") as tmp:
        store = WarcStore(Path(tmp) / "warc")
        with (
            Catalog(Path(tmp) / "catalog.sqlite3") as catalog,
            store.session("probe") as session,
            Fetcher(
                settings, store, session, catalog, None, source.hosts(), source.allow_private, source.crawl_delay_s
            ) as fetcher,
        ):
            column, url = source.column_urls()[0]
            form: bytes | None = None
            for _ in range(2):  # an index page may only lead to the real list (gkmlpt)
                report.list_url = url
                result = fetcher.get(url, form=form)
                text, _ = decode(result.body, result.content_type, source.charset)
                listing = parse_listing(source.platform, text, url, source.selectors)
                report.items, report.more_pages = list(listing.items), len(listing.more_pages)
                if report.items or not listing.more_pages:
                    break
                following = listing.more_pages[0]
                if isinstance(following, ListRequest):  # a list that must be POSTed (Hanweb jpage ranges)
                    url, form = following.url, urlencode(following.form).encode()
                else:
                    url, form = following, None
            if not report.items:
                report.problems.append(
                    f'no items found on {report.list_url}: check platform = "{source.platform}"'
                    + (" and [selectors] list_item" if source.platform == "generic" else "")
                )
                return report
            item = report.items[0]
            report.detail_url = item.url
            result = fetcher.get(item.url)
            report.document, _ = extract_item(source, column, item, result.body, result.content_type, report.trace)
    doc = report.document
    if not doc.body:
        report.problems.append("no body text: set [selectors] body to the CSS selector of the article")
    if doc.published is None:
        report.problems.append("no publication date found on the page, the list or the URL")
    elif report.trace.get("published") == "URL (weak)":
        report.problems.append("the date comes only from the URL (a CMS date, often later than the document's)")
    return report
