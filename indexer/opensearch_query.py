"""Plans (:mod:`indexer.plan`) as OpenSearch queries, and what the cluster cannot check.

The cluster holds every indexed field as the tokens our analysis gave (see
:mod:`indexer.opensearch_backend`), so a term of a plan is a ``term`` query and an exact
phrase a ``span_near`` of its bigrams. Proximity is the exception: the word fields
stack a long word's sub-words at its position, which a cluster cannot be given, so a
:class:`~indexer.plan.Nearby` is matched here (:func:`near`) with the semantics of the
Whoosh backend's span queries, on the candidates that hold all its words.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from functools import singledispatch
from typing import Any

from .plan import AllOf, AnyOf, Everything, Nearby, Phrase, Plan, Term, Without
from .schema import CHAR_FIELD, EXACT_FIELD, WORD_FIELDS

Query = dict[str, Any]

# Ids a Nearby matched, by plan: the translation puts them in the query as an ids filter.
Resolved = dict[Nearby, Sequence[str]]


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
    return {"constant_score": {"filter": {"ids": {"values": list(resolved[plan])}}}}


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


def candidates(node: Nearby) -> Query:
    """Return the query of the replies holding every word of a Nearby: those it may match."""
    words = dict.fromkeys(w for run in node.runs for w in run)
    return {"bool": {"filter": [{"term": {"body": w}} for w in words]}}


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
