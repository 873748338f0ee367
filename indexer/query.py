"""The query language: what a user typed, as an analysed plan plus how it was read.

Syntax (documented for users on the web app's help page):

* words, ANDed by default: ``养老 托育``; ``OR`` (or ``|``), ``NOT`` (or ``-word``),
  parentheses;
* exact wording in quotes, ``"…"``, ``“…”`` or ``「…」``: every reply containing exactly
  those characters after folding (:func:`~indexer.analysis.fold`), whatever jieba does
  with them;
* proximity ``"养老 托育"~5``: the quoted words within 5 words of each other, any order;
* field prefixes ``title:`` ``department:`` ``proposer:`` ``number:`` ``session:``
  ``topic:`` and ``year:2019`` or ``year:2019-2022``;
* ``同句(…)`` and ``同段(…)``: everything inside must occur in one sentence, or one
  paragraph, of the reply.

Parsing never fails: broken syntax (a stray quote or parenthesis, a dangling operator,
an unknown field) is read as plain words, and the notice says what was done. The result
is engine-neutral (:mod:`indexer.plan`): segmentation, folding and synonyms happen here,
once, whatever backend runs the plan.

Word search forgives. Given the index's document frequencies, a word the index does not
hold as a word (one character, a part of a word: jieba cut 运营补 into 运营|补, and the
index holds 补 only inside 补贴) is matched as the characters typed, with the words
beside it, and the notice says so; a query that finds nothing is offered the index's
likeliest word one edit from each word that finds nothing (:func:`correction`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import islice

from reply_archive import data
from reply_archive.archive.text import sentences

from .analysis import SEPARATOR, fold, segment
from .plan import AllOf, AnyOf, Everything, Nearby, Phrase, Plan, Term, Without
from .schema import WORD_FIELDS

MAX_QUERY_CHARS = 500
MAX_WITHIN = 10  # searches within the results (结果中检索) one search may add to its query
MAX_TERMS = 64
MAX_YEAR_SPAN = 100
MAX_DEPTH = 20  # nested parentheses; deeper ones are ignored (and recursion stays bounded)
MAX_NEAR_WORDS = 8  # words of one proximity group, "a b c"~N
MAX_SLOP = 50  # the largest N of "a b"~N
# A one-character word is a word of the index when at least this share of the replies
# holding the character hold it as a word (的, 与: most; 养, 补: a few, inside others).
WORD_SHARE = 0.5
PASTED_CHARS = 10  # an unquoted word this long is a pasted passage: snippets show its longest runs
ALL_FIELDS = tuple(WORD_FIELDS)
TITLE_FIELDS = ("title", "proposal_title")
FIELD_PREFIXES = ("title", "department", "proposer", "number", "session", "topic", "year")
_GROUPS = {"同句": "sentence", "同段": "paragraph"}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<quote>"(?P<q1>[^"]*)"|“(?P<q2>[^”]*)”|「(?P<q3>[^」]*)」)(?:~(?P<slop>\d{1,3}))?
  | (?P<group>同句|同段)\s*[(（]
  | (?P<open>[(（])
  | (?P<close>[)）])
  | (?P<field>[a-z]+)[:：](?=\S)
  | (?P<op>(?:OR|AND|NOT)(?=[\s("“「（]|$)|\|)
  | (?P<minus>-(?=[^\s-]))
  | (?P<word>[^\s"“”「」()（）|]+)
  | (?P<stray>["“”「」])
    """,
    re.VERBOSE,
)


# How many replies each plan (of terms and phrases) matches, in the index searched.
Frequencies = Callable[[Sequence[Plan]], Sequence[int]]
# For each word, the index's words one edit from it (:func:`is_neighbour`).
Neighbours = Callable[[Sequence[str]], Sequence[Sequence[str]]]


# --- the parse tree -------------------------------------------------------------------


@dataclass
class Node:
    """A node of the parsed query."""


@dataclass
class Word(Node):
    text: str
    fields: tuple[str, ...] = ALL_FIELDS
    span: tuple[int, int] | None = None  # where it stands in the query; None when not typed as a word


@dataclass
class Exact(Node):
    text: str


@dataclass
class Near(Node):
    parts: list[str]
    slop: int


@dataclass
class FieldTerm(Node):
    name: str
    value: str


@dataclass
class Bool(Node):
    kind: str  # and | or
    children: list[Node]


@dataclass
class Negate(Node):
    child: Node


