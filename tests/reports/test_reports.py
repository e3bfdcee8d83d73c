"""Annual reports as data: the seed's prose figures, standard-format tables in every layout, checks, pages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from archive.models import Attachment, Document
from crawler.attachments import extract_text
from crawler.extract import extract_document
from reports.checks import run_checks
from reports.prose import read_prose
from reports.standard import read_standard
from reports.store import stored_reports
from xxgk.demo.annual import as_html, as_lines, standard_tables, table_rows
from xxgk.demo.corpus import seed_report


def test_seed_report_yields_its_figures_with_their_sentences() -> None:
    _, _, paragraphs = seed_report()
    figures = {f.key: f for f in read_prose("\n".join(paragraphs))}
    expected = {
        "prose.active": (253, "主动公开政策类信息共253条"),
        "apply.new.total": (2, "全年共收到2件依申请公开情况"),
        "apply.on_time.total": (2, "已全部按时办结"),
        "fees": (0, "本年度无信息公开收费及减免情况"),
        "review.total": (0, "无因信息公开问题而被提起的行政复议和行政诉讼"),
        "lit.total": (0, "无因信息公开问题而被提起的行政复议和行政诉讼"),
        "staff": (5, "目前有兼职公开工作人员5人"),
        "prose.permits": (182, "公开数182条"),
        "prose.penalties": (6, "公开行政处罚事项6项"),
    }
    for key, (value, words) in expected.items():
        assert figures[key].value == value, key
        assert words in figures[key].source, key
    assert figures["staff"].label == "兼职公开工作人员5人"  # the words as printed


def _html_page(body: str) -> str:
    return (
        "<html><head><title>2021年度政府信息公开工作年度报告</title></head><body><div class='nav'>首页 | 政务公开</div>"
        f"<h1>某某局2021年度政府信息公开工作年度报告</h1><div id='zoom'><p>一、总体情况</p>{body}</div></body></html>"
    )


def _through_page(html: str) -> str:
    doc, _ = extract_document(html, "http://example.gov.cn/art/2022/1/20/art_1_1.html", source_id="t", category="年报")
    return doc.body


def _pdf(lines: list[str]) -> bytes:
    from xxgk.demo.model import AttachmentSpec
    from xxgk.demo.render import pdf_bytes

    return pdf_bytes(AttachmentSpec("", "", "pdf", lines))


def _docx(t) -> bytes:  # type: ignore[no-untyped-def]
    import docx

    document = docx.Document()
    table = None
    for heading, cells in table_rows(t):
        if heading and not cells:
            document.add_paragraph(heading)
            table = None
            continue
        row = ([heading] if heading else []) + cells
        if table is None or len(table.columns) < len(row):
            table = document.add_table(rows=0, cols=max(len(row), 9))
        rcells = table.add_row().cells
        for cell, text in zip(rcells, row):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _fullwidth(text: str) -> str:
    return text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}).replace(" | ", "\u3000")


def _cell_per_line(t) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(c for line in as_lines(t, "\n") for c in line.split("\n"))


def _numbers_in_own_cells(t) -> str:  # type: ignore[no-untyped-def]
    """Sub-items written as "1" | "属于国家秘密" | ... (the item number in its own cell)."""
    lines = []
    for line in as_lines(t):
        cells = line.split(" | ")
        split = []
        for cell in cells:
            if cell[:1].isdigit() and "." in cell[:3] and not cell.replace(".", "").isdigit():
                number, rest = cell.split(".", 1)
                split += [number, rest]
            else:
                split.append(cell)
        lines.append(" | ".join(split))
    return "\n".join(lines)


def _dashes_for_zero(t) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(" | ".join("—" if c == "0" else c for c in line.split(" | ")) for line in as_lines(t))


LAYOUTS = {
    "html table (2021)": (2021, lambda t: _through_page(_html_page(as_html(t)))),
    "html table (2019 edition)": (2019, lambda t: _through_page(_html_page(as_html(t)))),
    "mirror with | separators": (2021, lambda t: "\n".join(as_lines(t))),
    "one cell per line": (2021, _cell_per_line),
    "pdf attachment (2021)": (2021, lambda t: extract_text(_pdf(as_lines(t, " ")), "report.pdf")[0]),
    "pdf attachment (2019 edition)": (2019, lambda t: extract_text(_pdf(as_lines(t, " ")), "report.pdf")[0]),
    "docx attachment with tables": (2021, lambda t: extract_text(_docx(t), "report.docx")[0]),
    "full-width digits and ideographic spaces": (2021, lambda t: _fullwidth("\n".join(as_lines(t)))),
    "item numbers in their own cells": (2019, _numbers_in_own_cells),
    "dashes for zero": (2021, _dashes_for_zero),
    "html table pasted inside <p> rows": (
        2019,
        lambda t: _through_page(_html_page("".join(f"<p>{line}</p>" for line in as_lines(t, "&nbsp;&nbsp;")))),
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_standard_report_every_cell_in_every_layout(layout: str) -> None:
    edition, render = LAYOUTS[layout]
    tables = standard_tables(seed=sum(map(ord, layout)), edition=edition)
    text = render(tables)
    figures, problems = read_standard(text)
    got = {f.key: f.value for f in figures}
    assert problems == []
    assert got == tables.expected()
    checks = run_checks(figures)
    assert len(checks) >= 40 and all(c.ok for c in checks), [c.detail for c in checks if not c.ok]


def test_inconsistent_report_is_flagged_with_its_cells_not_fixed() -> None:
    tables = standard_tables(seed=11, edition=2021, unbalanced=True)
    figures, problems = read_standard("\n".join(as_lines(tables)))
    assert problems == [] and {f.key: f.value for f in figures} == tables.expected()  # read as printed
    failed = [c for c in run_checks(figures) if not c.ok]
    names = {c.name for c in failed}
    assert "收支平衡（自然人）" in names and "收支平衡（总计）" in names
    balance = next(c for c in failed if c.name == "收支平衡（自然人）")
    assert balance.cells == (
        "apply.new.natural",
        "apply.carried_over.natural",
        "apply.total.natural",
        "apply.carry_forward.natural",
    )
    assert str(tables.rows["new"][0]) in balance.detail


def test_demo_portal_reports_through_a_real_crawl(portal, crawled) -> None:  # type: ignore[no-untyped-def]
    """The demo's 2019+ reports are standard tables flattened with "|": crawled, extracted cell for cell."""
    from archive.catalog import Catalog
    from reports.extract import extract_all

    with Catalog(crawled.settings.catalog_path) as catalog:
        first = extract_all(catalog)
        again = extract_all(catalog)  # idempotent
        stored = stored_reports(catalog)
    assert [(r.doc_id, r.figures) for r in first] == [(r.doc_id, r.figures) for r in again]
    assert len(stored) == len(first) == sum(1 for i in portal.items() if i.column.name == "政府信息公开年度报告")
    standard = [r for r in first if r.format == "standard"]
    assert len(standard) == sum(1 for i in portal.items() if i.column.name == "政府信息公开年度报告" and i.published.year >= 2020)
    for report in standard:
        key = next(a.key for a in portal.agencies if a.name == report.agency)
        tables = standard_tables(seed=report.year * 100 + sum(map(ord, key)), edition=2019 if report.year < 2021 else 2021)
        assert {f.key: f.value for f in report.figures} == tables.expected()
        assert report.problems == [] and all(c.ok for c in report.checks)
    prose = [r for r in first if r.format == "prose"]
    assert all(r.value("apply.new.total") is not None and r.value("staff") is not None for r in prose)


