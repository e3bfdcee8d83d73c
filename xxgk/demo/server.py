"""Serves the demo portal over HTTP on loopback, with ETags, robots.txt and a request log."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from xxgk.demo import render
from xxgk.demo.model import Agency, Item, build_agencies
from xxgk.demo.msdoc import doc_bytes

log = logging.getLogger(__name__)

NEW_TOPICS = ("家庭医生签约服务", "传染病防控", "基层卫生服务能力提升", "健康促进", "医疗废物监管", "妇幼健康")
ROBOTS = "User-agent: *\nDisallow: /admin/\nDisallow: /search/\n"


@dataclass(frozen=True)
class Page:
    """A static response of the portal."""

    content_type: str
    body: bytes
    last_modified: str = ""

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it (for tests that assert on crawler behaviour)."""

    method: str
    path: str
    headers: dict[str, str]
    status: int


def _http_date(item: Item) -> str:
    return format_datetime(datetime.combine(item.published, time(9, 30), tzinfo=UTC), usegmt=True)


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-response is routine for a portal (crawlers time out): logged, not printed."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("demo portal: client %s hung up", client_address)


class DemoPortal:
    """The portal's content, pre-rendered; `serve()` starts it in a background thread."""

    def __init__(self, seed: int = 20170328) -> None:
        self.agencies: list[Agency] = build_agencies(seed)
        self.pages: dict[str, Page] = {}
        self.hanweb_columns = {c.colid: c for a in self.agencies if a.platform == "hanweb" for c in a.columns}
        self.requests: list[LoggedRequest] = []
        self.gone: set[str] = set()
        self.edited: Item | None = None
        self.withdrawn: Item | None = None
        self.published_count = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._build()

    # -- content ------------------------------------------------------------------------------
    def _add(self, path: str, html: str, encoding: str = "utf-8", last_modified: str = "") -> None:
        ctype = "text/html; charset=" + ("GBK" if encoding == "gbk" else "utf-8")
        self._staging[path] = Page(ctype, html.encode(encoding), last_modified)

    def _build(self) -> None:
        """Render every page into a new dict, then swap it in (requests meanwhile see the old pages)."""
        self._staging: dict[str, Page] = {}
        self._add("/", render.home(self.agencies))
        self._staging["/robots.txt"] = Page("text/plain; charset=utf-8", ROBOTS.encode())
        for agency in self.agencies:
            for column in agency.columns:
                url = render.column_url(agency, column)
                if agency.platform == "hanweb":
                    self._add(url, render.hanweb_column(agency, column))
                elif agency.platform == "trs":
                    for k in range(render.trs_page_count(column)):
                        name = "index.html" if k == 0 else f"index_{k}.html"
                        self._add(url.rsplit("/", 1)[0] + "/" + name, render.trs_list(agency, column, k), agency.encoding)
                else:
                    for page in range(1, render.generic_page_count(column) + 1):
                        self._add(
                            url.rsplit("/", 1)[0] + "/" + render.generic_list_name(page),
                            render.generic_list(agency, column, page),
                        )
                for item in column.items:
                    renderer = {"hanweb": render.hanweb_detail, "trs": render.trs_detail, "generic": render.generic_detail}[
                        agency.platform
                    ]
                    html = (render.portal_detail if agency.publishers else renderer)(item)
                    self._add(item.path, html, agency.encoding, _http_date(item))
                    for att in item.attachments:
                        if att.path.startswith("/module/download/"):  # a download handler: bytes, no type, no date
                            data = render.pdf_bytes(att) if att.kind == "pdf" else render.docx_bytes(att)
                            if att.kind == "doc":
                                data = doc_bytes(att.lines)
                            self._staging[att.path] = Page("application/octet-stream", data, "")
                        elif att.kind == "pdf":
                            self._staging[att.path] = Page("application/pdf", render.pdf_bytes(att), _http_date(item))
                        elif att.kind == "doc":
                            self._staging[att.path] = Page("application/msword", doc_bytes(att.lines), _http_date(item))
                        else:
                            self._staging[att.path] = Page(
                                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                render.docx_bytes(att),
                                _http_date(item),
                            )
        self.pages = self._staging

    def revise(self) -> None:
        """What agencies do between two crawls: edit one item, withdraw another (its page answers 410)."""
        if self.edited is not None:
            return
        mzj = next(a for a in self.agencies if a.platform == "hanweb")
        notices = next(c for c in mzj.columns if c.name == "通知公告")
        news = next(c for c in mzj.columns if c.name == "工作动态")
        self.edited = notices.items[0]
        self._edit(self.edited, "根据工作安排，上述时间节点顺延一周，请各单位相互转告。")
        self.withdrawn = news.items[2]
        self._withdraw(self.withdrawn)
        self._build()

    def churn(self, step: int) -> tuple[Item, Item | None]:
        """Another round of agency work on the generic-CMS site: edit one item and withdraw another.

        Items are taken in turn (`step` picks which), so repeated calls keep changing the portal, as
        the scheduler's runs see it; returns (edited, withdrawn or None when a column would empty).
        """
        agency = next(a for a in self.agencies if a.platform == "generic")
        columns = [c for c in agency.columns if c.items]
        edited_column = columns[step % len(columns)]
        edited = edited_column.items[step % len(edited_column.items)]
        self._edit(edited, f"（第{step + 1}次更正：补充了联系方式。）")
        withdrawn_column = columns[(step + 1) % len(columns)]
        withdrawn = None
        if len(withdrawn_column.items) > 3:
            withdrawn = withdrawn_column.items[-1 - step % (len(withdrawn_column.items) - 1)]
            if withdrawn is edited:
                withdrawn = None
            else:
                self._withdraw(withdrawn)
        self._build()
        return edited, withdrawn

    @staticmethod
    def _edit(item: Item, sentence: str) -> None:
        # A paragraph, not a heading (the last one when none is long enough).
        body = next((i for i, p in enumerate(item.paragraphs) if i and len(p) > 30), len(item.paragraphs) - 1)
        item.paragraphs[body] += sentence

    def _withdraw(self, item: Item) -> None:
        item.column.items.remove(item)
        for att in item.attachments:
            self.gone.add(att.path)
        self.gone.add(item.path)

    def publish(self, today: date) -> Item:
        """A new 工作动态 item appears on the generic-CMS agency's site (what `make run` shows every minute)."""
        agency = next(a for a in self.agencies if a.platform == "generic")
        column = next(c for c in agency.columns if c.name == "工作动态")
        template = column.items[0]
        self.published_count += 1
        number = max(i.number for i in self.items()) + 1
        topic = NEW_TOPICS[(self.published_count - 1) % len(NEW_TOPICS)]
        pool = [p for i in column.items for p in i.paragraphs[1:] if len(p) > 30]
        pick = [pool[(number * 7 + k * 13) % len(pool)] for k in range(3)]
        item = Item(
            agency=agency,
            column=column,
            number=number,
            title=f"{agency.name}召开{topic}工作推进会（{today.month}月{today.day}日第{self.published_count}期）",
            published=today,
            doc_no="",
            index_no=template.index_no.rsplit("/", 1)[0] + f"/{today.year}-{number:05d}",
            topic=template.topic,
            paragraphs=[f"{today.month}月{today.day}日，{agency.name}召开{topic}工作推进会，部署下一阶段重点任务。", *pick],
        )
        item.path = f"/{agency.key}/{column.key}/content/post_{number}.html"
        column.items.insert(0, item)
        self._build()
        log.info("demo portal published %s", item.title)
        return item

    def items(self) -> list[Item]:
        return [i for a in self.agencies for c in a.columns for i in c.items]

    def find(self, title: str) -> Item:
        return next(i for i in self.items() if i.title == title)

    def respond(self, raw_path: str, form: str = "") -> tuple[int, Page | None]:
        """Route a request path (with query, and a POST form) to a page; dynamic for the jpage data proxy."""
        parts = urlsplit(raw_path)
        if parts.path in ("/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp"):
            query = {**parse_qs(parts.query), **parse_qs(form)}
            try:
                column = self.hanweb_columns[int(query["columnid"][0])]
                page = int(query.get("page", ["1"])[0])
                start, end = int(query.get("startrecord", ["0"])[0]), int(query.get("endrecord", ["0"])[0])
            except (KeyError, ValueError):
                return 400, Page("text/plain; charset=utf-8", "参数错误".encode())
            return 200, Page("text/xml; charset=utf-8", render.hanweb_dataproxy(column, page, start, end).encode())
        # Hanweb's download handler names its file in the query: the query is part of the page's key.
        key = raw_path if parts.path.endswith(("downfile.jsp", "download.jsp")) else parts.path
        if key in self.gone:
            return 410, None
        page_obj = self.pages.get(key)
        return (200, page_obj) if page_obj else (404, None)

    # -- serving ------------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a daemon thread; returns the base URL."""
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes
            server_version = "DemoPortal"
            sys_version = ""  # no Python version in the Server header

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                self.do_GET(self.rfile.read(length).decode("utf-8", "replace"))

            def do_GET(self, form: str = "") -> None:  # noqa: N802 - http.server naming
                status, page = portal.respond(self.path, form)
                if page is not None and status == 200 and not form and self.headers.get("If-None-Match") == page.etag:
                    status = 304
                portal._log(self, status)
                if page is None:
                    message = "该信息已撤回" if status == 410 else "页面不存在"
                    body = render._page(message, f"<h1>{status} {message}</h1>").encode()
                    page = Page("text/html; charset=utf-8", body)
                self.send_response(status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("ETag", page.etag)
                if page.last_modified:
                    self.send_header("Last-Modified", page.last_modified)
                if status == 304:
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, fmt: str, *args: object) -> None:
                log.debug("demo portal: " + fmt, *args)

        self._server = _QuietServer((host, port), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, name="demo-portal", daemon=True)
        thread.start()
        return self.url

    def _log(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.requests.append(LoggedRequest(handler.command, handler.path, dict(handler.headers.items()), status))

    @property
    def url(self) -> str:
        assert self._server is not None, "portal is not serving"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
