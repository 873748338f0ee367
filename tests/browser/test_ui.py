"""The core user journey in a real browser: search, filter by facet, read a reply."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_search_facet_and_read(page, live_server, seed_reply):
    page.goto(live_server + "/")
    page.get_by_label("检索").fill("深港")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator("mark", has_text="深港").count() > 0
    summary = page.locator(".results-summary").inner_text()
    total = int(re.search(r"共\s*(\d+)\s*件", summary).group(1))
    assert total >= 2
    screenshot(page, "search")

    year = page.locator('.facet a[data-facet="year"][data-value="2022"]')
    expected = int(year.locator(".count").inner_text())
    year.click()
    page.wait_for_url(re.compile(r"year=2022"))
    assert page.locator(".results-summary strong").inner_text() == str(expected)
    assert page.locator(".chip", has_text="年度：2022").is_visible()
    screenshot(page, "search-faceted")

    page.get_by_role("link", name=seed_reply.title).click()
    page.wait_for_url(re.compile(rf"/replies/{seed_reply.id}"))
    assert page.locator("h1").inner_text() == seed_reply.title
    assert page.locator(".document h2").count() == 3
    assert page.locator(".meta-panel").get_by_text("中共深圳市福田区委统一战线工作部").is_visible()
    screenshot(page, "reply")

    page.go_back()
    page.wait_for_url(re.compile(r"year=2022"))
    assert page.locator(".chip", has_text="年度：2022").is_visible()


def test_exact_phrase_and_phone_viewport(page, live_server, seed_reply):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + '/search?q="e站通"')
    assert page.locator("mark", has_text="e站通").first.is_visible()
    assert page.get_by_role("link", name=seed_reply.title).is_visible()
    # Nothing wider than the screen: no horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "search-phone")
