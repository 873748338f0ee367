"""Plans (:mod:`indexer.plan`) as Whoosh queries: the Whoosh backend's translation."""

from __future__ import annotations

from functools import singledispatch

from whoosh.matching import WrappingMatcher
from whoosh.query import And, Every, Not, Or, Query
from whoosh.query import Term as WhooshTerm
from whoosh.query.spans import SpanNear2
from whoosh.query.wrappers import WrappingQuery

from .build import stored_exact_text
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

    The bigram field keeps no positions: a phrase of three characters or more is the
    documents holding the bigrams that cover each of its characters once (those starting
    at characters 0, 2, 4 … plus, for an odd length, the last one), kept where the folded
    text contains the phrase.
    """
    if len(phrase) == 1:
        return WhooshTerm(CHAR_FIELD, phrase)
    if len(phrase) == 2:
        return WhooshTerm(EXACT_FIELD, phrase)
    last = len(phrase) - 2
    starts = [*range(0, last + 1, 2), *([last] if last % 2 else [])]
    return ExactPhrase(phrase, And([WhooshTerm(EXACT_FIELD, phrase[i : i + 2]) for i in starts]))


class ExactPhrase(WrappingQuery):
    """A folded phrase of three characters or more: the documents its bigrams' query
    (``child``) matches whose folded text contains it, scored as those bigrams.

    :mod:`indexer.terms` matches it in the generation's folded texts once it holds them;
    Whoosh (before then, or inside a query the arrays do not evaluate) reads each
    candidate's text from its stored fields.
    """

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

    def matcher(self, searcher, context=None):
        return _ContainingMatcher(self.child.matcher(searcher, context), self.phrase, searcher)


class _ContainingMatcher(WrappingMatcher):
    """The documents of a child matcher whose stored folded text contains ``phrase``.

    ``searcher`` is the one the child matches in (a segment's: its document numbers).
    """

    def __init__(self, child, phrase: str, searcher) -> None:
        super().__init__(child)
        self._phrase = phrase
        self._searcher = searcher
        self._skip_unmatched()

    def _skip_unmatched(self) -> None:
        child = self.child
        while child.is_active() and self._phrase not in stored_exact_text(self._searcher.stored_fields(child.id())):
            child.next()

    def copy(self) -> _ContainingMatcher:
        return _ContainingMatcher(self.child.copy(), self._phrase, self._searcher)

    def _replacement(self, newchild) -> _ContainingMatcher:
        return _ContainingMatcher(newchild, self._phrase, self._searcher)

    def reset(self) -> None:
        self.child.reset()
        self._skip_unmatched()

    def next(self) -> None:
        self.child.next()
        self._skip_unmatched()

    def skip_to(self, target) -> None:
        self.child.skip_to(target)
        self._skip_unmatched()

    def all_ids(self):
        while self.is_active():
            yield self.id()
            self.next()

    def supports_block_quality(self) -> bool:
        # Skipping by quality would land on documents not checked.
        return False
