"""Snippets: the passages of a reply where the query matched, matches marked.

Matching is done on the folded text (the same folding as the exact-wording field), and
every match is mapped back to the characters of the original text, so a query typed as
``e站通`` marks ``e 站通`` where the text has a space, and a full-width query marks the
half-width text. Output is HTML: the text is escaped, matches are wrapped in ``<mark>``.

A pasted passage (:class:`Runs`) is matched by what a text shares with it, not as a
whole: the passages holding its longest runs are the ones shown.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape, unescape

from reply_archive.archive.text import sentence_spans

from .analysis import fold, fold_with_offsets

MIN_RUN = 3  # characters of a run shared with a pasted passage: shorter pieces are no match

Span = tuple[int, int]


@dataclass(frozen=True)
class Runs:
    """A long query text (a pasted passage), folded: the runs of :data:`MIN_RUN` characters
    or more that a text shares with it are matches, and passages holding longer runs
    come first. A single character of it is never marked on its own."""

    text: str


def match_spans(text: str, needles: Iterable[str]) -> list[Span]:
    """Return the merged ``(start, end)`` spans of ``text`` where any needle occurs."""
    folded, offsets = fold_with_offsets(text)
    return _merged(_occurrences(folded, offsets, needles))


def _occurrences(folded: str, offsets: list[int], needles: Iterable[str]) -> list[Span]:
    """Return the spans (in the original text) where each needle occurs in the folded text."""
    spans = []
    for needle in {fold(n) for n in needles}:
        if not needle:
            continue
        start = folded.find(needle)
        while start >= 0:
            end = start + len(needle)
            spans.append((offsets[start], offsets[end - 1] + 1))
            start = folded.find(needle, start + 1)
    return spans


def _shared(folded: str, offsets: list[int], passage: str) -> list[Span]:
    """Return the spans (in the original text) of the runs of :data:`MIN_RUN` characters
    or more that the folded text shares with a folded passage, each as long as it goes.

    Each run is extended from where it starts, once: a pair of characters that continues
    a run begun one character earlier (in the text and in the passage) is not a start.
    """
    starts: dict[str, list[int]] = {}
    for j in range(len(passage) - 1):
        starts.setdefault(passage[j : j + 2], []).append(j)
    spans = []
    previous: list[int] = []
    for i in range(len(folded) - 1):
        current = starts.get(folded[i : i + 2], [])
        for j in current:
            if j - 1 in previous:
                continue
            k = 2
            while i + k < len(folded) and j + k < len(passage) and folded[i + k] == passage[j + k]:
                k += 1
            if k >= MIN_RUN:
                spans.append((offsets[i], offsets[i + k - 1] + 1))
        previous = current
    return spans


def _merged(spans: list[Span]) -> list[Span]:
    """Return spans sorted, overlapping and touching ones merged."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """Return ``text[start:end]`` as escaped HTML with the spans inside it marked."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    return "".join(out)


def passages(
    text: str, needles: Iterable[str | Runs], *, limit: int = 3, width: int = 120
) -> list[tuple[int, str]]:
    """Return up to ``limit`` marked passages as ``(start offset, html)``, in document order.

    A passage is a sentence (trimmed to about ``width`` characters around its first
    match, or around its longest run of a pasted passage); sentences holding a longer
    run of a pasted passage rank higher, then those with more distinct matched needles.
    With nothing to mark, the opening of the text is returned so that a hit always shows
    some context.
    """
    needles = list(needles)
    folded, offsets = fold_with_offsets(text)
    runs = _merged([span for n in needles if isinstance(n, Runs) for span in _shared(folded, offsets, n.text)])
    words = [n for n in needles if isinstance(n, str)]
    spans = _merged(_occurrences(folded, offsets, words) + runs)
    if not spans:
        return [(0, escape(_clip(text, 0, width)))] if text else []
    run_starts, run_ends = [s for s, _ in runs], [e for _, e in runs]  # both ascending: runs are disjoint
    scored = []
    first = 0  # spans are sorted and disjoint: walk them alongside the sentences
    for s_start, s_end in sentence_spans(text):
        while first < len(spans) and spans[first][1] <= s_start:
            first += 1
        last = first
        while last < len(spans) and spans[last][0] < s_end:
            last += 1
        inside = spans[first:last]
        if inside:
            distinct = len({fold(piece) for piece in {text[s:e] for s, e in inside}})
            held = runs[bisect.bisect_right(run_ends, s_start) : bisect.bisect_left(run_starts, s_end)]
            longest, anchor = max(
                ((min(e, s_end) - max(s, s_start), max(s, s_start)) for s, e in held),
                key=lambda run: run[0],
                default=(0, inside[0][0]),
            )
            scored.append(((-longest, -distinct, -len(inside), s_start), s_end, anchor, longest))
    chosen = sorted(sorted(scored)[:limit], key=lambda item: item[0][3])
    found = []
    for (*_, s_start), s_end, anchor, longest in chosen:
        lead = min(width // 3, max(0, (width - longest) // 2))  # a long run shown whole where it fits
        start = max(s_start, min(anchor - lead, s_end - width))
        end = min(s_end, start + width)
        prefix = "…" if start > s_start else ""
        suffix = "…" if end < s_end else ""
        found.append((start, prefix + mark(text, spans, start, end) + suffix))
    return found


def _clip(text: str, start: int, width: int) -> str:
    piece = text[start : start + width].replace("\n", " ")
    return piece + ("…" if start + width < len(text) else "")


_TAG = re.compile(r"(<[^>]*>)")


def mark_html(html: str, needles: Iterable[str]) -> tuple[str, int]:
    """Mark the needles in the text of trusted, well-formed HTML.

    Only text between tags is touched; each match becomes ``<mark id="m-N">`` so that a
    page can move from one match to the next.

    :return: the marked HTML and the number of matches.
    """
    needles = [n for n in needles if n]
    if not needles:
        return html, 0
    out, count = [], 0
    for piece in _TAG.split(html):
        if not piece or piece.startswith("<"):
            out.append(piece)
            continue
        text = unescape(piece)
        spans = match_spans(text, needles)
        marked = mark(text, spans)
        for _ in spans:
            count += 1
            marked = marked.replace("<mark>", f'<mark id="m-{count}">', 1)
        out.append(marked)
    return "".join(out), count
