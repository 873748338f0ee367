"""The JSON API: the same search and records as the pages, as data."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify, request

from reply_archive.archive.store import find_reply
from reply_archive.indexer.errors import QueryError
from reply_archive.indexer.search import Hit, export as export_hits, similar as similar_hits, statistics

from .params import external_url, filters_from_request, search_from_request

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
            "took_ms": results.took_ms,
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
    """Return every hit of a search (no cap) as JSON Lines, CSV (UTF-8 with BOM) or RIS."""
    fmt = request.args.get("format", "jsonl")
    if fmt not in _FORMATS:
        raise QueryError("format", f"must be one of {', '.join(_FORMATS)}")
    hits = export_hits(
        current_app.config["INDEX_DIR"],
        request.args.get("q", ""),
        filters=filters_from_request(),
        sort=request.args.get("sort", "relevance"),
    )
    rows = [_export_row(hit) for hit in hits]
    writer, mimetype = _FORMATS[fmt]
    return _download(writer(rows, EXPORT_COLUMNS), mimetype, f"replies.{fmt}")


def _download(body: Iterable[str], mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


def _export_row(hit: Hit) -> dict:
    row = asdict(hit)
    del row["snippets"], row["score"]
    row["url"] = external_url("pages.reply", reply_id=hit.id)
    return row


def _jsonl(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    for row in rows:
        yield json.dumps({k: row.get(k) for k in columns}, ensure_ascii=False) + "\n"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV
# injection); a leading apostrophe makes it text, as typed text would be.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Return a value as a CSV cell: lists joined with 、, text that a spreadsheet would
    run as a formula made inert."""
    if isinstance(value, (list, tuple)):
        value = "、".join(map(str, value))
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    # The byte-order mark makes Excel open the file as UTF-8 rather than the locale's GBK.
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in map(row.get, columns)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# A line break inside a value would start a tag of its own (ER  - ends a record): every
# kind is flattened to a space, so a title cannot forge records.
_RIS_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")


def _ris(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    """Write RIS records (type GOVDOC) for reference managers such as Zotero and EndNote."""
    for row in rows:
        lines = [("TY", "GOVDOC"), ("TI", row["title"]), ("AU", row.get("department") or "")]
        if row.get("proposal_title"):
            lines.append(("T2", row["proposal_title"]))
        if row.get("date"):
            lines.append(("DA", row["date"].replace("-", "/")))
        if row.get("year"):
            lines.append(("PY", str(row["year"])))
        if row.get("proposal_numbers"):
            lines.append(("M1", "、".join(row["proposal_numbers"])))
        if row.get("session_label"):
            lines.append(("N1", f"届次：{row['session_label']}"))
        lines += [("UR", row["url"]), ("ID", row["id"]), ("LA", "zh-CN"), ("ER", "")]
        yield "".join(f"{tag}  - {_RIS_BREAK.sub(' ', value)}\r\n" for tag, value in lines if value or tag == "ER")


_FORMATS = {
    "jsonl": (_jsonl, "application/x-ndjson"),
    "csv": (_csv, "text/csv"),
    "ris": (_ris, "application/x-research-info-systems"),
}


@bp.get("/stats")
def stats():
    """Return the statistics of a search; ``chart=`` and ``format=csv`` give one table."""
    data = statistics(
        current_app.config["INDEX_DIR"], request.args.get("q", ""), filters=filters_from_request()
    )
    tables = {
        "year": (("year", "count"), data.by_year),
        "department": (("department", "count"), data.by_department),
        "topic": (("topic", "count"), data.by_topic),
        "results": (
            ("department", "A", "B", "C", "D", "unmarked"),
            [(name, *(dict(parts).get(c, 0) for c in ("A", "B", "C", "D", ""))) for name, parts in data.results_by_department],
        ),
    }
    fmt, chart = request.args.get("format", "json"), request.args.get("chart")
    if fmt == "json" and chart is None:
        return jsonify({"ok": True, "total": data.total, **{k: [list(r) for r in rows] for k, (_, rows) in tables.items()}})
    if chart not in tables:
        raise QueryError("chart", f"must be one of {', '.join(tables)}")
    if fmt != "csv":
        raise QueryError("format", "must be json (all charts) or csv (one chart)")
    header, rows = tables[chart]
    return _download(_csv([dict(zip(header, r)) for r in rows], header), "text/csv", f"stats-{chart}.csv")
