"""The JSON API: the same data as the pages, each resource in one shape (``to_dict``)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from reply_archive.archive.store import find_reply
from reply_archive.indexer.errors import QueryError
from reply_archive.indexer.results import Hit

from . import reply_index
from .formats import EXPORT_COLUMNS, FORMATS, csv_rows, download
from .params import (
    commitments_from_request,
    external_url,
    filters_from_request,
    search_from_request,
    statistics_from_request,
)

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search():
    """Return one page of hits with facet counts."""
    return jsonify({"ok": True, **search_from_request().to_dict()})


@bp.get("/replies/<reply_id>")
def reply(reply_id: str):
    """Return one full record, with the field names of the archive."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    return jsonify({"ok": True, "reply": record.to_dict()})


@bp.get("/replies/<reply_id>/similar")
def similar(reply_id: str):
    """Return the replies most like this one, boilerplate of the genre ignored."""
    find_reply(current_app.config["ARCHIVE_DIR"], reply_id)  # 404 for an unknown id
    hits = reply_index().similar(reply_id, limit=_limit())
    return jsonify({"ok": True, "id": reply_id, "hits": [h.to_dict() for h in hits]})


def _limit() -> int:
    try:
        limit = int(request.args.get("limit", 5))
    except ValueError:
        raise QueryError("limit", "must be a whole number") from None
    if not 1 <= limit <= 50:
        raise QueryError("limit", "must be between 1 and 50")
    return limit


@bp.get("/commitments")
def commitments():
    """Return one page of the replies of a search that make commitments, newest first."""
    return jsonify({"ok": True, **commitments_from_request().to_dict()})


@bp.get("/export")
def export():
    """Return every hit of a search (no cap) as JSON Lines, CSV (UTF-8 with BOM) or RIS."""
    fmt = request.args.get("format", "jsonl")
    if fmt not in FORMATS:
        raise QueryError("format", f"must be one of {', '.join(FORMATS)}")
    hits = reply_index().export(
        request.args.get("q", ""), filters=filters_from_request(), sort=request.args.get("sort", "relevance")
    )
    writer, mimetype = FORMATS[fmt]
    return download(writer([_export_row(hit) for hit in hits], EXPORT_COLUMNS), mimetype, f"replies.{fmt}")


def _export_row(hit: Hit) -> dict:
    return {**hit.fields(), "url": external_url("pages.reply", reply_id=hit.id)}


@bp.get("/stats")
def stats():
    """Return the statistics of a search; ``chart=`` and ``format=csv`` give one table."""
    data = statistics_from_request()
    fmt, chart = request.args.get("format", "json"), request.args.get("chart")
    if fmt == "json" and chart is None:
        return jsonify({"ok": True, **data.to_dict()})
    tables = data.tables()
    if chart not in tables:
        raise QueryError("chart", f"must be one of {', '.join(tables)}")
    if fmt != "csv":
        raise QueryError("format", "must be json (all charts) or csv (one chart)")
    header, rows = tables[chart]
    return download(
        csv_rows([dict(zip(header, r, strict=True)) for r in rows], header), "text/csv", f"stats-{chart}.csv"
    )
