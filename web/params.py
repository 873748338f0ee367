"""Read a search request's parameters and build the URLs that change them.

Every state of a search (query, filters, sort, page, page size) lives in the URL, so a
result page can be shared, bookmarked and reached again with the back button.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from werkzeug.datastructures import MultiDict

from indexer.schema import FACET_NAMES
from indexer.search import SearchResults, search

_STATE_KEYS = ("q", "sort", "per_page", *FACET_NAMES)


def filters_from_request() -> dict[str, list[str]]:
    """Return the facet selections of the current request."""
    return {name: request.args.getlist(name) for name in FACET_NAMES if request.args.getlist(name)}


def search_from_request() -> SearchResults:
    """Run the search the current request's query string describes."""
    args = request.args
    return search(
        current_app.config["INDEX_DIR"],
        args.get("q", ""),
        filters=filters_from_request(),
        page=args.get("page", 1),
        per_page=args.get("per_page", current_app.config["PER_PAGE"]),
        sort=args.get("sort", "relevance"),
    )


def _state() -> MultiDict:
    return MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in _STATE_KEYS and v])


def search_url(args: MultiDict) -> str:
    """Return the search page URL for the given arguments."""
    return url_for("pages.search", **args.to_dict(flat=False))


def toggle_url(facet: str, value: str) -> str:
    """Return the URL that selects or deselects a facet value (back to page 1)."""
    args = _state()
    values = args.getlist(facet)
    args.setlist(facet, [v for v in values if v != value] if value in values else [*values, value])
    return search_url(args)


def clear_url() -> str:
    """Return the URL that keeps the query and drops every filter."""
    args = _state()
    for name in FACET_NAMES:
        args.poplist(name)
    return search_url(args)


def page_url(page: int) -> str:
    """Return the URL of another page of the same search."""
    args = _state()
    if page > 1:
        args["page"] = str(page)
    return search_url(args)


def with_args(**changes: str) -> str:
    """Return the URL of the same search with some arguments replaced (back to page 1)."""
    args = _state()
    for key, value in changes.items():
        args[key] = value
    return search_url(args)


def export_url(fmt: str) -> str:
    """Return the URL exporting every hit of the current search in ``fmt``."""
    args = _state()
    args.poplist("per_page")
    args["format"] = fmt
    return url_for("api.export", **args.to_dict(flat=False))
