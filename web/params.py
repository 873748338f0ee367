"""Read a search request's parameters and build the URLs that change them.

Every state of a search (query, searches within its results, filters, sort, page, page
size) lives in the URL, so a result page can be shared, bookmarked and reached again
with the back button. The search, statistics and commitments pages share that state:
their links keep the page they are on. A query (``q``, each ``within``) travels in them
only as far as the index reads it
(``MAX_QUERY_CHARS``), so no link is longer than the server takes. A pasted text to
find precedents of (查找先例) is longer than any URL: it travels in a request's body,
never in a link.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, request, url_for
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from reply_archive.indexer.errors import QueryError
from reply_archive.indexer.facets import in_ranges, is_range, ranges
from reply_archive.indexer.precedents import Precedents
from reply_archive.indexer.query import MAX_QUERY_CHARS, MAX_YEAR_SPAN
from reply_archive.indexer.results import CommitmentEntry, CommitmentPage, Facet, SearchResults, Statistics
from reply_archive.indexer.schema import FACET_NAMES

from . import reply_index, request_deadline

_QUERIES = ("q", "within")  # the parameters holding query text
_LEDGER = ("target_year", "status")  # what narrows the commitments ledger to some promises
_STATE_KEYS = (*_QUERIES, "sort", "per_page", *FACET_NAMES, *_LEDGER)
_SELECTING = (*_QUERIES, *FACET_NAMES)  # what every view of a search reads to select its replies
REPEATED = ("within", *FACET_NAMES)  # the parameters a request may give more than once

# The body a precedents request may send: its text of MAX_PASTE_CHARS (5,000) characters
# takes up to 60,000 bytes (12 bytes a character at most, percent-encoded in a form or
# escaped in JSON), facet selections the rest. A larger body is a 413, never read whole.
MAX_BODY_BYTES = 256 * 1024

# The query parameters each API endpoint reads. The API refuses any other (web/api.py),
# so a page's link to it keeps only these of the page's state.
API_PARAMETERS: dict[str, tuple[str, ...]] = {
    "api.search": (*_SELECTING, "sort", "page", "per_page"),
    "api.commitments": (*_SELECTING, *_LEDGER, "page", "per_page", "format"),
    "api.export": (*_SELECTING, "sort", "format"),
    "api.stats": (*_SELECTING, "chart", "format"),
    "api.reply": (),
    "api.cite": ("format",),
    "api.similar": ("limit",),
    "api.precedents": ("text", "limit", *FACET_NAMES),
    "api.openapi": (),
}


def external_url(endpoint: str, **values) -> str:
    """Return the absolute URL of a page, for exports and citations.

    With ``BASE_URL`` configured (``REPLY_ARCHIVE_BASE_URL``: the address users reach the
    archive at), the request's Host header, which any client can set, never shows up in
    what people copy and cite; without it, the request's own host is used.
    """
    base = current_app.config.get("BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, **values, _external=True)


def page_links(page: int, pages: int) -> dict[str, str | None]:
    """Return the absolute URLs of the current request's pages: self, first, prev, next and last.

    A link keeps every parameter of the request and changes ``page``; ``prev`` of a page
    past the last is the last page, and a link that leads nowhere is None.
    """
    endpoint, args = _endpoint(), request.args.copy()

    def at(number: int) -> str:
        args["page"] = str(number)
        return external_url(endpoint, **_view_args(), **args.to_dict(flat=False))

    return {
        "self": at(page),
        "first": at(1),
        "prev": at(min(page - 1, pages)) if page > 1 else None,
        "next": at(page + 1) if page < pages else None,
        "last": at(pages),
    }


def filters_from(fields: MultiDict) -> dict[str, list[str]]:
    """Return the facet selections among a request's fields (its query string, its form)."""
    return {name: fields.getlist(name) for name in FACET_NAMES if fields.getlist(name)}


def filters_from_request() -> dict[str, list[str]]:
    """Return the facet selections of the current request's query string."""
    return filters_from(request.args)


def within_from_request() -> list[str]:
    """Return the searches within the results of the current request (its ``within``),
    each a query every hit must also match."""
    return [text for text in request.args.getlist("within") if text.strip()]


def within_words() -> list[str]:
    """Return the searches within the results of the current request as its links carry
    them: once each, as far as the index reads them (the chips that remove them)."""
    return _within_read(request.args.getlist("within"))


