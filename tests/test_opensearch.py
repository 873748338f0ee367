"""The OpenSearch backend gives the Whoosh backend's answers: a differential test.

One archive is built for the module: the bundled seed and samples, the parser's fixture
replies, a reply of unusual characters and 1,000 generated replies. Whoosh indexes it into a folder, OpenSearch on the
test cluster (2 shards, 1 replica), and both are asked the same questions, drawn from
the archive's own text with fixed seeds (:mod:`tests.differential`). Ranking by relevance
may differ between the backends; the replies selected, every count and the other orders
may not. Updates are checked against a fresh Whoosh build of the changed archive, and a
reader during builds on the cluster against the states before and after them.
"""

from __future__ import annotations

import itertools
import random
import re
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from bench.generate import generate, write_sources
from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import SUFFIX
from reply_archive.indexer.analysis import fold
from reply_archive.indexer.backend import Deadline, open_backend
from reply_archive.indexer.build import _number_order
from reply_archive.indexer.errors import ClusterError
from reply_archive.indexer.opensearch_backend import position_key
from reply_archive.indexer.opensearch_query import near_query, nearby_nodes
from reply_archive.indexer.plan import Everything
from reply_archive.indexer.query import parse_query
from reply_archive.indexer.results import Hit
from reply_archive.indexer.search import ReplyIndex
from reply_archive.indexer.settings import Settings
from reply_archive.indexer.sync import IndexRun, refresh_index
from tests.differential import (
    Answer,
    Corpus,
    Needle,
    Vocabulary,
    ask_both,
    compare_queries,
    complementable,
    facet_counts,
    facet_selections,
    facet_values,
    hit_ids,
    near_limit_queries,
    near_queries,
    needles,
    quote,
    report,
    scope_queries,
    windows,
    word_queries,
)

pytestmark = pytest.mark.opensearch

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "replies"
SEED = 20240611
GENERATED = 1000
# Characters of section text per generated reply: 760 in all on average, a build of the
# archive in about 60 CPU seconds with Whoosh and 25 with OpenSearch.
GENERATED_SIZE = (200, 400)
# Slow machines must not cut an answer short: a partial answer would differ.
SETTINGS = {"query_seconds": 300.0, "max_per_page": 1000}
# A reply of unusual characters: beyond the BMP (𠀀, 😀), a zero-width space, letters with
# marks, full-width forms, a backslash and quotes, markup characters, three ways of zero.
UNUSUAL = """B类
关于市政协十一届二次会议第0999号提案的答复
叶晚晴委员：
您提出的《关于生僻字𠀀𪚥录入的提案》收悉。经认真研究，现答复如下：
一、关于生僻字
系统已支持𠀀𪚥䶮等字，😀表情\u200b与组合字符é、ｅ＝ｍｃ²、Ａ１Ｂ２、反斜杠\\与引号"及'号、<标签>&符号、零〇○三个零、全角（括号）。
此复。
青溪市教育局
2023年7月1日
"""
SORTS = ("relevance", "newest", "oldest", "number")
SORTED = SORTS[1:]
NEEDLES = 1680  # sampled; with the other ways of writing a fifth of them and the absent ones, over 2,000


@dataclass
class Indexed:
    """One archive, indexed by both backends."""

    archive: Path
    corpus: Corpus
    whoosh: ReplyIndex
    opensearch: ReplyIndex

    @cached_property
    def everything(self) -> frozenset[str]:
        """Return the id of every reply of the archive."""
        return frozenset(self.corpus.texts)

    def close(self) -> None:
        self.whoosh.close()
        self.opensearch.close()


@pytest.fixture(scope="module")
def on_cluster(opensearch_cluster) -> Iterator[Callable[[str], Settings]]:
    """Give the settings of an index of the module on the cluster, by prefix (2 shards,
    1 replica where there is a node to hold it); remove the indexes at the end."""
    urls = opensearch_cluster.urls
    prefixes: list[str] = []

    def settings(prefix: str) -> Settings:
        prefixes.append(prefix)
        return Settings(
            backend="opensearch",
            opensearch_url=",".join(urls),
            opensearch_prefix=prefix,
            opensearch_shards=2,
            opensearch_replicas=min(1, len(urls) - 1),
            **SETTINGS,
        )

    yield settings
    client = OpenSearch(urls)
    try:
        for prefix in prefixes:
            for name in client.indices.get(index=f"{prefix}-*", params={"expand_wildcards": "all"}):
                client.indices.delete(index=name)
    finally:
        client.close()


