"""The commitments ledger: the promises about a query, marked, linked to their
paragraphs, filtered by target year and status, followed up, and exported."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html import escape, unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from reply_archive.indexer.errors import QueryError
from reply_archive.indexer.results import COMMITMENT_STATUSES
from reply_archive.indexer.search import commitment_status
from reply_archive.web.api import COMMITMENT_COLUMNS
from reply_archive.web.formats import FORMATS, column_label

from .conftest import open_index

TODAY = date(2024, 6, 1)  # 2021 and 2023 have passed, 2024 and 2025 have not


def every_item(ledger):
    """Return ``(reply id, item)`` for every promise of a ledger's entries."""
    return [(entry.hit.id, item) for entry in ledger for item in entry.commitments]


def test_a_query_lists_only_the_promises_that_hold_its_words(index_dir, replies):
    found = open_index(index_dir).commitments("养老", per_page=100)
    items = every_item(found.entries)
    assert items and all("养老" in item.text for _, item in items)
    # Replies the query selects whose promises are about something else are left out.
    selected = {hit.id for hit in open_index(index_dir).export("养老")}
    promising = {r.id for r in replies if r.id in selected and r.commitments}
    assert {reply_id for reply_id, _ in items} < promising
    assert "黑臭水体" not in "".join(item.text for _, item in items)
    assert (found.total, found.commitments) == (len({reply_id for reply_id, _ in items}), len(items))


def test_without_words_every_promise_of_the_selected_replies_is_listed(index_dir, replies):
    found = open_index(index_dir).commitments("", filters={"topic": ["社会建设"]}, per_page=100)
    promising = [r for r in replies if r.topic == "社会建设" and r.commitments]
    assert found.total == len(promising)
    # Nothing narrows the promises: each page is read alone and they are not counted.
    assert found.commitments is None and not found.timed_out
    assert sum(len(e.commitments) for e in found.entries) == sum(len(r.commitments) for r in promising)
    second = open_index(index_dir).commitments("", filters={"topic": ["社会建设"]}, per_page=1, page=2)
    assert [e.hit.id for e in second.entries] == [found.entries[1].hit.id]
    assert [e.hit.date for e in found.entries] == sorted((e.hit.date for e in found.entries), reverse=True)
    for entry in found.entries:
        reply = next(r for r in promising if r.id == entry.hit.id)
        assert [item.text for item in entry.commitments] == [c.text for c in reply.commitments]
        assert all(item.html == escape(item.text) for item in entry.commitments)


def test_a_department_query_lists_every_promise_of_its_replies(index_dir, replies):
    # department: says who replied, not what a promise is about: it picks replies, as
    # the department facet does, and every promise of theirs is listed, nothing marked.
    department = next(r.department for r in replies if r.commitments and r.department)
    by_prefix = open_index(index_dir).commitments(f"department:{department}", per_page=100)
    by_facet = open_index(index_dir).commitments("", filters={"department": [department]}, per_page=100)
    assert by_prefix.total == by_facet.total > 0
    assert every_item(by_prefix.entries) == every_item(by_facet.entries)
    assert "<mark>" not in "".join(item.html for _, item in every_item(by_prefix.entries))


def test_the_query_s_words_are_marked_in_escaped_html(index_dir):
    items = every_item(open_index(index_dir).commitments('"黑臭水体" 排污口').entries)
    assert items
    for _, item in items:
        assert "<mark>黑臭水体</mark>" in item.html or "<mark>排污口</mark>" in item.html
        assert re.sub(r"</?mark>", "", item.html) == escape(item.text)


def test_each_promise_knows_the_paragraph_the_reply_page_anchors_it_at(client, replies):
    promising = [r for r in replies if r.commitments]
    checked = 0
    for reply in promising:
        page = unescape(client.get(f"/replies/{reply.id}").get_data(as_text=True))
        for commitment in reply.commitments:
            assert commitment.passage is not None
            anchored = re.search(rf'<(\w+) id="p-{commitment.passage}"[^>]*>(.*?)</\1>', page, re.S)
            assert anchored, (reply.id, commitment.passage)
            assert commitment.text in re.sub(r"<[^>]+>", "", anchored.group(2))
            checked += 1
    assert checked == sum(len(r.commitments) for r in promising)


