"""Term queries evaluated on arrays: the common queries without Whoosh's matchers.

Whoosh matches and scores one document at a time in Python (5-10 µs per matching
document, so 100-200 ms once a common word matches most of 10,000 replies). Most
queries are trees of terms: words (each an OR over the word fields), exact phrases of
one or two characters (one term of the character fields), AND, OR and NOT of those.
Such a tree is evaluated here on arrays: each term's postings are read block by block
into a document array and a BM25F score array (computed exactly as Whoosh's BM25F
scorer does, from the same statistics), and AND, OR and NOT become array
intersections, unions and differences. A longer exact phrase takes the documents
holding all its bigrams and keeps those whose folded text contains it (a SIMD
substring test, :class:`FoldedTexts`; Whoosh reads and folds each candidate's stored
text). Anything else
(proximity, fields without lengths) returns None and Whoosh evaluates it.

A generation never changes, so each term's arrays are kept (up to a bound) and
reused by later queries; so are its body words, sorted, for the words one edit from a
misspelt one (:meth:`TermArrays.neighbours`).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import stringzilla
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.index import Index
from whoosh.query import And, Every, Not, Or, Query, Term
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

from .build import iter_texts
from .query import is_neighbour
from .schema import CHAR_FIELD, EXACT_FIELD, WORD_TEXT_FIELDS
from .whoosh_query import ExactPhrase

# Fields whose terms are scored with lengths: the only ones evaluated here.
SCORED_FIELDS = frozenset((*WORD_TEXT_FIELDS, EXACT_FIELD, CHAR_FIELD))

_EMPTY = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
Matches = tuple[np.ndarray, np.ndarray]  # sorted unique document numbers, their scores
Ranked = tuple[np.ndarray, np.ndarray | None]  # documents in rank order, their scores if scored


class Unsupported(Exception):
    """The query holds a node this module does not evaluate."""


class FoldedTexts:
    """Every document's folded exact text, in one buffer of UTF-16 code units.

    A phrase is looked for in a document's span of the buffer with StringZilla's SIMD
    search: over the 100,000 generated replies of the benchmark (4,400 characters
    each) 0.8 µs a document, against 3-4 µs for Python's ``in`` on each text. The
    buffer takes what the texts as ``str`` would (two bytes a character) and is filled
    as the texts are read, never holding them all as strings as well.
    """

    def __init__(self, texts: Iterable[tuple[str, str]], ids: Sequence[str | None]) -> None:
        """:param texts: (id, text) pairs; where an id recurs, its last text counts.
        :param ids: each document's id, in document order; None for no text (a deleted one).
        :raise KeyError: when an id of ``ids`` has no text.
        """
        buffer, spans = bytearray(), {}
        for reply_id, text in texts:
            start = len(buffer)
            buffer += text.encode("utf-16-le")
            spans[reply_id] = (start, len(buffer))
        self._starts, self._ends = [], []
        for key in ids:
            start, end = (0, 0) if key is None else spans[key]
            self._starts.append(start)
            self._ends.append(end)
        self._buffer = buffer  # never resized: the searchable view below is of its memory
        self._haystack = stringzilla.Str(buffer)

    def containing(self, phrase: str, docs: np.ndarray) -> np.ndarray:
        """Return, for each document number of ``docs``, whether its text contains
        ``phrase`` (a non-empty string)."""
        try:
            needle = phrase.encode("utf-16-le")
        except UnicodeEncodeError:  # a lone surrogate, which no text (read as UTF-8) holds
            return np.zeros(len(docs), dtype=np.bool_)
        find, starts, ends = self._haystack.find, self._starts, self._ends
        keep = np.zeros(len(docs), dtype=np.bool_)
        for i, d in enumerate(docs.tolist()):
            end = ends[d]
            at = find(needle, starts[d], end)
            while at & 1 and at > 0:  # the bytes of two characters' halves: not a match
                at = find(needle, at + 1, end)
            keep[i] = at >= 0
        return keep


class TermArrays:
    """The term postings of one index generation, as arrays, and queries over them."""

    def __init__(self, searcher, cached_postings: int) -> None:
        """:param cached_postings: how many postings to keep across queries."""
        self._lock = threading.Lock()
        self._limit = cached_postings
        self._cache: OrderedDict[tuple[str, str], Matches] = OrderedDict()
        self._cached = 0
        self.size = searcher.doc_count_all()
        reader = searcher.reader()
        self._live = np.ones(self.size, dtype=bool)
        if reader.has_deletions():  # a replaced or removed reply keeps its number until a merge
            # Each segment's deleted numbers, not every live one from Whoosh's Python
            # generator (42 ms at 100,000 replies, before a new generation's first answer).
            for sub, offset in leaves(searcher):
                deleted = sub.reader().deleted_docs_set
                self._live[offset + np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
        self._lengths: dict[str, np.ndarray] = {}
        self._texts: FoldedTexts | None = None  # folded exact text by document, once loaded
        self.texts_loaded = threading.Event()
        self._words: tuple[list[str], list[str]] | None = None  # body words sorted, and reversed sorted

    def evaluate(self, searcher, query: Query, *, scored: bool) -> Ranked | None:
        """Return the documents matching ``query`` in rank order (best score first, then
        document order; document order without scores) with their scores (None without),
        or None if the query is not a tree of terms on scored fields."""
        if not isinstance(searcher.weighting, BM25F):
            return None
        try:
            docs, scores = self._eval(searcher, query)
        except Unsupported:
            return None
        keep = self._live[docs]
        docs, scores = docs[keep], scores[keep]
        if not scored:
            return docs, None
        order = np.lexsort((docs, -scores))
        return docs[order], scores[order]

    def _eval(self, searcher, node: Query, within: np.ndarray | None = None) -> Matches:
        """Return the documents matching ``node`` and their scores. With ``within`` (sorted
        document numbers), documents outside it may be left out, for the caller keeps
        only those inside: phrases are then checked in fewer texts."""
        if isinstance(node, Term):
            docs, scores = self._term(searcher, node.fieldname, node.text)
        elif isinstance(node, Or):
            docs, scores = _union([self._eval(searcher, child, within) for child in node.subqueries])
        elif isinstance(node, And) and node.subqueries:
            docs, scores = self._and(searcher, node.subqueries, within)
        elif isinstance(node, Not):  # every other document, scored 1 as Whoosh does
            # Outside ``within`` the complement may hold more than it should: left out above.
            excluded, _ = self._eval(searcher, node.query, within)
            docs = np.setdiff1d(np.arange(self.size, dtype=np.int64), excluded, assume_unique=True)
            scores = np.ones(len(docs))
        elif isinstance(node, ExactPhrase) and (texts := self._texts) is not None:
            docs, scores = self._phrase(searcher, node, texts, within)
        elif isinstance(node, Every) and node.fieldname in (None, "*"):
            docs, scores = np.arange(self.size, dtype=np.int64), np.ones(self.size)
        else:
            raise Unsupported(node)
        boost = getattr(node, "boost", 1.0)  # wrappers have none
        if boost != 1:
            scores = scores * boost
        return docs, scores

    def _and(self, searcher, children: Sequence[Query], within: np.ndarray | None) -> Matches:
        """Match every child: those without a phrase first, then the others within the
        documents those leave. A word query that jieba splits (市场经济) is a phrase, whose
        candidates are every document holding its parts; the other words cut them down
        (at 100,000 replies, from 177,640 texts to check to a few thousand)."""
        parts = [self._eval(searcher, child, within) for child in children if not _has_phrase(child)]
        for child in filter(_has_phrase, children):
            if parts:
                found = _intersection(parts)[0]
                within = found if within is None else np.intersect1d(within, found, assume_unique=True)
            parts.append(self._eval(searcher, child, within))
        return _intersection(parts)

    def _phrase(self, searcher, node: ExactPhrase, texts: FoldedTexts, within: np.ndarray | None) -> Matches:
        """Match a phrase of three characters or more: the documents holding all its
        bigrams (those in ``within``, when given), kept where the folded text contains
        it; scored as those bigrams."""
        docs, scores = _intersection([self._term(searcher, EXACT_FIELD, b) for b in node.bigrams()])
        if within is not None:
            inside = np.isin(docs, within, assume_unique=True)
            docs, scores = docs[inside], scores[inside]
        keep = texts.containing(node.phrase, docs)
        return docs[keep], scores[keep]

    def warm(self, ix: Index, gen: Path) -> None:
        """Read the field lengths of every scored field and the folded exact texts of
        the generation in folder ``gen`` (for :meth:`_phrase`).

        Run in a background thread when a generation opens (at 20,000 replies: 0.5 s,
        and 185 MB for the texts). Until it ends, Whoosh matches the longer phrases, and
        so it does for good if a live reply has no text.
        """
        try:
            with ix.searcher() as searcher:
                if not searcher.doc_count_all():  # an empty index: nothing to read ahead
                    return
                for field in SCORED_FIELDS:
                    self._field_lengths(searcher, field)
                self._body_words(searcher)
                ids = list(searcher.reader().column_reader("id"))
            live = self._live.tolist()
            self._texts = FoldedTexts(iter_texts(gen), [ids[d] if live[d] else None for d in range(len(ids))])
        except (OSError, KeyError, ValueError):  # a speed-up only: Whoosh goes on matching phrases
            pass
        finally:
            self.texts_loaded.set()

    def neighbours(self, searcher, word: str) -> list[str]:
        """Return the body words one edit from ``word`` (:func:`~indexer.query.is_neighbour`).

        The edit is in the second half of ``word`` or in its first: such a word starts
        with the first half or ends with the second, a prefix search among the words
        sorted and one among the words reversed.
        """
        if len(word) < 2:
            return []
        forward, backward = self._body_words(searcher)
        half = len(word) // 2
        found = {*_prefixed(forward, word[:half]), *(w[::-1] for w in _prefixed(backward, word[half:][::-1]))}
        return sorted(w for w in found if is_neighbour(word, w))

    def _body_words(self, searcher) -> tuple[list[str], list[str]]:
        """Return the words of the body field sorted, and each reversed, sorted (read once
        per generation: 0.4 s at 20,000 replies, in the warm-up)."""
        with self._lock:
            found = self._words
        if found is None:
            words = sorted({w for sub, _ in leaves(searcher) for w in sub.reader().field_terms("body")})
            found = (words, sorted(w[::-1] for w in words))
            with self._lock:
                self._words = found
        return found

    def _term(self, searcher, field: str, text: str) -> Matches:
        if field not in SCORED_FIELDS:
            raise Unsupported(field)
        key = (field, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = self._read(searcher, field, text)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = found
                self._cached += len(found[0])
                while self._cached > self._limit and len(self._cache) > 1:
                    _, (old, _) = self._cache.popitem(last=False)
                    self._cached -= len(old)
        return found

    def _read(self, searcher, field: str, text: str) -> Matches:
        """Read a term's postings from every segment and score them as Whoosh's BM25F
        scorer does: bm25(idf, weight, field length, average length, B, K1)."""
        docs, weights = postings(searcher, field, text)
        if not len(docs):  # nothing to score; and Whoosh's idf fails on an empty index
            return docs, weights.astype(float)
        weighting = searcher.weighting
        b = weighting._field_B.get(field, weighting.B)
        k1 = weighting.K1
        idf = searcher.idf(field, text)
        avgfl = searcher.avg_field_length(field) or 1
        lengths = self._field_lengths(searcher, field)
        scores = idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths[docs] / avgfl)))
        return docs, scores

    def _field_lengths(self, searcher, field: str) -> np.ndarray:
        """Return the length Whoosh's scorer sees for each document in a field."""
        with self._lock:
            found = self._lengths.get(field)
        if found is None:
            found = np.zeros(self.size)
            for sub, offset in leaves(searcher):
                lengths = _segment_lengths(sub.reader(), field)
                found[offset : offset + len(lengths)] = lengths
            with self._lock:
                self._lengths[field] = found
        return found


