"""The search API: the only way the web layer and the CLI reach an index.

A :class:`ReplyIndex` is one index folder and every question the product asks of it.
Each operation takes the same path: its parameters are checked, its query parsed and
analysed (:mod:`indexer.query`), one deadline set for the whole request, and the
replies selected through a backend (:mod:`indexer.backend`; Whoosh today). Snippets
are marked here, from the stored text, so every backend shows the same passages.

Facet counting is disjunctive: a facet's own counts ignore its own selection, so
several values of one facet combine with OR while different facets combine with AND.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from .backend import SORTS, Backend, Deadline, Document, Reader, Request, Selection, open_backend
from .errors import QueryError, UnknownReply
from .facets import facet_list, is_range, ordered, spec
from .highlight import Runs, mark, match_spans, passages
from .plan import AllOf, AnyOf, Plan, Term
from .precedents import MAX_PASTE_CHARS, Precedents, Reuse, find_precedents, find_reuse
from .query import MAX_WITHIN, ParsedQuery, correction, narrowed, parse_query
from .results import (
    COMMITMENT_STATUSES,
    CommitmentEntry,
    CommitmentItem,
    CommitmentPage,
    Hit,
    QueryInfo,
    SearchResults,
    Snippet,
    Statistics,
    result_parts,
)
from .schema import FACET_NAMES
from .settings import Settings
from .similar import KEY_TERMS, MARKED_TERMS, candidate_words

__all__ = ["SORTS", "ReplyIndex", "needles"]

MAX_PRECEDENTS = 50  # passages shown per pasted paragraph, at most
FOLLOW_UPS = 3  # possible follow-ups shown per reply of the commitments ledger
_FOLLOW_UP_READS = 50  # replies read at a time while looking for the later ones


@dataclasses.dataclass(frozen=True)
class _Asked:
    """A request, checked and parsed: what every operation starts from."""

    parsed: ParsedQuery
    filters: dict[str, tuple[str, ...]]
    page: int
    per_page: int
    sort: str


class ReplyIndex:
    """One index folder: search, export, statistics, commitments, related replies.

    Thread-safe; a web app holds one per index folder for its whole life, and sees
    each new build without a restart.
    """

    def __init__(self, folder: str | Path, settings: Settings | None = None, backend: Backend | None = None) -> None:
        self.folder = Path(folder)
        self.settings = settings or Settings()
        self.backend: Backend = backend or open_backend(self.folder, self.settings)

    # --- the one path every query takes ------------------------------------------------

    def _ask(
        self,
        q: str,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None,
        page: Any,
        per_page: Any,
        sort: str,
        within: Sequence[str] = (),
    ) -> _Asked:
        """Check a request's parameters and parse its query, narrowed by ``within``.

        :raise QueryError: naming the parameter that is wrong.
        """
        clean: dict[str, tuple[str, ...]] = {}
        for name, values in (filters or {}).items():
            if name not in FACET_NAMES:
                raise QueryError(name, f"没有这个分面；可用的分面：{'、'.join(FACET_NAMES)}")
            kept = tuple(dict.fromkeys(v for v in values if v))
            if len(kept) > self.settings.max_selected:
                # Each selected value renders links carrying all the others: 2,000 of them
                # made a 247 MB page.
                raise QueryError(name, f"一次最多选择 {self.settings.max_selected} 个值，现为 {len(kept)} 个")
            if spec(name).ranges and not all((v.isascii() and v.isdigit()) or is_range(name, v) for v in kept):
                # Anything else would match nothing, silently: year=abc is a mistake to name.
                raise QueryError(name, "应为年份（如 2022）或年份范围（如 2019-2022）")
            if kept:
                clean[name] = kept
        if per_page is None:
            per_page = self.settings.per_page
        page = _whole("page", page)
        per_page = _whole("per_page", per_page)
        if page < 1:
            raise QueryError("page", "应为 1 或更大的整数")
        if not 1 <= per_page <= self.settings.max_per_page:
            raise QueryError("per_page", f"应为 1 到 {self.settings.max_per_page} 之间的整数")
        if sort not in SORTS:
            raise QueryError("sort", f"应为以下之一：{'、'.join(SORTS)}")
        searched = tuple(dict.fromkeys(w.strip() for w in within if w.strip()))
        if len(searched) > MAX_WITHIN:
            raise QueryError("within", f"结果中检索最多 {MAX_WITHIN} 次，现为 {len(searched)} 次")
        parsed = narrowed(parse_query(q, self._frequencies), [parse_query(w, self._frequencies) for w in searched])
        return _Asked(parsed, clean, page, per_page, sort)

    def _frequencies(self, plans: Sequence[Plan]) -> list[int]:
        """Return how many replies of the index each plan matches: what tells a query's
        words from those the index holds only as characters."""
        with self.backend.reader() as reader:
            return reader.frequencies(plans, self.deadline())

    def deadline(self) -> Deadline:
        """Start the time one request may spend: pass it to every call the request makes
        (a page asks for its results and its statistics within one budget)."""
        return Deadline(self.settings.query_seconds)

    @contextmanager
    def _selecting(
        self, asked: _Asked, deadline: Deadline | None, **narrowing: Any
    ) -> Iterator[tuple[Reader, Selection, Deadline]]:
        """Select the replies of a request, holding one state of the index meanwhile."""
        deadline = deadline or self.deadline()
        request = Request(asked.parsed.query, asked.parsed.scopes, asked.filters, asked.sort, **narrowing)
        with self.backend.reader() as reader:
            yield reader, reader.select(request, deadline), deadline

    def _notice(self, parsed: ParsedQuery, selection: Selection) -> str | None:
        notices = [parsed.notice] if parsed.notice else []
        if selection.timed_out:
            notices.append(f"检索用时超过 {self.settings.query_seconds:g} 秒，已停止：结果不完整，请缩小检索范围")
        return "；".join(notices) or None

    def _every_hit(self, reader: Reader, selection: Selection, shown: tuple = ()) -> list[Hit]:
        """Return every selected reply as a hit: an export promises all of them; with
        ``shown`` (what a query marks), each with its first passage that holds it."""
        self._complete(selection)
        if not shown:
            return [Hit.from_display(doc.display) for doc in reader.documents(selection, bodies=False)]
        return [_hit(doc, shown, None, snippets=1) for doc in reader.documents(selection)]

    def _complete(self, selection: Selection) -> None:
        """Refuse a selection the deadline cut short: an export is never a silent part of it.

        :raise QueryError: when the query ran out of time.
        """
        if selection.timed_out:
            raise QueryError("q", f"该检索用时超过 {self.settings.query_seconds:g} 秒，请缩小范围后再导出")

    # --- operations ---------------------------------------------------------------------

    def search(
        self,
        q: str = "",
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None = None,
        page: Any = 1,
        per_page: Any = None,
        sort: str = "relevance",
        within: Sequence[str] = (),
        deadline: Deadline | None = None,
    ) -> SearchResults:
        """Search: one page of hits, with facet counts for the whole result.

        :param filters: selected values per facet name; values of one facet are ORed.
        :param within: further queries each hit must also match (结果中检索), ANDed with ``q``.
        :raise QueryError: for an unknown facet, a bad page, page size or sort.
        :raise IndexerError: when there is no index to search.
        """
        started = time.perf_counter()
        asked = self._ask(q, filters, page, per_page, sort, within)
        parsed = asked.parsed
        with self._selecting(asked, deadline) as (reader, selection, deadline):
            exact_count = None
            if parsed.exact_query is not None:
                exact_count = reader.count(parsed.exact_query, parsed.scopes, deadline)
            suggestion = None
            if not selection.word_count and not selection.timed_out:
                suggestion = correction(
                    parsed,
                    lambda plans: reader.frequencies(plans, deadline),
                    lambda words: reader.neighbours(words, deadline),
                )
            matched = time.perf_counter()
            start = (asked.page - 1) * asked.per_page
            shown = _shown(parsed)
            hits = tuple(
                _hit(doc, shown, None if parsed.is_empty else doc.score)
                for doc in reader.documents(selection, start, start + asked.per_page)
            )
            snippets = time.perf_counter()
            facets = facet_list(reader.facets(selection), asked.filters)
        done = time.perf_counter()
        return SearchResults(
            q=q,
            total=selection.total,
            page=asked.page,
            per_page=asked.per_page,
            sort=asked.sort,
            hits=hits,
            facets=facets,
            filters=asked.filters,
            query=QueryInfo(
                terms=parsed.terms,
                phrases=parsed.phrases,
                segmented=parsed.segmented,
                notice=self._notice(parsed, selection),
                word_count=selection.word_count,
                exact_count=exact_count,
                suggestion=suggestion,
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

    def export(
        self,
        q: str = "",
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None = None,
        sort: str = "relevance",
        within: Sequence[str] = (),
        deadline: Deadline | None = None,
    ) -> list[Hit]:
        """Return every hit of a search, in order, each with the first passage that holds
        the query's words (none without words): no cap, for exports.

        :raise QueryError: also when the query runs out of time (an export is never cut short).
        """
        asked = self._ask(q, filters, 1, 1, sort, within)
        with self._selecting(asked, deadline) as (reader, selection, _):
            return self._every_hit(reader, selection, _shown(asked.parsed))

    def statistics(
        self,
        q: str = "",
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None = None,
        top: int = 30,
        within: Sequence[str] = (),
        deadline: Deadline | None = None,
    ) -> Statistics:
        """Count the replies a search selects by year, department, topic and result.

        :param top: how many departments to list (the most answering first).
        """
        with self._selecting(self._ask(q, filters, 1, 1, "oldest", within), deadline) as (reader, selection, _):
            departments = ordered(reader.counts(selection, "department"), "count")[:top]
            by_result = reader.crosstab(selection, "department", "result", {name for name, _ in departments})
            return Statistics(
                total=selection.total,
                by_year=tuple(ordered(reader.counts(selection, "year"), "value_asc")),
                by_department=tuple(departments),
                by_topic=tuple(ordered(reader.counts(selection, "topic"), "count")),
                results_by_department=tuple((name, result_parts(by_result[name])) for name, _ in departments),
            )

    def commitments(
        self,
        q: str = "",
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None = None,
        page: Any = 1,
        per_page: Any = None,
        target_year: Any = None,
        status: str | None = None,
        today: date | None = None,
        follow: int = FOLLOW_UPS,
        within: Sequence[str] = (),
        deadline: Deadline | None = None,
    ) -> CommitmentPage:
        """Return one page of the replies a search selects with the promises it asks for,
        newest first, each reply with up to ``follow`` possible follow-ups (:meth:`following`).

        With words in the query, a reply's promises are those that hold one of them,
        marked as snippets are; without, all of them. The counts cover every page.

        :param target_year: only the promises for this year (拟于2024年…).
        :param status: only the promises of one of :data:`COMMITMENT_STATUSES` on ``today``.
        :param today: the day statuses are told against; the real one by default.
        :param within: further queries each reply must also match (结果中检索), as in :meth:`search`.
        :raise QueryError: for a bad target year or status, and as :meth:`search` does.
        """
        asked = self._ask(q, filters, page, per_page, "newest", within)
        wanted = _Promised.asked(asked.parsed, target_year, status, today)
        start = (asked.page - 1) * asked.per_page
        with self._selecting(asked, deadline, committing=True) as (reader, selection, deadline):
            if wanted.every:
                # Every promise of every selected reply: the page is read alone (the
                # promises of all pages are not counted: that reads every reply).
                ledger = wanted.ledger(reader, selection, deadline, start, start + asked.per_page)
                total, promised = selection.total, None
            else:
                ledger = wanted.ledger(reader, selection, deadline)
                total, promised = len(ledger), sum(len(items) for _, items in ledger)
                ledger = ledger[start : start + asked.per_page]
            entries = tuple(CommitmentEntry(hit, items, self._following(reader, hit, follow, deadline))
                            for hit, items in ledger)
        return CommitmentPage(
            total=total,
            commitments=promised,
            page=asked.page,
            per_page=asked.per_page,
            entries=entries,
            today=wanted.today.isoformat(),
            timed_out=selection.timed_out or deadline.passed,
        )

    def commitment_ledger(
        self,
        q: str = "",
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None = None,
        target_year: Any = None,
        status: str | None = None,
        today: date | None = None,
        within: Sequence[str] = (),
        deadline: Deadline | None = None,
    ) -> tuple[CommitmentEntry, ...]:
        """Return every reply of :meth:`commitments`, with its promises, without follow-ups
        and without pages: for exports.

        :raise QueryError: as :meth:`commitments`, and when the query runs out of time
            (an export is never cut short).
        """
        asked = self._ask(q, filters, 1, 1, "newest", within)
        wanted = _Promised.asked(asked.parsed, target_year, status, today)
        with self._selecting(asked, deadline, committing=True) as (reader, selection, _):
            self._complete(selection)
            return tuple(CommitmentEntry(hit, items) for hit, items in wanted.ledger(reader, selection))

    def following(self, hit: Hit, *, limit: int = FOLLOW_UPS, deadline: Deadline | None = None) -> tuple[Hit, ...]:
        """Return the earliest replies dated after ``hit``: by its department on its topic,
        or to one of its proposal numbers (in its session when known), oldest first. They
        may follow up what it promised; a reply without a date has none."""
        with self.backend.reader() as reader:
            return self._following(reader, hit, limit, deadline or self.deadline())

    def _following(self, reader: Reader, hit: Hit, limit: int, deadline: Deadline) -> tuple[Hit, ...]:
        """Return :meth:`following` of a hit, within a state of the index already held."""
        plan = _follow_up_plan(hit)
        if plan is None or not hit.date or limit < 1:
            return ()
        # The year facet is the proposal's: a reply dated later answers one of this date's
        # year or after, or of the year before (answered the next January). Filtering on it
        # keeps the walk over the earlier replies short; a reply without a year is missed.
        years = f"{int(hit.date[:4]) - 1}-9999"
        selection = reader.select(Request(plan, filters={"year": (years,)}, sort="oldest"), deadline)
        later = (
            found
            for start in range(0, selection.total, _FOLLOW_UP_READS)
            for doc in reader.documents(selection, start, start + _FOLLOW_UP_READS, bodies=False)
            if (doc.display.get("date") or "") > hit.date and _follows_up(found := Hit.from_display(doc.display), hit)
        )
        return tuple(itertools.islice(later, limit))

    def preceding(
        self,
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]],
        before: str,
        limit: int = 5,
        deadline: Deadline | None = None,
    ) -> tuple[Hit, ...]:
        """Return the newest replies dated before ``before`` (an ISO date) among those the
        facet filters select: a department's earlier replies on a topic, for instance."""
        asked = self._ask("", filters, 1, 1, "newest")
        with self._selecting(asked, deadline, before=before) as (reader, selection, _):
            return tuple(Hit.from_display(doc.display) for doc in reader.documents(selection, 0, limit, bodies=False))

    def same_proposal(
        self,
        numbers: tuple[str, ...],
        *,
        session: str | None,
        exclude: str | None = None,
        deadline: Deadline | None = None,
    ) -> tuple[Hit, ...]:
        """Return the replies to any of these proposal numbers (主办 and 会办 together),
        in a session when it is known, oldest first; ``exclude`` is left out."""
        if not numbers:
            return ()
        asked = self._ask("", {"session": [session]} if session else {}, 1, 1, "oldest")
        plan = AnyOf(tuple(Term("numbers", n) for n in numbers))
        asked = dataclasses.replace(asked, parsed=dataclasses.replace(asked.parsed, query=plan))
        with self._selecting(asked, deadline) as (reader, selection, _):
            return tuple(hit for hit in self._every_hit(reader, selection) if hit.id != exclude)

    def similar(self, reply_id: str, *, limit: int = 5, deadline: Deadline | None = None) -> tuple[Hit, ...]:
        """Return the replies most like this one, by the key terms of its substance
        (:mod:`indexer.similar`).

        :raise UnknownReply: when the index holds no reply with this id.
        """
        deadline = deadline or self.deadline()
        with self.backend.reader() as reader:
            doc = reader.document(reply_id)
            if doc is None:
                raise UnknownReply(reply_id)
            terms = reader.key_terms(candidate_words(doc.display["title"], doc.body), KEY_TERMS)
            if not terms:
                return ()
            plan = AnyOf(tuple(Term("body", term, weight) for term, weight in terms))
            selection = reader.select(Request(plan), deadline)
            marked = [term for term, _ in terms[:MARKED_TERMS]]
            others = (d for d in reader.documents(selection, 0, limit + 1) if d.display["id"] != reply_id)
            return tuple(
                _hit(d, marked, None if d.score is None else d.score, snippets=1)
                for d in itertools.islice(others, limit)
            )

    def precedents(
        self,
        text: str,
        *,
        filters: Mapping[str, list[str] | tuple[str, ...]] | None = None,
        limit: Any = 10,
        deadline: Deadline | None = None,
    ) -> Precedents:
        """Return the earlier passages that say what a pasted text says, paragraph by
        paragraph, best first (:mod:`indexer.precedents`).

        :raise QueryError: for an empty or over-long text, a bad limit or facet filter.
        """
        text = (text or "").strip()
        if not text:
            raise QueryError("text", "请粘贴要查找先例的文字")
        if len(text) > MAX_PASTE_CHARS:
            raise QueryError("text", f"文字过长：最多 {MAX_PASTE_CHARS} 个字符，现为 {len(text)} 个")
        limit = _whole("limit", limit)
        if not 1 <= limit <= MAX_PRECEDENTS:
            raise QueryError("limit", f"应为 1 到 {MAX_PRECEDENTS} 之间的整数")
        asked = self._ask("", filters, 1, 1, "relevance")
        with self.backend.reader() as reader:
            return find_precedents(reader, text, asked.filters, limit, deadline or self.deadline())

    def reuse(self, reply_id: str, *, deadline: Deadline | None = None) -> Reuse:
        """Return the paragraphs of a reply that earlier replies said already, and the
        share of it that is new (:mod:`indexer.precedents`).

        :raise UnknownReply: when the index holds no reply with this id.
        """
        with self.backend.reader() as reader:
            doc = reader.document(reply_id)
            if doc is None:
                raise UnknownReply(reply_id)
            return find_reuse(reader, doc, deadline or self.deadline())

    def ids(self) -> set[str]:
        """Return the ids of every reply in the index."""
        with self.backend.reader() as reader:
            return reader.ids()

    def warmed(self, timeout: float | None = None) -> bool:
        """Wait for the index's background warm-up; return whether it has ended."""
        return self.backend.warmed(timeout)

    def forget_matches(self) -> None:
        """Forget remembered matches, so that the next queries are matched anew."""
        self.backend.forget_matches()

    def cache_info(self) -> tuple[int, int]:
        """Return how many matches were served from memory, and how many computed."""
        return self.backend.cache_info()

    def generation_id(self) -> str:
        """Return the identifier of the index generation in use; each build gives a new one.

        :raise IndexMissing: when no index has been built in the folder.
        """
        return self.backend.generation_id()

    def info(self) -> dict[str, Any] | None:
        """Return what the index in use was built from (the archive snapshot), or None."""
        return self.backend.info()

    def close(self) -> None:
        """Close the index's open files; an index not closed closes when collected."""
        self.backend.close()


