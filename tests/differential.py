"""Questions drawn from an archive's own text, and two indexes' answers to them compared.

The OpenSearch differential tests (``tests/test_opensearch.py``) ask the Whoosh index and
the OpenSearch index of one archive the same questions and require the same answers.
Every generator here takes a seeded :class:`random.Random` and reads the records in path
order, so a run asks the same questions each time and a failing one can be asked again.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import opencc

from reply_archive.archive.model import Reply
from reply_archive.archive.store import read_reply, snapshot
from reply_archive.archive.tables import department_names
from reply_archive.archive.text import sentences
from reply_archive.indexer.analysis import SEPARATOR, exact_text, fold, segment, segmenter
from reply_archive.indexer.query import parse_query, synonyms
from reply_archive.indexer.results import Facet
from reply_archive.indexer.schema import build_schema
from reply_archive.indexer.search import ReplyIndex

THREADS = 8  # requests in flight at once: the cluster answers several while Python decodes one
SHOWN = 5  # differing questions a failure prints
# Lengths of sampled needles and how often each is drawn: every length from 1 to 12, the
# short ones less often (a one-character needle is in nearly every reply: reading all
# those hits is most of what a check costs).
NEEDLE_LENGTHS = tuple(range(1, 13))
NEEDLE_WEIGHTS = (3, 4, 6, 8, 8, 8, 8, 8, 8, 8, 8, 8)
QUOTES = (('"', '"'), ("“", "”"), ("「", "」"))
_RUN = re.compile(r"(.)\1{2,}.?")  # a character three times or more, and the next one
_ZERO = re.compile(r"[^\x1f]{0,3}〇[^\x1f]{0,3}")
# The ideograph each Kangxi radical stands for (⽼ is 老), from Unicode itself.
RADICALS = {unicodedata.normalize("NFKC", chr(code)): chr(code) for code in range(0x2F00, 0x2FD6)}

_T = TypeVar("_T")
_R = TypeVar("_R")


def folded_text(reply: Reply) -> str:
    """Return the folded exact text of a reply: what exact wording is matched in."""
    return fold(exact_text(reply.title, reply.proposal_title, reply.searchable_body))


@dataclass(frozen=True)
class Corpus:
    """An archive's records, their folded exact texts by id, and each record file's
    stamp (:func:`~reply_archive.archive.store.snapshot`) and record."""

    replies: tuple[Reply, ...]
    texts: Mapping[str, str]
    files: Mapping[str, tuple[str, Reply]]

    @classmethod
    def read(cls, archive: Path, previous: Corpus | None = None) -> Corpus:
        """Read an archive's records in path order; a file with the stamp it had in the
        ``previous`` reading is not read again (parsing front matter takes 10 ms a record)."""
        known = previous.files if previous is not None else {}
        files: dict[str, tuple[str, Reply]] = {}
        texts: dict[str, str] = {}
        for name, stamp in snapshot(archive).items():
            if name in known and known[name][0] == stamp and previous is not None:
                files[name] = known[name]
                texts[known[name][1].id] = previous.texts[known[name][1].id]
            else:
                files[name] = (stamp, read_reply(archive / name))
                texts[files[name][1].id] = folded_text(files[name][1])
        return cls(tuple(reply for _, reply in files.values()), texts, files)

    def containing(self, text: str) -> set[str]:
        """Return the ids whose folded exact text holds ``text`` folded: what an exact
        search for it must find."""
        folded = fold(text)
        return {reply_id for reply_id, body in self.texts.items() if folded in body}


# --- exact wording -------------------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    """Exact wording to search for: what is typed between the quotes, the query, and the
    sampled text it is written from (itself, unless it is another way of writing one)."""

    kind: str  # plain | punctuation | traditional | full-width | spaced | radical | zero | absent
    text: str
    query: str
    original: str


def is_mark(char: str) -> bool:
    """Return True for punctuation and symbols (，。、：（ ）《》 …)."""
    return unicodedata.category(char)[0] in "PS"


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    """Return text in traditional characters."""
    return _to_traditional().convert(text)


def full_width(text: str) -> str:
    """Return text with its ASCII characters in full-width forms, letters upper case."""
    return "".join(chr(ord(ch.upper()) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def quote(text: str, rng: random.Random) -> str | None:
    """Return text in one of the query language's quotes it does not close, or None."""
    styles = [(opening, closing) for opening, closing in QUOTES if closing not in text]
    if not styles:
        return None
    opening, closing = rng.choice(styles)
    return f"{opening}{text}{closing}"


