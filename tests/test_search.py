"""The search API on the sample archive: exact wording, words, facets, paging."""

from __future__ import annotations

import random
import re

import pytest

from reply_archive.indexer.analysis import fold
from reply_archive.indexer.build import build_index
from reply_archive.indexer.errors import IndexerError, QueryError
from reply_archive.indexer.search import ReplyIndex
from reply_archive.indexer.settings import Settings
from tests.conftest import open_index


def ids(results):
    return {hit.id for hit in results.hits}


@pytest.mark.parametrize(
    "phrase", ["深港共融", "港人服务中心", "e站通", "e 站通", "ｅ站通", "华强上步片区", "品牌活动"]
)
def test_quoted_phrases_from_the_seed_find_the_seed(index_dir, seed_reply, phrase):
    results = open_index(index_dir).search(f'"{phrase}"')
    assert seed_reply.id in ids(results)


def test_exact_wording_matches_a_substring_scan(index_dir, replies):
    """Every quoted substring finds exactly the replies whose indexed text contains it
    (contact lines are never indexed)."""
    rng = random.Random(20220030)
    texts = {r.id: fold("\x1f".join(filter(None, (r.title, r.proposal_title, r.searchable_body)))) for r in replies}
    corpus = [t for t in texts.values()]
    checked = 0
    while checked < 150:
        text = rng.choice(corpus)
        length = rng.randint(1, 12)
        start = rng.randrange(0, max(1, len(text) - length))
        needle = text[start : start + length]
        if "\x1f" in needle or '"' in needle or not needle.strip():
            continue
        expected = {rid for rid, t in texts.items() if needle in t}
        got = {h.id for h in open_index(index_dir).search(f'"{needle}"', per_page=100).hits}
        assert got == expected, needle
        checked += 1


def test_traditional_queries_find_simplified_text(index_dir):
    simplified = {h.id for h in open_index(index_dir).search('"粤港澳大湾区"').hits}
    assert simplified and {h.id for h in open_index(index_dir).search('"粵港澳大灣區"').hits} == simplified
    assert {h.id for h in open_index(index_dir).search("粵港澳大灣區").hits} >= simplified
    hit = open_index(index_dir).search('"粵港澳大灣區"').hits[0]
    assert any("<mark>粤港澳大湾区</mark>" in s.html for s in hit.snippets)


def test_a_word_the_index_lacks_is_matched_as_exact_wording(index_dir):
    # 老服 crosses the word boundary of 养老|服务: no word index can ever find it as a word.
    exact = open_index(index_dir).search('"老服"')
    assert exact.total >= 1
    words = open_index(index_dir).search("老服")
    assert ids(words) == ids(exact) and "“老服”不是词表中的词" in words.query.notice


def test_chinese_quotes_and_corner_brackets_are_exact_too(index_dir):
    a = open_index(index_dir).search("“现答复如下”")
    b = open_index(index_dir).search("「现答复如下」")
    c = open_index(index_dir).search('"现答复如下"')
    assert a.total == b.total == c.total > 1


def test_words_are_anded_and_support_or_and_not(index_dir):
    both = open_index(index_dir).search("养老 托育").total
    either = open_index(index_dir).search("养老 OR 托育").total
    without = open_index(index_dir).search("养老 NOT 托育").total
    assert either >= open_index(index_dir).search("养老").total >= both
    total = open_index(index_dir).search("养老").total
    assert open_index(index_dir).search("养老 -托育").total == without == total - both


def test_title_words_rank_first(index_dir, replies):
    by_id = {r.id: r for r in replies}
    top = by_id[open_index(index_dir).search("垃圾分类").hits[0].id]
    assert "垃圾分类" in top.proposal_title


def test_snippets_mark_matches_and_escape_text(index_dir):
    hit = open_index(index_dir).search('"e站通"').hits[0]
    assert any("<mark>e站通</mark>" in s.html for s in hit.snippets)
    plain = re.sub(r"</?mark>", "", " ".join(s.html for s in hit.snippets))
    assert "<" not in plain


def test_query_info_reports_segmentation_and_notices(index_dir):
    results = open_index(index_dir).search('港澳 青年 "港人服务中心"')
    assert results.query.segmented == ("港澳", "青年")
    assert results.query.phrases == ("港人服务中心",)
    assert open_index(index_dir).search('"深港').query.notice


