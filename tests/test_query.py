"""The query language: operators, fields, proximity, scopes, and broken syntax."""

from __future__ import annotations

import pytest

from reply_archive.indexer.query import MAX_NEAR_WORDS, MAX_SLOP, in_one_scope, parse_query, synonyms
from tests.conftest import open_index


def titles(index_dir, q, replies):
    by_id = {r.id: r for r in replies}
    return [by_id[h.id] for h in open_index(index_dir).search(q, per_page=100).hits]


def test_field_prefixes(index_dir, replies, seed_reply):
    assert [r.id for r in titles(index_dir, "proposer:黄逸昆", replies)] == [seed_reply.id]
    assert {r.proposal_numbers for r in titles(index_dir, "number:0087", replies)} == {("0087",)}
    found = titles(index_dir, "session:青溪市政协十二届二次", replies)
    assert {r.qualified_session for r in found} == {"青溪市政协十二届二次"}
    # A bare 届次 finds it in every body that held one so labelled.
    bare = titles(index_dir, "session:十二届二次", replies)
    assert {r.session_label for r in bare} == {"十二届二次"}
    assert {r.id for r in bare} == {r.id for r in replies if r.session_label == "十二届二次"}
    education = titles(index_dir, "topic:教育", replies)
    assert education and all("教育" in r.topics for r in education)
    assert {r.year for r in titles(index_dir, "year:2019-2021", replies)} == {2019, 2020, 2021}
    in_range = sum(1 for r in replies if 2019 <= (r.year or 0) <= 2021)
    assert open_index(index_dir).search("year:2019-2021").total == in_range
    waste = titles(index_dir, "title:垃圾分类", replies)
    assert waste and all("垃圾分类" in (r.title + (r.proposal_title or "")) for r in waste)


def test_department_prefix_matches_any_name_of_the_department(index_dir, seed_reply):
    # The seed signs 福田区委统战部; its canonical name is 中共深圳市福田区委统一战线工作部.
    for q in ("department:福田区委统战部", "department:统一战线工作部", "department:统战部"):
        assert seed_reply.id in {h.id for h in open_index(index_dir).search(q).hits}, q


def test_fields_combine_with_words_and_operators(index_dir):
    both = open_index(index_dir).search("year:2023 加装电梯").total
    assert 0 < both < open_index(index_dir).search("加装电梯").total + open_index(index_dir).search("year:2023").total
    year_total = open_index(index_dir).search("year:2023").total
    assert open_index(index_dir).search("year:2023 -加装电梯").total == year_total - both


def test_proximity_counts_words(index_dir):
    near = open_index(index_dir).search('"养老 托育"~10').total
    anywhere = open_index(index_dir).search("养老 托育").total
    assert 0 < near <= anywhere


def test_same_sentence_and_paragraph(index_dir, replies):
    sentence = open_index(index_dir).search("同句(港澳 青年)", per_page=100)
    paragraph = open_index(index_dir).search("同段(港澳 青年)", per_page=100)
    anywhere = open_index(index_dir).search("港澳 青年", per_page=100)
    assert 0 < sentence.total <= paragraph.total <= anywhere.total
    by_id = {r.id: r for r in replies}
    for hit in sentence.hits:
        assert any("港澳" in s and "青年" in s for s in by_id[hit.id].body.replace("。", "。\n").split("\n"))


def test_in_one_scope():
    from reply_archive.indexer.query import ScopeFilter

    body = "一是加强养老服务。二是发展托育。\n\n下一段提到养老和托育。"
    assert not in_one_scope("一是加强养老服务。二是发展托育。", ScopeFilter("sentence", ("养老", "托育")))
    assert in_one_scope(body, ScopeFilter("sentence", ("养老", "托育")))
    assert in_one_scope("养老服务。发展托育。", ScopeFilter("paragraph", ("养老", "托育")))


def test_synonyms_expand_words_both_ways():
    table = synonyms()
    assert ("深圳", "香港") in table["深港"]
    assert ("发展和改革委员会",) in table["发改委"] and ("发改委",) in table["发展和改革委员会"]
    parsed = parse_query("发改委")
    assert "发展和改革委员会" in parsed.terms


def test_exact_and_word_counts_are_reported(index_dir):
    info = open_index(index_dir).search("会办单位").query
    assert info.word_count >= info.exact_count >= 1
    assert open_index(index_dir).search('"会办单位"').query.exact_count is None  # no words to compare


@pytest.mark.parametrize("q, notice", [
    ('"未闭合', "引号不成对"),
    ("同句(养老 托育", "括号未闭合"),
    ("养老)", "多余的右括号"),
    ("养老 OR", "OR 后缺少"),
    ("养老 NOT", "NOT 后缺少"),
    ("colour:red", "未知字段"),
    ("year:二〇二二", "year: 需写作"),
    ("year:1000-3000", "年份范围过大"),
    ("字" * 600, "检索式过长"),
    (" ".join(f"词{i}" for i in range(100)), "超过 64 个"),
])
def test_broken_syntax_runs_as_plain_words_with_a_notice(index_dir, q, notice):
    results = open_index(index_dir).search(q)
    assert notice in (results.query.notice or "")


def test_only_exclusions_means_everything_else(index_dir, replies):
    with_word = open_index(index_dir).search("养老").total
    assert open_index(index_dir).search("NOT 养老").total == len(replies) - with_word
    assert open_index(index_dir).search("-养老").total == len(replies) - with_word


def test_operators_are_case_sensitive_words_otherwise(index_dir):
    assert parse_query("养老 or 托育").segmented == ("养老", "or", "托育")


def test_deeply_nested_parentheses_are_bounded(index_dir):
    results = open_index(index_dir).search("(" * 300 + "养老" + ")" * 300)
    assert "嵌套超过" in results.query.notice
    assert results.total == open_index(index_dir).search("养老").total
    assert open_index(index_dir).search("同句(" * 100 + "养老").query.notice
    assert open_index(index_dir).search("NOT " * 120 + "养老") is not None


def test_a_proximity_group_is_capped_in_words_and_distance_and_says_so():
    words = " ".join(["的", "是", "在", "工作", "推进", "加强", "建设", "服务", "发展", "提高", "完善", "落实"])
    parsed = parse_query(f'"{words}"~999')
    # 12 common words 999 apart took 31 s to match on 2,000 replies, past the time limit.
    assert sum(len(run) for run in parsed.query.runs) == MAX_NEAR_WORDS
    assert parsed.query.slop == MAX_SLOP
    assert f"最多 {MAX_NEAR_WORDS} 个词" in parsed.notice and f"已按 {MAX_SLOP} 检索" in parsed.notice
    assert parse_query('"养老 托育"~5').notice is None  # within the limits: nothing said
