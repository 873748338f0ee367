"""The 待核对 view: records that need a person's eye, by what to check, with the file to edit.

Built over the project's page fixtures (tests/fixtures/pages, fictional), which hold
replies with no date, no department, a made-up title or a date without 年月日.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from bench.real import PAGE_FIXTURES
from reply_archive.archive.ingest import ingest
from reply_archive.archive.model import REVIEW_KINDS, Reply, review_kind
from reply_archive.archive.store import iter_replies, record_path
from reply_archive.archive.tables import department_names
from reply_archive.indexer.build import build_index
from reply_archive.web import create_app
from reply_archive.web.cli import cli
from reply_archive.web.render import labels
from tests.conftest import open_index


@pytest.fixture(scope="module")
def pages_archive(tmp_path_factory):
    """Return (archive, index) of the page fixtures."""
    root = tmp_path_factory.mktemp("pages")
    archive, index = root / "archive", root / "index"
    assert ingest([PAGE_FIXTURES], archive).added
    build_index(list(iter_replies(archive)), index, aliases=department_names())
    return archive, index


@pytest.fixture
def review_client(pages_archive):
    archive, index = pages_archive
    return create_app({"TESTING": True, "ARCHIVE_DIR": str(archive), "INDEX_DIR": str(index)}).test_client()


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return unquote(unescape(response.get_data(as_text=True)))


def flagged_count(text: str) -> int:
    """Return the count the review page's heading states."""
    return int(re.search(r"需要人工核对的答复共 <strong>(\d+)</strong> 件", text).group(1))


def test_review_flags_are_the_warnings_that_need_a_person():
    reply = Reply(id="0" * 16, title="t", body="b",
                  warnings=("missing:department_role", "missing:date", "title_derived", "date_unmarked:2019615"))
    assert reply.review_flags == ("missing:date", "title_derived", "date_unmarked")
    assert review_kind("unknown_department:青溪市教育局") == "unknown_department"
    assert set(labels()["values"]["review"]) == set(REVIEW_KINDS)  # every kind has its Chinese label


def test_the_review_facet_counts_each_kind(pages_archive):
    archive, index = pages_archive
    replies = list(iter_replies(archive))
    counts = {v.value: v.count for f in open_index(index).search("").facets if f.name == "review" for v in f.values}
    for kind in REVIEW_KINDS:
        assert counts.get(kind, 0) == sum(kind in r.review_flags for r in replies)
    assert counts["missing:date"] >= 3 and counts["title_derived"] == 2 and counts["date_unmarked"] >= 2


def test_review_page_lists_flagged_records_with_the_file_to_edit(review_client, pages_archive):
    archive, _ = pages_archive
    text = page(review_client, "/review")
    flagged = [r for r in iter_replies(archive) if r.review_flags]
    assert flagged_count(text) == len(flagged)
    assert "标题系据内容拟定" in text and "未识别答复日期" in text
    shown = next(r for r in flagged if "title_derived" in r.review_flags)
    assert str(record_path(archive, shown.id)) in text and shown.source.file in text
    unflagged = next(r for r in iter_replies(archive) if not r.review_flags)
    assert unflagged.title not in text


def test_review_page_filters_by_kind_and_follows_the_search(review_client, pages_archive):
    archive, _ = pages_archive
    text = page(review_client, "/review?review=title_derived")
    assert flagged_count(text) == 2 and "待核对：标题系据内容拟定" in text  # the chip
    without_date = [r for r in iter_replies(archive) if "missing:date" in r.review_flags and r.channel == "npc"]
    text = page(review_client, "/review?review=missing:date&channel=npc")
    assert flagged_count(text) == len(without_date)


def test_review_view_is_reachable_from_the_other_views(review_client):
    assert 'href="/review' in page(review_client, "/search?q=答复")
    assert "当前检索范围内没有需要核对的答复" in page(review_client, "/review?q=%22没有这样的话%22")


def test_review_facet_is_in_the_api(review_client):
    body = review_client.get("/api/search?review=date_unmarked").get_json()
    assert body["ok"] and body["total"] >= 2
    assert {v["value"] for v in body["facets"]["review"]} >= {"date_unmarked", "missing:date"}


def test_ingest_prints_what_to_check(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", str(PAGE_FIXTURES), "--archive", str(tmp_path / "archive")])
    assert "to check (待核对)" in result.output
    assert "title_derived  标题系据内容拟定" in result.output
    assert "missing:date  未识别答复日期" in result.output
