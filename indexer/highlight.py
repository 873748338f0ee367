"""Snippets: the passages of a reply where the query matched, matches marked.

Matching is done on the folded text (the same folding as the exact-wording field), and
every match is mapped back to the characters of the original text, so a query typed as
``e站通`` marks ``e 站通`` where the text has a space, and a full-width query marks the
half-width text. Output is HTML: the text is escaped, matches are wrapped in ``<mark>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape, unescape

from reply_archive.archive.text import sentence_spans

from .analysis import fold, fold_with_offsets


def match_spans(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Return the merged ``(start, end)`` spans of ``text`` where any needle occurs."""
    folded, offsets = fold_with_offsets(text)
    spans = []
    for needle in {fold(n) for n in needles}:
        if not needle:
            continue
        start = folded.find(needle)
        while start >= 0:
            end = start + len(needle)
            spans.append((offsets[start], offsets[end - 1] + 1))
            start = folded.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
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


def passages(text: str, needles: Iterable[str], *, limit: int = 3, width: int = 120) -> list[tuple[int, str]]:
    """Return up to ``limit`` marked passages as ``(start offset, html)``, in document order.

    A passage is a sentence (trimmed to about ``width`` characters around its first
    match); sentences with more distinct matched needles rank higher. With nothing to
    mark, the opening of the text is returned so that a hit always shows some context.
    """
    needles = [n for n in needles if n]
    spans = match_spans(text, needles)
    if not spans:
        return [(0, escape(_clip(text, 0, width)))] if text else []
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
            scored.append((-distinct, -len(inside), s_start, s_end, inside))
    chosen = sorted(sorted(scored)[:limit], key=lambda item: item[2])
    found = []
    for _, _, s_start, s_end, inside in chosen:
        first = inside[0][0]
        start = max(s_start, min(first - width // 3, s_end - width))
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