@pytest.mark.parametrize(
    "q", ['"', "(((", ")", "AND", "OR OR", "NOT", "-", '"""', "“", "a" * 5000, "\x1f", "*", "深港~2", "title:深港"]
)
def test_odd_queries_never_raise(index_dir, q):
    open_index(index_dir).search(q)


def test_facets_follow_the_query(index_dir, seed_reply):
    results = open_index(index_dir).search('"深港共融"')
    facets = {f.name: {v.value: v.count for v in f.values} for f in results.facets}
    assert facets["session"] == {"深圳市福田区政协六届二次": 1}
    assert facets["assembly"] == {"深圳市福田区政协": 1}
    assert facets["department"] == {"中共深圳市福田区委统一战线工作部": 1}
    assert facets["topic"] == {"政治建设": 1}
    assert facets["year"] == {"2022": 1}
    assert facets["role"] == {"主办": 1} and facets["channel"] == {"cppcc": 1}
    assert facets["assembly_level"] == {"county": 1} and facets["result"] == {}
    assert facets["subtopic"]["统战与港澳台侨"] == 1


def test_facet_counts_are_disjunctive(index_dir, replies):
    results = open_index(index_dir).search("", filters={"year": ["2023"]})
    in_2023 = [r for r in replies if r.year == 2023]
    assert results.total == len(in_2023)
    year = next(f for f in results.facets if f.name == "year")
    # The year facet ignores its own selection: every year keeps its full count.
    assert {v.value: v.count for v in year.values} == {
        str(y): sum(1 for r in replies if r.year == y) for y in {r.year for r in replies}
    }
    topic = next(f for f in results.facets if f.name == "topic")
    assert sum(v.count for v in topic.values) == len(in_2023)


