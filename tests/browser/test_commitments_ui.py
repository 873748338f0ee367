"""The commitments ledger in a real browser: a query's promises, marked, each opening its
paragraph of the reply with the search kept, and the 已到期 filter."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_query_lists_only_its_promises_marked(page, live_server):
    page.goto(live_server + "/commitments?q=课后服务")
    promises = page.locator(".promise-text")
    assert promises.count() > 0
    for text in promises.all_inner_texts():
        assert "课后服务" in text
    assert page.locator(".promise-text mark").first.inner_text() == "课后服务"
    counts = page.locator(".results-summary strong").all_inner_texts()
    assert int(counts[1]) == promises.count() and int(counts[0]) == page.locator(".commitment-list > li").count()
    screenshot(page, "commitments-query")


def test_a_promise_opens_its_paragraph_with_the_search_kept(page, live_server):
    page.goto(live_server + "/commitments?q=养老")
    promise = page.locator(".promise-text").first
    text = promise.inner_text()
    promise.click()
    page.wait_for_url(re.compile(r"/replies/[0-9a-f]+\?q=.+#p-\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    paragraph = page.locator(f'[id="{anchor}"]')
    assert text in paragraph.inner_text()
    assert paragraph.locator("mark").first.inner_text() == "养老"
    top = paragraph.evaluate("element => element.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"]  # scrolled to it
    screenshot(page, "commitments-paragraph")


def test_the_overdue_filter_lists_promises_whose_year_has_passed(page, live_server):
    page.goto(live_server + "/commitments")
    everything = page.locator(".promise").count()
    page.locator("#status").select_option("overdue")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(re.compile(r"status=overdue"))
    years = page.locator(".promise .badge.target").all_inner_texts()
    assert 0 < page.locator(".promise").count() < everything
    assert len(years) == page.locator(".promise").count()
    assert all(int(year.removesuffix("年")) < date.today().year for year in years)
    assert set(page.locator(".promise .badge.status").all_inner_texts()) == {"已到期"}
    screenshot(page, "commitments-overdue")
