"""A scanned reply in a real browser: each page's image beside the text on a wide screen,
below it on a phone, and the 待核对 view's link opening the page to check."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, serving
from tests.test_page_images import scanned_archive

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def scans_server(tmp_path_factory):
    """Serve an archive holding the seed reply, a scanned PDF and a two-page scanned TIFF."""
    archive, index, records = scanned_archive(tmp_path_factory.mktemp("scans-ui"))
    with serving(archive, index) as url:
        yield url, records


def loaded(page, selector: str) -> None:
    """Wait until the image has arrived and decoded."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }", arg=selector
    )


def test_the_page_images_stand_beside_the_text_on_a_wide_screen(page, scans_server):
    url, records = scans_server
    page.goto(f"{url}/replies/{records['pdf'].id}")
    assert page.get_by_text(re.compile(r"识别方式：OCR（rapidocr-onnxruntime [\d.]+）")).is_visible()
    image = page.get_by_role("img", name="第1页原件扫描图")
    assert image.get_attribute("loading") == "lazy"
    loaded(page, "#page-1 img")
    text, picture = page.locator(".document").bounding_box(), image.bounding_box()
    assert picture["x"] >= text["x"] + text["width"]  # to the right of the text
    assert picture["y"] < text["y"] + text["height"] and text["y"] < picture["y"] + picture["height"]  # at its height
    assert picture["width"] >= 400
    screenshot(page, "scan-reply-wide")


def test_on_a_phone_the_page_images_follow_the_text(browser, scans_server):
    url, records = scans_server
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(f"{url}/replies/{records['tif'].id}")
        for number in (1, 2):  # measured once their images are in (they load lazily)
            page.locator(f"#page-{number}").scroll_into_view_if_needed()
            loaded(page, f"#page-{number} img")
        text = page.locator(".document").bounding_box()
        first = page.locator("#page-1").bounding_box()
        second = page.locator("#page-2").bounding_box()
        assert first["y"] >= text["y"] + text["height"]  # below the text
        assert second["y"] >= first["y"] + first["height"]  # one below the other
        assert first["width"] <= PHONE["width"]  # no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "scan-reply-phone")
    finally:
        context.close()


def test_the_review_link_opens_the_page_to_check_in_the_scan_column(page, scans_server):
    url, records = scans_server
    page.goto(f"{url}/review?review=ocr_low_confidence")
    page.get_by_role("link", name="第2页（置信度 60.0%）").click()
    page.wait_for_url(re.compile(rf"/replies/{records['tif'].id}#page-2$"))
    loaded(page, "#page-2 img")
    figure = page.locator("#page-2")
    assert "low" in (figure.get_attribute("class") or "")
    assert page.evaluate("""() => {
        const r = document.querySelector('#page-2').getBoundingClientRect();
        return r.top >= 0 && r.top < innerHeight;
    }""")  # scrolled to, inside the page images' own column
    assert page.get_by_text("偏低，需核对").first.is_visible()
    screenshot(page, "scan-review-page-2")
