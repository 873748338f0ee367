"""Word search: index precise words only, or also their dictionary sub-words?

jieba's precise mode cuts 粤港澳大湾区 as one word, so a query for 大湾区 finds it only if
the index also holds the sub-words of long words (jieba's search mode). This measures
both choices on the same records: recall and precision of one-word queries against a
substring scan (a reply "contains" a word if the folded text contains it), build time
and index size. Queries always use precise mode.

Run with ``make bench-words`` (``python -m bench.words [--words N]``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from reply_archive.indexer.analysis import fold, segment
from reply_archive.indexer.build import build_index, current_generation
from reply_archive.indexer.query import synonyms
from reply_archive.indexer.schema import build_schema
from reply_archive.indexer.search import ReplyIndex

from .corpus import load
from .recall import index_size


def sample_words(texts: list[str], count: int, rng: random.Random) -> list[str]:
    """Sample words of 2+ characters from the corpus segmentation: half by frequency,
    half uniformly among words seen at least three times (rarer words)."""
    counts: Counter[str] = Counter(w for text in texts for w, _, _ in segment(text) if len(w) >= 2)
    table = synonyms()  # expanded words would be judged against the wrong substring
    vocab = [w for w, n in counts.items() if n >= 3 and w not in table and not w.isascii()]
    weights = [counts[w] for w in vocab]
    frequent = rng.choices(vocab, weights=weights, k=count // 2)
    rare = rng.sample(vocab, k=min(len(vocab), count - len(frequent)))
    return list(dict.fromkeys(frequent + rare))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=300, help="words to sample (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    args = parser.parse_args(argv)
    records, texts = load()
    words = sample_words([f"{r.title}\n{r.body}" for r in records], args.words, random.Random(args.seed))
    truth = {w: {rid for rid, text in texts.items() if fold(w) in text} for w in words}
    print(f"queries: {len(words)} one-word queries (half frequency-weighted), seed {args.seed}")
    for label, subwords in (("precise words only", False), ("precise + sub-words (search mode)", True)):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            build_index(records, Path(tmp), schema=build_schema(subwords=subwords))
            seconds = time.perf_counter() - started
            size = index_size(current_generation(Path(tmp)))
            recalls, found, correct = [], 0, 0
            engine = ReplyIndex(tmp)
            for word in words:
                got = {h.id for h in engine.export(word)}
                found += len(got)
                correct += len(got & truth[word])
                recalls.append(len(got & truth[word]) / len(truth[word]) if truth[word] else 1.0)
            print(
                f"{label:36s} recall {statistics.fmean(recalls):.3f}  precision {correct / max(found, 1):.3f}  "
                f"build {seconds:5.1f} s  index {size / 2**20:6.1f} MiB"
            )


if __name__ == "__main__":
    main()