def index_both(archive: Path, folder: Path, settings: Settings) -> Indexed:
    """Build the archive's index with Whoosh in ``folder`` and on the cluster, anew."""
    assert refresh_index(archive, folder / "whoosh").mode == "rebuilt"
    assert refresh_index(archive, folder / "opensearch", rebuild=True, settings=settings).mode == "rebuilt"
    whoosh = ReplyIndex(folder / "whoosh", Settings(**SETTINGS))
    assert whoosh.warmed(120)  # long exact phrases matched on the folded texts
    return Indexed(archive, Corpus.read(archive), whoosh, ReplyIndex(folder / "opensearch", settings))


@pytest.fixture(scope="module")
def main(tmp_path_factory, on_cluster) -> Iterator[Indexed]:
    """Return the module's archive, indexed by both backends."""
    folder = tmp_path_factory.mktemp("differential")
    archive = folder / "archive"
    assert ingest([data.path("seed")], archive).ok
    assert ingest([data.path("samples")], archive, sample=True).ok
    assert ingest(sorted(FIXTURES.glob("*.txt")), archive).ok
    (folder / "unusual.txt").write_text(UNUSUAL, encoding="utf-8")
    assert ingest([folder / "unusual.txt"], archive).ok
    assert generate(GENERATED, archive, seed=SEED, size=GENERATED_SIZE) == GENERATED
    indexed = index_both(archive, folder, on_cluster("diff-main"))
    yield indexed
    indexed.close()


@pytest.fixture(scope="module")
def vocabulary(main) -> Vocabulary:
    return Vocabulary.sample(main.corpus, random.Random(SEED))


def compare_answers(
    indexed: Indexed, queries: list[str], *, counted: bool = True, sizes: list[int] | None = None
) -> list[tuple[Answer, Answer]]:
    """Ask both backends every query; fail naming the first queries they answer
    differently (:func:`tests.differential.compare_queries`)."""
    answers = compare_queries(
        indexed.whoosh, indexed.opensearch, queries, indexed.everything, counted=counted, sizes=sizes
    )
    differing = [(q, w.differences(o)) for q, (w, o) in zip(queries, answers, strict=True) if w != o]
    assert not differing, report("queries (whoosh vs opensearch)", differing, len(queries))
    return answers


def compare_facets(indexed: Indexed, selections: list[tuple[str, dict[str, list[str]]]]) -> list[int]:
    """Search both backends with each query and facet selection; fail naming the first
    whose total, word count or any facet's counts differ. Return the totals."""

    def ask(index: ReplyIndex, query: str, filters: dict[str, list[str]]) -> tuple:
        results = index.search(query, filters=filters, per_page=1)
        return results.total, results.query.word_count, facet_counts(results.facets)

    answers = ask_both(lambda index, s: ask(index, *s), indexed.whoosh, indexed.opensearch, selections)
    differing = []
    for selection, (whoosh, opensearch) in zip(selections, answers, strict=True):
        if whoosh != opensearch:
            facets = [
                (w[0], sorted(set(w[1]) ^ set(o[1]))[:6]) for w, o in zip(whoosh[2], opensearch[2], strict=True)
                if w != o
            ]
            differing.append((selection, {"total, word_count": (whoosh[:2], opensearch[:2]), "facets": facets}))
    assert not differing, report("facet selections (whoosh vs opensearch)", differing, len(selections))
    return [whoosh[0] for whoosh, _ in answers]


# --- 1. exact wording ------------------------------------------------------------------


def test_exact_wording_finds_exactly_the_replies_whose_folded_text_holds_it(main):
    rng = random.Random(SEED)
    sample = needles(main.corpus, rng, NEEDLES)
    kinds = Counter(needle.kind for needle in sample)
    assert len(sample) >= 2000 and kinds["punctuation"] == kinds["plain"] == NEEDLES // 2
    (unusual,) = (text for text in main.corpus.texts.values() if "𪚥" in text)
    sample += windows(unusual, rng, 60)
    assert {"traditional", "full-width", "spaced", "radical", "absent"} <= set(kinds)
    assert sum(len(needle.original) == 1 for needle in sample) >= 30
    for needle in sample:  # other ways of writing a text fold to it (traditional ones need not)
        if needle.kind in ("full-width", "spaced", "radical", "zero"):
            assert fold(needle.text) == needle.original, needle
    expected = [frozenset(main.corpus.containing(needle.text)) for needle in sample]
    assert sum(not ids for ids in expected) >= kinds["absent"] and sum(len(ids) > 1 for ids in expected) > 1000
    answers = compare_queries(main.whoosh, main.opensearch, [needle.query for needle in sample], main.everything,
                              counted=False, sizes=list(map(len, expected)))
    differing = []
    for needle, ids, answer in zip(sample, expected, answers, strict=True):
        wrong = {
            f"{backend} {verb}": sorted(extra)[:3]
            for backend, found in zip(("whoosh", "opensearch"), answer, strict=True)
            for verb, extra in (("lacks", ids - found.ids), ("adds", found.ids - ids))
            if extra
        }
        if wrong:
            differing.append((needle.query, {"expected": len(ids), **wrong}))
    assert not differing, report("needles (each backend against a substring scan)", differing, len(sample))


