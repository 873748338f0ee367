"""Text analysis: jieba words for topic search, character n-grams for exact wording.

Whoosh pickles the schema, analyzers included, into the index, so the tokenizer classes
here hold no state of their own: the jieba segmenter is a module-level singleton created
on first use. Renaming or moving these classes means rebuilding the index.

Two analyses serve two needs:

* **Words.** jieba's precise segmentation with the domain dictionary. Positions are word
  ordinals (jieba's stock Whoosh analyzer uses character offsets, which breaks every
  phrase query); character offsets are true offsets into the text. At index time the
  dictionary sub-words of long words are stacked at their word's position (like jieba's
  search mode, for recall: 粤港澳大湾区 also indexes 大湾区); queries use precise mode only.
* **Characters.** Overlapping character bigrams over the *folded* text (see
  :func:`fold`), positioned by character index, so that a phrase of bigrams matches
  exactly the texts that contain the folded query as a substring, whatever jieba would
  have done with it. Single characters go to a unigram field.

Both see simplified characters (``archive.clean.to_simplified``, which keeps offsets),
with CJK radicals and compatibility ideographs folded to the ideographs they stand for
(``archive.clean.fold_radicals``: ⽼ is 老), in documents and in queries.
"""

from __future__ import annotations

import functools
import getpass
import logging
import os
import re
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import jieba
from whoosh.analysis import LowercaseFilter, Token, Tokenizer

from reply_archive import data
from reply_archive.archive.clean import fold_radicals, to_simplified  # the parser's reading, shared

from .errors import DictionaryError

jieba.setLogLevel(logging.WARNING)

SEPARATOR = "\x1f"  # joins the parts of a document in the character fields; never matched


def exact_text(title: str | None, proposal_title: str | None, body: str | None) -> str:
    """Return what the character fields of a reply index (before folding): its title,
    proposal title and searchable body, joined so that no phrase spans two of them."""
    return SEPARATOR.join(filter(None, (title, proposal_title, body)))

_lock = threading.Lock()
_segmenter: jieba.Tokenizer | None = None
_dictionary: str | None = None  # its text


USER_DICT = ("dict", "userdict.txt")


DICTIONARY_VARIABLE = "REPLY_ARCHIVE_DICTIONARY"  # a deployment's own domain dictionary


def user_dictionary() -> str:
    """Return the text of the domain dictionary (jieba's user dictionary: a word a line,
    optionally its count and tag): the file ``$REPLY_ARCHIVE_DICTIONARY`` names, or the
    bundled one.

    :raise DictionaryError: when that file cannot be read as UTF-8 text.
    """
    path = os.environ.get(DICTIONARY_VARIABLE) or str(data.path(*USER_DICT))
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DictionaryError(path, getattr(exc, "strerror", None) or "not UTF-8 text") from None


def domain_dictionary() -> str:
    """Return the text of this process's domain dictionary, read (:func:`user_dictionary`)
    on first use: what its words are made with, which an index keeps with its build."""
    global _dictionary
    if _dictionary is None:
        with _lock:
            if _dictionary is None:
                _dictionary = user_dictionary()
    return _dictionary


def segmenter() -> jieba.Tokenizer:
    """Return the shared jieba segmenter with the domain dictionary loaded."""
    global _segmenter
    if _segmenter is None:
        dictionary = domain_dictionary()
        with _lock:
            if _segmenter is None:
                _segmenter = _loaded(dictionary)
    return _segmenter


def _loaded(dictionary: str) -> jieba.Tokenizer:
    """Return a new jieba segmenter with jieba's dictionary and the user dictionary
    ``dictionary`` loaded.

    Each user word is weighed against jieba's dictionary alone. jieba's own loading adds
    each word's count to the total every word's probability is taken against, so that a
    word added to the dictionary would shift the odds between every text's segmentations
    (13 of 812,000 words of the shared corpus come out otherwise). Without that, a change
    to the dictionary changes the words only of text that contains a word whose count
    changed (:func:`changed_words`): an index re-analyses just those replies.
    """
    seg = jieba.Tokenizer()
    # jieba caches its prefix dictionary in a shared temp file by default;
    # give it a folder of our own so another user's file is never in the way.
    user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()  # no uid on Windows
    seg.tmp_dir = os.path.join(tempfile.gettempdir(), f"reply-archive-{user}")
    os.makedirs(seg.tmp_dir, exist_ok=True)
    seg.initialize()
    total = seg.total
    for word, count, tag in _entries(dictionary):
        seg.add_word(word, count, tag)
        seg.total = total
    return seg


def _entries(dictionary: str) -> Iterator[tuple[str, str | None, str | None]]:
    """Yield the ``(word, count, tag)`` of each line of a user dictionary, as jieba's
    ``load_userdict`` reads them."""
    for line in dictionary.splitlines():
        line = line.strip().lstrip("\ufeff")
        if line:
            word, count, tag = jieba.re_userdict.match(line).groups()
            yield word, count and count.strip(), tag and tag.strip()


