"""The health check a supervisor, monitor or load balancer asks: ``GET /healthz``.

It searches nothing and reads no record: it follows the index's ``current`` link, reads
what the build kept of the archive it was built from, and compares that with the
record files' sizes and modification times (one ``stat`` each).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify

from reply_archive.archive.store import snapshot
from reply_archive.indexer.build import index_info
from reply_archive.indexer.errors import IndexerError
from reply_archive.indexer.sync import settings_digest

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
    info = index_info(Path(current_app.config["INDEX_DIR"])) if generation else None
    # What the build kept: each record file's stamp and the id it holds (indexer.sync).
    built_from = {name: stamp for name, (stamp, _) in info.get("records", {}).items()} if info else None
    if generation is None:
        status = "unavailable"
    elif info is None or info.get("settings") != settings_digest() or built_from != records:
        status = "stale"
    else:
        status = "ok"
    response = jsonify({
        "ok": status == "ok",
        "status": status,
        "generation": generation,
        "replies": None if built_from is None else len(built_from),
        "records": len(records),
    })
    response.status_code = 200 if status == "ok" else 503
    response.headers["Cache-Control"] = "no-store"  # a health check is never answered from a cache
    return response