def test_the_export_of_a_large_selection_is_the_complement_of_its_negation(main):
    everything = main.everything
    queries = ['"的"', '"，"', '"工作"', '"我局"', "工作", "服务 OR 推进", '"2"', "year:2015-2024"]
    for index in (main.whoosh, main.opensearch):
        for query in queries:
            assert complementable(query)
            direct = hit_ids(index, query, everything)
            assert len(direct) * 2 > len(everything), query
            assert direct == hit_ids(index, query, everything, negated=True), (index.settings.backend, query)


# --- 2. words, operators, fields, synonyms, years -------------------------------------


def test_word_operator_field_synonym_and_year_queries_select_the_same_replies(main, vocabulary):
    queries = word_queries(main.corpus, vocabulary, random.Random(SEED), 300)
    answers = compare_answers(main, queries[:100]) + compare_answers(main, queries[100:], counted=False)
    selecting = sum(bool(w.ids) for w, _ in answers)
    assert selecting > len(queries) * 0.6, f"only {selecting} of {len(queries)} queries select anything"


# --- 3. proximity and same sentence / paragraph ----------------------------------------


def test_proximity_queries_select_the_same_replies(main, vocabulary):
    queries = near_queries(vocabulary, random.Random(SEED), 100)
    answers = compare_answers(main, queries[:10]) + compare_answers(main, queries[10:], counted=False)
    assert sum(bool(w.ids) for w, _ in answers) > len(queries) * 0.5


def test_proximity_at_its_limits_selects_the_same_replies(main):
    """Words exactly N apart with slop N and N - 1, a word beside its own stacked
    sub-word, a word twice, three words each gap within the slop but not their sum: the
    cluster's spans (and, for three runs, the check of their candidates) decide them as
    Whoosh does."""
    queries = near_limit_queries(main.corpus, random.Random(SEED), 150)
    answers = compare_answers(main, queries, counted=False)
    matched = sum(bool(w.ids) for w, _ in answers)
    assert len(queries) * 0.4 < matched < len(queries), f"{matched} of {len(queries)} queries select anything"


def test_proximity_of_many_words_selects_the_same_replies(main, vocabulary):
    """Groups of five to eight words of one sentence: up to six the cluster's span query
    decides (2 ** 5 orders), beyond it the wider span's candidates are checked here."""
    rng = random.Random(SEED)
    queries: dict[str, None] = {}
    long_sentences = [words for words in vocabulary.sentences if len(words) >= 12]
    while len(queries) < 24:
        words = rng.choice(long_sentences)
        size = 5 + len(queries) % 4
        start = rng.randrange(len(words) - size - 2)
        picked = [words[at] for at in sorted(rng.sample(range(start, start + size + 3), size))]
        if len(queries) % 3 == 0:  # in the sentence's order mostly: Whoosh chains them from the first
            rng.shuffle(picked)
        queries.setdefault(f'"{" ".join(picked)}"~{rng.randint(3, 10)}', None)
    answers = compare_answers(main, list(queries), counted=False)
    on_cluster = [all(near_query(node)[1] for node in nearby_nodes(parse_query(q).query)) for q in queries]
    for way in (True, False):  # decided by the cluster's spans; checked here
        matched = [bool(w.ids) for (w, _), decided in zip(answers, on_cluster, strict=True) if decided == way]
        assert matched and sum(matched) > len(matched) * 0.3, (way, matched)


def test_each_word_has_a_positions_key_a_source_filter_reads_as_that_word_alone():
    """A proximity query asks the cluster for ``stored.positions.<key>`` of its words: a
    source filter reads "." as a path and "*" as a wildcard, so keys escape them, and
    the escape's own "%" first, keeping words apart."""
    words = ["3.5", "3%2E5", "3%5", "a*b", "a%2Ab", "百分之3.5", "ab"]
    keys = [position_key(w) for w in words]
    assert len(set(keys)) == len(words)
    assert not any("." in key or "*" in key for key in keys)
    assert position_key("养老服务") == "养老服务"


def test_same_sentence_and_same_paragraph_queries_select_the_same_replies(main, vocabulary):
    queries = scope_queries(vocabulary, random.Random(SEED), 100)
    answers = compare_answers(main, queries[:10]) + compare_answers(main, queries[10:], counted=False)
    assert sum(bool(w.ids) for w, _ in answers) > len(queries) * 0.4


# --- 4. facets -------------------------------------------------------------------------


