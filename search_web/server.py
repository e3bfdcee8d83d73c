"""Run the search site under gunicorn (a production WSGI server) from `xxgk serve` and `xxgk demo`.

Requests the server itself refuses (a request line too long or malformed, headers too large) get the
same Chinese error page and security headers as the site's own errors (JSON for .json and /api/
paths), from `ErrorPageWorker`. A request target with raw UTF-8 in it (curl sends `?q=推进会`
unencoded) is percent-encoded before gunicorn's RFC 9112 check, so it is served like the encoded one.

gunicorn parts used beyond its documented custom-application API, all in this module only and all
guarded by tests/search_web/test_security.py::test_xxgk_serve_runs_gunicorn_…:
- `Worker.handle_error` (overridden to write our page);
- `Arbiter.LISTENERS` (the bound address, printed once ready);
- `ThreadWorker.handle(conn)` and `TConn.parser` (our parser is set before gunicorn makes its own);
- `RequestParser.mesg_class`, `Request.parse_request_line` and `Request.read_line` (the request line
  is encoded there, and a refused line's start is kept to tell a JSON route).
"""

from __future__ import annotations

import json
import logging
import re
from html import escape
from typing import Any
from urllib.parse import quote_from_bytes

import click
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    LimitRequestHeaders,
    LimitRequestLine,
)
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

from archive.settings import Settings
from search_web import CSP, PERMISSIONS, create_app
from search_web.errors import json_path

log = logging.getLogger(__name__)

THREADS = 8  # one worker process, threads for concurrent requests (the engine serialises its searches)
# The longest request line gunicorn takes (its maximum; its default is 4094). A search of the longest
# accepted query (`max_query_chars`, 500: a pasted paragraph) is about 9 bytes a Chinese character
# once percent-encoded, 4.5 KB before its filters, which the default refused as 网址过长.
REQUEST_LINE = 8190

# What the server answers itself, by the exception its request parser raised.
SERVER_ERRORS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (LimitRequestLine, 414, "URI Too Long", "网址过长：请缩短检索词或去掉一些筛选条件。"),
    (LimitRequestHeaders, 431, "Request Header Fields Too Large", "请求头过大：请清除本站的 Cookie 后重试。"),
    (InvalidRequestMethod, 400, "Bad Request", "不支持的请求方法。"),
    (InvalidRequestLine, 400, "Bad Request", "请求格式有误，无法识别。"),
    (InvalidHTTPVersion, 400, "Bad Request", "不支持的 HTTP 版本。"),
    (InvalidHeader, 400, "Bad Request", "请求头格式有误。"),
    (InvalidHeaderName, 400, "Bad Request", "请求头格式有误。"),
)


def error_bytes(status: int, reason: str, message: str, as_json: bool = False) -> bytes:
    """A complete HTTP response: the Chinese error page (or JSON) with the site's security headers."""
    if as_json:
        body = json.dumps({"ok": False, "error": message, "status": status}, ensure_ascii=False).encode() + b"\n"
        kind = "application/json"
    else:
        body = (
            '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>出错了（{status}） - 政务公开档案检索</title></head>"
            f'<body><h1>出错了（{status}）</h1><p>{escape(message)}</p><p><a href="/">返回检索首页</a></p></body></html>\n'
        ).encode()
        kind = "text/html; charset=utf-8"
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {kind}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Content-Security-Policy: {CSP}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Referrer-Policy: same-origin\r\n"
        "X-Frame-Options: DENY\r\n"
        f"Permissions-Policy: {PERMISSIONS}\r\n"
        "Cross-Origin-Opener-Policy: same-origin\r\n\r\n"
    )
    return head.encode("ascii") + body


# Bytes RFC 3986 never allows in a request target but clients send: UTF-8 text (0x80-0xFF) and a few
# ASCII marks curl passes through. Controls stay as they are, so gunicorn still refuses them.
_UNENCODED = re.compile(rb'[\x80-\xff"<>\\^`{|}]+')


def encode_target(line: bytes) -> bytes:
    """The request line with its target's raw non-ASCII bytes percent-encoded (method and version kept)."""
    method, space, rest = line.partition(b" ")
    target, space2, version = rest.rpartition(b" ")
    if not version.startswith(b"HTTP/"):
        target, space2, version = rest, b"", b""
    target = _UNENCODED.sub(lambda m: quote_from_bytes(m.group()).encode("ascii"), target)
    return method + space + target + space2 + version


def json_route(start: bytes) -> bool:
    """Whether a request line (or its first bytes) asks for a JSON route, by the site's own rule."""
    target = start.partition(b" ")[2].split(b" ", 1)[0]
    return json_path(re.split(rb"[?#]", target, maxsplit=1)[0].decode("latin-1"))


class _Request(Request):  # type: ignore[misc]
    """gunicorn's request, taking raw UTF-8 in the target and remembering a refused line's start."""

    def read_line(self, unreader: Any, buf: bytearray, limit: int = 0) -> Any:
        try:
            return super().read_line(unreader, buf, limit)
        except Exception as exc:
            exc.request_start = bytes(buf[:2048])  # type: ignore[attr-defined]
            raise

    def parse_request_line(self, line_bytes: bytes) -> None:
        try:
            super().parse_request_line(encode_target(line_bytes))
        except Exception as exc:
            exc.request_start = line_bytes[:2048]  # type: ignore[attr-defined]
            raise


class _Parser(RequestParser):  # type: ignore[misc]
    mesg_class = _Request


class ErrorPageWorker(ThreadWorker):
    """gunicorn's threaded worker with our request parser, answering the requests it refuses with our page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg.set("http_parser", "python")  # the parser _Request extends, even where gunicorn_h1c is installed
        if self.cfg.limit_request_line == 4094:  # gunicorn's default: too short for the longest query
            self.cfg.set("limit_request_line", REQUEST_LINE)

    def handle(self, conn: Any) -> Any:
        if conn.parser is None and not self.cfg.is_ssl:
            conn.parser = _Parser(self.cfg, conn.sock, conn.client)
        return super().handle(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        for kind, status, reason, message in SERVER_ERRORS:
            if isinstance(exc, kind):
                log.warning("refused a request from %s: %s", (addr or ("?",))[0], exc)
                as_json = json_route(getattr(exc, "request_start", b""))
                try:
                    client.sendall(error_bytes(status, reason, message, as_json))
                except OSError:
                    log.debug("the client left before the error page was sent")
                return
        super().handle_error(req, client, addr, exc)


class _Site(BaseApplication):  # type: ignore[misc]
    """gunicorn with our app and options, in this process (no command line, no config file)."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.app, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.app


def run_server(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; prints the URL once the socket is listening."""
    app = create_app(settings)

    def ready(server: Any) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        click.echo(f"\n搜索页已就绪：http://{host}:{port}/\n（按 Ctrl+C 停止）", err=False)

    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "threads": THREADS,
        "worker_class": f"{ErrorPageWorker.__module__}.{ErrorPageWorker.__qualname__}",
        "when_ready": ready,
        "accesslog": None,
        "loglevel": "warning",
        "graceful_timeout": 10,
    }
    try:
        _Site(app, options).run()
    except SystemExit as stop:  # gunicorn ends its master with sys.exit; a clean stop is not an error
        if stop.code not in (0, None):
            raise
