"""A scriptable HTTP server on loopback: each path answers from a list of scripted responses, in order."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer; `drip` sends the body one byte every `drip` seconds, `close` hangs up at once."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0
    close: bool = False


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    at: float


class FakeServer:
    """Routes: path (with query) -> replies; the last reply repeats. Unknown paths get 404."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.log: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def do_GET(self) -> None:  # noqa: N802
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                with server._lock:
                    server.log.append(Seen(self.path, dict(self.headers.items()), time.monotonic()))
                    replies = server.routes.get(self.path)
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(404, b"not found")
                if reply.close:
                    self.close_connection = True
                    self.connection.close()
                    return
                etag = reply.headers.get("ETag")
                if etag and reply.status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)  # a server that honours its own validator
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip:
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.drip)
                else:
                    self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # clients that hang up (caps) are expected
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def seen(self, path: str) -> list[Seen]:
        return [s for s in self.log if s.path == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
