"""The search page in headless Chromium (Debian's), driven by Playwright: search, facet, narrowed results."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from archive.settings import Settings
from search_web import create_app

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


def _serve(settings: Settings):  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def site(indexed: Settings) -> str:
    server, url = _serve(indexed)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def revised_site(revised) -> str:  # type: ignore[no-untyped-def]
    server, url = _serve(revised.settings)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing; run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_search_then_facet_narrows_results(site: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(site + "/")
    page.get_by_label("检索词").fill("信息公开 年度报告")
    page.get_by_role("button", name="检索", exact=True).click()
    page.wait_for_url("**/?q=*")
    first = page.locator("li.hit h3").first
    assert first.inner_text() == "余杭区民政局2016年度政府信息公开工作年度报告"
    total_before = int(page.locator("#total").inner_text())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"))

    year = page.locator("section.facet[data-facet=year] a.facet-link").filter(has_text="2016")
    expected = int(year.locator(".count").inner_text())
    year.click()
    page.wait_for_url("**year=2016*")
    total_after = int(page.locator("#total").inner_text())
    assert total_after == expected < total_before
    assert page.locator("li.hit").count() == total_after
    assert all(d.startswith("2016-") for d in page.locator("li.hit .date").all_inner_texts())
    assert page.locator("ul.chips").inner_text().startswith("年份：2016")
    page.screenshot(path=str(ARTIFACTS / "search-facet.png"))

    page.locator("ul.chips a").first.click()  # removing the chip restores the wider search
    page.wait_for_load_state()
    assert int(page.locator("#total").inner_text()) == total_before
    page.close()


def test_document_page_and_phone_width(site: str, browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(site + "/?q=信息公开 年度报告")
    page.locator("li.hit h3 a").first.click()
    page.wait_for_url("**/doc/*")
    assert page.locator("table.metadata").inner_text().count("余杭区民政局") >= 1
    assert page.locator(".body-text mark").count() > 0
    page.screenshot(path=str(ARTIFACTS / "document-phone.png"), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.close()


def test_versions_diff_and_withdrawn_badge(revised_site: str, revised, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1100, "height": 1000}, locale="zh-CN")
    page.goto(f"{revised_site}/doc/{revised.edited_id}")
    page.locator(".versions-note a").click()
    page.wait_for_url("**#versions")
    versions = page.locator("ol.version-list li").all_inner_texts()
    assert len(versions) == 2 and all("首次抓取于" in v for v in versions)
    assert page.locator(".versions ins").first.inner_text() == "根据工作安排，上述时间节点顺延一周，请各单位相互转告。"
    page.locator("section.versions").screenshot(path=str(ARTIFACTS / "versions-diff.png"))
    page.locator("details.capture-log summary").click()
    captures = page.locator("details.capture-log tbody tr")
    assert captures.count() >= 2
    captures.first.locator("a").click()
    page.wait_for_url("**/capture/*")
    assert revised.portal.edited.title in page.locator(".capture-text").inner_text()
    page.goto(f"{revised_site}/doc/{revised.withdrawn_id}")
    badge = page.locator(".withdrawn .badge")
    assert badge.is_visible() and badge.inner_text() == "已撤回"
    page.close()


def test_annual_report_agency_page_chart_and_table(site: str, indexed: Settings, browser) -> None:  # type: ignore[no-untyped-def]
    from archive.catalog import Catalog
    from index.reports.extract import extract_all

    with Catalog(indexed.catalog_path) as catalog:
        reports = [r for r in extract_all(catalog) if r.agency == "余杭区民政局"]
    years = sorted({r.year for r in reports})
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(site + "/")
    page.click("text=年度报告数据")
    page.click("text=余杭区民政局")
    assert page.locator("h1").inner_text().startswith("余杭区民政局")
    assert page.locator("svg rect").count() == sum(r.value("apply.new.total") is not None for r in reports)
    assert [t.strip() for t in page.locator("thead th").all_inner_texts()[1:]] == [
        f"{y}表" if next(r for r in reports if r.year == y).format == "standard" else str(y) for y in years]
    row = page.locator("tr", has=page.locator("th", has_text="主动公开政府信息（条）"))
    cell = row.locator("td").nth(years.index(2016))
    assert cell.inner_text() == "253"  # the seed report
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reports-agency.png"), full_page=True)
    cell.locator("a").click()
    assert "#prose.active" in page.url
    source = page.locator("tr[id='prose.active'] td.source").inner_text()
    assert "主动公开政策类信息共253条" in source
    page.click("text=原文：")
    assert page.locator("h1").inner_text() == "余杭区民政局2016年度政府信息公开工作年度报告"