def test_facet_counts_agree_under_random_selections(main, vocabulary):
    values = facet_values(main.whoosh.search("").facets)
    rng = random.Random(SEED)
    queries = [*word_queries(main.corpus, vocabulary, rng, 40), *near_queries(vocabulary, rng, 5),
               *scope_queries(vocabulary, rng, 5)]
    selections = facet_selections(values, queries, rng, 200)
    assert {name for _, filters in selections for name in filters} == {name for name, v in values.items() if v}
    totals = compare_facets(main, selections)
    assert sum(bool(total) for total in totals) > len(selections) * 0.4


# --- 5. sorted orders ------------------------------------------------------------------


def sort_keys(hits: list[Hit], sort: str) -> list[str]:
    """Return what hits are ordered by: their dates, or their smallest proposal numbers."""
    if sort == "number":
        return [_number_order(hit.proposal_numbers) for hit in hits]
    return [hit.date or "" for hit in hits]


def test_sorted_orders_agree(main, vocabulary):
    rng = random.Random(SEED)
    queries = ["", '"答复"', "year:2019-2022", *word_queries(main.corpus, vocabulary, rng, 6),
               *near_queries(vocabulary, rng, 2), *scope_queries(vocabulary, rng, 2)]
    asked = [(query, sort) for query in queries for sort in SORTED]

    def ask(index: ReplyIndex, query: str, sort: str) -> tuple[list[str], frozenset[str], list[str]]:
        hits = index.export(query, sort=sort)
        page = index.search(query, sort=sort, page=2, per_page=20).hits
        return sort_keys(hits, sort), frozenset(hit.id for hit in hits), sort_keys(list(page), sort)

    answers = ask_both(lambda index, a: ask(index, *a), main.whoosh, main.opensearch, asked)
    differing = [(a, {"keys equal": w[0] == o[0], "ids equal": w[1] == o[1], "page 2": (w[2], o[2])})
                 for a, (w, o) in zip(asked, answers, strict=True) if w != o]
    assert not differing, report("sorted exports (whoosh vs opensearch)", differing, len(asked))
    assert all(w[0] == sorted(w[0], reverse=sort == "newest") for (_, sort), (w, _) in zip(asked, answers, strict=True))


WINDOW = 600  # a result window above the backend's 500 replies a request, below most exports here


def test_pages_and_exports_past_the_result_window_are_walked_in_the_same_order(main):
    """Past the cluster's result window (10,000 replies by default) the backend walks a
    selection through a point in time: with a smaller window on the module's index (read
    by an index opened after the change), the exports of most of the archive, and the
    pages past the window, take that path."""
    generation = main.opensearch.generation_id()
    client = OpenSearch(main.opensearch.settings.opensearch_url.split(","))
    client.indices.put_settings(index=generation, body={"index.max_result_window": WINDOW})
    walking = ReplyIndex(main.opensearch.folder, main.opensearch.settings)
    try:
        for query in ("工作", "-养老"):
            for sort in SORTS:
                whoosh, opensearch = main.whoosh.export(query, sort=sort), walking.export(query, sort=sort)
                assert len(whoosh) > WINDOW and len({hit.id for hit in opensearch}) == len(opensearch), query
                assert {hit.id for hit in whoosh} == {hit.id for hit in opensearch}, (query, sort)
                if sort == "relevance":
                    continue
                assert sort_keys(whoosh, sort) == sort_keys(opensearch, sort), (query, sort)
                for page in (8, 9, 10):  # within the window, across its end, past it
                    first, second = (index.search(query, sort=sort, page=page, per_page=70).hits
                                     for index in (main.whoosh, walking))
                    assert sort_keys(list(first), sort) == sort_keys(list(second), sort), (query, sort, page)
    finally:
        walking.close()
        client.indices.put_settings(index=generation, body={"index.max_result_window": None})
        client.close()


# --- 6. export, statistics, commitments, related replies -------------------------------


def test_export_ids_and_build_info_agree(main):
    whoosh = {hit.id: hit.fields() for hit in main.whoosh.export("")}
    opensearch = {hit.id: hit.fields() for hit in main.opensearch.export("")}
    assert set(whoosh) == set(opensearch) == main.everything == main.whoosh.ids() == main.opensearch.ids()
    differing = [(reply_id, (whoosh[reply_id], opensearch[reply_id])) for reply_id in whoosh
                 if whoosh[reply_id] != opensearch[reply_id]]
    assert not differing, report("exported hits (whoosh vs opensearch)", differing, len(whoosh))
    assert main.whoosh.info() == main.opensearch.info()


