"""The search API: the only way the web layer and the CLI reach the index.

Results are plain dataclasses built inside ``with ix.searcher()``: searchers hold open
files, so no Whoosh object outlives a call.

Facets are counted from per-document value arrays read once per index generation
(Whoosh's ``groupedby`` costs about 10 µs per matching document). Counting is
disjunctive: a facet's own counts ignore its own selection, so several values of one
facet combine with OR while different facets combine with AND.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import Index

from .build import current_generation
from .errors import IndexerError, QueryError
from .highlight import snippets
from .analysis import fold
from .query import ScopeFilter, parse_query
from .schema import FACET_NAMES, FACETS

MAX_PER_PAGE = 100
SORTS = ("relevance", "newest", "oldest")


@dataclass(frozen=True)
class Hit:
    """One matching reply, as a result list shows it."""

    id: str
    title: str
    department: str | None
    session_label: str | None
    year: int | None
    date: str | None
    sample: bool
    doc_kind: str | None
    department_role: str | None
    proposal_numbers: tuple[str, ...]
    snippets: tuple[str, ...]  # HTML: escaped text, matches in <mark>
    score: float | None


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

    @property
    def pages(self) -> int:
        """Return the number of pages (at least one)."""
        return max(1, -(-self.total // self.per_page))


class _FacetArrays:
    """Per-document facet values of one index generation, read from its postings."""

    def __init__(self, reader) -> None:
        size = reader.doc_count_all()
        self.values: dict[str, list[tuple[str, ...]]] = {}
        for facet in FACETS:
            per_doc: list[list[str]] = [[] for _ in range(size)]
            for term in reader.lexicon(facet.name):
                value = term.decode("utf-8")
                for docnum in reader.postings(facet.name, value).all_ids():
                    per_doc[docnum].append(value)
            self.values[facet.name] = [tuple(v) for v in per_doc]

    def matching(self, name: str, selected: set[str], docs: set[int]) -> set[int]:
        """Return the docs among ``docs`` having any of the selected values."""
        column = self.values[name]
        return {d for d in docs if selected.intersection(column[d])}

    def count(self, name: str, docs: set[int]) -> Counter[str]:
        """Count the values of a facet over ``docs``."""
        column = self.values[name]
        counts: Counter[str] = Counter()
        for d in docs:
            counts.update(column[d])
        return counts


@dataclass
class _Entry:
    ix: Index
    generation: int
    arrays: _FacetArrays


class _Cache:
    """Open indexes and their facet arrays, one entry per index generation folder.

    A build swaps in a new folder; an incremental commit bumps the folder's generation.
    Either way the next search sees it, without a restart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def get(self, index_dir: Path) -> _Entry:
        gen = str(current_generation(index_dir))
        with self._lock:
            entry = self._entries.get(gen)
            try:
                if entry is None or entry.ix.latest_generation() != entry.generation:
                    ix = whoosh_index.open_dir(gen)
                    with ix.searcher() as searcher:
                        arrays = _FacetArrays(searcher.reader())
                    entry = _Entry(ix, ix.latest_generation(), arrays)
                    # Drop entries of generations that a build has since removed.
                    self._entries = {k: v for k, v in self._entries.items() if Path(k).is_dir()}
                    self._entries[gen] = entry
            except (OSError, whoosh_index.EmptyIndexError) as exc:
                raise IndexerError(f"cannot open the index in {index_dir}: {exc}") from None
            return entry


_cache = _Cache()


def validate(
    filters: dict[str, list[str]] | None, page: Any, per_page: Any, sort: str
) -> tuple[dict[str, tuple[str, ...]], int, int]:
    """Check request parameters; return the normalised filters, page and page size.

    :raise QueryError: naming the parameter that is wrong.
    """
    clean: dict[str, tuple[str, ...]] = {}
    for name, values in (filters or {}).items():
        if name not in FACET_NAMES:
            raise QueryError(name, f"unknown facet; known facets: {', '.join(FACET_NAMES)}")
        kept = tuple(dict.fromkeys(v for v in values if v))
        if kept:
            clean[name] = kept
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        raise QueryError("page", "page and per_page must be whole numbers") from None
    if page < 1:
        raise QueryError("page", "must be 1 or more")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError("per_page", f"must be between 1 and {MAX_PER_PAGE}")
    if sort not in SORTS:
        raise QueryError("sort", f"must be one of {', '.join(SORTS)}")
    return clean, page, per_page


