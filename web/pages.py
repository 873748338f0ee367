"""The HTML pages: home, search, facet lists, statistics, commitments, precedents, a reply
and the page images of a scanned one, help."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, send_file

from reply_archive.archive import page_images
from reply_archive.archive.errors import ReplyNotFound
from reply_archive.archive.model import REVIEW_KINDS, Reply, review_kind
from reply_archive.archive.store import find_reply, record_path, source_path
from reply_archive.indexer.analysis import fold
from reply_archive.indexer.errors import ClusterError, QueryError, UnknownReply
from reply_archive.indexer.precedents import MAX_PASTE_CHARS, Precedents, Reuse
from reply_archive.indexer.query import MAX_QUERY_CHARS, MAX_WITHIN
from reply_archive.indexer.results import Hit
from reply_archive.indexer.schema import FACET_NAMES
from reply_archive.indexer.search import SORTS, needles

from . import params, reply_index, request_deadline
from .formats import TABLE_FORMATS
from .render import citation, labels, metadata_rows, reply_html, value_label, warning_text

bp = Blueprint("pages", __name__)

SIDEBAR_VALUES = 8  # facet values shown before "more"
# The facets a drafter narrows precedents by: whose wording, which years, on what, which channel.
PRECEDENT_FACETS = ("department", "year", "topic", "channel")


@bp.app_context_processor
def helpers():
    """Make URL builders and display labels available to every template."""
    return {
        "toggle_url": params.toggle_url,
        "clear_url": params.clear_url,
        "page_url": params.page_url,
        "with_args": params.with_args,
        "query_read": params.query_read,
        "reply_url": params.reply_url,
        "kept_state": params.kept_state,
        "within_words": params.within_words,
        "without_url": params.without_url,
        "year_chart": params.year_chart,
        "export_url": params.export_url,
        "facet_url": params.facet_url,
        "labels": labels(),
        "facet_label": value_label,
        "warning_text": warning_text,
        "sidebar_values": SIDEBAR_VALUES,
        "sorts": SORTS,
        # The longest query the index reads: a longer paste goes to 查找先例 (app.js), or
        # is cut in the box, in sight, without scripts; its URL stays within what the
        # server accepts.
        "max_query_chars": MAX_QUERY_CHARS,
        "max_paste_chars": MAX_PASTE_CHARS,
        "max_within": MAX_WITHIN,  # searches within the results one search may add (help)
        "precedent_facets": PRECEDENT_FACETS,
    }


@bp.before_request
def canonical_year_range():
    """Turn the year range form's two fields into the shared form year=2019-2022."""
    target = params.year_range_target()
    if target is not None:
        return redirect(target)
    return None


@bp.get("/")
def index():
    """Show the search box and ways into the archive by facet."""
    overview = reply_index().search("", per_page=1, deadline=request_deadline())
    return render_template("index.html", overview=overview)


@bp.get("/search")
def search():
    """Show a page of results with the facet sidebar."""
    return render_template("search.html", results=params.search_from_request())


@bp.get("/facets/<name>")
def facet(name: str):
    """List every value of one facet for the current search, with a filter box."""
    if name not in FACET_NAMES:
        abort(404)
    results = params.search_from_request(per_page=1, page=1)
    values = next(f for f in results.facets if f.name == name).values
    wanted = fold(request.args.get("fq", ""))
    shown = [v for v in values if wanted in fold(v.value) or wanted in fold(value_label(name, v.value))]
    return render_template("facet.html", results=results, name=name, values=shown, total_values=len(values))


@bp.get("/stats")
def stats():
    """Chart the replies a search selects: by year, department, topic and result."""
    results = params.search_from_request(per_page=1, page=1)
    return render_template("stats.html", results=results, stats=params.statistics_from_request())


@bp.get("/commitments")
def commitments():
    """List the promises (下一步…) of the replies a search selects that are about its
    words, each linked to its paragraph, with possible follow-ups."""
    results = params.search_from_request(per_page=1, page=1)
    found = params.commitments_from_request()
    return render_template(
        "commitments.html",
        results=results,
        ledger=found,
        page=found.page,
        pages=found.pages,
        exports=TABLE_FORMATS,
        passage_url=_passage_url,
    )


