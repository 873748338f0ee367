"""Plans (:mod:`indexer.plan`) as OpenSearch queries, and what the cluster cannot check.

The cluster holds every indexed field as the tokens our analysis gave (see
:mod:`indexer.opensearch_backend`), so a term of a plan is a ``term`` query and an exact
phrase a ``span_near`` of its bigrams. Proximity runs on the body's words at Whoosh's
positions (:data:`NEAR_FIELD`, sub-words stacked at their word's
position), as span queries whose matches are exactly those of the Whoosh backend's
``SpanNear2`` (:func:`near_query`). For a group of many words that query would be too
large: the cluster then selects the replies whose words fit one window, and :func:`near`
checks those here, on their words' positions.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from functools import singledispatch
from typing import Any

from .plan import AllOf, AnyOf, Everything, Nearby, Phrase, Plan, Term, Without
from .schema import CHAR_FIELD, EXACT_FIELD, WORD_FIELDS

Query = dict[str, Any]

# The body's words at Whoosh's positions, for proximity (see
# :func:`indexer.opensearch_backend.stacked`); the cluster's own field, not the schema's.
NEAR_FIELD = "near"
# Span terms of one proximity query at most, well under the cluster's 1,024 clauses: a
# group of many words (2 ** (runs - 1) orders of them all) is checked here instead.
MAX_SPAN_TERMS = 256

# What each Nearby of a plan matches, as a query (the cluster's spans, or the ids of the
# replies checked here): the translation puts it in the query as a filter.
Resolved = dict[Nearby, Query]


def to_query(plan: Plan, resolved: Resolved) -> Query:
    """Return the OpenSearch query matching what ``plan`` asks for; each Nearby of the
    plan must have been matched already, its replies given in ``resolved``."""
    return _to_query(plan, resolved)


@singledispatch
def _to_query(plan: Plan, resolved: Resolved) -> Query:
    raise TypeError(plan)


@_to_query.register
def _(plan: Term, resolved: Resolved) -> Query:
    # BM25F field weights become boosts: the same emphasis, scored per field.
    boost = plan.boost * WORD_FIELDS.get(plan.field, 1.0)
    return {"term": {plan.field: {"value": plan.text, "boost": boost}}}


@_to_query.register
def _(plan: Phrase, resolved: Resolved) -> Query:
    return exact_query(plan.text)


@_to_query.register
def _(plan: Nearby, resolved: Resolved) -> Query:
    return {"constant_score": {"filter": resolved[plan]}}


@_to_query.register
def _(plan: AllOf, resolved: Resolved) -> Query:
    must = [_to_query(c, resolved) for c in plan.children if not isinstance(c, Without)]
    must_not = [_to_query(c.child, resolved) for c in plan.children if isinstance(c, Without)]
    return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}


@_to_query.register
def _(plan: AnyOf, resolved: Resolved) -> Query:
    return {"bool": {"should": [_to_query(c, resolved) for c in plan.children], "minimum_should_match": 1}}


@_to_query.register
def _(plan: Without, resolved: Resolved) -> Query:
    return {"bool": {"must": [{"match_all": {}}], "must_not": [_to_query(plan.child, resolved)]}}


@_to_query.register
def _(plan: Everything, resolved: Resolved) -> Query:
    return {"match_all": {}}


def exact_query(phrase: str) -> Query:
    """Return the query of the texts containing ``phrase`` (folded): one character is a
    term of the character field, two a bigram, more every overlapping bigram at
    consecutive positions (bigrams sit at their character's position: a substring)."""
    if len(phrase) == 1:
        return {"term": {CHAR_FIELD: phrase}}
    grams = [phrase[i : i + 2] for i in range(len(phrase) - 1)]
    if len(grams) == 1:
        return {"term": {EXACT_FIELD: grams[0]}}
    clauses = [{"span_term": {EXACT_FIELD: gram}} for gram in grams]
    return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True}}


def nearby_nodes(plan: Plan) -> list[Nearby]:
    """Return the Nearby nodes of a plan, each once."""
    found: list[Nearby] = []
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, Nearby) and node not in found:
            found.append(node)
        elif isinstance(node, (AllOf, AnyOf)):
            stack.extend(node.children)
        elif isinstance(node, Without):
            stack.append(node.child)
    return found