def test_a_promise_s_link_opens_its_paragraph_with_the_search_kept(client):
    page = client.get("/commitments", query_string={"q": "养老", "topic": "社会建设"}).get_data(as_text=True)
    links = re.findall(r'class="promise-text" href="([^"]+)"', page)
    assert links
    for link in map(unescape, links):
        parts = urlsplit(link)
        assert re.fullmatch(r"/replies/[0-9a-f]+", parts.path) and re.fullmatch(r"p-\d+", parts.fragment)
        assert parse_qs(parts.query) == {"q": ["养老"], "topic": ["社会建设"]}
        opened = client.get(f"{parts.path}?{parts.query}").get_data(as_text=True)
        assert f'id="{parts.fragment}"' in opened and "养老</mark>" in opened


def test_status_is_told_against_today():
    assert [commitment_status(year, TODAY) for year in (2023, 2024, 2025, None)] == [
        "overdue", "pending", "pending", "undated"
    ]
    assert set(COMMITMENT_STATUSES) == {"overdue", "pending", "undated"}


@pytest.mark.parametrize("status", COMMITMENT_STATUSES)
def test_the_status_filter_lists_only_promises_of_that_status(index_dir, status):
    index = open_index(index_dir)
    everything = every_item(index.commitments("", per_page=100, today=TODAY).entries)
    found = index.commitments("", status=status, per_page=100, today=TODAY)
    items = every_item(found.entries)
    assert items == [(reply_id, item) for reply_id, item in everything if item.status == status]
    assert found.commitments == len(items) and found.today == "2024-06-01"
    assert all(item.status == commitment_status(item.target_year, TODAY) for _, item in everything)


def test_the_target_year_filter_lists_only_promises_for_that_year(index_dir, replies):
    found = open_index(index_dir).commitments("", target_year="2024", per_page=100)
    items = every_item(found.entries)
    expected = sorted((r.id, c.text) for r in replies for c in r.commitments if c.target_year == 2024)
    assert expected and sorted((reply_id, item.text) for reply_id, item in items) == expected
    assert open_index(index_dir).commitments("", target_year=1999).total == 0


