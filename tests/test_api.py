"""The JSON API: response shapes and errors that are always JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from reply_archive.archive.store import write_reply
from reply_archive.indexer.build import build_index
from reply_archive.indexer.schema import FACET_NAMES
from reply_archive.web import create_app


def test_search_shape(client, seed_reply):
    body = client.get("/api/search", query_string={"q": "深港", "per_page": 5}).get_json()
    assert body["ok"] is True
    assert {"total", "page", "per_page", "hits", "facets", "query"} <= set(body)
    assert body["page"] == 1 and body["per_page"] == 5 and body["total"] >= 1
    hit = next(h for h in body["hits"] if h["id"] == seed_reply.id)
    assert {"id", "title", "department", "session_label", "year", "date", "snippets"} <= set(hit)
    assert hit["session_label"] == "六届二次" and hit["year"] == 2022 and hit["date"] == "2022-09-23"
    assert set(body["facets"]) == set(FACET_NAMES)
    for values in body["facets"].values():
        assert all(set(v) == {"value", "count", "selected"} for v in values)
    assert body["query"]["segmented"] == ["深港"]
    took = body["took_ms"]
    assert set(took) == {"match", "snippets", "facets", "total"} and all(t >= 0 for t in took.values())
    assert took["total"] >= took["match"] + took["snippets"] + took["facets"] - 0.1  # rounding


def test_a_search_that_finds_nothing_suggests_a_correction(client):
    body = client.get("/api/search", query_string={"q": "养老服物"}).get_json()
    assert body["total"] == 0 and body["query"]["suggestion"] == "养老服务"
    assert client.get("/api/search", query_string={"q": "养老服务"}).get_json()["query"]["suggestion"] is None


def test_search_filters_are_repeatable_parameters(client):
    body = client.get("/api/search?year=2023&year=2022&topic=社会建设").get_json()
    selected = {name: [v["value"] for v in values if v["selected"]] for name, values in body["facets"].items()}
    assert sorted(selected["year"]) == ["2022", "2023"] and selected["topic"] == ["社会建设"]


def test_reply_returns_the_record_with_archive_field_names(client, seed_reply):
    body = client.get(f"/api/replies/{seed_reply.id}").get_json()
    assert body["ok"] is True
    record = body["reply"]
    assert record == seed_reply.to_dict()
    assert record["proposers"] == ["黄逸昆", "庄伟根", "简伟锋", "黄健诚"]
    assert len(record["commitments"]) == 3


@pytest.mark.parametrize("url, status, word, parameter", [
    ("/api/search?page=0", 400, "page", "page"),
    ("/api/search?page=two", 400, "page", "page"),
    ("/api/search?per_page=100000", 400, "per_page", "per_page"),
    ("/api/search?sort=random", 400, "sort", "sort"),
    ("/api/replies/0123456789abcdef", 404, "0123456789abcdef", None),
    ("/api/replies/..%2f..%2fetc%2fpasswd", 404, "", None),
    ("/api/no-such-endpoint", 404, "", None),
])
def test_errors_are_json(client, url, status, word, parameter):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert body["ok"] is False and body["status"] == status and word in body["error"]
    assert body["parameter"] == parameter


@pytest.mark.parametrize("url", ["/api/search", "/api/replies/0123456789abcdef", "/search"])
def test_method_not_allowed_says_which_methods_are(client, url):
    response = client.post(url)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    if url.startswith("/api/"):
        assert response.get_json()["ok"] is False


@pytest.mark.parametrize("url, parameter", [
    ("/api/search?bogus=1", "bogus"),
    ("/api/search?q=收悉&yaer=2022", "yaer"),
    ("/api/search?year_from=2020", "year_from"),  # the page form's fields are the pages' own
    ("/api/commitments?sort=newest", "sort"),  # newest first, always: not a parameter here
    ("/api/export?page=2", "page"),
    ("/api/stats?per_page=5", "per_page"),
    ("/api/replies/{id}?q=深港", "q"),
    ("/api/replies/{id}/similar?limit=3&page=1", "page"),
    ("/api/openapi.json?v=3", "v"),
])
def test_an_unknown_parameter_is_refused_by_name(client, seed_reply, url, parameter):
    response = client.get(url.format(id=seed_reply.id))
    body = response.get_json()
    assert response.status_code == 400 and body["parameter"] == parameter
    assert f"参数 {parameter} 无效" in body["error"] and "不是该接口的参数" in body["error"]


@pytest.mark.parametrize("page", ["/search", "/stats"])
def test_the_pages_links_to_the_api_carry_only_what_it_reads(client, page):
    html = client.get(page, query_string={"q": "收悉", "year": "2023", "sort": "newest", "per_page": 50}).get_data(
        as_text=True
    )
    links = [unescape(url) for url in re.findall(r'href="(/api/[^"]+)"', html)]
    assert links
    for url in links:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_json())
        assert "q=%E6%94%B6%E6%82%89" in url and "year=2023" in url and "per_page" not in url


def test_the_pages_ignore_unknown_parameters(client):
    # Links from elsewhere carry tracking parameters; a reader should still see the page.
    assert client.get("/search?q=收悉&utm_source=weixin").status_code == 200


@pytest.mark.parametrize("url, parameter", [
    ("/api/search?q=深港&q=养老", "q"),
    ("/api/search?page=1&page=2", "page"),
    ("/api/export?format=csv&format=ris", "format"),
])
def test_a_parameter_read_once_is_refused_twice(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400 and response.get_json()["parameter"] == parameter


@pytest.mark.parametrize("value", ["abc", "２０２２", "2019-", "2019-2022-2023", "20190-20220", "2019~2022"])
def test_a_range_facet_refuses_what_is_neither_a_number_nor_a_range(client, value):
    for url in ("/api/search", "/api/stats", "/api/commitments", "/api/export"):
        response = client.get(url, query_string={"year": value})
        assert response.status_code == 400 and response.get_json()["parameter"] == "year", (url, value)
    page = client.get("/search", query_string={"year": value})
    assert page.status_code == 400 and "请求参数有误" in page.get_data(as_text=True)


def test_a_range_facet_takes_numbers_and_ranges(client, replies):
    body = client.get("/api/search?year=2019-2020&year=2023").get_json()
    assert body["total"] == sum(1 for r in replies if r.year in (2019, 2020, 2023))
    assert client.get("/api/search?year=1999").get_json()["total"] == 0


def _links(response) -> dict[str, str]:
    """Return the rel → URL pairs of an RFC 8288 Link header."""
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="([a-z]+)"', response.headers["Link"])}


# The commitments ledger lists only the promises holding the query's words.
@pytest.mark.parametrize("path, q", [("/api/search", "收悉"), ("/api/commitments", "下一步")])
def test_paged_resources_link_their_pages(client, path, q):
    response = client.get(path, query_string={"q": q, "per_page": 2, "page": 2})
    body = response.get_json()
    assert body["pages"] >= 3
    links = body["links"]
    pages = {rel: parse_qs(urlsplit(url).query)["page"] for rel, url in links.items()}
    assert pages == {"self": ["2"], "first": ["1"], "prev": ["1"], "next": ["3"], "last": [str(body["pages"])]}
    assert all(url.startswith("http://localhost" + path + "?") for url in links.values())
    assert all(parse_qs(urlsplit(url).query)["q"] == [q] for url in links.values())
    assert _links(response) == links
    last = client.get(links["last"]).get_json()
    assert last["page"] == body["pages"] and last["links"]["next"] is None


def test_the_first_page_has_no_prev_and_a_page_past_the_last_leads_back(client):
    first = client.get("/api/search?per_page=5").get_json()["links"]
    assert first["prev"] is None and "prev" not in _links(client.get("/api/search?per_page=5"))
    past = client.get("/api/search?q=深港&page=9").get_json()
    assert past["hits"] == [] and past["links"]["next"] is None
    assert parse_qs(urlsplit(past["links"]["prev"]).query)["page"] == [str(past["pages"])]


def test_links_keep_every_filter_and_follow_base_url(archive_dir, index_dir):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir),
                      "BASE_URL": "https://archive.example.org/"})
    response = app.test_client().get("/api/search?year=2022&year=2023&per_page=1", headers={"Host": "evil.example"})
    links = response.get_json()["links"]
    assert all(url.startswith("https://archive.example.org/api/search?") for url in links.values() if url)
    assert parse_qs(urlsplit(links["next"]).query) == {"year": ["2022", "2023"], "per_page": ["1"], "page": ["2"]}
    assert "evil.example" not in response.headers["Link"]


def test_statistics_years_are_numbers_as_in_hits(client):
    body = client.get("/api/stats").get_json()
    assert body["year"] and all(isinstance(year, int) and isinstance(n, int) for year, n in body["year"])
    assert all(isinstance(h["year"], int) for h in client.get("/api/search").get_json()["hits"] if h["year"])


def _cors_client(archive_dir, index_dir, origins):
    config = {"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir)}
    if origins is not None:
        config["CORS_ORIGINS"] = origins
    return create_app(config).test_client()


def test_cors_is_off_by_default(archive_dir, index_dir, monkeypatch):
    monkeypatch.delenv("REPLY_ARCHIVE_CORS_ORIGINS", raising=False)
    response = _cors_client(archive_dir, index_dir, None).get("/api/search", headers={"Origin": "https://a.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_answers_the_configured_origins_only(archive_dir, index_dir):
    client = _cors_client(archive_dir, index_dir, "https://a.example, https://b.example/")
    for url in ("/api/search", "/api/search?bogus=1", "/api/no-such-endpoint"):  # errors too: a script reads them
        response = client.get(url, headers={"Origin": "https://b.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://b.example", url
        assert "Origin" in response.vary and "Link" in response.headers["Access-Control-Expose-Headers"]
    other = client.get("/api/search", headers={"Origin": "https://c.example"})
    assert "Access-Control-Allow-Origin" not in other.headers and "Origin" in other.vary
    page = client.get("/search", headers={"Origin": "https://a.example"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_cors_for_any_origin_from_the_environment(archive_dir, index_dir, monkeypatch):
    monkeypatch.setenv("REPLY_ARCHIVE_CORS_ORIGINS", "*")
    response = _cors_client(archive_dir, index_dir, None).get("/api/stats", headers={"Origin": "https://x.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_missing_index_is_503_not_500(archive_dir, tmp_path):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(tmp_path)})
    response = app.test_client().get("/api/search?q=深港")
    assert response.status_code == 503 and response.get_json()["ok"] is False


def test_export_csv_has_a_bom_and_every_hit(client, replies):
    response = client.get("/api/export", query_string={"format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode("utf-8"))
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"编号","标题","提案（建议）标题","提案（建议）号"')  # the Chinese labels
    assert len(lines) == len(replies) + 1
    assert "attachment" in response.headers["Content-Disposition"]


def test_export_jsonl_follows_query_and_filters(client):
    search = client.get("/api/search?q=收悉&year=2023&per_page=100").get_json()
    response = client.get("/api/export?q=收悉&year=2023&format=jsonl")
    rows = [json.loads(line) for line in response.data.decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [h["id"] for h in search["hits"]]
    assert all(r["url"].endswith(f"/replies/{r['id']}") for r in rows)


def test_similar_replies(client, replies):
    lead = next(r for r in replies if r.proposal_numbers == ("0087",) and r.department_role == "主办")
    body = client.get(f"/api/replies/{lead.id}/similar?limit=3").get_json()
    assert body["ok"] and len(body["hits"]) == 3
    # The co-handling reply to the same proposal is the most similar.
    top = next(r for r in replies if r.id == body["hits"][0]["id"])
    assert top.proposal_numbers == ("0087",) and top.department_role == "会办"
    assert lead.id not in [h["id"] for h in body["hits"]]


@pytest.mark.parametrize("url", ["/api/export?format=xml", "/api/replies/ffffffffffffffff/similar",
                                 "/api/replies/{id}/similar?limit=0", "/api/export?sort=x"])
def test_export_and_similar_errors_are_json(client, seed_reply, url):
    response = client.get(url.format(id=seed_reply.id))
    assert response.status_code in (400, 404) and response.get_json()["ok"] is False


@pytest.fixture
def forged_client(tmp_path, seed_reply):
    """Serve two records whose fields try to forge exports: a formula, a fake RIS record."""
    replies = [
        dataclasses.replace(seed_reply, id="a" * 16, title='=HYPERLINK("http://evil.example","点此")',
                            department_raw="+cmd|' /C calc'!A0", department="-2+3"),
        dataclasses.replace(seed_reply, id="b" * 16,
                            title="正常标题\nER  - \nTY  - JOUR\nTI  - 伪造的记录\u2028AU  - x"),
    ]
    for reply in replies:
        write_reply(reply, tmp_path / "archive")
    build_index(replies, tmp_path / "index")
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(tmp_path / "archive"), "INDEX_DIR": str(tmp_path / "index")})
    return app.test_client()


def test_csv_export_makes_formulas_inert(forged_client):
    text = forged_client.get("/api/export?format=csv").data.decode("utf-8-sig")
    rows = {row["编号"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["a" * 16]["标题"] == '\'=HYPERLINK("http://evil.example","点此")'
    assert rows["a" * 16]["承办单位"] == "'-2+3"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows.values() for cell in row.values())


def test_ris_export_cannot_be_forged_by_line_breaks_in_a_field(forged_client):
    lines = forged_client.get("/api/export?format=ris").data.decode("utf-8").split("\r\n")
    assert [line for line in lines if line.startswith(("TY  - ", "ER  - "))] == ["TY  - GOVDOC", "ER  - "] * 2
    assert "TI  - 正常标题 ER  -  TY  - JOUR TI  - 伪造的记录 AU  - x" in lines  # one line, breaks flattened