def test_pages_show_the_same_hits_with_the_same_snippets(main, vocabulary):
    rng = random.Random(SEED)
    queries = [*word_queries(main.corpus, vocabulary, rng, 40), *(n.query for n in needles(main.corpus, rng, 20)),
               *near_queries(vocabulary, rng, 5), *scope_queries(vocabulary, rng, 5)]

    def shown(index: ReplyIndex, query: str) -> tuple[int, dict[str, tuple]]:
        """Return the total, and every hit with its snippets when one page holds them all
        (which of them a page holds otherwise depends on the order of ties)."""
        results = index.search(query, sort="number", per_page=100)
        hits = {hit.id: (hit.fields(), hit.snippets) for hit in results.hits} if results.total <= 100 else {}
        return results.total, hits

    answers = ask_both(shown, main.whoosh, main.opensearch, queries)
    differing = []
    for query, ((whoosh_total, whoosh), (opensearch_total, opensearch)) in zip(queries, answers, strict=True):
        hits = sorted(k for k in whoosh.keys() | opensearch.keys() if whoosh.get(k) != opensearch.get(k))
        if hits or whoosh_total != opensearch_total:
            differing.append((query, {"totals": (whoosh_total, opensearch_total), "hits": hits[:3]}))
    assert not differing, report("pages (whoosh vs opensearch)", differing, len(queries))
    assert sum(bool(w[1]) for w, _ in answers) > len(queries) // 3


def test_statistics_and_commitments_agree(main, vocabulary):
    rng = random.Random(SEED)
    values = facet_values(main.whoosh.search("").facets)
    queries = ["", *word_queries(main.corpus, vocabulary, rng, 14)]
    asked = [(query, {}) for query in queries] + facet_selections(values, queries, rng, 15)

    def ask(index: ReplyIndex, query: str, filters: dict[str, list[str]]) -> tuple:
        statistics = index.statistics(query, filters=filters)
        first = index.commitments(query, filters=filters, per_page=100)
        pages = [first, *(index.commitments(query, filters=filters, page=n, per_page=100)
                          for n in range(2, first.pages + 1))]
        entries = {entry.hit.id: entry.commitments for page in pages for entry in page.entries}
        dates = [entry.hit.date for page in pages for entry in page.entries]  # newest first
        return statistics, first.total, entries, dates

    answers = ask_both(lambda index, a: ask(index, *a), main.whoosh, main.opensearch, asked)
    differing = [(a, [name for name, x, y in zip(("statistics", "total", "entries", "dates"), w, o, strict=True)
                      if x != y]) for a, (w, o) in zip(asked, answers, strict=True) if w != o]
    assert not differing, report("statistics and commitments (whoosh vs opensearch)", differing, len(asked))
    assert sum(w[1] for w, _ in answers) > 0


def test_preceding_and_same_proposal_replies_agree(main):
    rng = random.Random(SEED)
    dated = [reply for reply in main.corpus.replies if reply.date]
    asked_preceding = []
    for reply in rng.sample(dated, 30):
        facets = [(name, value) for name, value in (("department", reply.department), ("topic", reply.topic),
                                                    ("year", reply.year and str(reply.year))) if value]
        name, value = rng.choice(facets)
        asked_preceding.append(({name: [value]}, reply.date))
    asked_preceding.append(({}, max(reply.date for reply in dated)))

    def preceding(index: ReplyIndex, filters: dict[str, list[str]], before: str) -> tuple:
        every = index.preceding(filters=filters, before=before, limit=10_000)
        newest = index.preceding(filters=filters, before=before)  # the five newest: their dates
        return frozenset(hit.id for hit in every), [hit.date for hit in newest]

    answers = ask_both(lambda index, a: preceding(index, *a), main.whoosh, main.opensearch, asked_preceding)
    differing = [(a, {"all": (len(w[0]), len(o[0])), "the five newest": (w[1], o[1])})
                 for a, (w, o) in zip(asked_preceding, answers, strict=True) if w != o]
    assert not differing, report("preceding() (whoosh vs opensearch)", differing, len(asked_preceding))
    assert all(len(w[0]) < len(main.everything) for w, _ in answers) and any(w[0] for w, _ in answers)

    numbered = [reply for reply in main.corpus.replies if reply.proposal_numbers]
    asked_same = [(reply.proposal_numbers, reply.session_label if i % 2 else None, reply.id if i % 3 else None)
                  for i, reply in enumerate(rng.sample(numbered, 40))]

    def same(index: ReplyIndex, numbers: tuple[str, ...], session: str | None, exclude: str | None) -> frozenset:
        return frozenset(hit.id for hit in index.same_proposal(numbers, session=session, exclude=exclude))

    answers = ask_both(lambda index, a: same(index, *a), main.whoosh, main.opensearch, asked_same)
    differing = [(a, (sorted(w - o), sorted(o - w))) for a, (w, o) in zip(asked_same, answers, strict=True) if w != o]
    assert not differing, report("same_proposal() (whoosh vs opensearch)", differing, len(asked_same))
    assert any(w for w, _ in answers)

    for reply in rng.sample(main.corpus.replies, 5):  # ranked differently, so only sane
        similar = main.opensearch.similar(reply.id)
        assert len(similar) <= 5 and all(hit.id in main.everything and hit.id != reply.id for hit in similar)