@dataclass
class Group(Node):
    kind: str  # sentence | paragraph
    child: Node


@dataclass(frozen=True)
class ScopeFilter:
    """Every needle must occur inside one sentence (or paragraph) of the reply."""

    kind: str
    needles: tuple[str, ...]


@dataclass(frozen=True)
class QueryWord:
    """A word as typed: where it stands in the query, and the plan that matches it."""

    span: tuple[int, int]
    plan: Plan
    unknown: tuple[tuple[int, int], ...] = ()  # where its runs of words the index does not hold stand


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query as the index will run it, plus what the UI should tell them."""

    query: Plan
    phrases: tuple[str, ...]  # exact wordings, folded
    terms: tuple[str, ...]  # positive word terms, for highlighting
    segmented: tuple[str, ...]  # how the words were segmented
    notice: str | None
    scopes: tuple[ScopeFilter, ...] = ()
    exact_query: Plan | None = None  # the words taken as exact wording, for counting
    text: str = ""  # the query as read (trimmed, cut to MAX_QUERY_CHARS): spans point into it
    words: tuple[QueryWord, ...] = ()  # the positive words, for corrections
    pasted: tuple[str, ...] = ()  # unquoted words of PASTED_CHARS or more (pasted passages), folded

    @property
    def is_empty(self) -> bool:
        """Return True when the user asked for nothing (browse everything)."""
        return isinstance(self.query, Everything)


# --- parsing ----------------------------------------------------------------------------


@dataclass
class _Parser:
    tokens: list[tuple[str, str, re.Match]]
    notices: list[str] = field(default_factory=list)
    pos: int = 0
    depth: int = 0

    def peek(self) -> tuple[str, str, re.Match] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str, re.Match]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node | None:
        nodes = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                nodes.append(node)
            elif (token := self.peek()) is not None and token[0] == "close":
                self.take()
                self.notices.append("多余的右括号已忽略")
        return _and(nodes)

    def or_expr(self) -> Node | None:
        left = self.and_expr()
        alternatives = [left] if left is not None else []
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in ("OR", "|"):
            self.take()
            right = self.and_expr()
            if right is None:
                self.notices.append("OR 后缺少检索词，已忽略")
                break
            alternatives.append(right)
        if len(alternatives) > 1:
            return Bool("or", alternatives)
        return alternatives[0] if alternatives else None

    def and_expr(self) -> Node | None:
        nodes = []
        while (tok := self.peek()) is not None and not (
            tok[0] == "close" or (tok[0] == "op" and tok[1] in ("OR", "|"))
        ):
            if tok[0] == "op" and tok[1] == "AND":
                self.take()
                continue
            node = self.unary()
            if node is not None:
                nodes.append(node)
        return _and(nodes)

    def unary(self) -> Node | None:
        kind, text, match = self.take()
        if kind in ("minus",) or (kind == "op" and text == "NOT"):
            nxt = self.peek()
            if nxt is None or nxt[0] in ("close", "op"):
                self.notices.append(f"{text} 后缺少检索词，已忽略")
                return None
            child = self.unary()
            return Negate(child) if child is not None else None
        if kind in ("open", "group"):
            if self.depth >= MAX_DEPTH:
                self.notices.append(f"括号嵌套超过 {MAX_DEPTH} 层，多余的括号已忽略")
                return None
            self.depth += 1
            inner = self.or_expr_until_close()
            self.depth -= 1
            if inner is None:
                return None
            return Group(_GROUPS[match.group("group")], inner) if kind == "group" else inner
        if kind == "quote":
            body = next(g for g in (match.group("q1"), match.group("q2"), match.group("q3")) if g is not None)
            if match.group("slop"):
                parts = body.split()
                if len(parts) >= 2:
                    return Near(*self.bounded_near(parts, int(match.group("slop"))))
            return Exact(body) if fold(body) else None
        if kind == "field":
            return self.field_term(text[:-1])
        if kind == "word":
            return Word(text, span=match.span())
        if kind == "stray":
            self.notices.append("引号不成对，未配对的引号已忽略")
        return None

    def bounded_near(self, parts: list[str], slop: int) -> tuple[list[str], int]:
        """Return a proximity group's words and distance within the limits, saying what
        was cut: Whoosh matches a span of many common words far apart word by word
        (50 of them ~999 took 15 s on 2,000 replies, past any time limit)."""
        if len(parts) > MAX_NEAR_WORDS:
            self.notices.append(f"邻近检索最多 {MAX_NEAR_WORDS} 个词，只使用了前 {MAX_NEAR_WORDS} 个")
            parts = parts[:MAX_NEAR_WORDS]
        if slop > MAX_SLOP:
            self.notices.append(f"邻近距离最多 {MAX_SLOP} 个词，已按 {MAX_SLOP} 检索")
            slop = MAX_SLOP
        return parts, slop

    def or_expr_until_close(self) -> Node | None:
        nodes = []
        while (tok := self.peek()) is not None and tok[0] != "close":
            node = self.or_expr()
            if node is not None:
                nodes.append(node)
        if self.peek() is None:
            self.notices.append("括号未闭合，已按补全处理")
        else:
            self.take()
        return _and(nodes)

    def field_term(self, name: str) -> Node | None:
        value_token = self.peek()
        if name not in FIELD_PREFIXES:
            self.notices.append(f"未知字段 {name}:，已按普通词语检索")
            return Word(name)
        if value_token is None or value_token[0] not in ("word", "quote"):
            self.notices.append(f"字段 {name}: 后缺少内容，已忽略")
            return None
        kind, text, match = self.take()
        if kind == "quote":
            text = next(g for g in (match.group("q1"), match.group("q2"), match.group("q3")) if g is not None)
        return FieldTerm(name, text.strip())


def _and(nodes: list[Node]) -> Node | None:
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else Bool("and", nodes)


def tokenize(text: str) -> list[tuple[str, str, re.Match]]:
    """Split a query string into ``(kind, text, match)`` tokens."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:  # cannot happen: every alternative of _TOKEN is a named group
            raise AssertionError(f"query token {match.group(0)!r} matched no named group")
        if kind in ("q1", "q2", "q3", "slop"):
            kind = "quote"
        if kind != "space":
            tokens.append((kind, match.group(0), match))
    return tokens


