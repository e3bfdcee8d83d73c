"""Bad input and security, one test per item 55-65 of ../shared/reference/reliability.md, plus /admin."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.security import generate_password_hash

from archive.catalog import Catalog, utcnow
from archive.models import Attachment, Document
from archive.settings import Settings
from archive.store import WarcStore
from index.whoosh.sync import rebuild, sync
from search_web import create_app
from tests.conftest import make_settings

PASSWORD = "correct horse battery"


def _archive(tmp_path: Path, docs: list[Document], **overrides: object) -> Settings:
    settings = make_settings(tmp_path, **overrides)
    with Catalog(settings.catalog_path) as catalog:
        for doc in docs:
            catalog.record_document(doc, None)
        rebuild(settings, catalog)
    return settings


def _capture(settings: Settings, url: str, body: bytes, content_type: str) -> int:
    """An archived response, written to a real WARC file and registered in the catalog."""
    with WarcStore(settings.warc_dir).session("t") as session, Catalog(settings.catalog_path) as catalog:
        written = session.write_response(url, [], 200, "OK", [("Content-Type", content_type)], body)
        session.sync()
        return catalog.add_capture(
            run_id=None,
            url=url,
            status=200,
            record_type="response",
            payload_digest=written.payload_digest,
            ref=written.ref,
            fetched_at=utcnow(),
            content_type=content_type,
        )


# 55 ------------------------------------------------------------------------------------------------
def test_55_xss_in_text_fields_and_query_is_escaped_everywhere(tmp_path: Path) -> None:
    evil = Document(
        source_id="t",
        url="http://x/evil",
        title='"><svg onload=alert(1)>通知',
        body='信息公开 <img src=x onerror="alert(1)"> <script>alert(2)</script>',
        agency="<b>机构</b>",
        category='<a href="javascript:alert(3)">栏目</a>',
        doc_no="<i>余政</i>",
        attachments=(Attachment(url="javascript:alert(4)", name="<i>附件</i>", text="<script>x</script>"),),
    )
    settings = _archive(tmp_path, [evil])
    client = create_app(settings).test_client()
    pages = [
        "/?q=信息公开",
        f"/doc/{evil.doc_id}?q=信息公开",
        "/?q=<script>alert(5)</script>",
        "/feed.atom?q=信息公开",
        "/?q=信息公开&category=" + '<a href="javascript:alert(3)">栏目</a>',
    ]
    for page in pages:
        response = client.get(page)
        html = response.get_data(as_text=True)
        for raw in ("<svg onload", "<img src=x", "<script>alert", "<b>机构", '<a href="javascript', "<i>余政", "<i>附件"):
            assert raw not in html, (page, raw)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    data = client.get("/search.json?q=信息公开").get_json()
    assert "<img src=x" not in data["hits"][0]["snippet_html"] and "<mark>" in data["hits"][0]["snippet_html"]
    # The javascript: attachment link is never an href on the page.
    assert 'href="javascript:' not in client.get(f"/doc/{evil.doc_id}").get_data(as_text=True)


# 56 ------------------------------------------------------------------------------------------------
def test_56_archived_html_is_sandboxed_and_never_gets_the_staff_cookie(tmp_path: Path) -> None:
    settings = _archive(tmp_path, [], admin_password_hash=generate_password_hash(PASSWORD))
    page = b"<html><script>fetch('/admin/crawl/x',{method:'POST',body:document.cookie})</script></html>"
    capture_id = _capture(settings, "http://x/evil.html", page, "text/html")
    client = create_app(settings).test_client()
    _login(client)
    raw = client.get(f"/capture/{capture_id}/raw")
    csp = raw.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox") and "allow-same-origin" not in csp and "allow-scripts" not in csp
    assert raw.headers["X-Content-Type-Options"] == "nosniff" and "Set-Cookie" not in raw.headers
    # The staff cookie is scoped to /admin: a browser never sends it with archived content.
    cookie = client.get_cookie("xxgk_admin", path="/admin")
    assert cookie is not None and cookie.path == "/admin"
    text = client.get(f"/capture/{capture_id}").get_data(as_text=True)
    assert "fetch('/admin" not in text


# 57 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"<html><body onload=alert(1)>x</body></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"MZ\x90\x00 not a pdf at all",
    ],
)
def test_57_attachment_served_by_its_sniffed_type_never_inline_as_markup(tmp_path: Path, body: bytes) -> None:
    settings = _archive(tmp_path, [])
    capture_id = _capture(settings, "http://x/report.pdf", body, "application/pdf")
    raw = create_app(settings).test_client().get(f"/capture/{capture_id}/raw")
    assert raw.headers["X-Content-Type-Options"] == "nosniff"
    assert raw.headers["Content-Type"] != "application/pdf"  # our sniffing, not the server's claim
    csp = raw.headers["Content-Security-Policy"]
    disposition = raw.headers.get("Content-Disposition", "")
    # Markup is either a download or sandboxed without scripts or same-origin access.
    assert disposition.startswith("attachment") or (csp.startswith("sandbox") and "allow-same-origin" not in csp)


# 58 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/capture/../../etc/passwd",
        "/capture/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/capture/..%5c..%5cwindows",
        "/static/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/doc/..%2f..%2fetc%2fpasswd",
        "/capture/1%00/raw",
        "/static/C:/Windows/win.ini",
        "/reports/doc/../../x",
    ],
)
def test_58_path_traversal_is_404_or_400(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code in (400, 404), path
    assert b"root:" not in response.data


# 59 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "q",
    [
        "*",
        "*a*",
        "中*",
        " ".join(f"词{i}*" for i in range(50)),
        "信" * 10_000,
        "(" * 1000,
        "id:*",
        "date:[1900 TO 3000]",
        "secret:x",
        "url:http",
        "title:",
        "-",
        "OR",
        '""',
        "\x00\x01",
        b"q=%ED%A0%80%FF",
    ],
)
def test_59_query_abuse_is_a_400_or_results_never_a_500(client, q: str | bytes) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/search.json", "/feed.atom", "/search.csv"):
        # bytes: a raw query string (here invalid UTF-8: a lone surrogate and a stray byte)
        response = client.get(path + "?" + q.decode("ascii")) if isinstance(q, bytes) else client.get(path, query_string={"q": q})
        assert response.status_code in (200, 400), (path, q[:20], response.status_code)
        if response.status_code == 400 and path == "/search.json":
            assert response.get_json()["ok"] is False and response.get_json()["error"]
        if isinstance(q, str) and len(q) > 500:
            assert response.status_code == 400


# 60 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params,status",
    [
        ({"page": "0"}, 400),
        ({"page": "-1"}, 400),
        ({"page": "abc"}, 400),
        ({"page": "10**9"}, 400),
        ({"page": "1000000000"}, 400),
        ({"page": "²"}, 400),
        ({"size": "100000"}, 200),
        ({"size": "0"}, 400),
        ({"size": "x"}, 400),
        ({"page": "100", "size": "50"}, 200),
    ],
)
def test_60_pagination_is_clamped_or_refused(client, params: dict[str, str], status: int) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/search.json", query_string={"q": "通知", **params})
    assert response.status_code == status, params
    if status == 200:
        data = response.get_json()
        assert len(data["hits"]) <= 50 and data["page"] <= data["page_count"]


# 61 ------------------------------------------------------------------------------------------------
def test_61_facet_parameters(client) -> None:  # type: ignore[no-untyped-def]
    unknown = client.get("/search.json", query_string={"q": "通知", "category": "不存在的栏目"})
    assert unknown.status_code == 200 and unknown.get_json()["total"] == 0
    assert client.get("/search.json", query_string={"from": "2024-13-45"}).status_code == 400
    assert client.get("/search.json", query_string={"category": "x" * 5000}).status_code == 400
    assert client.get("/search.json", query_string={"month": "13", "year": "2016"}).status_code == 400
    repeated = client.get("/search.json?q=通知&year=2016&year=2017")
    assert repeated.status_code == 200
    data = repeated.get_json()
    assert data["filters"] == {"year": "2016"}
    assert sum(v["count"] for f in data["facets"] if f["name"] == "category" for v in f["values"]) == data["total"]


# 62 ------------------------------------------------------------------------------------------------
def test_62_searches_during_commit_and_swap_never_fail(tmp_path: Path) -> None:
    docs = [Document(source_id="t", url=f"http://x/{i}", title=f"通知{i}", body="政府信息公开工作。") for i in range(60)]
    settings = _archive(tmp_path, docs)
    app = create_app(settings)
    errors: list[str] = []
    done = threading.Event()

    def search() -> None:
        client = app.test_client()
        while not done.is_set():
            for url in ("/search.json?q=信息公开", "/?q=通知", "/search.json?q=工作&sort=date"):
                response = client.get(url)
                if response.status_code != 200:
                    errors.append(f"{url} {response.status_code}")

    threads = [threading.Thread(target=search) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        with Catalog(settings.catalog_path) as catalog:
            for round_ in range(3):
                for i in range(10):
                    catalog.record_document(
                        Document(source_id="t", url=f"http://x/new{round_}-{i}", title="新通知", body="政府信息公开。"), None
                    )
                sync(settings, catalog)
                rebuild(settings, catalog)  # a swap under the readers
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[:5]
    assert app.test_client().get("/search.json?q=新通知").get_json()["total"] == 30


# 63 ------------------------------------------------------------------------------------------------
def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


def _login(client, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    return client.post("/admin/login", data={"password": password, "csrf_token": token})


@pytest.fixture()
def staff(indexed: Settings):  # type: ignore[no-untyped-def]
    settings = indexed.replace(admin_password_hash=generate_password_hash(PASSWORD))
    return create_app(settings), settings


def test_63_admin_needs_login_csrf_and_post(staff) -> None:  # type: ignore[no-untyped-def]
    app, settings = staff
    client = app.test_client()
    assert client.post("/admin/crawl/demo-mzj").status_code in (401, 403)
    assert client.get("/admin/crawl/demo-mzj").status_code == 405
    assert client.get("/admin/").status_code == 302 and "/admin/login" in client.get("/admin/").headers["Location"]
    assert client.get("/admin/status.json").status_code == 401
    # The login form itself needs its CSRF token.
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 400
    signed_in = _login(client)
    assert signed_in.status_code == 302
    cookie = signed_in.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # Signed in, a POST without the token (another origin's form) is still refused.
    assert client.post("/admin/crawl/demo-mzj").status_code == 400
    token = _csrf(client.get("/admin/").get_data(as_text=True))
    assert (
        client.post("/admin/crawl/demo-mzj", data={"csrf_token": token}, headers={"Origin": "http://evil.example"}).status_code
        == 400
    )
    with Catalog(settings.catalog_path) as catalog:
        assert catalog.pending_requests() == []
    assert not app.debug


def test_admin_without_a_password_hash_does_not_exist(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/admin/").status_code == 404
    assert client.post("/admin/login", data={"password": "x"}).status_code == 404


def _forget_failed_logins(settings: Settings) -> None:
    from search_web import throttle

    with Catalog(settings.catalog_path) as catalog:
        catalog.ensure_part(throttle.PART)
        catalog.conn.execute("DELETE FROM login_failures")


def test_admin_login_is_rate_limited(staff) -> None:  # type: ignore[no-untyped-def]
    _forget_failed_logins(staff[1])
    client = staff[0].test_client()
    codes = [_login(client, "wrong password").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    refused = _login(client)
    assert refused.status_code == 429  # even the right password waits
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    other = staff[0].test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # another address is not held back
    assert _login(other, "wrong password").status_code == 401
    _forget_failed_logins(staff[1])
    assert _login(client).status_code == 302


def test_admin_shows_sources_and_crawl_now_files_a_request(staff) -> None:  # type: ignore[no-untyped-def]
    _forget_failed_logins(staff[1])
    app, settings = staff
    client = app.test_client()
    _login(client)
    html = client.get("/admin/").get_data(as_text=True)
    for source in ("demo-mzj", "demo-jyj", "demo-wjw"):
        assert f'data-source="{source}"' in html
    status = client.get("/admin/status.json").get_json()
    mzj = next(s for s in status["sources"] if s["id"] == "demo-mzj")
    assert mzj["last_status"] == "ok" and mzj["documents"] > 0
    assert sum(mzj["counts"].values()) > 0  # the last run's new/changed/unchanged/withdrawn (earlier tests may recrawl)
    token = _csrf(html)
    response = client.post("/admin/crawl/demo-mzj", data={"csrf_token": token})
    assert response.status_code == 302
    with Catalog(settings.catalog_path) as catalog:
        assert [r["source_id"] for r in catalog.pending_requests()] == ["demo-mzj"]
        catalog.take_requests()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "余杭区民政局：已提交抓取请求" in page  # sources by their agency's name, the message by its code
    assert '<th scope="row">余杭区民政局 <small class="source-id">demo-mzj</small></th>' in html
    assert client.post("/admin/crawl/no-such-source", data={"csrf_token": token}).status_code == 404


# 64 ------------------------------------------------------------------------------------------------
def test_64_concurrent_mixed_load_has_no_errors(client, indexed: Settings) -> None:  # type: ignore[no-untyped-def]
    """Correctness under concurrency (speed is measured by bench/load.py, not asserted here)."""
    app = client.application
    urls = [
        "/?q=信息公开",
        "/search.json?q=通知&year=2016",
        "/search.json?q=%22政府信息公开%22",
        "/feed.atom?q=救助",
        "/search.json?q=低保 OR 救助&sort=date",
        "/help",
        "/healthz",
        "/search.json?q=余民〔2016〕3号",
    ]
    failures: list[str] = []

    def worker(offset: int) -> None:
        c = app.test_client()
        for i in range(25):
            url = urls[(i + offset) % len(urls)]
            response = c.get(url)
            if response.status_code != 200:
                failures.append(f"{url} {response.status_code}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:5]


# 65 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("param", ["q", "category", "agency", "year", "from"])
def test_65_reflected_values_are_escaped(client, param: str) -> None:  # type: ignore[no-untyped-def]
    payload = '"><script>alert(65)</script><img src=x onerror=alert(1)>'
    for path in ("/", "/feed.atom", f"/doc/{'0' * 16}"):
        html = client.get(path, query_string={param: payload}).get_data(as_text=True)
        assert "<script>alert(65)" not in html and "<img src=x" not in html, (path, param)


def test_admin_password_command_prints_a_hash_that_logs_in(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from werkzeug.security import check_password_hash

    from xxgk.cli import main

    result = CliRunner().invoke(main, ["admin-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    hashed = result.output.strip().splitlines()[-1]
    assert check_password_hash(hashed, PASSWORD) and PASSWORD not in hashed
    short = CliRunner().invoke(main, ["admin-password"], input="short\nshort\n")
    assert short.exit_code != 0 and "10" in short.output


@pytest.mark.slow
def test_login_limit_holds_across_gunicorn_workers_and_counts_clients_behind_a_trusted_proxy(tmp_path: Path) -> None:
    import signal

    import httpx

    from tests.processes import free_port, http_status, start_gunicorn, wait_for

    data = tmp_path / "data"
    Catalog(data / "catalog.sqlite3").close()
    port = free_port()
    web = start_gunicorn(
        port,
        4,
        XXGK_DATA_DIR=str(data),
        XXGK_ADMIN_PASSWORD_HASH=generate_password_hash(PASSWORD),
        XXGK_COOKIE_SECURE="false",
        XXGK_TRUSTED_PROXIES="1",
    )
    base = f"http://127.0.0.1:{port}"

    def attempt(client: httpx.Client, address: str, password: str = "wrong password") -> httpx.Response:
        headers = {"X-Forwarded-For": address}
        token = _csrf(client.get(base + "/admin/login", headers=headers).text)
        return client.post(base + "/admin/login", data={"password": password, "csrf_token": token}, headers=headers)

    try:
        assert wait_for(lambda: http_status(base + "/healthz") is not None, 30)
        with httpx.Client(headers={"Connection": "close"}) as one, httpx.Client(headers={"Connection": "close"}) as two:
            codes = [attempt(one, "198.51.100.1").status_code for _ in range(6)]
            other = attempt(two, "198.51.100.2")
            right = attempt(one, "198.51.100.1", PASSWORD)
    finally:
        web.send_signal(signal.SIGTERM)
        _, err = web.communicate(timeout=30)
    assert err.count("Booting worker") == 4
    assert codes == [401] * 5 + [429]  # the sixth is refused, whichever of the four workers answered
    assert other.status_code == 401  # another client behind the same proxy is not held back
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_staff_pages_show_no_text_from_the_url_are_never_stored_and_refuse_in_chinese(staff) -> None:  # type: ignore[no-untyped-def]
    _forget_failed_logins(staff[1])
    client = staff[0].test_client()
    login = client.get("/admin/login")
    assert login.headers["Cache-Control"] == "no-store"
    assert 'id="json-twin"' not in login.get_data(as_text=True)  # its JSON twin would only answer 401
    refused = client.post("/admin/crawl/demo-mzj")
    assert refused.status_code == 403 and "请先登录管理页面" in refused.get_data(as_text=True)
    assert "Forbidden" not in refused.get_data(as_text=True)
    _login(client)
    phishing = client.get("/admin/?msg=系统升级，请到 http://evil.example 重新输入密码&source=demo-mzj")
    assert phishing.headers["Cache-Control"] == "no-store"
    assert "evil.example" not in phishing.get_data(as_text=True) and 'id="admin-message"' not in phishing.get_data(as_text=True)
    shown = client.get("/admin/?msg=requested&source=demo-mzj").get_data(as_text=True)
    assert "余杭区民政局：已提交抓取请求" in shown
    assert 'id="admin-message"' not in client.get("/admin/?msg=requested&source=no-such-source").get_data(as_text=True)


def _raw_http(port: int, request: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.slow
def test_xxgk_serve_runs_gunicorn_and_its_own_refusals_are_chinese_pages_with_the_security_headers(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from tests.processes import free_port, http_status, process_env, wait_for

    port = free_port()
    docs = [
        Document(
            source_id="t", url="http://x/1", title="全区推进会召开", body="推进会部署信息公开工作。", published=date(2016, 3, 1)
        )
    ]
    _archive(tmp_path / "data", docs)
    site = subprocess.Popen(
        [sys.executable, "-m", "xxgk", "--data-dir", str(tmp_path / "data"), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(),
    )
    try:
        assert wait_for(lambda: http_status(f"http://127.0.0.1:{port}/help") == 200, 30)
        answers = {
            "too long": _raw_http(port, b"GET /search?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            "too long json": _raw_http(port, b"GET /search.json?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            "garbage": _raw_http(port, b"GARBAGE\r\n\r\n"),
            "control": _raw_http(port, b"GET /api/x\x01y HTTP/1.1\r\nHost: x\r\n\r\n"),
            "site": _raw_http(port, b"GET /help HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        }
        # A target with raw UTF-8 (as curl sends it) is served like the percent-encoded one; raw GBK
        # bytes reach the site's own friendly 400.
        tail = " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        unencoded = _raw_http(port, ("GET /search.json?q=推进会&year=2016" + tail).encode())
        encoded = _raw_http(port, ("GET /search.json?q=%E6%8E%A8%E8%BF%9B%E4%BC%9A&year=2016" + tail).encode())
        gbk = _raw_http(port, ("GET /search.json?q=推进" + tail).encode("gbk"))
        # The longest query the site accepts (a pasted paragraph of 500 characters), with a filter: 4.6 KB.
        longest = "全区推进会召开部署信息公开工作" * 33 + "推进会部署"
        assert len(longest) == 500
        target = f"/search.json?q={quote(longest)}&agency={quote('余杭区民政局')}&year=2016"
        pasted = _raw_http(port, (f"GET {target}" + tail).encode())
        path_unencoded = _raw_http(port, ("GET /帮助" + tail).encode())
    finally:
        site.send_signal(signal.SIGTERM)
        out, _ = site.communicate(timeout=30)
    assert "搜索页已就绪" in out
    for name, expected in (("too long", b"414"), ("too long json", b"414"), ("garbage", b"400"), ("control", b"400")):
        head, _, body = answers[name].partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == expected, name
        assert b"Content-Security-Policy: default-src 'self'" in head and b"X-Content-Type-Options: nosniff" in head, name
        assert b"Permissions-Policy: camera=()" in head and b"Cross-Origin-Opener-Policy: same-origin" in head, name
        if name in ("too long json", "control"):  # JSON routes get the site's JSON error form
            assert b"Content-Type: application/json" in head, name
            error = json.loads(body)
            assert error["ok"] is False and error["status"] == int(expected) and error["error"], name
        else:
            assert b"Content-Type: text/html" in head and "出错了".encode() in body, name
    head, _, body = unencoded.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200", head
    raw, percent = json.loads(body), json.loads(encoded.partition(b"\r\n\r\n")[2])
    raw.pop("took_ms"), percent.pop("took_ms")
    assert raw["query"] == "推进会" and raw["total"] == 1 and raw == percent
    head, _, body = gbk.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400" and "UTF-8" in json.loads(body)["error"]
    head, _, body = pasted.partition(b"\r\n\r\n")  # answered, not refused as 网址过长
    assert head.split(b" ")[1] == b"200", head
    assert json.loads(body)["query"] == longest
    assert path_unencoded.split(b" ")[1] == b"404" and "页面不存在".encode() in path_unencoded
    site_head = answers["site"].partition(b"\r\n\r\n")[0].decode("latin-1")
    server = next((line for line in site_head.split("\r\n") if line.lower().startswith("server:")), "")
    assert "Werkzeug" not in site_head and not any(c.isdigit() for c in server)  # no version revealed


def test_percent_encoded_bytes_that_are_not_utf8_are_a_friendly_400(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/search.json?q=%CD%C6%BD%F8", "/?q=%FF"):  # 推进 in GBK; a lone byte
        response = client.get(path)
        assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True), path
    assert client.get("/search.json?q=%E6%8E%A8%E8%BF%9B").status_code == 200