def test_report_downloads_and_bad_parameters(client, crawled) -> None:  # type: ignore[no-untyped-def]
    import csv as csvlib
    import json

    from archive.catalog import Catalog
    from reports.extract import extract_all

    with Catalog(crawled.settings.catalog_path) as catalog:
        extract_all(catalog)
    rows = list(
        csvlib.DictReader(io.StringIO(client.get("/reports/figures.csv?year=2016").get_data(as_text=True).lstrip("\ufeff")))
    )
    seed = [r for r in rows if r["agency"] == "余杭区民政局" and r["key"] == "prose.active"]
    assert seed and seed[0]["value"] == "253" and "共253条" in seed[0]["source"] and seed[0]["doc_url"].startswith("/doc/")
    assert {r["year"] for r in rows} == {"2016"}
    data = json.loads(client.get("/reports/figures.json?agency=余杭区民政局").get_data(as_text=True))
    assert data["ok"] and {r["agency"] for r in data["reports"]} == {"余杭区民政局"}
    bad = client.get("/reports/figures.json?year=20x6")
    assert bad.status_code == 400 and "年份" in bad.get_data(as_text=True)
    assert client.get("/reports/agency/不存在的机关").status_code == 404
    assert client.get("/reports/year/1999").status_code == 404
    page = client.get("/reports/year/2020").get_data(as_text=True)
    assert "余杭区民政局" in page and "余杭区教育局" in page


def test_report_published_as_an_attached_pdf_is_recognised_and_read(tmp_path: Path) -> None:
    from archive.catalog import Catalog
    from reports.extract import extract_all

    tables = standard_tables(seed=2022, edition=2021)
    pdf_text, error = extract_text(_pdf(as_lines(tables, " ")), "2022年报.pdf")
    assert error == ""
    doc = Document(
        source_id="s",
        url="http://example.gov.cn/art/2023/1/31/art_1_9.html",
        agency="某某县司法局",
        title="某某县司法局关于公布2022年度工作报告的通知",
        body="现将我局2022年度报告予以公布，详见附件。",
        attachments=(Attachment(url="http://example.gov.cn/2022.pdf", name="2022年报.pdf", text=pdf_text),),
    )
    with Catalog(tmp_path / "catalog.sqlite3") as catalog:
        catalog.record_document(doc, None)
        [report] = extract_all(catalog)
    assert (report.agency, report.year, report.format) == ("某某县司法局", 2022, "standard")
    assert {f.key: f.value for f in report.figures} == tables.expected()


def test_figures_csv_writes_formula_like_text_as_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv as csvlib

    from archive.catalog import Catalog
    from archive.models import Document
    from reports.store import replace_reports
    from search_web import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        catalog.record_document(Document(source_id="t", url="http://a.gov.cn/r.html", title="年报", body="正文。"), None)
        doc_id = next(catalog.iter_documents()).id
        figure = {
            "key": "staff",
            "label": '=HYPERLINK("http://evil.example")',
            "value": -3,
            "unit": "人",
            "section": "六",
            "source": "@x",
        }
        replace_reports(
            catalog,
            [
                {
                    "doc_id": doc_id,
                    "agency": "某局",
                    "year": 2020,
                    "title": "+1 年报",
                    "format": "prose",
                    "figures": [figure],
                    "checks": [],
                    "problems": [],
                }
            ],
        )
    body = create_app(settings).test_client().get("/reports/figures.csv").get_data(as_text=True).lstrip("\ufeff")
    row = next(csvlib.DictReader(io.StringIO(body)))
    assert (row["label"], row["source"], row["title"], row["value"]) == (
        '\'=HYPERLINK("http://evil.example")',
        "'@x",
        "'+1 年报",
        "-3",
    )
