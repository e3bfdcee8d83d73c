"""A portal built like the ones we have not seen: many agencies on one host, a migrated archive with
undated pages, li/span metadata, downfile.jsp attachments, a robots-disallowed column, gkmlpt columns.

Everything is judged from the scripted server's request log and the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.store import WarcStore
from crawler.robots import RobotsCache
from crawler.run import CrawlReport, crawl_source
from crawler.sources import Column, Source
from tests.conftest import make_settings, warcio_check
from tests.fakeserver import FakeServer, Reply
from xxgk.demo.model import AttachmentSpec
from xxgk.demo.render import pdf_bytes

CHINA = timezone(timedelta(hours=8))
ROBOTS = b"User-agent: *\nDisallow: /col/col3/\n"


@dataclass(frozen=True)
class Page:
    """One detail page of the fixture portal, with what a careful reader finds on it."""

    path: str
    title: str
    body: str  # HTML inside the article container
    meta: str  # the metadata block's HTML
    published: date | None
    listed: date
    agency: str
    doc_no: str = ""


def _li(label: str, value: str) -> str:
    return f"<li><span class='lab'>{label}</span><span class='val'>{value}</span></li>"


PAGES = [
    # Migrated in 2025: the URL and the list say 2025-06-01; the page states 2012 in its metadata.
    Page("/art/2025/6/1/art_1_1.html", "余杭区财政局2012年部门预算公开说明", "<p>根据预算法有关规定，现将部门预算公开如下。</p>",
         f"<ul class='xxgk-info'>{_li('索引号', '002482000/2012-00011')}{_li('发布机构', '余杭区财政局')}"
         f"{_li('发文字号', '余财〔2012〕5号')}{_li('发布日期', '2012-03-08')}</ul>",
         date(2012, 3, 8), date(2025, 6, 1), "余杭区财政局", "余财〔2012〕5号"),
    # Undated page; only the signature (落款) at the end of the body tells the date and the issuer.
    Page("/art/2025/6/1/art_1_2.html", "关于做好2013年度城乡居民医疗保险参保工作的通知",
         "<p>各镇人民政府、街道办事处：</p><p>现将有关事项通知如下。</p><p>特此通知。</p>"
         "<p style='text-align:right'>余杭区医疗保障局</p><p style='text-align:right'>2012年11月20日</p>",
         "", date(2012, 11, 20), date(2025, 6, 1), "余杭区医疗保障局"),
    # Undated, no signature, no publisher: honestly unknown.
    Page("/art/2025/6/1/art_1_3.html", "余杭区2011年度城市建设情况", "<p>全年完成城市建设投资若干亿元，道路建设有序推进。</p>",
         "", None, date(2025, 6, 1), ""),
    # A column of another agency, dl/dt metadata, a downfile.jsp attachment and a download link answering HTML.
    Page("/art/2025/6/2/art_2_1.html", "余杭区住房和城乡建设局关于公布2012年度保障性住房名单的公告",
         "<p>经审核，现将名单予以公布。</p>"
         "<p>附件：<a href='/module/download/downfile.jsp?classid=0&filename=2506021010123.pdf'>保障性住房名单</a></p>"
         "<p><a href='/module/download/download.jsp?fileid=77'>下载</a></p>"
         "<p><a href='/module/download/downfile.jsp?classid=0&amp;showname=x&amp;filename=nothing.pdf'>已删除的附件</a></p>",
         "<dl class='info'><dt>发布机构：</dt><dd>余杭区住房和城乡建设局</dd><dt>成文日期：</dt><dd>2012年12月3日</dd>"
         "<dt>文号：</dt><dd>余建〔2012〕88号</dd></dl>",
         None, date(2025, 6, 2), "余杭区住房和城乡建设局", "余建〔2012〕88号"),
    # A download.jsp link whose file type is only in Content-Disposition.
    Page("/art/2025/6/2/art_2_2.html", "余杭区住房和城乡建设局2012年度政府信息公开工作年度报告",
         "<p>本报告由余杭区住房和城乡建设局编制。</p><p><a href='/module/download/download.jsp?fileid=78'>点击下载</a></p>",
         "<div class='label'>发布机构</div><div class='value'>余杭区住房和城乡建设局</div>"
         "<div class='label'>发布日期</div><div class='value'>2013-03-29</div>",
         date(2013, 3, 29), date(2025, 6, 2), "余杭区住房和城乡建设局"),
]  # fmt: skip
PDF = pdf_bytes(AttachmentSpec("", "", "pdf", ["保障性住房名单公示稿"]))
REPORT_PDF = pdf_bytes(AttachmentSpec("", "", "pdf", ["年度报告全文"]))


def _detail(page: Page) -> bytes:
    return (
        f"<html><head><title>{page.title}_余杭区人民政府门户网站</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a> <a href='/download'>下载中心</a></div>"
        f"<h1>{page.title}</h1>{page.meta}<div id='zoom'>{page.body}</div></body></html>"
    ).encode()


def _column(pages: list[Page]) -> bytes:
    records = "".join(
        f"<record><![CDATA[<li><a href='{p.path}' title='{p.title}'>{p.title}</a><span>{p.listed}</span></li>]]></record>"
        for p in pages
    )
    return (
        "<html><body><div id='content'><script type='text/xml'><datastore><nextgroup><![CDATA[]]></nextgroup>"
        f"<recordset>{records}</recordset></datastore></script></div></body></html>"
    ).encode()


def _gkmlpt_article(post_id: int, title: str, when: date, column: int) -> dict:
    return {
        "id": post_id,
        "title": title,
        "date": int(datetime(2025, 6, 3, tzinfo=CHINA).timestamp()),  # the migration's CMS date
        "publish_time": f"{when:%Y-%m-%d} 10:00:00",
        "publisher": "余杭区教育局",
        "url": f"/gkmlpt/content/0/{post_id // 1000}/post_{post_id}.html",
        "identifier": f"002482011/{when.year}-{post_id % 1000:05d}",
        "classify_main_name": str(column),
    }


GKMLPT = {101: [_gkmlpt_article(5001, "余杭区教育局2012年招生工作意见", date(2012, 4, 1), 101)],
          102: [_gkmlpt_article(5002, "余杭区教育局关于2012年暑期安全工作的通知", date(2012, 7, 2), 102)]}  # fmt: skip


@pytest.fixture
def portal():  # type: ignore[no-untyped-def]
    server = FakeServer()
    server.route("/robots.txt", Reply(200, ROBOTS, {"Content-Type": "text/plain"}))
    html = {"Content-Type": "text/html; charset=utf-8"}

    def tagged(body: bytes, tag: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply(200, body, {**(headers or html), "ETag": f'"{tag}"'})

    server.route("/col/col1/index.html", tagged(_column(PAGES[:3]), "c1"))
    server.route("/col/col2/index.html", tagged(_column(PAGES[3:]), "c2"))
    server.route("/col/col3/index.html", tagged(_column([]), "c3"))  # disallowed by robots.txt
    nav = "".join(
        f"<li><a href='/col/col{n}/index.html'>{name}</a></li>" for n, name in ((1, "政策文件"), (2, "通知公告"), (3, "内部栏目"))
    )
    server.route(  # the portal's 政府信息公开 page: its navigation leads to the columns
        "/col/col100/index.html",
        tagged(
            f"<html><head><title>政府信息公开_余杭区人民政府门户网站</title></head><body><a href='/'>首页</a>"
            f"<ul class='nav'>{nav}</ul><div>主动公开目录</div></body></html>".encode(),
            "c100",
        ),
    )
    for page in PAGES:
        server.route(page.path, tagged(_detail(page), page.path))
    # Attachments without any validator (many portals' download handlers), typed only by what they serve.
    server.route(
        "/module/download/downfile.jsp?classid=0&filename=2506021010123.pdf",
        Reply(200, PDF, {"Content-Type": "application/octet-stream"}),
    )  # noqa: E501
    server.route(
        "/module/download/download.jsp?fileid=77",
        Reply(200, b"<html><body>\xe8\xaf\xb7\xe7\x99\xbb\xe5\xbd\x95</body></html>", html),
    )  # noqa: E501
    name = "2012年度报告.pdf".encode().decode("latin-1")  # sent as raw UTF-8, as many servers do
    server.route(
        "/module/download/download.jsp?fileid=78",
        Reply(
            200, REPORT_PDF, {"Content-Type": "application/octet-stream", "Content-Disposition": f'attachment; filename="{name}"'}
        ),
    )
    server.route(
        "/gkmlpt/index",
        tagged(
            (
                "<html><head><title>余杭区教育局政府信息公开平台</title></head><body><div id='app'></div><script>"
                "window._CONFIG = {SID: '330110', TREE: [{id: 100, name: '教育局', children: "
                "[{id: 101, name: '招生'}, {id: 102, name: '通知'}]}]};</script></body></html>"
            ).encode(),
            "g",
        ),
    )
    for column, articles in GKMLPT.items():
        body = json.dumps({"classify": {"post_count": len(articles)}, "articles": articles}, ensure_ascii=False).encode()
        server.route(
            f"/gkmlpt/api/all/{column}?page=1&sid=330110", tagged(body, f"api{column}", {"Content-Type": "application/json"})
        )
        for article in articles:
            page = (
                f"<html><body><h1>{article['title']}</h1><div class='article-content'><p>正文内容若干。</p></div></body></html>"
            )
            server.route(article["url"], tagged(page.encode(), str(article["id"])))
    yield server
    server.stop()


def _sources(server: FakeServer) -> list[Source]:
    common = {"base_url": server.url, "allow_private": True, "crawl_delay_s": 0.0}
    site = Source(
        id="yh-portal",
        name="余杭区人民政府门户网站",
        agency="余杭区人民政府",  # the site owner: never the publisher of a page that names none
        platform="hanweb",
        columns=(
            Column("政策文件", "/col/col1/index.html", "政策文件"),
            Column("通知公告", "/col/col2/index.html", "通知公告"),
            Column("内部栏目", "/col/col3/index.html", "内部栏目"),
        ),
        **common,  # type: ignore[arg-type]
    )
    gkmlpt = Source(
        id="yh-jyj",
        name="余杭区教育局",
        agency="余杭区教育局",
        platform="gkmlpt",
        columns=(Column("招生", "/gkmlpt/index#101", "招生"), Column("通知", "/gkmlpt/index#102", "通知")),
        **common,  # type: ignore[arg-type]
    )
    return [site, gkmlpt]


def _crawl(settings, sources: list[Source]) -> list[CrawlReport]:  # type: ignore[no-untyped-def]
    robots = RobotsCache()  # one `xxgk crawl --all`
    with Catalog(settings.catalog_path) as catalog:
        return [crawl_source(s, settings, catalog, WarcStore(settings.warc_dir), robots=robots) for s in sources]


def test_an_unseen_portal_is_read_as_it_states_itself_with_no_wasted_request(portal: FakeServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sources = _sources(portal)
    first = _crawl(settings, sources)
    assert [r.new for r in first] == [5, 2]
    assert len(portal.seen("/robots.txt")) == 1  # two sources, one host, one run
    assert len(portal.seen("/gkmlpt/index")) == 1  # two gkmlpt columns, one index page
    assert portal.seen("/col/col3/index.html") == []
    with Catalog(settings.catalog_path) as catalog:
        docs = {d.doc.url.removeprefix(portal.url): d.doc for d in catalog.iter_documents()}
    for page in PAGES:
        doc = docs[page.path]
        assert (doc.published, doc.agency, doc.doc_no) == (page.published, page.agency, page.doc_no), page.title
        assert doc.listed == page.listed and doc.listed_source == "list"
    assert docs[PAGES[1].path].date_source == "signature" and docs[PAGES[1].path].written == date(2012, 11, 20)
    assert docs[PAGES[3].path].written == date(2012, 12, 3)
    # Attachments by what they are: the downfile.jsp PDF and the download.jsp file named by the server.
    housing = docs[PAGES[3].path].attachments
    assert [(a.name, "保障性住房名单公示稿" in a.text) for a in housing if not a.error] == [("保障性住房名单", True)]
    assert all("download.jsp?fileid=77" not in a.url for a in housing)  # a web page is not an attachment
    assert [a.error for a in housing if a.error] == ["HTTP 404"]
    report = docs[PAGES[4].path].attachments
    assert [(a.name, "年度报告全文" in a.text) for a in report] == [("2012年度报告.pdf", True)]
    edu = [d for url, d in docs.items() if "/gkmlpt/" in url]
    assert sorted((d.published, d.date_source, d.listed, d.agency) for d in edu) == [
        (date(2012, 4, 1), "api", date(2025, 6, 3), "余杭区教育局"),
        (date(2012, 7, 2), "api", date(2025, 6, 3), "余杭区教育局"),
    ]
    assert warcio_check(sorted(settings.warc_dir.glob("*.warc.gz"))).returncode == 0

    # A recrawl of the unchanged portal asks only conditionally, and not at all for validator-less files
    # whose page is unchanged.
    start = len(portal.log)
    again = _crawl(settings, sources)
    assert [(r.new, r.changed, r.withdrawn) for r in again] == [(0, 0, 0), (0, 0, 0)]
    archived = {p.path for p in PAGES} | {a["url"] for arts in GKMLPT.values() for a in arts}
    later = [s for s in portal.log[start:] if s.path != "/robots.txt"]
    assert later and all("If-None-Match" in s.headers for s in later if s.path in archived)
    assert not [s.path for s in later if "filename=2506021010123.pdf" in s.path or "fileid=78" in s.path]
    assert [s.path for s in later if "If-None-Match" not in s.headers] == [
        "/module/download/downfile.jsp?classid=0&showname=x&filename=nothing.pdf",  # 404 last time: asked again
    ]  # (download.jsp?fileid=77 answered with a web page last time: not asked again while its page is unchanged)


def test_a_disallowed_column_leaves_withdrawal_detection_on_for_the_others(portal: FakeServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    site = _sources(portal)[:1]
    assert _crawl(settings, site)[0].new == 5
    portal.route("/col/col1/index.html", Reply(200, _column(PAGES[:2]), {"Content-Type": "text/html; charset=utf-8"}))
    portal.route(PAGES[2].path, Reply(404, b"not found"))
    report = _crawl(settings, site)[0]
    assert report.withdrawn == 1 and report.failed["robots"] == 1
    with Catalog(settings.catalog_path) as catalog:
        statuses = {d.doc.url.removeprefix(portal.url): d.status for d in catalog.iter_documents()}
    assert statuses[PAGES[2].path] == "withdrawn"
    assert sum(s == "active" for s in statuses.values()) == 4


def test_sources_add_writes_files_that_crawl_every_document_with_no_edit(portal: FakeServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from crawler.sources import load_sources
    from xxgk.cli import main

    runner = CliRunner(env={"XXGK_CRAWL_DELAY_S": "0"})
    sources_dir = tmp_path / "sources"
    for entry, new_id in (("/col/col100/index.html", "yh-portal"), ("/gkmlpt/index", "yh-jyj")):
        args = ["--data-dir", str(tmp_path / "d"), "sources", "--sources-dir", str(sources_dir)]
        result = runner.invoke(main, [*args, "add", portal.url + entry, "--id", new_id, "--allow-private"])
        assert result.exit_code == 0, result.output
        assert f"已写入 {sources_dir / (new_id + '.toml')}" in result.output
    written = load_sources([sources_dir])
    site, edu = written["yh-portal"], written["yh-jyj"]
    assert (site.platform, edu.platform) == ("hanweb", "gkmlpt")
    assert [(c.name, c.url) for c in site.columns] == [("政策文件", "/col/col1/index.html"), ("通知公告", "/col/col2/index.html")]
    assert "# [[columns]]" in Path(site.path).read_text(encoding="utf-8")  # the robots-closed column, left out
    assert [(c.name, c.url) for c in edu.columns] == [("招生", "/gkmlpt/index#101"), ("通知", "/gkmlpt/index#102")]
    assert not site.default_agency and edu.name == "余杭区教育局"
    again = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), "sources", "--sources-dir", str(sources_dir), "add",
                                 portal.url + "/gkmlpt/index", "--id", "yh-jyj", "--allow-private"])  # fmt: skip
    assert again.exit_code != 0 and "already exists" in again.output
    crawl = runner.invoke(
        main, ["--data-dir", str(tmp_path / "d"), "crawl", "--all", "--sources-dir", str(sources_dir), "--no-index"]
    )
    assert crawl.exit_code == 0, crawl.output
    with Catalog(make_settings(tmp_path / "d").catalog_path) as catalog:
        urls = {d.doc.url.removeprefix(portal.url) for d in catalog.iter_documents()}
    assert urls == {p.path for p in PAGES} | {a["url"] for arts in GKMLPT.values() for a in arts}


def test_sources_add_on_a_page_without_any_list_says_what_to_give(portal: FakeServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xxgk.cli import main

    portal.route("/about.html", Reply(200, "<html><body><h1>关于本站</h1><p>联系我们</p></body></html>".encode(), {}))
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path), "sources", "--sources-dir", str(tmp_path / "s"), "add", portal.url + "/about.html",
               "--allow-private"],
    )  # fmt: skip
    assert result.exit_code == 1 and "没有找到带日期的文件列表" in result.output
    assert not (tmp_path / "s").exists()


def test_attachments_without_validators_are_rechecked_after_attachment_recheck_days(portal: FakeServer, tmp_path: Path) -> None:
    from dataclasses import replace

    settings = make_settings(tmp_path)
    site = [replace(_sources(portal)[0], attachment_recheck_days=0)]  # 0: every run
    _crawl(settings, site)
    start = len(portal.log)
    report = _crawl(settings, site)[0]
    again = [s.path for s in portal.log[start:]]
    assert "/module/download/downfile.jsp?classid=0&filename=2506021010123.pdf" in again
    assert "/module/download/download.jsp?fileid=78" in again
    assert (report.new, report.changed) == (0, 0)  # the same bytes: the same attachments, no new version
