"""A real crawl of the demo portal: completeness, decoding, idempotence, WARC validity."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

from archive.catalog import Catalog
from archive.store import WarcStore
from crawler.run import crawl_source
from crawler.sources import Column, Source
from tests.conftest import Crawled, make_settings, warcio_check
from tests.fakeserver import FakeServer, Reply
from tests.processes import wait_for
from xxgk.demo.corpus import seed_report
from xxgk.demo.server import DemoPortal

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _catalog_docs(crawled: Crawled):
    with Catalog(crawled.settings.catalog_path) as catalog:
        return list(catalog.iter_documents())


def test_crawl_archives_exactly_the_items_served(portal: DemoPortal, crawled: Crawled) -> None:
    docs = _catalog_docs(crawled)
    agency_of_source = {f"demo-{a.key}": a for a in portal.agencies}
    served = Counter((f"demo-{i.agency.key}", i.column.name) for i in portal.items())
    archived = Counter((d.doc.source_id, d.doc.category) for d in docs)
    assert archived == served
    assert {d.doc.url for d in docs} == {portal.url + i.path for i in portal.items()}
    assert set(agency_of_source) == set(crawled.reports)
    assert all(not r.failed for r in crawled.reports.values())
    assert len(docs) >= 300
    posts = [r for r in portal.requests if r.method == "POST"]
    assert posts and all("startrecord=" in r.path for r in posts)  # both jpage variants were walked
    assert any("dataproxy.jsp?page=" in r.path for r in portal.requests if r.method == "GET")


def test_every_field_extracted_as_the_portal_published_it(portal: DemoPortal, crawled: Crawled) -> None:
    by_url = {d.doc.url: d.doc for d in _catalog_docs(crawled)}
    for item in portal.items():
        doc = by_url[portal.url + item.path]
        assert doc.title == item.title
        assert doc.agency == item.expected_agency  # as the page (or its 落款) states it; never the portal's owner
        assert doc.published == item.expected_published  # never the migration's URL or list date
        assert doc.listed == (item.listed if not doc.published else doc.listed)
        assert doc.doc_no == item.doc_no
        assert doc.index_no == item.index_no
        assert doc.topic == item.topic
        assert doc.body == item.body_text
        assert len(doc.attachments) == len(item.attachments)
    undated = [i for i in portal.items() if i.expected_published is None]
    unnamed = [i for i in portal.items() if not i.expected_agency]
    assert undated and unnamed  # the demo shows 日期不详 and 未注明 honestly


def test_gbk_agency_decodes_without_mojibake_and_raw_bytes_are_kept(portal: DemoPortal, crawled: Crawled) -> None:
    jyj = [i for i in portal.items() if i.agency.encoding == "gbk"]
    by_url = {d.doc.url: d for d in _catalog_docs(crawled)}
    rong = [i for i in jyj if "镕" in i.body_text]
    assert rong, "the portal must serve a GBK-only character (镕) to test decoding"
    for item in jyj:
        stored = by_url[portal.url + item.path]
        assert stored.doc.title == item.title
        assert stored.doc.body == item.body_text
        assert "\ufffd" not in stored.doc.body
    store = WarcStore(crawled.settings.warc_dir)
    with Catalog(crawled.settings.catalog_path) as catalog:
        item = rong[0]
        capture = catalog.last_good_capture(portal.url + item.path)
        assert capture is not None
        record = store.read(capture.ref)
    assert record.payload == portal.pages[item.path].body  # archived byte for byte, still GBK
    assert "镕".encode("gbk") in record.payload


def test_seed_report_extracted_as_the_real_portal_shows_it(crawled: Crawled) -> None:
    title, published, paragraphs = seed_report()
    seed = next(d.doc for d in _catalog_docs(crawled) if d.doc.title == title)
    assert seed.published.isoformat() == published == "2017-03-28"
    assert seed.agency == "余杭区民政局"
    assert seed.category == "政府信息公开年度报告"
    assert seed.body.split("\n") == paragraphs


def test_attachments_pdf_docx_and_doc_text_extracted(portal: DemoPortal, crawled: Crawled) -> None:
    by_url = {d.doc.url: d.doc for d in _catalog_docs(crawled)}
    kinds = Counter()
    for item in portal.items():
        for spec, att in zip(item.attachments, by_url[portal.url + item.path].attachments):
            kinds[spec.kind] += 1
            assert att.error == ""
            assert att.url == portal.url + spec.path
            text = att.text.replace("\n", "")
            for line in spec.lines:
                assert line in text
    assert kinds["pdf"] >= 2 and kinds["docx"] >= 2 and kinds["doc"] >= 2


def test_every_warc_passes_warcio_check(crawled: Crawled) -> None:
    files = sorted(crawled.settings.warc_dir.glob("*.warc.gz"))
    assert files and not list(crawled.settings.warc_dir.glob("*.open"))
    result = warcio_check(files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest pass" in result.stdout


def test_second_crawl_adds_nothing_and_sends_only_conditional_requests(portal: DemoPortal, crawled: Crawled) -> None:
    settings = crawled.settings
    store = WarcStore(settings.warc_dir)
    with Catalog(settings.catalog_path) as catalog:
        before = catalog.count(), catalog.conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        start = len(portal.requests)
        reports = [crawl_source(src, settings, catalog, store) for src in crawled.sources.values()]
        after = catalog.count(), catalog.conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    assert after == before
    assert sum(r.new + r.changed for r in reports) == 0
    assert sum(r.unchanged for r in reports) == before[0]
    detail_paths = {i.path for i in portal.items()} | {a.path for i in portal.items() for a in i.attachments}
    detail_requests = [r for r in portal.requests[start:] if r.path in detail_paths]
    assert len(detail_requests) == len(detail_paths)
    assert all("If-None-Match" in r.headers and r.status == 304 for r in detail_requests)
    assert warcio_check(sorted(settings.warc_dir.glob("*.warc.gz"))).returncode == 0


def test_demo_portal_is_realistic_enough(portal: DemoPortal) -> None:
    items = portal.items()
    assert len(items) >= 300
    assert len({i.published.year for i in items}) >= 8
    assert all(300 <= len(i.body_text) <= 6000 for i in items)
    assert len(portal.agencies) >= 3 and {a.platform for a in portal.agencies} >= {"hanweb", "trs"}
    assert any(a.encoding == "gbk" for a in portal.agencies)
    mzj = next(a for a in portal.agencies if a.name == "余杭区民政局")
    assert [c.name for c in mzj.columns] == [
        "机构概况",
        "信息动态",
        "党务公开",
        "网上办事",
        "工作动态",
        "政策法规",
        "期刊简报",
        "互动平台",
        "民政专题",
        "通知公告",
        "政府信息公开年度报告",
    ]
    assert all(i.index_no and i.topic for i in items)


def test_polite_crawl_holds_no_catalog_lock_while_it_waits(tmp_path: Path) -> None:
    """Group commit never keeps the catalog locked across a politeness delay: other writers get in."""
    server = FakeServer()
    server.route("/robots.txt", Reply(404, b""))
    links = "".join(f'<li><a href="/a/{n}.html">通知{n}</a><span class="date">2024-05-0{n}</span></li>' for n in range(1, 5))
    server.route("/list/index.html", Reply(200, f'<ul class="news-list">{links}</ul>'.encode(), HTML))
    for n in range(1, 5):
        server.route(f"/a/{n}.html", Reply(200, f"<h1>通知{n}</h1><div class='content'><p>正文{n}</p></div>".encode(), HTML))
    source = Source(
        id="polite",
        name="测试局",
        agency="测试局",
        platform="generic",
        base_url=server.url,
        columns=(Column("通知公告", "/list/index.html", "通知公告"),),
        allow_private=True,
        crawl_delay_s=0.6,
        selectors={"list_item": "ul.news-list li", "list_date": "span.date"},
    )
    settings = make_settings(tmp_path)
    failures: list[str] = []
    done = threading.Event()

    attempts = 0

    def other_writer() -> None:  # e.g. the web app filing a "crawl now" request
        nonlocal attempts
        wait_for(lambda: server.log or done.is_set(), 30)  # the crawl is under way
        while not done.is_set():
            attempts += 1
            try:
                with sqlite3.connect(settings.catalog_path, timeout=0.3, isolation_level=None) as conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                failures.append(str(exc))
            time.sleep(0.1)

    try:
        with Catalog(settings.catalog_path) as catalog:
            writer = threading.Thread(target=other_writer)
            writer.start()
            try:
                report = crawl_source(source, settings, catalog, WarcStore(settings.warc_dir))
            finally:
                done.set()
                writer.join()
    finally:
        server.stop()
    assert report.new == 4
    assert attempts > 0 and failures == []
