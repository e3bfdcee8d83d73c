"""The fetcher against a misbehaving local server: robots.txt, politeness, retries, limits, guards.

Each test asserts what the server saw (its request log), not only what the fetcher returned.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.store import WarcStore
from crawler.attachments import extract_text
from crawler.errors import FetchError
from crawler.fetch import Fetcher
from crawler.urls import canonicalize, trap_reason
from tests.conftest import make_settings, warcio_check
from tests.fakeserver import FakeServer, Reply

HTML = "text/html; charset=utf-8"


@pytest.fixture()
def server():
    fake = FakeServer()
    fake.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private\n", {"Content-Type": "text/plain"}))
    yield fake
    fake.stop()


@pytest.fixture()
def make_fetcher(tmp_path: Path):
    opened = []

    def build(server: FakeServer, allow_private: bool = True, hosts: tuple[str, ...] = ("127.0.0.1",), **settings):
        values = {"crawl_delay_s": 0.0, "retry_base_s": 0.05, "request_timeout_s": 5.0, **settings}
        config = make_settings(tmp_path, **values)
        store = WarcStore(config.warc_dir)
        catalog = Catalog(config.catalog_path)
        session = store.session("t")
        fetcher = Fetcher(config, store, session, catalog, None, hosts, allow_private)
        opened.append((fetcher, session, catalog))
        return fetcher

    yield build
    for fetcher, session, catalog in opened:
        fetcher.close()
        session.close()
        catalog.close()
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    if files:
        assert warcio_check(files).returncode == 0


def test_robots_disallow_is_obeyed(server: FakeServer, make_fetcher) -> None:
    server.route("/public", Reply(200, b"<p>ok</p>", {"Content-Type": HTML}))
    fetcher = make_fetcher(server)
    assert fetcher.get(server.url + "/public").status == 200
    with pytest.raises(FetchError) as info:
        fetcher.get(server.url + "/private/a.html")
    assert info.value.reason == "robots"
    assert not [s for s in server.log if s.path.startswith("/private")]
    assert len(server.seen("/robots.txt")) == 1  # cached for the run


@pytest.mark.parametrize("status, allowed", [(404, True), (410, True), (403, True), (500, False), (503, False)])
def test_robots_status_semantics(server: FakeServer, make_fetcher, status: int, allowed: bool) -> None:
    server.route("/robots.txt", Reply(status, b"error"))
    server.route("/page", Reply(200, b"<p>ok</p>", {"Content-Type": HTML}))
    fetcher = make_fetcher(server, max_retries=0)
    if allowed:
        assert fetcher.get(server.url + "/page").status == 200
    else:
        with pytest.raises(FetchError, match="robots"):
            fetcher.get(server.url + "/page")
        assert not server.seen("/page")  # 5xx robots.txt: complete disallow, zero page requests


def test_robots_unreachable_disallows_everything(server: FakeServer, make_fetcher) -> None:
    server.route("/robots.txt", Reply(close=True))
    server.route("/page", Reply(200, b"ok"))
    with pytest.raises(FetchError, match="robots"):
        make_fetcher(server, max_retries=0).get(server.url + "/page")
    assert not server.seen("/page")


def test_crawl_delay_is_honoured(server: FakeServer, make_fetcher) -> None:
    server.route("/robots.txt", Reply(200, b"User-agent: *\nCrawl-delay: 1\n"))
    for i in range(3):
        server.route(f"/p{i}", Reply(200, b"ok"))
    fetcher = make_fetcher(server)
    for i in range(3):
        fetcher.get(f"{server.url}/p{i}")
    times = [server.seen(f"/p{i}")[0].at for i in range(3)]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:]))


def test_503_twice_then_200_succeeds_on_the_third_request(server: FakeServer, make_fetcher) -> None:
    server.route("/flaky", Reply(503, b"busy"), Reply(503, b"busy"), Reply(200, b"<p>finally</p>", {"Content-Type": HTML}))
    result = make_fetcher(server).get(server.url + "/flaky")
    assert result.status == 200 and result.body == b"<p>finally</p>"
    assert len(server.seen("/flaky")) == 3


def test_retry_after_is_waited_for(server: FakeServer, make_fetcher) -> None:
    server.route("/limited", Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200, b"ok"))
    assert make_fetcher(server).get(server.url + "/limited").status == 200
    first, second = server.seen("/limited")
    assert second.at - first.at >= 0.95


def test_retry_after_beyond_the_cap_gives_up_at_once(server: FakeServer, make_fetcher) -> None:
    server.route("/later", Reply(503, b"maintenance", {"Retry-After": "86400"}))
    with pytest.raises(FetchError) as info:
        make_fetcher(server).get(server.url + "/later")
    assert info.value.reason == "rate-limited" and len(server.seen("/later")) == 1


def test_persistent_5xx_is_returned_after_bounded_retries(server: FakeServer, make_fetcher) -> None:
    server.route("/down", Reply(500, b"error"))
    assert make_fetcher(server, max_retries=2).get(server.url + "/down").status == 500
    assert len(server.seen("/down")) == 3


def test_accept_then_close_is_a_clear_error_after_retries(server: FakeServer, make_fetcher) -> None:
    server.route("/hangup", Reply(close=True))
    with pytest.raises(FetchError) as info:
        make_fetcher(server, max_retries=2).get(server.url + "/hangup")
    assert info.value.reason in ("http", "connect") and len(server.seen("/hangup")) == 3


@pytest.mark.parametrize(
    "reply",
    [
        Reply(412, b"precondition"),
        Reply(200, "<html><body>访问过于频繁，请稍后再试</body></html>".encode(), {"Content-Type": HTML}),
    ],
)
def test_anti_bot_pages_are_not_taken_as_content(server: FakeServer, make_fetcher, reply: Reply) -> None:
    server.route("/guarded", reply)
    with pytest.raises(FetchError) as info:
        make_fetcher(server, max_retries=1).get(server.url + "/guarded")
    assert info.value.reason == "anti-bot" and len(server.seen("/guarded")) == 2


def test_oversized_body_is_cut_and_marked_truncated(server: FakeServer, make_fetcher, tmp_path: Path) -> None:
    server.route("/huge", Reply(200, b"x" * 300_000, {"Content-Type": "text/plain"}))
    fetcher = make_fetcher(server, max_page_bytes=50_000)
    result = fetcher.get(server.url + "/huge")
    assert result.truncated == "length" and len(result.body) == 50_000
    capture = fetcher.catalog.get_capture(result.capture_id)
    record = fetcher.store.read(capture.ref)
    assert capture.truncated == "length" and len(record.payload) == 50_000
    assert fetcher.catalog.last_good_capture(server.url + "/huge") is None  # never used as a complete copy


def test_slow_drip_is_cut_at_the_whole_fetch_deadline(server: FakeServer, make_fetcher) -> None:
    server.route("/drip", Reply(200, b"y" * 100, {"Content-Type": "text/plain"}, drip=0.1))
    started = time.monotonic()
    result = make_fetcher(server, fetch_deadline_s=1.0).get(server.url + "/drip")
    assert result.truncated == "time"
    assert time.monotonic() - started < 2.5 and 0 < len(result.body) < 100


def test_decompression_bomb_is_refused(server: FakeServer, make_fetcher) -> None:
    bomb = gzip.compress(b"0" * 20_000_000)
    server.route("/bomb", Reply(200, bomb, {"Content-Type": HTML, "Content-Encoding": "gzip"}))
    with pytest.raises(FetchError) as info:
        make_fetcher(server, max_page_bytes=1_000_000).get(server.url + "/bomb")
    assert info.value.reason == "decoded-size" and len(bomb) < 100_000


def test_redirect_loop_stops_at_the_cap_and_archives_each_hop(server: FakeServer, make_fetcher) -> None:
    server.route("/a", Reply(302, b"", {"Location": "/b"}))
    server.route("/b", Reply(302, b"", {"Location": "/a"}))
    fetcher = make_fetcher(server, max_redirects=3)
    with pytest.raises(FetchError) as info:
        fetcher.get(server.url + "/a")
    assert info.value.reason == "redirects"
    hops = [s.path for s in server.log if s.path in ("/a", "/b")]
    assert hops == ["/a", "/b", "/a", "/b"]
    assert fetcher.catalog.conn.execute("SELECT COUNT(*) FROM captures WHERE status=302").fetchone()[0] == 4


def test_redirect_to_another_host_is_refused(server: FakeServer, make_fetcher) -> None:
    server.route("/away", Reply(301, b"", {"Location": "http://localhost:1/steal"}))
    with pytest.raises(FetchError) as info:
        make_fetcher(server).get(server.url + "/away")
    assert info.value.reason == "egress"


@pytest.mark.parametrize("url", ["{base}/page", "file:///etc/passwd", "ftp://127.0.0.1/x", "http://169.254.169.254/latest"])
def test_egress_guard_refuses_private_addresses_and_other_schemes(server: FakeServer, make_fetcher, url: str) -> None:
    server.route("/page", Reply(200, b"ok"))
    fetcher = make_fetcher(server, allow_private=False, hosts=("127.0.0.1", "169.254.169.254"))
    with pytest.raises(FetchError) as info:
        fetcher.get(url.format(base=server.url))
    assert info.value.reason == "egress"
    assert not server.log  # refused before any connection, robots.txt included


def test_url_canonicalisation_and_traps() -> None:
    assert (
        canonicalize(
            "HTTP://WWW.Example.GOV.cn:80/a/b.html;jsessionid=ABC123?PHPSESSID=x&id=5&sid=0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c#top"
        )
        == "http://www.example.gov.cn/a/b.html?id=5"
    )
    assert canonicalize("http://a/gkmlpt/api/all/5?page=2&sid=755031") == "http://a/gkmlpt/api/all/5?page=2&sid=755031"
    assert canonicalize("https://a.gov.cn:443/x?b=2&a=1") == "https://a.gov.cn/x?b=2&a=1"
    assert trap_reason("http://a/x/x/x/y.html")
    assert trap_reason("http://a/" + "/".join(f"s{i}" for i in range(20)))
    assert trap_reason("http://a/cal?" + "&".join(f"y{i}=1900" for i in range(100)))
    assert trap_reason("http://a/art/2017/3/28/art_1_2.html") == ""


def test_broken_attachments_are_recorded_not_fatal() -> None:
    for data, name in (
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R /Prev 0 >>\n%%EOF", "a.pdf"),
        (b"PK\x03\x04garbage", "b.docx"),
        (b"\x00\x01binary", "c.xls"),
    ):
        text, error = extract_text(data, name)
        assert text == "" and error


def test_pathological_html_does_not_crash_extraction() -> None:
    from crawler.extract import extract_document

    html = "<html><body>" + "<div>" * 50_000 + "<p>深层正文</p>" + "</div>" * 50_000 + "</body></html>"
    doc, _ = extract_document(html, "http://a/art/2020/1/2/art_1_1.html", source_id="s", category="c")
    assert doc.published is None and doc.listed is not None  # a URL date is a list date, never 发布日期


def test_truncated_multibyte_text_decodes_with_replacement() -> None:
    from archive.charset import decode

    text, _ = decode("政府信息公开".encode()[:-1], "text/html; charset=utf-8")
    assert text.startswith("政府信息公") and text.endswith("\ufffd")


def test_odd_robots_txt_bom_size_cap_and_huge_crawl_delay(server: FakeServer, make_fetcher, caplog) -> None:
    padding = b"# " + "注释".encode("gbk") * 300_000 + b"\n"  # ~1.2 MB of GBK comments
    server.route(
        "/robots.txt",
        Reply(
            200,
            "\ufeffUser-agent: *\nDisallow: /x\nCrawl-delay: 86400\n".encode() + padding + b"Disallow: /beyond-the-parse-limit\n",
            {"Content-Type": "text/plain"},
        ),
    )
    server.route("/beyond-the-parse-limit", Reply(200, b"ok"))
    server.route("/y", Reply(200, b"ok"))
    fetcher = make_fetcher(server, max_crawl_delay_s=0.5)
    with pytest.raises(FetchError, match="robots"):
        fetcher.get(server.url + "/x/1")  # the BOM does not hide the first rule
    assert fetcher.get(server.url + "/beyond-the-parse-limit").status == 200  # only the first 512 KiB count
    fetcher.get(server.url + "/y")
    first, second = server.seen("/beyond-the-parse-limit")[0].at, server.seen("/y")[0].at
    assert 0.45 <= second - first < 5  # 86400 s capped at 0.5 s
    assert "capped at max_crawl_delay_s" in caplog.text


def test_server_ignoring_validators_gives_a_revisit_not_a_duplicate(server: FakeServer, make_fetcher) -> None:
    server.route("/same", Reply(200, b"<p>unchanged</p>", {"Content-Type": HTML, "Last-Modified": "not a date"}))
    fetcher = make_fetcher(server)
    first = fetcher.get(server.url + "/same")
    second = fetcher.get(server.url + "/same")
    assert (first.status, second.status) == (200, 200) and second.body == first.body
    kinds = [c.record_type for c in fetcher.catalog.all_captures() if c.url.endswith("/same")]
    assert kinds == ["response", "revisit"]
    revisit = fetcher.catalog.get_capture(second.capture_id)
    assert revisit.refers_to == first.capture_id


def test_pdf_without_text_is_flagged() -> None:
    from reportlab.pdfgen import canvas

    out = __import__("io").BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.rect(50, 50, 200, 200, fill=1)  # a scan: pixels, no text
    page.save()
    text, error = extract_text(out.getvalue(), "scan.pdf")
    assert text == "" and "no text layer" in error


def test_one_request_at_a_time_per_host(server: FakeServer, make_fetcher) -> None:
    for i in range(8):
        server.route(f"/slow{i}", Reply(200, b"x" * 20, {"Content-Type": "text/plain"}, drip=0.005))
    fetcher = make_fetcher(server)
    for i in range(8):
        fetcher.get(f"{server.url}/slow{i}")
    assert server.max_in_flight == 1 and len([s for s in server.log if s.path.startswith("/slow")]) == 8


def test_untrusted_certificate_is_a_tls_error_not_retried(make_fetcher, tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.handle_error = lambda request, address: None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        fake = type("Fake", (), {"url": f"https://127.0.0.1:{httpd.server_address[1]}"})()
        with pytest.raises(FetchError) as info:
            make_fetcher(fake).get(fake.url + "/page")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert info.value.reason == "tls" and "verification" in info.value.hint
    assert not hits  # the handshake failed: nothing was ever requested