def changed_words(before: str, after: str) -> set[str]:
    """Return the words whose count differs between two user dictionaries, or that one
    of them forces apart (a count of 0).

    jieba segments a clause by the counts of the dictionary words inside it, so text
    that contains none of these words is segmented alike with either dictionary, and so
    are its dictionary sub-words (each a word inside one of its words).
    """
    if before == after:
        return set()
    counts, forced = [], []
    with _lock:  # jieba keeps the words forced apart in one set of its module
        kept = set(jieba.finalseg.Force_Split_Words)
        try:
            for dictionary in (before, after):
                jieba.finalseg.Force_Split_Words.clear()
                counts.append((_loaded(dictionary), {word for word, _, _ in _entries(dictionary)}))
                forced.append(set(jieba.finalseg.Force_Split_Words))
        finally:
            jieba.finalseg.Force_Split_Words.clear()
            jieba.finalseg.Force_Split_Words.update(kept)
    (old, old_words), (new, new_words) = counts
    return {w for w in old_words | new_words if old.FREQ.get(w, 0) != new.FREQ.get(w, 0)} | (forced[0] ^ forced[1])


@functools.cache
def longest_word() -> int:
    """Return the length of the longest word in the segmenter's dictionary (prefixes,
    which jieba keeps with a count of 0, are no words)."""
    return max(len(word) for word, count in segmenter().FREQ.items() if count)


def _is_word(text: str) -> bool:
    """Return True for tokens worth indexing: not whitespace or punctuation alone."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def segment(text: str) -> list[tuple[str, int, int]]:
    """Return jieba's precise-mode words of ``text`` (in simplified characters) as
    ``(word, start, end)``; offsets point into ``text``.

    jieba segments each run of ideographs and alphanumerics (a clause) on its own, so
    the clauses are segmented once each (:func:`_cut`) and a clause seen before, in this
    reply (its headings are lines of its body) or in another (the genre's set phrases),
    is not segmented again: the same words as ``segmenter().tokenize(text)``.
    """
    words = []
    start = 0
    for piece in _CLAUSES.split(_simplified(text)):
        for word in _cut(piece) if piece else ():
            end = start + len(word)
            if _is_word(word):
                words.append((word, start, end))
            start = end
    return words


# jieba's own splitting of a text into the clauses it segments independently.
_CLAUSES = jieba.re_han_default


@functools.lru_cache(maxsize=20_000)  # clauses average about 15 characters: a few MB
def _cut(piece: str) -> tuple[str, ...]:
    """Return jieba's precise-mode words of one clause (or of the text between two)."""
    return tuple(segmenter().cut(piece))


def mentions_any(words: Collection[str]) -> Callable[[str], bool]:
    """Return a test of whether a text, as the word fields read it (in simplified
    characters), contains one of ``words`` (not empty): the texts whose words a change
    of those words' counts may change (:func:`changed_words`)."""
    pattern = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
    return lambda text: pattern.search(_simplified(text)) is not None


class _Tokenizer(Tokenizer):
    """A tokenizer whose settings are its attributes: equal when they are equal."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)


class WordTokenizer(_Tokenizer):
    """jieba words with ordinal positions and true character offsets.

    :param subwords: at index time, also emit the dictionary sub-words of words longer
        than two characters at their word's position (jieba's search mode). Queries
        always use precise words.
    """

    def __init__(self, subwords: bool = True) -> None:
        self.subwords = subwords

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for text, pos, s, e in words_of(value, subwords=self.subwords and mode != "query", start_pos=start_pos):
            token.text = text
            token.boost = 1.0
            if keeporiginal:
                token.original = text
            token.stopped = False
            if positions:
                token.pos = pos
            if chars:
                token.startchar, token.endchar = start_char + s, start_char + e
            yield token


def words_of(value: str, *, subwords: bool, start_pos: int = 0) -> Iterator[tuple[str, int, int, int]]:
    """Yield what :class:`WordTokenizer` tokenizes ``value`` to: ``(word, position,
    start, end)``, positions being word ordinals from ``start_pos``.

    :param subwords: also yield the dictionary sub-words of each word longer than two
        characters, at its word's position, before it.
    """
    for pos, (word, start, end) in enumerate(segment(value), start_pos):
        if subwords and len(word) > 2:
            for sub, i in _subwords_of(word):
                yield sub, pos, start + i, start + i + len(sub)
        yield word, pos, start, end


def _subwords_of(word: str) -> list[tuple[str, int]]:
    """Return the dictionary words inside ``word`` with their offsets in it, shorter
    ones first.

    The index stacks them on their word (jieba's search mode stops at three
    characters, so 家庭医生 inside 家庭医生签约 would be lost). None is longer than the
    dictionary's longest word, which bounds the work per character: a token of 10,000
    digits took 30 s, trying every substring.
    """
    freq = segmenter().FREQ
    return [
        (word[i : i + n], i)
        for n in range(2, min(len(word), longest_word() + 1))
        for i in range(len(word) - n + 1)
        if freq.get(word[i : i + n])
    ]


def word_positions(value: str, *, subwords: bool) -> dict[str, list[int]]:
    """Return the positions of each word of :func:`word_analyzer` in ``value`` (as it
    indexes it, lower-cased), by word: what Whoosh's formats gather from its tokens
    (:func:`words_of`), without making them.

    The tokens of each clause are kept (:func:`_clause_tokens`), so a clause seen
    before costs a dictionary update per token.
    """
    found: dict[str, list[int]] = {}
    pos = 0
    for piece in _CLAUSES.split(_simplified(value)):
        if not piece:
            continue
        tokens, count = _clause_tokens(piece, subwords)
        for text, at in tokens:
            where = found.get(text)
            if where is None:
                found[text] = [pos + at]
            else:
                where.append(pos + at)
        pos += count
    return found


# A build's cache: an entry, tokens included, takes about 800 bytes, so it holds at most
# some 100 MB, the set phrases of a genre and every clause of recent replies (a generated
# archive's 103,524 distinct clauses all fit). Queries and snippets use :func:`_cut`'s,
# smaller: a serving process keeps its memory.
@functools.lru_cache(maxsize=1 << 17)
def _clause_tokens(piece: str, subwords: bool) -> tuple[tuple[tuple[str, int], ...], int]:
    """Return what :func:`words_of` yields for one clause, lower-cased, as ``(token,
    word ordinal in the clause)``, and the clause's number of words."""
    tokens: list[tuple[str, int]] = []
    count = 0
    for word in segmenter().cut(piece):
        if not _is_word(word):
            continue
        if subwords and len(word) > 2:
            tokens += ((sys.intern(sub.lower()), count) for sub, _ in _subwords_of(word))
        tokens.append((sys.intern(word.lower()), count))  # one string a word, however many clauses hold it
        count += 1
    return tuple(tokens), count


