"""Staff pages under /admin: password login (hash in config, rate-limited), CSRF, per-source status, crawl now.

The web process never crawls or writes the index: "crawl now" files a request row in the catalog,
which the scheduler process takes on its next poll.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from archive.catalog import Catalog, beat_age_s, is_alive
from search_web import get_catalog, get_settings, throttle

bp = Blueprint("admin", __name__, url_prefix="/admin")

SCHEDULER = "scheduler"
SESSION_KEY = "xxgk_admin"
MESSAGES = {
    "requested": "{source}：已提交抓取请求，调度进程将在下次轮询时开始抓取。",
    "requested-offline": "{source}：已提交抓取请求；调度进程当前未运行，启动后将处理此请求。",
}


@bp.after_request
def staff_pages_are_not_kept(response: Any) -> Any:
    """Staff pages hold run reports and a CSRF token: never stored by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token() -> str:
    """This session's CSRF token (created on first use), for every form that POSTs."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    token = session.get("csrf", "")
    if not token or not sent or not hmac.compare_digest(str(token), sent):
        abort(400, description="表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(400, description="跨站提交被拒绝（来源与本站不符）。")


def _enabled() -> None:
    if not get_settings().admin_password_hash:
        abort(404)


def _signed_in() -> bool:
    return bool(session.get(SESSION_KEY))


def _require_login() -> Any:
    _enabled()
    if not _signed_in():
        if request.method != "GET":
            abort(403)
        if request.path.endswith(".json"):
            abort(401)
        return redirect(url_for("admin.login", next=request.path))
    return None


@bp.get("/login")
def login() -> Any:
    _enabled()
    return render_template("admin_login.html", csrf_token=csrf_token(), error="", next=request.args.get("next", ""), no_twin=True)


@bp.post("/login")
def login_post() -> Any:
    _enabled()
    _check_csrf()
    # The client as the trusted proxies (setting trusted_proxies) report it; failures are counted in
    # the catalog, so the limit holds whichever worker answers.
    client = request.remote_addr or "?"
    wait = throttle.wait_s(get_catalog(), client)
    if wait > 0:
        seconds = int(wait) + 1
        page = render_template(
            "admin_login.html", csrf_token=csrf_token(), next="", error=f"尝试次数过多，请 {seconds} 秒后再试。", no_twin=True
        )
        return page, 429, {"Retry-After": str(seconds)}
    if not check_password_hash(get_settings().admin_password_hash, request.form.get("password", "")):
        throttle.record_failure(get_settings().catalog_path, client)
        return render_template("admin_login.html", csrf_token=csrf_token(), next="", error="密码错误。", no_twin=True), 401
    session.clear()
    session[SESSION_KEY] = True
    session["csrf"] = secrets.token_urlsafe(32)  # a fresh token after login
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/admin") else url_for("admin.dashboard"))


@bp.post("/logout")
def logout() -> Any:
    _enabled()
    _check_csrf()
    session.clear()
    return redirect(url_for("admin.login"))


def source_rows(catalog: Catalog) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per source: last run and its counts, failures by reason with failed URLs, next crawl, pending request."""
    beat = catalog.heartbeat(SCHEDULER)
    alive = is_alive(beat, get_settings().scheduler_poll_s)
    info = beat["info"] if beat else {}
    next_runs = info.get("next_runs", {}) if alive else {}
    pending = {r["source_id"] for r in catalog.pending_requests()}
    sources = sorted(set(next_runs) | {r["source_id"] for r in catalog.runs()})
    rows = []
    for source_id in sources:
        last = catalog.last_run(source_id)
        report = (last or {}).get("report") or {}
        rows.append(
            {
                "id": source_id,
                "name": ((last or {}).get("report") or {}).get("name") or source_id,
                "next_run": next_runs.get(source_id),
                "pending": source_id in pending,
                "running": source_id in info.get("running", []),
                "last_started": last["started_at"] if last else None,
                "last_finished": last["finished_at"] if last else None,
                "last_status": last["status"] if last else None,
                "last_error": (last or {}).get("error", ""),
                "counts": {k: report.get(k, 0) for k in ("new", "changed", "unchanged", "withdrawn")},
                "failed": report.get("failed", {}),
                "failed_urls": report.get("failed_urls", [])[:50],
                "consecutive_failures": catalog.consecutive_failures(source_id),
                "documents": catalog.count(source_id),
            }
        )
    scheduler = {
        "alive": alive,
        "beat_age_s": beat_age_s(beat),
        "pid": beat["pid"] if beat else None,
        "host": beat["host"] if beat else None,
    }
    return rows, scheduler


@bp.get("/")
def dashboard() -> Any:
    gate = _require_login()
    if gate is not None:
        return gate
    rows, scheduler = source_rows(get_catalog())
    # Messages are named by code (never text from the URL, which anyone could write a phishing line into).
    names = {r["id"]: r["name"] for r in rows}
    source = request.args.get("source", "")
    template = MESSAGES.get(request.args.get("msg", ""), "")
    message = template.format(source=names[source]) if template and source in names else ""
    return render_template("admin.html", rows=rows, scheduler=scheduler, csrf_token=csrf_token(), message=message)


@bp.get("/status.json")
def dashboard_json() -> Any:
    _require_login()
    rows, scheduler = source_rows(get_catalog())
    return jsonify({"ok": True, "scheduler": scheduler, "sources": rows})


@bp.post("/crawl/<source_id>")
def crawl_now(source_id: str) -> Any:
    gate = _require_login()
    if gate is not None:
        return gate
    _check_csrf()
    rows, scheduler = source_rows(get_catalog())
    if source_id not in {r["id"] for r in rows}:
        abort(404)
    with Catalog(get_settings().catalog_path) as catalog:
        catalog.request_crawl(source_id, f"web {request.remote_addr or '?'}")
    code = "requested" if scheduler["alive"] else "requested-offline"
    return redirect(url_for("admin.dashboard", msg=code, source=source_id))
