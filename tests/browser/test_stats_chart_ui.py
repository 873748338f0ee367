"""The result-category chart on a phone: its labels readable, unmarked last, N per department."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_the_result_chart_reads_at_11_px_on_a_390_px_screen(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/stats")
    chart = page.locator("svg.chart.stacked")
    chart.scroll_into_view_if_needed()
    # The size a text is drawn at: its font size in the chart's units, times the chart's scale.
    sizes = chart.evaluate(
        "svg => [...svg.querySelectorAll('text')].map("
        "t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"
    )
    assert sizes and min(sizes) >= 11, sizes
    legend = chart.locator("text.label").all_text_contents()[:5]
    assert legend == ["A类", "B类", "C类", "D类", "未标注"]
    totals = chart.locator("text.total").all_text_contents()
    assert totals and all(t.startswith("共 ") and t.endswith(" 件") for t in totals)
    box = chart.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "stats-results-phone")
