"""The research interface in a real browser: facets, URLs, exports, citations, charts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def total(page) -> int:
    return int(page.locator(".results-summary strong").inner_text())


def facet_link(page, facet, value):
    return page.locator(f'.facet a[data-facet="{facet}"][data-value="{value}"]')


def test_multi_select_within_a_facet_ors_and_across_facets_ands(page, live_server, replies):
    page.goto(live_server + "/search")
    count_2023 = int(facet_link(page, "year", "2023").locator(".count").inner_text())
    count_2022 = int(facet_link(page, "year", "2022").locator(".count").inner_text())
    facet_link(page, "year", "2023").click()
    page.wait_for_url(re.compile(r"year=2023"))
    assert total(page) == count_2023
    # The year facet ignores its own selection, so 2022 still shows its full count.
    assert int(facet_link(page, "year", "2022").locator(".count").inner_text()) == count_2022
    facet_link(page, "year", "2022").click()
    page.wait_for_url(re.compile(r"year=2023.*year=2022|year=2022.*year=2023"))
    assert total(page) == count_2023 + count_2022
    topic = page.locator('.facet a[data-facet="topic"]').first
    topic_count = int(topic.locator(".count").inner_text())
    topic.click()
    page.wait_for_url(re.compile(r"topic="))
    assert total(page) == topic_count
    screenshot(page, "search-multiselect")

    # The URL holds the whole state: open it in a fresh tab, and walk back through it.
    fresh = page.context.new_page()
    fresh.goto(page.url)
    assert total(fresh) == topic_count
    fresh.close()
    page.go_back()
    page.wait_for_url(re.compile(r"year=2023.*year=2022|year=2022.*year=2023"))
    assert total(page) == count_2023 + count_2022
    page.locator(".chip", has_text="年度：2022").click()
    page.wait_for_url(lambda u: "2022" not in u)
    assert total(page) == count_2023


def test_facet_search_in_a_list_of_500_departments(page, large_server):
    page.goto(large_server + "/search")
    assert page.locator('.facet a[data-facet="department"]').count() == 8
    page.get_by_role("link", name=re.compile("全部 500 项")).click()
    page.wait_for_url(re.compile(r"/facets/department"))
    assert page.locator("#facet-values li:visible").count() == 500
    page.get_by_label("在承办单位中查找").fill("桃源区")
    assert page.locator("#facet-values li:visible").count() == 20  # filtered as you type
    screenshot(page, "facet-department")
    page.get_by_role("link", name=re.compile("桃源区医疗保障局")).click()
    page.wait_for_url(re.compile(r"/search\?.*department="))
    assert total(page) == 1
    assert page.locator(".chip", has_text="桃源区医疗保障局").is_visible()


def test_export_downloads_utf8_with_bom(page, live_server, replies):
    page.goto(live_server + "/search?q=收悉")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"编号","标题"') and len(lines) == 1 + sum(1 for r in replies if "收悉" in r.body)


def test_copy_a_paragraph_with_its_citation(page, live_server, seed_reply):
    page.goto(live_server + f"/replies/{seed_reply.id}?q=深港")
    assert page.locator("mark").count() > 0
    page.get_by_role("button", name="下一处").click()
    assert page.locator("mark.current").count() == 1
    paragraph = page.locator(".document p#p-2")
    paragraph.hover()
    paragraph.get_by_role("button").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("根据深圳市福田区政协六届二次会议")
    title = "关于深圳市福田区政协六届二次会议第20220030号提案的办理意见"
    assert f"（引自：中共深圳市福田区委统一战线工作部. {title}[A/OL]. " in copied
    assert "[A/OL]. (2022-09-23)[" in copied and copied.rstrip("）").endswith(f"/replies/{seed_reply.id}#p-2")
    screenshot(page, "reply-marked")


def test_statistics_charts_render(page, live_server, replies):
    page.goto(live_server + "/stats")
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    years = {r.year for r in replies if r.year}
    assert charts.nth(0).locator("rect").count() == len(years)
    assert all(charts.nth(i).bounding_box()["height"] > 40 for i in range(4))
    screenshot(page, "stats")
    page.goto(live_server + "/commitments")
    assert page.locator(".commitment-list > li").count() > 0
    screenshot(page, "commitments")


def test_pages_fit_a_phone(page, live_server, seed_reply):
    page.set_viewport_size({"width": 390, "height": 844})
    for name, url in (("home-phone", "/"), ("stats-phone", "/stats"), ("reply-phone", f"/replies/{seed_reply.id}")):
        page.goto(live_server + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        screenshot(page, name)


def test_keyboard_reaches_search_and_facets(page, live_server):
    page.goto(live_server + "/search?q=收悉")
    page.keyboard.press("Tab")  # the skip links come first
    assert page.evaluate("document.activeElement.textContent") == "跳到检索结果"
    page.locator("#q-top").focus()
    page.keyboard.type("养老")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=%E5%85%BB%E8%80%81"))
    assert total(page) >= 1


def test_review_page_leads_from_a_flag_to_the_record_and_its_file(page, live_server, replies, archive_dir):
    flagged = [r for r in replies if "date_unmarked" in r.review_flags]
    assert flagged, "the samples hold a reply whose date lost its 年月日"
    page.goto(live_server + "/search")
    page.get_by_role("navigation", name="栏目").get_by_role("link", name="待核对").click()
    page.wait_for_url(re.compile(r"/review"))
    page.locator(".review-kinds").get_by_role("link", name="日期缺年月日字样").click()
    page.wait_for_url(re.compile(r"/review\?.*review=date_unmarked"))
    items = page.locator(".review-list > li")
    assert items.count() == len(flagged)
    assert f"{archive_dir / flagged[0].id}.md" in items.first.inner_text()
    screenshot(page, "review")
    items.first.get_by_role("link", name=flagged[0].title).click()
    page.wait_for_url(re.compile(rf"/replies/{flagged[0].id}"))
    assert page.get_by_text("缺年、月、日字样").is_visible()


def test_a_reply_opened_from_results_keeps_the_search_and_steps_through_it(page, live_server):
    page.goto(live_server + "/search?q=答复&per_page=2&sort=newest")
    page.get_by_role("link", name="下一页").click()  # the second page of results
    page.wait_for_url(re.compile(r"page=2"))
    searched = total(page)
    titles = page.locator(".hit h2 a").all_inner_texts()
    page.locator(".hit h2 a").first.click()  # the third hit
    page.wait_for_url(re.compile(r"/replies/.*at=3"))
    assert page.locator("h1").inner_text() == titles[0]
    page.get_by_role("link", name="下一条").click()
    page.wait_for_url(re.compile(r"at=4"))
    assert page.locator("h1").inner_text() == titles[1]
    page.get_by_role("link", name="上一条").click()
    page.wait_for_url(re.compile(r"at=3"))
    screenshot(page, "reply-from-results")
    page.get_by_role("link", name="返回检索结果").click()
    page.wait_for_url(re.compile(r"/search\?"))
    assert "page=2" in page.url and "sort=newest" in page.url and "per_page=2" in page.url
    assert total(page) == searched and page.locator(".hit h2 a").all_inner_texts() == titles


def test_a_new_query_in_the_header_keeps_the_filters_until_they_are_cleared(page, live_server):
    page.goto(live_server + "/search?year=2023")
    with_filter = total(page)
    page.goto(live_server + "/stats?year=2023")  # a page with the header's box
    page.locator("#q-top").fill("答复")
    page.locator("#q-top").press("Enter")
    page.wait_for_url(re.compile(r"/search\?.*q="))
    assert "year=2023" in page.url and total(page) <= with_filter
    page.get_by_role("link", name="清除筛选").click()
    page.wait_for_url(lambda u: "year=" not in u)
    assert "q=" in page.url
