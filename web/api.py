"""The JSON API: the same data as the pages, each resource in one shape (``to_dict``).

Its conventions, for scripts and notebooks: a view reads a known set of query
parameters (``params.API_PARAMETERS``) and refuses any other (a 400 naming it, where
the pages ignore it), paged
resources carry their ``links`` in the body and in an RFC 8288 ``Link`` header, errors
are JSON (``errors.py``), ``CORS_ORIGINS`` lets scripts of other origins read it, and
``openapi.json`` beside this file describes all of it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from reply_archive.archive.page_images import scan_pages
from reply_archive.archive.store import find_reply, source_path
from reply_archive.indexer.errors import QueryError
from reply_archive.indexer.results import Hit

from . import reply_index, request_deadline
from .formats import (
    EXPORT_COLUMNS,
    FORMATS,
    TABLE_FORMATS,
    column_label,
    download_name,
    hit_row,
    name_part,
    send,
)
from .params import (
    API_PARAMETERS,
    REPEATED,
    commitment_ledger_from_request,
    commitments_from_request,
    external_url,
    filters_from_request,
    page_links,
    precedents_from,
    request_fields,
    search_from_request,
    statistics_from_request,
    within_from_request,
    within_words,
)
from .render import citation

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def refuse_unknown_parameters() -> None:
    """Refuse a parameter the view does not read (``API_PARAMETERS``), and a second value
    of one it reads once.

    Ignored, a misspelt parameter (``?yaer=2022``) would answer a different question
    than the one asked, with a 200.
    """
    _refuse_unknown(request.args)


def _refuse_unknown(fields: MultiDict) -> None:
    """Refuse a field the view does not read, and a second value of one it reads once."""
    accepted = API_PARAMETERS.get(request.endpoint or "", ())
    for name in fields:
        if name not in accepted:
            raise QueryError(name, f"不是该接口的参数；可用的参数：{'、'.join(accepted) or '无'}")
        if name not in REPEATED and len(fields.getlist(name)) > 1:
            raise QueryError(name, "只能出现一次（只有分面和 within 可以取多个值）")


@bp.after_app_request
def allow_origins(response: Response) -> Response:
    """Let scripts of the origins in ``CORS_ORIGINS`` read /api responses (off when it is empty)."""
    allowed = _cors_origins()
    if not allowed or not request.path.startswith("/api/"):
        return response
    anyone = "*" in allowed
    if not anyone:
        response.vary.add("Origin")  # the answer depends on who asks: caches must keep them apart
    origin = request.headers.get("Origin", "")
    if anyone or origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*" if anyone else origin
        response.headers["Access-Control-Expose-Headers"] = "Link, Retry-After"
        if request.method == "OPTIONS":  # a preflight: a JSON body needs its Content-Type allowed
            response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "")
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _cors_origins() -> set[str]:
    """Return the configured origins: a comma-separated string or a list, ``*`` for any."""
    setting = current_app.config.get("CORS_ORIGINS") or ()
    origins = setting.split(",") if isinstance(setting, str) else setting
    return {origin.strip().rstrip("/") for origin in origins if origin.strip()}


def _paged(body: dict[str, Any]) -> Response:
    """Return a paged resource with its links: in the body and as a ``Link`` header."""
    links = page_links(body["page"], body["pages"])
    response = jsonify({"ok": True, **body, "links": links})
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)
    return response


@bp.get("/search")
def search():
    """Return one page of hits with facet counts, and the searches within the results
    that narrowed them (``within``) beside the query."""
    return _paged({**search_from_request().to_dict(), "within": within_words()})


@bp.get("/replies/<reply_id>")
def reply(reply_id: str):
    """Return one full record, with the field names of the archive, and the URLs of its
    page images when it was read from a scan the archive keeps."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    kept = source_path(current_app.config["ARCHIVE_DIR"], record) is not None
    images = [external_url("pages.page_image", reply_id=record.id, number=page.number)
              for page in scan_pages(record)] if kept else []
    return jsonify({"ok": True, "reply": record.to_dict(), "page_images": images})


@bp.get("/replies/<reply_id>/similar")
def similar(reply_id: str):
    """Return the replies most like this one, boilerplate of the genre ignored."""
    find_reply(current_app.config["ARCHIVE_DIR"], reply_id)  # 404 for an unknown id
    hits = reply_index().similar(reply_id, limit=_limit(), deadline=request_deadline())
    return jsonify({"ok": True, "id": reply_id, "hits": [h.to_dict() for h in hits]})


