"""Run the search site with a threaded WSGI server and print its URL."""

from __future__ import annotations

import logging

import click
from werkzeug.serving import make_server

from archive.settings import Settings
from search_web import create_app

log = logging.getLogger(__name__)


def run_server(settings: Settings) -> None:
    """Serve until interrupted; prints the URL once the socket is listening."""
    app = create_app(settings)
    server = make_server(settings.host, settings.port, app, threaded=True)
    host, port = str(server.server_address[0]), server.server_address[1]
    click.echo(f"\n搜索页已就绪：http://{host}:{port}/\n（按 Ctrl+C 停止）", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