def _whole(name: str, value: Any) -> int:
    """Return a parameter as a whole number.

    :raise QueryError: naming the parameter when it is not one.
    """
    try:
        return int(value)
    except (TypeError, ValueError):
        raise QueryError(name, "应为整数") from None


def needles(q: str) -> tuple[str, ...]:
    """Return what a query asks to see marked in a reply: its words and exact phrases."""
    parsed = parse_query(q)
    return (*parsed.terms, *parsed.phrases)


def _shown(parsed: ParsedQuery) -> tuple:
    """Return what a query marks in a hit's passages: its words, phrases and pasted text."""
    return (*parsed.terms, *parsed.phrases, *map(Runs, parsed.pasted))


def _hit(doc: Document, marked, score: float | None, snippets: int | None = None) -> Hit:
    """Return a stored reply as a hit, its passages holding ``marked`` as snippets."""
    sections = doc.display.get("sections", ())
    found = _snippets(doc.body, marked, sections)
    return Hit.from_display(
        doc.display,
        snippets=found[:snippets] if snippets else found,
        score=None if score is None else round(score, 4),
    )


def _snippets(body: str, marked, sections) -> tuple[Snippet, ...]:
    """Return the marked passages of a body, each with the heading of its section."""
    starts = [start for start, _ in sections]
    found = []
    for start, html in passages(body, marked):
        idx = bisect.bisect_right(starts, start) - 1
        found.append(Snippet(html=html, section=sections[idx][1] if idx >= 0 else None))
    return tuple(found)


