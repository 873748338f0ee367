"""Phone, keyboard, copying and permalinks in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


# What has the focus, as "tag#id.class: text".
FOCUSED = """() => {
  const e = document.activeElement;
  return `${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${e.textContent.trim().slice(0, 30)}`;
}"""


def tab_to(page, locator, most: int) -> list[str]:
    """Press Tab until the locator's element has the focus; return what was focused on the way."""
    passed = []
    for _ in range(most):
        page.keyboard.press("Tab")
        if locator.evaluate("e => e === document.activeElement"):
            return passed
        passed.append(page.evaluate(FOCUSED))
    raise AssertionError(f"not focused within {most} Tabs; focused on the way: {passed}")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["wide", "phone"])
def test_the_first_result_is_a_few_tabs_from_the_search_boxes(page, live_server, viewport):
    page.set_viewport_size(viewport)
    page.goto(live_server + "/search?q=深港")
    first = page.locator(".hit h2 a").first
    # From the page's search box, only the box's own button and 筛选 (on a phone) lie
    # before the results: searching within them follows them, with the facets.
    page.locator("#q-top").focus()
    passed = tab_to(page, first, 3)
    expected = ["检索", *(["筛选"] if viewport == PHONE else [])]
    assert [step.split(": ", 1)[1] for step in passed] == expected, passed
    assert page.evaluate("document.getElementById('facets').contains(document.getElementById('within'))")


def test_on_a_phone_the_facets_open_from_a_button_and_close_again(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/search?q=深港")
    facets = page.locator("#facets")
    toggle = page.get_by_role("button", name="筛选")
    assert not facets.is_visible()
    heading = page.locator("#results-heading").bounding_box()
    box = toggle.bounding_box()
    assert abs(box["y"] - heading["y"]) < 60  # beside the results heading
    assert toggle.get_attribute("aria-expanded") == "false"
    assert toggle.get_attribute("aria-controls") == "facets"

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert facets.is_visible()
    assert page.evaluate("document.getElementById('facets').contains(document.activeElement)")
    first_value = facets.locator(".facet a[data-facet]").first
    # On screen at once, not below the results.
    assert first_value.is_visible() and first_value.bounding_box()["y"] < PHONE["height"]
    year = facets.locator('.facet a[data-facet="year"]').first
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "search-phone-facets")

    page.keyboard.press("Escape")
    assert not facets.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.textContent") == "筛选"

    page.keyboard.press("Enter")  # the button has the focus again
    assert facets.is_visible()
    facets.get_by_role("button", name="关闭").click()
    assert not facets.is_visible()
    assert page.evaluate("document.activeElement.textContent") == "筛选"

    toggle.click()
    year.click()  # a facet chosen in the panel applies and shows the results
    page.wait_for_url(re.compile(r"year="))
    assert page.locator(".hit").first.is_visible()
    assert not page.locator("#facets").is_visible()


