"""Plans (:mod:`indexer.plan`) as Whoosh queries: the Whoosh backend's translation."""

from __future__ import annotations

from functools import singledispatch

from whoosh.query import And, Every, Not, Or, Query
from whoosh.query import Term as WhooshTerm
from whoosh.query.spans import SpanNear2
from whoosh.query.wrappers import WrappingQuery

from .plan import AllOf, AnyOf, Everything, Nearby, Phrase, Plan, Term, Without
from .schema import CHAR_FIELD, EXACT_FIELD


@singledispatch
def to_whoosh(plan: Plan) -> Query:
    """Return the Whoosh query that matches what ``plan`` asks for."""
    raise TypeError(plan)


@to_whoosh.register
def _(plan: Term) -> Query:
    return WhooshTerm(plan.field, plan.text, boost=plan.boost)


@to_whoosh.register
def _(plan: Phrase) -> Query:
    return exact_query(plan.text)


@to_whoosh.register
def _(plan: Nearby) -> Query:
    spans = []
    for run in plan.runs:
        terms = [WhooshTerm("body", w) for w in run]
        spans.append(terms[0] if len(terms) == 1 else SpanNear2(terms, slop=1, ordered=True))
    return spans[0] if len(spans) == 1 else SpanNear2(spans, slop=plan.slop, ordered=False)


@to_whoosh.register
def _(plan: AllOf) -> Query:
    return And([to_whoosh(child) for child in plan.children])


@to_whoosh.register
def _(plan: AnyOf) -> Query:
    return Or([to_whoosh(child) for child in plan.children])


@to_whoosh.register
def _(plan: Without) -> Query:
    return Not(to_whoosh(plan.child))


@to_whoosh.register
def _(plan: Everything) -> Query:
    return Every()


def exact_query(phrase: str) -> Query:
    """Return the query matching texts that contain ``phrase`` (already folded).

    Bigram tokens sit at their character's position, so the phrase is pinned down by
    bigrams that cover each of its characters once, at fixed distances: those starting
    at characters 0, 2, 4 … plus, for an odd length, the last one, one step after the
    previous. That is half the terms of a phrase of every overlapping bigram, for the
    same exact match.
    """
    if len(phrase) == 1:
        return WhooshTerm(CHAR_FIELD, phrase)
    if len(phrase) == 2:
        return WhooshTerm(EXACT_FIELD, phrase)
    last = len(phrase) - 2
    cover = [WhooshTerm(EXACT_FIELD, phrase[i : i + 2]) for i in range(0, last + 1, 2)]
    query: Query = cover[0] if len(cover) == 1 else SpanNear2(cover, slop=2, mindist=2)
    if last % 2:
        query = SpanNear2([query, WhooshTerm(EXACT_FIELD, phrase[last : last + 2])], slop=1, mindist=1)
    return ExactPhrase(phrase, query)


class ExactPhrase(WrappingQuery):
    """A folded phrase of three characters or more, matched by the bigram spans it
    wraps; :mod:`indexer.terms` matches it in the folded texts when it holds them."""

    def __init__(self, phrase: str, child: Query) -> None:
        super().__init__(child)
        self.phrase = phrase

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.phrase!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.phrase == self.phrase

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.phrase))

    def _rewrap(self, child: Query) -> ExactPhrase:
        return type(self)(self.phrase, child)

    def bigrams(self) -> list[str]:
        """Return the bigram terms that every text containing the phrase holds."""
        return [t.text for t in self.child.leaves() if isinstance(t, WhooshTerm)]

