"""Every view of a search is laid out alike: skip links to its results and its filters,
the results first, the filters after them behind 筛选 on a narrow screen; and its lists
name each 届次 with the body that held it."""

from __future__ import annotations

import re
from html import unescape

import pytest

VIEWS = ("/search?q=养老", "/stats?q=养老", "/commitments?q=养老", "/review")


@pytest.mark.parametrize("url", VIEWS)
def test_each_view_skips_to_its_results_and_to_its_filters_which_follow_them(client, url):
    page = client.get(url).get_data(as_text=True)
    skips = re.findall(r'<a class="skip" href="#([\w-]+)">([^<]+)</a>', page)
    assert [target for target, _ in skips][1:] == ["facets", "main"]
    assert skips[1][1] == "跳到筛选" and skips[0][1].startswith("跳到")
    assert f'id="{skips[0][0]}"' in page  # the first skip link leads to something on the page
    results, facets = page.index('id="results"'), page.index('<aside class="facets" id="facets"')
    assert page.index('class="results-layout results-first"') < results < facets
    assert page.index('<a class="facets-toggle" href="#facets"') < page.index('class="results-summary"')
    assert '<a class="panel-close" href="#results">关闭</a>' in page[facets:]
    assert page.index('<nav class="views"') > facets  # switching views is with the filters
    assert page.count('id="facets"') == 1 and page.count('class="facets-toggle"') == 1


def test_the_commitments_filter_is_with_the_other_filters(client):
    page = client.get("/commitments?status=overdue").get_data(as_text=True)
    assert page.index('<aside class="facets" id="facets"') < page.index('<form class="ledger-filter"')
    assert '<option value="overdue" selected>已到期</option>' in page


def test_the_hit_list_names_each_session_with_its_body(client, replies):
    page = unescape(client.get("/search?per_page=100").get_data(as_text=True))
    hits = page[page.index('<ol class="hits"'):page.index("</ol>", page.index('<ol class="hits"'))]
    shown = set(re.findall(r"<span>([^<]*届[^<]*次)</span>", hits))
    assert shown == {r.qualified_session for r in replies if r.qualified_session}
    assert "<span>十二届二次</span>" not in hits and "<span>青溪市政协十二届二次</span>" in hits