def search(
    index_dir: Path,
    q: str = "",
    *,
    filters: dict[str, list[str]] | None = None,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
) -> SearchResults:
    """Search the index: one page of hits, with facet counts for the whole result.

    :param filters: selected values per facet name; values of one facet are ORed.
    :raise QueryError: for an unknown facet, a bad page, page size or sort.
    :raise IndexerError: when there is no index to search.
    """
    selected, page, per_page = validate(filters, page, per_page, sort)
    entry = _cache.get(Path(index_dir))
    ix, arrays = entry.ix, entry.arrays
    parsed = parse_query(q)
    with ix.searcher() as searcher:
        base = _matching(searcher, parsed.query, parsed.scopes)
        exact_count = None
        if parsed.exact_query is not None:
            exact_count = len(_matching(searcher, parsed.exact_query, parsed.scopes))
        allowed = {name: arrays.matching(name, set(values), base) for name, values in selected.items()}
        final = base.intersection(*allowed.values()) if allowed else base
        facets = []
        for facet in FACETS:
            others = [docs for name, docs in allowed.items() if name != facet.name]
            pool = base.intersection(*others) if others else base
            counts = arrays.count(facet.name, pool)
            chosen = selected.get(facet.name, ())
            for value in chosen:
                counts.setdefault(value, 0)  # a selected value stays visible at 0
            facets.append(
                Facet(
                    name=facet.name,
                    values=tuple(
                        FacetValue(value, n, value in chosen) for value, n in _ordered(counts, facet.order)
                    ),
                )
            )
        hits: list[Hit] = []
        if final:
            filtered = allowed or parsed.scopes
            kwargs: dict[str, Any] = {"filter": final if filtered else None, "limit": page * per_page}
            if sort != "relevance":
                kwargs["sortedby"] = "date"
                kwargs["reverse"] = sort == "newest"
            results = searcher.search(parsed.query, **kwargs)
            needles = (*parsed.terms, *parsed.phrases)
            for hit in results[(page - 1) * per_page : page * per_page]:
                display = hit["display"]
                hits.append(
                    Hit(
                        id=display["id"],
                        title=display["title"],
                        department=display["department"],
                        session_label=display["session_label"],
                        year=display["year"],
                        date=display["date"],
                        sample=display["sample"],
                        doc_kind=display["doc_kind"],
                        department_role=display["department_role"],
                        proposal_numbers=tuple(display["proposal_numbers"]),
                        snippets=tuple(snippets(hit["body"], needles)),
                        score=None if parsed.is_empty or sort != "relevance" else round(hit.score, 4),
                    )
                )
    return SearchResults(
        q=q,
        total=len(final),
        page=page,
        per_page=per_page,
        sort=sort,
        hits=tuple(hits),
        facets=tuple(facets),
        filters=selected,
        query=QueryInfo(
            terms=parsed.terms,
            phrases=parsed.phrases,
            segmented=parsed.segmented,
            notice=parsed.notice,
            word_count=len(base),
            exact_count=exact_count,
        ),
    )


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n")


def _matching(searcher, query, scopes: tuple[ScopeFilter, ...]) -> set[int]:
    """Return the documents matching a query and its same-sentence/paragraph scopes."""
    docs = set(searcher.docs_for_query(query))
    for scope in scopes:
        docs = {d for d in docs if in_one_scope(searcher.stored_fields(d)["body"], scope)}
    return docs


def in_one_scope(body: str, scope: ScopeFilter) -> bool:
    """Return True if one sentence (or paragraph) of ``body`` holds every needle."""
    pieces = body.split("\n\n") if scope.kind == "paragraph" else _SENTENCE_END.split(body)
    return any(all(n in folded for n in scope.needles) for folded in map(fold, pieces))


def _ordered(counts: Counter[str], order: str) -> list[tuple[str, int]]:
    if order == "value_desc":
        return sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def reply_count(index_dir: Path) -> int:
    """Return the number of replies in the current index."""
    return _cache.get(Path(index_dir)).ix.doc_count()
