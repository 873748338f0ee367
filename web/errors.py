"""The one place that maps errors to responses: JSON under /api, a page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from reply_archive.archive.errors import ArchiveError, ReplyNotFound
from reply_archive.indexer.errors import IndexerError, QueryError

log = logging.getLogger(__name__)

_MESSAGES = {
    400: "请求参数有误",
    404: "页面不存在",
    405: "不支持该请求方法",
    500: "服务器内部错误",
    503: "检索服务暂不可用",
}


def error_response(status: int, message: str):
    """Return ``{"ok": false, "error", "status"}`` under /api, the error page elsewhere."""
    if request.path.startswith("/api/"):
        return jsonify({"ok": False, "error": message, "status": status}), status
    title = _MESSAGES.get(status, "出错了")
    return render_template("error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Register the app-level handlers (so routing 404s under /api get JSON too)."""

    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError):
        return error_response(400, f"参数 {exc.parameter} 无效：{exc.message}")

    @app.errorhandler(ReplyNotFound)
    def missing_reply(exc: ReplyNotFound):
        return error_response(404, f"没有编号为 {exc.reply_id} 的答复")

    @app.errorhandler(IndexerError)
    def no_index(exc: IndexerError):
        log.error("index unavailable: %s", exc)
        return error_response(503, "索引不可用，请先运行 reply-archive index 建立索引")

    @app.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError):
        log.error("archive error: %s", exc)
        return error_response(500, "档案记录读取失败")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        # A view's own abort(404, "…") says more than the generic message; Werkzeug's
        # default English description says less.
        custom = exc.description if exc.description != type(exc).description else None
        return error_response(status, custom or _MESSAGES.get(status, "出错了"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, _MESSAGES[500])
