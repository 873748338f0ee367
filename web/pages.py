"""The HTML pages: home, search results, a reply, and the search help."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from archive.store import find_reply
from indexer.errors import QueryError
from indexer.search import search as run_search, similar

from . import params
from .render import labels, metadata_rows, reply_html, warning_text

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def helpers():
    """Make URL builders and display labels available to every template."""
    return {
        "toggle_url": params.toggle_url,
        "clear_url": params.clear_url,
        "page_url": params.page_url,
        "with_args": params.with_args,
        "export_url": params.export_url,
        "labels": labels(),
        "warning_text": warning_text,
    }


@bp.get("/")
def index():
    """Show the search box and ways into the archive by facet."""
    overview = run_search(current_app.config["INDEX_DIR"], "", per_page=1)
    return render_template("index.html", overview=overview)


@bp.get("/search")
def search():
    """Show a page of results with the facet sidebar."""
    return render_template("search.html", results=params.search_from_request())


@bp.get("/replies/<reply_id>")
def reply(reply_id: str):
    """Show one reply: metadata panel, contents and the typeset text."""
    record = find_reply(current_app.config["ARCHIVE_DIR"], reply_id)
    try:
        related = similar(current_app.config["INDEX_DIR"], reply_id)
    except QueryError:
        related = ()  # a record newer than the index: nothing to compare with yet
    return render_template(
        "reply.html", reply=record, body=reply_html(record), rows=metadata_rows(record), similar=related
    )


@bp.get("/help")
def help():
    """Explain the query syntax."""
    return render_template("help.html")