@pytest.mark.parametrize("tabulated", [True, False], ids=["rows of each document", "every pair"])
def test_facet_counts_over_any_set_of_documents_are_exact(index_dir, replies, tabulated):
    from collections import Counter

    from reply_archive.indexer.build import facet_values
    from reply_archive.indexer.facets import FacetArrays
    from reply_archive.indexer.schema import FACETS

    generation = open_index(index_dir).backend.generation()
    with generation.searcher() as searcher:
        arrays = FacetArrays(searcher)
        docnums = {d: searcher.stored_fields(d)["id"] for d in range(arrays.size)}
    if not tabulated:  # as for a facet where a few documents have many values
        for facet in arrays.facets.values():
            facet._table = None
    assert any(facet._table is not None for facet in arrays.facets.values()) == tabulated
    by_id = {r.id: r for r in replies}
    some = set(random.Random(3).sample(range(arrays.size), k=arrays.size // 2))
    for docs in (set(range(arrays.size)), {0, 3, 5}, some, set()):
        mask = arrays.none()
        mask[list(docs)] = True
        for facet in FACETS:
            expected = Counter(v for d in docs for v in set(facet_values(by_id[docnums[d]], facet.attr)))
            assert arrays.count(facet.name, mask) == expected, facet.name


def test_a_new_generation_reads_only_its_new_segments_facets(tmp_path, replies):
    """An update's generation reuses the postings its segments had, and counts what a
    fresh read of it counts, with a value only the new segment has."""
    import dataclasses

    from reply_archive.indexer.build import current_generation, open_generation, update_index
    from reply_archive.indexer.facets import FacetArrays
    from reply_archive.indexer.schema import FACET_NAMES

    build_index(replies, tmp_path, procs=2)
    known: dict = {}
    with open_generation(current_generation(tmp_path)).searcher() as searcher:
        FacetArrays(searcher, known)
    first = dict(known)
    update_index([dataclasses.replace(replies[0], year=2099)], tmp_path, delete=[replies[1].id])
    with open_generation(current_generation(tmp_path)).searcher() as searcher:
        reused, fresh = FacetArrays(searcher, known), FacetArrays(searcher)
        segments = [sub.reader().segment().segment_id() for sub, _ in searcher.leaf_searchers()]
        live = list(searcher.reader().all_doc_ids())  # what a query's documents are drawn from
    assert list(known) == segments and len(segments) == len(first) + 1
    assert all(known[segment] is first[segment] for segment in first)  # not read again
    mask = fresh.none()
    mask[random.Random(4).sample(live, k=len(live) // 2)] = True
    for name in FACET_NAMES:
        assert reused.facets[name].values == fresh.facets[name].values
        assert reused.count(name, mask) == fresh.count(name, mask), name
    assert "2099" in reused.facets["year"].values
    assert (reused.with_commitments[live] == fresh.with_commitments[live]).all()


def test_values_of_one_facet_or_and_facets_and(index_dir, replies):
    two_years = open_index(index_dir).search("", filters={"year": ["2023", "2022"]})
    assert two_years.total == sum(1 for r in replies if r.year in (2022, 2023))
    narrowed = open_index(index_dir).search("", filters={"year": ["2023", "2022"], "topic": ["社会建设"]})
    assert narrowed.total == sum(1 for r in replies if r.year in (2022, 2023) and r.topic == "社会建设")
    year = next(f for f in narrowed.facets if f.name == "year")
    assert {v.value for v in year.values if v.selected} == {"2022", "2023"}


def test_a_selected_value_with_no_hits_stays_visible(index_dir):
    results = open_index(index_dir).search('"深港共融"', filters={"year": ["2019"]})
    assert results.total == 0
    year = next(f for f in results.facets if f.name == "year")
    assert ("2019", 0, True) in [(v.value, v.count, v.selected) for v in year.values]


def test_paging_and_sorting(index_dir, replies):
    everything = open_index(index_dir).search("", per_page=100, sort="newest")
    dates = [h.date for h in everything.hits]
    assert dates == sorted(dates, reverse=True)
    pages = [open_index(index_dir).search("", page=p, per_page=4, sort="newest") for p in range(1, 5)]
    assert [h.id for p in pages for h in p.hits] == [h.id for h in everything.hits]
    assert pages[0].pages == -(-len(replies) // 4)
    assert open_index(index_dir).search("", page=99).hits == ()


@pytest.mark.parametrize("kwargs, parameter", [
    ({"filters": {"colour": ["red"]}}, "colour"),
    ({"page": 0}, "page"),
    ({"page": "x"}, "page"),
    ({"per_page": 0}, "per_page"),
    ({"per_page": 101}, "per_page"),
    ({"sort": "random"}, "sort"),
])
def test_bad_parameters_raise_query_error_naming_them(index_dir, kwargs, parameter):
    with pytest.raises(QueryError) as info:
        open_index(index_dir).search("深港", **kwargs)
    assert info.value.parameter == parameter


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexerError, match="reply-archive index"):
        open_index(tmp_path).search("深港")


def test_snippets_name_their_section(index_dir, seed_reply):
    hit = next(h for h in open_index(index_dir).search('"港人服务中心"').hits if h.id == seed_reply.id)
    assert [s.section for s in hit.snippets][0] == "一、关于“构筑深港合作共融空间”的建议"
    opening = next(h for h in open_index(index_dir).search('"回复办理意见如下"').hits if h.id == seed_reply.id)
    assert opening.snippets[0].section is None  # the opening precedes every section


def test_export_returns_every_hit_in_order(index_dir, replies):
    everything = open_index(index_dir).export("", sort="oldest")
    assert len(everything) == len(replies)
    assert [h.date for h in everything] == sorted(h.date for h in everything)
    assert {h.id for h in open_index(index_dir).export("收悉", filters={"year": ["2023"]})} == {
        h.id for h in open_index(index_dir).search("收悉", filters={"year": ["2023"]}, per_page=100).hits
    }


def test_concurrent_searches_from_the_searcher_pool_agree(index_dir):
    from concurrent.futures import ThreadPoolExecutor

    queries = ['"现答复如下"', "养老 托育", "深港", '"会办单位"', "", "收悉"] * 8
    expected = {q: [h.id for h in open_index(index_dir).search(q).hits] for q in set(queries)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: (q, [h.id for h in open_index(index_dir).search(q).hits]), queries))
    assert all(ids == expected[q] for q, ids in got)


def test_a_year_range_selects_every_year_in_it(index_dir, replies):
    results = open_index(index_dir).search("", filters={"year": ["2020-2022"]}, per_page=100)
    assert results.total == sum(1 for r in replies if r.year and 2020 <= r.year <= 2022)
    year = next(f for f in results.facets if f.name == "year")
    assert {v.value for v in year.values if v.selected} == {"2020", "2021", "2022"}


def test_sort_by_proposal_number(index_dir):
    hits = open_index(index_dir).search("", sort="number", per_page=100).hits
    numbers = [int(h.proposal_numbers[0]) for h in hits if h.proposal_numbers]
    assert numbers == sorted(numbers)


@pytest.fixture
def expired(monkeypatch):
    """Make every query's time limit run out as soon as matching starts."""
    from reply_archive.indexer import whoosh_backend as module

    class Expired(module.TimeLimitCollector):
        def prepare(self, *args):
            super().prepare(*args)
            self.timedout = True

    monkeypatch.setattr(module, "TimeLimitCollector", Expired)
    return monkeypatch


def test_a_query_over_the_time_limit_returns_partial_results_with_a_notice(index_dir, expired):
    # Words near each other (matched by Whoosh, not on arrays), a query no other test has run.
    q = '"认真 研究"~3 OR "答复 如下"~3'
    results = open_index(index_dir).search(q)
    assert "检索用时超过" in results.query.notice
    expired.undo()
    complete = open_index(index_dir).search(q)  # partial matches were not cached
    assert complete.query.notice is None and results.total < complete.total


def test_contact_details_are_never_indexed_or_shown(index_dir, replies, client):
    with_contact = [r for r in replies if r.contact and r.contact.person]
    assert with_contact
    for reply in with_contact:
        assert open_index(index_dir).search(reply.contact.person).total == 0
        assert open_index(index_dir).search(f'"{reply.contact.person}"').total == 0
        page = client.get(f"/replies/{reply.id}").get_data(as_text=True)
        assert reply.contact.person in page  # shown on the record's own page…
        assert not re.search(r"\d{3,4}-\d{7,8}|1[3-9]\d{9}", page)  # …but never a phone number


def test_an_export_that_runs_out_of_time_is_refused_not_cut_short(index_dir, expired):
    with pytest.raises(QueryError, match="请缩小范围后再导出"):
        open_index(index_dir).export('"认真 研究"~6')  # matched by Whoosh; not run (so not cached) by any other test


def test_same_sentence_checks_stop_at_the_deadline(index_dir):
    no_time = ReplyIndex(index_dir, Settings(query_seconds=0))  # past the deadline once it starts
    results = no_time.search("同句(港澳 青年)")
    assert results.total == 0 and "检索用时超过" in results.query.notice


def test_matches_are_reused_within_a_generation_and_never_across(tmp_path, replies):
    build_index(replies, tmp_path)
    index = ReplyIndex(tmp_path)
    first = index.search('"现答复如下"')
    again = index.search('"现答复如下"', filters={"year": ["2023"]}, page=2)
    # Paging and facets reuse the matches: computed once (the exact count has none to do).
    assert index.cache_info() == (1, 1) and again.query.word_count == first.total
    build_index(replies[:5], tmp_path)
    assert index.search('"现答复如下"').total <= 5 and index.cache_info() == (1, 2)  # a new generation recomputes


def test_preceding_gives_the_newest_replies_before_a_date(index_dir, replies):
    dated = sorted((r for r in replies if r.date), key=lambda r: r.date)
    cut = dated[len(dated) // 2].date
    hits = open_index(index_dir).preceding(filters={}, before=cut, limit=3)
    expected = sorted((r.date for r in replies if r.date and r.date < cut), reverse=True)[:3]
    assert len(hits) == 3 and [h.date for h in hits] == expected
    department = dated[-1].department
    hits = open_index(index_dir).preceding(filters={"department": [department]}, before="9999-12-31", limit=100)
    assert sorted(h.id for h in hits) == sorted(r.id for r in replies if r.department == department and r.date)


def test_slow_queries_wait_their_turn_within_their_own_time_limit(index_dir, monkeypatch):
    import threading
    import time

    from reply_archive.indexer import whoosh_backend

    real = whoosh_backend._whoosh_matches

    def slow(*args, **kwargs):  # a proximity query that takes a second of Whoosh's time
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(whoosh_backend, "_whoosh_matches", slow)
    index = ReplyIndex(index_dir, Settings(slow_queries=1, query_seconds=0.4))
    first: list = []
    running = threading.Thread(target=lambda: first.append(index.search('"认真 研究"~4')))
    running.start()
    time.sleep(0.1)  # the first one holds the only lane
    waited = index.search('"答复 如下"~4')
    assert waited.total == 0 and "检索用时超过" in waited.query.notice  # could not start in time
    assert index.search("养老").query.notice is None  # queries on arrays never wait for the lane
    running.join()
