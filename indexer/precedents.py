"""Precedents: the earlier passages that say what a pasted text says.

A drafter pastes a sentence, a paragraph or a whole draft; each of its paragraphs is
matched on its own. A pasted paragraph finds its candidate replies through the
backend, in one query: its key terms weighed against the collection (as similar
replies are found), ORed and ranked by BM25. (Asking for its clauses word for word
as well finds nothing more in the benchmark and reads every character pair's
postings: most of the time of a query.) Every paragraph of those replies is then
scored here against the pasted one, on the two things a reader sees as "the same
point":

- the character pairs they share (folded, within clauses): order-free, so clauses
  swapped or a word changed lose little;
- the words they share, each synonym read as its group's word (补贴 and 补助 are one
  word here), the genre's everyday words left out: a point made in other words.

Each is a recall (how much of the pasted paragraph the passage holds) weighed over a
precision (how much of the passage is the pasted paragraph), so that a passage holding
the pasted sentence ranks high, and one that says exactly it ranks highest (1.0).

Reuse is the same comparison turned round: the paragraphs of one reply that earlier
replies already said, among the earlier replies most like it (its key terms).
"""

from __future__ import annotations

import bisect
import difflib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from markupsafe import escape

from reply_archive.archive.model import passage_numbers

from .analysis import fold, fold_with_offsets, segment
from .backend import Deadline, Document, Reader, Request
from .plan import AnyOf, Plan, Term
from .query import synonyms
from .results import Hit
from .similar import KEY_TERMS, boilerplate, candidate_words, genre_stopwords

MAX_PASTE_CHARS = 5000
MAX_PIECES = 30  # pasted paragraphs matched (a longer draft's short lines are joined)
MIN_PIECE_CHARS = 20  # shorter pasted lines (a heading, a broken line) join the next one
CANDIDATES = 30  # replies whose paragraphs are scored, per pasted paragraph
DIFFED = 3  # of a pasted paragraph's passages, the best ones near-identical show a diff
MIN_SCORE = 0.3  # passages scored lower are not shown
DIFF_SCORE = 0.6  # passages at least this close show a word-level diff
# The closeness of a passage: how much of the pasted paragraph's character pairs it
# holds, how many of its words (or their synonyms), and how much of the passage is
# the pasted paragraph's pairs (a passage that says only that ranks first).
WEIGHTS = (0.35, 0.35, 0.3)
REUSED_SCORE = 0.8  # a paragraph at least this close to an earlier one is said again
REUSE_MIN_CHARS = 20  # shorter paragraphs (a salutation, a date) are not reuse
REUSE_CANDIDATES = 60  # earlier replies whose paragraphs a reply's are compared with
REUSE_SHOWN = 5  # of the earlier passages that said a paragraph, the oldest shown (all counted)
SAME_SHOWN = 5  # of the other passages of a precedent's very text, the oldest shown (all counted)

_CLAUSE = re.compile(r"[^\w]+")  # what separates clauses: punctuation, spaces


@dataclass(frozen=True)
class Passage:
    """A paragraph of a reply, as a precedent of a pasted paragraph."""

    hit: Hit
    paragraph: int  # its passage number: /reply/<id>#p-N
    section: str  # the heading of the section it stands in, "" if none
    text: str
    html: str  # escaped, the character runs it shares with the pasted text marked
    diff: str | None  # for a near-identical passage, how it differs word by word
    score: float  # 1.0 for the same text
    # Other candidates' paragraphs of this very text (folded), the oldest SAME_SHOWN
    # (reply and passage number), and how many there are in all: recycled prose is one
    # precedent, not ten.
    same: tuple[tuple[Hit, int], ...] = ()
    same_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply_id": self.hit.id,
            "paragraph": self.paragraph,
            "section": self.section,
            "text": self.text,
            "html": self.html,
            "diff": self.diff,
            "score": self.score,
            **_cited(self.hit),
            "same": [{"reply_id": hit.id, "paragraph": number, **_cited(hit)} for hit, number in self.same],
            "same_count": self.same_count,
        }


