"""The state of a search in its URL: year ranges, the year histogram and searches within
the results (``within``), from the index to every link that carries them."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from reply_archive.indexer.errors import QueryError
from reply_archive.indexer.query import MAX_WITHIN
from reply_archive.indexer.results import Facet, FacetValue
from reply_archive.web.params import _LABEL_UNITS, toggled, year_chart

from .conftest import open_index


def ids(index, q: str = "", **options) -> set[str]:
    return {hit.id for hit in index.search(q, per_page=100, **options).hits}


def links(html: str, path: str) -> list[tuple[str, dict[str, list[str]]]]:
    """Return the links of a page to a path, as (path, query) pairs."""
    found = (urlsplit(unescape(u)) for u in re.findall(rf'href="({re.escape(path)}[^"]*)"', html))
    return [(u.path, parse_qs(u.query)) for u in found]


def total(html: str) -> int:
    match = re.search(r"共 <strong>(\d+)</strong> 件", html)
    assert match, "no results heading"
    return int(match.group(1))


# --- the index: within ANDs further queries with q ---------------------------------------


@pytest.mark.parametrize("q, within", [
    ("资金", ["养老"]),
    ("答复", ["学校", "政策"]),
    ("", ["托育"]),
    ("答复", ['"现答复如下"']),
    ("资金", ["-养老"]),
    ("养老 OR 学校", ["year:2023"]),
])
def test_within_selects_the_replies_every_query_selects(index_dir, q, within):
    index = open_index(index_dir)
    expected = ids(index, q)
    for text in within:
        expected &= ids(index, text)
    assert ids(index, q, within=within) == expected
    assert index.search(q, within=within).total == len(expected)


def test_within_narrows_the_sample_archive(index_dir):
    index = open_index(index_dir)
    assert 0 < len(ids(index, "资金", within=["养老"])) < len(ids(index, "资金"))


def test_within_words_and_phrases_are_marked_and_counted(index_dir):
    results = open_index(index_dir).search("资金", within=['"现答复如下"'])
    assert "现答复如下" in results.query.phrases and "资金" in results.query.terms
    assert results.hits and all("<mark>" in s.html for hit in results.hits for s in hit.snippets)
    assert results.query.word_count == results.total  # no filters: the query's own count


def test_blank_and_repeated_within_change_nothing(index_dir):
    index = open_index(index_dir)
    assert ids(index, "资金", within=["", "  "]) == ids(index, "资金")
    assert ids(index, "资金", within=["养老", " 养老 "]) == ids(index, "资金", within=["养老"])


def test_too_many_searches_within_are_refused_by_name(index_dir):
    with pytest.raises(QueryError) as caught:
        open_index(index_dir).search("资金", within=[f"词{n}" for n in range(MAX_WITHIN + 1)])
    assert caught.value.parameter == "within" and str(MAX_WITHIN) in caught.value.message


def test_every_view_of_a_search_applies_within(index_dir):
    index = open_index(index_dir)
    selected = ids(index, "答复", within=["资金"], filters={"year": ["2021-2023"]})
    assert selected and selected < ids(index, "答复", filters={"year": ["2021-2023"]})
    asked = {"within": ["资金"], "filters": {"year": ["2021-2023"]}}
    assert {hit.id for hit in index.export("答复", **asked)} == selected
    assert index.statistics("答复", **asked).total == len(selected)
    # Commitments narrowed by a search within all replies are those of that search.
    narrowed = index.commitments(within=["养老"], per_page=100)
    assert narrowed.total < index.commitments(per_page=100).total
    assert narrowed.to_dict() == index.commitments("养老", per_page=100).to_dict()


# --- year selections ------------------------------------------------------------------------


@pytest.mark.parametrize("facet, values, clicked, expected", [
    ("year", ["2021-2023"], "2022", ["2022"]),  # a year inside the range narrows to it
    ("year", ["2019", "2021-2023"], "2022", ["2019", "2022"]),  # other selected years stay
    ("year", ["2022", "2021-2023"], "2022", ["2022"]),
    ("year", ["2021-2023"], "2019", ["2021-2023", "2019"]),  # a year outside is added (OR)
    ("year", ["2022"], "2022", []),  # a year selected alone is dropped
    ("year", ["2021-2023"], "2021-2023", []),  # its chip removes the range
    ("topic", ["教育"], "民政", ["教育", "民政"]),
    ("topic", ["教育", "民政"], "教育", ["民政"]),
])
def test_clicking_a_year_in_a_range_narrows_to_it(facet, values, clicked, expected):
    assert toggled(facet, values, clicked) == expected


def test_a_year_in_the_chosen_range_links_to_that_year_alone(client):
    html = client.get("/search?q=答复&year=2021-2023").get_data(as_text=True)
    year_links = dict(re.findall(r'<a href="([^"]+)"[^>]*data-facet="year" data-value="(\d+)"', html))
    assert parse_qs(urlsplit(unescape(next(u for u, v in year_links.items() if v == "2022"))).query) == {
        "q": ["答复"], "year": ["2022"]}
    narrowed = client.get("/search?q=答复&year=2022").get_data(as_text=True)
    assert re.findall(r'class="chip"[^>]*>([^<]+)<', narrowed) == ["年度：2022 "]
    assert total(narrowed) < total(html)


def test_the_range_form_replaces_the_years_selected_and_swaps_reversed_ends(client):
    response = client.get("/search?q=答复&year=2019&year_from=2023&year_to=2021")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {"q": ["答复"], "year": ["2021-2023"]}
    one = client.get("/stats?year_from=2022&year_to=2022")
    assert one.status_code == 302 and urlsplit(one.headers["Location"]).path == "/stats"
    assert parse_qs(urlsplit(one.headers["Location"]).query) == {"year": ["2022"]}
    assert parse_qs(urlsplit(client.get("/search?year_to=2020").headers["Location"]).query) == {"year": ["2020"]}


@pytest.mark.parametrize("query, parameter", [
    ("year_from=abc&year_to=2022", "year_from"),
    ("year_to=２０２２", "year_to"),  # full-width digits: isdigit, but no year of the index
])
def test_the_range_form_refuses_what_is_not_a_year_by_name(client, query, parameter):
    response = client.get(f"/search?{query}")
    assert response.status_code == 400 and f"参数 {parameter} 无效" in response.get_data(as_text=True)


def test_the_range_form_shows_the_chosen_range_among_every_year(client):
    html = client.get("/search?q=养老&year=2021-2023").get_data(as_text=True)
    form = html[html.index('<form class="year-range"'):]
    form = form[: form.index("</form>")]
    options = re.findall(r"<option( selected)?>(\d+)</option>", form)
    # 养老 finds replies of 2020, 2022 and 2024 only: every year between is offered.
    assert [int(y) for _, y in options[: len(options) // 2]] == list(range(2020, 2025))
    assert [y for chosen, y in options if chosen] == ["2021", "2023"]
    assert ("year", "2021-2023") not in re.findall(r'name="([^"]+)" value="([^"]*)"', form)  # the form replaces it
    fresh = client.get("/search?q=养老").get_data(as_text=True)
    assert re.findall(r"<option selected>(\d+)</option>", fresh) == ["2020", "2024"]


# --- the histogram ---------------------------------------------------------------------------


def years(*pairs: tuple[str, int]) -> Facet:
    return Facet("year", tuple(FacetValue(value, count, False) for value, count in pairs))


def test_the_histogram_places_bars_by_year_with_gaps(app):
    with app.test_request_context("/search?year=2021-2022"):
        chart = year_chart(years(("2023", 1), ("2019", 4), ("2021", 2)))
    assert chart is not None
    assert [(b.year, b.count) for b in chart.bars] == [(2019, 4), (2020, 0), (2021, 2), (2022, 0), (2023, 1)]
    steps = {round(b.x - a.x, 2) for a, b in zip(chart.bars, chart.bars[1:], strict=False)}
    assert steps == {chart.bars[0].width}  # one slot a year, empty years included
    assert [b.height for b in chart.bars] == [36, 0, 18, 0, 9]
    assert all(b.label for b in chart.bars)  # few years: each labelled
    assert [b.year for b in chart.bars if b.selected] == [2021, 2022]
    assert chart.chosen == (2021, 2022)
    assert chart.span == (chart.bars[2].x, 2 * chart.bars[2].width)


def test_many_years_are_labelled_every_nth_and_at_both_ends(app):
    with app.test_request_context("/search"):
        chart = year_chart(years(*((str(y), 1) for y in range(1981, 2025))))
    assert chart is not None and chart.chosen is None and chart.span is None
    labelled = [b for b in chart.bars if b.label]
    assert labelled[0].year == 1981 and labelled[-1].year == 2024 and len(labelled) < len(chart.bars)
    assert all(b.x - a.x >= _LABEL_UNITS for a, b in zip(labelled, labelled[1:], strict=False))
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.width


def test_the_histogram_widens_to_a_selection_but_not_past_a_century(app):
    with app.test_request_context("/search?year=2015-2016"):
        chart = year_chart(years(("2020", 1), ("2022", 3)))
    assert chart is not None and [b.year for b in chart.bars] == list(range(2015, 2023))
    assert chart.chosen == (2015, 2016)
    with app.test_request_context("/search?year=1"):
        far = year_chart(years(("2020", 1), ("2022", 3), ("1", 0)))
    assert far is not None and [b.year for b in far.bars] == [2020, 2021, 2022] and far.chosen is None
    with app.test_request_context("/search"):
        assert year_chart(years()) is None


def test_the_histogram_bars_link_to_their_years_and_label_them(client):
    html = client.get("/search?q=养老").get_data(as_text=True)
    svg = html[html.index('<svg class="histogram"'):html.index("</svg>")]
    assert re.findall(r'<text class="year-label"[^>]*>(\d+)</text>', svg) == ["2020", "2021", "2022", "2023", "2024"]
    assert re.findall(r'data-year="(\d+)"', svg) == ["2020", "2022", "2024"]  # no bar for a year of none
    assert "2021年 0 件" in svg and 'style="' not in svg


# --- within on the pages and in every link ---------------------------------------------------


def test_within_shows_chips_that_remove_each_part(client):
    html = client.get('/search?q=答复&within=资金&within="现答复如下"&year=2021-2023').get_data(as_text=True)
    chips = re.findall(r'<a class="chip within" href="([^"]+)"[^>]*>结果中：([^<]+) <', html)
    assert [unescape(text) for _, text in chips] == ["资金", '"现答复如下"']
    assert parse_qs(urlsplit(unescape(chips[0][0])).query) == {
        "q": ["答复"], "within": ['"现答复如下"'], "year": ["2021-2023"]}
    clear = re.search(r'<a class="chip clear" href="([^"]+)"', html)
    assert clear and parse_qs(urlsplit(unescape(clear.group(1))).query) == {"q": ["答复"]}
    narrower = total(html)
    assert narrower < total(client.get("/search?q=答复&within=资金&year=2021-2023").get_data(as_text=True))


def test_the_within_form_keeps_the_query_the_filters_and_earlier_parts(client):
    html = client.get("/search?q=答复&within=资金&year=2023&sort=newest").get_data(as_text=True)
    form = html[html.index('<form class="within-form"'):]
    form = form[: form.index("</form>")]
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    assert sorted(hidden) == [("q", "答复"), ("sort", "newest"), ("within", "资金"), ("year", "2023")]
    assert 'name="within"' in form.split('type="hidden"')[-1] and "结果中检索" in form
    assert '<form class="within-form"' not in client.get("/search?q=没有这个词语的答复").get_data(as_text=True)


def test_every_link_of_a_search_carries_within(client):
    url = "/search?q=答复&within=资金&per_page=2"
    html = client.get(url).get_data(as_text=True)
    kept = {"q": ["答复"], "within": ["资金"]}
    # Only the links that clear the state (its chips, the header's 清除筛选) leave it out.
    keeping = re.sub(r'<ul class="chips".*?</ul>|<a class="clear-state"[^>]*>', "", html, flags=re.S)
    for path in ("/replies/", "/stats?", "/commitments?", "/api/export", "/search?", "/facets/"):
        found = links(keeping, path)
        assert found and all(kept.items() <= query.items() for _, query in found), path
    assert ("/search", {**kept, "per_page": ["2"], "page": ["2"]}) in links(html, "/search?")
    # A reply opened from the results leads back to them, and its neighbours are theirs.
    reply_path, reply_query = links(html, "/replies/")[1]
    page = client.get(reply_path + "?q=答复&within=资金&per_page=2&at=2").get_data(as_text=True)
    assert ("/search", {**kept, "per_page": ["2"]}) in links(page, "/search?")
    first = links(html, "/replies/")[0][0]
    assert any(path == first for path, _ in links(page, "/replies/"))
    stats = client.get("/stats?q=答复&within=资金").get_data(as_text=True)
    assert all(kept.items() <= query.items() for _, query in links(stats, "/api/stats"))


def test_the_api_applies_within_and_its_links_keep_it(client, index_dir):
    body = client.get("/api/search?q=答复&within=资金&within=养老&per_page=1").get_json()
    assert body["total"] == len(ids(open_index(index_dir), "答复", within=["资金", "养老"])) > 0
    assert all(parse_qs(urlsplit(url).query)["within"] == ["资金", "养老"] for url in body["links"].values() if url)
    stats = client.get("/api/stats?q=答复&within=资金&within=养老").get_json()
    assert stats["total"] == body["total"]
    export = client.get("/api/export?q=答复&within=资金&within=养老").get_data(as_text=True)
    assert len(export.splitlines()) == body["total"]
    assert client.get("/api/commitments?q=答复&within=资金").status_code == 200
    many = "&".join(f"within=词{n}" for n in range(MAX_WITHIN + 1))
    refused = client.get(f"/api/search?q=答复&{many}")
    assert refused.status_code == 400 and refused.get_json()["parameter"] == "within"


def test_a_reply_opened_with_within_marks_its_words_and_its_neighbours_keep_it(client, index_dir):
    hits = open_index(index_dir).search("答复", within=["资金"], per_page=3).hits
    page = client.get(f"/replies/{hits[1].id}?q=答复&within=资金&per_page=3&at=2").get_data(as_text=True)
    marked = {unescape(text) for text in re.findall(r'<mark id="m-\d+">([^<]+)</mark>', page)}
    assert {"答复", "资金"} <= marked
    assert "“答复”、结果中“资金”在本件中匹配" in page
    neighbours = dict(re.findall(r'<a rel="(prev|next)" href="([^"]+)"', page))
    assert set(neighbours) == {"prev", "next"}
    for rel, hit, at in (("prev", hits[0], "1"), ("next", hits[2], "3")):
        url = urlsplit(unescape(neighbours[rel]))
        assert url.path == f"/replies/{hit.id}"
        assert parse_qs(url.query) == {"q": ["答复"], "within": ["资金"], "per_page": ["3"], "at": [at]}
    # Without q, the words searched within are marked all the same.
    alone = client.get(f"/replies/{hits[1].id}?within=资金").get_data(as_text=True)
    assert "结果中“资金”在本件中匹配" in alone and "<mark" in alone


def test_the_api_echoes_the_searches_within_beside_the_query(client):
    body = client.get('/api/search?q=答复&within=资金&within= 资金 &within=&within="现答复如下"').get_json()
    assert body["q"] == "答复" and body["within"] == ["资金", '"现答复如下"']
    assert client.get("/api/search?q=答复").get_json()["within"] == []