def _passage_url(reply_id: str, passage: int | None) -> str:
    """Return the URL of a reply opened from the current search, at the paragraph
    ``passage`` when there is one (the reply page marks the search's words)."""
    anchor = {"_anchor": f"p-{passage}"} if passage is not None else {}
    return params.state_url(params.state(), "pages.reply", reply_id=reply_id, **anchor)


@bp.get("/review")
def review():
    """List the replies of a search that need a person's eye (待核对), with what to check
    and which record file to edit; every kind of flag when none is selected."""
    filters = params.filters_from_request()
    sort = request.args.get("sort", "newest")
    results = params.search_from_request(sort=sort)
    flagged = results if "review" in filters else params.search_from_request(
        filters={**filters, "review": list(REVIEW_KINDS)}, sort=sort
    )
    archive = current_app.config["ARCHIVE_DIR"]
    entries = [(hit, _record(archive, hit.id), record_path(archive, hit.id)) for hit in flagged.hits]
    return render_template("review.html", results=results, flagged=flagged, entries=entries, review_kind=review_kind,
                           scan_pages=page_images.scan_pages)


@bp.route("/precedents", methods=["GET", "POST"])
def precedents():
    """Find the earlier passages that say what a pasted text says (查找先例): the form on a
    GET, the form and each pasted paragraph's passages on a POST.

    The text travels in the body of a POST, never in a URL: the page links to nothing
    that repeats it. A post changes nothing and the app keeps no session, so the form
    needs no token against forgery: another site may post to it, but cannot read the
    answer (no CORS for pages) nor frame it (``frame-ancestors 'none'``).
    """
    fields = params.request_fields()
    # The form's facet values, counted as the search page counts them; bad selections are refused here.
    overview = reply_index().search("", filters=params.filters_from(fields), per_page=1, deadline=request_deadline())
    found, error = None, None
    if request.method == "POST":
        try:
            found = params.precedents_from(fields)
        except QueryError as exc:  # the pasted text is shown again, to be shortened
            error = exc.message
    return render_template(
        "precedents.html",
        text=params.pasted_text(fields),
        facets=[f for f in overview.facets if f.name in PRECEDENT_FACETS and f.values],
        found=found,
        error=error,
        citations=_citations(found) if found else {},
        # A text too long for the search box was sent here by app.js: the page says so.
        from_search=fields.get("from") == "search",
    ), 400 if error else 200


def _citations(found: Precedents) -> dict[str, str]:
    """Return the citation of each reply the passages stand in, by id (reply.html's, for
    its paragraphs); a reply the archive no longer holds has none."""
    archive = current_app.config["ARCHIVE_DIR"]
    ids = dict.fromkeys(p.hit.id for piece in found.pieces for p in piece.passages)
    records = ((reply_id, _record(archive, reply_id)) for reply_id in ids)
    return {
        reply_id: citation(record, params.external_url("pages.reply", reply_id=reply_id))
        for reply_id, record in records
        if record is not None
    }


def _record(archive: str, reply_id: str) -> Reply | None:
    """Return the archive's record, or None when the index still lists a removed one."""
    try:
        return find_reply(Path(archive), reply_id)
    except ReplyNotFound:
        return None