def test_precedents_and_reuse_agree(main):
    """A paragraph pasted word for word finds the same passages, scored the same, on
    both backends (the candidates may be ranked differently, the passages that say the
    pasted text exactly may not differ), and a reply's reused paragraphs are the same."""
    rng = random.Random(SEED)
    paragraphs = [
        (reply, paragraph)
        for reply in main.corpus.replies
        for paragraph, number in zip(reply.paragraphs, reply.passage_numbers, strict=True)
        if number is not None and len(paragraph) >= 40
    ]

    def exact(index: ReplyIndex, text: str) -> frozenset:
        return frozenset(
            (p.hit.id, p.paragraph, tuple((hit.id, n) for hit, n in p.same), p.same_count)
            for p in index.precedents(text, limit=50).pieces[0].passages if p.score == 1.0
        )

    # Said in few replies: all of them are among the candidates on both backends.
    asked = [paragraph for _, paragraph in rng.sample(paragraphs, 60) if len(main.corpus.containing(paragraph)) < 10]
    asked = asked[:30]
    answers = ask_both(exact, main.whoosh, main.opensearch, asked)
    differing = [(text[:30], (sorted(w - o), sorted(o - w))) for text, (w, o) in zip(asked, answers, strict=True)
                 if w != o]
    assert not differing, report("precedents (whoosh vs opensearch)", differing, len(asked))
    assert all(w for w, _ in answers)

    def reused(index: ReplyIndex, reply_id: str) -> tuple:
        found = index.reuse(reply_id)
        return found.new_share, {
            n: {(p.hit.id, p.paragraph) for p in said} if count <= len(said) else "more than shown"
            for n, said, count in found.paragraphs
        }

    asked_ids = [reply.id for reply, _ in rng.sample(paragraphs, 15)]
    answers = ask_both(reused, main.whoosh, main.opensearch, asked_ids)
    # Which paragraphs are said again, and so the share that is new, may not differ. The
    # earlier replies that said one are read from the best-ranked candidates, and the
    # backends rank them differently: where many replies said it, each may list others,
    # but never none of the same where each lists all it found (not only the oldest).
    differing = [
        (reply_id, (w, o))
        for reply_id, (w, o) in zip(asked_ids, answers, strict=True)
        if w[0] != o[0] or w[1].keys() != o[1].keys()
        or any(isinstance(w[1][n], set) and isinstance(o[1][n], set) and not w[1][n] & o[1][n] for n in w[1])
    ]
    assert not differing, report("reuse (whoosh vs opensearch)", differing, len(asked_ids))
    assert any(w[1] for w, _ in answers)


# --- 7. updates ------------------------------------------------------------------------

ADDED_MARK = "差分测试新增标记"
CHANGED_MARK = "差分测试修改标记"
RENAMED = "差分测试改名局"


def change_archive(archive: Path, rng: random.Random, scratch: Path) -> tuple[int, int, int, int]:
    """Add, change, move and delete records of an archive; return how many of each.

    Three generated replies are added, each with a marked sentence; three records have
    their body edited (a marked sentence added, a word replaced), the first its
    department and the second its year too; one is moved into a subfolder (the same
    record in another file); three are deleted.
    """
    records = sorted(archive.glob(f"*{SUFFIX}"))
    with_fields = [path for path in records if all(
        re.search(f"^{name}: ", path.read_text(encoding="utf-8"), re.M) for name in ("department", "year"))]
    changed = rng.sample(with_fields, 3)
    moved, *deleted = rng.sample([path for path in records if path not in changed], 4)
    for n, path in enumerate(changed):
        front, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
        body = body.replace("我局", "我单位", 1).replace("。", f"。{CHANGED_MARK}{n}。", 1)
        lines = front.splitlines()
        if n == 0:
            lines = [f"department: {RENAMED}" if line.startswith("department:") else line for line in lines]
        if n == 1:
            lines = ["year: 2011" if line.startswith("year:") else line for line in lines]
        path.write_text("\n".join(lines) + f"\n---\n{body}", encoding="utf-8")
    (archive / "moved").mkdir()
    moved.rename(archive / "moved" / moved.name)
    for path in deleted:
        path.unlink()
    write_sources(3, scratch, seed=SEED + 1, size=GENERATED_SIZE)
    added = []
    for source in sorted(scratch.glob("*.txt")):
        text = source.read_text(encoding="utf-8").replace("现答复如下：", f"现答复如下：{ADDED_MARK}。", 1)
        added.append(source.with_name(f"added-{source.name}"))
        added[-1].write_text(text, encoding="utf-8")
    assert len(ingest(added, archive, sample=True).added) == len(added)
    return len(added), len(changed), 1, len(deleted)


