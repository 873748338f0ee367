"""The research views: facet lists, year ranges, statistics, commitments, exports."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import unquote

from reply_archive.indexer.schema import FACET_NAMES


def html(client, url, **params):
    """Return a page's HTML with entities and URL escapes decoded, for plain asserts."""
    response = client.get(url, query_string=params or None)
    assert response.status_code == 200, url
    return unquote(unescape(response.get_data(as_text=True)))


def test_every_facet_is_in_the_sidebar_with_its_label(client):
    page = html(client, "/search")
    for label in (
        "届次", "承办单位", "主题", "细分主题", "年度", "办理结果", "办理角色", "提案方式", "类型", "会议级别"
    ):
        assert f">{label}</h2>" in page
    assert ">政协提案<" in page and ">人大建议<" in page  # codes shown as words


def test_long_facets_link_to_their_full_list(client):
    page = html(client, "/search", q="收悉")
    link = re.search(r'href="(/facets/department\?[^"]*)"', page).group(1)
    assert "q=收悉" in link
    full = html(client, link)
    assert full.count('class="value"') > 8
    narrowed = html(client, "/facets/department", q="收悉", fq="民政")
    assert "临江区民政局" in narrowed and "青溪市教育局" not in narrowed
    selected = re.search(r'href="(/search\?[^"]*department=[^"]*)"', narrowed).group(1)
    assert "q=收悉" in selected


def test_unknown_facet_page_is_404(client):
    assert client.get("/facets/colour").status_code == 404


def test_year_range_form_redirects_to_a_shareable_url(client, replies):
    response = client.get("/search", query_string={"q": "收悉", "year_from": "2020", "year_to": "2022"})
    assert response.status_code == 302
    target = unquote(response.headers["Location"])
    assert "year=2020-2022" in target and "year_from" not in target
    page = html(client, target)
    expected = sum(1 for r in replies if r.year and 2020 <= r.year <= 2022 and "收悉" in r.body)
    assert f"共 <strong>{expected}</strong> 件" in page
    assert "年度：2020-2022" in page


def test_statistics_page_draws_every_chart_with_data_links(client, replies):
    page = html(client, "/stats")
    assert f"共 <strong>{len(replies)}</strong> 件" in page
    assert page.count('<svg class="chart') == 4
    for chart in ("year", "department", "topic", "results"):
        assert f"chart={chart}" in page


def test_statistics_csv_matches_the_counts(client, replies):
    response = client.get("/api/stats?chart=year&format=csv")
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["年度", "件数"]
    assert {r[0]: int(r[1]) for r in rows[1:]} == {
        str(y): sum(1 for r in replies if r.year == y) for y in {r.year for r in replies if r.year}
    }
    results = list(csv.reader(io.StringIO(client.get("/api/stats?chart=results&format=csv").data.decode("utf-8-sig"))))
    assert results[0] == ["承办单位", "A", "B", "C", "D", "未标注", "合计"]


def test_statistics_json_and_errors(client):
    body = client.get("/api/stats?year=2023").get_json()
    assert body["ok"] and body["total"] == sum(n for _, n in body["year"])
    assert client.get("/api/stats?chart=colour&format=csv").status_code == 400


def test_commitments_view_lists_promises_with_links(client, replies):
    page = html(client, "/commitments", topic="社会建设")
    promising = [r for r in replies if r.topic == "社会建设" and r.commitments]
    assert f"<strong>{len(promising)}</strong> 件答复作出了承诺" in page
    for reply in promising:
        assert f"/replies/{reply.id}" in page
        assert reply.commitments[0].text in page


def test_ris_export_has_one_record_per_hit(client, replies):
    response = client.get("/api/export?format=ris")
    text = response.data.decode("utf-8")
    assert text.count("TY  - GOVDOC") == len(replies) == text.count("ER  - ")
    assert "AU  - 中共深圳市福田区委统一战线工作部" in text


def test_reply_page_marks_the_search_and_links_related_replies(client, replies):
    lead = next(r for r in replies if r.proposal_numbers == ("0087",) and r.department_role == "主办")
    co = next(r for r in replies if r.proposal_numbers == ("0087",) and r.department_role == "会办")
    page = html(client, f"/replies/{lead.id}", q="加装电梯")
    assert 'id="m-1"' in page and "加装电梯</mark>" in page
    assert "同一提案的其他答复" in page and f"/replies/{co.id}" in page
    assert 'data-citation="' in page and "第0087号提案" in page
    assert 'id="p-1"' in page


def test_reply_page_lists_the_department_s_earlier_replies_on_the_topic(client, replies):
    later = next(r for r in replies if r.proposal_numbers == ("20240019",))
    earlier = next(r for r in replies if r.proposal_numbers == ("20200031",))
    page = html(client, f"/replies/{later.id}")
    assert "该单位此前同主题的答复" in page and f"/replies/{earlier.id}" in page


def test_views_keep_the_search_state(client):
    page = html(client, "/stats", q="收悉", year="2023")
    for endpoint in ("/search?", "/commitments?"):
        # (the header's 清除筛选 link drops the filters on purpose)
        link = re.search(rf'<a href="({re.escape(endpoint)}[^"]*)"', page).group(1)
        assert "q=收悉" in link and "year=2023" in link


def test_sort_by_number_is_offered(client):
    assert 'value="number"' in html(client, "/search")


def test_facet_names_are_stable_for_researchers_scripts():
    # New facets are added at the end; none is renamed or reordered.
    assert FACET_NAMES == ("session", "department", "topic", "subtopic", "year", "result", "role",
                           "proposer_kind", "channel", "assembly_level", "review", "assembly")
