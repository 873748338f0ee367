"""What a search answers, as plain data: the one shape of every view and format.

Each result has ``to_dict()``, the JSON the API sends and ``search --json`` prints; the
pages render the same objects. :data:`HIT_FIELDS` is the one list of a hit's fields:
the index stores them (``display``), hits carry them, exports write them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A hit's own fields, in the order exports write them; lists are tuples.
HIT_FIELDS = (
    "id",
    "title",
    "proposal_title",
    "proposal_numbers",
    "session_label",
    "qualified_session",
    "year",
    "date",
    "department",
    "department_role",
    "channel",
    "doc_kind",
    "proposers",
    "topic",
    "result_category",
    "sample",
)
_LISTS = ("proposal_numbers", "proposers")


def _plain(value: Any) -> Any:
    """Return a value as JSON would hold it: tuples as lists, results as dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def page_count(total: int, per_page: int) -> int:
    """Return how many pages of ``per_page`` hold ``total`` items (at least one)."""
    return max(1, -(-total // per_page))


@dataclass(frozen=True)
class Snippet:
    """A matching passage: HTML (text escaped, matches in <mark>) and its section."""

    html: str
    section: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"html": self.html, "section": self.section}


@dataclass(frozen=True)
class Hit:
    """One matching reply, as a result list shows it."""

    id: str
    title: str
    proposal_title: str | None
    proposal_numbers: tuple[str, ...]
    session_label: str | None
    qualified_session: str | None  # the 届次 with the body that held it (Reply.qualified_session)
    year: int | None
    date: str | None
    department: str | None
    department_role: str | None
    channel: str | None
    doc_kind: str | None
    proposers: tuple[str, ...]
    topic: str | None
    result_category: str | None
    sample: bool
    snippets: tuple[Snippet, ...] = ()
    score: float | None = None

    @classmethod
    def from_display(
        cls, display: dict[str, Any], snippets: tuple[Snippet, ...] = (), score: float | None = None
    ) -> Hit:
        """Build a hit from the ``display`` dict stored in the index."""
        fields: dict[str, Any] = {name: display.get(name) for name in HIT_FIELDS}
        for name in _LISTS:
            fields[name] = tuple(fields[name] or ())
        fields["sample"] = bool(fields["sample"])
        return cls(**fields, snippets=snippets, score=score)

    def fields(self) -> dict[str, Any]:
        """Return the hit's own fields (no snippets, no score), in export order."""
        return {name: _plain(getattr(self, name)) for name in HIT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return {**self.fields(), "snippets": _plain(self.snippets), "score": self.score}


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet with its count under the current query and filters."""

    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    """A facet and its values, most relevant first."""

    name: str
    values: tuple[FacetValue, ...]


@dataclass(frozen=True)
class QueryInfo:
    """How the query was read, so a user can understand a surprising result."""

    terms: tuple[str, ...]
    phrases: tuple[str, ...]
    segmented: tuple[str, ...]
    notice: str | None
    word_count: int  # replies matching the query, before facet filters
    exact_count: int | None  # of those words taken as exact wording; None without words
    # A query that finds nothing: the same query, its words that find nothing replaced by
    # the archive's likeliest words one edit from them (您是不是要找); None otherwise.
    suggestion: str | None = None


@dataclass(frozen=True)
class SearchResults:
    """A page of hits with facet counts."""

    q: str
    total: int
    page: int
    per_page: int
    sort: str
    hits: tuple[Hit, ...]
    facets: tuple[Facet, ...]
    filters: dict[str, tuple[str, ...]]
    query: QueryInfo
    # Milliseconds spent: matching and ordering, facet counts, snippets, and all.
    took_ms: dict[str, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Return the number of pages (at least one)."""
        return page_count(self.total, self.per_page)

    def to_dict(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "sort": self.sort,
            "filters": _plain(self.filters),
            "hits": _plain(self.hits),
            "facets": {f.name: _plain(f.values) for f in self.facets},
            "query": _plain(self.query),
            "took_ms": self.took_ms,
        }


def result_parts(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Return one department's replies by result category, in the order charts draw
    them: A, B, C, D, any other category, and the unmarked ("") last."""
    return tuple(sorted(counts.items(), key=lambda kv: (kv[0] == "", kv[0])))


@dataclass(frozen=True)
class Statistics:
    """Counts over every reply a search selects (facet filters included)."""

    total: int
    by_year: tuple[tuple[str, int], ...]  # oldest first
    by_department: tuple[tuple[str, int], ...]  # most replies first
    by_topic: tuple[tuple[str, int], ...]
    # For each department: replies by result category, in category order (A-D, then
    # any other, then "" for unmarked: see :func:`result_parts`).
    results_by_department: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]

    # Each chart as a table: its columns and rows, for the page, the JSON and CSV.
    RESULT_COLUMNS = ("A", "B", "C", "D", "")

    def tables(self) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        """Return each chart as ``(header, rows)``: year, department, topic, results."""
        return {
            "year": (("year", "count"), list(self.by_year)),
            "department": (("department", "count"), list(self.by_department)),
            "topic": (("topic", "count"), list(self.by_topic)),
            "results": (
                ("department", "A", "B", "C", "D", "unmarked", "total"),
                [
                    (name, *(dict(parts).get(c, 0) for c in self.RESULT_COLUMNS), sum(n for _, n in parts))
                    for name, parts in self.results_by_department
                ],
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        tables = {name: _plain(rows) for name, (_, rows) in self.tables().items()}
        # A year is a number in every JSON shape, as in a hit; the index counts facet values as text.
        tables["year"] = [[int(year), count] for year, count in self.by_year]
        return {"total": self.total, **tables}


# What a promise's target year says today: passed, still ahead, or not stated.
COMMITMENT_STATUSES = ("overdue", "pending", "undated")


@dataclass(frozen=True)
class CommitmentItem:
    """One promise of a reply, as the commitments ledger shows it."""

    text: str
    html: str  # the text escaped, the query's words in <mark>
    cue: str
    target_year: int | None
    status: str  # one of COMMITMENT_STATUSES
    passage: int | None  # the N of the reply page's #p-N holding it; None in a heading

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CommitmentEntry:
    """One reply's promises, for the commitments ledger, with its possible follow-ups:
    later replies of its department on its topic, or to its proposal."""

    hit: Hit
    commitments: tuple[CommitmentItem, ...]
    following: tuple[Hit, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "hit": self.hit.to_dict(),
            "commitments": _plain(self.commitments),
            "following": _plain(self.following),
        }


@dataclass(frozen=True)
class CommitmentPage:
    """One page of the replies of a search whose promises the ledger lists, newest first."""

    total: int  # replies with a listed promise among those the search selects
    commitments: int | None  # the promises listed, on every page (None: not counted, all are listed)
    page: int
    per_page: int
    entries: tuple[CommitmentEntry, ...]
    today: str  # the ISO date the statuses are told against
    timed_out: bool = False  # the deadline passed: the counts and the page may be short

    @property
    def pages(self) -> int:
        """Return the number of pages (at least one)."""
        return page_count(self.total, self.per_page)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "commitments": self.commitments,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "today": self.today,
            "timed_out": self.timed_out,
            "entries": [e.to_dict() for e in self.entries],
        }
