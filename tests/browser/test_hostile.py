"""Hostile content in records and queries never runs, and the pages still render."""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

import pytest

from reply_archive.archive.model import Section
from reply_archive.archive.store import write_reply
from reply_archive.indexer.build import build_index
from tests.browser.conftest import serving
from tests.payloads import PAYLOADS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, seed_reply):
    """Serve records whose body, title, metadata and headings carry every payload."""
    root = tmp_path_factory.mktemp("hostile")
    replies = []
    for i, payload in enumerate(PAYLOADS):
        heading = Section(level=1, marker="一、", heading=f"关于{payload}", text="深港正文。")
        replies.append(
            dataclasses.replace(
                seed_reply,
                id=f"{i:016x}",
                title=f"深港答复{payload}",
                body=f"深港开头。\n\n{heading.heading_line}\n\n深港正文。\n\n{payload}\n\n此复。",
                sections=(heading,),
                department=f"单位{payload}",
                department_raw=f"单位{payload}",
                proposers=(f"委员{payload}",),
                proposal_title=f"提案{payload}",
                session_label=f"届次{payload}",
                topics=(f"主题{payload}",),
            )
        )
    for reply in replies:
        write_reply(reply, root / "archive")
    build_index(replies, root / "index")
    with serving(root / "archive", root / "index") as url:
        yield url, replies


def assert_nothing_ran(page):
    assert page.evaluate("window.__pwned") is None
    assert page.locator("h1").first.is_visible()


def test_payloads_in_records_never_execute(page, hostile_server):
    url, replies = hostile_server
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for reply in replies:
        page.goto(f"{url}/replies/{reply.id}?q=深港")
        assert_nothing_ran(page)
    for view in ("/search?q=深港", "/search?q=深港&per_page=100", "/stats", "/commitments", "/facets/department"):
        page.goto(url + view)
        assert_nothing_ran(page)
    assert dialogs == []


def test_payloads_in_queries_never_execute(page, hostile_server):
    url, _ = hostile_server
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for payload in PAYLOADS:
        for path in ("/search", "/stats", "/commitments"):
            page.goto(f"{url}{path}?q={quote(payload)}")
            assert_nothing_ran(page)
    assert dialogs == []