def test_a_page_lists_its_share_of_the_replies(index_dir):
    index = open_index(index_dir)
    whole = index.commitments("", per_page=100)
    first = index.commitments("", per_page=4)
    assert first.pages == -(-whole.total // 4) > 1
    pages = [index.commitments("", page=n, per_page=4) for n in range(1, first.pages + 1)]
    assert [e.hit.id for p in pages for e in p.entries] == [e.hit.id for e in whole.entries]
    assert all(p.total == whole.total and p.commitments == whole.commitments for p in pages)


def test_follow_ups_are_later_replies_of_the_department_on_the_topic_or_to_the_proposal(index_dir, replies):
    index = open_index(index_dir)
    by_id = {e.hit.id: e for e in index.commitments("", per_page=100).entries}
    early = next(r for r in replies if r.proposal_numbers == ("20200031",))
    later = next(r for r in replies if r.proposal_numbers == ("20240019",))
    assert [hit.id for hit in by_id[early.id].following] == [later.id]  # 临江区民政局, 社会建设
    co = next(r for r in replies if r.proposal_numbers == ("0087",) and r.department_role == "会办")
    lead = next(r for r in replies if r.proposal_numbers == ("0087",) and r.department_role == "主办")
    assert co.date < lead.date and co.department != lead.department
    assert [hit.id for hit in by_id[co.id].following] == [lead.id]  # the same proposal
    assert by_id[lead.id].following == ()  # nothing after it
    for entry in by_id.values():
        assert len(entry.following) <= 3
        assert all(hit.date > entry.hit.date for hit in entry.following)
    assert index.following(by_id[early.id].hit, limit=0) == ()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_export_format_writes_every_promise(client, fmt):
    response = client.get("/api/commitments", query_string={"format": fmt, "q": "课后服务", "per_page": 1})
    assert response.status_code == 200
    disposition = unquote(response.headers["Content-Disposition"])
    assert disposition.startswith("attachment;") and f"承诺事项_课后服务_{date.today().isoformat()}." in disposition
    assert disposition.endswith(f".{FORMATS[fmt].extension}") and response.mimetype == FORMATS[fmt].mimetype
    assert response.data


def test_an_export_has_one_row_per_promise_linked_to_its_paragraph(client, index_dir):
    items = every_item(open_index(index_dir).commitment_ledger("", filters={"topic": ["社会建设"]}))
    # Every promise, not one page of them.
    asked = {"topic": "社会建设", "page": 2, "per_page": 1}
    response = client.get("/api/commitments", query_string={"format": "jsonl", **asked})
    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [(row["id"], row["text"]) for row in rows] == [(reply_id, item.text) for reply_id, item in items]
    for row, (_, item) in zip(rows, items, strict=True):
        assert list(row) == list(COMMITMENT_COLUMNS)
        assert row["url"] == f"http://localhost/replies/{row['id']}#p-{item.passage}"
        assert (row["status"], row["target_year"], row["cue"]) == (item.status, item.target_year, item.cue)
        assert row["title"] and row["department"] and row["date"]
    table = client.get("/api/commitments", query_string={"format": "csv", **asked}).get_data(as_text=True)
    header, *lines = list(csv.reader(io.StringIO(table.lstrip("\ufeff"))))
    assert header == [column_label(c) for c in COMMITMENT_COLUMNS] and len(lines) == len(items)


def test_the_jsonl_export_follows_the_filters(client):
    response = client.get("/api/commitments", query_string={"format": "jsonl", "target_year": "2024"})
    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert rows and all(row["target_year"] == 2024 for row in rows)
    assert {row["status"] for row in rows} <= set(COMMITMENT_STATUSES)


def test_the_page_shows_both_counts_and_offers_the_exports(client, index_dir):
    found = open_index(index_dir).commitments("课后服务")
    page = unescape(client.get("/commitments", query_string={"q": "课后服务"}).get_data(as_text=True))
    assert f"<strong>{found.total}</strong> 件答复中的 <strong>{found.commitments}</strong> 项承诺" in page
    assert "<mark>课后服务</mark>" in page
    for fmt in ("csv", "xlsx"):
        assert (f"导出 {fmt.upper()}" in page) == (fmt in FORMATS)


def test_the_page_filters_by_status_and_keeps_the_filter_in_its_links(client):
    response = client.get("/commitments", query_string={"status": "undated", "per_page": 2})
    page = unescape(response.get_data(as_text=True))
    assert "已到期</span>" not in page and "未到期</span>" not in page and "未注明年份</span>" in page
    assert '<option value="undated" selected>' in page
    next_page = re.search(r'rel="next" href="([^"]+)"', page).group(1)
    assert "status=undated" in next_page
    export = re.search(r'href="(/api/commitments\?[^"]+)"', page).group(1)
    assert "status=undated" in export and "format=csv" in export


@pytest.mark.parametrize("params, parameter", [
    ({"status": "late"}, "status"),
    ({"target_year": "24"}, "target_year"),
    ({"target_year": "二〇二四"}, "target_year"),
    ({"format": "pdf"}, "format"),
    ({"format": "csv", "status": "late"}, "status"),
])
def test_bad_parameters_are_named_in_chinese(client, params, parameter):
    response = client.get("/api/commitments", query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter and f"参数 {parameter} 无效" in body["error"]
    if parameter != "format":  # the page has no formats to choose from
        assert client.get("/commitments", query_string=params).status_code == 400


def test_the_index_refuses_bad_filters(index_dir):
    with pytest.raises(QueryError) as raised:
        open_index(index_dir).commitment_ledger("", status="overdue ")
    assert raised.value.parameter == "status"
    with pytest.raises(QueryError) as raised:
        open_index(index_dir).commitments("", target_year="2024-2025")
    assert raised.value.parameter == "target_year"


def test_the_ledger_and_its_rows_match_the_api_document(client):
    from .test_openapi import check, validate

    check(client.get("/api/commitments", query_string={"q": "养老", "status": "overdue"}), "/api/commitments")
    rows = client.get("/api/commitments", query_string={"format": "jsonl"}).get_data(as_text=True).splitlines()
    assert rows
    for line in rows:
        validate(json.loads(line), "/components/schemas/CommitmentRow")
