"""Word search forgives: what the index lacks as a word is matched as characters, a
misspelt word is offered a correction, and a pasted passage shows where it is said."""

from __future__ import annotations

import random
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from reply_archive.indexer.analysis import exact_text, fold
from reply_archive.indexer.highlight import Runs, passages
from reply_archive.indexer.plan import Phrase, Term
from reply_archive.indexer.query import WORD_SHARE, correction, is_neighbour, parse_query
from tests.conftest import open_index

# A sentence of the seed reply: jieba leaves 为, 在 and 及 in it as words of their own.
PASTED = "为粤港澳专业人士在大湾区开展活动提供政策咨询宣传、人才培训交流及其他便利支持"


def ids(results):
    return {hit.id for hit in results.hits}


def containing(replies, text):
    """Return the ids of the replies whose indexed text holds ``text`` after folding."""
    return {r.id for r in replies if fold(text) in fold(exact_text(r.title, r.proposal_title, r.searchable_body))}


@pytest.mark.parametrize("word", ["养", "运营补", "老服务"])
def test_a_character_or_a_part_of_a_word_matches_where_its_characters_occur(index_dir, replies, word):
    results = open_index(index_dir).search(word, per_page=100)
    assert results.total and ids(results) == containing(replies, word)
    assert results.query.word_count == results.query.exact_count == results.total
    assert f"“{word}”不是词表中的词，已按原文字符匹配" in results.query.notice
    assert any(f"<mark>{word}</mark>" in s.html for hit in results.hits for s in hit.snippets)
    assert open_index(index_dir).search("养老").query.notice is None  # a word of the index stays a word


def test_excluding_a_character_excludes_every_reply_holding_it(index_dir, replies):
    results = open_index(index_dir).search("-养", per_page=100)
    assert ids(results) == {r.id for r in replies} - containing(replies, "养")
    assert "“养”不是词表中的词" in results.query.notice


def frequencies(counts):
    """Return a frequencies function answering from a table (0 for any other plan)."""
    return lambda plans: [counts.get(plan, 0) for plan in plans]


def test_a_single_character_is_a_word_where_most_replies_holding_it_hold_it_as_one():
    held = round(100 * WORD_SHARE)
    counts = {Term("body", "的"): held, Phrase("的"): 100, Term("body", "补"): held - 1, Phrase("补"): 100}
    parsed = parse_query("的 补", frequencies(counts))
    assert parsed.notice == "“补”不是词表中的词，已按原文字符匹配"
    assert Phrase("补") in parsed.query.children and Phrase("的") not in parsed.query.children


def test_only_the_words_the_index_lacks_are_read_as_characters_with_their_neighbours():
    words = ("区政府", "已", "与", "市", "交通局", "协商")
    counts = {Term("body", w): 10 for w in words if w != "市"} | {Phrase(w): 10 for w in words if len(w) == 1}
    parsed = parse_query("区政府已与市交通局协商", frequencies(counts))
    assert parsed.notice == "“与市交通局”不是词表中的词，已按原文字符匹配"
    assert parsed.terms == ("区政府", "与市交通局", "协商")  # 已 is a word, but only part of what was typed
    assert Phrase("与市交通局") in parsed.query.children
    assert parse_query("区政府已与市交通局协商").notice is None  # without the index, every word is a word


def test_a_misspelt_word_is_offered_the_likeliest_word_of_the_archive(index_dir):
    results = open_index(index_dir).search("养老服物")
    assert results.total == 0 and results.query.suggestion == "养老服务"
    assert open_index(index_dir).search("社区 养老服物").query.suggestion == "社区 养老服务"
    # No word is one edit from 托育服物 (托育|服务 are two): its part the index lacks, 服物, is corrected.
    assert open_index(index_dir).search("托育服物").query.suggestion == "托育服务"
    assert open_index(index_dir).search("养老服务").query.suggestion is None
    assert open_index(index_dir).search("火星探测器").query.suggestion is None  # nothing one edit away


def test_the_suggestion_links_to_the_corrected_search_keeping_the_filters(client):
    page = client.get("/search", query_string={"q": "养老服物", "year": "2023"}).get_data(as_text=True)
    link = re.search(r'您是不是要找：<a href="([^"]+)">养老服务</a>', page)
    assert link
    args = parse_qs(urlsplit(unescape(link.group(1))).query)
    assert args["q"] == ["养老服务"] and args["year"] == ["2023"]
    assert "您是不是要找" not in client.get("/search", query_string={"q": "养老服务"}).get_data(as_text=True)


def test_corrections_take_the_most_frequent_neighbour_and_leave_found_words():
    parsed = parse_query("托育 养老服物 服装")
    found = {Term("body", "养老服务"): 7, Term("body", "养老服装"): 3}

    def counts(plans):
        return [0 if plan == parsed.words[1].plan else found.get(plan, 1) for plan in plans]

    assert correction(parsed, counts, lambda words: [["养老服装", "养老服务"]] * len(words)) == "托育 养老服务 服装"
    assert correction(parsed, counts, lambda words: [[]] * len(words)) is None


@pytest.mark.parametrize("word, other, expected", [
    ("养老服物", "养老服务", True),  # substituted
    ("养老服", "养老服务", True),  # inserted
    ("养老服务务", "养老服务", True),  # deleted
    ("养老务服", "养老服务", False),  # transposed: two edits
    ("服物", "物", False),  # one character is never a correction
    ("养老服务", "养老服务", False),
])
def test_neighbours_are_one_edit_apart(word, other, expected):
    assert is_neighbour(word, other) is expected


def test_the_index_finds_every_body_word_one_edit_away(index_dir):
    generation = open_index(index_dir).backend.generation()
    with generation.searcher() as searcher:
        lexicon = sorted(set(searcher.reader().field_terms("body")))
        rng = random.Random(5)
        words = [w for w in lexicon if len(w) > 1]
        probes = ["养老服物", "服物", "托育服", "深港共"]
        for word in rng.sample(words, 40):
            at = rng.randrange(len(word))
            probes.append(word[:at] + rng.choice("的服务养") + word[at + rng.randint(0, 1) :])
        for probe in probes:
            expected = [w for w in lexicon if is_neighbour(probe, w)]
            assert generation.terms.neighbours(searcher, probe) == expected, probe


def marked(results):
    return [m for hit in results.hits for s in hit.snippets for m in re.findall(r"<mark>(.*?)</mark>", s.html)]


def test_snippets_of_a_pasted_sentence_show_where_it_is_said_and_no_lone_characters(index_dir, seed_reply):
    results = open_index(index_dir).search(PASTED)
    hit = next(h for h in results.hits if h.id == seed_reply.id)
    assert any(f"<mark>{PASTED}</mark>" in s.html for s in hit.snippets)
    assert all(len(m) > 1 for m in marked(results))


def test_passages_holding_the_longest_run_of_a_pasted_text_come_first():
    text = "社区、养老、服务、设施、建设都要加快推进。要加快推进社区养老服务设施建设。"
    pasted = "加快推进社区养老服务设施建设"
    words = ["加快", "推进", "社区", "养老服务", "养老", "服务", "设施", "建设"]
    [(_, scattered)] = passages(text, words, limit=1)
    assert scattered.startswith("<mark>社区</mark>、")  # without the passage: the most distinct words
    [(_, html)] = passages(text, [*words, Runs(pasted)], limit=1)
    assert html == f"要<mark>{pasted}</mark>。"
