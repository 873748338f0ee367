"""Precedents and reuse: the earlier passages that say what a pasted text says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.analysis import fold
from reply_archive.indexer.backend import Deadline, Request
from reply_archive.indexer.build import build_index
from reply_archive.indexer.errors import QueryError, UnknownReply
from reply_archive.indexer.plan import Everything
from reply_archive.indexer.precedents import (
    MAX_PASTE_CHARS,
    REUSE_SHOWN,
    SAME_SHOWN,
    grams,
    pasted_paragraphs,
    reply_paragraphs,
    shared_html,
    word_diff,
)
from reply_archive.indexer.search import ReplyIndex
from reply_archive.web import create_app
from reply_archive.web.render import reply_html
from tests.conftest import open_index

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "replies"

# Two replies of our own: the later one says a paragraph of the earlier one again
# (word for word), and another in other words.
EARLIER = """关于市政协十二届一次会议第0301号提案的答复
林远委员：
您提出的《关于扶持社区养老机构发展的提案》收悉。经认真研究，现答复如下：
一、运营补贴
我局对社区养老机构给予运营补贴，按照实际服务老年人数每人每月补助二百元，二〇二二年共发放补贴三百六十万元。
二、人才培养
我局联合市人力资源和社会保障局开展养老护理员职业技能培训，全年培训护理人员一千二百人次，并落实入职奖补政策。
感谢您对养老服务工作的关心和支持。
青溪市民政局
2022年6月30日
"""
LATER = """关于市政协十二届二次会议第0415号提案的答复
周岚委员：
您提出的《关于完善居家养老服务的提案》收悉。经认真研究，现答复如下：
一、关于运营扶持
我局对社区养老机构给予运营补贴，按照实际服务老年人数每人每月补助二百元，二〇二二年共发放补贴三百六十万元。
二、关于下一步工作
下一步，我局将推动居家养老服务中心向街道全覆盖，新建助餐点四十个，让老年人就近享受助餐服务。
感谢您对养老服务工作的关心和支持。
青溪市民政局
2023年7月15日
"""
RECYCLED = "我局对社区养老机构给予运营补贴，按照实际服务老年人数每人每月补助二百元，二〇二二年共发放补贴三百六十万元。"


@pytest.fixture(scope="module")
def recycling(tmp_path_factory) -> ReplyIndex:
    """Return the index of the sample archive with the two replies above."""
    root = tmp_path_factory.mktemp("recycling")
    for name, text in (("earlier.txt", EARLIER), ("later.txt", LATER)):
        (root / name).write_text(text, encoding="utf-8")
    archive = root / "archive"
    assert ingest([data.path("samples")], archive, sample=True).ok
    assert ingest([root / "earlier.txt", root / "later.txt"], archive).ok
    build_index(list(iter_replies(archive)), root / "index")
    index = ReplyIndex(root / "index")
    yield index
    index.close()


def ids_by_title(index: ReplyIndex, fragment: str) -> str:
    (hit,) = [h for h in index.export("") if fragment in h.title]
    return hit.id


def test_a_passage_number_is_the_paragraph_the_reply_page_anchors_by_it(tmp_path):
    """The number a precedent cites, read from the stored reply, is the ``#p-N`` of
    the same paragraph on the reply page, for every fixture reply (tables, lists,
    contact lines, traditional script)."""
    archive = tmp_path / "archive"
    assert ingest(sorted(FIXTURES.glob("*.txt")), archive).ok
    replies = {r.id: r for r in iter_replies(archive)}
    build_index(list(replies.values()), tmp_path / "index")
    index = ReplyIndex(tmp_path / "index")
    checked = 0
    with index.backend.reader() as reader:
        selection = reader.select(Request(Everything()), Deadline(30))
        for doc in reader.documents(selection):
            html, _ = reply_html(replies[doc.display["id"]])
            anchored = dict(re.findall(r'<\w+ id="p-(\d+)"[^>]*>(.*?)</\w+>', str(html), re.S))
            for paragraph in reply_paragraphs(doc):
                if "|" in paragraph.text:  # a table: its cells, not its text, are shown
                    continue
                shown = re.sub(r"<[^>]+>", "", anchored[str(paragraph.number)])
                assert fold(shown)[:12] == fold(paragraph.text)[:12], (doc.display["id"], paragraph.number)
                checked += 1
    index.close()
    assert checked > 200


def test_a_paragraph_pasted_word_for_word_finds_itself_first(recycling):
    found = recycling.precedents(RECYCLED).pieces
    assert len(found) == 1
    first, *others = found[0].passages
    # Said in both replies: one precedent, the older reply's, naming the later one.
    assert first.score == 1.0 and first.hit.id == ids_by_title(recycling, "0301")
    assert [(hit.id, number) for hit, number in first.same] == [(ids_by_title(recycling, "0415"), first.paragraph)]
    assert first.same_count == 1 and all(fold(p.text) != fold(RECYCLED) for p in others)
    assert first.section.endswith("运营补贴")
    assert first.hit.proposal_title and first.diff == RECYCLED  # nothing differs
    assert first.to_dict()["same"][0]["reply_id"] == ids_by_title(recycling, "0415")


def test_a_paraphrase_finds_its_passage(recycling):
    """Clauses swapped, a word replaced by a synonym (补贴 → 补助), a clause dropped."""
    paraphrase = "按照实际服务老年人数每人每月补助二百元，我局对社区养老机构给予运营补助。"
    passages = recycling.precedents(paraphrase).pieces[0].passages
    assert passages and passages[0].text == RECYCLED
    assert 0.5 < passages[0].score < 1.0
    assert "<del>" in (passages[0].diff or "") or "<ins>" in (passages[0].diff or "")
    assert "<mark>" in passages[0].html


def test_a_draft_is_matched_paragraph_by_paragraph_and_filters_apply(recycling):
    draft = "一、关于护理人员\n开展养老护理员职业技能培训，全年培训护理人员一千二百人次。\n\n" + RECYCLED
    pieces = recycling.precedents(draft).pieces
    heading_and_first = "一、关于护理人员开展养老护理员职业技能培训，全年培训护理人员一千二百人次。"
    assert [p.text for p in pieces] == [heading_and_first, RECYCLED]
    assert "培训护理人员一千二百人次" in pieces[0].passages[0].text
    only_2023 = recycling.precedents(RECYCLED, filters={"year": ["2023"]}).pieces[0].passages
    assert only_2023 and {p.hit.year for p in only_2023} == {2023}


def test_empty_or_over_long_text_and_bad_limits_are_refused_naming_the_parameter(recycling):
    for text in ("", "  \n "):
        with pytest.raises(QueryError) as refused:
            recycling.precedents(text)
        assert refused.value.parameter == "text"
    with pytest.raises(QueryError) as refused:
        recycling.precedents("养" * (MAX_PASTE_CHARS + 1))
    assert refused.value.parameter == "text" and str(MAX_PASTE_CHARS) in str(refused.value)
    for limit in (0, "x", 51):
        with pytest.raises(QueryError) as refused:
            recycling.precedents(RECYCLED, limit=limit)
        assert refused.value.parameter == "limit"
    with pytest.raises(QueryError):
        recycling.precedents(RECYCLED, filters={"nope": ["1"]})


def test_a_paste_of_no_words_finds_nothing(recycling):
    found = recycling.precedents("！！……——《》").pieces
    assert [(p.text, p.passages) for p in found] == [("！！……——《》", ())]


def test_a_whole_paste_of_the_limit_is_answered(recycling):
    text = "\n".join([RECYCLED] * (MAX_PASTE_CHARS // (len(RECYCLED) + 1)))
    found = recycling.precedents(text)
    assert len(found.pieces) == 30 and not found.timed_out  # the rest joined to the last
    assert found.to_dict()["ok"] is True and found.to_dict()["passages"][0]["score"] == 1.0


def test_reuse_lists_the_paragraphs_an_earlier_reply_said_already(recycling):
    later, earlier = ids_by_title(recycling, "0415"), ids_by_title(recycling, "0301")
    reuse = recycling.reuse(later)
    ((number, said, count),) = reuse.paragraphs
    assert [p.hit.id for p in said] == [earlier] and said[0].text == RECYCLED and count == 1
    assert 0.3 < reuse.new_share < 0.8
    assert recycling.reuse(earlier).paragraphs == ()  # nothing earlier said it
    assert recycling.reuse(earlier).new_share == 1.0
    with pytest.raises(UnknownReply):
        recycling.reuse("no-such-reply")


def test_shared_words_are_marked_and_the_text_escaped():
    html = shared_html("<b>运营补贴</b>与助餐", grams(fold("给予运营补贴")))
    assert html == "&lt;b&gt;<mark>运营补贴</mark>&lt;/b&gt;与助餐"


def test_a_word_diff_shows_what_each_text_alone_has():
    assert word_diff("给予运营补贴", "发放运营补贴") == "<del>给予</del><ins>发放</ins>运营补贴"


def test_short_lines_of_a_paste_join_the_next():
    assert pasted_paragraphs("一、\n\n养老服务补贴标准\r\n短\n") == ["一、养老服务补贴标准短"]
    assert pasted_paragraphs("") == []


def test_the_sample_index_answers_through_the_session_index(index_dir, seed_reply):
    paragraph = max(seed_reply.paragraphs, key=len)
    found = open_index(index_dir).precedents(paragraph).pieces[0].passages[0]
    assert found.hit.id == seed_reply.id and found.score == 1.0


RECYCLING_YEARS = range(2015, 2023)


@pytest.fixture(scope="module")
def eight_years(tmp_path_factory):
    """Return the index of eight replies, a year apart, that all say EARLIER's paragraphs,
    a test client of the app over them, and the replies' dates by id."""
    root = tmp_path_factory.mktemp("eight-years")
    sources = root / "sources"
    sources.mkdir()
    for year in RECYCLING_YEARS:
        text = EARLIER.replace("0301", f"{year - 2000:04d}").replace("2022年6月30日", f"{year}年6月30日")
        (sources / f"{year}.txt").write_text(text, encoding="utf-8")
    assert ingest([sources], root / "archive").ok
    build_index(list(iter_replies(root / "archive")), root / "index")
    index = ReplyIndex(root / "index")
    app = create_app({"TESTING": True}, ARCHIVE_DIR=str(root / "archive"), INDEX_DIR=str(root / "index"))
    yield index, app.test_client(), {h.id: h.date for h in index.export("")}
    index.close()


