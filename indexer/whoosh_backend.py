"""The Whoosh backend: one index folder on this machine.

Each build writes a new generation folder (:mod:`indexer.build`); the next request
opens it, no restart needed. An open generation keeps its facet arrays
(:class:`~indexer.facets.FacetArrays`), its term arrays (:class:`~indexer.terms.TermArrays`),
a pool of idle searchers and the matches of its recent queries. Queries that are trees
of terms are matched on the arrays, the others by Whoosh, which stops at the
request's deadline. No Whoosh object leaves this module.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.classify import Expander
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.index import Index

from reply_archive.archive.model import Reply

from .backend import Deadline, Document, Request
from .build import build_index, check_format, current_generation, index_info, open_generation, update_index
from .errors import IndexerError
from .facets import FacetArrays, SegmentPostings
from .plan import Everything, Plan
from .query import ScopeFilter, in_one_scope
from .schema import FACET_NAMES
from .settings import Settings
from .terms import Ranked, TermArrays
from .whoosh_query import to_whoosh


@dataclass
class Generation:
    """An open index generation: its arrays, a pool of idle searchers, its matches.

    Opening a searcher maps every segment file (several ms); a pooled one is reused.
    A searcher serves one call at a time, so threads never share one.
    """

    ix: Index
    folder: str  # the generation folder it was opened from
    arrays: FacetArrays
    terms: TermArrays
    settings: Settings
    # Shared by the backend's generations: how many queries Whoosh's per-document
    # matchers may run at once, so a few slow queries cannot take every worker thread.
    slow_lane: threading.BoundedSemaphore
    idle: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    retired: bool = False
    # The matches of recent queries. A generation never changes, so they stay true;
    # paging through results or clicking facets reruns the same query.
    matches: OrderedDict = field(default_factory=OrderedDict)

    def cached(self, key: tuple, compute: Callable[[], tuple[Ranked, bool]], stats: list[int]) -> tuple[Ranked, bool]:
        """Return the cached ``(ranked matches, timed out)`` for ``key``, or compute them.

        Timed-out (partial) matches are not kept: the next try may finish. ``stats``
        counts ``[served from memory, computed]``.
        """
        with self.lock:
            if key in self.matches:
                self.matches.move_to_end(key)
                stats[0] += 1
                return self.matches[key]
        found = compute()
        with self.lock:
            stats[1] += 1
            if not found[1]:
                self.matches[key] = found
                while len(self.matches) > self.settings.match_cache_size:
                    self.matches.popitem(last=False)
        return found

    @contextmanager
    def searcher(self) -> Iterator[Any]:
        """Lend an idle searcher (or a new one) for one request."""
        with self.lock:
            searcher = self.idle.pop() if self.idle else None
        if searcher is None:
            searcher = self.ix.searcher()
        try:
            yield searcher
        finally:
            with self.lock:
                keep = not self.retired and len(self.idle) < self.settings.pool_size
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


class WhooshBackend:
    """The index in one folder, read through its current generation."""

    def __init__(self, folder: str | Path, settings: Settings) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self._lock = threading.Lock()
        # The open generation, in a list the finalizer shares: when the backend goes
        # (an app or a test's index dropped), its searchers' files are closed.
        self._open: list[Generation] = []
        self._close = weakref.finalize(self, _retire, self._open)
        self._stats = [0, 0]  # matches served from memory, computed
        self._slow_lane = threading.BoundedSemaphore(settings.slow_queries)
        self._facet_segments: SegmentPostings = {}  # kept from one generation to the next

    def generation(self) -> Generation:
        """Return the current generation, opening it when a build has swapped in a new one.

        :raise IndexMissing: when no index has been built in the folder.
        :raise IndexStale: when another index format version built it.
        """
        gen = current_generation(self.folder)
        with self._lock:
            current = self._open[0] if self._open else None
            # Generations are written once and never changed: a new build is a new folder.
            if current is None or current.folder != str(gen):
                check_format(gen)
                try:
                    ix = open_generation(gen)
                    with ix.searcher() as searcher:
                        arrays = FacetArrays(searcher, self._facet_segments)
                        terms = TermArrays(searcher, self.settings.cached_postings)
                except (OSError, whoosh_index.EmptyIndexError) as exc:
                    raise IndexerError(f"cannot open the index in {self.folder}: {exc}") from None
                if current is not None:
                    current.retire()
                current = Generation(ix, str(gen), arrays, terms, self.settings, self._slow_lane)
                self._open[:] = [current]
                threading.Thread(target=terms.warm, args=(ix, gen), daemon=True).start()
            return current

    @contextmanager
    def reader(self) -> Iterator[WhooshReader]:
        """Hold the current generation and one of its searchers for one request."""
        generation = self.generation()
        with generation.searcher() as searcher:
            yield WhooshReader(generation, searcher, self._stats)

    def warmed(self, timeout: float | None = None) -> bool:
        """Wait for the field lengths and folded texts (which long exact phrases need to
        be matched fast) to be read; return whether that ended within ``timeout``."""
        return self.generation().terms.texts_loaded.wait(timeout)

    def forget_matches(self) -> None:
        """Forget the remembered matches of the current generation (benchmarks time
        matching itself)."""
        generation = self.generation()
        with generation.lock:
            generation.matches.clear()

    def cache_info(self) -> tuple[int, int]:
        """Return how many matches were served from memory, and how many computed."""
        return self._stats[0], self._stats[1]

    def generation_id(self) -> str:
        """Return the current generation folder's name, without opening the generation.

        :raise IndexMissing: when no index has been built in the folder.
        """
        return current_generation(self.folder).name

    def close(self) -> None:
        """Close the open generation's searchers (those in use, once they come back)."""
        self._close()

    def where(self) -> str:
        """Return the index folder."""
        return str(self.folder)

    def info(self) -> dict[str, Any] | None:
        """Return what the current generation was built from."""
        return index_info(self.folder)

    def build(
        self,
        replies: Iterable[Reply],
        *,
        info: Callable[[], dict[str, Any]] | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        procs: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Build a new generation (:func:`indexer.build.build_index`)."""
        return build_index(replies, self.folder, info=info, aliases=aliases, procs=procs, progress=progress)

    def update(
        self,
        replies: Iterable[Reply],
        *,
        delete: Iterable[str] = (),
        info: Callable[[], dict[str, Any]] | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        procs: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Update a copy of the current generation (:func:`indexer.build.update_index`)."""
        return update_index(
            replies, self.folder, delete=delete, info=info, aliases=aliases, procs=procs, progress=progress
        )


def _retire(generations: list[Generation]) -> None:
    for generation in generations:
        generation.retire()
    generations.clear()


@dataclass
class WhooshSelection:
    """Selected documents as masks and orders over the generation's document numbers."""

    base: np.ndarray  # mask of the query's matches (and scopes), before facet filters
    allowed: dict[str, np.ndarray]  # per selected facet, the mask of base docs it lets through
    order: np.ndarray  # the final docs, in the requested order
    scores: np.ndarray | None  # score by document number, when ranked by relevance
    timed_out: bool

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def word_count(self) -> int:
        return int(self.base.sum())


class WhooshReader:
    """One generation and one searcher, answering the questions of one request."""

    def __init__(self, generation: Generation, searcher, stats: list[int]) -> None:
        self._gen = generation
        self._searcher = searcher
        self._stats = stats

    def _ranked(self, plan: Plan, deadline: Deadline, *, scored: bool) -> tuple[Ranked, bool]:
        """Return a plan's matches (remembered by the generation), and whether time ran out."""
        return self._gen.cached(
            (plan, scored), lambda: _matches(self._gen, self._searcher, plan, deadline, scored=scored), self._stats
        )

    def select(self, request: Request, deadline: Deadline) -> WhooshSelection:
        """Evaluate the query once: every match, scored, then facet filters and order.

        One pass over the index gives both the facet counts' base set and the ranking,
        so an expensive query (a long exact phrase) is matched once, not twice.
        """
        scored = request.sort == "relevance" and not isinstance(request.plan, Everything)
        (docs, scores), timed_out = self._ranked(request.plan, deadline, scored=scored)
        arrays = self._gen.arrays
        base = arrays.none()
        if request.scopes:
            kept, late = self._scoped(docs.tolist(), request.scopes, deadline)
            base[list(kept)] = True
            timed_out = timed_out or late
        else:
            base[docs] = True
        allowed = {name: arrays.matching(name, set(values), base) for name, values in request.filters.items()}
        final = np.logical_and.reduce([base, *allowed.values()])
        if request.committing:
            final &= arrays.with_commitments
        if request.before is not None:
            dates = arrays.date_array(self._searcher)  # built once per generation, not per request
            final &= (dates != "") & (dates < request.before)
        if request.sort == "relevance":
            order = docs[final[docs]]
        else:
            ordered = arrays.by_number(self._searcher) if request.sort == "number" else arrays.by_date(self._searcher)
            order = ordered[final[ordered]]
            if request.sort == "newest":
                order = order[::-1]
        by_doc = None
        if scores is not None:
            by_doc = np.zeros(arrays.size)
            by_doc[docs] = scores
        return WhooshSelection(base=base, allowed=allowed, order=order, scores=by_doc, timed_out=timed_out)

    def count(self, plan: Plan, scopes: tuple[ScopeFilter, ...], deadline: Deadline) -> int | None:
        """Count a plan's matches within the scopes; None when time ran out."""
        (docs, _), late = self._ranked(plan, deadline, scored=False)
        kept, late_scope = self._scoped(docs.tolist(), scopes, deadline)
        return None if late or late_scope else len(kept)

    def frequencies(self, plans: Sequence[Plan], deadline: Deadline) -> list[int]:
        """Count each plan's matches, on the term arrays (whose postings the query then
        reuses), without remembering them as a query's matches."""
        return [len(_matches(self._gen, self._searcher, plan, deadline, scored=False)[0][0]) for plan in plans]

    def neighbours(self, words: Sequence[str], deadline: Deadline) -> list[list[str]]:
        """Return the body words one edit from each word (the generation's sorted words)."""
        return [self._gen.terms.neighbours(self._searcher, word) for word in words]

    def documents(
        self, selection: WhooshSelection, start: int = 0, stop: int | None = None, *, bodies: bool = True
    ) -> Iterator[Document]:
        """Yield stored replies of the selection, in its order (bodies come with them:
        they are stored together)."""
        for docnum in selection.order[start:stop].tolist():
            stored = self._searcher.stored_fields(docnum)
            score = None if selection.scores is None else float(selection.scores[docnum])
            yield Document(stored["display"], stored["body"], score)

    def facets(self, selection: WhooshSelection) -> dict[str, Counter[str]]:
        """Count each facet over the docs that pass every *other* facet."""
        counts = {}
        for name in FACET_NAMES:
            others = (docs for other, docs in selection.allowed.items() if other != name)
            counts[name] = self._gen.arrays.count(name, np.logical_and.reduce([selection.base, *others]))
        return counts

    def counts(self, selection: WhooshSelection, facet: str) -> Counter[str]:
        """Count one facet over the selected docs."""
        return self._gen.arrays.count(facet, self._mask(selection))

    def crosstab(self, selection: WhooshSelection, rows: str, columns: str, keep: set[str]) -> dict[str, Counter[str]]:
        """Count the selected docs by ``columns`` for each value of ``rows`` kept."""
        arrays = self._gen.arrays
        row_values = arrays.facets[rows].per_doc(arrays.size)
        column_values = arrays.facets[columns].per_doc(arrays.size)
        table: dict[str, Counter[str]] = {name: Counter() for name in keep}
        for d in selection.order.tolist():
            for name in row_values[d]:
                if name in table:
                    table[name].update(column_values[d] or ("",))
        return table

    def _mask(self, selection: WhooshSelection) -> np.ndarray:
        mask = self._gen.arrays.none()
        mask[selection.order] = True
        return mask

    def document(self, reply_id: str) -> Document | None:
        """Return a stored reply by id."""
        docnum = self._searcher.document_number(id=reply_id)
        if docnum is None:
            return None
        stored = self._searcher.stored_fields(docnum)
        return Document(stored["display"], stored["body"])

    def key_terms(self, weights: Counter[str], count: int) -> list[tuple[str, float]]:
        """Return the key terms among the candidates by Whoosh's Bo1 model."""
        expander = Expander(self._searcher.reader(), "body")
        expander.add(weights.most_common())
        return expander.expanded_terms(count)

    def ids(self) -> set[str]:
        """Return the ids of every reply in the generation."""
        return {fields["id"] for fields in self._searcher.all_stored_fields()}

    def _scoped(
        self, docs: Iterable[int], scopes: tuple[ScopeFilter, ...], deadline: Deadline
    ) -> tuple[set[int], bool]:
        """Keep the documents that satisfy every same-sentence/paragraph scope.

        Each check reads a stored body, so the check stops at the deadline: documents
        not checked by then are left out, and the second value says so.
        """
        kept = set(docs)
        for scope in scopes:
            checked: set[int] = set()
            for docnum in kept:
                if deadline.passed:
                    return checked, True
                if in_one_scope(self._searcher.stored_fields(docnum)["body"], scope):
                    checked.add(docnum)
            kept = checked
        return kept, False


def _matches(generation: Generation, searcher, plan: Plan, deadline: Deadline, *, scored: bool) -> tuple[Ranked, bool]:
    """Return every match in rank order, with its score when ``scored``, and whether
    time ran out.

    Trees of terms and phrases are evaluated on arrays (:mod:`indexer.terms`); anything
    else by Whoosh, which stops past the deadline and keeps what it matched so far. Only
    ``slow_queries`` of those run at once; one that cannot start before its deadline
    matches nothing and says it ran out of time.
    """
    query = to_whoosh(plan)
    fast = generation.terms.evaluate(searcher, query, scored=scored)
    if fast is not None:
        return fast, False
    if not generation.slow_lane.acquire(timeout=deadline.remaining()):
        return (np.empty(0, dtype=np.int64), np.empty(0) if scored else None), True
    try:
        return _whoosh_matches(searcher, query, deadline, scored=scored)
    finally:
        generation.slow_lane.release()


def _whoosh_matches(searcher, query, deadline: Deadline, *, scored: bool) -> tuple[Ranked, bool]:
    """Match a query with Whoosh's collector, stopping at the deadline."""
    collector = TimeLimitCollector(
        searcher.collector(limit=None, scored=scored),
        timelimit=deadline.remaining(),
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
