"""What a reply is about, for finding the replies most like it.

Sentences made of the genre's set phrases (收悉, 现答复如下, 感谢…关心和支持, 此复…)
are dropped and the genre's everyday words ignored before key terms are chosen, so
that two replies are similar for what they say, not for how replies are written.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from reply_archive import data
from reply_archive.archive.text import sentences

from .analysis import word_analyzer

KEY_TERM_CANDIDATES = 80  # a reply's most frequent words weighed as its key terms
KEY_TERMS = 15  # key terms a similar-replies query asks for
MARKED_TERMS = 8  # of them, those marked in the snippet of each similar reply


@cache
def boilerplate() -> tuple[str, ...]:
    """Return the genre's set phrases (``data/dict/boilerplate.txt``)."""
    return tuple(_word_list("boilerplate.txt"))


@cache
def genre_stopwords() -> frozenset[str]:
    """Return the words every reply uses (``data/dict/genre_stopwords.txt``)."""
    return frozenset(_word_list("genre_stopwords.txt"))


def _word_list(name: str) -> list[str]:
    with data.path("dict", name).open(encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.startswith("#")]


def substance(body: str) -> list[str]:
    """Return the body's sentences without those made of the genre's set phrases."""
    cues = boilerplate()
    return [s for s in sentences(body) if not any(c in s for c in cues)]


def candidate_words(title: str, body: str) -> Counter[str]:
    """Return the most frequent words of a reply's title and substance, by frequency:
    the genre's everyday words, single characters and numbers left out.

    Only the most frequent are kept: weighing a word against the collection looks up
    its frequency there (about 0.1 ms), and a reply has a thousand distinct words.
    """
    stop = genre_stopwords()
    words = Counter(
        token.text
        for token in word_analyzer()("\n".join([title, *substance(body)]), mode="index")
        if token.text not in stop and len(token.text) > 1 and not token.text.isdigit()
    )
    return Counter(dict(words.most_common(KEY_TERM_CANDIDATES)))
