"""Exact-wording recall and precision, measured against a plain substring scan.

Samples random substrings (1 to 12 characters, half inside runs without punctuation,
half anywhere, so across punctuation too) of real text, runs each as a quoted query
through the search module the web app uses, and compares the replies found with the
replies whose folded text contains the folded substring. Prints recall, precision,
exact-phrase latency and what the character fields cost in index size.

Run with ``make recall`` (``python -m bench.recall [--queries N] [--seed S]``).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from whoosh import index as whoosh_index

from reply_archive.archive.model import Reply
from reply_archive.indexer.analysis import SEPARATOR, fold
from reply_archive.indexer.build import build_index, current_generation, reply_to_doc
from reply_archive.indexer.schema import CHAR_FIELD, EXACT_FIELD, build_schema
from reply_archive.indexer.search import ReplyIndex

from .corpus import load

_PUNCT = re.compile(r"[，。、；：！？“”‘’（）《》—…,.;:!?()\s]")
_QUOTES = ('"', '"'), ("“", "”"), ("「", "」")


def sample_needles(texts: list[str], count: int, rng: random.Random) -> list[str]:
    """Sample substrings of 1-12 characters: half without punctuation, half anywhere."""
    needles: list[str] = []
    while len(needles) < count:
        text = rng.choice(texts)
        length = rng.randint(1, 12)
        if len(text) <= length:
            continue
        start = rng.randrange(len(text) - length)
        needle = text[start : start + length]
        if SEPARATOR in needle or (len(needles) % 2 == 0 and _PUNCT.search(needle)):
            continue
        if quoted(needle) is None:
            continue
        needles.append(needle)
    return needles


def quoted(needle: str) -> str | None:
    """Quote a needle with a quote pair it does not contain (None if it holds them all)."""
    for left, right in _QUOTES:
        if left not in needle and right not in needle:
            return f"{left}{needle}{right}"
    return None


def index_size(path: Path) -> int:
    """Return the bytes on disk of an index generation folder."""
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def size_without_character_fields(records: list[Reply], root: Path) -> int:
    """Build the same records without the exact-wording fields; return its size."""
    schema = build_schema()
    schema.remove(EXACT_FIELD)
    schema.remove(CHAR_FIELD)
    root.mkdir()
    ix = whoosh_index.create_in(str(root), schema)
    with ix.writer(limitmb=128) as writer:
        for reply in records:
            doc = reply_to_doc(reply)
            writer.add_document(**{k: v for k, v in doc.items() if k in schema.names()})
    return index_size(root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=600, help="substrings to sample (default 600)")
    parser.add_argument("--seed", type=int, default=20220030, help="random seed")
    args = parser.parse_args(argv)

    records, texts = load()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        started = time.perf_counter()
        build_index(records, index_dir)
        build_seconds = time.perf_counter() - started
        engine = ReplyIndex(index_dir)
        full_size = index_size(current_generation(index_dir))
        print(f"index: {len(records)} records built in {build_seconds:.1f} s, {full_size / 2**20:.1f} MiB")

        needles = sample_needles(list(texts.values()), args.queries, random.Random(args.seed))
        found_total = correct_total = 0
        recalls: list[float] = []
        misses: list[str] = []
        latencies: dict[str, list[float]] = {"1-2": [], "3-6": [], "7-12": []}
        for needle in needles:
            query = quoted(needle)
            expected = {rid for rid, text in texts.items() if fold(needle) in text}
            got = {hit.id for hit in engine.export(query)}
            started = time.perf_counter()
            engine.search(query, per_page=10)
            elapsed = (time.perf_counter() - started) * 1000
            bucket = "1-2" if len(needle) <= 2 else "3-6" if len(needle) <= 6 else "7-12"
            latencies[bucket].append(elapsed)
            correct = len(got & expected)
            found_total += len(got)
            correct_total += correct
            recalls.append(correct / len(expected) if expected else 1.0)
            if got != expected:
                misses.append(needle)
        recall = statistics.fmean(recalls)
        precision = correct_total / found_total if found_total else 1.0
        print(f"queries: {len(needles)} substrings of 1-12 chars (half across punctuation), seed {args.seed}")
        print(f"recall (macro): {recall:.4f}   precision (micro): {precision:.4f}   mismatches: {len(misses)}")
        for needle in misses[:10]:
            print(f"  mismatch: {needle!r}")
        print("exact-phrase latency, top-10 page with facets and snippets (ms):")
        for bucket, values in latencies.items():
            if values:
                p50 = statistics.median(values)
                p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
                print(f"  {bucket:>5} chars: n={len(values):4d}  p50 {p50:7.1f}  p95 {p95:7.1f}")
        without = size_without_character_fields(records, Path(tmp) / "words-only")
        print(
            f"index size: {full_size / 2**20:.1f} MiB with the character fields, "
            f"{without / 2**20:.1f} MiB without ({full_size / without:.2f}x)"
        )
        if misses:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
