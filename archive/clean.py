"""Clean raw reply text (as extracted from PDFs, pages or files) into paragraphs.

The rules follow the domain spec §1 and §8. PDF text arrives hard-wrapped at the page
width, often with a blank line after every line, page numbers, and a leading space where
a page begins. Cleaning rejoins the wrapped lines into paragraphs without ever putting a
space between two Chinese characters, drops page furniture, and normalises the spacing
and punctuation around digits and Latin letters. Real gaps between two Chinese phrases
(an event name such as ``翰墨绘盛事 丹青铸同心``) are kept.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter

# CJK ideographs plus the 〇 numeral; enough for every rule below.
CJK = r"\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")

_PAGE_FURNITURE = re.compile(
    r"""^(?:
        \d{1,3}                              # a bare page (or copy) number
      | [—–\-－﹣]+\s*\d{1,3}\s*[—–\-－﹣]+   # — 2 —  /  -3-
      | 第\s*\d+\s*页\s*[,，/／]?\s*共\s*\d+\s*页  # 第1页 共3页
      | \d{1,3}\s*/\s*\d{1,3}               # 1/3
    )$""",
    re.VERBOSE,
)
# Where a paragraph ends: sentence-final punctuation, or a colon that opens a list.
_PARAGRAPH_END = tuple("。！？；：!?;:")
# Lines that start a new block even when the previous line ran to the margin.
SECTION_MARKER = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}、|（[一二三四五六七八九十]{1,3}）|\([一二三四五六七八九十]{1,3}\)"
    r"|\d{1,2}[.．、](?!\d)|（\d{1,2}）)"
)
_SPACE_CJK_ASCII = re.compile(f"(?<=[{CJK}])[ \u00a0\u3000]+(?=[0-9A-Za-z])")
_SPACE_ASCII_CJK = re.compile(f"(?<=[0-9A-Za-z%])[ \u00a0\u3000]+(?=[{CJK}])")
# Spaces next to full-width punctuation are always extraction noise.
_SPACE_PUNCT = re.compile(r"[ \u00a0]+(?=[，。、；：！？”’）》」』〕】])|(?<=[，。、；：！？“‘（《「『〔【])[ \u00a0]+")
# A document title ends its own line, even when it runs to the margin. A sentence end
# in between (…提案》收悉。现答复 / 如下：) means body text, not a title.
_TITLE_LINE = re.compile(r"(提案|建议|议案)[^。！？；]{0,12}(答复|办理意见|会办意见|答复函|的函)$")
_HALF_PUNCT = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"}
_HALF_BETWEEN_CJK = re.compile(f"(?<=[{CJK}])([,;:!?])(?=[{CJK}])")
_PARENS_CJK = re.compile(f"\\(([^()]*[{CJK}][^()]*)\\)")
_SPACED_LABEL = re.compile(
    r"(联\s+系\s+人|联\s*系\s*电\s*话|联\s+系\s+单\s+位|抄\s+送|抄\s+报|签\s+发\s+人|文\s+号|索\s+引\s+号|附\s+件)(?=\s*[:：])"
)


def display_width(line: str) -> int:
    """Return the width of a line in half-width columns (CJK counts as two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def is_page_furniture(line: str) -> bool:
    """Return True for a line that only carries a page number."""
    return bool(_PAGE_FURNITURE.match(line.strip()))


def fold_width(text: str) -> str:
    """Turn full-width digits, Latin letters and the ideographic space into ASCII.

    Full-width punctuation is kept: NFKC on the whole text would turn ，into ``,``.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def normalise_line(line: str) -> str:
    """Normalise spacing and punctuation inside one joined paragraph."""
    line = fold_width(line)
    line = _SPACED_LABEL.sub(lambda m: re.sub(r"\s+", "", m.group(1)), line)
    line = _SPACE_CJK_ASCII.sub("", line)
    line = _SPACE_ASCII_CJK.sub("", line)
    line = _SPACE_PUNCT.sub("", line)
    line = _HALF_BETWEEN_CJK.sub(lambda m: _HALF_PUNCT[m.group(1)], line)
    line = _PARENS_CJK.sub(r"（\1）", line)
    # Collapse runs of spaces that extraction left between two Chinese phrases.
    line = re.sub(r"[ \u00a0\u3000]{2,}", " ", line)
    return line.strip()


def _join(left: str, right: str) -> str:
    """Join a wrapped line to the next: no space, except between two Latin words."""
    if left and right and left[-1].isascii() and left[-1].isalpha() and right[0].isascii() and right[0].isalpha():
        return f"{left} {right}"
    return left + right


def _is_wrapped(lines: list[str]) -> bool:
    """Return True when the text is hard-wrapped at a page width (PDF extraction).

    In wrapped text most lines end at the same margin; text with one paragraph per line
    has widths all over the place.
    """
    widths = [display_width(line) for line in lines if line]
    if len(widths) < 6:
        return False
    margin = statistics.quantiles(widths, n=10)[-1]  # 90th percentile
    full = sum(1 for w in widths if w >= 0.85 * margin)
    return margin <= 120 and full >= 0.4 * len(widths)


def _page_heads(lines: list[str], furniture: set[int]) -> set[str]:
    """Return the lines found on the same side of two or more page number lines.

    Running headers follow the page number and footers precede it, so there a line
    that repeats on only two pages is already page furniture. A line between two page
    numbers (a one-line page) is on different sides of them and does not count.
    """
    near: Counter[tuple[int, str]] = Counter()
    for idx in furniture:
        for step in (-1, 1):
            j = idx + step
            while 0 <= j < len(lines) and (not lines[j] or j in furniture):
                j += step
            if 0 <= j < len(lines):
                near[(step, lines[j])] += 1
    return {line for (_, line), n in near.items() if n >= 2}


def _drop_running_heads(lines: list[str], page_heads: set[str]) -> list[str]:
    """Drop running headers and footers: short lines repeated on several pages.

    Three copies anywhere are enough; two are, when both sit next to a page number.
    """
    counts = Counter(line for line in lines if line)
    repeated = {
        line
        for line, n in counts.items()
        if (n >= 3 or line in page_heads) and display_width(line) <= 60 and not line.endswith(_PARAGRAPH_END)
    }
    return [line for line in lines if line not in repeated]


def split_lines(raw: str) -> list[str]:
    """Return the raw text as stripped lines with page furniture removed.

    A blank line after every text line (a common PDF extraction artefact) carries no
    meaning and is dropped; in such text only two or more blank lines in a row count as
    a break. Elsewhere a blank line separates paragraphs and is kept as ``""``.
    """
    text = raw.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    lines = [line.strip() for line in text.split("\n")]
    furniture = {i for i, line in enumerate(lines) if is_page_furniture(line)}
    page_heads = _page_heads(lines, furniture)
    # A page number goes together with the blank line after it (the double-spacing
    # artefact), not left as a blank: between two halves of a wrapped sentence it must
    # not end the paragraph.
    furniture |= {i + 1 for i in furniture if i + 1 < len(lines) and not lines[i + 1]}
    lines = [line for i, line in enumerate(lines) if i not in furniture]
    nonblank = [i for i, line in enumerate(lines) if line]
    spaced = sum(1 for i in nonblank[:-1] if i + 1 < len(lines) and not lines[i + 1])
    if nonblank and spaced >= 0.8 * (len(nonblank) - 1):
        out: list[str] = []
        blank_run = 0
        for line in lines:
            if line:
                if blank_run >= 2 and out:
                    out.append("")
                out.append(line)
                blank_run = 0
            else:
                blank_run += 1
        lines = out
    return _drop_running_heads(lines, page_heads)


def to_paragraphs(lines: list[str]) -> list[str]:
    """Rejoin wrapped lines into normalised paragraphs.

    A line break is kept where the line ends a sentence or a list lead-in, where the next
    line opens a section (一、 （一） 1.), or where the line stops well short of the
    margin; otherwise the next line continues the same paragraph.
    """
    wrapped = _is_wrapped(lines)
    margin = statistics.quantiles([display_width(l) for l in lines if l], n=10)[-1] if wrapped else 0
    paragraphs: list[str] = []
    current = ""
    last_line = ""  # the physical line ``current`` ends with
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = last_line = ""
            continue
        if current and wrapped and not _ends_block(last_line, line, margin):
            current = _join(current, line)
        else:
            if current:
                paragraphs.append(current)
            current = line
        last_line = line
    if current:
        paragraphs.append(current)
    return [p for p in (normalise_line(p) for p in paragraphs) if p]


def _ends_block(last_line: str, next_line: str, margin: float) -> bool:
    """Decide whether a paragraph whose last line is ``last_line`` ends there."""
    return (
        last_line.endswith(_PARAGRAPH_END)
        or bool(SECTION_MARKER.match(next_line))
        or bool(_TITLE_LINE.search(last_line))
        or display_width(last_line) < 0.8 * margin
    )


def clean_text(raw: str) -> list[str]:
    """Return the cleaned paragraphs of a raw reply text."""
    return to_paragraphs(split_lines(raw))


def has_cjk(text: str) -> bool:
    """Return True if the text contains at least one Chinese character."""
    return bool(_CJK_CHAR.search(text))