def commitment_status(target_year: int | None, today: date) -> str:
    """Return what a promise's target year says on ``today``: overdue once the year has
    passed, pending until then, undated without one (:data:`COMMITMENT_STATUSES`)."""
    if target_year is None:
        return "undated"
    return "overdue" if target_year < today.year else "pending"


@dataclasses.dataclass(frozen=True)
class _Promised:
    """Which promises of the selected replies a commitments request lists."""

    needles: tuple[str, ...]  # the query's words and phrases; none: every promise
    target_year: int | None
    status: str | None
    today: date

    @classmethod
    def asked(cls, parsed: ParsedQuery, target_year: Any, status: str | None, today: date | None) -> _Promised:
        """Check a request's promise filters.

        :raise QueryError: naming ``target_year`` or ``status`` when it is wrong.
        """
        year = None
        if target_year not in (None, ""):
            text = str(target_year)
            if not (text.isascii() and text.isdigit() and len(text) == 4):
                raise QueryError("target_year", "应为四位数的年份（如 2024）")
            year = int(text)
        if status not in (None, "", *COMMITMENT_STATUSES):
            raise QueryError("status", "应为以下之一：overdue（已到期）、pending（未到期）、undated（未注明年份）")
        return cls((*parsed.terms, *parsed.phrases), year, status or None, today or date.today())

    def items(self, stored: Sequence[Sequence[Any]]) -> tuple[CommitmentItem, ...]:
        """Return the listed promises among a reply's stored ones, the query's words marked
        as the highlighter marks snippets."""
        found = []
        for text, cue, target_year, passage in stored:
            spans = match_spans(text, self.needles)
            status = commitment_status(target_year, self.today)
            if (self.needles and not spans) or (self.status and status != self.status):
                continue
            if self.target_year is not None and target_year != self.target_year:
                continue
            found.append(CommitmentItem(text, mark(text, spans), cue, target_year, status, passage))
        return tuple(found)

    @property
    def every(self) -> bool:
        """Whether every promise of the selected replies is listed (nothing narrows them)."""
        return not self.needles and self.target_year is None and self.status is None

    def ledger(
        self,
        reader: Reader,
        selection: Selection,
        deadline: Deadline | None = None,
        start: int = 0,
        stop: int | None = None,
    ) -> list[tuple[Hit, tuple[CommitmentItem, ...]]]:
        """Return the selected replies (from ``start`` to ``stop``) that have listed
        promises, with them, in order; as far as the deadline lets them be read."""
        found = []
        for doc in reader.documents(selection, start, stop, bodies=False):
            if deadline is not None and deadline.passed:
                break
            items = self.items(doc.display.get("commitments", ()))
            if items:
                found.append((Hit.from_display(doc.display), items))
        return found


def _follow_up_plan(hit: Hit) -> Plan | None:
    """Return what a reply's follow-ups match: its department's replies on its topic, and
    the replies to its proposal numbers (of any session: :func:`_follows_up` tells)."""
    plans: list[Plan] = []
    if hit.department and hit.topic:
        plans.append(AllOf((Term("department", hit.department), Term("topic", hit.topic))))
    plans.extend(Term("numbers", n) for n in hit.proposal_numbers)
    if not plans:
        return None
    return plans[0] if len(plans) == 1 else AnyOf(tuple(plans))


def _follows_up(later: Hit, hit: Hit) -> bool:
    """Return True when a later reply is one :func:`_follow_up_plan` means: of the same
    department on the same topic, or to one of the same proposal numbers in the same
    session when both state one (a number is reused by every session)."""
    if hit.department and hit.topic and (later.department, later.topic) == (hit.department, hit.topic):
        return True
    same_session = not (hit.session_label and later.session_label) or hit.session_label == later.session_label
    return same_session and not set(hit.proposal_numbers).isdisjoint(later.proposal_numbers)