def test_on_a_phone_the_skip_link_to_the_facets_opens_them(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/search?q=深港")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # 跳到筛选
    assert page.locator("#facets").is_visible()
    assert page.get_by_role("button", name="筛选").get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert not page.locator("#facets").is_visible()


def test_on_a_phone_without_the_script_the_facets_are_a_link_away(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/search?q=深港")
        assert not page.locator("#facets").is_visible()
        page.get_by_role("link", name="筛选", exact=True).click()
        assert page.url.endswith("#facets")
        assert page.locator('#facets .facet a[data-facet="year"]').first.is_visible()
        page.locator("#facets").get_by_role("link", name="关闭").click()
        assert not page.locator("#facets").is_visible()
    finally:
        context.close()


def test_wide_screens_show_the_facets_beside_the_results(page, live_server):
    page.goto(live_server + "/search?q=深港")
    results = page.locator("#results").bounding_box()
    facets = page.locator("#facets").bounding_box()
    assert facets["x"] >= results["x"] + results["width"]  # read after the results, as tabbed
    assert not page.locator(".facets-toggle").is_visible()
    assert not page.locator("#facets .panel-bar").is_visible()
    assert page.get_by_role("link", name="CSV").is_visible() and page.locator("#sort").is_visible()


def test_chart_labels_stay_readable_on_a_phone(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/stats")
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll("svg.chart text"), (t) => {
        const svg = t.ownerSVGElement;
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return parseFloat(getComputedStyle(t).fontSize) * scale;
    })""")
    assert sizes and min(sizes) >= 11, min(sizes)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# Select from the last `tail` characters of the first of two adjacent body paragraphs to
# the first `head` characters of the second; return both paragraphs' texts.
SELECT = """([tail, head]) => {
  const first = Array.from(document.querySelectorAll(".document > p[id^='p-']"))
    .find((p) => p.nextElementSibling && p.nextElementSibling.matches("p[id^='p-']:not(.signature)"));
  const [one, two] = [first.firstChild, first.nextElementSibling.firstChild];
  const range = document.createRange();
  range.setStart(one, one.length - tail);
  range.setEnd(two, head);
  document.getSelection().removeAllRanges();
  document.getSelection().addRange(range);
  return [one.data, two.data];
}"""


def copy_selection(page, tail: int, head: int) -> tuple[str, str, str]:
    """Select across two paragraphs, copy as a user does; return the clipboard and the paragraphs."""
    one, two = page.evaluate(SELECT, [tail, head])
    page.keyboard.press("Control+C")
    return page.evaluate("navigator.clipboard.readText()"), one, two


def test_copying_a_selection_leaves_the_buttons_out(page, live_server, seed_reply):
    page.goto(live_server + f"/replies/{seed_reply.id}")
    document = page.locator(".document")
    body = document.locator(":scope > p[id^='p-']:not(.signature)")
    assert document.locator("button.copy").count() == body.count() > 2
    assert document.locator("p.signature button, h2 button, h3 button").count() == 0

    # Across two paragraphs, with the button of the first inside the selection.
    copied, one, two = copy_selection(page, 12, 6)
    assert "复制" not in copied
    assert copied == f"{one[-12:]}\n\n{two[:6]}"

    # The end of one paragraph, copied by hand, is found again by a quoted search.
    copied, one, _ = copy_selection(page, 12, 0)
    assert copied == one[-12:]
    page.goto(f"{live_server}/search?q=%22{copied}%22")
    assert page.get_by_role("link", name=seed_reply.title).is_visible()


def test_a_copy_button_copies_only_its_paragraph(page, live_server, seed_reply):
    page.goto(live_server + f"/replies/{seed_reply.id}")
    paragraph = page.locator(".document #p-3")
    paragraph.hover()
    paragraph.get_by_role("button", name="复制本段并附引用信息").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    text, citation = copied.split("\n（引自：")
    assert text == paragraph.evaluate("e => e.firstChild.data").strip()
    assert citation.endswith(f"/replies/{seed_reply.id}#p-3）")


def target_style(page, anchor: str) -> dict[str, str]:
    return page.locator(f"#{anchor}").evaluate(
        "e => ({border: getComputedStyle(e).borderLeftWidth, background: getComputedStyle(e).backgroundColor,"
        " target: e.matches(':target')})"
    )


def test_a_permalink_highlights_its_paragraph(page, live_server, seed_reply):
    page.goto(live_server + f"/replies/{seed_reply.id}#p-4")
    style = target_style(page, "p-4")
    assert style["target"] and style["border"] == "5px" and style["background"] != "rgba(0, 0, 0, 0)"
    assert target_style(page, "p-3")["border"] == "0px"
    assert page.locator("#p-4").is_visible()
    screenshot(page, "reply-permalink")

    # In-page navigation moves the mark.
    page.evaluate("window.location.hash = '#p-5'")
    assert target_style(page, "p-5")["border"] == "5px" and target_style(page, "p-4")["border"] == "0px"


def test_a_paragraph_linked_from_a_search_is_highlighted_on_a_phone(page, live_server, seed_reply):
    page.set_viewport_size(PHONE)
    page.goto(live_server + f"/replies/{seed_reply.id}?q=深港&at=1#p-2")
    assert page.locator("mark").count() > 0
    style = target_style(page, "p-2")
    assert style["target"] and style["border"] == "5px"
    top = page.locator("#p-2").bounding_box()["y"]
    assert 0 <= top < PHONE["height"] / 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "reply-permalink-phone")
