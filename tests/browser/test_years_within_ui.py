"""Years and searches within the results in a real browser: the range form, the
histogram, and 结果中检索 with its chips, kept on the way to a reply and back."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import ARTIFACTS, screenshot

pytestmark = pytest.mark.browser


def total(page) -> int:
    return int(page.locator(".results-summary strong").inner_text())


def year_count(page, year: int) -> int:
    return int(page.locator(f'.facet a[data-facet="year"][data-value="{year}"] .count').inner_text())


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_choose_a_range_of_years_then_narrow_to_one_inside(page, live_server):
    page.goto(live_server + "/search?q=答复")
    counts = {year: year_count(page, year) for year in (2021, 2022, 2023)}
    page.select_option("#year_from", "2021")
    page.select_option("#year_to", "2023")
    page.get_by_role("button", name="选定").click()
    page.wait_for_url(re.compile(r"year=2021-2023"))
    assert query(page) == {"q": ["答复"], "year": ["2021-2023"]}
    # The form shows the range chosen, not the first and last years.
    assert page.input_value("#year_from") == "2021" and page.input_value("#year_to") == "2023"
    assert total(page) == sum(counts.values())
    assert page.locator(".chip:not(.clear)").all_inner_texts() == ["年度：2021-2023 ×"]
    assert page.locator(".histogram rect.on").count() == 3 and page.locator(".histogram rect.chosen").count() == 1
    screenshot(page, "years-range-chosen")

    # A year inside the range is marked selected; clicking it narrows to it: one chip.
    inside = page.locator('.facet a[data-facet="year"][data-value="2022"]')
    assert inside.get_attribute("aria-current") == "true"
    inside.click()
    page.wait_for_url(lambda url: "2021-2023" not in url)
    assert query(page) == {"q": ["答复"], "year": ["2022"]}
    assert page.locator(".chip:not(.clear)").all_inner_texts() == ["年度：2022 ×"]
    assert total(page) == counts[2022]
    assert page.input_value("#year_from") == "2022" and page.input_value("#year_to") == "2022"


def test_the_histogram_labels_every_year_and_leaves_gaps(page, live_server):
    page.goto(live_server + "/search?q=养老")
    histogram = page.locator(".histogram")
    assert histogram.locator("text.year-label").all_text_contents() == ["2020", "2021", "2022", "2023", "2024"]
    assert "2021年 0 件" in (histogram.get_attribute("aria-label") or "")
    bars = {year: histogram.locator(f'a[data-year="{year}"] rect').bounding_box() for year in (2020, 2022, 2024)}
    assert histogram.locator("a[data-year]").count() == 3  # none for 2021 and 2023
    labels = {
        year: histogram.locator("text.year-label", has_text=str(year)).bounding_box() for year in range(2020, 2025)
    }
    boxes = [box for box in (*bars.values(), *labels.values()) if box]
    assert len(boxes) == 8
    # Bars stand by their years: two slots between each, the empty year's label between.
    assert bars[2022]["x"] - bars[2020]["x"] == pytest.approx(bars[2024]["x"] - bars[2022]["x"], abs=0.5)
    assert bars[2020]["x"] < labels[2021]["x"] < bars[2022]["x"]
    assert labels[2020]["y"] > bars[2020]["y"] + bars[2020]["height"] - 1  # labels under the bars
    ARTIFACTS.mkdir(exist_ok=True)
    histogram.screenshot(path=str(ARTIFACTS / "years-histogram.png"))

    histogram.locator('a[data-year="2022"]').click()
    page.wait_for_url(re.compile(r"year=2022"))
    assert total(page) == 1
    assert page.locator('.histogram a[data-year="2022"] rect.on').count() == 1


def test_search_within_the_results_with_chips_kept_through_a_reply(page, live_server):
    page.goto(live_server + "/search?q=答复&year=2021-2023&sort=newest")
    everything = total(page)
    page.get_by_label("在结果中再检索的词语").fill("资金")
    page.get_by_role("button", name="结果中检索").click()
    page.wait_for_url(re.compile(r"within="))
    assert query(page) == {"q": ["答复"], "sort": ["newest"], "year": ["2021-2023"], "within": ["资金"]}
    with_word = total(page)
    assert 0 < with_word < everything
    page.get_by_label("在结果中再检索的词语").fill('"现答复如下"')
    page.get_by_role("button", name="结果中检索").click()
    page.wait_for_url(lambda url: len(query(page).get("within", [])) == 2)
    assert page.locator(".chip.within").all_inner_texts() == ["结果中：资金 ×", '结果中："现答复如下" ×']
    both = total(page)
    assert 0 < both <= with_word
    assert page.locator(".hits mark").count() > 0
    screenshot(page, "search-within-chips")

    # Open a reply and come back: the whole state is kept.
    before = query(page)
    page.locator(".hit h2 a").first.click()
    page.wait_for_url(re.compile(r"/replies/"))
    assert {k: v for k, v in query(page).items() if k != "at"} == before
    page.get_by_role("link", name="返回检索结果").click()
    page.wait_for_url(re.compile(r"/search\?"))
    assert query(page) == before and total(page) == both

    # Removing a chip removes that part only; the count comes back.
    page.get_by_role("link", name="移除结果中检索 资金").click()
    page.wait_for_url(lambda url: "资金" not in query(page).get("within", ["资金"]))
    assert query(page)["within"] == ['"现答复如下"'] and query(page)["q"] == ["答复"]
    assert total(page) >= both
    page.get_by_role("link", name='移除结果中检索 "现答复如下"').click()
    page.wait_for_url(lambda url: "within" not in query(page))
    assert total(page) == everything and query(page) == {"q": ["答复"], "sort": ["newest"], "year": ["2021-2023"]}