def _window(corpus: Corpus, rng: random.Random, length: int, *, across_mark: bool) -> str | None:
    """Return a substring of one part (title, proposal title, body) of a random reply's
    folded text, holding a punctuation mark when ``across_mark``; None if that one has none."""
    text = corpus.texts[rng.choice(corpus.replies).id]
    part = rng.choice(text.split(SEPARATOR))
    if len(part) < length:
        return None
    if not across_mark:
        start = rng.randint(0, len(part) - length)
        return part[start : start + length]
    marks = [at for at, char in enumerate(part) if is_mark(char)]
    if not marks:
        return None
    at = rng.choice(marks)
    low, high = max(0, at - length + 1), min(at, len(part) - length)
    if low > high:
        return None
    start = rng.randint(low, high)
    return part[start : start + length]


def _variant(text: str, rng: random.Random) -> tuple[str, str]:
    """Return another way of writing text, which should fold back to it: (kind, text)."""
    kinds = ["spaced"]
    if traditional(text) != text:
        kinds.append("traditional")
    if full_width(text) != text:
        kinds.append("full-width")
    if any(char in RADICALS for char in text):
        kinds.append("radical")
    if "〇" in text:
        kinds.append("zero")
    kind = rng.choice(kinds)
    if kind == "traditional":
        written = traditional(text)
    elif kind == "full-width":
        written = full_width(text)
    elif kind == "radical":
        written = "".join(RADICALS.get(char, char) for char in text)
    elif kind == "zero":
        written = text.replace("〇", rng.choice("零○"))
    else:
        cut = rng.randint(0, len(text))
        written = text[:cut] + rng.choice((" ", "\u3000", "  ")) + text[cut:]
    return kind, written


def needles(corpus: Corpus, rng: random.Random, count: int, *, variants: float = 0.2) -> list[Needle]:
    """Return ``count`` distinct needles cut from the corpus's folded texts, half of them
    holding a punctuation mark, and more: a ``variants`` share of them written in another
    way that folds to the same text (traditional characters, full-width forms, spaces,
    radicals, 零 for 〇), a few around runs of one repeated character (0000, ……), a few
    joining the end of one part of a text (title, proposal title, body) to the start of
    the next, which no exact search may match across, and a few that occur nowhere."""
    found: dict[str, Needle] = {}
    sampled: Counter[str] = Counter()

    def add(kind: str, text: str, original: str) -> bool:
        query = quote(text, rng)
        if query is None or query in found:
            return False
        found[query] = Needle(kind, text, query, original)
        return True

    while sampled.total() < count:
        kind = "punctuation" if sampled["punctuation"] < sampled["plain"] else "plain"
        length = rng.choices(NEEDLE_LENGTHS, NEEDLE_WEIGHTS)[0]
        text = _window(corpus, rng, length, across_mark=kind == "punctuation")
        if text is None or not add(kind, text, text):
            continue
        sampled[kind] += 1
        if rng.random() < variants:
            add(*_variant(text, rng), text)
    for text in repeated(corpus, rng, 20):
        add("repeated", text, text)
    for text in around_zero(corpus, rng, 10):
        add("zero", text.replace("〇", rng.choice("零○")), text)
    for text in across_parts(corpus, rng, 20):
        add("across parts", text, text)
    for text in absent(corpus, rng, 12):
        add("absent", text, text)
    return list(found.values())


