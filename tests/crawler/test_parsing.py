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
    table = metadata_table(BeautifulSoup(page, "lxml"))
    assert {k: table.get(k) for k in WANTED} == WANTED, layout


def test_a_block_holding_other_blocks_is_never_a_label() -> None:
    page = "<div class='content'>文号<div><p>第一段。</p></div><p>第二段。</p></div>"
    assert metadata_table(BeautifulSoup(page, "lxml")).get("doc_no", "") == ""


def test_hanweb_comment_markers_keep_the_value_once() -> None:
    html = '<table><tr><td class="t">信息索引号</td><td><!--<$[SYH]>-->014006438/2026-03652<!--<$[SYH]>--></td></tr></table>'
    assert metadata_table(BeautifulSoup(html, "lxml"))["index_no"] == "014006438/2026-03652"


def test_extract_falls_back_to_meta_then_url_date() -> None:
    html = (
        '<html><head><meta name="ArticleTitle" content="某某通知"><meta name="ContentSource" content="某局"></head>'
        '<body><div id="zoom"><p>正文第一段。</p></div></body></html>'
    )
    doc, _ = extract_document(html, "http://a/art/2019/5/6/art_1_2.html", source_id="s", category="通知公告")
    assert (doc.title, doc.agency, doc.published, doc.date_source) == ("某某通知", "某局", date(2019, 5, 6), "url")
    assert doc.body == "正文第一段。"


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
