"""Text as every part of the archive reads it: decoded, with one kind of line end, in
sentences.

Sources and records are decoded with the same rules for byte-order marks, and have
their line ends unified the same way, so a record saved by an editor on Windows (CRLF,
a BOM, UTF-16) reads as the file it was. Commitments are cut out of sentences, snippets
show them, and same-sentence searches (同句) look inside one: all of them split the
text here, so a sentence is the same thing on the record page, in the snippets and in
a query.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def bom_encoding(raw: bytes) -> str | None:
    """Return the codec a byte-order mark at the start of ``raw`` declares, or None."""
    return next((encoding for bom, encoding in _BOMS if raw.startswith(bom)), None)


def unify_line_ends(text: str) -> str:
    """Return ``text`` with every line end (CRLF, CR) as LF and no byte-order marks."""
    return text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")


# Full-width and ASCII forms: cleaning makes punctuation full width only next to CJK.
SENTENCE_ENDS = "。！？；!?;"
# A run of ends (好吗？！) closes one sentence; a line break ends one without a mark.
_SENTENCE = re.compile(rf"[^{SENTENCE_ENDS}\n]*[{SENTENCE_ENDS}]+|[^{SENTENCE_ENDS}\n]+")


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield the ``(start, end)`` offsets of the sentences of ``text``, in order.

    A sentence ends after 。！？； or their ASCII forms !?; and never crosses a line
    break; the spans leave out the whitespace around a sentence, and text that is only
    whitespace is no sentence.
    """
    for match in _SENTENCE.finditer(text):
        piece = match.group()
        start = match.start() + len(piece) - len(piece.lstrip())
        end = match.start() + len(piece.rstrip())
        if start < end:
            yield start, end


def sentences(text: str) -> list[str]:
    """Return the sentences of ``text`` (see :func:`sentence_spans`)."""
    return [text[start:end] for start, end in sentence_spans(text)]
