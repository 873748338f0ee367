"""The one place that maps errors to responses: JSON under /api, a page elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from reply_archive.archive.errors import ArchiveError, ReplyNotFound
from reply_archive.indexer.errors import (
    ClusterError,
    IndexBusy,
    IndexerError,
    IndexMissing,
    IndexStale,
    QueryError,
    UnknownReply,
)

log = logging.getLogger(__name__)

_MESSAGES = {
    400: "请求参数有误",
    404: "页面不存在",
    405: "不支持该请求方法",
    409: "请求冲突",
    413: "请求内容过大",
    500: "服务器内部错误",
    503: "检索服务暂不可用",
}

_BUSY_RETRY_SECONDS = 30  # a hint only: an update takes seconds, a full rebuild of a large archive minutes


def error_response(
    status: int, message: str, *, parameter: str | None = None, headers: Mapping[str, str] | None = None
):
    """Return ``{"ok": false, "error", "status", "parameter"}`` under /api, the error page elsewhere.

    :param parameter: the query parameter at fault, for a 400 about one (else null).
    :param headers: sent with the error: ``Retry-After`` on a 409, ``Allow`` on a 405.
    """
    sent = dict(headers or {})
    if request.path.startswith("/api/"):
        return jsonify({"ok": False, "error": message, "status": status, "parameter": parameter}), status, sent
    title = _MESSAGES.get(status, "出错了")
    return render_template("error.html", status=status, title=title, message=message), status, sent


def register_error_handlers(app: Flask) -> None:
    """Register the app-level handlers (so routing 404s under /api get JSON too)."""

    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError):
        return error_response(400, f"参数 {exc.parameter} 无效：{exc.message}", parameter=exc.parameter)

    @app.errorhandler(ReplyNotFound)
    @app.errorhandler(UnknownReply)
    def missing_reply(exc: ReplyNotFound | UnknownReply):
        return error_response(404, f"没有编号为 {exc.reply_id} 的答复")

    @app.errorhandler(IndexMissing)
    def no_index(exc: IndexMissing):
        log.error("index unavailable: %s", exc)
        return error_response(503, "索引不可用，请先运行 reply-archive index 建立索引")

    @app.errorhandler(IndexStale)
    def stale_index(exc: IndexStale):
        log.error("index of another format: %s", exc)
        return error_response(503, "索引由其他版本建立，无法读取，请运行 reply-archive index --rebuild 重建索引")

    @app.errorhandler(IndexBusy)
    def busy_index(exc: IndexBusy):
        return error_response(409, "索引正在重建，请稍后再试", headers={"Retry-After": str(_BUSY_RETRY_SECONDS)})

    @app.errorhandler(ClusterError)
    def cluster_error(exc: ClusterError):
        log.error("search cluster unavailable: %s", exc)
        return error_response(503, "检索集群暂时无法应答，请稍后再试", headers={"Retry-After": "5"})

    @app.errorhandler(IndexerError)
    def index_error(exc: IndexerError):
        log.error("index unavailable: %s", exc)
        return error_response(503, _MESSAGES[503])

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
        # The exception's own headers say what the status needs: Allow on a 405 (RFC 9110).
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        return error_response(status, custom or _MESSAGES.get(status, "出错了"), headers=headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, _MESSAGES[500])