def _within_read(texts: list[str]) -> list[str]:
    """Return searches within the results as links carry them: each once, as far as the
    index reads it, none empty."""
    return list(dict.fromkeys(text for text in map(query_read, texts) if text))


def request_fields() -> MultiDict:
    """Return the fields of the current request: on a POST those of its query string and
    of its body, a form or a JSON object; otherwise those of its query string.

    :raise QueryError: for a JSON value other than a string, a number or a list of them.
    :raise HTTPException: 400 for a body that is not JSON, 415 for one neither JSON nor a
        form, 413 for one over :data:`MAX_BODY_BYTES`.
    """
    if request.method != "POST":
        return request.args
    request.max_content_length = MAX_BODY_BYTES
    if request.is_json:
        body = _json_fields()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body = request.form
    else:
        abort(415, "请求体应为 JSON 对象（Content-Type: application/json）或表单")
    return CombinedMultiDict([request.args, body])


def _json_fields() -> MultiDict:
    """Return the fields of a JSON object body: a list gives a field one value per item."""
    try:
        body = json.loads(request.get_data(as_text=True))
    except json.JSONDecodeError as exc:
        abort(400, f"请求体不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列有误")
    except RecursionError:  # [[[[…: the parser's stack, not the body's size
        abort(400, "请求体不是有效的 JSON：嵌套过深")
    if not isinstance(body, dict):
        abort(400, '请求体应为 JSON 对象，如 {"text": "……"}')
    fields: MultiDict = MultiDict()
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise QueryError(name, "应为字符串或整数（分面也可为字符串的列表）")
            fields.add(name, str(item))
    return fields


def pasted_text(fields: MultiDict) -> str:
    """Return the text a precedents request posted (its ``text``), line breaks as typed."""
    # A form sends each line break as CRLF (HTML): one character of the text, not two.
    return fields.get("text", "").replace("\r\n", "\n")


def precedents_from(fields: MultiDict) -> Precedents:
    """Find the precedents of the text of a request's fields, under their facet
    selections, ``limit`` passages to a pasted paragraph when they say."""
    limit = {"limit": fields["limit"]} if "limit" in fields else {}
    return reply_index().precedents(
        pasted_text(fields), filters=filters_from(fields), deadline=request_deadline(), **limit
    )


def search_from_request(**overrides) -> SearchResults:
    """Run the search the current request's query string describes."""
    args = request.args
    options = {
        "filters": filters_from_request(),
        "page": args.get("page", 1),
        "per_page": args.get("per_page"),
        "sort": args.get("sort", "relevance"),
        "within": within_from_request(),
        **overrides,
    }
    return reply_index().search(args.get("q", ""), deadline=request_deadline(), **options)


def statistics_from_request() -> Statistics:
    """Count the replies the current request's search selects (the stats page and API)."""
    return reply_index().statistics(
        request.args.get("q", ""),
        filters=filters_from_request(),
        within=within_from_request(),
        deadline=request_deadline(),
    )


def commitments_from_request() -> CommitmentPage:
    """Return the page of the commitments ledger the current request asks for."""
    args = request.args
    return reply_index().commitments(
        page=args.get("page", 1), per_page=args.get("per_page"), **_ledger_options()
    )


def commitment_ledger_from_request() -> tuple[CommitmentEntry, ...]:
    """Return every reply and promise of the commitments ledger the current request asks
    for, on no page: what its exports write."""
    return reply_index().commitment_ledger(**_ledger_options())


def _ledger_options() -> dict[str, Any]:
    """Return what selects the promises of the commitments ledger in the current request."""
    args = request.args
    return {
        "q": args.get("q", ""),
        "filters": filters_from_request(),
        "within": within_from_request(),
        **{name: args.get(name) for name in _LEDGER},
        "deadline": request_deadline(),
    }


def state() -> MultiDict:
    """Return the current search state: query, searches within it, filters, sort and page size."""
    return MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in _STATE_KEYS and v])


def query_read(q: str) -> str:
    """Return the part of a query that the index reads: its first ``MAX_QUERY_CHARS``
    characters. Links and forms carry no more of it: a longer query pasted into a URL
    is not repeated in each of them, and no URL they make is longer than the server takes."""
    return q.strip()[:MAX_QUERY_CHARS]


