"""The search site: a Flask app factory; read-only on the archive and the index.

May import `archive`, `reports` and `index.api` (never `crawler` or an engine package)."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Flask, g

from archive.catalog import Catalog
from archive.settings import Settings, load_settings
from index.api import IndexMissingError, SearchBackend, built_backend, open_backend

# The site uses no camera, microphone, location, payment or USB: no page (or frame) may ask for them.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; nothing is opened until the first request needs it."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["XXGK_SETTINGS"] = settings
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["xxgk_engine"] = None
    app.extensions["xxgk_engine_lock"] = threading.Lock()

    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="xxgk_admin",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/admin",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
    )

    from search_web import admin, api, archived, errors, reports, views

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(archived.bp)
    app.register_blueprint(reports.bp)
    app.add_template_filter(beijing_time)
    app.add_template_global(json_twin)
    app.add_template_filter(web_url)
    errors.init_app(app)
    if settings.trusted_proxies > 0:
        # Behind nginx every client shares the proxy's address: take the client's from the headers the
        # configured number of proxies set (and only those; a client cannot forge past them).
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if settings.hsts_max_age > 0:  # only for a site served over HTTPS (set behind the TLS proxy)
            response.headers.setdefault("Strict-Transport-Security", f"max-age={settings.hsts_max_age}")
        return response

    @app.teardown_appcontext
    def close_catalog(exc: BaseException | None) -> None:
        catalog = g.pop("catalog", None)
        if catalog is not None:
            catalog.close()

    return app


def _secret_key(settings: Settings) -> str:
    """The session key: configured, or one random key per data directory shared by every worker."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.admin_password_hash:
        return secrets.token_hex(32)  # no staff pages: sessions are never used
    path = settings.data_path / "secret_key"
    if not path.exists():
        # Written aside, then linked into place: a worker never reads a half-written key.
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"secret_key.{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="ascii").strip()


BEIJING = timezone(timedelta(hours=8), "北京时间")


def beijing_time(value: str | None) -> str:
    """An ISO timestamp (stored in UTC) as Beijing time, the time zone of every portal we crawl."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def web_url(value: str | None) -> str:
    """The URL when it is http(s), else "" (a javascript: or data: link from a portal is never a link here)."""
    text = (value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


def json_twin() -> str:
    """The JSON twin of the current page: same path with .json (/ → /search.json), same query string."""
    from flask import request

    path = request.path
    if path == "/":
        twin = "/search.json"
    elif path == "/reports/":
        twin = "/reports.json"
    elif path.startswith("/admin"):
        return "/admin/status.json"  # the staff status takes no parameters
    elif path.endswith("/"):
        twin = path.rstrip("/") + ".json"
    else:
        twin = path + ".json"
    query = request.query_string.decode("utf-8", "replace")
    return twin + ("?" + query if query else "")


def get_settings() -> Settings:
    from flask import current_app

    return current_app.config["XXGK_SETTINGS"]  # type: ignore[no-any-return]


def get_engine() -> SearchBackend:
    """The process's index engine, opened on first use and refreshed when the index changed."""
    from flask import current_app

    with current_app.extensions["xxgk_engine_lock"]:
        engine = current_app.extensions["xxgk_engine"]
        settings = get_settings()
        if engine is None:
            engine = open_backend(settings)
            current_app.extensions["xxgk_engine"] = engine
        else:
            try:
                engine.refresh()
            except IndexMissingError:
                if built_backend(settings) in ("", engine.backend):
                    raise
                # `xxgk reindex --backend` swapped in the other engine's index under the running site.
                engine.close()
                engine = open_backend(settings)
                current_app.extensions["xxgk_engine"] = engine
    return engine


def get_catalog() -> Catalog:
    """A read-only catalog connection for this request."""
    if "catalog" not in g:
        g.catalog = Catalog(get_settings().catalog_path, readonly=True)
    return g.catalog  # type: ignore[no-any-return]