def near_query(node: Nearby) -> tuple[Query, bool]:
    """Return the span query of a Nearby, and whether its matches are exactly the Nearby's
    (otherwise they are a superset, to be checked with :func:`near`).

    Whoosh's ``SpanNear2`` takes the runs in query order, each placed left or right of
    the span of those before, never overlapping it. A run placed right may begin up to
    ``slop`` positions after that span ends; a run placed left must begin at most
    ``slop`` positions before that span begins (Whoosh looks for it from there), so a run
    of n words may end at most ``slop - n`` positions before. Each choice of sides is an
    order of the runs in the text, its neighbours apart by at most those gaps: a chain of
    ordered ``span_near``, nested to the right, each of one gap. Lucene's ordered spans
    never overlap, and for each start of its first clause an ordered span takes the
    nearest start of its second: the nearest is the one to check, since only the second's
    start counts for that gap. So the ``span_or`` of the orders matches exactly where
    Whoosh does.

    Beyond :data:`MAX_SPAN_TERMS` span terms in all, the query is an unordered
    ``span_near`` whose slop is the sum of the gaps allowed: every match of the Nearby is
    one of its matches.
    """
    runs = [_run(run) for run in node.runs]
    orders: dict[str, Query] = {}
    for sides in range(2 ** (len(runs) - 1)):
        left = [i for i in range(1, len(runs)) if sides >> (i - 1) & 1]
        sequence = [*reversed(left), 0, *(i for i in range(1, len(runs)) if i not in left)]
        # The gap after each run but the last: a left run's by its length, else slop - 1.
        gaps = [node.slop - len(node.runs[i]) if at < len(left) else node.slop - 1
                for at, i in enumerate(sequence[:-1])]
        if min(gaps, default=0) < 0:
            continue  # a run longer than the slop cannot stand on the left
        chain = runs[sequence[-1]]
        for i, gap in zip(reversed(sequence[:-1]), reversed(gaps), strict=True):
            chain = _ordered([runs[i], chain], gap)
        orders.setdefault(repr(chain), chain)
    if len(orders) * sum(map(len, node.runs)) > MAX_SPAN_TERMS:
        return {"span_near": {"clauses": runs, "slop": (node.slop - 1) * (len(runs) - 1), "in_order": False}}, False
    if len(orders) == 1:
        return next(iter(orders.values())), True
    return {"span_or": {"clauses": list(orders.values())}}, True


def _run(words: Sequence[str]) -> Query:
    """Return the span of a run of words at consecutive positions of the body."""
    terms = [{"span_term": {NEAR_FIELD: word}} for word in words]
    return terms[0] if len(terms) == 1 else _ordered(terms, 0)


def _ordered(clauses: list[Query], slop: int) -> Query:
    return {"span_near": {"clauses": clauses, "slop": slop, "in_order": True}}


# --- proximity, as the Whoosh backend's span queries match it --------------------------

Span = tuple[int, int]  # first and last word position, inclusive


def near(node: Nearby, positions: Callable[[str], list[int]]) -> bool:
    """Return True when a body matches a Nearby, given each word's positions in it.

    Each run is a chain of words at consecutive positions; the runs' spans are then
    chained left to right, each within ``slop`` positions of the span so far, in any
    order and never overlapping: the semantics of Whoosh's ``SpanNear2`` (ordered with
    slop 1 for a run, unordered with the node's slop between runs).
    """
    spans = [_chain([[(p, p) for p in positions(w)] for w in run], 1, ordered=True) for run in node.runs]
    if len(spans) == 1:
        return bool(spans[0])
    return bool(_chain(spans, node.slop, ordered=False))


def _chain(lists: list[list[Span]], slop: int, *, ordered: bool) -> list[Span]:
    """Fold lists of spans left to right, keeping the joined spans of each step."""
    current = sorted(set(lists[0]))
    for following in lists[1:]:
        if not current:
            return []
        following = sorted(set(following))
        starts = [s for s, _ in following]
        joined: set[Span] = set()
        for a_start, a_end in current:
            first = a_start if ordered else max(0, a_start - slop)
            for b_start, b_end in following[bisect.bisect_left(starts, first) :]:
                if b_end < a_start - slop or (ordered and a_start > b_start):
                    continue
                if b_start > a_end + slop:
                    break
                if 1 <= _distance((a_start, a_end), (b_start, b_end)) <= slop:
                    joined.add((min(a_start, b_start), max(a_end, b_end)))
        current = sorted(joined)
    return current


def _distance(a: Span, b: Span) -> int:
    """Return the positions from one span to the other; 0 when they overlap."""
    if a[0] <= b[1] and b[0] <= a[1]:
        return 0
    return b[0] - a[1] if a[1] < b[0] else a[0] - b[1]
