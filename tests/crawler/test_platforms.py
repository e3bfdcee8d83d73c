"""Platform adapters end to end against fixture sites built like the real platforms."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.store import WarcStore
from crawler.run import crawl_source
from crawler.sources import Column, Source
from tests.conftest import make_settings, warcio_check, write_sources
from tests.fakeserver import FakeServer, Reply
from xxgk.demo.model import AttachmentSpec
from xxgk.demo.render import pdf_bytes

CHINA = timezone(timedelta(hours=8))
HTML = {"Content-Type": "text/html; charset=utf-8"}
ARTICLES = [
    (3255421, "金宸农牧科技（四会）有限公司四会富硒蛋鸡产业园项目受理公告", date(2026, 7, 6), "肇环审〔2026〕41号"),
    (3255388, "四会市某污水处理厂提标改造项目环境影响报告表受理公告", date(2026, 7, 2), ""),
    (3255301, "肇庆高新区某新材料项目环境影响报告书受理公告", date(2026, 6, 28), "肇环审〔2026〕38号"),
    (3255200, "德庆县某石场建设项目环境影响报告表受理公告", date(2026, 6, 20), ""),
    (3255101, "鼎湖区某物流园项目环境影响报告表受理公告", date(2026, 6, 11), "肇环审〔2026〕30号"),
]


def _article(post_id: int, title: str, day: date, doc_no: str) -> dict:
    stamp = int(datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp())
    return {
        "id": post_id,
        "title": title,
        "date": stamp,
        "publisher": "肇庆市生态环境局",
        "classify_main_name": "受理公告",
        "document_number": doc_no,
        "url": f"/zqhjj/gkmlpt/content/{post_id // 1_000_000}/{post_id // 1000}/post_{post_id}.html",
        "identifier": f"11441200MB2C91453G/2026-{post_id % 100000:05d}",
    }


def test_gkmlpt_index_api_pages_and_metadata(tmp_path: Path) -> None:
    server = FakeServer()
    server.route("/robots.txt", Reply(404, b""))
    server.route(
        "/zqhjj/gkmlpt/index",
        Reply(
            200,
            (
                "<html><head><title>肇庆市生态环境局政府信息公开平台</title></head><body><div id='app'></div>"
                "<script>window._CONFIG = {SID: '758019', TREE: [{id: 21022, name: '业务公开', children: "
                "[{id: 21023, name: '受理公告'}]}]};</script></body></html>"
            ).encode(),
            HTML,
        ),
    )
    articles = [_article(*a) for a in ARTICLES]
    for page, chunk in ((1, articles[:3]), (2, articles[3:])):
        body = {"classify": {"id": 21023, "name": "受理公告", "parent": 21022, "post_count": 5}, "articles": chunk}
        server.route(
            f"/zqhjj/gkmlpt/api/all/21023?page={page}&sid=758019",
            Reply(200, json.dumps(body, ensure_ascii=False).encode(), {"Content-Type": "application/json"}),
        )
    pdf = pdf_bytes(AttachmentSpec("", "", "pdf", ["受理公告附件：项目环境影响报告表公示稿"]))
    for article in articles:
        attach = (
            f'<p><a class="nfw-cms-attachment" href="/zqhjj/attachment/0/306/{article["id"]}.pdf">公示稿.pdf</a></p>'
            if article["id"] == 3255421
            else ""
        )
        server.route(
            article["url"],
            Reply(
                200,
                (
                    f'<html><head><meta name="ArticleTitle" content="{article["title"]}">'
                    f'<meta name="PubDate" content="{datetime.fromtimestamp(article["date"], CHINA):%Y-%m-%d %H:%M}">'
                    f'<meta name="ContentSource" content="肇庆市生态环境局"></head><body>'
                    f'<div class="article-content"><p>根据有关规定，现将{article["title"][:-4]}的受理情况予以公告。</p>'
                    f"<p>公示期间，公众可通过信函、传真、电子邮件等方式反映意见。</p>{attach}</div></body></html>"
                ).encode(),
                HTML,
            ),
        )
    server.route("/zqhjj/attachment/0/306/3255421.pdf", Reply(200, pdf, {"Content-Type": "application/pdf"}))
    source = Source(
        id="zq-sthjj",
        name="肇庆市生态环境局",
        agency="肇庆市生态环境局",
        platform="gkmlpt",
        base_url=server.url,
        columns=(Column("受理公告", "/zqhjj/gkmlpt/index#21023", "受理公告"),),
        allow_private=True,
        crawl_delay_s=0.0,
    )
    settings = make_settings(tmp_path)
    try:
        with Catalog(settings.catalog_path) as catalog:
            report = crawl_source(source, settings, catalog, WarcStore(settings.warc_dir))
            docs = {d.doc.url: d.doc for d in catalog.iter_documents()}
    finally:
        server.stop()
    assert (report.new, sum(report.failed.values())) == (5, 0)
    assert [s.path for s in server.log if "/api/" in s.path] == [
        "/zqhjj/gkmlpt/api/all/21023?page=1&sid=758019",
        "/zqhjj/gkmlpt/api/all/21023?page=2&sid=758019",
    ]
    for post_id, title, day, doc_no in ARTICLES:
        doc = next(d for d in docs.values() if d.url.endswith(f"post_{post_id}.html"))
        assert (doc.title, doc.published, doc.doc_no, doc.agency) == (title, day, doc_no, "肇庆市生态环境局")
        assert doc.index_no == f"11441200MB2C91453G/2026-{post_id % 100000:05d}"
        assert doc.category == "受理公告"
    with_attachment = next(d for d in docs.values() if d.url.endswith("post_3255421.html"))
    assert "项目环境影响报告表公示稿" in with_attachment.attachments[0].text
    assert warcio_check(sorted(settings.warc_dir.glob("*.warc.gz"))).returncode == 0


def test_sources_check_reports_fields_and_their_provenance(demo_sources, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xxgk.cli import main

    good = write_sources(demo_sources, tmp_path / "good")
    runner = CliRunner()
    result = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), "sources", "--sources-dir", str(good), "check", "demo-jyj"])
    assert result.exit_code == 0, result.output
    assert "列表页" in result.output and "20 条" in result.output and "另有 1 个列表页" in result.output
    for label in ("索引号", "文号", "主题分类", "发布日期", "成文日期"):
        line = next(x for x in result.output.splitlines() if x.strip().startswith("✓ " + label))
        assert "[metadata table]" in line
    assert "[selector .TRS_Editor]" in result.output
    assert not (tmp_path / "d").exists()  # the probe never writes into the archive
    broken = write_sources(demo_sources, tmp_path / "broken", **{'list_item = "ul.news-list li"': 'list_item = "ul.wrong li"'})
    bad = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), "sources", "--sources-dir", str(broken), "check", "demo-wjw"])
    assert bad.exit_code == 1 and "没有匹配到" in bad.output and 'list_item = "ul.wrong li"' in bad.output


def test_incremental_recrawl_stops_paging_after_known_pages(portal, demo_sources, tmp_path: Path) -> None:
    from dataclasses import replace

    settings = make_settings(tmp_path)
    source = demo_sources["demo-wjw"]
    store = WarcStore(settings.warc_dir)
    with Catalog(settings.catalog_path) as catalog:
        crawl_source(source, settings, catalog, store)
        start = len(portal.requests)
        report = crawl_source(replace(source, stop_after_known_pages=1), settings, catalog, store)
    list_paths = {c.url for c in source.columns}
    listing = [r.path for r in portal.requests[start:] if "/content/" not in r.path and r.path != "/robots.txt"]
    assert sorted(listing) == sorted(list_paths)  # one list page per column, then stop
    wjw = next(a for a in portal.agencies if a.key == "wjw")
    first_pages = sum(min(10, len(c.items)) for c in wjw.columns)
    assert report.new == report.withdrawn == 0 and report.unchanged == report.listed == first_pages


@pytest.mark.slow
def test_sources_add_on_each_demo_site_crawls_every_document_with_no_edit(portal, tmp_path: Path) -> None:
    """Given one column page of each demo site, `xxgk sources add` finds the platform and every column;
    the file it writes crawls exactly the site's documents."""
    from click.testing import CliRunner

    from crawler.sources import load_sources
    from xxgk.cli import main
    from xxgk.demo.render import column_url

    runner = CliRunner(env={"XXGK_CRAWL_DELAY_S": "0"})
    sources_dir, data = tmp_path / "sources", tmp_path / "data"
    for agency in portal.agencies:
        entry = portal.url + column_url(agency, agency.columns[-1])
        args = ["--data-dir", str(data), "sources", "--sources-dir", str(sources_dir), "add", entry, "--allow-private"]
        result = runner.invoke(main, [*args, "--id", f"added-{agency.key}"])
        assert result.exit_code == 0, result.output
    written = load_sources([sources_dir])
    for agency in portal.agencies:
        source = written[f"added-{agency.key}"]
        assert (source.platform, source.name) == (agency.platform, agency.name)
        assert [c.name for c in source.columns] == [c.name for c in agency.columns]
    crawl = runner.invoke(main, ["--data-dir", str(data), "crawl", "--all", "--sources-dir", str(sources_dir), "--no-index"])
    assert crawl.exit_code == 0, crawl.output
    with Catalog(make_settings(data).catalog_path) as catalog:
        archived = {(d.doc.source_id, d.doc.url) for d in catalog.iter_documents()}
    assert archived == {(f"added-{i.agency.key}", portal.url + i.path) for i in portal.items()}