def state_url(args: MultiDict, endpoint: str | None = None, **values) -> str:
    """Return the URL of ``endpoint`` (default: the current page) with ``args``, those an
    API endpoint reads only, the query as far as the index reads it."""
    target = endpoint or _endpoint()
    reads = API_PARAMETERS.get(target)
    query: dict[str, Any] = {k: v for k, v in args.to_dict(flat=False).items() if reads is None or k in reads}
    if "q" in query:
        query["q"] = [query_read(q) for q in query["q"]]
    if "within" in query:
        query["within"] = _within_read(query["within"])
    return url_for(target, **values, **query)


def toggled(facet: str, values: list[str], value: str) -> list[str]:
    """Return a facet's selection once ``value`` is clicked in its list.

    A year inside a selected range narrows the selection to that year (the ranges that
    hold it give way), so the chips and the count say one thing; a value selected by
    itself is dropped; any other value is added, ORed with the others.
    """
    holding = [v for v in values if is_range(facet, v) and in_ranges(value, ranges(facet, [v]))]
    if holding:
        return [*(v for v in values if v not in holding and v != value), value]
    return [v for v in values if v != value] if value in values else [*values, value]


def toggle_url(facet: str, value: str, endpoint: str | None = None) -> str:
    """Return the URL that selects or deselects a facet value (back to page 1)."""
    args = state()
    args.setlist(facet, toggled(facet, args.getlist(facet), value))
    return state_url(args, endpoint, **({} if endpoint else _view_args()))


def without_url(text: str) -> str:
    """Return the URL of the same search without one of its searches within the results."""
    args = state()
    args.setlist("within", [w for w in args.getlist("within") if query_read(w) != text])
    return state_url(args, **_view_args())


def clear_url() -> str:
    """Return the URL that keeps the query and drops every filter and search within it."""
    args = state()
    for name in (*FACET_NAMES, "within"):
        args.poplist(name)
    return state_url(args, **_view_args())


def page_url(page: int) -> str:
    """Return the URL of another page of the same search."""
    args = state()
    if page > 1:
        args["page"] = str(page)
    return state_url(args, **_view_args())


def with_args(endpoint: str | None = None, **changes: str) -> str:
    """Return the URL of the same search with some arguments replaced (back to page 1)."""
    args = state()
    for key, value in changes.items():
        args[key] = value
    return state_url(args, endpoint, **({} if endpoint else _view_args()))


def reply_url(reply_id: str, position: int) -> str:
    """Return the URL of a reply opened from the current search: it carries the search
    and the hit's position in it, for the way back and the previous and next hits."""
    args = state()
    args["at"] = str(position)
    return state_url(args, "pages.reply", reply_id=reply_id)


def position() -> int | None:
    """Return the position in its search of the reply the current request opened (``at``).

    :raise QueryError: when ``at`` is not a whole number of 1 or more.
    """
    text = request.args.get("at")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        raise QueryError("at", "应为 1 或更大的整数（结果中的序号）")
    return int(text)