def _cited(hit: Hit) -> dict[str, Any]:
    """Return what a passage's reply is cited by."""
    return {
        "title": hit.title,
        "proposal_title": hit.proposal_title,
        "department": hit.department,
        "year": hit.year,
        "date": hit.date,
        "result_category": hit.result_category,
    }


def _oldest_first(hit: Hit) -> str:
    """Sort key: the earliest-dated reply first (the undated ones before any)."""
    return hit.date or ""


@dataclass(frozen=True)
class PastedParagraph:
    """One paragraph of a pasted text and its precedents, best first."""

    text: str
    passages: tuple[Passage, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "passages": [p.to_dict() for p in self.passages]}


@dataclass(frozen=True)
class Precedents:
    """The precedents of a pasted text, paragraph by paragraph."""

    pieces: tuple[PastedParagraph, ...]
    took_ms: float
    timed_out: bool = False

    def to_dict(self) -> dict[str, Any]:
        flat = sorted(
            ({**p.to_dict(), "piece": i} for i, piece in enumerate(self.pieces) for p in piece.passages),
            key=lambda p: -p["score"],
        )
        return {
            "ok": True,
            "passages": flat,
            "pieces": [piece.to_dict() for piece in self.pieces],
            "timed_out": self.timed_out,
            "took_ms": self.took_ms,
        }


@dataclass(frozen=True)
class Reuse:
    """The paragraphs of a reply that earlier replies said already."""

    # Its passage number, the oldest earlier passages that said it (up to REUSE_SHOWN),
    # and how many earlier passages said it in all.
    paragraphs: tuple[tuple[int, tuple[Passage, ...], int], ...]
    new_share: float  # of its substance, the share (by characters) no earlier reply said

    def to_dict(self) -> dict[str, Any]:
        return {
            "paragraphs": [
                {"paragraph": number, "earlier": [p.to_dict() for p in earlier], "earlier_count": count}
                for number, earlier, count in self.paragraphs
            ],
            "new_share": self.new_share,
        }


# --- the text of a pasted paragraph and of a passage -------------------------------------


@dataclass(frozen=True)
class _Text:
    """What a pasted paragraph is compared by."""

    grams: frozenset[str]  # folded character pairs within clauses (a lone character as itself)
    keys: np.ndarray  # the same pairs as sorted integer keys (see :func:`_keyed`)
    words: tuple[tuple[str, ...], ...]  # its words, each with its synonyms, folded

    @classmethod
    def of(cls, text: str) -> _Text:
        folded = fold(text)
        keys, _ = _keyed(folded)
        return cls(grams(folded), np.unique(keys), _word_forms(text))


def grams(folded: str) -> frozenset[str]:
    """Return the character pairs of a folded text, within clauses (a clause of one
    character as itself), as text: what a passage marks."""
    keys, _ = _keyed(folded)
    return frozenset(chr(k) if k < _PAIR else chr(k >> 21) + chr(k & (_PAIR - 1)) for k in keys.tolist())


_PAIR = 1 << 21  # a key at least this is a pair (code points are below it)


@cache
def _word_characters() -> np.ndarray:
    """Return, for each code point of the basic plane, whether it can stand in a clause
    (what the regular expression ``\\w`` matches); the others separate clauses."""
    return np.array([not _CLAUSE.fullmatch(chr(c)) for c in range(0x10000)], dtype=bool)


