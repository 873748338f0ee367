"""The seam between the search API and a search engine.

:class:`~indexer.search.ReplyIndex` asks every question of the product through this
small interface, and a search engine answers it: Whoosh on one machine today
(:mod:`indexer.whoosh_backend`), an OpenSearch cluster beyond it
(:mod:`indexer.opensearch_backend`). What crosses the seam is
already analysed (:mod:`indexer.plan`): queries are segmented, folded and expanded on
our side, snippets are marked on our side, so every backend sees the same tokens and
gives the same answers.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from reply_archive.archive.model import Reply

from .plan import Plan
from .query import ScopeFilter
from .settings import Settings

SORTS = ("relevance", "newest", "oldest", "number")


class Deadline:
    """The time one request may spend, shared by all the work it does."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Return the seconds left (0 once past)."""
        return max(self.at - time.monotonic(), 0.0)

    @property
    def passed(self) -> bool:
        """Return True once the time is up."""
        return time.monotonic() > self.at


@dataclass(frozen=True)
class Request:
    """Which replies to select, and in which order."""

    plan: Plan
    scopes: tuple[ScopeFilter, ...] = ()  # same sentence / same paragraph conditions
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> values (ORed)
    sort: str = "relevance"  # one of SORTS
    before: str | None = None  # only replies dated before this ISO date
    committing: bool = False  # only replies that make commitments


@dataclass(frozen=True)
class Document:
    """A selected reply as the index stores it: what a hit shows, and its text."""

    display: dict[str, Any]
    body: str
    score: float | None = None


class Selection(Protocol):
    """The replies a request selected, in order (a backend keeps what it needs)."""

    @property
    def total(self) -> int:
        """Return how many replies were selected."""

    @property
    def word_count(self) -> int:
        """Return how many replies the query and its scopes select, before facet filters."""

    @property
    def timed_out(self) -> bool:
        """Return True when the deadline passed: the selection may be incomplete."""


# The selection type of one backend: a reader only takes back the selections it made.
SelectionT = TypeVar("SelectionT", bound=Selection)


class Reader(Protocol[SelectionT]):
    """One unchanging state of the index, held for the span of one request."""

    def select(self, request: Request, deadline: Deadline) -> SelectionT:
        """Select the replies of a request; past the deadline, those found so far."""

    def count(self, plan: Plan, scopes: tuple[ScopeFilter, ...], deadline: Deadline) -> int | None:
        """Count the replies a plan matches (None when the deadline passed first)."""

    def documents(
        self, selection: SelectionT, start: int = 0, stop: int | None = None, *, bodies: bool = True
    ) -> Iterator[Document]:
        """Yield the selected replies from ``start`` to ``stop``, in order, scored when
        ranked by relevance; without ``bodies``, a document's body may be left empty
        (lists and exports show only what a hit shows)."""

    def facets(self, selection: SelectionT) -> dict[str, Counter[str]]:
        """Count each facet's values over the replies selected by the query and every
        *other* facet's filter (a facet's own values combine with OR)."""

    def counts(self, selection: SelectionT, facet: str) -> Counter[str]:
        """Count one facet's values over the selected replies."""

    def crosstab(self, selection: SelectionT, rows: str, columns: str, keep: set[str]) -> dict[str, Counter[str]]:
        """Count, for each value of ``rows`` in ``keep``, the selected replies by their
        values of ``columns`` ("" for a reply without one)."""

    def document(self, reply_id: str) -> Document | None:
        """Return one reply by id, or None when the index does not hold it."""

    def frequencies(self, plans: Sequence[Plan], deadline: Deadline) -> list[int]:
        """Return how many replies each plan (of terms and phrases) matches: the document
        frequencies that tell a query's words from what the index holds only as
        characters, exact (a replaced or deleted reply is not counted)."""

    def neighbours(self, words: Sequence[str], deadline: Deadline) -> list[list[str]]:
        """Return, for each word, the words of the replies' bodies one edit from it
        (:func:`~indexer.query.is_neighbour`): what a misspelt word may have meant."""

    def key_terms(self, weights: Counter[str], count: int) -> list[tuple[str, float]]:
        """Weigh a text's candidate words against the collection (by how much more
        often the text uses them than replies do); return the ``count`` best."""

    def ids(self) -> set[str]:
        """Return the id of every reply in the index."""


class Backend(Protocol):
    """A search engine holding one archive's index: read one state at a time, written a
    whole new state at a time (a build, or an update of a copy), never in place."""

    def reader(self) -> AbstractContextManager[Reader[Any]]:
        """Hold the current state of the index for one request."""

    def warmed(self, timeout: float | None = None) -> bool:
        """Wait for the current state's background warm-up; return whether it ended."""

    def forget_matches(self) -> None:
        """Forget remembered matches: the next queries are matched anew."""

    def cache_info(self) -> tuple[int, int]:
        """Return how many matches were served from memory, and how many computed."""

    def generation_id(self) -> str:
        """Return the identifier of the index's current state; each build gives a new one."""

    def close(self) -> None:
        """Let go of what the backend holds open (files, connections)."""

    def where(self) -> str:
        """Return where the index is (a folder, a cluster), for messages."""

    def info(self) -> dict[str, Any] | None:
        """Return what the current state was built from (the ``info`` of its build), or None."""

    def build(
        self,
        replies: Iterable[Reply],
        *,
        info: Callable[[], dict[str, Any]] | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        procs: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Index every reply as a new state and make it current; return how many.

        :param info: called once the replies are consumed: what to keep with the state.
        :param aliases: every name of a department, by canonical name.
        :param procs: processes that may analyse replies in parallel.
        :param progress: called with how many more replies are written, as they are.
        :raise IndexBusy: when another build is running.
        """

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
        """Add or replace replies and delete the ids in ``delete``, in a new state made
        from the current one; return how many replies were written (``procs`` as for
        :meth:`build`).

        :raise IndexMissing: when there is no current state to update.
        """


def open_backend(folder: str | Path, settings: Settings) -> Backend:
    """Return the backend the settings name, for the index folder ``folder`` (Whoosh's
    index, or the local folder of a cluster index's build lock)."""
    if settings.backend == "opensearch":
        from .opensearch_backend import OpenSearchBackend  # its client is only needed here

        return OpenSearchBackend(folder, settings)
    from .whoosh_backend import WhooshBackend

    return WhooshBackend(folder, settings)