def results_url(at: int | None) -> str:
    """Return the URL of the search the current reply was opened from, at the page that
    holds it."""
    args = state()
    per_page = _per_page(args)
    if at is not None and at > per_page:
        args["page"] = str((at - 1) // per_page + 1)
    return state_url(args, "pages.search")


def neighbours(at: int) -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
    """Return the ids and positions of the hits before and after position ``at`` of the
    current request's search (None past either end)."""

    def hit(n: int) -> tuple[str, int] | None:
        if n < 1:
            return None
        found = search_from_request(page=n, per_page=1)
        return (found.hits[0].id, n) if found.hits else None

    return hit(at - 1), hit(at + 1)


def kept_state(*dropped: str) -> list[tuple[str, str]]:
    """Return the search state of the current request but the parameters ``dropped``: what
    a form changing those keeps, as hidden fields (the header's box drops ``q``, its own)."""
    return [(k, query_read(v) if k in _QUERIES else v) for k, v in state().items(multi=True) if k not in dropped]


def _per_page(args: MultiDict) -> int:
    text = args.get("per_page", "")
    return int(text) if text.isdigit() and int(text) >= 1 else reply_index().settings.per_page


def facet_url(name: str) -> str:
    """Return the URL of the full value list of one facet, for the current search."""
    return state_url(state(), "pages.facet", name=name)


def export_url(fmt: str) -> str:
    """Return the URL exporting every hit of the current search in ``fmt``."""
    args = state()
    args["format"] = fmt
    return state_url(args, "api.export")


def year_range_target() -> str | None:
    """Return the canonical URL when the request used the year range form.

    The form sends ``year_from`` and ``year_to``; the shared URL says ``year=2019-2022``
    (``year=2022`` for one year), in place of any years selected before. Years given the
    wrong way round are swapped, as the query language's ``year:2022-2019`` is.

    :raise QueryError: when either is not a year.
    """
    fields = {name: request.args.get(name, "").strip() for name in ("year_from", "year_to")}
    if not any(fields.values()):
        return None
    for name, text in fields.items():
        if text and not (text.isascii() and text.isdigit() and len(text) <= 4):
            raise QueryError(name, "应为年份（如 2021）")
    given = sorted(int(text) for text in fields.values() if text)
    low, high = given[0], given[-1]
    args = state()
    args.setlist("year", [str(low) if low == high else f"{low}-{high}"])
    return state_url(args, **_view_args())


CHART_WIDTH = 240  # the year histogram's width in its own units (about the sidebar's in pixels)
_MAX_PITCH = 26  # the widest slot a year takes, when there are few
_LABEL_UNITS = 24  # room a four-digit year label needs (at the font size style.css gives it)


@dataclass(frozen=True)
class YearBar:
    """One year of the histogram: its slot (``x``, ``width``) and bar, empty for 0."""

    year: int
    count: int
    selected: bool
    x: float
    width: float
    height: float  # of 36 units
    label: bool  # whether its year is printed under it


@dataclass(frozen=True)
class YearChart:
    """Every year from the first to the last the year facet holds, with gaps for the
    years no reply is of, and the range the current selection spans."""

    bars: tuple[YearBar, ...]
    chosen: tuple[int, int] | None  # the first and last selected years, within the chart
    width: float = CHART_WIDTH

    @property
    def span(self) -> tuple[float, float] | None:
        """Return the left edge and width of the chosen years' band."""
        if self.chosen is None:
            return None
        inside = [b for b in self.bars if self.chosen[0] <= b.year <= self.chosen[1]]
        return inside[0].x, inside[-1].x + inside[-1].width - inside[0].x


def year_chart(facet: Facet) -> YearChart | None:
    """Return the histogram and range menus of the year facet (None without years).

    The years run from the facet's first to its last, widened to the selected ones
    unless that makes more than ``MAX_YEAR_SPAN`` of them; a year is selected when the
    selection holds it, alone or in a range. Labels go under every year when they fit,
    else under every Nth, the first and the last always.
    """
    counts = {int(v.value): v.count for v in facet.values if v.value.isdigit()}
    chosen = state().getlist("year")
    bounds = ranges("year", chosen) + [(int(v), int(v)) for v in chosen if v.isdigit()]
    years = [*counts, *(y for pair in bounds for y in pair)]
    if years and max(years) - min(years) > MAX_YEAR_SPAN:
        years = [y for y, n in counts.items() if n] or list(counts)
    if not years:
        return None
    first, last = min(years), max(years)
    every = list(range(first, last + 1))
    pitch = min(_MAX_PITCH, CHART_WIDTH / len(every))
    left = (CHART_WIDTH - pitch * len(every)) / 2
    step = math.ceil(_LABEL_UNITS / pitch)
    labelled = {i for i in range(0, len(every), step) if len(every) - 1 - i >= step or i == 0}
    labelled.add(len(every) - 1)
    top = max(counts.values(), default=0)
    bars = tuple(
        YearBar(
            year=year,
            count=counts.get(year, 0),
            selected=in_ranges(str(year), bounds),
            x=round(left + i * pitch, 2),
            width=round(pitch, 2),
            height=round(36 * counts.get(year, 0) / top, 1) if top else 0,
            label=i in labelled,
        )
        for i, year in enumerate(every)
    )
    if not bounds:
        return YearChart(bars, None)
    low, high = max(first, min(lo for lo, _ in bounds)), min(last, max(hi for _, hi in bounds))
    return YearChart(bars, (low, high) if low <= high else None)


def _endpoint() -> str:
    """Return the endpoint of the current request, the page its links lead back to."""
    if request.endpoint is None:  # a request no route matched has no current page to link to
        raise RuntimeError(f"no endpoint to link to from {request.path}")
    return request.endpoint


def _view_args() -> dict:
    return dict(request.view_args or {})
