"""The JSON API: the same search and records as the pages, as data."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, current_app, jsonify

from archive.store import find_reply

from .params import search_from_request

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
