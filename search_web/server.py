"""Run the search site under gunicorn (a production WSGI server) from `xxgk serve` and `xxgk demo`.

Requests the server itself refuses (a request line too long or malformed, headers too large) get the
same Chinese error page and security headers as the site's own errors, from `ErrorPageWorker`.

gunicorn parts used beyond its documented custom-application API, both in this module only and both
guarded by tests/search_web/test_security.py::test_xxgk_serve_runs_gunicorn_…: `Worker.handle_error`
(overridden to write our page) and `Arbiter.LISTENERS` (the bound address, printed once ready).
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

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
from gunicorn.workers.gthread import ThreadWorker

from archive.settings import Settings
from search_web import CSP, PERMISSIONS, create_app

log = logging.getLogger(__name__)

THREADS = 8  # one worker process, threads for concurrent requests (the engine serialises its searches)

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


# RFC 9112 wants a request target in printable ASCII; clients that send Chinese unencoded are told how.
UNENCODED = (
    "网址中含有未编码的中文等字符：请按 UTF-8 进行百分号编码后再请求"
    '（浏览器会自动编码；curl 可写 curl --get --data-urlencode "q=推进会" …）。'
)


def error_bytes(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP response: the Chinese error page with the site's security headers."""
    body = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>出错了（{status}） - 政务公开档案检索</title></head>"
        f'<body><h1>出错了（{status}）</h1><p>{escape(message)}</p><p><a href="/">返回检索首页</a></p></body></html>\n'
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Content-Security-Policy: {CSP}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Referrer-Policy: same-origin\r\n"
        "X-Frame-Options: DENY\r\n"
        f"Permissions-Policy: {PERMISSIONS}\r\n"
        "Cross-Origin-Opener-Policy: same-origin\r\n\r\n"
    )
    return head.encode("ascii") + body


class ErrorPageWorker(ThreadWorker):
    """gunicorn's threaded worker, answering the requests it refuses with our error page."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        for kind, status, reason, message in SERVER_ERRORS:
            if isinstance(exc, kind):
                if kind is InvalidRequestLine and not str(exc).isascii():
                    message = UNENCODED
                log.warning("refused a request from %s: %s", (addr or ("?",))[0], exc)
                try:
                    client.sendall(error_bytes(status, reason, message))
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