@bp.get("/replies/<reply_id>")
def reply(reply_id: str):
    """Show one reply: metadata, contents, the typeset text and related replies."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    q = request.args.get("q", "")
    within = params.within_words()
    at = params.position()
    previous, following = params.neighbours(at) if at is not None else (None, None)
    # The words of the query and of each search within its results are marked alike.
    marked = tuple(dict.fromkeys(needle for text in (q, *within) if text for needle in needles(text)))
    body, matches = reply_html(record, marked)
    permalink = params.external_url("pages.reply", reply_id=record.id)
    return render_template(
        "reply.html",
        reply=record,
        body=body,
        matches=matches,
        q=q,
        within=within,
        from_search=at is not None or bool(q or within),
        results_url=params.results_url(at),
        previous=previous,
        following=following,
        rows=metadata_rows(record),
        citation=citation(record, permalink),
        same_proposal=_same_proposal(record),
        earlier=_earlier(record),
        similar=_similar(record),
        reuse=_reuse(record),
        has_source=source_path(current_app.config["ARCHIVE_DIR"], record) is not None,
        scan_pages=page_images.scan_pages(record),
        ocr_engine=page_images.ocr_engine(record),
    )


def _same_proposal(record: Reply) -> tuple[Hit, ...]:
    """Return the other replies to the same proposal numbers (主办 and 会办 together)."""
    return reply_index().same_proposal(
        record.proposal_numbers, session=record.qualified_session, exclude=record.id, deadline=request_deadline()
    )


def _earlier(record: Reply, limit: int = 5) -> tuple[Hit, ...]:
    """Return the same department's earlier replies on the same topic, newest first."""
    if not (record.department and record.topic and record.date):
        return ()
    filters = {"department": [record.department], "topic": [record.topic]}
    return reply_index().preceding(filters=filters, before=record.date, limit=limit, deadline=request_deadline())


def _similar(record: Reply) -> tuple[Hit, ...]:
    try:
        return reply_index().similar(record.id, deadline=request_deadline())
    except UnknownReply:
        return ()  # a record newer than the index: nothing to compare with yet


def _reuse(record: Reply) -> Reuse | None:
    """Return the paragraphs of the reply that earlier replies said already, or None when
    that cannot be told now: the page is shown without them."""
    try:
        return reply_index().reuse(record.id, deadline=request_deadline())
    except (UnknownReply, ClusterError):  # a record newer than the index; a cluster not answering
        return None


@bp.get("/replies/<reply_id>/source")
def source(reply_id: str):
    """Send the original source file of a reply, as a download (never rendered)."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    path = source_path(current_app.config["ARCHIVE_DIR"], record)
    if path is None or record.source is None:  # a record without a source has no path
        abort(404, "这件答复没有保存原始文件")
    # A hand-edited source name may hold a line break, which no header can carry.
    name = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", "_", PurePosixPath(record.source.file).name) or "source"
    return send_file(path, as_attachment=True, download_name=name)


# Page images change only with their source (named by its digest in the ETag): a
# browser keeps them a day, then asks again and gets a 304.
PAGE_IMAGE_MAX_AGE = 86400


@bp.get("/replies/<reply_id>/pages/<int:number>")
def page_image(reply_id: str, number: int):
    """Send page ``number`` of a scanned reply as an image (PNG, or JPEG when much smaller)."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    try:
        kept = page_images.locate(current_app.config["ARCHIVE_DIR"], record, number)
        # The browser's copy is current: a 304, and nothing rendered.
        image = None if kept.etag in request.if_none_match else page_images.render(kept)
    except page_images.PageImageError as exc:
        abort(*_page_image_error(exc))
    if image is None:
        response = Response(status=304)
    else:
        response = Response(image.data, mimetype=image.mimetype)
        extension = "jpg" if image.mimetype == "image/jpeg" else "png"
        response.headers["Content-Disposition"] = f'inline; filename="{record.id}-page-{number}.{extension}"'
    response.set_etag(kept.etag)
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_IMAGE_MAX_AGE
    return response


def _page_image_error(exc: page_images.PageImageError) -> tuple[int, str]:
    """Return the status and the reader's message for a page image that cannot be shown."""
    if isinstance(exc, page_images.PageOutOfRange):
        return 404, f"没有第 {exc.page} 页：这件答复的扫描件共 {exc.pages} 页"
    if isinstance(exc, page_images.NotAScan):
        return 404, "这件答复不是由扫描件识别（OCR）得到的，没有页面图像"
    if isinstance(exc, page_images.SourceMissing):
        return 404, "档案中没有保存这件答复的原始扫描件，无法显示页面图像"
    if isinstance(exc, page_images.RendererMissing):
        return 501, "服务器未安装 pypdfium2，无法显示 PDF 扫描件的页面图像：pip install 'reply-archive[ocr]'"
    return 404, "档案中保存的原始扫描件已损坏，无法显示这一页"


@bp.get("/help")
def help():
    """Explain the query syntax."""
    return render_template("help.html")