def test_an_update_on_the_cluster_equals_a_fresh_whoosh_build_of_the_changed_archive(main, tmp_path_factory):
    """The module's index on the cluster is updated to a changed copy of the archive (the
    copy has the archive's file stamps: only the changes differ), then back to the
    archive, so the other tests find it as it was whatever the order."""
    folder = tmp_path_factory.mktemp("update")
    archive = folder / "archive"
    shutil.copytree(main.archive, archive)
    rng = random.Random(SEED)
    added, changed, moved, deleted = change_archive(archive, rng, folder / "sources")
    settings, lock = main.opensearch.settings, main.opensearch.folder
    try:
        run = refresh_index(archive, lock, settings=settings)
        assert run == IndexRun("updated", indexed=added + changed + moved, removed=deleted + moved)
        assert refresh_index(archive, folder / "whoosh").mode == "rebuilt"
        whoosh = ReplyIndex(folder / "whoosh", Settings(**SETTINGS))
        assert whoosh.warmed(120)
        updated = Indexed(archive, Corpus.read(archive, main.corpus), whoosh, main.opensearch)
        try:
            compare_updated(updated, main.corpus, rng)
        finally:
            whoosh.close()
    finally:
        back = refresh_index(main.archive, lock, settings=settings)
    assert back == IndexRun("updated", indexed=changed + deleted + moved, removed=added + moved)
    assert main.opensearch.ids() == main.everything and main.opensearch.info() == main.whoosh.info()
    assert {hit.id: hit.fields() for hit in main.opensearch.export("")} == {
        hit.id: hit.fields() for hit in main.whoosh.export("")
    }


