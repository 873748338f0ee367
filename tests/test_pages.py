"""The HTML pages: search flow, facet links, and nothing hostile gets through."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import pytest

from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import write_reply
from reply_archive.indexer.build import build_index
from reply_archive.web import create_app
from tests.conftest import SEED


def test_home_shows_search_box_and_facets(client):
    html = client.get("/").get_data(as_text=True)
    assert 'name="q"' in html and "按届次浏览" in html and "按年度浏览" in html


def test_search_page_shows_highlighted_hits_and_facets(client, seed_reply):
    html = client.get("/search", query_string={"q": "深港"}).get_data(as_text=True)
    assert seed_reply.title in html
    assert "<mark>深港</mark>" in html
    for label in ("届次", "承办单位", "主题", "年度"):
        assert f">{label}</h2>" in html


def test_facet_links_toggle_values_and_keep_the_query(client):
    html = client.get("/search", query_string={"q": "收悉"}).get_data(as_text=True)
    link = unescape(re.search(r'href="([^"]*year=2023[^"]*)"', html).group(1))
    assert "q=" in link
    selected = client.get(link).get_data(as_text=True)
    assert 'aria-current="true"' in selected and "清除全部" in selected
    off = unescape(re.search(r'href="([^"]*)"[^>]*aria-label="移除条件 年度：2023"', selected).group(1))
    assert "year=" not in off


def test_empty_result_suggests_a_way_out(client):
    html = client.get("/search", query_string={"q": '"这句话不存在于任何答复"', "year": "2019"}).get_data(as_text=True)
    assert "没有找到" in html and "去掉全部筛选条件" in html and "不加引号" in html


def test_reply_page_typesets_the_record(client, seed_reply):
    html = client.get(f"/replies/{seed_reply.id}").get_data(as_text=True)
    assert '<h2 id="sec">一、关于“构筑深港合作共融空间”的建议</h2>' in html
    assert 'href="#sec_1"' in html
    assert "中共深圳市福田区委统一战线工作部" in html and "黄逸昆、庄伟根、简伟锋、黄健诚" in html
    assert "承诺事项" in html


def test_sample_records_are_marked_in_the_ui(client, replies):
    sample = next(r for r in replies if r.sample)
    assert "虚构的示例数据" in client.get(f"/replies/{sample.id}").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/replies/ffffffffffffffff", "/no-such-page", "/search?page=-1"])
def test_errors_render_a_friendly_page(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert "返回首页" in response.get_data(as_text=True)


def test_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="jav&#x61;script:alert(1)">x</a>',
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://example.com"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<details open ontoggle="alert(1)">x</details>',
    '<form action="https://example.com"><input name="a"></form>',
    '<h2 id="main">clobber</h2>',
]


def test_hostile_record_text_never_reaches_the_page_live(tmp_path, seed_reply):
    body = seed_reply.body + "\n\n" + "\n\n".join(PAYLOADS)
    hostile = dataclasses.replace(seed_reply, body=body, title=seed_reply.title + "<script>alert(2)</script>")
    write_reply(hostile, tmp_path / "archive")
    build_index([hostile], tmp_path / "index")
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(tmp_path / "archive"),
                         "INDEX_DIR": str(tmp_path / "index")}).test_client()
    pages = [
        client.get(f"/replies/{hostile.id}").get_data(as_text=True),
        client.get("/search", query_string={"q": "alert <script>alert(3)</script>"}).get_data(as_text=True),
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert not re.search(r"<[^>]+\son\w+\s*=", html)  # no event handler attributes
        assert not re.search(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", html, re.I)
        for tag in ("<iframe", "<form action=\"https://example.com", "<details"):
            assert tag not in html
        # The page's own year histogram is the only drawing (the search matches the record).
        assert all(svg.startswith('<svg class="histogram" ') for svg in re.findall(r"<svg\b[^>]*>", html))
        assert 'id="main">clobber' not in html


def test_reply_page_lists_similar_replies(client, replies):
    earlier = next(r for r in replies if r.proposal_numbers == ("0487",))
    later = next(r for r in replies if r.proposal_numbers == ("0045",))
    html = client.get(f"/replies/{later.id}").get_data(as_text=True)
    assert "相似答复" in html and f"/replies/{earlier.id}" in html


def test_search_page_offers_exports_of_the_same_search(client):
    html = unescape(client.get("/search?q=收悉&year=2023").get_data(as_text=True))
    assert "/api/export?q=%E6%94%B6%E6%82%89&year=2023&format=csv" in html


def test_the_original_source_file_downloads_as_it_came(client, seed_reply):
    page = client.get(f"/replies/{seed_reply.id}").get_data(as_text=True)
    assert f"/replies/{seed_reply.id}/source" in page
    with client.get(f"/replies/{seed_reply.id}/source") as response:  # closes the sent file
        assert response.status_code == 200
        assert response.data == SEED.read_bytes()
        disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "seed_reply.txt" in disposition


def test_the_source_downloads_from_an_archive_given_as_a_relative_folder(tmp_path, monkeypatch, seed_reply):
    # A relative folder was resolved against the package's folder by send_file: a 500.
    assert ingest([SEED.parent], tmp_path / "archive").ok
    build_index([seed_reply], tmp_path / "index")
    monkeypatch.chdir(tmp_path)
    client = create_app({"TESTING": True, "ARCHIVE_DIR": "archive", "INDEX_DIR": "index"}).test_client()
    with client.get(f"/replies/{seed_reply.id}/source") as response:
        assert response.status_code == 200 and response.data == SEED.read_bytes()


@pytest.mark.parametrize("url", ["/replies/..%2F..%2Fetc%2Fpasswd/source", "/replies/ffffffffffffffff/source",
                                 "/replies/%2e%2e/source", "/replies/.sources/source"])
def test_source_downloads_cannot_leave_the_archive(client, url):
    assert client.get(url).status_code == 404


def test_a_record_without_a_kept_source_has_no_download(tmp_path, seed_reply):
    write_reply(seed_reply, tmp_path / "archive")
    build_index([seed_reply], tmp_path / "index")
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(tmp_path / "archive"),
                         "INDEX_DIR": str(tmp_path / "index")}).test_client()
    assert "下载原始文件" not in client.get(f"/replies/{seed_reply.id}").get_data(as_text=True)
    assert client.get(f"/replies/{seed_reply.id}/source").status_code == 404


def test_the_search_boxes_take_no_more_than_the_index_reads(client):
    from reply_archive.indexer.query import MAX_QUERY_CHARS

    for url in ("/", "/search?q=养老"):
        page = client.get(url).get_data(as_text=True)
        boxes = re.findall(r'<input[^>]*type="search" name="q"[^>]*>', page)
        assert boxes and all(f'maxlength="{MAX_QUERY_CHARS}"' in box for box in boxes), url


def test_a_page_past_the_last_says_so_and_links_to_the_last(client):
    total = client.get("/api/search?per_page=5").get_json()["total"]
    last = -(-total // 5)
    page = client.get("/search?per_page=5&page=999").get_data(as_text=True)
    assert f"第 999 页超出了检索结果的范围：共 {total} 件，{last} 页" in page and "没有找到" not in page
    assert f'page={last}' in page and f"转到最后一页（第 {last} 页）" in page


@pytest.mark.parametrize("url, parameter", [
    ("/api/search?per_page=abc", "per_page"),
    ("/api/search?page=abc", "page"),
    ("/api/search?page=0", "page"),
    ("/api/search?sort=best", "sort"),
    ("/api/search?year=abc", "year"),
    ("/api/replies/{seed}/similar?limit=x", "limit"),
])
def test_a_bad_parameter_is_named_and_explained_in_chinese(client, seed_reply, url, parameter):
    response = client.get(url.format(seed=seed_reply.id))
    body = response.get_json()
    assert response.status_code == 400 and body["parameter"] == parameter
    assert re.match(rf"参数 {parameter} 无效：应为", body["error"]), body["error"]


def test_a_reply_opened_from_results_links_back_to_its_page_and_to_its_neighbours(client):
    from urllib.parse import parse_qs, urlsplit

    def links(html: str, path: str) -> list[tuple[str, dict]]:
        found = re.findall(rf'href="({re.escape(path)}[^"]*)"', html)
        return [(urlsplit(unescape(u)).path, parse_qs(urlsplit(unescape(u)).query)) for u in found]

    ids = [h["id"] for h in client.get("/api/search?q=答复&per_page=100&sort=oldest").get_json()["hits"]]
    state = {"q": ["答复"], "sort": ["oldest"], "per_page": ["3"]}
    html = client.get("/search?q=答复&per_page=3&sort=oldest&page=2").get_data(as_text=True)
    assert links(html, "/replies/") == [(f"/replies/{ids[n - 1]}", {**state, "at": [str(n)]}) for n in (4, 5, 6)]
    page = client.get(f"/replies/{ids[4]}?q=答复&sort=oldest&per_page=3&at=5").get_data(as_text=True)
    assert ("/search", {**state, "page": ["2"]}) in links(page, "/search?")
    around = links(page, "/replies/")
    assert (f"/replies/{ids[3]}", {**state, "at": ["4"]}) in around
    assert (f"/replies/{ids[5]}", {**state, "at": ["6"]}) in around
    first = client.get(f"/replies/{ids[0]}?q=答复&sort=oldest&per_page=3&at=1").get_data(as_text=True)
    assert "上一条" not in first and "下一条" in first
    last = client.get(f"/replies/{ids[-1]}?q=答复&sort=oldest&per_page=3&at={len(ids)}").get_data(as_text=True)
    assert "上一条" in last and "下一条" not in last
    bad = client.get(f"/replies/{ids[0]}?at=x")
    assert bad.status_code == 400 and "参数 at 无效" in bad.get_data(as_text=True)


def test_the_header_box_keeps_filters_sort_and_page_size_but_not_the_page(client):
    html = client.get("/stats?q=养老&year=2023&topic=民政&sort=newest&page=2").get_data(as_text=True)
    form = html[html.index('<form class="search-form compact"'):html.index("</form>")]
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    assert sorted(hidden) == [("sort", "newest"), ("topic", "民政"), ("year", "2023")]
    assert "清除筛选" in form
