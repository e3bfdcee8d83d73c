"""Pure parsing tables: dates, charsets, metadata tables, listings."""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup

from archive.charset import decode
from crawler.dates import date_from_url, parse_date, parse_month_day
from crawler.extract import extract_document, metadata_table
from crawler.listing import parse_hanweb, parse_trs

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2017-03-28", date(2017, 3, 28)),
        ("发布日期：2017-3-8 10:01", date(2017, 3, 8)),
        ("2024年04月06日 16:40", date(2024, 4, 6)),
        ("二〇一七年三月二十八日", date(2017, 3, 28)),
        ("二○○八年十月十四日", date(2008, 10, 14)),
        ("二〇一〇年一月十九日", date(2010, 1, 19)),
        ("1985-05-04 00:00:00.000", date(1985, 5, 4)),
        ("2024-02-30", None),
        ("2099-01-01", None),
        ("202256", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_dates_from_lists_and_urls() -> None:
    assert parse_month_day("10-18", 2017, today=TODAY) == date(2017, 10, 18)
    assert date_from_url("http://a/art/2017/3/28/art_1_2.html", today=TODAY) == date(2017, 3, 28)
    assert date_from_url("http://a/zw/201703/t20170328_5.html", today=TODAY) == date(2017, 3, 28)
    assert date_from_url("http://a/p.html", today=TODAY) is None


def test_charset_gb2312_label_decodes_gbk_only_characters() -> None:
    body = '<meta charset="gb2312"><p>朱镕基</p>'.encode("gbk")
    text, encoding = decode(body, "text/html")
    assert encoding == "gb18030" and "朱镕基" in text


def test_charset_header_that_lies_yields_to_the_bytes() -> None:
    body = '<meta http-equiv="Content-Type" content="text/html; charset=gbk"><p>余杭区民政局</p>'.encode("gbk")
    text, _ = decode(body, "text/html; charset=utf-8")
    assert "余杭区民政局" in text


def test_charset_without_any_label_is_never_latin1() -> None:
    text, encoding = decode("政府信息公开".encode(), "text/html")
    assert text == "政府信息公开" and encoding == "utf-8"


def test_empty_cell_never_takes_the_next_label() -> None:
    html = """<table><tr><td>文件编号:</td><td></td><td>发文日期:</td><td>2021-12-09 11:24:43</td></tr>
              <tr><td>索 引 号：</td><td>11620622013933539B/2021-03844</td><td>有效性:</td><td>有效</td></tr>
              <tr><td>标　　题：</td><td colspan="3">关于做好某项工作的通知</td></tr></table>"""
    table = metadata_table(BeautifulSoup(html, "lxml"))
    assert table["doc_no"] == ""
    assert table["written"] == "2021-12-09 11:24:43"
    assert table["index_no"] == "11620622013933539B/2021-03844"
    assert table["validity"] == "有效"
    assert table["title"] == "关于做好某项工作的通知"


WANTED = {"doc_no": "民发〔2020〕18号", "index_no": "000014349/2020-00123", "agency": "民政部", "written": "2020-03-05"}


PROVENANCE = {
    "li > span + span": "metadata li > span + span",
    "dl > dt + dd": "metadata dl/dd",
    "div.label + div.value": "metadata div label/value",
    "bold label, text after it": "metadata bold label",
    "p lines 标签：值, full-width space and colon": "metadata 标签：值 line",
    "td / th table": "metadata table",
}


@pytest.mark.parametrize(
    ("layout", "html"),
    [
        (
            "li > span + span",
            "<ul class='xxgk-meta'><li><span>发文字号</span><span>民发〔2020〕18号</span></li>"
            "<li><span>索 引 号</span><span>000014349/2020-00123</span></li>"
            "<li><span>发文机关</span><span>民政部</span></li><li><span>成文日期</span><span>2020-03-05</span></li></ul>",
        ),
        (
            "dl > dt + dd",
            "<dl><dt>发文字号：</dt><dd>民发〔2020〕18号</dd><dt>索引号：</dt><dd>000014349/2020-00123</dd>"
            "<dt>发文机关：</dt><dd>民政部</dd><dt>成文日期：</dt><dd>2020-03-05</dd></dl>",
        ),
        (
            "div.label + div.value",
            "<div class='row'><div class='label'>发文字号</div><div class='value'>民发〔2020〕18号</div></div>"
            "<div class='row'><div class='label'>索引号</div><div class='value'>000014349/2020-00123</div></div>"
            "<div class='row'><div class='label'>发文机关</div><div class='value'>民政部</div></div>"
            "<div class='row'><div class='label'>成文日期</div><div class='value'>2020-03-05</div></div>",
        ),
        (
            "bold label, text after it",
            "<ul><li><b>发文字号：</b>民发〔2020〕18号</li><li><strong>索引号：</strong> 000014349/2020-00123</li>"
            "<li><em>发文机关：</em>民政部</li><li><b>成文日期：</b>2020-03-05</li></ul>",
        ),
        (
            "p lines 标签：值, full-width space and colon",
            "<div class='info'><p>发文字号：民发〔2020〕18号</p><p>索　引　号：000014349/2020-00123</p>"
            "<p>发文机关: 民政部</p><p>成文日期：2020-03-05</p></div>",
        ),
        (
            "td / th table",
            "<table><tr><th>发文字号</th><td>民发〔2020〕18号</td><th>索引号</th><td>000014349/2020-00123</td></tr>"
            "<tr><th>发文机关</th><td>民政部</td><th>成文日期</th><td>2020-03-05</td></tr></table>",
        ),
    ],
)
def test_every_common_metadata_layout_is_read(layout: str, html: str) -> None:
    page = f"<html><body><div class='main'>{html}<div class='content'><p>正文内容。</p></div></div></body></html>"
    how: dict[str, str] = {}
    table = metadata_table(BeautifulSoup(page, "lxml"), how)
    assert {k: table.get(k) for k in WANTED} == WANTED, layout
    assert set(how) >= set(WANTED) and len({how[k] for k in WANTED}) == 1, how  # each field says how it was read
    assert how["doc_no"] == PROVENANCE[layout]


def test_a_block_holding_other_blocks_is_never_a_label() -> None:
    page = "<div class='content'>文号<div><p>第一段。</p></div><p>第二段。</p></div>"
    assert metadata_table(BeautifulSoup(page, "lxml")).get("doc_no", "") == ""


def test_hanweb_comment_markers_keep_the_value_once() -> None:
    html = '<table><tr><td class="t">信息索引号</td><td><!--<$[SYH]>-->014006438/2026-03652<!--<$[SYH]>--></td></tr></table>'
    assert metadata_table(BeautifulSoup(html, "lxml"))["index_no"] == "014006438/2026-03652"


def test_extract_falls_back_to_meta_and_keeps_the_url_date_apart() -> None:
    html = (
        '<html><head><meta name="ArticleTitle" content="某某通知"><meta name="ContentSource" content="某局"></head>'
        '<body><div id="zoom"><p>正文第一段。</p></div></body></html>'
    )
    doc, _ = extract_document(html, "http://a/art/2019/5/6/art_1_2.html", source_id="s", category="通知公告")
    assert (doc.title, doc.agency, doc.published, doc.date_source) == ("某某通知", "某局", None, "")
    assert (doc.listed, doc.listed_source) == (date(2019, 5, 6), "url")
    assert doc.body == "正文第一段。"


def _page(body: str, head: str = "", header: str = "") -> str:
    return f"<html><head>{head}</head><body><h1>关于做好某项工作的通知</h1>{header}<div id='zoom'>{body}</div></body></html>"


_SIGNED = "<p>各有关单位：</p><p>现将有关事项通知如下。</p><p>特此通知。</p>"


@pytest.mark.parametrize(
    "case, html, url, list_date, expected",
    [
        # (published, its source, listed, its source, written)
        ("URL date only", _page("<p>正文。</p>"), "http://a/art/2025/6/1/art_1_2.html", None,
         (None, "", date(2025, 6, 1), "url", None)),
        ("TRS URL date only", _page("<p>正文。</p>"), "http://a/zfxxgk/202506/t20250601_1.html", None,
         (None, "", date(2025, 6, 1), "url", None)),
        ("list date only", _page("<p>正文。</p>"), "http://a/x/1.html", date(2025, 6, 1),
         (None, "", date(2025, 6, 1), "list", None)),
        ("signature after the issuing body", _page(_SIGNED + "<p>杭州市余杭区民政局</p><p>2012年3月5日</p>"),
         "http://a/art/2025/6/1/art_1_2.html", date(2025, 6, 1),
         (date(2012, 3, 5), "signature", date(2025, 6, 1), "list", date(2012, 3, 5))),
        ("signature in Chinese numerals, a closing note after it",
         _page(_SIGNED + "<p>余杭区人民政府办公室</p><p>二〇一二年三月五日</p><p>（此件公开发布）</p>"),
         "http://a/x/1.html", None, (date(2012, 3, 5), "signature", None, "", date(2012, 3, 5))),
        ("signature with the body and the date on one line",
         _page(_SIGNED + "<p style='text-align:right'>余杭区民政局　2012年3月5日</p>"),
         "http://a/x/1.html", None, (date(2012, 3, 5), "signature", None, "", date(2012, 3, 5))),
        ("a seal note between the issuer and a date written with a digit zero",
         _page(_SIGNED + "<p>余杭区人民政府办公室</p><p>（盖章）</p><p>二0一二年三月五日</p>"),
         "http://a/x/1.html", None, (date(2012, 3, 5), "signature", None, "", date(2012, 3, 5))),
        ("a date in running text is no signature", _page("<p>本办法自2012年3月5日起施行。</p>"),
         "http://a/x/1.html", None, (None, "", None, "", None)),
        ("a table cell date is no signature", _page("<p>统计截至</p><p>合计</p><p>2016年12月31日</p>"),
         "http://a/x/1.html", None, (None, "", None, "", None)),
        ("the page's own date beats the signature",
         _page(_SIGNED + "<p>余杭区民政局</p><p>2012年3月5日</p>", header="<div>发布日期：2012-03-08</div>"),
         "http://a/art/2025/6/1/art_1_2.html", None,
         (date(2012, 3, 8), "table", date(2025, 6, 1), "url", date(2012, 3, 5))),
        ("成文日期 in the header is not 发布日期",
         _page("<p>正文。</p>", header="<div>成文日期：2012-03-05</div>"), "http://a/x/1.html", None,
         (None, "", None, "", date(2012, 3, 5))),
        ("a header line of several statements",
         _page("<p>正文。</p>", header="<div>来源:区人民政府办公室 时间:2017-01-12 10:01</div>"), "http://a/x/1.html", None,
         (date(2017, 1, 12), "header", None, "", None)),
        ("an unlabelled date in the info line under the title",
         _page("<p>正文。</p>", header="<div class='info'><span>2012-03-08</span> <span>来源：区财政局</span></div>"),
         "http://a/art/2025/6/1/art_1_2.html", None, (date(2012, 3, 8), "header", date(2025, 6, 1), "url", None)),
        ("a clock in the page header is no date of the page",
         _page("<p>正文。</p>", header="<div class='top'>今天是2025年6月1日 星期日</div>"), "http://a/x/1.html", None,
         (None, "", None, "", None)),
        ("meta PubDate", _page("<p>正文。</p>", head='<meta name="PubDate" content="2012-03-08 09:30">'),
         "http://a/x/t20250601_1.html", None, (date(2012, 3, 8), "meta", date(2025, 6, 1), "url", None)),
    ],
)  # fmt: skip
def test_dates_users_can_trust(case: str, html: str, url: str, list_date: date | None, expected: tuple) -> None:
    from crawler.listing import ListItem

    item = ListItem(url, "", list_date) if list_date else None
    doc, _ = extract_document(html, url, source_id="s", category="c", list_item=item)
    assert (doc.published, doc.date_source, doc.listed, doc.listed_source, doc.written) == expected, case


def test_an_api_field_named_as_a_publication_date_is_one_and_a_cms_timestamp_is_not() -> None:
    import json

    from crawler.listing import parse_gkmlpt

    articles = [
        {"title": "甲", "url": "/gkmlpt/content/0/1/post_1.html", "date": 1748736000},
        {"title": "乙", "url": "/gkmlpt/content/0/2/post_2.html", "date": 1748736000, "publish_time": "2012-03-05 10:00"},
    ]
    listing = parse_gkmlpt(json.dumps({"articles": articles}), "http://a/gkmlpt/api/all/1?page=1")
    docs = [
        extract_document(_page("<p>正文。</p>"), item.url, source_id="s", category="c", list_item=item)[0]
        for item in listing.items
    ]
    assert [(d.published, d.date_source, d.listed) for d in docs] == [
        (None, "", date(2025, 6, 1)),
        (date(2012, 3, 5), "api", date(2025, 6, 1)),
    ]


def test_an_api_string_cut_inside_a_character_keeps_the_rest_and_can_be_archived(tmp_path) -> None:
    """A CMS that cuts a title inside an emoji leaves half its escape (\\ud83d): the catalog stores only
    whole characters, so the half becomes U+FFFD, as an undecodable byte of a page does."""
    from archive.catalog import Catalog
    from crawler.listing import parse_gkmlpt

    api = (
        '{"articles": [{"title": "通知\\ud83d", "url": "/gkmlpt/content/0/1/post_1.html", "publisher": "区\\udc00民政局",'
        ' "document_number": "\\ud83d\\ude00 第1号"}]}'
    )
    (item,) = parse_gkmlpt(api, "http://a/gkmlpt/api/all/1?page=1").items
    assert (item.title, item.meta["agency"], item.meta["doc_no"]) == ("通知\ufffd", "区\ufffd民政局", "\U0001f600 第1号")
    doc, _ = extract_document(_page("<p>正文。</p>"), item.url, source_id="s", category="c", list_item=item)
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        assert catalog.record_document(doc, None) == "new"


@pytest.mark.parametrize(
    "case, html, default, expected",
    [
        ("metadata table", _page("<p>正文。</p>", header="<table><tr><td>发布机构</td><td>区财政局</td></tr></table>"),
         "区政府", ("区财政局", "metadata table")),
        ("li > span + span", _page("<p>正文。</p>", header="<ul><li><span>发文机关</span><span>区财政局</span></li></ul>"),
         "区政府", ("区财政局", "metadata li > span + span")),
        ("header line", _page("<p>正文。</p>", header="<div>发布时间：2020-01-15 15:28　来源：区卫健局</div>"),
         "区政府", ("区卫健局", "header line")),
        ("来源 then 时间 on one line", _page("<p>正文。</p>", header="<p>来源:区人民政府办公室 时间:2017-01-12 10:01</p>"),
         "", ("区人民政府办公室", "header line")),
        ("an empty 来源 takes no label", _page("<p>正文。</p>", header="<div>来源：  发布时间：2020-01-15</div>"),
         "", ("", "")),
        ("来源 that names nobody", _page("<p>正文。</p>", header="<div>来源：本站</div>"), "", ("", "")),
        ("meta ContentSource", _page("<p>正文。</p>", head='<meta name="ContentSource" content="区教育局">'),
         "区政府", ("区教育局", "meta ContentSource")),
        ("traditional label", _page("<p>正文。</p>", header="<ul><li>發布機關: 廣州市增城區人民政府辦公室</li></ul>"),
         "", ("廣州市增城區人民政府辦公室", "metadata 标签：值 line")),
        ("signature", _page(_SIGNED + "<p>区住房和城乡建设局</p><p>2012年3月5日</p>"), "区政府",
         ("区住房和城乡建设局", "signature")),
        ("nothing stated, no default", _page("<p>正文。</p>"), "", ("", "")),
        ("nothing stated, a single-agency site's default", _page("<p>正文。</p>"), "区政府", ("区政府", "source default")),
    ],
)  # fmt: skip
def test_publishers_as_stated(case: str, html: str, default: str, expected: tuple[str, str]) -> None:
    trace: dict[str, str] = {}
    doc, _ = extract_document(html, "http://a/x/1.html", source_id="s", category="c", default_agency=default, trace=trace)
    assert (doc.agency, trace.get("agency", "")) == expected, case


def test_a_source_names_its_agency_as_default_only_when_it_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from crawler.errors import SourceError
    from crawler.extract import extract_item
    from crawler.listing import ListItem
    from crawler.sources import parse_source

    base = {"id": "s", "name": "某区政府门户", "agency": "某区人民政府", "platform": "generic", "base_url": "http://a/"}
    base["columns"] = [{"name": "通知", "url": "/tz/"}]
    item = ListItem("http://a/x/1.html", "标题")
    for flag, expected in ((None, ""), (True, "某区人民政府"), (False, "")):
        data = dict(base) if flag is None else {**base, "default_agency": flag}
        source = parse_source(data, "s.toml")
        doc, _ = extract_item(source, source.columns[0], item, _page("<p>正文。</p>").encode(), "text/html; charset=utf-8")
        assert doc.agency == expected
    with pytest.raises(SourceError, match="default_agency"):
        parse_source({**base, "default_agency": "yes"}, "s.toml")
    with pytest.raises(SourceError, match="needs an agency"):
        parse_source({**base, "agency": "", "default_agency": True}, "s.toml")


def test_hanweb_dataproxy_response_and_both_module_paths() -> None:
    xml = (
        "<datastore><totalrecord>2</totalrecord><totalpage>1</totalpage><recordset>"
        "<record><![CDATA[<li class='cf'><a href='/art/2026/9/16/art_77278_1.html' title='标题一'>标题一…</a><span>2026-09-16</span></li>]]></record>"  # noqa: E501 - a page as portals write it
        "<record><![CDATA[<li><a href='/art/2026/9/10/art_77278_2.html'><span class='list_title'>标题二</span><i>2026-09-10</i></a></li>]]></record>"  # noqa: E501 - a page as portals write it
        "</recordset></datastore>"
    )
    page = parse_hanweb(xml, "http://a/module/jpage/dataproxy.jsp?page=2")
    assert [(i.url, i.title, i.list_date) for i in page.items] == [
        ("http://a/art/2026/9/16/art_77278_1.html", "标题一", date(2026, 9, 16)),
        ("http://a/art/2026/9/10/art_77278_2.html", "标题二", date(2026, 9, 10)),
    ]
    bare = "<datastore><![CDATA[ <li><a href='/art/2026/7/14/art_5301_1.html'>甲</a><span>2026-07-14</span></li> ]]></datastore>"
    assert [i.title for i in parse_hanweb(bare, "http://a/").items] == ["甲"]


def test_trs_pager_variants() -> None:
    html = (
        '<li class="clearfix"><a href="./202607/t20260702_15795188.html" title="标题">标题</a><span>2026-07-02</span></li>'
        '<script>//wcm分页\ncreatePage(3, 0, "index", "shtml");</script>'
    )
    page = parse_trs(html, "http://a/kjj/zwgk/index.shtml")
    assert page.items[0].url == "http://a/kjj/zwgk/202607/t20260702_15795188.html"
    assert page.items[0].list_date == date(2026, 7, 2)
    assert page.more_pages == ("http://a/kjj/zwgk/index_1.shtml", "http://a/kjj/zwgk/index_2.shtml")
    later = parse_trs(html.replace("3, 0,", "3, 1,"), "http://a/kjj/zwgk/index_1.shtml")
    assert later.more_pages == ()


def test_hanweb_post_variant_pages_by_record_ranges() -> None:
    from crawler.listing import ListRequest

    html = (
        "<div id='5405'><script type='text/xml'><datastore><recordset>"
        "<record><![CDATA[<li><a href='/art/2024/1/2/art_1_1.html'>甲</a><span>2024-01-02</span></li>]]></record>"
        "</recordset></datastore></script></div><script>var param_5405={col:1,webid:39,path:'/',columnid:61490,"
        "unitid:'247686',webname:'江苏省国资委',permissiontype:0};$('#5405').jpage({totalRecord:45,perPage:20,"
        "proxyUrl:'/module/web/jpage/dataproxy.jsp'});</script>"
    )
    page = parse_hanweb(html, "http://a/col/col61490/index.html")
    assert page.more_pages == (
        ListRequest(
            "http://a/module/web/jpage/dataproxy.jsp?startrecord=21&endrecord=40&perpage=20",
            (
                ("col", "1"),
                ("webid", "39"),
                ("path", "/"),
                ("columnid", "61490"),
                ("unitid", "247686"),
                ("webname", "江苏省国资委"),
                ("permissiontype", "0"),
            ),
        ),
        ListRequest("http://a/module/web/jpage/dataproxy.jsp?startrecord=41&endrecord=60&perpage=20", page.more_pages[0].form),
    )


@pytest.mark.parametrize(
    "href, text, css, expected",
    [
        ("/module/download/downfile.jsp?classid=0&filename=2506021010123.pdf", "名单", "", True),
        ("/module/download/download.jsp?fileid=78", "点击下载", "", True),
        ("/servlet/DownFile?fileName=%E9%99%84%E4%BB%B6.docx", "附件", "", True),
        ("/attach/0/306/3255421", "公示稿", "", True),
        ("/zqhjj/attachment/0/306/3255421.pdf", "公示稿", "nfw-cms-attachment", True),
        ("/files/report.PDF", "年度报告", "", True),
        ("/getfile?id=9", "关于印发办法的通知.doc", "", True),
        ("/art/2020/1/1/art_1_2.html", "关于印发办法的通知", "", False),
        ("/download", "下载中心", "", False),
        ("/col/col12/index.html", "附件下载", "", False),
        ("/images/banner.jpg", "图片", "", False),
        ("mailto:a@b.cn", "联系我们", "", False),
    ],
)  # fmt: skip
def test_attachments_by_what_they_are(href: str, text: str, css: str, expected: bool) -> None:
    from crawler.links import is_attachment_link

    assert is_attachment_link("http://a.gov.cn" + href if href.startswith("/") else href, text, css) is expected


_GBK_NAME = "报告.pdf".encode("gbk").decode("latin-1")  # raw GBK bytes as an HTTP header carries them


@pytest.mark.parametrize(
    "link_text, url, disposition, expected",
    [
        ("保障性住房名单", "http://a/downfile.jsp?filename=123.pdf", "", "保障性住房名单"),
        ("下载", "http://a/downfile.jsp?classid=0&filename=123.pdf", "", "123.pdf"),
        ("点击下载", "http://a/download.jsp?fileid=78", 'attachment; filename="报告.pdf"', "报告.pdf"),
        ("点击下载", "http://a/download.jsp?fileid=78", "attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.docx", "报告.docx"),
        ("点击下载", "http://a/download.jsp?fileid=78", f'attachment; filename="{_GBK_NAME}"', "报告.pdf"),
        ("附件1", "http://a/download.jsp?fileid=78", 'attachment; filename="%E6%8A%A5%E5%91%8A.xls"', "报告.xls"),
    ],
)  # fmt: skip
def test_attachment_names_from_the_link_the_url_or_the_server(link_text: str, url: str, disposition: str, expected: str) -> None:
    from crawler.links import AttachmentLink, file_name, link_name

    assert file_name(AttachmentLink(url, link_name(link_text, url)), disposition) == expected
