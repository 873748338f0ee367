"""Turn what a user typed into a Whoosh query, and say how it was read.

Quoted text (``"…"``, ``“…”`` or ``「…」``) is exact wording: it is folded and matched
as a phrase of character bigrams, so it finds every reply containing exactly that
sequence of characters, however jieba would segment it. Everything else is words:
segmented with the same analyzer as the index, combined with AND by default, with OR,
NOT, ``-word`` and parentheses. Broken syntax never fails: stray quotes are dropped and
the query runs as plain words, with a notice saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh import qparser
from whoosh.query import And, AndNot, Every, Not, NullQuery, Phrase, Query, Term

from .analysis import SEPARATOR, fold, segment
from .schema import CHAR_FIELD, EXACT_FIELD, WORD_FIELDS

MAX_QUERY_CHARS = 500
_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」')
_STRAY_QUOTES = re.compile(r'["“”「」]')


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query as the index will run it, plus what the UI should tell them."""

    query: Query
    phrases: tuple[str, ...]  # exact wordings, folded
    terms: tuple[str, ...]  # positive word terms, for highlighting
    segmented: tuple[str, ...]  # how the word part was segmented
    notice: str | None

    @property
    def is_empty(self) -> bool:
        """Return True when the user asked for nothing (browse everything)."""
        return isinstance(self.query, Every)


def _word_parser(schema) -> qparser.QueryParser:
    """Return a parser with only the syntax we document: no wildcards, fields or ranges."""
    parser = qparser.QueryParser(None, schema, plugins=[], group=qparser.AndGroup)
    for plugin in (
        qparser.WhitespacePlugin(),
        qparser.GroupPlugin(),
        qparser.OperatorsPlugin(),
        qparser.PlusMinusPlugin(),
        qparser.MultifieldPlugin(list(WORD_FIELDS)),
    ):
        parser.add_plugin(plugin)
    return parser


def exact_query(phrase: str) -> Query | None:
    """Return the query matching texts that contain ``phrase`` (already folded)."""
    if not phrase:
        return None
    if len(phrase) == 1:
        return Term(CHAR_FIELD, phrase)
    grams = [phrase[i : i + 2] for i in range(len(phrase) - 1)]
    return Term(EXACT_FIELD, grams[0]) if len(grams) == 1 else Phrase(EXACT_FIELD, grams)


def parse_query(schema, text: str) -> ParsedQuery:
    """Parse a user's query string; never raises for any input."""
    notices: list[str] = []
    text = text.replace(SEPARATOR, " ").strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"检索式过长，只使用了前 {MAX_QUERY_CHARS} 个字符")
    phrases = []
    for match in _QUOTED.finditer(text):
        folded = fold(next(g for g in match.groups() if g is not None))
        if folded:
            phrases.append(folded)
    rest = _QUOTED.sub(" ", text)
    if _STRAY_QUOTES.search(rest):
        rest = _STRAY_QUOTES.sub(" ", rest)
        notices.append("引号不成对，未配对的引号已忽略，其余部分按普通词语检索")

    word_query, terms = _words(schema, rest, notices)
    parts = [q for q in (word_query, *(exact_query(p) for p in phrases)) if q is not None]
    query: Query = Every() if not parts else parts[0] if len(parts) == 1 else And(parts)
    return ParsedQuery(
        query=query,
        phrases=tuple(dict.fromkeys(phrases)),
        terms=terms,
        segmented=tuple(w for w, _, _ in segment(rest)) if rest.strip() else (),
        notice="；".join(notices) or None,
    )


def _words(schema, text: str, notices: list[str]) -> tuple[Query | None, tuple[str, ...]]:
    if not text.strip():
        return None, ()
    try:
        query = _word_parser(schema).parse(text)
    except Exception:  # the parser's failure modes are not documented; words still run
        notices.append("检索式无法解析，已按普通词语检索")
        words = [w for w, _, _ in segment(text)]
        query = _word_parser(schema).parse(" ".join(words)) if words else None
    if query is None or query is NullQuery:
        return None, ()
    return query, tuple(dict.fromkeys(_positive_terms(query)))


def _positive_terms(query: Query) -> list[str]:
    """Return the word terms a matching reply contains (those under NOT excluded)."""
    if isinstance(query, Not):
        return []
    if isinstance(query, AndNot):
        return _positive_terms(query.a)
    if isinstance(query, Term):
        return [str(query.text)]
    found: list[str] = []
    for child in query.children():
        found.extend(_positive_terms(child))
    return found