def _keyed(folded: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the character pairs of a folded text within clauses as integer keys (a
    clause of one character as its code point, a pair as ``first << 21 | second``),
    and where each stands (the index of its first character)."""
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    inside = (codes > 0xFFFF) | _word_characters()[np.minimum(codes, 0xFFFF)]
    paired = inside[:-1] & inside[1:]
    before = np.concatenate(([False], inside[:-1]))
    after = np.concatenate((inside[1:], [False]))
    alone = inside & ~before & ~after
    at = np.concatenate((np.flatnonzero(paired), np.flatnonzero(alone)))
    keys = np.concatenate(((codes[:-1][paired] << 21) | codes[1:][paired], codes[alone]))
    return keys, at


def _word_forms(text: str) -> tuple[tuple[str, ...], ...]:
    """Return the words of a text that say what it is about (the genre's everyday words,
    single characters and numbers left out), each with its one-word synonyms, folded."""
    stop = genre_stopwords()
    table = synonyms()
    chosen = dict.fromkeys(w for w, _, _ in segment(text) if len(w) > 1 and w not in stop and not w.isdigit())
    return tuple(
        tuple(dict.fromkeys(fold(f) for f in (w, *(a[0] for a in table.get(w, ()) if len(a) == 1)))) for w in chosen
    )


def pasted_paragraphs(text: str) -> list[str]:
    """Split a pasted text into the paragraphs matched one by one: its lines, a short
    line (a heading, a stray break) joined to the next, at most :data:`MAX_PIECES`
    (the rest joined to the last)."""
    pieces: list[str] = []
    pending = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pending += line
        if len(_CLAUSE.sub("", pending)) >= MIN_PIECE_CHARS:
            pieces.append(pending)
            pending = ""
    if pending:
        if pieces:
            pieces[-1] += pending
        else:
            pieces.append(pending)
    return [*pieces[: MAX_PIECES - 1], "".join(pieces[MAX_PIECES - 1 :])] if len(pieces) > MAX_PIECES else pieces


@dataclass(frozen=True)
class _Paragraph:
    number: int
    section: str
    text: str


def reply_paragraphs(doc: Document) -> list[_Paragraph]:
    """Return the numbered paragraphs of a stored reply (headings and contact lines have
    no number), each with the heading of its section."""
    sections: Sequence[tuple[int, str]] = doc.display.get("sections", ())
    starts = [start for start, _ in sections]
    paragraphs = doc.body.split("\n\n")
    offsets, at = [], 0
    for paragraph in paragraphs:
        offsets.append(at)
        at += len(paragraph) + 2
    heading_starts = set(starts)
    headings = {idx for idx, offset in enumerate(offsets) if offset in heading_starts}
    found = []
    for idx, number in enumerate(passage_numbers(paragraphs, headings)):
        if number is not None and paragraphs[idx].strip():
            section = bisect.bisect_right(starts, offsets[idx]) - 1
            found.append(_Paragraph(number, sections[section][1] if section >= 0 else "", paragraphs[idx]))
    return found


# --- finding ----------------------------------------------------------------------------


@dataclass
class _Reply:
    """A candidate reply, split and keyed for scoring."""

    hit: Hit
    paragraphs: list[_Paragraph]
    whole: str  # its paragraphs folded, joined by :data:`_JOINER`
    starts: list[int]  # where each paragraph starts in ``whole``
    owners: np.ndarray  # for each character pair of the reply (in order), its paragraph
    keys: np.ndarray  # and the pair
    sizes: np.ndarray  # pairs per paragraph

    @classmethod
    def of(cls, doc: Document) -> _Reply:
        paragraphs = reply_paragraphs(doc)
        # One folding of the whole reply: folding costs mostly a call per text.
        whole = fold(_JOINER.join(p.text for p in paragraphs))
        starts = [0, *(m.end() for m in re.finditer(_JOINER, whole))]
        keys, at = _keyed(whole)
        owners = np.searchsorted(np.array(starts, dtype=np.int64), at, side="right") - 1
        return cls(
            Hit.from_display(doc.display),
            paragraphs,
            whole,
            starts,
            owners,
            keys,
            np.bincount(owners, minlength=len(paragraphs)),
        )

    def words_held(self, words: tuple[tuple[str, ...], ...], only: Sequence[int] | None = None) -> np.ndarray:
        """Return, for each paragraph, how many of these words (any of a word's forms) it
        holds: each form is looked for once in the whole reply, and found ones placed.

        :param only: the paragraphs that matter (the others count 0); when they are few,
            the words are looked for in them alone.
        """
        held = np.zeros(len(self.paragraphs))
        if only is not None and 2 * len(only) < len(self.paragraphs):
            ends = [*self.starts[1:], len(self.whole)]
            for idx in only:
                text = self.whole[self.starts[idx] : ends[idx]]
                held[idx] = sum(1 for forms in words if any(form in text for form in forms))
            return held
        for forms in words:
            holding = set()
            for form in forms:
                at = self.whole.find(form)
                while at >= 0:
                    owner = bisect.bisect_right(self.starts, at) - 1
                    holding.add(owner)
                    # The rest of this paragraph holds nothing new: look on from the next.
                    at = self.whole.find(form, self.starts[owner + 1]) if owner + 1 < len(self.starts) else -1
            if holding:
                held[list(holding)] += 1
        return held


@dataclass(frozen=True)
class _Pairs:
    """The character pairs of some replies' paragraphs (numbered across them, in
    order): each pair a paragraph holds once, with how many times it holds it."""

    replies: tuple[_Reply, ...]
    firsts: tuple[int, ...]  # each reply's first paragraph
    keys: np.ndarray  # the pairs
    owners: np.ndarray  # the paragraph holding each
    times: np.ndarray  # how many times it holds it
    sizes: np.ndarray  # pairs per paragraph, repeats counted

    @classmethod
    def of(cls, replies: Sequence[_Reply]) -> _Pairs:
        counts = [len(reply.paragraphs) for reply in replies]
        firsts = tuple(np.cumsum([0, *counts[:-1]]).tolist()) if replies else ()
        keys = np.concatenate([reply.keys for reply in replies]) if replies else np.empty(0, np.int64)
        owners = (
            np.concatenate([reply.owners + first for reply, first in zip(replies, firsts, strict=True)])
            if replies else np.empty(0, np.int64)
        )
        held, times = np.unique((owners << _KEY_BITS) | keys, return_counts=True)
        sizes = np.concatenate([reply.sizes for reply in replies]) if replies else np.empty(0, np.int64)
        return cls(tuple(replies), firsts, held & _KEY_MASK, held >> _KEY_BITS, times, sizes)


_KEY_BITS = 42  # a pair's key is two code points of 21 bits
_KEY_MASK = (1 << _KEY_BITS) - 1


def closeness(ours: _Text, pairs: _Pairs, floor: float = 0.0) -> np.ndarray:
    """Return how closely each paragraph of these replies (in order) says our text: 1.0
    for the same text.

    How much of our character pairs it holds (distinct pairs), how many of our words
    (or their synonyms), and how much of it is our pairs (of all its pairs), weighed by
    :data:`WEIGHTS`. The replies' pairs are scored together, in one pass.

    :param floor: the scores that matter; the words are looked for only in paragraphs
        that could reach it (holding every word): the others' scores are lower than their
        true ones, and below ``floor``.
    """
    total = len(pairs.sizes)
    if not len(ours.keys) or not total:
        return np.zeros(total)
    at = np.searchsorted(ours.keys, pairs.keys)  # ours.keys is sorted: a lookup per pair
    at[at == len(ours.keys)] = 0
    shared = ours.keys[at] == pairs.keys
    owners = pairs.owners[shared]
    recall = np.bincount(owners, minlength=total) / len(ours.keys)
    held_pairs = np.bincount(owners, weights=pairs.times[shared], minlength=total)
    score = WEIGHTS[0] * recall + WEIGHTS[2] * held_pairs / np.maximum(pairs.sizes, 1)
    if not ours.words:
        return score + WEIGHTS[1] * recall
    reachable = score + WEIGHTS[1] >= floor  # holding every word, a paragraph would reach the floor
    held = np.concatenate([
        reply.words_held(ours.words, np.flatnonzero(reachable[first : first + len(reply.paragraphs)]).tolist())
        for reply, first in zip(pairs.replies, pairs.firsts, strict=True)
    ])
    return score + WEIGHTS[1] * held / len(ours.words)


class _Candidates:
    """The candidate replies of one request, each read and keyed once."""

    def __init__(self, reader: Reader, deadline: Deadline) -> None:
        self.reader = reader
        self.deadline = deadline
        self._replies: dict[str, _Reply] = {}
        self._pairs: dict[tuple[str, ...], _Pairs] = {}

    def find(self, plan: Plan, filters: Mapping[str, tuple[str, ...]], before: str | None, count: int) -> list[str]:
        """Select the best ``count`` replies of a plan; return their ids."""
        selection = self.reader.select(Request(plan, filters=filters, before=before), self.deadline)
        found = []
        for doc in self.reader.documents(selection, 0, count):
            reply_id = doc.display["id"]
            if reply_id not in self._replies:
                self._replies[reply_id] = _Reply.of(doc)
            found.append(reply_id)
        return found

    def scored(self, ours: _Text, reply_ids: Sequence[str], floor: float) -> list[tuple[float, Hit, _Paragraph]]:
        """Return the paragraphs of these replies scored ``floor`` or more by closeness
        to ours, best first."""
        key = tuple(reply_ids)
        pairs = self._pairs.get(key)
        if pairs is None:  # reuse scores each paragraph of a reply against the same replies
            pairs = self._pairs[key] = _Pairs.of([self._replies[reply_id] for reply_id in key])
        found = zip(
            closeness(ours, pairs, floor).tolist(),
            ((reply.hit, paragraph) for reply in pairs.replies for paragraph in reply.paragraphs),
            strict=True,
        )
        return sorted(((score, hit, paragraph) for score, (hit, paragraph) in found if score >= floor),
                      key=lambda s: (-s[0], s[1].id, s[2].number))


_JOINER = "\ue000"  # a private-use character: no text holds it and folding keeps it


def find_precedents(
    reader: Reader,
    text: str,
    filters: Mapping[str, tuple[str, ...]],
    limit: int,
    deadline: Deadline,
) -> Precedents:
    """Return the precedents of each paragraph of a pasted text (checked by the caller)."""
    started = time.perf_counter()
    candidates = _Candidates(reader, deadline)
    pieces = []
    for piece in pasted_paragraphs(text):
        if deadline.passed:
            break
        ours, plan = _Text.of(piece), _plan(reader, "", piece)
        found = candidates.find(plan, filters, None, CANDIDATES) if plan is not None else []
        best = _same_text_grouped(candidates.scored(ours, found, MIN_SCORE))[:limit]
        passages = tuple(
            _passage(piece, ours, *s, diffed=rank < DIFFED, same=same) for rank, (s, same) in enumerate(best)
        )
        pieces.append(PastedParagraph(piece, passages))
    took = round((time.perf_counter() - started) * 1000, 2)
    return Precedents(tuple(pieces), took, timed_out=deadline.passed)


Scored = tuple[float, Hit, _Paragraph]


def _same_text_grouped(scored: list[Scored]) -> list[tuple[Scored, list[Scored]]]:
    """Group scored paragraphs of the same text (folded), in the order of their best: the
    oldest stands for the group, followed by the others, oldest first. The same text
    scores the same, so a group ranks where each of its paragraphs would."""
    groups: dict[str, list[Scored]] = {}
    for s in scored:
        groups.setdefault(fold(s[2].text), []).append(s)
    ordered = (sorted(members, key=lambda s: _oldest_first(s[1])) for members in groups.values())
    return [(first, rest) for first, *rest in ordered]


def _plan(reader: Reader, title: str, text: str) -> Plan | None:
    """Return the query of the candidates of a text: its key terms (every word of it
    when it has none, nothing but the genre's everyday words); None for a text of no
    words (punctuation only)."""
    terms = reader.key_terms(candidate_words(title, text), KEY_TERMS)
    if not terms:
        terms = [(w, 1.0) for w in dict.fromkeys(w for w, _, _ in segment(text))]
    return AnyOf(tuple(Term("body", term, weight) for term, weight in terms)) if terms else None


def _passage(
    piece: str, ours: _Text, score: float, hit: Hit, paragraph: _Paragraph, *, diffed: bool,
    same: Sequence[Scored] = (),
) -> Passage:
    return Passage(
        hit=hit,
        paragraph=paragraph.number,
        section=paragraph.section,
        text=paragraph.text,
        html=shared_html(paragraph.text, ours.grams),
        diff=word_diff(piece, paragraph.text) if diffed and score >= DIFF_SCORE else None,
        score=round(score, 4),
        same=tuple((other, p.number) for _, other, p in same[:SAME_SHOWN]),
        same_count=len(same),
    )


def shared_html(text: str, grams: frozenset[str]) -> str:
    """Return ``text`` escaped, the runs of characters it shares with the pasted text
    (character pairs of it) in ``<mark>``."""
    folded, offsets = fold_with_offsets(text)
    marked = [False] * len(text)
    for i in range(len(folded) - 1):
        if folded[i : i + 2] in grams:
            marked[offsets[i]] = marked[offsets[i + 1]] = True
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        chunk = str(escape(text[i:j]))
        out.append(f"<mark>{chunk}</mark>" if marked[i] else chunk)
        i = j
    return "".join(out)


def word_diff(ours: str, theirs: str) -> str:
    """Return how ``theirs`` differs from ``ours`` word by word, as escaped HTML: what
    only ours has in ``<del>``, what only theirs has in ``<ins>``."""
    a, b = _tokens(ours), _tokens(theirs)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(a[i1:i2]))))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out)


@lru_cache(maxsize=64)  # a pasted paragraph is diffed against each of its best passages
def _tokens(text: str) -> tuple[str, ...]:
    """Return the text cut into words, everything between them kept (punctuation)."""
    tokens, at = [], 0
    for _, start, end in segment(text):
        if start > at:
            tokens.append(text[at:start])
        tokens.append(text[start:end])
        at = end
    if at < len(text):
        tokens.append(text[at:])
    return tuple(tokens)


# --- reuse ------------------------------------------------------------------------------


def find_reuse(reader: Reader, doc: Document, deadline: Deadline) -> Reuse:
    """Return the paragraphs of a stored reply that earlier replies said already
    (replies dated before it; for an undated reply, any other)."""
    cues = boilerplate()
    own = [p for p in reply_paragraphs(doc) if len(p.text) >= REUSE_MIN_CHARS and not any(c in p.text for c in cues)]
    if not own:
        return Reuse((), 1.0)
    candidates = _Candidates(reader, deadline)
    plan = _plan(reader, doc.display["title"], "\n".join(p.text for p in own))
    if plan is None:
        return Reuse((), 1.0)
    others = [
        reply_id
        for reply_id in candidates.find(plan, {}, doc.display.get("date") or None, REUSE_CANDIDATES)
        if reply_id != doc.display["id"]
    ]
    earlier: dict[int, tuple[tuple[Passage, ...], int]] = {}
    for p in own:
        ours = _Text.of(p.text)
        said = candidates.scored(ours, others, REUSED_SCORE)
        if said:
            oldest = sorted(said, key=lambda s: _oldest_first(s[1]))[:REUSE_SHOWN]
            passages = tuple(_passage(p.text, ours, *s, diffed=True) for s in oldest)
            earlier[p.number] = (passages, len(said))
    reused = sum(len(p.text) for p in own if p.number in earlier)
    total = sum(len(p.text) for p in own)
    paragraphs = tuple((number, passages, count) for number, (passages, count) in sorted(earlier.items()))
    return Reuse(paragraphs, round(1 - reused / total, 4) if total else 1.0)
