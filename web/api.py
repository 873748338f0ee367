"""The JSON API: the same search and records as the pages, as data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from archive.store import find_reply
from indexer.errors import QueryError
from indexer.search import Hit, export as export_hits, similar as similar_hits

from .params import filters_from_request, search_from_request

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search():
    """Return one page of hits with facet counts."""
    results = search_from_request()
    return jsonify(
        {
            "ok": True,
            "q": results.q,
            "total": results.total,
            "page": results.page,
            "per_page": results.per_page,
            "sort": results.sort,
            "hits": [asdict(hit) for hit in results.hits],
            "facets": {f.name: [asdict(v) for v in f.values] for f in results.facets},
            "query": asdict(results.query),
        }
    )


@bp.get("/replies/<reply_id>")
def reply(reply_id: str):
    """Return one full record, with the field names of the archive."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    return jsonify({"ok": True, "reply": record.to_dict()})


@bp.get("/replies/<reply_id>/similar")
def similar(reply_id: str):
    """Return the replies most like this one, boilerplate of the genre ignored."""
    find_reply(current_app.config["ARCHIVE_DIR"], reply_id)  # 404 for an unknown id
    hits = similar_hits(current_app.config["INDEX_DIR"], reply_id, limit=_limit())
    return jsonify({"ok": True, "id": reply_id, "hits": [asdict(h) for h in hits]})


def _limit() -> int:
    try:
        limit = int(request.args.get("limit", 5))
    except ValueError:
        raise QueryError("limit", "must be a whole number") from None
    if not 1 <= limit <= 50:
        raise QueryError("limit", "must be between 1 and 50")
    return limit


# Columns of the CSV export, in order; lists are joined with 、.
EXPORT_COLUMNS = ("id", "title", "proposal_title", "proposal_numbers", "session_label", "year", "date",
                  "department", "department_role", "doc_kind", "proposers", "topic", "result_category",
                  "sample", "url")


@bp.get("/export")
def export():
    """Return every hit of a search (no cap) as JSON Lines or CSV (UTF-8 with BOM)."""
    fmt = request.args.get("format", "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise QueryError("format", "must be jsonl or csv")
    hits = export_hits(
        current_app.config["INDEX_DIR"],
        request.args.get("q", ""),
        filters=filters_from_request(),
        sort=request.args.get("sort", "relevance"),
    )
    rows = [_export_row(hit) for hit in hits]
    body = _csv(rows) if fmt == "csv" else _jsonl(rows)
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=replies.{fmt}"},
    )


def _export_row(hit: Hit) -> dict:
    row = asdict(hit)
    del row["snippets"], row["score"]
    row["url"] = url_for("pages.reply", reply_id=hit.id, _external=True)
    return row


def _jsonl(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv(rows: Iterable[dict]) -> Iterator[str]:
    # The byte-order mark makes Excel open the file as UTF-8 rather than the locale's GBK.
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(["、".join(v) if isinstance(v, (list, tuple)) else ("" if v is None else v) for v in map(row.get, EXPORT_COLUMNS)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
