"""Term queries on arrays give exactly what Whoosh gives: the same documents in the
same order with the same scores, on one segment and on several with deletions."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from reply_archive.indexer.analysis import fold, segment
from reply_archive.indexer.build import build_index, current_generation, open_generation, update_index
from reply_archive.indexer.query import parse_query
from reply_archive.indexer.settings import Settings
from reply_archive.indexer.terms import FoldedTexts, TermArrays
from reply_archive.indexer.whoosh_query import to_whoosh

FIXED = ["发展", "人民 群众", "教育 -培训", "(养老 OR 托育) 社区", '"推进" 教育', "title:养老", '"发"', '"发展"',
         "深港 合作", "department:教育局 学校", "-发展", "收悉 -养老 -教育", "收悉 OR -答复", "", "养老 养老"]


def whoosh_matches(searcher, query, scored):
    collector = searcher.collector(limit=None, scored=scored)
    searcher.search_with_collector(query, collector)
    return list(collector.results().items())


def queries(replies, count=60, seed=5):
    rng = random.Random(seed)
    words = sorted({w for r in replies for w, _, _ in segment(r.body) if len(w) >= 2 and w.isalnum()})
    built = [" ".join(rng.sample(words, k=rng.choice((1, 2, 3)))) for _ in range(count)]
    texts = [fold(r.body) for r in replies]
    for _ in range(count):  # exact phrases of 3-12 characters, across punctuation too
        text, length = rng.choice(texts), rng.randint(3, 12)
        start = rng.randrange(len(text) - length)
        if '"' not in text[start : start + length]:
            built.append(f'"{text[start : start + length]}"')
    built += [f"{a} OR {b}" for a, b in zip(rng.sample(words, 10), rng.sample(words, 10), strict=True)]
    built += [f"{a} -{b}" for a, b in zip(rng.sample(words, 10), rng.sample(words, 10), strict=True)]
    # Phrases beside words, inside OR and NOT: an AND checks its phrases only within
    # the documents its other parts leave.
    phrases = [q for q in built if q.startswith('"')]
    for phrase in rng.sample(phrases, min(10, len(phrases))):
        a, b = rng.sample(words, 2)
        built += [f"{phrase} {a}", f"{a} -{phrase}", f"({a} OR {phrase}) {b}", f"{a} {phrase} -({b} {phrase})"]
    return FIXED + built


def assert_same(index_dir, qs):
    supported = 0
    ix = open_generation(current_generation(index_dir))
    with ix.searcher() as searcher:
        arrays = TermArrays(searcher, Settings().cached_postings)
        arrays.warm(ix, current_generation(index_dir))
        for q in qs:
            parsed = parse_query(q)
            for query in map(to_whoosh, filter(None, (parsed.query, parsed.exact_query))):
                for scored in (True, False):
                    found = arrays.evaluate(searcher, query, scored=scored)
                    if found is None:
                        continue
                    docs, scores = found
                    fast = list(zip(docs.tolist(), scores.tolist() if scored else [None] * len(docs), strict=True))
                    supported += 1
                    slow = whoosh_matches(searcher, query, scored)
                    assert [d for d, _ in fast] == [d for d, _ in slow], (q, scored)
                    if scored:
                        assert all(
                            math.isclose(a, b, rel_tol=1e-9) for (_, a), (_, b) in zip(fast, slow, strict=True)
                        ), q
    return supported


def test_term_queries_match_whoosh_on_the_sample_index(index_dir, replies):
    qs = queries(replies)
    # Words, phrases, AND, OR, NOT: nearly every query is a tree of terms and phrases.
    assert assert_same(index_dir, qs) >= 2 * len(qs)


def test_term_queries_match_whoosh_across_segments_with_deletions(tmp_path, replies):
    build_index(replies, tmp_path, procs=2)
    changed = [dataclasses.replace(r, title=r.title + "（修订）") for r in replies[:4]]
    update_index(changed, tmp_path, delete=[replies[5].id])
    with open_generation(current_generation(tmp_path)).searcher() as searcher:
        assert len(list(searcher.leaf_searchers())) > 1 and searcher.reader().has_deletions()
    assert assert_same(tmp_path, queries(replies, count=30, seed=9)) > 0


@pytest.mark.parametrize("q", ['"高质量 发展"~3', "year:2023"])
def test_other_queries_are_left_to_whoosh(index_dir, q):
    ix = open_generation(current_generation(index_dir))
    with ix.searcher() as searcher:
        arrays = TermArrays(searcher, Settings().cached_postings)
        arrays.warm(ix, current_generation(index_dir))
        assert arrays.evaluate(searcher, to_whoosh(parse_query(q).query), scored=True) is None


def test_long_phrases_are_left_to_whoosh_until_the_texts_are_read(index_dir):
    ix = open_generation(current_generation(index_dir))
    query = to_whoosh(parse_query('"现答复如下"').query)
    with ix.searcher() as searcher:
        arrays = TermArrays(searcher, Settings().cached_postings)
        assert arrays.evaluate(searcher, query, scored=True) is None
        arrays.warm(ix, current_generation(index_dir))
        assert arrays.texts_loaded.is_set() and len(arrays.evaluate(searcher, query, scored=True)[0]) > 5


def test_phrases_see_the_texts_of_an_update(tmp_path, replies):
    build_index(replies, tmp_path)
    changed = dataclasses.replace(replies[0], title=replies[0].title + "（第二次修订稿）")
    update_index([changed], tmp_path, delete=[replies[1].id])
    gen = current_generation(tmp_path)
    ix = open_generation(gen)
    with ix.searcher() as searcher:
        arrays = TermArrays(searcher, Settings().cached_postings)
        arrays.warm(ix, gen)
        docs, _ = arrays.evaluate(searcher, to_whoosh(parse_query('"第二次修订稿"').query), scored=True)
        assert [searcher.stored_fields(d)["id"] for d in docs.tolist()] == [replies[0].id]
        deleted_only = fold(replies[1].title)
        found = arrays.evaluate(searcher, to_whoosh(parse_query(f'"{deleted_only}"').query), scored=False)[0]
        assert replies[1].id not in {searcher.stored_fields(d)["id"] for d in found.tolist()}


@pytest.mark.parametrize("damage", ["removed", "truncated"])
def test_without_their_texts_phrases_are_left_to_whoosh(tmp_path, replies, damage):
    build_index(replies, tmp_path)
    gen = current_generation(tmp_path)
    for texts in gen.glob("texts-*"):
        if damage == "removed":
            texts.unlink()
        else:  # a disk filled while it was written: the compressed stream ends early
            texts.write_bytes(texts.read_bytes()[: texts.stat().st_size // 2])
    ix = open_generation(gen)
    with ix.searcher() as searcher:
        arrays = TermArrays(searcher, Settings().cached_postings)
        arrays.warm(ix, gen)
        assert arrays.texts_loaded.is_set()
        assert arrays.evaluate(searcher, to_whoosh(parse_query('"现答复如下"').query), scored=True) is None


def test_folded_texts_agree_with_python_substrings():
    """Phrases taken from the texts, across them, and made of two characters' halves
    (found by a byte search at an odd offset) are contained exactly where ``in`` says;
    an id's last text counts, and a document without an id has none."""
    rng = random.Random(8)
    texts = ["中文答复办理意见", "", "𠀋字在扩展区：中文", "推进老旧小区加装电梯工作", "中文"]
    halves = "中文".encode("utf-16-le")[1:3].decode("utf-16-le")  # '中' high byte + '文' low byte
    phrases = [halves, "中文", "𠀋字", "字在", "电梯工作", "工作中", "答复", "\ud800", "办理意见中"]
    phrases += [t[i : i + rng.randint(1, 4)] for t in texts if t for i in range(len(t))]
    pairs = [("d", "中文电梯工作"), *((f"r{i}", t) for i, t in enumerate(texts)), ("d", "答复")]
    folded = FoldedTexts(pairs, [f"r{i}" for i in range(len(texts))] + ["d", None])
    docs = np.array([4, 0, 2, 3, 1, 5, 6])
    expected = [*texts, "答复", ""]
    for phrase in phrases:
        assert folded.containing(phrase, docs).tolist() == [phrase in expected[d] for d in docs], phrase
    assert folded.containing(halves, np.array([0])).tolist() == [False]
    assert FoldedTexts([("x", f"{'中文' * 3}{halves}")], ["x"]).containing(halves, np.array([0])).tolist() == [True]
    with pytest.raises(KeyError):
        FoldedTexts(pairs, ["r0", "gone"])
