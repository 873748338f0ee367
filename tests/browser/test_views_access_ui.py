"""The statistics, commitments and review views for keyboard and phone users, as the
search page is: skip links (the search page's too), results before filters, 筛选 on a
narrow screen; and a reply opened from results searched within."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_access_ui import PHONE, tab_to

pytestmark = pytest.mark.browser

# Each view, what its first skip link says, and the first link of its results.
VIEWS = [
    ("/stats?q=养老", "跳到统计结果", "#results figcaption a"),
    ("/commitments?q=养老", "跳到承诺事项", "#commitment-list h2 a"),
    ("/review", "跳到待核对答复", "#review-list h2 a"),
]
IDS = ["stats", "commitments", "review"]
# The search page's skip links work the same way (its other keyboard and phone paths
# are in test_access_ui).
SEARCH = ("/search?q=深港", "跳到检索结果", ".hit h2 a")


@pytest.mark.parametrize("url, skip, first", [SEARCH, *VIEWS], ids=["search", *IDS])
def test_skip_links_lead_to_the_results_and_to_the_filters(page, live_server, url, skip, first):
    page.goto(live_server + url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == skip
    assert page.locator(".skip:focus").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到筛选"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # the results
    page.keyboard.press("Tab")
    assert page.locator(first).first.evaluate("e => e === document.activeElement")

    page.goto(live_server + url)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # 跳到筛选
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#facets') !== null")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["wide", "phone"])
@pytest.mark.parametrize("url, skip, first", VIEWS, ids=IDS)
def test_the_results_come_before_the_filters_in_tab_order(page, live_server, viewport, url, skip, first):
    page.set_viewport_size(viewport)
    page.goto(live_server + url)
    page.locator("#q-top").focus()
    passed = tab_to(page, page.locator(first).first, 12)
    # On the way from the search box: its button (and the link that clears the state),
    # 筛选 on a phone, then nothing but the results.
    inside = page.evaluate("document.activeElement.closest('#results') !== null")
    assert inside and not any("#facets" in step for step in passed), passed
    texts = [step.split(": ", 1)[1] for step in passed]
    assert texts[0] == "检索" and (("筛选" in texts) == (viewport == PHONE)), passed
    if viewport != PHONE:
        results = page.locator("#results").bounding_box()
        assert page.locator("#facets").bounding_box()["x"] >= results["x"] + results["width"]


@pytest.mark.parametrize("url, skip, first", VIEWS, ids=IDS)
def test_on_a_phone_the_filters_open_from_a_button_and_close_again(page, live_server, url, skip, first):
    page.set_viewport_size(PHONE)
    page.goto(live_server + url)
    facets = page.locator("#facets")
    toggle = page.locator("button.facets-toggle")
    assert not facets.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert facets.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.getElementById('facets').contains(document.activeElement)")
    assert facets.locator("nav.views").is_visible() and facets.locator(".facet a[data-facet]").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"{url.split('?')[0].strip('/')}-phone-filters")
    page.keyboard.press("Escape")
    assert not facets.is_visible()
    assert page.evaluate("document.activeElement.textContent") == "筛选"


def test_on_a_phone_the_commitments_filter_applies_from_the_panel(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/commitments")
    page.locator("button.facets-toggle").click()
    page.locator("#status").select_option("overdue")
    page.locator(".ledger-filter button").click()
    page.wait_for_url(re.compile(r"status=overdue"))
    assert not page.locator("#facets").is_visible()
    assert set(page.locator(".promise .badge.status").all_inner_texts()) == {"已到期"}


def test_a_reply_opened_from_results_searched_within_marks_both_and_keeps_them(page, live_server):
    page.goto(live_server + "/search?q=答复")
    page.locator("#within").fill("资金")
    page.get_by_role("button", name="结果中检索").click()
    page.wait_for_url(re.compile(r"within="))
    page.locator(".hit h2 a").first.click()
    page.wait_for_url(re.compile(r"/replies/"))
    marks = set(page.locator(".document mark").all_inner_texts())
    assert {"答复", "资金"} <= marks, marks
    assert "结果中“资金”" in page.locator(".match-nav [role=status]").inner_text()
    screenshot(page, "reply-within-marked")
    page.get_by_role("link", name="下一条").click()
    page.wait_for_url(re.compile(r"at=2"))
    assert parse_qs(urlsplit(page.url).query)["within"] == ["资金"]
    assert "资金" in page.locator(".document mark").all_inner_texts()
    page.get_by_role("link", name="上一条").click()
    page.wait_for_url(re.compile(r"at=1"))
    assert parse_qs(urlsplit(page.url).query)["within"] == ["资金"]
    page.get_by_role("link", name="返回检索结果").click()
    assert page.locator(".chip.within").inner_text().startswith("结果中：资金")
