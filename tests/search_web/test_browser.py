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
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


def _serve(settings: Settings):  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def site(indexed: Settings) -> str:
    from archive.catalog import Catalog
    from reports.extract import extract_all

    with Catalog(indexed.catalog_path) as catalog:
        extract_all(catalog)  # the report pages have their figures, as after any crawl
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


@pytest.mark.parametrize("width,height,label", [(390, 844, "phone"), (1366, 900, "desktop")])
def test_the_filters_are_one_tap_above_the_results_on_a_phone(site: str, browser, width, height, label) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    page.goto(site + "/?q=通知")
    first_hit = page.locator("li.hit").first.bounding_box()
    toggle = page.locator("#filter-toggle")
    facets = page.locator("aside.facets")
    if label == "phone":
        assert toggle.is_visible() and not facets.is_visible()
        assert toggle.bounding_box()["y"] < first_hit["y"] < height  # the control and a result on the first screen
        toggle.click()
        assert facets.is_visible()
        assert facets.bounding_box()["y"] < page.locator("li.hit").first.bounding_box()["y"]  # the facets above
        page.locator("section.facet[data-facet=year] a.facet-link").first.click()
        page.wait_for_url("**year=*")
        assert "（已选 1 项）" in page.locator("#filter-toggle").inner_text()
    else:
        assert not toggle.is_visible() and facets.is_visible()  # the sidebar, as before
    page.goto(site + "/?q=通知")
    if label == "phone":
        page.locator("#filter-toggle").click()
    page.screenshot(path=str(ARTIFACTS / f"filters-{label}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
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
    from reports.extract import extract_all

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
        f"{y}表" if next(r for r in reports if r.year == y).format == "standard" else str(y) for y in years
    ]
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


def _walk(base: str, revised, browser, width: int, height: int, label: str) -> None:  # type: ignore[no-untyped-def]
    """search → facet → month → date range → document → find → versions diff → back, URL checked each step."""
    from urllib.parse import parse_qs, urlsplit

    from archive.catalog import Catalog

    with Catalog(revised.settings.catalog_path) as catalog:
        doc = catalog.get(revised.edited_id).doc
    assert doc.published is not None
    shots = ARTIFACTS / "walk"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    step = 0

    def state() -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}

    def open_filters() -> None:  # on a phone the facets wait behind the 筛选 switch
        if page.locator("#filter-toggle").is_visible() and not page.locator("aside.facets").is_visible():
            page.locator("#filter-toggle").click()

    def shot(name: str) -> None:
        nonlocal step
        step += 1
        page.screenshot(path=str(shots / f"{label}-{step:02d}-{name}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, f"{name}: wider than the screen"

    page.goto(base + "/")
    page.get_by_label("检索词").fill("通知")
    page.get_by_label("检索词").press("Enter")
    page.wait_for_url("**/?q=*")
    assert state() == {"q": "通知"}
    total = int(page.locator("#total").inner_text())
    shot("search")

    open_filters()
    page.locator(f'section.facet[data-facet="category"] a.facet-link:has-text("{doc.category}")').first.click()
    page.wait_for_url("**category=*")
    assert state() == {"q": "通知", "category": doc.category}
    narrowed = int(page.locator("#total").inner_text())
    assert 0 < narrowed <= total
    shot("facet")

    open_filters()
    page.locator(f'section.facet[data-facet="year"] a.facet-link:has-text("{doc.published.year}")').first.click()
    page.wait_for_url("**year=*")
    open_filters()
    page.locator(f'section.facet[data-facet="month"] a.facet-link:has-text("{doc.published.month}月")').first.click()
    page.wait_for_url("**month=*")
    assert state()["month"] == f"{doc.published.month:02d}" and state()["year"] == str(doc.published.year)
    shot("month")

    page.get_by_label("发布日期 从").fill(doc.published.isoformat())
    page.locator("#to").fill(doc.published.isoformat())
    page.get_by_role("button", name="应用日期").click()
    page.wait_for_url("**from=*")
    after_dates = state()
    assert after_dates["from"] == after_dates["to"] == doc.published.isoformat()
    assert after_dates["category"] == doc.category and after_dates["month"] == f"{doc.published.month:02d}"
    search_url = page.url
    shot("dates")

    page.locator(f'li.hit h3 a[href*="{revised.edited_id}"]').click()
    page.wait_for_url(f"**/doc/{revised.edited_id}*")
    assert page.locator("table.metadata").is_visible()
    shot("document")

    page.get_by_label("在本文中查找").fill("顺延")
    page.wait_for_url("**#find=*")
    assert page.locator("mark.find").count() >= 1
    assert "1 /" in page.locator("#find-status").inner_text()
    shot("find")

    page.locator(".versions-note a").click()
    page.wait_for_url("**#versions")
    assert page.locator(".versions ins").first.is_visible()
    shot("versions")

    page.go_back()
    page.go_back()
    page.wait_for_url(search_url)
    assert state() == after_dates and int(page.locator("#total").inner_text()) >= 1
    shot("back")
    page.close()


@pytest.mark.parametrize("width,height,label", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_walk_from_search_to_versions_and_back(
    revised_site: str,
    revised,
    browser,
    width: int,
    height: int,  # type: ignore[no-untyped-def]
    label: str,
) -> None:
    _walk(revised_site, revised, browser, width, height, label)
    assert len(list((ARTIFACTS / "walk").glob(f"{label}-*.png"))) == 8


def test_keyboard_reaches_search_facets_and_find(site: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(site + "/?q=信息公开")
    labelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .every(el => el.labels && el.labels.length > 0 || el.getAttribute('aria-label'))""")
    assert labelled
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.tagName + ':' + (document.activeElement.id || '')")
    assert focused  # focus moves into the page
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('facet-link')"):
            break
    else:
        pytest.fail("no facet link reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**&*=*")
    page.close()


def test_print_layout_hides_the_tools(revised_site: str, revised, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1100, "height": 1000}, locale="zh-CN")
    page.goto(f"{revised_site}/doc/{revised.edited_id}")
    assert page.locator(".doc-tools").is_visible() and page.locator(".site-header").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".doc-tools").is_visible() and not page.locator(".site-header").is_visible()
    assert page.locator("table.metadata").is_visible() and page.locator(".cite").is_visible()
    page.pdf(path=str(ARTIFACTS / "document-print.pdf"))
    page.close()


def test_phone_tables_say_they_scroll_and_the_find_tools_fit_one_row(site: str, browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(site + "/reports/agency/余杭区民政局")
    box = page.locator(".table-scroll").first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the later years lie off-screen...
    assert "scrolls" in (box.get_attribute("class") or "")  # ...and the page says so
    assert "左右滑动" in box.evaluate("b => getComputedStyle(b, '::before').content")
    assert page.locator('svg[role="img"] text').first.bounding_box()["height"] >= 9  # chart labels one can read
    page.screenshot(path=str(ARTIFACTS / "reports-phone.png"))
    page.goto(site + "/?q=信息公开 年度报告")
    page.locator("li.hit h3 a").first.click()
    page.wait_for_url("**/doc/*")
    rows = {round(page.locator(sel).bounding_box()["y"]) for sel in ("#find", "#find-prev", "#find-next")}
    assert len(rows) == 1  # the box and its two buttons on one line
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    page.close()


@pytest.fixture(scope="module")
def staff_site(indexed: Settings):  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    server, url = _serve(indexed.replace(admin_password_hash=generate_password_hash("演示密码-a11y"), cookie_secure=False))
    yield url
    server.shutdown()


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_axe_finds_no_serious_or_critical_violation(site: str, staff_site: str, browser, width, height) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    page.goto(site + "/?q=信息公开 年度报告")
    doc = page.locator("li.hit h3 a").first.get_attribute("href")
    pages = ["/", "/?q=信息公开 年度报告", doc, "/reports/", "/reports/agency/余杭区民政局", "/help"]
    found: dict[str, list[tuple[str, str, int]]] = {}
    for path in pages:
        page.goto(site + str(path))
        if width < 500 and page.locator("#filter-toggle").is_visible():
            page.locator("#filter-toggle").click()  # the facets as a phone user opens them
        found[str(path)] = _serious(axe.run(page).response)
    page.goto(staff_site + "/admin/login")
    found["/admin/login"] = _serious(axe.run(page).response)
    page.fill("#password", "演示密码-a11y")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin/")
    found["/admin/"] = _serious(axe.run(page).response)
    page.close()
    assert found == {path: [] for path in found}


def _serious(response: dict) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(v["id"], v["impact"], len(v["nodes"])) for v in response["violations"] if v["impact"] in ("serious", "critical")]


def test_a_repealed_document_leads_to_its_replacement_and_reposts_show_as_one_group(site: str, browser) -> None:
    from xxgk.demo.showcase import QUERIES

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    repealed_query, _, repost_query = (q for _, q in QUERIES)
    page.goto(f"{site}/?q={repealed_query}")
    first = page.locator("ol.hits li.hit").first
    assert "已废止" in first.locator(".meta").inner_text()
    first.locator("h3 a").click()
    note = page.locator("#validity-note")
    assert "已废止" in note.inner_text() and "同时废止" in note.inner_text()
    chain = page.locator("ol.chain li").all_inner_texts()
    assert [c.split()[0] for c in chain] == ["本文件", "修订", "替代文件"]
    page.screenshot(path=str(ARTIFACTS / "relations-repealed.png"), full_page=True)
    note.locator("a").first.click()
    page.wait_for_load_state()
    assert "余杭区困难群众临时救助办法" in page.locator("h1").inner_text() and "实施" not in page.locator("h1").inner_text()
    assert page.locator("#relations").get_by_text("废止", exact=True).count() == 1  # the 2021 办法 repeals the 2016 one

    page.goto(f"{site}/?q={repost_query}")
    groups = page.locator("details.copies")
    assert groups.count() == 1 and "另有 2 个机关发布相同内容" in groups.first.locator("summary").inner_text()
    listed = groups.first.locator("ul a")
    assert not listed.first.is_visible()  # folded until asked
    groups.first.locator("summary").click()
    assert listed.count() == 2 and listed.first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "relations-reposts.png"), full_page=True)
    page.locator("#collapsed-note a").click()
    page.wait_for_load_state()
    assert page.locator("ol.hits li.hit").count() >= 3 and page.locator("details.copies").count() == 0
    page.close()
