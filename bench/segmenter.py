"""Does rjieba (jieba-rs) segment exactly as our jieba does, and how much faster?

Segments a corpus with our :func:`~indexer.analysis.segmenter` (the domain dictionary,
precise mode, after the analyzer's simplification) and with rjieba given the same user
words at the same frequencies, then compares them token for token: the precise words
with their offsets, and the dictionary sub-words the index stacks on long words. The
corpus is the real replies and the shared corpus beside the checkout when they are
there, the bundled replies otherwise. Prints the first differences and the speed ratio,
and exits with status 1 if any token differs.

Run with ``make check-rjieba`` (``python -m bench.segmenter [--show N]``); it needs
``pip install rjieba==0.2.2``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator

from reply_archive.indexer.analysis import _simplified, segmenter, user_dictionary

from .corpus import bundled_records, shared_documents
from .real import REAL_REPLIES

Words = list[tuple[str, int, int]]


def corpus() -> tuple[list[str], str]:
    """Return the texts to segment and where they came from."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(REAL_REPLIES.glob("*.txt"))]
    texts += [doc["content"] for doc in shared_documents()]
    if texts:
        return texts, f"{REAL_REPLIES} and the shared corpus: {len(texts)} texts"
    return [r.body for r in bundled_records()], "bundled replies (no shared data beside the checkout)"


def rjieba_segmenter():
    """Return an rjieba segmenter with our user words at jieba's frequencies."""
    import rjieba

    seg = rjieba.Jieba()
    freq = segmenter().FREQ
    for line in user_dictionary().splitlines():
        word = line.split()[0] if line.strip() else ""
        if word:
            seg.add_word(word, freq[word], None)
    return seg


def tokens(cut: Callable[[str], Iterator[str]], text: str) -> Words:
    """Return the words of ``text`` with their offsets, as jieba's ``tokenize`` does."""
    out: Words = []
    start = 0
    for word in cut(text):
        out.append((word, start, start + len(word)))
        start += len(word)
    return out


def subwords(words: Words, is_word: Callable[[str], bool], longest: int) -> list[str]:
    """Return the dictionary sub-words the index stacks on words longer than two."""
    return [
        w[i : i + n]
        for w, _, _ in words
        if len(w) > 2
        for n in range(2, min(len(w), longest + 1))
        for i in range(len(w) - n + 1)
        if is_word(w[i : i + n])
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", type=int, default=10, help="differences to print (default 10)")
    args = parser.parse_args(argv)

    texts, origin = corpus()
    texts = [_simplified(t) for t in texts]
    print(f"corpus: {origin}, {sum(map(len, texts)):,} chars")
    ours = segmenter()
    theirs = rjieba_segmenter()
    freq = ours.FREQ
    longest = max(len(w) for w, c in freq.items() if c)

    started = time.perf_counter()
    expected = [tokens(ours.cut, t) for t in texts]
    jieba_seconds = time.perf_counter() - started
    started = time.perf_counter()
    got = [tokens(theirs.cut, t) for t in texts]
    rjieba_seconds = time.perf_counter() - started

    differences = 0
    total = 0
    for text, want, have in zip(texts, expected, got, strict=True):
        total += len(want)
        if want == have and subwords(want, lambda w: bool(freq.get(w)), longest) == subwords(
            want, theirs.has_word, longest
        ):
            continue
        differences += 1
        if differences <= args.show:
            pairs = enumerate(zip(want, have, strict=False))
            at = next((i for i, (x, y) in pairs if x != y), min(len(want), len(have)))
            where = want[at][1] if at < len(want) else len(text)
            context = text[max(0, where - 8) : where + 16]
            print(f"  jieba {want[at : at + 3]}  rjieba {have[at : at + 3]}  in {context!r}")
    print(f"tokens: {total:,}; texts segmented differently (words or sub-words): {differences} of {len(texts)}")
    print(f"jieba {jieba_seconds:.2f} s, rjieba {rjieba_seconds:.2f} s: {jieba_seconds / rjieba_seconds:.1f}x faster")
    if differences:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
