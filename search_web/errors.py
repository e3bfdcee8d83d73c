"""One error handler: an HTML page, or JSON {"ok": false, "error", "status"} for .json paths."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from archive.errors import XxgkError

log = logging.getLogger(__name__)

MESSAGES = {
    400: "请求参数有误。",
    401: "请先登录管理页面。",
    403: "没有权限进行此操作：请先登录管理页面，并从本站的页面提交。",
    404: "页面不存在。",
    405: "不支持的请求方法。",
    413: "提交的内容过大。",
    414: "网址过长：请缩短检索词或去掉一些筛选条件。",
    429: "请求过于频繁，请稍后再试。",
    500: "服务器内部错误，请稍后再试。",
    503: "检索服务暂不可用。",
}


def json_path(path: str) -> bool:
    """Whether a path is a JSON route (its errors are JSON too): .json twins and /api/."""
    return path.endswith(".json") or path.startswith("/api/")


def wants_json() -> bool:
    return json_path(request.path)


def error_response(status: int, message: str, hint: str = "") -> Any:
    if wants_json():
        body = {"ok": False, "error": message, "status": status}
        if hint:
            body["hint"] = hint
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, hint=hint, no_twin=True), status


def init_app(app: Flask) -> None:
    @app.errorhandler(XxgkError)
    def domain_error(exc: XxgkError) -> Any:
        if exc.status >= 500:
            log.error("%s", exc)
        return error_response(exc.status, exc.message, exc.hint)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        # Our own 400s describe what to fix; for every other status the Chinese text of its kind.
        message = exc.description if status == 400 and exc.description else MESSAGES.get(status, f"请求未能完成（{status}）。")
        return error_response(status, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s", request.path)
        return error_response(500, MESSAGES[500])
