"""The search API: the only way the web layer and the CLI reach the index.

Results are plain dataclasses, built while a searcher from the generation's pool is
held: no Whoosh object leaves this module, and a searcher serves one call at a time.

Facets are counted by intersecting the matching documents with each value's document
set, read once per index generation (Whoosh's ``groupedby`` costs about 10 µs per
matching document). Counting is disjunctive: a facet's own counts ignore its own
selection, so several values of one facet combine with OR while different facets
combine with AND. Queries that are trees of terms (words, one- and two-character
phrases, AND/OR/NOT) are matched on arrays (:mod:`indexer.terms`), the others by
Whoosh. Each generation also remembers the matches of its recent queries.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.classify import Expander
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.index import Index
from whoosh.query import Or, Term

from reply_archive import data

from .build import check_format, current_generation, open_generation
from .errors import IndexerError, QueryError
from .analysis import fold
from .highlight import passages
from .query import ParsedQuery, ScopeFilter, parse_query
from .schema import FACET_NAMES, FACETS, FacetSpec
from .terms import Ranked, TermArrays, postings

MAX_PER_PAGE = 100
MAX_SELECTED = 50  # values of one facet selected in one request
QUERY_SECONDS = 5.0  # a pathological query stops here and returns what it found
SORTS = ("relevance", "newest", "oldest", "number")


@dataclass(frozen=True)
class Snippet:
    """A matching passage: HTML (text escaped, matches in <mark>) and its section."""

    html: str
    section: str | None


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
    proposal_title: str | None
    proposers: tuple[str, ...]
    topic: str | None
    result_category: str | None
    snippets: tuple[Snippet, ...]
    score: float | None

    @classmethod
    def from_display(cls, display: dict[str, Any], snippets: tuple[Snippet, ...] = (), score: float | None = None) -> Hit:
        """Build a hit from the ``display`` dict stored in the index."""
        fields = {k: v for k, v in display.items() if k in cls.__dataclass_fields__}
        for name in ("proposal_numbers", "proposers"):
            fields[name] = tuple(fields.get(name) or ())
        return cls(**fields, snippets=snippets, score=score)


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
    # Milliseconds spent: matching and ordering, facet counts, snippets, and all.
    took_ms: dict[str, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Return the number of pages (at least one)."""
        return max(1, -(-self.total // self.per_page))


_RANGE = re.compile(r"^(\d{1,4})-(\d{1,4})$")


class _FacetArrays:
    """Facet values of one index generation, read once from its postings.

    Sets of documents are boolean masks over the generation's document numbers. Each
    facet is held as the pairs (document, value) of its postings, so counting a facet
    over any set of documents is one vectorised pass over its pairs (about 0.2 ms a
    facet at 20,000 replies, however many match). Also the per-document values, the orders by
    date and by proposal number, and the mask of replies with commitments: filtering,
    counting and ordering never touch stored documents.
    """

    def __init__(self, searcher) -> None:
        self._computed: dict[str, Any] = {}
        self.size = searcher.doc_count_all()
        self.facets: dict[str, _Facet] = {name: _Facet(searcher, name) for name in FACET_NAMES}
        self.with_commitments = _Facet(searcher, "commitments").mask({"yes"}, self.size)

    # The dates and the orders are read on first use: a column is read a value at a
    # time, so reading them when a generation opens would delay the first answer. They
    # are read through the searcher of the request that needs them, which holds the
    # generation's files open: a fresh searcher would fail once a later build had
    # removed the generation's folder.

    def dates(self, searcher) -> list[str]:
        """Return each document's date ("" for none)."""
        return self._lazy("dates", lambda: [d or "" for d in self._column(searcher, "date")])

    def by_date(self, searcher) -> np.ndarray:
        """Return the documents by date, then number; a reply without a date first."""
        dates = self.dates(searcher)
        return self._lazy(
            "by_date", lambda: np.array(sorted(range(self.size), key=lambda d: (dates[d], d)), dtype=np.int64)
        )

    def by_number(self, searcher) -> np.ndarray:
        """Return the documents by smallest proposal number; replies without one last."""

        def order() -> np.ndarray:
            numbers = self._column(searcher, "number_order")
            return np.array(sorted(range(self.size), key=lambda d: (numbers[d], d)), dtype=np.int64)

        return self._lazy("by_number", order)

    def _lazy(self, name: str, compute: Callable[[], Any]) -> Any:
        """Return a value computed once per generation (two threads may both compute it)."""
        if name not in self._computed:
            self._computed[name] = compute()
        return self._computed[name]

    def _column(self, searcher, field: str) -> list:
        if not self.size:  # an empty index has no segment, and so no columns
            return []
        return list(searcher.reader().column_reader(field))

    def none(self) -> np.ndarray:
        """Return an empty document mask."""
        return np.zeros(self.size, dtype=bool)

    def matching(self, name: str, selected: set[str], docs: np.ndarray) -> np.ndarray:
        """Return the docs among ``docs`` having any of the selected values (or ranges)."""
        ranges = [_bounds(v) for v in selected if _RANGE.match(v)] if _spec(name).ranges else []
        facet = self.facets[name]
        wanted = {v for v in facet.values if v in selected or _in_ranges((v,), ranges)}
        return docs & facet.mask(wanted, self.size)

    def count(self, name: str, docs: np.ndarray) -> Counter[str]:
        """Count the values of a facet over the docs of a mask."""
        facet = self.facets[name]
        counts = np.bincount(facet.pair_values[docs[facet.pair_docs]], minlength=len(facet.values))
        return Counter({facet.values[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()})


class _Facet:
    """One keyword field's values and its postings as (document, value) pairs."""

    def __init__(self, searcher, field: str) -> None:
        self.values: list[str] = [term.decode("utf-8") for term in searcher.reader().lexicon(field)]
        docs = [postings(searcher, field, value)[0] for value in self.values]
        self.pair_docs = np.concatenate(docs) if docs else np.empty(0, dtype=np.int64)
        self.pair_values = np.repeat(np.arange(len(self.values)), [len(d) for d in docs])
        self._per_doc: list[tuple[str, ...]] | None = None

    def mask(self, wanted: set[str], size: int) -> np.ndarray:
        """Return the mask of the documents having any of the wanted values."""
        found = np.zeros(size, dtype=bool)
        codes = [i for i, value in enumerate(self.values) if value in wanted]
        found[self.pair_docs[np.isin(self.pair_values, codes)]] = True
        return found

    def per_doc(self, size: int) -> list[tuple[str, ...]]:
        """Return each document's values (built on first use: statistics need two facets)."""
        if self._per_doc is not None:
            return self._per_doc
        per_doc: list[list[str]] = [[] for _ in range(size)]
        for docnum, code in zip(self.pair_docs.tolist(), self.pair_values.tolist()):
            per_doc[docnum].append(self.values[code])
        self._per_doc = [tuple(v) for v in per_doc]
        return self._per_doc


def _spec(name: str) -> FacetSpec:
    return next(f for f in FACETS if f.name == name)


def _bounds(value: str) -> tuple[int, int]:
    low, high = (int(x) for x in _RANGE.match(value).groups())
    return min(low, high), max(low, high)


def _in_ranges(values: tuple[str, ...], ranges: list[tuple[int, int]]) -> bool:
    return any(v.isdigit() and low <= int(v) <= high for v in values for low, high in ranges)


POOL_SIZE = 8  # idle searchers kept per index generation
MATCH_CACHE_SIZE = 64  # queries whose matches each generation remembers


@dataclass
class _Entry:
    """An open index generation: its facet arrays and a pool of idle searchers.

    Opening a searcher maps every segment file (several ms); a pooled one is reused.
    A searcher serves one call at a time, so threads never share one.
    """

    ix: Index
    folder: str  # the generation folder it was opened from
    arrays: _FacetArrays
    terms: TermArrays
    idle: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    retired: bool = False
    # The matches of recent queries. A generation never changes, so they stay true;
    # paging through results or clicking facets reruns the same query.
    matches: OrderedDict = field(default_factory=OrderedDict)

    def cached(self, key: tuple, compute: Callable[[], tuple[Ranked, bool]]) -> tuple[Ranked, bool]:
        """Return the cached ``(ranked matches, timed out)`` for ``key``, or compute them.

        Timed-out (partial) matches are not kept: the next try may finish.
        """
        with self.lock:
            if key in self.matches:
                self.matches.move_to_end(key)
                return self.matches[key]
        found = compute()
        if not found[1]:
            with self.lock:
                self.matches[key] = found
                while len(self.matches) > MATCH_CACHE_SIZE:
                    self.matches.popitem(last=False)
        return found

    @contextmanager
    def searcher(self) -> Iterator[Any]:
        with self.lock:
            searcher = self.idle.pop() if self.idle else None
        if searcher is None:
            searcher = self.ix.searcher()
        try:
            yield searcher
        finally:
            with self.lock:
                keep = not self.retired and len(self.idle) < POOL_SIZE
                if keep:
                    self.idle.append(searcher)
            if not keep:
                searcher.close()

    def retire(self) -> None:
        """Close the idle searchers; those in use close when they come back."""
        with self.lock:
            self.retired = True
            idle, self.idle = self.idle, []
        for searcher in idle:
            searcher.close()


class _Cache:
    """Open index generations, one entry per index folder.

    A build swaps in a new generation folder, and the next search opens it: no restart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def get(self, index_dir: Path) -> _Entry:
        key = str(Path(index_dir).resolve())
        gen = current_generation(index_dir)
        with self._lock:
            entry = self._entries.get(key)
            # Generations are written once and never changed: a new build is a new folder.
            if entry is None or entry.folder != str(gen):
                check_format(gen)
                try:
                    ix = open_generation(gen)
                    with ix.searcher() as searcher:
                        arrays = _FacetArrays(searcher)
                        terms = TermArrays(searcher)
                except (OSError, whoosh_index.EmptyIndexError) as exc:
                    raise IndexerError(f"cannot open the index in {index_dir}: {exc}") from None
                if entry is not None:
                    entry.retire()
                entry = self._entries[key] = _Entry(ix, str(gen), arrays, terms)
                threading.Thread(target=terms.warm, args=(ix, gen), daemon=True).start()
            return entry


_cache = _Cache()


def warmed(index_dir: Path, timeout: float | None = None) -> bool:
    """Wait for the current generation's warm-up in the background (field lengths and
    folded texts, which long exact phrases need to be matched fast) to end; return
    whether it has ended within ``timeout`` seconds."""
    return _cache.get(Path(index_dir)).terms.texts_loaded.wait(timeout)


def forget_matches(index_dir: Path) -> None:
    """Forget the remembered matches of the current generation: the next query of each
    is matched from the index again (benchmarks time matching itself)."""
    entry = _cache.get(Path(index_dir))
    with entry.lock:
        entry.matches.clear()


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
        if len(kept) > MAX_SELECTED:
            # Each selected value renders links carrying all the others: 2,000 of them
            # made a 247 MB page.
            raise QueryError(name, f"at most {MAX_SELECTED} values can be selected at once, not {len(kept)}")
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
    started = time.perf_counter()
    selected, page, per_page = validate(filters, page, per_page, sort)
    entry = _cache.get(Path(index_dir))
    parsed = parse_query(q)
    with entry.searcher() as searcher:
        selection = _select(searcher, entry, parsed, selected, sort)
        exact_count = None
        if parsed.exact_query is not None:
            deadline = time.monotonic() + QUERY_SECONDS
            (docs, _), late = entry.cached(
                (repr(parsed.exact_query), False),
                lambda: _matches(entry, searcher, parsed.exact_query, deadline, scored=False),
            )
            kept, late_scope = _scoped(searcher, docs.tolist(), parsed.scopes, deadline)
            exact_count = None if late or late_scope else len(kept)
        matched = time.perf_counter()
        needles = (*parsed.terms, *parsed.phrases)
        hits = []
        for docnum in selection.order[(page - 1) * per_page : page * per_page].tolist():
            stored = searcher.stored_fields(docnum)
            display = stored["display"]
            score = None if selection.scores is None else float(selection.scores[docnum])
            hits.append(
                Hit.from_display(
                    display,
                    snippets=_snippets(stored["body"], needles, display.get("sections", ())),
                    score=None if parsed.is_empty or score is None else round(score, 4),
                )
            )
        snippets = time.perf_counter()
        facets = tuple(_facets(entry.arrays, selection.base, selection.allowed, selected))
    done = time.perf_counter()
    return SearchResults(
        q=q,
        total=len(selection.order),
        page=page,
        per_page=per_page,
        sort=sort,
        hits=tuple(hits),
        facets=facets,
        filters=selected,
        query=QueryInfo(
            terms=parsed.terms,
            phrases=parsed.phrases,
            segmented=parsed.segmented,
            notice=_notice(parsed, selection),
            word_count=int(selection.base.sum()),
            exact_count=exact_count,
        ),
        took_ms={
            name: round(seconds * 1000, 2)
            for name, seconds in (
                ("match", matched - started),
                ("snippets", snippets - matched),
                ("facets", done - snippets),
                ("total", done - started),
            )
        },
    )


def needles(q: str) -> tuple[str, ...]:
    """Return what a query asks to see marked in a reply: its words and exact phrases."""
    parsed = parse_query(q)
    return (*parsed.terms, *parsed.phrases)


def export(
    index_dir: Path,
    q: str = "",
    *,
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
) -> list[Hit]:
    """Return every hit of a search, in order, without snippets: no cap, for exports."""
    selected, _, _ = validate(filters, 1, 1, sort)
    entry = _cache.get(Path(index_dir))
    parsed = parse_query(q)
    with entry.searcher() as searcher:
        selection = _select(searcher, entry, parsed, selected, sort)
        if selection.timed_out:  # an export promises every hit: never a silent part of them
            raise QueryError("q", f"this query takes over {QUERY_SECONDS:g} s; narrow it to export it")
        return [Hit.from_display(searcher.stored_fields(d)["display"]) for d in selection.order.tolist()]


@dataclass(frozen=True)
class Statistics:
    """Counts over every reply a search selects (facet filters included)."""

    total: int
    by_year: tuple[tuple[str, int], ...]  # oldest first
    by_department: tuple[tuple[str, int], ...]  # most replies first
    by_topic: tuple[tuple[str, int], ...]
    # For each department: replies by result category (A-D, "" for unmarked).
    results_by_department: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]


def statistics(
    index_dir: Path, q: str = "", *, filters: dict[str, list[str]] | None = None, top: int = 30
) -> Statistics:
    """Count the replies a search selects by year, department, topic and result.

    :param top: how many departments to list (the most answering first).
    """
    selected, _, _ = validate(filters, 1, 1, "oldest")
    entry = _cache.get(Path(index_dir))
    parsed = parse_query(q)
    with entry.searcher() as searcher:
        order = _select(searcher, entry, parsed, selected, "oldest").order
    arrays = entry.arrays
    final = arrays.none()
    final[order] = True
    departments = _ordered(arrays.count("department", final), "count")[:top]
    results = arrays.facets["result"].per_doc(arrays.size)
    departments_of = arrays.facets["department"].per_doc(arrays.size)
    by_result: dict[str, Counter[str]] = {name: Counter() for name, _ in departments}
    for d in order.tolist():
        for name in departments_of[d]:
            if name in by_result:
                by_result[name].update(results[d] or ("",))
    return Statistics(
        total=len(order),
        by_year=tuple(_ordered(arrays.count("year", final), "value_asc")),
        by_department=tuple(departments),
        by_topic=tuple(_ordered(arrays.count("topic", final), "count")),
        results_by_department=tuple(
            (name, tuple(sorted(by_result[name].items()))) for name, _ in departments
        ),
    )


def preceding(
    index_dir: Path, *, filters: dict[str, list[str]], before: str, limit: int = 5
) -> tuple[Hit, ...]:
    """Return the newest replies dated before ``before`` (an ISO date) among those the
    facet filters select: a department's earlier replies on a topic, for instance."""
    selected, _, _ = validate(filters, 1, 1, "newest")
    entry = _cache.get(Path(index_dir))
    with entry.searcher() as searcher:
        dates = entry.arrays.dates(searcher)
        order = _select(searcher, entry, parse_query(""), selected, "newest").order
        found = itertools.islice((d for d in order.tolist() if "" < dates[d] < before), limit)
        return tuple(Hit.from_display(searcher.stored_fields(d)["display"]) for d in found)


@dataclass(frozen=True)
class CommitmentEntry:
    """One reply's commitments, for the commitments view."""

    hit: Hit
    commitments: tuple[tuple[str, str, int | None], ...]  # text, cue, target year


def commitments(
    index_dir: Path,
    q: str = "",
    *,
    filters: dict[str, list[str]] | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[int, tuple[CommitmentEntry, ...]]:
    """Return the replies a search selects that make commitments, newest first.

    :return: how many such replies there are, and one page of them.
    """
    selected, page, per_page = validate(filters, page, per_page, "newest")
    entry = _cache.get(Path(index_dir))
    parsed = parse_query(q)
    with entry.searcher() as searcher:
        order = _select(searcher, entry, parsed, selected, "newest").order
        promising = order[entry.arrays.with_commitments[order]]
        found = []
        for docnum in promising[(page - 1) * per_page : page * per_page].tolist():
            display = searcher.stored_fields(docnum)["display"]
            found.append(
                CommitmentEntry(Hit.from_display(display), tuple(tuple(c) for c in display.get("commitments", ())))
            )
    return len(promising), tuple(found)


@dataclass
class _Selection:
    base: np.ndarray  # mask of the query's matches, before facet filters
    allowed: dict[str, np.ndarray]  # per selected facet, the mask of base docs it lets through
    order: np.ndarray  # the final docs, in the requested order
    scores: np.ndarray | None  # score by document number, when ranked by relevance
    timed_out: bool  # the query hit QUERY_SECONDS: the matches are incomplete


def _select(searcher, entry: _Entry, parsed: ParsedQuery, selected: dict, sort: str) -> _Selection:
    """Evaluate the query once: every match, scored, then facet filters and order.

    One pass over the index gives both the facet counts' base set and the ranking, so
    an expensive query (a long exact phrase) is matched once, not twice.
    """
    deadline = time.monotonic() + QUERY_SECONDS
    scored = sort == "relevance" and not parsed.is_empty
    (docs, scores), timed_out = entry.cached(
        (repr(parsed.query), scored), lambda: _matches(entry, searcher, parsed.query, deadline, scored=scored)
    )
    arrays = entry.arrays
    base = arrays.none()
    if parsed.scopes:
        kept, scope_timed_out = _scoped(searcher, docs.tolist(), parsed.scopes, deadline)
        base[list(kept)] = True
        timed_out = timed_out or scope_timed_out
    else:
        base[docs] = True
    allowed = {name: arrays.matching(name, set(values), base) for name, values in selected.items()}
    final = np.logical_and.reduce([base, *allowed.values()])
    if sort == "relevance":
        order = docs[final[docs]]
    else:
        ordered = arrays.by_number(searcher) if sort == "number" else arrays.by_date(searcher)
        order = ordered[final[ordered]]
        if sort == "newest":
            order = order[::-1]
    by_doc = None
    if scores is not None:
        by_doc = np.zeros(arrays.size)
        by_doc[docs] = scores
    return _Selection(base=base, allowed=allowed, order=order, scores=by_doc, timed_out=timed_out)


def similar(index_dir: Path, reply_id: str, *, limit: int = 5) -> tuple[Hit, ...]:
    """Return the replies most like this one, by the key terms of its substance.

    Sentences made of the genre's set phrases (收悉, 现答复如下, 感谢…关心和支持, 此复…)
    are dropped and the genre's everyday words ignored before the key terms are chosen,
    so that two replies are similar for what they say, not for how replies are written.

    :raise QueryError: when no reply has this id.
    """
    entry = _cache.get(Path(index_dir))
    with entry.searcher() as searcher:
        docnum = searcher.document_number(id=reply_id)
        if docnum is None:
            raise QueryError("id", f"no reply with id {reply_id!r}")
        stored = searcher.stored_fields(docnum)
        text = "\n".join([stored["display"]["title"], *substance(stored["body"])])
        terms = _key_terms(searcher, text, 15)
        if not terms:
            return ()
        query = Or([Term("body", term, boost=weight) for term, weight in terms])
        (docs, scores), _ = _matches(entry, searcher, query, time.monotonic() + QUERY_SECONDS, scored=True)
        needles = [term for term, _ in terms[:8]]
        found = []
        for other, score in zip(docs.tolist(), scores.tolist()):
            if len(found) == limit:
                break
            if other != docnum:
                stored = searcher.stored_fields(other)
                snippets = _snippets(stored["body"], needles, stored["display"].get("sections", ()))[:1]
                found.append(Hit.from_display(stored["display"], snippets=snippets, score=round(score, 4)))
        return tuple(found)


KEY_TERM_CANDIDATES = 80  # a reply's most frequent words weighed as its key terms


def _key_terms(searcher, text: str, count: int) -> list[tuple[str, float]]:
    """Return the key terms of a text by Whoosh's Bo1 model, with their weights.

    The genre's everyday words, single characters and numbers are left out, and only
    the most frequent remaining words are weighed: weighing a word looks up its
    collection frequency (about 0.1 ms), and a reply has a thousand distinct words.
    """
    stop = genre_stopwords()
    field = searcher.schema["body"]
    weights: Counter[str] = Counter()
    for token, _, weight, _ in field.index(text):
        word = field.from_bytes(token)
        if word not in stop and len(word) > 1 and not word.isdigit():
            weights[word] += weight
    expander = Expander(searcher.reader(), "body")
    expander.add(weights.most_common(KEY_TERM_CANDIDATES))
    return expander.expanded_terms(count)


@cache
def boilerplate() -> tuple[str, ...]:
    """Return the genre's set phrases (``data/dict/boilerplate.txt``)."""
    return tuple(_word_list("boilerplate.txt"))


@cache
def genre_stopwords() -> frozenset[str]:
    """Return the words every reply uses (``data/dict/genre_stopwords.txt``)."""
    return frozenset(_word_list("genre_stopwords.txt"))


def _word_list(name: str) -> list[str]:
    with data.path("dict", name).open(encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.startswith("#")]


def substance(body: str) -> list[str]:
    """Return the body's sentences without those made of the genre's set phrases."""
    cues = boilerplate()
    return [s for s in _SENTENCE_END.split(body) if s.strip() and not any(c in s for c in cues)]


def _facets(arrays: _FacetArrays, base: np.ndarray, allowed: dict[str, np.ndarray], selected: dict):
    """Yield the facets, each counted over the docs that pass every *other* facet."""
    for facet in FACETS:
        pool = np.logical_and.reduce([base, *(docs for name, docs in allowed.items() if name != facet.name)])
        counts = arrays.count(facet.name, pool)
        chosen = selected.get(facet.name, ())
        ranges = [_bounds(v) for v in chosen if facet.ranges and _RANGE.match(v)]
        for value in chosen:
            if not (facet.ranges and _RANGE.match(value)):
                counts.setdefault(value, 0)  # a selected value stays visible at 0
        yield Facet(
            name=facet.name,
            values=tuple(
                FacetValue(value, n, value in chosen or _in_ranges((value,), ranges))
                for value, n in _ordered(counts, facet.order)
            ),
        )


def _snippets(body: str, needles, sections) -> tuple[Snippet, ...]:
    """Return the marked passages of a body, each with the heading of its section."""
    starts = [start for start, _ in sections]
    found = []
    for start, html in passages(body, needles):
        idx = bisect.bisect_right(starts, start) - 1
        found.append(Snippet(html=html, section=sections[idx][1] if idx >= 0 else None))
    return tuple(found)


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n")


def _notice(parsed: ParsedQuery, selection: _Selection) -> str | None:
    notices = [parsed.notice] if parsed.notice else []
    if selection.timed_out:
        notices.append(f"检索用时超过 {QUERY_SECONDS:g} 秒，已停止：结果不完整，请缩小检索范围")
    return "；".join(notices) or None


def _matches(entry: _Entry, searcher, query, deadline: float, *, scored: bool) -> tuple[Ranked, bool]:
    """Return every match in rank order, with its score when ``scored``, and whether
    time ran out.

    Trees of terms and phrases are evaluated on arrays (:mod:`indexer.terms`); anything
    else by Whoosh, which stops past the deadline and keeps what it matched so far.
    """
    fast = entry.terms.evaluate(searcher, query, scored=scored)
    if fast is not None:
        return fast, False
    collector = TimeLimitCollector(
        searcher.collector(limit=None, scored=scored),
        timelimit=max(deadline - time.monotonic(), 0.0),
        use_alarm=False,  # SIGALRM works only in the main thread; requests run in others
    )
    timed_out = False
    try:
        searcher.search_with_collector(query, collector)
    except TimeLimit:
        timed_out = True
    items = list(collector.results().items())
    docs = np.array([d for d, _ in items], dtype=np.int64)
    return (docs, np.array([score for _, score in items], dtype=float) if scored else None), timed_out


def _scoped(searcher, docs: Iterable[int], scopes: tuple[ScopeFilter, ...], deadline: float) -> tuple[set[int], bool]:
    """Keep the documents that satisfy every same-sentence/paragraph scope.

    Each check reads a stored body, so the check stops at the deadline: documents not
    checked by then are left out, and the second value says so.
    """
    for scope in scopes:
        kept = set()
        for docnum in docs:
            if time.monotonic() > deadline:
                return kept, True
            if in_one_scope(searcher.stored_fields(docnum)["body"], scope):
                kept.add(docnum)
        docs = kept
    return docs, False


def in_one_scope(body: str, scope: ScopeFilter) -> bool:
    """Return True if one sentence (or paragraph) of ``body`` holds every needle."""
    pieces = body.split("\n\n") if scope.kind == "paragraph" else _SENTENCE_END.split(body)
    return any(all(n in folded for n in scope.needles) for folded in map(fold, pieces))


def _ordered(counts: Counter[str], order: str) -> list[tuple[str, int]]:
    if order in ("value_desc", "value_asc"):
        return sorted(counts.items(), key=lambda kv: kv[0], reverse=order == "value_desc")
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def indexed_ids(index_dir: Path) -> set[str]:
    """Return the ids of every reply in the current index."""
    entry = _cache.get(Path(index_dir))
    with entry.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


