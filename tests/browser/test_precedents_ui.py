"""查找先例 in a real browser, served as in production (gunicorn with gunicorn.conf.py): a
long paste, a paraphrase found and copied with its citation, reuse on a reply's page."""

from __future__ import annotations

import re
import shutil

import pytest

from reply_archive import data
from reply_archive.indexer.precedents import MAX_PASTE_CHARS
from reply_archive.indexer.query import MAX_QUERY_CHARS
from tests.browser.conftest import screenshot
from tests.servers import ROOT, Server
from tests.test_deploy import index, reply_archive
from tests.test_precedents_web import PARAPHRASE, REPEATED, SAID, add_recycled, draft

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """Serve the bundled archive and a reply that repeats two paragraphs of a sample with
    gunicorn and gunicorn.conf.py, deployed as README's Deploying section says; yield the
    server, its URL and that reply's record."""
    home = tmp_path_factory.mktemp("srv")
    shutil.copy(ROOT / "gunicorn.conf.py", home)
    reply_archive("ingest", data.path("seed"), "--archive", home / "archive")
    reply_archive("ingest", "--sample", data.path("samples"), "--archive", home / "archive")
    recycled = add_recycled(home / "archive")
    index(home)
    server = Server(home, proxies=0)
    try:
        server.wait_healthy()
        yield server, server.url, recycled
    finally:
        server.stop()


def test_a_3000_character_paste_into_the_search_box_is_looked_up_as_precedents(page, production, archive_dir):
    server, url, _ = production
    text = draft(archive_dir, 3000)
    page.goto(url + "/search?year=2022")
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.locator("#q-top").focus()
    page.keyboard.press("ControlOrMeta+V")
    page.wait_for_url(url + "/precedents")
    assert page.get_by_text(f"检索框中粘贴的文字超过 {MAX_QUERY_CHARS} 字").is_visible()
    assert page.get_by_label("要查找先例的文字").input_value() == text
    assert page.locator("#text-count").inner_text() == f"3000 / {MAX_PASTE_CHARS} 字"
    assert page.locator('input[name="year"][value="2022"]').is_checked()  # the box's filters came along
    pieces = page.locator("section.piece")
    assert pieces.count() > 5 and page.locator(".passage").count() > 0
    longest = page.eval_on_selector_all("a[href], form[action]", "els => Math.max(...els.map("
                                        "e => (e.getAttribute('href') || e.getAttribute('action')).length))")
    assert longest < 200  # the text is in the page once, in its box; no link repeats it
    screenshot(page, "precedents-long-paste")
    log = server.output()
    assert re.search(r'"POST /precedents HTTP/1\.1" 200 ', log) and not re.search(r'" 41[34] ', log)


def test_a_paraphrase_finds_its_passage_to_copy_with_its_citation(page, production, seed_reply):
    _, url, _ = production
    page.goto(url + "/")
    page.get_by_role("navigation", name="栏目").get_by_role("link", name="查找先例").click()
    page.wait_for_url(url + "/precedents")
    page.get_by_label("要查找先例的文字").fill(PARAPHRASE)
    assert page.locator("#text-count").inner_text() == f"{len(PARAPHRASE)} / {MAX_PASTE_CHARS} 字"
    page.locator('input[name="year"][value="2022"]').check()
    page.get_by_role("button", name="查找先例").click()
    page.wait_for_selector(".passage")

    first = page.locator(".passage").first
    link = first.locator("h3 a")
    href = link.get_attribute("href")
    assert re.fullmatch(rf"/replies/{seed_reply.id}#p-\d+", href)
    assert 50 <= int(re.search(r"(\d+)%", first.locator(".score").inner_text()).group(1)) < 100
    assert first.get_by_text(f"提案：《{seed_reply.proposal_title}》").is_visible()
    assert first.locator("mark").count() > 0
    diff = first.locator("details.diff")
    assert not diff.locator("ins").is_visible()
    diff.locator("summary").click()  # the word-level diff opens on demand
    assert diff.locator("del").inner_text() == "深圳香港" and diff.locator("ins").inner_text() == "深港"
    screenshot(page, "precedents-paraphrase")

    first.get_by_role("button", name="复制（含出处）").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{SAID}\n（引自：{seed_reply.department}. {seed_reply.title}[A/OL]. ")
    assert copied.endswith(f". {url}{href}）")

    link.click()
    page.wait_for_url(url + href)
    assert page.locator(f"#{href.split('#')[1]}").inner_text().startswith(SAID)


def test_a_reply_marks_the_paragraphs_earlier_replies_said_and_links_them(page, production, replies):
    _, url, recycled = production
    earlier = next(r for r in replies if r.proposal_numbers == ("20200031",))
    page.goto(f"{url}/replies/{recycled.id}")
    section = page.locator("section.reuse")
    assert section.get_by_role("heading", name="与既往答复重复的段落").is_visible()
    assert re.search(r"新内容约占 \d+%", section.inner_text())
    marked = page.locator(".document p.reused")
    assert marked.count() == len(REPEATED)
    assert [marked.nth(i).inner_text()[: len(start)] for i, start in enumerate(REPEATED)] == list(REPEATED)
    screenshot(page, "reply-reuse")

    first = marked.first
    first.hover()
    first.get_by_role("button", name="复制本段并附引用信息").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(REPEATED[0]) and "此前已见" not in copied and "复制" not in copied

    first.get_by_role("link", name="此前已见").click()
    page.wait_for_url(re.compile(rf"/replies/{earlier.id}#p-\d+$"))
    assert page.locator(f"#{page.url.split('#')[1]}").inner_text().startswith(REPEATED[0])


def test_the_precedents_page_fits_a_phone(page, production):
    _, url, _ = production
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/precedents")
    page.get_by_label("要查找先例的文字").fill(PARAPHRASE)
    page.get_by_role("button", name="查找先例").click()
    page.wait_for_selector(".passage")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "precedents-phone")
