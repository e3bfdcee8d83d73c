"""The Flask app through its test client: pages, JSON twins, escaping, bad input, headers."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from archive.catalog import Catalog
from archive.models import Attachment, Document
from index.whoosh.sync import rebuild
from search_web import create_app
from tests.conftest import make_settings
from xxgk.demo.corpus import seed_report


def test_search_page_lists_seed_first(client) -> None:
    response = client.get("/?q=信息公开 年度报告")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    first = re.search(r'<li class="hit[^"]*">\s*<h3><a href="/doc/[0-9a-f]+[^"]*">(.*?)</a>', html, re.S)
    assert first and re.sub(r"</?mark>", "", first.group(1)) == seed_report()[0]
    assert "栏目" in html and "发布机构" in html and "年份" in html


def test_the_search_box_takes_a_pasted_paragraph_as_long_as_the_site_accepts(client) -> None:
    # The help page says a paragraph of up to max_query_chars may be pasted; the box cut it at 200.
    html = client.get("/").get_data(as_text=True)
    box = re.search(r'<input id="q"[^>]*maxlength="(\d+)"', html)
    assert box and int(box.group(1)) == client.application.config["XXGK_SETTINGS"].max_query_chars == 500
    help_page = client.get("/help").get_data(as_text=True)
    assert f"最长 {box.group(1)} 字" in help_page


def test_facet_links_toggle_and_counts_match(client) -> None:
    data = client.get("/search.json?q=工作").get_json()
    for facet in data["facets"]:
        for value in facet["values"][:4]:
            url = value["toggle_url"]
            assert parse_qs(urlsplit(url).query)[facet["name"]] == [value["value"]]
            narrowed = client.get("/search.json" + url[1:]).get_json()
            assert narrowed["total"] == value["count"]
            selected = next(v for f in narrowed["facets"] if f["name"] == facet["name"] for v in f["values"] if v["selected"])
            assert parse_qs(urlsplit(selected["toggle_url"]).query) == {"q": ["工作"]}


def test_json_twin_matches_the_page(client) -> None:
    data = client.get("/search.json?q=最低生活保障&sort=date").get_json()
    html = client.get("/?q=最低生活保障&sort=date").get_data(as_text=True)
    assert f'<strong id="total">{data["total"]}</strong>' in html
    assert data["hits"] and all(h["doc_url"] in html for h in data["hits"])


def test_document_page_shows_metadata_text_and_original_link(client) -> None:
    hit = client.get("/search.json?q=信息公开 年度报告").get_json()["hits"][0]
    html = client.get(hit["doc_url"] + "?q=信息公开").get_data(as_text=True)
    for label in ("索引号", "发布机构", "文号", "主题分类", "发布日期"):
        assert label in html
    assert "2017-03-28" in html and hit["url"] in html
    assert "<mark>信息公开</mark>" in html
    doc = client.get(hit["doc_url"] + ".json").get_json()
    assert doc["document"]["title"] == seed_report()[0] and doc["captures"]


def test_a_document_page_marks_the_words_its_results_searched(client) -> None:
    """Opened from results that searched a synonym too (低保 → 最低生活保障) or a typo's correction
    (最低生火保障), the page marks what those results marked; opened from 只搜索 (literal), only the
    words as typed."""
    for q in ("低保", "最低生火保障"):
        data = client.get(f"/search.json?q={q}").get_json()
        assert "最低生活保障" in data["expanded"] + [data["corrected"]]
        hit = next(h for h in data["hits"] if "最低生活保障" in h["title"])
        html = client.get(f"{hit['doc_url']}?q={q}").get_data(as_text=True)
        assert "<mark>最低生活保障</mark>" in html, q
        literal = client.get(f"{hit['doc_url']}?q={q}&literal=1").get_data(as_text=True)
        assert "<mark>最低生活保障</mark>" not in literal, q


def test_script_in_title_and_body_is_escaped_on_both_pages(tmp_path) -> None:
    settings = make_settings(tmp_path)
    evil = Document(
        source_id="t",
        url="http://x/evil",
        title='通知<script>alert("t")</script>',
        body='正文 <img src=x onerror="alert(1)"> 信息公开 <script>alert("b")</script>',
        agency="<b>机构</b>",
        attachments=(Attachment(url="javascript:alert(1)", name="<i>附件</i>"),),
    )
    with Catalog(settings.catalog_path) as catalog:
        catalog.record_document(evil, None)
        rebuild(settings, catalog)
    client = create_app(settings).test_client()
    for page in ("/?q=信息公开", f"/doc/{evil.doc_id}?q=信息公开", "/?q=<script>"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>机构" not in html
    html = client.get("/?q=信息公开").get_data(as_text=True)
    assert "&lt;script&gt;alert" in html


def test_bad_input_gives_a_message_never_a_500(client) -> None:
    cases = {
        "/?q=%22abc": "引号",
        "/?q=foo:bar": "字段",
        "/?page=abc": "页码",
        "/?page=0": "页码",
        "/?from=2024-13-45": "日期",
        "/?sort=evil": "排序",
        "/?from=2020-01-01&to=2019-01-01": "起始日期",
        "/?q=" + "长" * 501: "过长",
    }
    for url, word in cases.items():
        response = client.get(url)
        assert response.status_code == 400, url
        assert word in response.get_data(as_text=True), url
    json_error = client.get("/search.json?q=%22abc")
    assert json_error.status_code == 400
    assert json_error.get_json()["ok"] is False and json_error.get_json()["status"] == 400
    assert client.get("/doc/0123456789abcdef").status_code == 404
    assert client.get("/doc/../../etc/passwd").status_code == 404
    assert client.get("/doc/nothex.json").get_json() == {"ok": False, "error": "页面不存在。", "status": 404}


def test_security_headers(client) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # only when hsts_max_age is set (HTTPS)


def test_hsts_only_when_configured(indexed) -> None:  # type: ignore[no-untyped-def]
    from search_web import create_app

    response = create_app(indexed.replace(hsts_max_age=31536000)).test_client().get("/help")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_missing_index_is_a_clear_503(tmp_path) -> None:
    client = create_app(make_settings(tmp_path)).test_client()
    response = client.get("/search.json?q=x")
    assert response.status_code == 503
    assert "xxgk reindex" in response.get_json()["hint"]


def test_atom_feed_of_a_search_validates_and_is_newest_first(client) -> None:  # type: ignore[no-untyped-def]
    import feedparser

    response = client.get("/feed.atom?q=救助&category=通知公告")
    assert response.status_code == 200 and response.content_type.startswith("application/atom+xml")
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.get("bozo_exception")
    assert "救助" in feed.feed.title and "通知公告" in feed.feed.title
    listing = client.get("/search.json?q=救助&category=通知公告&sort=date").get_json()
    assert len(feed.entries) == min(50, listing["total"]) and listing["total"] > 0
    assert [e.link for e in feed.entries[: len(listing["hits"])]] == ["http://localhost" + h["doc_url"] for h in listing["hits"]]
    dates = [e.published for e in feed.entries]
    assert dates == sorted(dates, reverse=True) and all("通知公告" == e.tags[0].term for e in feed.entries)
    assert client.get("/feed.atom?from=2017-13-01").status_code == 400
    titled = feedparser.parse(client.get("/feed.atom?q=工作&year=2016&month=03&status=active").get_data()).feed.title
    assert "月份：3月" in titled and "状态：公开中" in titled  # values as the page shows them


def test_csv_export_streams_the_whole_result_set_up_to_the_cap(client, indexed) -> None:  # type: ignore[no-untyped-def]
    import csv as csvlib
    import io

    total = client.get("/search.json?q=工作").get_json()["total"]
    response = client.get("/search.csv?q=工作&header=en")
    rows = list(csvlib.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    people = client.get("/search.csv?q=工作").get_data()
    assert people.startswith("\ufeff编号,标题,发布机构,栏目,文号,发布日期,列表日期,原文网址,档案页面,摘要".encode())
    assert total > 50 and len(rows) == total and len({r["id"] for r in rows}) == total  # past the first page
    assert all(r["doc_url"].endswith("/doc/" + r["id"]) and "<" not in r["snippet"] for r in rows)
    from search_web import create_app

    capped = create_app(indexed.replace(max_export_rows=7)).test_client()
    assert len(list(csvlib.DictReader(io.StringIO(capped.get("/search.csv?q=工作").get_data(as_text=True))))) == 7
    assert client.get("/search.csv?page=x").status_code == 400


@pytest.mark.parametrize(
    "value, cell",
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("关于=号的通知", "关于=号的通知"), ("", ""), (None, None)],
)  # fmt: skip
def test_csv_cells_that_start_like_formulas_are_neutralised(value, cell) -> None:  # type: ignore[no-untyped-def]
    from archive.spreadsheet import spreadsheet_safe

    assert spreadsheet_safe(value) == cell


def test_month_within_year_validity_and_status_facets(client, revised) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/search.json?q=工作").get_json()
    names = [f["name"] for f in data["facets"]]
    assert "month" not in names and "status" in names  # months only within a year
    # No demo page states 有效性; the one its relations show repealed is 已废止, the rest 未注明.
    validity = next(f for f in data["facets"] if f["name"] == "validity")
    assert {v["value"] for v in validity["values"]} <= {"已废止", "已修订", "未注明"}
    repealed = client.get("/search.json?validity=已废止&collapse=0").get_json()
    assert [h["title"] for h in repealed["hits"]] == ["余杭区民政局关于印发《余杭区困难群众临时救助实施办法》的通知"]
    year = next(f for f in data["facets"] if f["name"] == "year")["values"][0]
    in_year = client.get("/search.json" + year["toggle_url"][1:]).get_json()
    months = next(f for f in in_year["facets"] if f["name"] == "month")["values"]
    assert months and sum(m["count"] for m in months) == in_year["total"]
    month = months[0]
    assert month["display"] == f"{int(month['value'])}月"
    narrowed = client.get("/search.json" + month["toggle_url"][1:]).get_json()
    assert narrowed["total"] == month["count"]
    assert all(h["published"].startswith(f"{year['value']}-{month['value']}") for h in narrowed["hits"])
    chosen = next(v for f in narrowed["facets"] if f["name"] == "year" for v in f["values"] if v["selected"])
    assert "month=" not in chosen["toggle_url"]  # dropping the year drops its month
    for bad in ("month=13&year=2016", "month=03", "status=deleted"):
        response = client.get("/search.json?q=工作&" + bad)
        assert response.status_code == 400, bad
    from search_web import create_app

    revised_client = create_app(revised.settings).test_client()
    status = next(f for f in revised_client.get("/search.json").get_json()["facets"] if f["name"] == "status")
    withdrawn = next(v for v in status["values"] if v["value"] == "withdrawn")
    assert withdrawn["display"] == "已撤回" and withdrawn["count"] == 1
    hits = revised_client.get("/search.json" + withdrawn["toggle_url"][1:]).get_json()["hits"]
    assert [h["title"] for h in hits] == [revised.portal.withdrawn.title]


def test_validity_facet_when_documents_state_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from archive.catalog import Catalog
    from archive.models import Document
    from index.whoosh.sync import rebuild
    from search_web import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        for n, validity in enumerate(["有效", "有效", "失效", ""]):
            catalog.record_document(
                Document(
                    source_id="t",
                    url=f"http://x/{n}",
                    title=f"关于印发办法的通知{n}",
                    body="办法全文。",
                    validity=validity,
                    published=date(2020, 1, n + 1),
                ),
                None,
            )
        rebuild(settings, catalog)
    client = create_app(settings).test_client()
    facet = next(f for f in client.get("/search.json?q=办法").get_json()["facets"] if f["name"] == "validity")
    assert {v["value"]: v["count"] for v in facet["values"]} == {"有效": 2, "失效": 1, "未注明": 1}
    narrowed = client.get("/search.json" + facet["values"][0]["toggle_url"][1:]).get_json()
    assert narrowed["total"] == 2


def test_no_results_suggest_dropping_a_filter_mainland_wording_and_a_near_doc_no(client, indexed) -> None:  # type: ignore[no-untyped-def]
    import re

    html = client.get("/?q=信息公开&agency=没有这个机构").get_data(as_text=True)
    assert "去掉筛选“发布机构：没有这个机构”" in html
    data = client.get("/search.json?q=资讯公开").get_json()
    assert not data["tiers"].get("exact") and not data["tiers"].get("all")  # no full match, at most relaxed ones
    wording = [s for s in data["suggestions"] if "信息公开" in s["text"]]
    assert wording and wording[0]["count"] > 0
    with Catalog(indexed.catalog_path) as catalog:
        numbered = [d.doc for d in catalog.iter_documents() if d.doc.doc_no]
    existing = {d.doc_no for d in numbered}
    bump = lambda doc_no: re.sub(r"(\d+)号$", lambda m: f"{int(m.group(1)) + 1}号", doc_no)  # noqa: E731
    target = next(d for d in numbered if bump(d.doc_no) not in existing)
    missing = bump(target.doc_no)  # one number past an existing 文号, itself not in the archive
    html = client.get("/", query_string={"q": missing}).get_data(as_text=True)
    assert "相近文号" in html and target.doc_no in html


def test_doc_no_query_redirects_to_the_document(client, indexed) -> None:  # type: ignore[no-untyped-def]
    with Catalog(indexed.catalog_path) as catalog:
        numbered = {}
        for d in catalog.iter_documents():
            if d.doc.doc_no:
                numbered.setdefault(d.doc.doc_no, []).append(d.id)
    doc_no, ids = next((k, v) for k, v in numbered.items() if len(v) == 1)
    bracketed = doc_no.replace("〔", "(").replace("〕", ")")
    response = client.get("/", query_string={"q": bracketed})
    assert response.status_code == 302 and f"/doc/{ids[0]}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "对应此文件" in page and "go=0" in page
    assert client.get("/", query_string={"q": bracketed, "go": "0"}).status_code == 200


def test_document_page_has_related_documents_permalink_and_find_box(client, indexed) -> None:  # type: ignore[no-untyped-def]
    with Catalog(indexed.catalog_path) as catalog:
        doc = next(d for d in catalog.iter_documents() if d.doc.agency == "余杭区民政局" and d.doc.doc_no)
    html = client.get(f"/doc/{doc.id}").get_data(as_text=True)
    assert 'id="related"' in html and html.count('<li><a href="/doc/') >= 2
    assert f'href="/doc/{doc.id}"' in html and 'id="find"' in html and "doc.js" in html
    related = client.get(f"/doc/{doc.id}.json").get_json()["related"]
    assert related and all(r["id"] != doc.id for r in related)


def test_undated_and_unnamed_documents_are_reachable_from_the_facets(client) -> None:  # type: ignore[no-untyped-def]
    """Pages stating no date file under 日期不详 (last, however many years), showing their list date;
    pages naming no publisher under 未注明; sorting by date places them by their list date."""
    data = client.get("/search.json?q=").get_json()
    years = next(f for f in data["facets"] if f["name"] == "year")["values"]
    dated = [y["value"] for y in years[:-1]]
    assert years[-1]["value"] == "日期不详" and dated == sorted(dated, reverse=True)
    undated = client.get("/search.json" + years[-1]["toggle_url"][1:]).get_json()
    assert undated["total"] == years[-1]["count"] > 0
    assert client.get("/search.json?q=year:日期不详").get_json()["total"] == undated["total"]  # the query language too
    assert all(h["published"] is None and h["listed"] for h in undated["hits"])
    page = client.get("/" + years[-1]["toggle_url"][1:]).get_data(as_text=True)
    assert "日期不详（列表日期 " in page
    # Within 日期不详: their 列表年份, as a facet of its own (a count equals the results of clicking it).
    names = [f["name"] for f in undated["facets"]]
    assert "listyear" in names and "month" not in names
    list_years = next(f for f in undated["facets"] if f["name"] == "listyear")["values"]
    assert list_years and sum(v["count"] for v in list_years) == undated["total"]
    narrowed = client.get("/search.json" + list_years[0]["toggle_url"][1:]).get_json()
    assert narrowed["total"] == list_years[0]["count"]
    assert all(h["listed"].startswith(list_years[0]["value"]) for h in narrowed["hits"])
    assert client.get("/search.json?q=&listyear=2025").status_code == 400  # only within 日期不详
    agencies = next(f for f in data["facets"] if f["name"] == "agency")["values"]
    unnamed = next(a for a in agencies if a["value"] == "未注明")
    assert client.get("/search.json" + unnamed["toggle_url"][1:]).get_json()["total"] == unnamed["count"] > 0
    by_date = client.get("/search.json?q=&sort=date&size=50").get_json()["hits"]
    keys = [(h["published"] or h["listed"], h["published"] is not None) for h in by_date]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize(
    "url, extension, expected",
    [
        ("http://a/robots.txt", "bin", "robots.txt"),
        ("http://a/module/download/downfile.jsp?classid=0&filename=P02506.pdf", "pdf", "P02506.pdf"),
        ("http://a/%E9%99%84%E4%BB%B6.docx", "docx", "附件.docx"),
        ("http://a/table.xls", "doc", "table.xls"),  # an OLE file: the URL says which kind
        ("http://a/report.pdf", "bin", "report.pdf"),
        ("http://a/evil.html", "bin", "evil.bin"),  # never a name that would open as a page
        ("http://a/fake.pdf", "zip", "fake.zip"),  # the bytes decide how it opens
        ("http://a/attach/0/1/3255421", "pdf", "capture-7.pdf"),
        ('http://a/x/a"b<c>.pdf', "pdf", "a_b_c_.pdf"),
    ],
)
def test_a_capture_downloads_under_a_name_from_its_url(url: str, extension: str, expected: str) -> None:
    from search_web.archived import download_name

    assert download_name(url, extension, f"capture-7.{extension}") == expected


def test_back_to_results_keeps_every_filter_and_a_bad_year_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/?q=工作&category=工作动态&sort=date&page=2").get_data(as_text=True)
    link = re.search(r'<h3><a href="(/doc/[0-9a-f]+\?[^"]+)"', page)
    assert link is not None
    doc = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    back = re.search(r'<p class="back"><a href="([^"]+)"', doc)
    assert back is not None
    kept = back.group(1).replace("&amp;", "&")
    assert all(part in kept for part in ("q=", "category=", "sort=date", "page=2"))
    for path in ("/?year=abcd", "/search.json?year=abcd", "/feed.atom?year=abcd", "/search.csv?year=abcd"):
        assert client.get(path).status_code == 400, path


def test_a_document_pages_title_is_its_title_only(client) -> None:  # type: ignore[no-untyped-def]
    hit = client.get("/search.json?q=年度报告").get_json()["hits"][0]
    page = client.get(f"/doc/{hit['id']}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and title.group(1) == f"{hit['title']} - 政务公开档案检索"  # no markup in the browser tab


def test_the_site_has_an_icon(client) -> None:  # type: ignore[no-untyped-def]
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.get_data()
    assert 'rel="icon"' in client.get("/help").get_data(as_text=True)


def test_a_repealed_document_says_so_links_its_replacement_and_its_relations_are_in_the_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from index.api import sync_relations
    from tests.index.test_relations_store import _doc, _id

    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        for name in ("a1", "a2", "a3", "a4", "x1", "x2", "x3"):
            catalog.record_document(_doc(name), None)
        sync_relations(catalog)
        rebuild(settings, catalog)
    client = create_app(settings).test_client()
    html = client.get(f"/doc/{_id('a1')}").get_data(as_text=True)
    note = re.search(r'<p class="repealed"[^>]*>(.*?)</p>', html, re.S)
    assert note and "已废止" in note.group(1) and f'href="/doc/{_id("a3")}"' in note.group(1) and "同时废止" in note.group(1)
    relations = html[html.index('id="relations"') :]
    assert "版本沿革" in relations and "被废止" in relations and "被修订" in relations and "被引用" in relations
    chain = re.findall(r'<span class="role">(.*?)</span>', relations)
    assert chain == ["本文件", "修订", "替代文件"]
    assert "有效性" in html and "已废止 <small>（页面未标注，由后续文件推断）</small>" in html
    # An unarchived law is named as such; a title two archived documents share is left open, with both.
    assert "《社会救助暂行办法》" in relations and "（未收录）" in relations
    tie = client.get(f"/doc/{_id('x3')}").get_data(as_text=True)
    assert "存档中有 2 个同名文件" in tie and f'href="/doc/{_id("x1")}"' in tie and f'href="/doc/{_id("x2")}"' in tie
    data = client.get(f"/doc/{_id('a1')}.json").get_json()["relations"]
    assert data["validity"]["derived"] == "已废止" and data["validity"]["by"]["doc_id"] == _id("a3")
    assert {(link["kind"], link["direction"], link["doc_id"]) for link in data["links"]} >= {
        ("repeals", "in", _id("a3")),
        ("amends", "in", _id("a2")),
        ("cites", "in", _id("a4")),
    }
    # Results mark it, and the 有效性 facet counts what the relations say.
    found = client.get("/search.json?q=最低生活保障办法").get_json()
    repealed = {h["id"] for h in found["hits"] if h["validity"] == "已废止"}
    assert repealed == {_id("a1"), _id("a2")}
    facet = next(f for f in found["facets"] if f["name"] == "validity")
    assert {v["value"]: v["count"] for v in facet["values"]}["已废止"] == 2
    page = client.get("/?q=最低生活保障办法").get_data(as_text=True)
    assert page.count('<span class="badge">已废止</span>') == 2


def test_reposts_show_once_with_the_others_listed_and_collapse_0_lists_them_all(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from index.api import sync_relations
    from tests.index.test_relations_store import _doc, _id

    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        for name in ("orig", "rep1", "rep2", "next"):
            catalog.record_document(_doc(name), None)
        sync_relations(catalog)
        rebuild(settings, catalog)
    client = create_app(settings).test_client()
    html = client.get("/?q=最低生活保障").get_data(as_text=True)
    assert html.count('<details class="copies">') == 1 and "另有 2 个机关发布相同内容" in html
    copies = html[html.index('<details class="copies">') :].split("</details>")[0]
    assert len(re.findall(r'href="/doc/[0-9a-f]{16}"', copies)) == 2
    assert 'id="collapsed-note"' in html and "collapse=0" in html
    data = client.get("/search.json?q=最低生活保障").get_json()
    assert data["total"] == 2 and data["collapsed"] == 2 and data["facet_counts"] == "groups"
    listed = {h["id"]: [c["id"] for c in h["copies"]] for h in data["hits"]}
    assert sorted(len(v) for v in listed.values()) == [0, 2]
    every = client.get("/search.json?q=最低生活保障&collapse=0").get_json()
    assert every["total"] == 4 and every["facet_counts"] == "documents" and all(not h["copies"] for h in every["hits"])
    assert {h["id"] for h in every["hits"]} == {_id(n) for n in ("orig", "rep1", "rep2", "next")}
    assert "合并相同内容" in client.get("/?q=最低生活保障&collapse=0").get_data(as_text=True)
    assert client.get("/search.json?q=x&collapse=maybe").status_code == 400


def test_an_archived_hanweb_xml_list_answer_reads_as_text(revised) -> None:  # type: ignore[no-untyped-def]
    from search_web import create_app

    with Catalog(revised.settings.catalog_path) as catalog:
        xml = next(c for c in catalog.all_captures() if "dataproxy.jsp" in c.url and c.record_type == "response")
    client = create_app(revised.settings).test_client()
    data = client.get(f"/capture/{xml.id}.json").get_json()
    assert data["ok"] and data["text"], data  # the list's items, read from the CDATA as HTML
    assert client.get(f"/capture/{xml.id}").status_code == 200
