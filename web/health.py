"""The health check a supervisor, monitor or load balancer asks: ``GET /healthz``.

It searches nothing and reads no record: it follows the index's ``current`` link, reads
what the build kept of the archive it was built from, and compares that with the
record files' sizes and modification times (one ``stat`` each).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify

from reply_archive.archive.store import snapshot
from reply_archive.indexer.errors import IndexerError
from reply_archive.indexer.sync import is_stale

from . import reply_index

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Say whether the index is there and built from the archive as it is now (200), or not (503).

    ``status`` is ``ok``; ``stale`` when the archive changed since the build (records
    added, edited, removed or unreadable) or the index format, dictionary or alias
    table did (``reply-archive index`` brings it up to date; a stale index still
    serves); or ``unavailable`` when there is no index.
    """
    records = snapshot(Path(current_app.config["ARCHIVE_DIR"]))
    try:
        generation: str | None = reply_index().generation_id()
    except IndexerError:
        generation = None
    info = reply_index().info() if generation else None
    if generation is None:
        status = "unavailable"
    else:
        status = "stale" if is_stale(info, records) else "ok"
    response = jsonify({
        "ok": status == "ok",
        "status": status,
        "generation": generation,
        "replies": len(info.get("records", {})) if info else None,
        "records": len(records),
    })
    response.status_code = 200 if status == "ok" else 503
    response.headers["Cache-Control"] = "no-store"  # a health check is never answered from a cache
    return response