class NgramTokenizer(_Tokenizer):
    """Overlapping character n-grams of the folded text, positioned by character."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = fold(value)
        for i in range(len(folded) - self.size + 1):
            gram = folded[i : i + self.size]
            if SEPARATOR in gram:
                continue
            token.text = gram
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = gram
            if positions:
                token.pos = start_pos + i
            if chars:  # offsets into the folded text; highlighting maps them back itself
                token.startchar, token.endchar = start_char + i, start_char + i + self.size
            yield token


def word_analyzer(*, subwords: bool = True):
    """Return the analyzer of the word fields (title, headings, body)."""
    return WordTokenizer(subwords) | LowercaseFilter()


def ngram_analyzer(size: int):
    """Return the analyzer of a character n-gram field."""
    return NgramTokenizer(size)


def _fold_table() -> dict[int, int | None]:
    table: dict[int, int | None] = {}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII forms
        table[code] = code - 0xFEE0
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = code + 32
        table[code + 0xFEE0] = code + 32
    for ch in " \t\n\r\v\f\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff":
        table[ord(ch)] = None
    for code in range(0x2000, 0x200C):
        table[code] = None
    # Zero in Chinese-numeral dates is written 〇, ○ (U+25CB) or 零: 二〇二二 = 二零二二.
    table[ord("○")] = ord("〇")
    table[ord("零")] = ord("〇")
    return table


_FOLD = _fold_table()
_DELETED = re.compile("[" + "".join(re.escape(chr(c)) for c, to in _FOLD.items() if to is None) + "]+")
# str.translate looks up every character; official prose has few to fold, so a regex
# finds them and only those are replaced (ten times faster on a reply).
_FOLDED = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")
_FOLD_TO = {chr(c): chr(to) if to is not None else "" for c, to in _FOLD.items()}


def _simplified(text: str) -> str:
    """Return text in simplified characters without radicals, one character per character."""
    return to_simplified(fold_radicals(text))


def _translate(text: str) -> str:
    return _FOLDED.sub(lambda m: _FOLD_TO[m.group()], text)


def fold(text: str) -> str:
    """Fold text for exact-wording comparison.

    Traditional characters become simplified, CJK radicals (⽼, ⻘) the ideographs they
    stand for, whitespace is removed (PDF extraction puts spaces where the document had none),
    full-width ASCII forms (digits, letters, ，；：（）…) become half-width, Latin letters
    lower case, and ○ and 零 become 〇. The same folding is applied to documents and queries, so exact search compares
    like with like.
    """
    return _translate(_simplified(text))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``.

    Folding maps every character to one character or deletes it (whitespace), so the
    offsets are the runs of positions between deleted characters.
    """
    simplified = _simplified(text)
    offsets: list[int] = []
    cursor = 0
    for deleted in _DELETED.finditer(simplified):
        offsets.extend(range(cursor, deleted.start()))
        cursor = deleted.end()
    offsets.extend(range(cursor, len(simplified)))
    return _translate(simplified), offsets