def test_a_paragraph_said_many_times_before_lists_the_oldest_and_counts_them_all(eight_years):
    """A recycled paragraph (here in eight replies, a year apart) lists the earliest
    REUSE_SHOWN replies that said it, oldest first, and how many said it in all."""
    index, client, dates = eight_years
    latest = max(dates, key=lambda i: dates[i])
    reused = index.reuse(latest).paragraphs
    assert reused and all(count == len(RECYCLING_YEARS) - 1 for _, _, count in reused)
    for _, said, _ in reused:
        shown = [dates[p.hit.id] for p in said]
        assert len(shown) == REUSE_SHOWN and shown == sorted(dates.values())[:REUSE_SHOWN]
    page = client.get(f"/replies/{latest}").get_data(as_text=True)
    item = re.search(r'<li data-paragraph="\d+">(.*?)</li>', page, re.S)
    assert item and item.group(1).count("data-earlier>") == REUSE_SHOWN
    assert f"等 {len(RECYCLING_YEARS) - 1} 处（列出最早的 {REUSE_SHOWN} 处）" in item.group(1)


def test_a_paragraph_said_many_times_is_one_precedent_the_oldest_naming_the_others(eight_years):
    """Pasted, a paragraph recycled in eight replies is one precedent: the oldest reply's
    passage, with the SAME_SHOWN next oldest named and all seven others counted."""
    index, client, dates = eight_years
    oldest_first = sorted(dates, key=lambda i: dates[i])
    (first, *others) = index.precedents(RECYCLED).pieces[0].passages
    assert first.score == 1.0 and first.hit.id == oldest_first[0]
    assert [hit.id for hit, _ in first.same] == oldest_first[1 : 1 + SAME_SHOWN]
    assert first.same_count == len(RECYCLING_YEARS) - 1
    assert all(fold(p.text) != fold(RECYCLED) for p in others)
    page = client.post("/precedents", data={"text": RECYCLED}).get_data(as_text=True)
    same = re.search(r'<p class="meta same-text"[^>]*>(.*?)</p>', page, re.S)
    assert same and f"同一段落另见于 {len(RECYCLING_YEARS) - 1} 处" in same.group(1)
    assert same.group(1).count("<a href=") == SAME_SHOWN and f"（列出最早的 {SAME_SHOWN} 处）" in same.group(1)
    assert f'href="/replies/{oldest_first[1]}#p-{first.paragraph}"' in same.group(1)