# --- building the plan ------------------------------------------------------------------


@cache
def synonyms() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Return the synonym table: a term -> alternatives, each a tuple of ANDed words.

    ``data/dict/synonyms.txt`` lines read ``深港 = 深圳+香港 | 深港澳``: a query for the
    left side also finds each alternative (``+`` joins words that must all occur). An
    alternative of one word also finds the left side and the other alternatives.
    """
    table: dict[str, list[tuple[str, ...]]] = {}
    with data.path("dict", "synonyms.txt").open(encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if "=" not in line:
                continue
            head, _, rest = line.partition("=")
            head = head.strip()
            alternatives = [tuple(w.strip() for w in alt.split("+") if w.strip()) for alt in rest.split("|")]
            alternatives = [a for a in alternatives if a]
            table.setdefault(head, []).extend(alternatives)
            singles = [a[0] for a in alternatives if len(a) == 1]
            for word in singles:
                table.setdefault(word, []).extend((w,) for w in (head, *singles) if w != word)
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


@dataclass
class _Builder:
    """Turns the parse tree into a plan and collects what the UI shows."""

    unknown: frozenset[str] = frozenset()  # segmented words the index does not hold as words
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    segmented: list[str] = field(default_factory=list)
    scopes: list[ScopeFilter] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    forgiven: list[str] = field(default_factory=list)  # words matched as the characters typed
    words: list[QueryWord] = field(default_factory=list)
    pasted: list[str] = field(default_factory=list)
    count: int = 0

    def build(self, node: Node, *, exact_words: bool = False, collect: bool = True) -> Plan | None:
        self.count += 1
        if self.count > MAX_TERMS:
            if self.count == MAX_TERMS + 1:
                self.notices.append(f"检索式包含的词语超过 {MAX_TERMS} 个，多余部分已忽略")
            return None
        if isinstance(node, Word):
            return self.word(node, exact_words, collect)
        if isinstance(node, Exact):
            folded = fold(node.text)
            if collect:
                self.phrases.append(folded)
            return Phrase(folded) if folded else None
        if isinstance(node, Near):
            return self.near(node, collect)
        if isinstance(node, FieldTerm):
            return self.field_term(node, collect)
        if isinstance(node, Negate):
            child = self.build(node.child, exact_words=exact_words, collect=False)
            return Without(child) if child is not None else None
        if isinstance(node, Group):
            child = self.build(node.child, exact_words=exact_words, collect=collect)
            if child is not None and collect:
                needles = tuple(dict.fromkeys(_needles(node.child)))
                if needles:
                    self.scopes.append(ScopeFilter(node.kind, needles))
            return child
        if isinstance(node, Bool):
            children = tuple(q for c in node.children if (q := self.build(c, exact_words=exact_words, collect=collect)))
            if not children:
                return None
            if len(children) == 1:
                return children[0]
            if node.kind == "or":
                return AnyOf(children)
            positives = [c for c in children if not isinstance(c, Without)]
            # A query of exclusions only means "everything except".
            return AllOf(children if positives else (Everything(), *children))
        raise TypeError(node)

    def word(self, node: Word, exact_words: bool, collect: bool) -> Plan | None:
        if exact_words:
            folded = fold(node.text)
            return Phrase(folded) if folded else None
        segments = segment(node.text)
        # Only words of the exact field's fields (titles and body) can be matched as characters.
        missing = [node.fields == ALL_FIELDS and w.lower() in self.unknown for w, _, _ in segments]
        pieces = _pieces(node.text, segments, missing)
        query = _all([Phrase(fold(piece)) if typed else _word_query(piece, node.fields) for piece, typed in pieces])
        if query is None:  # no words
            return None
        self.forgiven.extend(piece for piece, typed in pieces if typed)
        if collect:
            self.segmented.extend(w for w, _, _ in segments)
            # A character jieba split off a longer word is marked only inside it, never on its own.
            alone = len(segments) == 1
            self.terms.extend(
                fold(piece) if typed else piece.lower() for piece, typed in pieces if typed or alone or len(piece) > 1
            )
        alternatives = synonyms().get(node.text, ())
        if alternatives:
            expanded = [
                _words_query([w for part in alt for w, _, _ in segment(part)], node.fields) for alt in alternatives
            ]
            if collect:
                self.terms.extend(w for alt in alternatives for w in alt)
            query = AnyOf((query, *[q for q in expanded if q is not None]))
        if collect and node.span is not None:
            at = node.span[0]
            unknown = tuple((at + segments[a][1], at + segments[b - 1][2]) for a, b in _runs(missing))
            self.words.append(QueryWord(node.span, query, unknown))
            if len(fold(node.text)) >= PASTED_CHARS:
                self.pasted.append(fold(node.text))
        return query

    def near(self, node: Near, collect: bool) -> Plan | None:
        runs = []
        for part in node.parts:
            words = tuple(w.lower() for w, _, _ in segment(part))
            if not words:
                continue
            if collect:
                self.segmented.extend(words)
                self.terms.extend(words)
            runs.append(words)
        if not runs:
            return None
        if len(runs) == 1 and len(runs[0]) == 1:
            return Term("body", runs[0][0])
        return Nearby(tuple(runs), max(1, node.slop))

    def field_term(self, node: FieldTerm, collect: bool) -> Plan | None:
        name, value = node.name, node.value
        if name == "title":
            return self.word(Word(value, TITLE_FIELDS), False, collect)
        if name == "department":
            # Who replied, not what the reply says: its name is no word to mark in the
            # text or to pick a reply's promises by.
            return self.word(Word(value, ("department_names",)), False, False)
        if name == "year":
            match = re.fullmatch(r"(\d{4})(?:\s*[-–~至]\s*(\d{4}))?", value)
            if not match:
                self.notices.append(f"year: 需写作 2019 或 2019-2022，“{value}”已忽略")
                return None
            first = int(match.group(1))
            last = int(match.group(2) or first)
            first, last = min(first, last), max(first, last)
            if last - first > MAX_YEAR_SPAN:
                self.notices.append(f"年份范围过大，只检索 {first}-{first + MAX_YEAR_SPAN}")
                last = first + MAX_YEAR_SPAN
            return AnyOf(tuple(Term("year", str(y)) for y in range(first, last + 1)))
        if name == "topic":
            return AnyOf((Term("topic", value), Term("subtopic", value)))
        if name == "session":  # qualified by its body (青溪市政协十二届一次) or bare (十二届一次)
            return AnyOf((Term("session", value), Term("session_labels", value)))
        return Term({"proposer": "proposers", "number": "numbers"}[name], value)


def _words_query(words: list[str], fields: tuple[str, ...]) -> Plan | None:
    """All words must occur, each in any of the fields (BM25F weights per field)."""
    return _all([_word_query(w, fields) for w in words])


def _word_query(word: str, fields: tuple[str, ...]) -> Plan:
    """The word in any of the fields."""
    if len(fields) == 1:
        return Term(fields[0], word.lower())
    return AnyOf(tuple(Term(f, word.lower()) for f in fields))


def _all(plans: list[Plan]) -> Plan | None:
    """Every plan must match (None for none)."""
    if not plans:
        return None
    return plans[0] if len(plans) == 1 else AllOf(tuple(plans))


def _pieces(text: str, segments: list[tuple[str, int, int]], missing: list[bool]) -> list[tuple[str, bool]]:
    """Return a word's pieces as ``(text, typed)``: its segmented words, except that each
    run of words the index does not hold (``missing``), with the word on either side
    (what places its characters), is one piece of the text as typed, matched as characters."""
    near = [any(missing[max(0, i - 1) : i + 2]) for i in range(len(segments))]
    typed = dict(_runs(near))
    pieces: list[tuple[str, bool]] = []
    i = 0
    while i < len(segments):
        if i in typed:
            pieces.append((text[segments[i][1] : segments[typed[i] - 1][2]], True))
            i = typed[i]
        else:
            pieces.append((segments[i][0], False))
            i += 1
    return pieces


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """Return the ``(start, stop)`` indices of each run of true flags."""
    runs: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag and runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        elif flag:
            runs.append((i, i + 1))
    return runs


def _plain_words(node: Node) -> Iterator[Word]:
    """Yield the words of a parse tree (excluded ones too) searched in every word field."""
    if isinstance(node, Word) and node.fields == ALL_FIELDS:
        yield node
    elif isinstance(node, Bool):
        for child in node.children:
            yield from _plain_words(child)
    elif isinstance(node, (Group, Negate)):
        yield from _plain_words(node.child)


def _unknown(tree: Node, frequencies: Frequencies) -> frozenset[str]:
    """Return the segmented words of a query (lower case) that the index does not hold
    as words: in no reply's body, or, for one character, held as a word by fewer than
    :data:`WORD_SHARE` of the replies holding the character."""
    nodes = islice(_plain_words(tree), MAX_TERMS)  # the builder ignores words past these
    words = list(dict.fromkeys(w.lower() for node in nodes for w, _, _ in segment(node.text)))
    if not words:
        return frozenset()
    singles = [w for w in words if len(w) == 1]
    counts = frequencies([*(Term("body", w) for w in words), *(Phrase(fold(w)) for w in singles)])
    as_word = dict(zip(words, counts, strict=False))
    as_characters = dict(zip(singles, counts[len(words) :], strict=True))
    return frozenset(
        w for w in words if not as_word[w] or (len(w) == 1 and as_word[w] < WORD_SHARE * as_characters[w])
    )


def _needles(node: Node) -> list[str]:
    """Return the strings that a same-sentence/paragraph group requires."""
    if isinstance(node, (Word, Exact)):
        return [fold(node.text)] if fold(node.text) else []
    if isinstance(node, Near):
        return [fold(p) for p in node.parts]
    if isinstance(node, Bool) and node.kind == "and":
        return [n for child in node.children for n in _needles(child)]
    if isinstance(node, Group):
        return _needles(node.child)
    return []  # alternatives and exclusions do not constrain the scope


def _has_words(node: Node | None) -> bool:
    if isinstance(node, Word):
        return True
    if isinstance(node, Bool):
        return any(_has_words(c) for c in node.children)
    if isinstance(node, Group):
        return _has_words(node.child)
    return False


def parse_query(text: str, frequencies: Frequencies | None = None) -> ParsedQuery:
    """Parse a user's query string; never raises for any input.

    :param frequencies: how many replies of the index each plan matches; with them,
        words the index does not hold as words are matched as characters. Without,
        every word is taken as a word.
    """
    notices: list[str] = []
    text = text.replace(SEPARATOR, " ").strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"检索式过长，只使用了前 {MAX_QUERY_CHARS} 个字符")
    parser = _Parser(tokenize(text))
    tree = parser.parse()
    notices.extend(parser.notices)
    builder = _Builder(_unknown(tree, frequencies) if tree is not None and frequencies else frozenset())
    query = builder.build(tree) if tree is not None else None
    exact = None
    if tree is not None and _has_words(tree):
        exact = _Builder().build(tree, exact_words=True, collect=False)
    notices.extend(builder.notices)
    if builder.forgiven:
        quoted = "、".join(f"“{piece}”" for piece in dict.fromkeys(builder.forgiven))
        notices.append(f"{quoted}不是词表中的词，已按原文字符匹配")
    return ParsedQuery(
        query=query if query is not None else Everything(),
        phrases=tuple(dict.fromkeys(builder.phrases)),
        terms=tuple(dict.fromkeys(builder.terms)),
        segmented=tuple(builder.segmented),
        notice="；".join(dict.fromkeys(notices)) or None,
        scopes=tuple(builder.scopes),
        exact_query=exact,
        text=text,
        words=tuple(builder.words),
        pasted=tuple(dict.fromkeys(builder.pasted)),
    )


def narrowed(parsed: ParsedQuery, within: Sequence[ParsedQuery]) -> ParsedQuery:
    """Return a query narrowed by further queries (结果中检索): a reply must match each.

    What the UI shows (words, phrases, notices) is theirs together; the text and words
    stay the first query's, so a correction offered rewrites that query only.
    """
    if not within:
        return parsed
    parts = (parsed, *within)
    asked = [p for p in parts if not p.is_empty]
    exact = None
    if any(p.exact_query is not None for p in parts):
        exact = _all([p.query if p.exact_query is None else p.exact_query for p in asked])
    return replace(
        parsed,
        query=_all([p.query for p in asked]) or Everything(),
        phrases=tuple(dict.fromkeys(x for p in parts for x in p.phrases)),
        terms=tuple(dict.fromkeys(x for p in parts for x in p.terms)),
        segmented=tuple(x for p in parts for x in p.segmented),
        notice="；".join(dict.fromkeys(p.notice for p in parts if p.notice)) or None,
        scopes=tuple(x for p in parts for x in p.scopes),
        exact_query=exact,
        pasted=tuple(dict.fromkeys(x for p in parts for x in p.pasted)),
    )


def is_neighbour(word: str, other: str) -> bool:
    """Return True when ``other`` is ``word`` with one character substituted, inserted or
    deleted, both of two characters or more: what a misspelt word may have meant."""
    if min(len(word), len(other)) < 2 or abs(len(word) - len(other)) > 1 or word == other:
        return False
    if len(word) == len(other):
        return sum(a != b for a, b in zip(word, other, strict=True)) == 1
    short, long = sorted((word, other), key=len)
    first = next((i for i, (a, b) in enumerate(zip(short, long, strict=False)) if a != b), len(short))
    return short[first:] == long[first + 1 :]


def correction(parsed: ParsedQuery, frequencies: Frequencies, neighbours: Neighbours) -> str | None:
    """Return the query with each of its words that finds nothing corrected, or None when
    none can be: what "您是不是要找" offers when a query finds nothing.

    A word is replaced by the word one edit from it (:func:`is_neighbour`) that most
    replies hold; failing that, each of its runs the index does not hold (服物 of 托育服物)
    is replaced so.
    """
    counts = frequencies([word.plan for word in parsed.words])
    missing = [word for word, count in zip(parsed.words, counts, strict=True) if not count]
    keys = {span: _key(parsed.text[span[0] : span[1]]) for word in missing for span in (word.span, *word.unknown)}
    spans = [span for span, key in keys.items() if len(key) > 1]  # a character has no correction
    options = dict(zip(spans, neighbours([keys[span] for span in spans]), strict=True)) if spans else {}
    candidates = list(dict.fromkeys(c for found in options.values() for c in found))
    if not candidates:
        return None
    held = dict(zip(candidates, frequencies([Term("body", c) for c in candidates]), strict=True))
    best = {}
    for span, found in options.items():
        if likely := [c for c in found if held[c]]:
            best[span] = min(likely, key=lambda c: (-held[c], c))  # the most replies; then the first in order
    fixes = []
    for word in missing:
        if word.span in best:
            fixes.append((word.span, best[word.span]))
        else:
            fixes.extend((span, best[span]) for span in word.unknown if span in best)
    text = parsed.text
    for (start, end), fix in sorted(fixes, reverse=True):  # from the last: the spans before it still hold
        text = text[:start] + fix + text[end:]
    return text if fixes else None


def _key(text: str) -> str:
    """Return a word as the word fields hold it: its words (simplified) joined, lower case."""
    return "".join(w for w, _, _ in segment(text)).lower()


def in_one_scope(body: str, scope: ScopeFilter) -> bool:
    """Return True if one sentence (or paragraph) of ``body`` holds every needle."""
    pieces = body.split("\n\n") if scope.kind == "paragraph" else sentences(body)
    return any(all(n in folded for n in scope.needles) for folded in map(fold, pieces))