def _prefixed(words: list[str], prefix: str) -> list[str]:
    """Return the words of a sorted list that start with ``prefix``."""
    start = bisect.bisect_left(words, prefix)
    end = start
    while end < len(words) and words[end].startswith(prefix):
        end += 1
    return words[start:end]


def leaves(searcher) -> list[tuple]:
    """Return ``(segment searcher, first document number)`` for each segment."""
    return list(searcher.leaf_searchers())


# Whoosh stores a field's length in a document as one byte (a lossy encoding).
_LENGTH_OF_BYTE = np.array([0] + [byte_to_length(b) for b in range(1, 256)], dtype=np.float64)


def _segment_lengths(reader, field: str) -> np.ndarray:
    """Return the field's length in each document of one segment, as Whoosh's
    ``doc_field_length`` gives it, read from its column at once (Whoosh reads the
    column a document at a time, 50 ms a field at 20,000 replies)."""
    found = np.zeros(reader.doc_count_all())
    if not len(found):  # an index with no segment has an empty reader and no columns
        return found
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is not None:  # documents past the column's end have no such field
        data = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
        found[: len(data)] = _LENGTH_OF_BYTE[data]
    return found


def postings(searcher, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a term's document numbers (deleted ones included) and weights, across
    the searcher's segments."""
    parts = []
    for sub, offset in leaves(searcher):
        try:
            ids, weights = segment_postings(sub.reader(), field, text)
        except TermNotFound:
            continue
        parts.append((ids + offset, weights))
    if not parts:
        return _EMPTY
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def segment_postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a term's document numbers and weights in one segment.

    Whoosh's block postings are read a block at a time (a block is one unpickled
    tuple of arrays); other posting lists (short, inlined ones) a posting at a time.
    """
    matcher = reader.postings(field, text)
    ids: list = []
    weights: list = []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        while matcher.is_active():
            # A block is (delta-encoded ids, weights, values); Whoosh decodes the ids
            # one at a time in Python, a cumulative sum does it at once.
            if matcher._data is None:
                matcher._read_data()
            block_ids, block_weights = matcher._data[0], matcher._data[1]
            ids.append(np.cumsum(np.asarray(block_ids, dtype=np.int64)))
            if block_weights is None or isinstance(block_weights, float):  # all 1, or all the same
                weights.append(np.full(len(block_ids), 1.0 if block_weights is None else block_weights))
            else:
                weights.append(np.asarray(block_weights, dtype=np.float64))
            matcher._next_block()
        if not ids:
            return _EMPTY
        return np.concatenate(ids), np.concatenate(weights)
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def _union(parts: list[Matches]) -> Matches:
    """Documents in any part; a document's score is the sum of its parts' scores."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY
    if len(parts) == 1:
        return parts[0]
    docs, where = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    return docs, np.bincount(where, weights=np.concatenate([p[1] for p in parts]), minlength=len(docs))


def _has_phrase(node: Query) -> bool:
    """Return whether a query holds an exact phrase anywhere."""
    return isinstance(node, ExactPhrase) or any(_has_phrase(child) for child in node.children())


def _intersection(parts: list[Matches]) -> Matches:
    """Documents in every part; a document's score is the sum of its parts' scores."""
    docs, scores = parts[0]
    for other_docs, other_scores in parts[1:]:
        docs, mine, theirs = np.intersect1d(docs, other_docs, assume_unique=True, return_indices=True)
        scores = scores[mine] + other_scores[theirs]
    return docs, scores