def repeated(corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    """Return up to ``count`` needles cut around runs of one character repeated three
    times or more: the bigrams of such a run are all the same."""
    runs = sorted({m.group() for text in corpus.texts.values() for m in _RUN.finditer(text)})
    found = []
    for run in rng.sample(runs, min(count, len(runs))):
        length = rng.randint(2, len(run))
        found.append(run[1 : 1 + length] if rng.random() < 0.5 else run[:length])
    return found


def around_zero(corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    """Return up to ``count`` needles holding 〇 (a zero of a Chinese-numeral date)."""
    found = sorted({m.group() for text in corpus.texts.values() for m in _ZERO.finditer(text)})
    return rng.sample(found, min(count, len(found)))


def across_parts(corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    """Return ``count`` needles of the last characters of one part of a reply's text and
    the first ones of the next part, the separator left out."""
    several = [text.split(SEPARATOR) for text in corpus.texts.values() if SEPARATOR in text]
    found = []
    while len(found) < count:
        parts = rng.choice(several)
        at = rng.randrange(len(parts) - 1)
        found.append(parts[at][-rng.randint(1, 4) :] + parts[at + 1][: rng.randint(1, 4)])
    return found


def windows(text: str, rng: random.Random, count: int) -> list[Needle]:
    """Return ``count`` needles of 1 to 6 characters cut from one folded text."""
    found = []
    while len(found) < count:
        part = rng.choice([part for part in text.split(SEPARATOR) if part])
        length = rng.randint(1, min(6, len(part)))
        start = rng.randint(0, len(part) - length)
        cut = part[start : start + length]
        if (query := quote(cut, rng)) is not None:
            found.append(Needle("window", cut, query, cut))
    return found


def absent(corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    """Return ``count`` texts of the corpus's own characters that no reply holds, and one
    character no reply holds."""
    alphabet = sorted({char for text in corpus.texts.values() for char in text if "\u4e00" <= char <= "\u9fff"})
    found = [next(chr(code) for code in range(0x9FA5, 0x4E00, -1) if chr(code) not in alphabet)]
    while len(found) < count:
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6)))
        if not corpus.containing(text):
            found.append(text)
    return found


# --- words, fields, proximity and scopes -----------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Words of an archive to build queries from: each sampled sentence's words in
    order (and the sentences of its paragraph), and the values of the field prefixes."""

    sentences: tuple[tuple[str, ...], ...]
    paragraphs: tuple[tuple[tuple[str, ...], ...], ...]  # the sentences' paragraphs, their sentences' words
    titles: tuple[str, ...]  # words of titles and proposal titles
    fields: Mapping[str, tuple[str, ...]]  # field prefix -> values

    @classmethod
    def sample(cls, corpus: Corpus, rng: random.Random, paragraphs: int = 150) -> Vocabulary:
        """Read the words of ``paragraphs`` random paragraphs (jieba, precise mode) and
        every reply's field values."""
        found_sentences: list[tuple[str, ...]] = []
        found_paragraphs: list[tuple[tuple[str, ...], ...]] = []
        titles: set[str] = set()
        for reply in rng.sample(corpus.replies, min(paragraphs, len(corpus.replies))):
            paragraph = rng.choice(reply.searchable_body.split("\n\n"))
            segmented = [tuple(w for w, _, _ in segment(s)) for s in sentences(paragraph)]
            kept = tuple(words for words in segmented if words)
            if not kept:
                continue
            found_paragraphs.append(kept)
            found_sentences.extend(kept)
            titles.update(w for w, _, _ in segment(f"{reply.title} {reply.proposal_title or ''}") if len(w) > 1)
        fields: dict[str, set[str]] = {name: set() for name in ("department", "proposer", "number", "topic", "session")}
        for reply in corpus.replies:
            fields["department"].update(n for n in (reply.department, reply.department_raw) if n)
            fields["department"].update(department_names().get(reply.department or "", ()))
            fields["proposer"].update(reply.proposers)
            fields["number"].update(reply.proposal_numbers)
            fields["topic"].update(t for t in (reply.topic, *reply.topics) if t)
            if reply.qualified_session:
                fields["session"].add(reply.qualified_session)
        return cls(
            tuple(found_sentences),
            tuple(found_paragraphs),
            tuple(sorted(titles)),
            {name: tuple(sorted(values)) for name, values in fields.items()},
        )

    def word(self, rng: random.Random) -> str:
        """Return a random word of the sampled sentences (:func:`pick`)."""
        return pick(rng.choice(self.sentences), rng)

    def value(self, rng: random.Random, field: str) -> str:
        """Return a random value of a field prefix, quoted when it holds a space."""
        value = rng.choice(self.fields[field])
        return f'"{value}"' if any(char.isspace() for char in value) else value


def pick(words: Sequence[str], rng: random.Random) -> str:
    """Return one of the words, mostly one of two characters or more: single characters
    (的, 年) are in nearly every reply, and a proximity or scope check reads every reply
    holding all its words."""
    longer = [word for word in words if len(word) > 1]
    return rng.choice(longer if longer and rng.random() < 0.85 else words)


def years(corpus: Corpus) -> tuple[int, int]:
    """Return the first and last year of the corpus's replies."""
    found = [reply.year for reply in corpus.replies if reply.year]
    return min(found), max(found)


def word_queries(corpus: Corpus, vocabulary: Vocabulary, rng: random.Random, count: int) -> list[str]:
    """Return ``count`` distinct word queries: words, AND, OR, NOT, parentheses, every
    field prefix, synonyms, years and ranges, mixed with exact wording, some in
    traditional characters and some with broken syntax."""
    first, last = years(corpus)
    heads = sorted(synonyms())
    fields = ("department", "proposer", "number", "topic", "session")

    def w() -> str:
        return vocabulary.word(rng)

    def year() -> str:
        low = rng.randint(first - 1, last)
        return f"year:{low}" if rng.random() < 0.4 else f"year:{low}-{rng.randint(low, last + 1)}"

    def field() -> str:
        name = rng.choice(fields)
        return f"{name}:{vocabulary.value(rng, name)}"

    def title() -> str:
        return f"title:{rng.choice(vocabulary.titles)}"

    def phrase() -> str:
        return quote(_window(corpus, rng, rng.randint(2, 5), across_mark=False) or w(), rng) or w()

    shapes: tuple[Callable[[], str], ...] = (
        lambda: w(),
        lambda: f"{w()} {w()}",
        lambda: f"{w()}{w()}",  # one token, segmented into several words
        lambda: f"{w()} {w()} {w()}",
        lambda: f"{w()} OR {w()}",
        lambda: f"{w()} | {w()} | {w()}",
        lambda: f"{w()} AND {w()}",
        lambda: f"{w()} -{w()}",
        lambda: f"{w()} NOT {w()}",
        lambda: f"-{w()}",
        lambda: f"-{w()} -{w()}",
        lambda: f"({w()} OR {w()}) {w()}",
        lambda: f"({w()} OR {w()}) -({w()} {w()})",
        lambda: f"(({w()} OR {w()}) {w()}) OR {w()}",
        lambda: title(),
        lambda: f"{title()} {w()}",
        lambda: field(),
        lambda: f"{field()} {w()}",
        lambda: f"{field()} OR {field()}",
        lambda: f"-{field()} {w()}",
        lambda: year(),
        lambda: f"{w()} {year()}",
        lambda: f"{year()} -{field()}",
        lambda: f"{title()} OR {field()}",
        lambda: rng.choice(heads),
        lambda: f"{rng.choice(heads)} {w()}",
        lambda: f"{rng.choice(heads)} OR {w()}",
        lambda: f"{phrase()} {w()}",
        lambda: f"{phrase()} OR {w()}",
        lambda: f"{w()} -{phrase()}",
        lambda: traditional(f"{w()} {w()}"),
        lambda: f"({w()} {w()}",  # unclosed parenthesis
        lambda: f"{w()} OR",  # dangling operator
        lambda: f'"{w()} {w()}',  # stray quote
        lambda: f"{w()}) {w()}",  # stray closing parenthesis
        lambda: f"unknown:{w()}",  # an unknown field prefix
    )
    found: dict[str, None] = {}
    while len(found) < count:
        found.setdefault(rng.choice(shapes)(), None)
    return list(found)


def _nearby_words(vocabulary: Vocabulary, rng: random.Random, parts: int) -> list[str]:
    """Return ``parts`` query parts from one sentence, near each other (a part is a word,
    two adjacent words written as one, or a dictionary word inside a longer word)."""
    words = rng.choice(vocabulary.sentences)
    start = rng.randrange(len(words))
    window = range(start, min(len(words), start + rng.randint(parts, 12)))
    positions = rng.sample(window, parts) if len(window) >= parts else rng.choices(window, k=parts)
    picked = []
    for at in sorted(positions):
        word = words[at]
        shape = rng.random()
        if shape < 0.15 and at + 1 < len(words):
            word += words[at + 1]
        elif shape < 0.3 and len(word) > 2:
            inner = [
                word[i : i + n]
                for n in range(2, len(word))
                for i in range(len(word) - n + 1)
                if segmenter().FREQ.get(word[i : i + n])
            ]
            word = rng.choice(inner) if inner else word
        picked.append(word)
    if rng.random() < 0.3:  # proximity is in any order
        rng.shuffle(picked)
    return picked


def near_queries(vocabulary: Vocabulary, rng: random.Random, count: int) -> list[str]:
    """Return ``count`` distinct proximity queries ``"a b"~N`` and ``"a b c"~N`` (N from
    1 to 20): most of words near each other in one sentence, the others of words of
    anywhere, some combined with other terms."""
    found: dict[str, None] = {}
    while len(found) < count:
        parts = rng.choice((2, 2, 3))
        if rng.random() < 0.75:
            words = _nearby_words(vocabulary, rng, parts)
        else:
            words = [vocabulary.word(rng) for _ in range(parts)]
        near = f'"{" ".join(words)}"~{rng.randint(1, 20)}'
        shape = rng.random()
        if shape < 0.1:
            near = f"{near} {vocabulary.word(rng)}"
        elif shape < 0.2:
            near = f"{near} OR {vocabulary.word(rng)}"
        elif shape < 0.25:
            near = f"{vocabulary.word(rng)} -{near}"
        found.setdefault(near, None)
    return list(found)


def near_limit_queries(corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    """Return ``count`` distinct proximity queries at the edges of what they match, read
    from the body words' index positions (sub-words stacked at their word's position)
    of random replies: two words exactly N apart with slop N and N - 1, in both orders;
    a long word with one of its own sub-words (they overlap: another occurrence must be
    near); a word with itself; three words whose every gap is within the slop though
    their sum is not, in every order; and two adjacent words typed as one, on either
    side of a word."""
    analyzer = build_schema()["body"].analyzer
    replies = [reply for reply in corpus.replies if reply.searchable_body]
    found: dict[str, None] = {}

    def near(words: Sequence[str], slop: int) -> None:
        found.setdefault(f'"{" ".join(words)}"~{max(1, slop)}', None)

    while len(found) < count:
        body = rng.choice(replies).searchable_body
        at: dict[int, list[str]] = {}
        for token in analyzer(body, positions=True, mode="index"):
            at.setdefault(token.pos, []).append(token.text)
        positions = sorted(at)
        if len(positions) < 12:
            continue
        first = rng.randrange(len(positions) - 10)
        p, q, r = positions[first], positions[first + rng.randint(1, 4)], positions[first + rng.randint(5, 9)]
        a, b, c = at[p][0], at[q][0], at[r][0]
        shape = rng.randrange(5)
        if shape == 0:
            for slop in (q - p, q - p - 1):
                near([a, b], slop)
                near([b, a], slop)
        elif shape == 1 and len(at[p]) > 1:
            near([a, rng.choice(at[p][1:])], rng.randint(1, 6))
            near([rng.choice(at[p][1:]), a], rng.randint(1, 6))
        elif shape == 2:
            near([a, a], rng.randint(1, 20))
        elif shape == 3:
            widest = max(q - p, r - q)
            order = [a, b, c]
            rng.shuffle(order)
            near(order, widest)
            near(order, widest - 1)
        elif shape == 4 and positions[first + 1] == p + 1:
            # Two adjacent words typed as one part are a run of two: placed left of a
            # word, Whoosh wants it to begin within the slop of that word.
            b = at[p + 1][0]
            if [w for w, _, _ in segment(a + b)] == [a, b]:
                for slop in (r - p - 1, r - p):
                    near([c, a + b], slop)
                    near([a + b, c], slop - 1)
    return list(found)[:count]


def scope_queries(vocabulary: Vocabulary, rng: random.Random, count: int) -> list[str]:
    """Return ``count`` distinct same-sentence (同句) and same-paragraph (同段) queries: of
    words of one sentence, of two sentences of one paragraph, and of anywhere; with
    exact wording, proximity, alternatives, exclusions and nesting inside."""

    def pair() -> tuple[str, str]:
        source = rng.random()
        if source < 0.45:
            words = rng.choice(vocabulary.sentences)
            return pick(words, rng), pick(words, rng)
        if source < 0.8:
            paragraph = rng.choice(vocabulary.paragraphs)
            return pick(rng.choice(paragraph), rng), pick(rng.choice(paragraph), rng)
        return vocabulary.word(rng), vocabulary.word(rng)

    def group() -> str:
        return rng.choice(("同句", "同段"))

    def inside() -> str:
        a, b = pair()
        shape = rng.random()
        if shape < 0.5:
            return f"{a} {b}"
        if shape < 0.6:
            return f'"{a}" {b}'
        if shape < 0.7:
            return f'"{a} {b}"~{rng.randint(1, 10)}'
        if shape < 0.8:
            return f"{a} OR {b}"
        if shape < 0.9:
            return f"{a} {b} -{vocabulary.word(rng)}"
        return f"{a} {b} {vocabulary.word(rng)}"

    shapes: tuple[Callable[[], str], ...] = (
        lambda: f"{group()}({inside()})",
        lambda: f"{group()}（{inside()}）",  # full-width parentheses
        lambda: f"{group()}({inside()}) {vocabulary.word(rng)}",
        lambda: f"{group()}({inside()}) OR {vocabulary.word(rng)}",
        lambda: f"{group()}({inside()}) {group()}({inside()})",
        lambda: f"同段(同句({inside()}) {vocabulary.word(rng)})",
    )
    found: dict[str, None] = {}
    while len(found) < count:
        found.setdefault(rng.choice(shapes)(), None)
    return list(found)


# --- facet selections ------------------------------------------------------------------


def facet_values(facets: Iterable[Facet]) -> dict[str, tuple[str, ...]]:
    """Return every value of each facet, from a search's facets."""
    return {facet.name: tuple(value.value for value in facet.values) for facet in facets}


def facet_selections(
    values: Mapping[str, Sequence[str]], queries: Sequence[str], rng: random.Random, count: int
) -> list[tuple[str, dict[str, list[str]]]]:
    """Return ``count`` distinct (query, facet filters): one to three facets with one to
    three values each, year ranges among them (some reversed, some past the archive's
    years), a value no reply has now and then; half of them with a query."""
    first = min(int(year) for year in values["year"])
    last = max(int(year) for year in values["year"])
    chosen: dict[tuple[str, str], tuple[str, dict[str, list[str]]]] = {}
    while len(chosen) < count:
        filters: dict[str, list[str]] = {}
        for name in rng.sample([n for n, v in values.items() if v], rng.choice((1, 1, 2, 2, 3))):
            picked = rng.sample(values[name], min(len(values[name]), rng.choice((1, 1, 2, 3))))
            if name == "year" and rng.random() < 0.5:
                low, high = rng.randint(first - 2, last), rng.randint(first, last + 2)
                picked = [f"{low}-{high}", *picked[: rng.randint(0, 1)]]
            elif name != "year" and rng.random() < 0.1:
                picked.append("没有这个值")
            filters[name] = picked
        query = rng.choice(queries) if rng.random() < 0.5 else ""
        chosen.setdefault((query, repr(sorted(filters.items()))), (query, filters))
    return list(chosen.values())


# --- answers ---------------------------------------------------------------------------


def facet_counts(facets: Iterable[Facet]) -> tuple[tuple[str, tuple[tuple[str, int, bool], ...]], ...]:
    """Return a search's facets as plain tuples: each facet's values, counts and whether selected."""
    return tuple((f.name, tuple((v.value, v.count, v.selected) for v in f.values)) for f in facets)


Counts = tuple[int, int, int | None, str | None]  # total, word count, exact count, notice


@dataclass(frozen=True)
class Answer:
    """What an index answers to a query: the replies it selects and, when asked for, the
    counts its first page shows."""

    ids: frozenset[str]
    counts: Counts | None = None

    def differences(self, other: Answer) -> dict[str, Any]:
        """Return how another answer differs: the ids each lacks, the counts of each."""
        found: dict[str, Any] = {}
        if self.ids != other.ids:
            found["ids only here"] = sorted(self.ids - other.ids)[:5]
            found["ids only there"] = sorted(other.ids - self.ids)[:5]
        if self.counts != other.counts:
            found["total, word count, exact count, notice"] = (self.counts, other.counts)
        return found


def complementable(query: str) -> bool:
    """Return True when ``-(query)`` selects exactly the replies ``query`` does not: the
    query parses without a notice and has no same-sentence or same-paragraph scope (an
    excluded scope is not kept)."""
    parsed = parse_query(query)
    return parsed.notice is None and not parsed.scopes and not parsed.is_empty


def hit_ids(index: ReplyIndex, query: str, everything: frozenset[str], *, negated: bool = False) -> frozenset[str]:
    """Return the ids of a query's hits, from the index's export; when ``negated``, as the
    complement of the export of ``-(query)``, which must be its exact complement
    (:func:`complementable`).

    Reading hits is most of what an OpenSearch export costs (a third of a millisecond a
    hit): the hits of a query selecting most of the archive are cheaper read as the few
    it does not select.
    """
    if negated:
        return everything - {hit.id for hit in index.export(f"-({query})")}
    return frozenset(hit.id for hit in index.export(query))


def counts(index: ReplyIndex, query: str) -> Counts:
    """Return the counts of the first page of a search."""
    results = index.search(query, per_page=1)
    return results.total, results.query.word_count, results.query.exact_count, results.query.notice


def compare_queries(
    whoosh: ReplyIndex,
    opensearch: ReplyIndex,
    queries: Sequence[str],
    everything: frozenset[str],
    *,
    counted: bool,
    sizes: Sequence[int] | None = None,
) -> list[tuple[Answer, Answer]]:
    """Return both indexes' answers to each query (with their counts when ``counted``).

    Whoosh answers first, in this thread, and OpenSearch is asked the same by a pool of
    threads meanwhile. Whether the hits are read negated (:func:`hit_ids`) follows from
    how many a query should select: ``sizes`` when given, else Whoosh's total.
    """

    def ask(index: ReplyIndex, query: str, negated: bool) -> Answer:
        return Answer(hit_ids(index, query, everything, negated=negated), counts(index, query) if counted else None)

    with ThreadPoolExecutor(THREADS) as pool:
        futures, mine = [], []
        for n, query in enumerate(queries):
            first = counts(whoosh, query) if counted or sizes is None else None
            size = sizes[n] if sizes is not None else first[0] if first else 0
            negated = size * 2 > len(everything) and complementable(query)
            futures.append(pool.submit(ask, opensearch, query, negated))
            mine.append(Answer(hit_ids(whoosh, query, everything, negated=negated), first if counted else None))
        return list(zip(mine, [future.result() for future in futures], strict=True))


def ask_both(call: Callable[[ReplyIndex, _T], _R], whoosh: ReplyIndex, opensearch: ReplyIndex,
             items: Sequence[_T]) -> list[tuple[_R, _R]]:
    """Return ``call`` of each item on both indexes: on Whoosh in this thread, on
    OpenSearch by a pool of threads at the same time."""
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(call, opensearch, item) for item in items]
        mine = [call(whoosh, item) for item in items]
        return list(zip(mine, [future.result() for future in futures], strict=True))


def report(kind: str, differing: Sequence[tuple[Any, Any]], asked: int) -> str:
    """Return the message of a failed comparison: how many of the questions differ, and
    the first of them with their differences."""
    lines = [f"{len(differing)} of {asked} {kind} differ; the first {min(SHOWN, len(differing))}:"]
    lines += [f"  {question!r}: {difference}" for question, difference in differing[:SHOWN]]
    return "\n".join(lines)