@bp.get("/replies/<reply_id>/cite")
def cite(reply_id: str):
    """Return one reply's citation: GB/T 7714-2015 as text (``gbt``), or a file for a
    reference manager, RIS (EndNote, NoteExpress and Zotero import it) or BibTeX."""
    fmt = _format(("gbt", "ris", "bibtex"), "gbt")
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    permalink = external_url("pages.reply", reply_id=record.id)
    if fmt == "gbt":
        return Response(citation(record, permalink) + "\n", mimetype="text/plain")
    hit = Hit.from_display({**record.to_dict(), "qualified_session": record.qualified_session})
    return send(fmt, [hit_row(hit, permalink)], EXPORT_COLUMNS, name_part(record.title))


@bp.route("/precedents", methods=["GET", "POST"])
def precedents():
    """Return the earlier passages that say what a text says, paragraph by paragraph.

    POST takes the text in a JSON object or a form, up to MAX_PASTE_CHARS characters;
    GET, in the query string, only as much as a URL holds.
    """
    fields = request_fields()
    _refuse_unknown(fields)
    return jsonify(precedents_from(fields).to_dict())


def _limit() -> int:
    try:
        limit = int(request.args.get("limit", 5))
    except ValueError:
        raise QueryError("limit", "应为整数") from None
    if not 1 <= limit <= 50:
        raise QueryError("limit", "应为 1 到 50 之间的整数")
    return limit


# Columns of a commitments export: one row per promise, linked to its paragraph.
COMMITMENT_COLUMNS = ("id", "title", "department", "date", "text", "cue", "target_year", "status", "url")


@bp.get("/commitments")
def commitments():
    """Return one page of the commitments ledger (JSON), or every promise of it as a
    download in one of the export formats (``format=``)."""
    fmt = _format(("json", *FORMATS), "json")
    if fmt == "json":
        return _paged(commitments_from_request().to_dict())
    rows = [
        {
            **{name: getattr(entry.hit, name) for name in ("id", "title", "department", "date")},
            **{name: getattr(item, name) for name in ("text", "cue", "target_year", "status")},
            "url": _passage_url(entry.hit.id, item.passage),
        }
        for entry in commitment_ledger_from_request()
        for item in entry.commitments
    ]
    name = download_name("承诺事项", request.args.get("q", ""), filters_from_request())
    return send(fmt, rows, COMMITMENT_COLUMNS, name)


def _passage_url(reply_id: str, passage: int | None) -> str:
    """Return the absolute URL of a reply, at the paragraph ``passage`` when there is one."""
    anchor = {"_anchor": f"p-{passage}"} if passage is not None else {}
    return external_url("pages.reply", reply_id=reply_id, **anchor)


@bp.get("/export")
def export():
    """Return every hit of a search (no cap) in one of the export formats, in a file
    named after the search (答复检索_养老_2023_2024-05-01.xlsx)."""
    fmt = _format(FORMATS, "jsonl")
    q, filters = request.args.get("q", ""), filters_from_request()
    hits = reply_index().export(
        q,
        filters=filters,
        sort=request.args.get("sort", "relevance"),
        within=within_from_request(),
        deadline=request_deadline(),
    )
    return send(fmt, [_export_row(hit) for hit in hits], EXPORT_COLUMNS, download_name("答复检索", q, filters))


def _format(formats: Collection[str], default: str) -> str:
    """Return the ``format`` the request asks for, one of ``formats``."""
    fmt = request.args.get("format", default)
    if fmt not in formats:
        raise QueryError("format", f"应为以下之一：{'、'.join(formats)}")
    return fmt


def _export_row(hit: Hit) -> dict:
    return hit_row(hit, external_url("pages.reply", reply_id=hit.id))


@bp.get("/stats")
def stats():
    """Return the statistics of a search; ``chart=`` and ``format=csv`` give one table."""
    data = statistics_from_request()
    fmt, chart = request.args.get("format", "json"), request.args.get("chart")
    if fmt == "json" and chart is None:
        return jsonify({"ok": True, **data.to_dict()})
    tables = data.tables()
    if chart not in tables:
        raise QueryError("chart", f"应为以下之一：{'、'.join(tables)}")
    if fmt not in TABLE_FORMATS:
        raise QueryError("format", f"应为 json（全部图表）或 {'、'.join(TABLE_FORMATS)}（单个图表，需同时指定 chart）")
    header, _ = tables[chart]
    rows = [dict(zip(header, r, strict=True)) for r in data.to_dict()[chart]]  # years as numbers, as in JSON
    subject = f"答复统计_{column_label(_CHART_FIELDS.get(chart, chart))}"
    return send(fmt, rows, header, download_name(subject, request.args.get("q", ""), filters_from_request()))


_CHART_FIELDS = {"results": "result_category"}  # the field a chart counts, where its name is not one


@bp.get("/openapi.json")
def openapi():
    """Return the OpenAPI 3.1 document of this API."""
    with bp.open_resource("openapi.json") as document:
        return Response(document.read(), mimetype="application/json")
