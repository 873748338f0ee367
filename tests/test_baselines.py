"""The reference engines find what a plain scan finds, on the bundled replies."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.baselines import WORD_PARTS, BaselineDoc, Fts5, Tantivy, available, from_reply
from bench.corpus import bundled_records, searchable_text
from reply_archive.indexer.analysis import SEPARATOR, fold, segment
from reply_archive.indexer.schema import FACET_NAMES


def words_of(text: str) -> list[str]:
    """Segment as the benchmark does: jieba's precise words, without offsets."""
    return [word for word, _, _ in segment(text)]


@pytest.fixture(scope="module")
def records():
    return bundled_records()


@pytest.fixture(scope="module")
def docs(records) -> list[BaselineDoc]:
    return [from_reply(r) for r in records]


@pytest.fixture(scope="module")
def haystacks(records) -> dict[str, str]:
    return {r.id: searchable_text(r) for r in records}


@pytest.fixture(scope="module")
def vocabulary(docs) -> dict[str, set[str]]:
    """Return each doc's word tokens as the engines index them."""
    return {d.id: {w.lower() for part in WORD_PARTS for w in words_of(getattr(d, part))} for d in docs}


@pytest.fixture(scope="module", params=["fts5", "tantivy"])
def engine(request, tmp_path_factory, docs):
    if request.param == "tantivy":
        pytest.importorskip("tantivy")
    cls = {"fts5": Fts5, "tantivy": Tantivy}[request.param]
    built = cls(tmp_path_factory.mktemp(request.param))
    built.build(docs, words_of)
    yield built
    built.close()


def phrases(haystacks: dict[str, str]) -> list[str]:
    """Return substrings of 1, 2, 3, 6 and 9 characters from the texts, none spanning
    two parts, plus a few that need folding or escaping or match nothing."""
    found = []
    for n, text in enumerate(sorted(haystacks.values())[:5]):
        for size in (1, 2, 3, 6, 9):
            for start in (7 * n + size, len(text) // 2 + n, len(text) - size - 3 * n - 1):
                piece = text[start : start + size]
                if len(piece) == size and SEPARATOR not in piece:
                    found.append(piece)
    return found + ["（第", "%", "_", '"', "a_b", "不存在的说法", "〇"]


def expected_facets(docs: list[BaselineDoc], ids: set[str]) -> dict[str, dict[str, int]]:
    counts = {name: Counter() for name in FACET_NAMES}
    for doc in docs:
        if doc.id in ids:
            for name, values in doc.facets.items():
                counts[name].update(values)
    return {name: dict(c) for name, c in counts.items()}


def check(result, expected: set[str], docs: list[BaselineDoc]) -> None:
    assert result.total == len(expected)
    assert len(result.top) == min(10, len(expected))
    assert set(result.top) <= expected
    assert len(result.snippets) == len(result.top)
    assert all("<b>" in s for s in result.snippets)
    assert result.facets == expected_facets(docs, expected)


def test_baseline_docs_fold_like_the_exact_field(records, docs, haystacks):
    assert [d.folded() for d in docs] == [haystacks[r.id] for r in records]
    assert set(docs[0].facets) == set(FACET_NAMES)


def test_fts5_is_always_available():
    assert available()[0] is Fts5


def test_exact_matches_a_scan(engine, docs, haystacks):
    for phrase in phrases(haystacks):
        needle = fold(phrase)
        expected = {id_ for id_, text in haystacks.items() if needle in text}
        check(engine.exact(phrase), expected, docs)


@pytest.mark.parametrize(
    "query", [["养老"], ["服务"], ["提案", "答复"], ["养老", "服务"], ["养老服务"], ["委员", "2023"]]
)
def test_words_match_every_word(engine, docs, vocabulary, query):
    expected = {id_ for id_, words in vocabulary.items() if set(query) <= words}
    check(engine.words(query), expected, docs)


def test_words_from_titles_match_a_scan(engine, docs, vocabulary):
    for doc in docs[:6]:
        title = [w for w in words_of(doc.title) if len(w) > 1]
        for query in ([title[0]], title[:2]):
            expected = {id_ for id_, words in vocabulary.items() if {w.lower() for w in query} <= words}
            assert doc.id in expected
            check(engine.words(query), expected, docs)


def test_facets_and_snippets_are_optional(engine):
    result = engine.words(["提案"], facets=False, highlight=False, top=3)
    assert result.total > 3 and len(result.top) == 3
    assert result.snippets == () and result.facets == {}
    assert engine.exact("不存在的说法").top == ()


def test_engine_reports_its_size(engine):
    assert engine.size() > 0


def test_empty_queries_are_refused(engine):
    with pytest.raises(ValueError):
        engine.words([])
    with pytest.raises(ValueError):
        engine.exact(" \u3000")
    with pytest.raises(ValueError):
        engine.words(["提案"], top=0)