def compare_updated(updated: Indexed, before: Corpus, rng: random.Random) -> None:
    """Compare the updated index on the cluster with the fresh Whoosh build: ids, what
    the builds kept, every exported hit, and a sample of every kind of query."""
    assert updated.opensearch.ids() == updated.whoosh.ids() == updated.everything
    assert len(updated.corpus.containing(ADDED_MARK)) == len(updated.corpus.containing(CHANGED_MARK)) == 3
    assert updated.opensearch.info() == updated.whoosh.info()
    assert {hit.id: hit.fields() for hit in updated.opensearch.export("")} == {
        hit.id: hit.fields() for hit in updated.whoosh.export("")
    }
    # Exact wording: of the changed archive, of what the changes added, of what the deleted records held.
    gone = [text for reply_id, text in before.texts.items() if reply_id not in updated.everything]
    marks = [ADDED_MARK, CHANGED_MARK, "我单位", RENAMED, *(text[len(text) // 2 :][:12] for text in gone)]
    sample = [*needles(updated.corpus, rng, 120), *(Needle("mark", m, q, m) for m in marks if (q := quote(m, rng)))]
    answers = compare_answers(updated, [needle.query for needle in sample], counted=False)
    wrong = [(n.query, sorted(w.ids ^ updated.corpus.containing(n.text))[:3])
             for n, (w, _) in zip(sample, answers, strict=True) if w.ids != updated.corpus.containing(n.text)]
    assert not wrong, report("needles (against a substring scan)", wrong, len(sample))

    vocabulary = Vocabulary.sample(updated.corpus, rng, 60)
    queries = [
        *word_queries(updated.corpus, vocabulary, rng, 40), *near_queries(vocabulary, rng, 10),
        *scope_queries(vocabulary, rng, 10), f"department:{RENAMED}", "year:2011", "我单位",
    ]
    compare_answers(updated, queries)
    values = facet_values(updated.whoosh.search("").facets)
    assert RENAMED in values["department"] and "2011" in values["year"]
    compare_facets(updated, facet_selections(values, queries, rng, 30))


# --- 8. a reader during builds ---------------------------------------------------------

PROBE = "并发探针"
# What a reader asks, in one call each: a search for the probe (its hits all on one
# page, with its facets), the same within a paragraph (checked on the replies' bodies,
# read through a point in time), the export of the probe, and a search for everything.
QUESTIONS = {"probe": f'"{PROBE}"', "scope": f"同段({PROBE})", "export": f'"{PROBE}"', "all": ""}


def observe(index: ReplyIndex, kind: str) -> tuple:
    """Return an index's answer to one of the :data:`QUESTIONS`; a search's parts (total,
    hits, facets) must agree with each other."""
    if kind == "export":
        return tuple(sorted(hit.id for hit in index.export(QUESTIONS[kind])))
    results = index.search(QUESTIONS[kind], per_page=1 if kind == "all" else 1000)
    facets = facet_counts(results.facets)
    assert results.query.word_count == results.total >= sum(count for _, count, _ in dict(facets)["year"])
    if kind == "all":
        return results.total, facets
    assert results.total == len(results.hits)
    return results.total, tuple(sorted(hit.id for hit in results.hits)), facets


def mark_records(archive: Path, names: list[str], marked: bool) -> None:
    """Add a sentence holding the probe to the end of records' bodies, or take it out."""
    for name in names:
        path = archive / name
        text = path.read_text(encoding="utf-8")
        sentence = f"\n\n{PROBE}。\n"
        text = text.rstrip("\n") + sentence if marked else text.replace(sentence, "\n")
        path.write_text(text, encoding="utf-8")


def test_a_reader_during_builds_sees_the_old_or_the_new_state_never_a_mix(tmp_path_factory, on_cluster):
    folder = tmp_path_factory.mktemp("concurrent")
    archive = folder / "archive"
    assert ingest([data.path("samples")], archive, sample=True).ok
    assert ingest(sorted(FIXTURES.glob("*.txt")), archive).ok
    settings = on_cluster("diff-concurrent")
    assert refresh_index(archive, folder / "opensearch", rebuild=True, settings=settings).mode == "rebuilt"
    names = sorted(path.name for path in archive.glob(f"*{SUFFIX}"))

    def add_seed() -> None:
        assert ingest([data.path("seed")], archive).ok
        (seed,) = {path.name for path in archive.glob(f"*{SUFFIX}")} - set(names)
        mark_records(archive, [seed, names[12]], True)

    # Each step changes the archive, then updates (or, True, rebuilds) its index; each
    # changes the answers about the probe.
    steps: list[tuple[Callable[[], None], bool]] = [
        (lambda: mark_records(archive, names[:3], True), False),
        (lambda: (mark_records(archive, names[:2], False), mark_records(archive, names[5:9], True)), True),
        (lambda: ((archive / names[5]).unlink(), mark_records(archive, names[20:21], True)), False),
        (add_seed, True),
    ]
    reader = ReplyIndex(folder / "opensearch", settings)
    states = [{kind: observe(reader, kind) for kind in QUESTIONS}]
    seen: list[tuple[str, tuple]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            for kind in itertools.cycle(QUESTIONS):
                if stop.is_set():
                    return
                seen.append((kind, observe(reader, kind)))
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for change, rebuild in steps:
            change()
            run = refresh_index(archive, folder / "opensearch", rebuild=rebuild, settings=settings)
            assert run.mode == ("rebuilt" if rebuild else "updated")
            states.append({kind: observe(reader, kind) for kind in QUESTIONS})
            assert states[-1]["export"] == tuple(sorted(Corpus.read(archive).containing(PROBE)))
    finally:
        stop.set()
        thread.join()
        reader.close()
    assert not failures, f"the reader failed: {failures[0]!r}"
    assert all(a[kind] != b[kind] for a, b in itertools.pairwise(states) for kind in ("probe", "scope", "export"))
    # Each answer of the reader must be that of one state, never of a state older than
    # that of an answer before it (an answer to a search for everything may be that of
    # several states: the oldest one possible is taken).
    oldest, reached = 0, set()
    for at, (kind, found) in enumerate(seen):
        possible = [n for n, state in enumerate(states) if state[kind] == found]
        assert possible, f"answer {at} of {len(seen)}, to {kind}, is that of no state: {found}"
        later = [n for n in possible if n >= oldest]
        assert later, f"answer {at} of {len(seen)}, to {kind}, is that of state {possible} after state {oldest}"
        oldest = later[0]
        reached.add(oldest)
    assert len(reached) > len(steps) // 2, f"the reader saw only the states {sorted(reached)}: it read too slowly"


def test_a_request_whose_generation_a_newer_build_removed_is_asked_again(tmp_path_factory, on_cluster):
    """A request that held a generation removed under it (two builds finished while it
    ran) gets a ClusterError, which the app answers with 503 and Retry-After, not a 500."""
    folder = tmp_path_factory.mktemp("gone")
    archive = folder / "archive"
    assert ingest([data.path("samples")], archive, sample=True).ok
    settings = on_cluster("diff-gone")
    assert refresh_index(archive, folder / "opensearch", rebuild=True, settings=settings).mode == "rebuilt"
    backend = open_backend(folder / "opensearch", settings)
    try:
        with backend.reader() as reader:
            some = min(reader.ids())
            assert reader.document(some) is not None
            assert reader.document("no-such-reply") is None
            backend.client.indices.delete(index=backend.generation_id())
            with pytest.raises(ClusterError, match="replaced by a newer build"):
                reader.document(some)
            with pytest.raises(ClusterError, match="replaced by a newer build"):
                reader.count(Everything(), (), Deadline(5))
    finally:
        backend.close()
