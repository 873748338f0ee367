"""查找先例 on the web: the page, POST /api/precedents, long pastes, reuse on a reply's page,
and the proposal a reply answers shown beside its title."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from reply_archive.archive.ingest import ingest
from reply_archive.archive.model import Reply
from reply_archive.archive.store import find_reply, iter_replies
from reply_archive.archive.tables import department_names
from reply_archive.indexer.build import build_index
from reply_archive.indexer.errors import ClusterError
from reply_archive.indexer.precedents import MAX_PASTE_CHARS
from reply_archive.indexer.query import MAX_QUERY_CHARS
from reply_archive.web import create_app, reply_index
from reply_archive.web.params import MAX_BODY_BYTES
from reply_archive.web.render import citation
from tests.test_openapi import validate

# A reply of 2025, from another department than the 2020 eldercare sample's (临江区民政局),
# that repeats two of that sample's paragraphs word for word and adds one of its own.
RECYCLED = """关于临江区政协五届五次会议第20250008号提案的答复
周明远委员：
您提出的《关于加强社区养老护理人才培养的提案》收悉。我局会同区人力资源和社会保障局进行了认真研究，现答复如下：
一、关于养老护理员培训
依托区职业技能培训中心，每年开展养老护理员技能培训不少于300人次，对取得相应等级证书并在我区养老机构连续从业满一年的护理员，按规定给予一次性入职补贴。
二、关于护理人才激励
今年起，我区将养老护理员纳入区级紧缺技能人才目录，对连续从业满三年、取得高级工以上证书的护理员，在公租房申请、子女入学等方面给予优先安排，并每年评选“临江最美护理员”二十名。
三、关于推进医养结合
我局与区卫生健康局共同推动社区卫生服务中心与日间照料中心“两院一体”或签约合作，目前已实现签约合作全覆盖。家庭医生团队定期上门为失能、半失能老人提供健康评估、慢病管理等服务，今年已建立老年人健康档案4.7万份。
衷心感谢您对我区民政工作的关心和支持！
临江区卫生健康局
2025年6月18日
"""
REPEATED = ("依托区职业技能培训中心", "我局与区卫生健康局共同推动")  # how its two repeated paragraphs begin
# A paragraph of the seed reply, and the same with one word put otherwise: a paraphrase.
SAID = "一是依托街道、社区党群服务中心打造深港互动交流阵地。"
PARAPHRASE = SAID.replace("深港", "深圳香港")


def add_recycled(archive: Path) -> Reply:
    """Ingest :data:`RECYCLED` into an archive (as a sample); return its record."""
    sources = archive.parent / "recycled-sources"
    sources.mkdir(exist_ok=True)
    (sources / "recycled-2025.txt").write_text(RECYCLED, encoding="utf-8")
    assert ingest([sources], archive, sample=True).ok
    return next(r for r in iter_replies(archive) if r.proposal_numbers == ("20250008",))


def anchor(html: str, start: str) -> int:
    """Return the number of the paragraph of a reply page that begins with ``start`` (its #p-N)."""
    return int(re.search(rf'<p id="p-(\d+)"[^>]*>{re.escape(start)}', html).group(1))


@pytest.fixture(scope="module")
def recycling(tmp_path_factory, archive_dir):
    """Return a client of the sample archive plus :data:`RECYCLED`, and that record."""
    root = tmp_path_factory.mktemp("recycling")
    shutil.copytree(archive_dir, root / "archive")
    recycled = add_recycled(root / "archive")
    build_index(list(iter_replies(root / "archive")), root / "index", aliases=department_names())
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(root / "archive"), "INDEX_DIR": str(root / "index")})
    return app.test_client(), recycled


def draft(archive: Path, chars: int) -> str:
    """Return a draft of ``chars`` characters: the paragraphs of an archive's replies, a line each."""
    text = "\n".join(p.strip() for r in iter_replies(archive) for p in r.body.split("\n\n") if p.strip())
    assert len(text) >= chars, "the archive holds too little text"
    piece = text[:chars]
    return piece[:-1] + "。" if piece[-1].isspace() else piece  # the text is read stripped


# --- the page ---------------------------------------------------------------------------


def test_the_page_offers_a_paste_box_with_a_count_and_the_search_pages_filters(client):
    html = client.get("/precedents").get_data(as_text=True)
    form = re.search(r'<form id="precedents-form"[^>]*>', html).group(0)
    assert 'method="post"' in form and 'action="/precedents"' in form
    box = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'name="text"' in box and f'maxlength="{MAX_PASTE_CHARS}"' in box and 'data-count="text-count"' in box
    assert f"0 / {MAX_PASTE_CHARS} 字" in html
    for facet in ("department", "year"):
        boxes = re.findall(rf'<input type="checkbox" form="precedents-form" name="{facet}" value="([^"]+)"', html)
        assert boxes, facet
    assert "2022" in re.findall(r'name="year" value="([^"]+)"', html)


def test_the_site_navigation_and_the_home_page_lead_to_it(client):
    for url in ("/", "/search?q=养老", "/help"):
        assert 'href="/precedents"' in client.get(url).get_data(as_text=True), url
    nav = client.get("/precedents").get_data(as_text=True)
    assert 'href="/precedents" aria-current="page">查找先例</a>' in nav


def test_a_paraphrase_finds_its_passage_with_the_words_marked_a_diff_and_a_citation(client, seed_reply, archive_dir):
    number = anchor(client.get(f"/replies/{seed_reply.id}").get_data(as_text=True), SAID)
    response = client.post("/precedents", data={"text": PARAPHRASE})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    first = html[html.index('<li class="passage">'):html.index("</li>", html.index('<li class="passage">'))]
    assert f'href="/replies/{seed_reply.id}#p-{number}">{seed_reply.title}</a>' in first
    score = int(re.search(r"相近度 (\d+)%", first).group(1))
    assert 50 <= score < 100
    assert "<mark>" in first and "<del>深圳香港</del><ins>深港</ins>" in first and "<details" in first
    assert f"提案：《{seed_reply.proposal_title}》" in first
    assert seed_reply.department in first and "2022年" in first
    cited = citation(find_reply(archive_dir, seed_reply.id), f"http://localhost/replies/{seed_reply.id}")
    assert f'data-copy-citation="{cited}#p-{number}"' in unescape(first)
    assert html.count(PARAPHRASE) == 2  # in its box, and heading its paragraph's results


def test_the_filters_narrow_the_passages_and_stay_selected(client, seed_reply):
    html = client.post("/precedents", data={"text": PARAPHRASE, "year": "2019"}).get_data(as_text=True)
    assert f"/replies/{seed_reply.id}#" not in html and "没有找到相同或相近的既往段落" in html
    assert re.search(r'name="year" value="2019" checked', html)
    kept = client.post("/precedents", data={"text": PARAPHRASE, "year": ["2019", "2022"]}).get_data(as_text=True)
    assert f"/replies/{seed_reply.id}#" in kept


@pytest.mark.parametrize("text, words", [
    ("", "请粘贴"), ("  \n ", "请粘贴"), ("字" * (MAX_PASTE_CHARS + 1), str(MAX_PASTE_CHARS)),
])
def test_an_empty_or_over_long_paste_is_refused_in_place_keeping_the_text(client, text, words):
    response = client.post("/precedents", data={"text": text})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    alert = re.search(r'<p id="text-error" class="notice" role="alert">([^<]+)</p>', html).group(1)
    assert words in alert
    assert f">{text}</textarea>" in html and 'aria-invalid="true"' in html


def test_a_bad_filter_on_the_page_is_a_400_naming_it(client):
    response = client.post("/precedents", data={"text": PARAPHRASE, "year": "abc"})
    assert response.status_code == 400 and "参数 year 无效" in response.get_data(as_text=True)


def test_a_paste_of_the_full_5000_characters_line_breaks_and_all_is_taken(client, archive_dir):
    text = draft(archive_dir, MAX_PASTE_CHARS)
    assert len(text) == MAX_PASTE_CHARS and "\n" in text
    # A browser sends a form's line breaks as CRLF: more than the limit in characters sent.
    sent = text.replace("\n", "\r\n")
    response = client.post("/precedents", data={"text": sent})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, re.findall(r'role="alert">([^<]+)', html)
    assert len(re.findall(r'<section class="piece"', html)) > 1 and "第 2 段" in html
    api = client.post("/api/precedents", data={"text": sent})
    assert api.status_code == 200 and len(api.get_json()["pieces"]) > 1


def test_the_results_page_grows_by_the_pasted_text_once_and_links_never_carry_it(client):
    small = client.post("/precedents", data={"text": PARAPHRASE}).get_data(as_text=True)
    padding = "\n" + "ㄅ" * 4000  # a paragraph that matches nothing
    large = client.post("/precedents", data={"text": PARAPHRASE + padding}).get_data(as_text=True)
    assert len(large.encode()) - len(small.encode()) < len(padding.encode()) + 1500
    for page in (small, large):
        urls = re.findall(r'(?:href|action|src)="([^"]*)"', page)
        assert urls and max(map(len, urls)) < 200, max(urls, key=len)


def test_a_search_box_text_sent_here_says_so(client):
    html = client.post("/precedents", data={"text": PARAPHRASE, "from": "search"}).get_data(as_text=True)
    assert f"检索框中粘贴的文字超过 {MAX_QUERY_CHARS} 字" in html
    assert "检索框中粘贴" not in client.post("/precedents", data={"text": PARAPHRASE}).get_data(as_text=True)


# --- the API --------------------------------------------------------------------------


def test_the_api_answers_json_a_form_and_a_query_string_alike(client, seed_reply):
    number = anchor(client.get(f"/replies/{seed_reply.id}").get_data(as_text=True), SAID)
    answers = [
        client.post("/api/precedents", json={"text": PARAPHRASE, "limit": 3}),
        client.post("/api/precedents", data={"text": PARAPHRASE, "limit": "3"}),
        client.get("/api/precedents", query_string={"text": PARAPHRASE, "limit": 3}),
    ]
    bodies = [a.get_json() for a in answers]
    assert all(a.status_code == 200 for a in answers)
    for body in bodies:
        validate(body, "/components/schemas/Precedents")
        body.pop("took_ms")
    assert bodies[0] == bodies[1] == bodies[2]
    body = bodies[0]
    assert body["ok"] is True and [p["text"] for p in body["pieces"]] == [PARAPHRASE]
    top = body["passages"][0]
    assert (top["reply_id"], top["paragraph"], top["piece"]) == (seed_reply.id, number, 0)
    assert 0.5 <= top["score"] < 1 and "<del>深圳香港</del>" in top["diff"] and top["title"] == seed_reply.title
    assert len(body["pieces"][0]["passages"]) <= 3


@pytest.mark.parametrize("filters, found", [
    ({"year": "2019"}, False),
    ({"year": ["2019", "2022"]}, True),
    ({"department": ["中共深圳市福田区委统一战线工作部"], "year": "2019-2023"}, True),
    ({"channel": "npc"}, False),
])
def test_the_api_takes_facet_filters_as_strings_or_lists(client, seed_reply, filters, found):
    body = client.post("/api/precedents", json={"text": PARAPHRASE, **filters}).get_json()
    assert (seed_reply.id in {p["reply_id"] for p in body["passages"]}) is found, body


@pytest.mark.parametrize("request_, parameter, words", [
    ({"json": {"text": ""}}, "text", "请粘贴"),
    ({"json": {"limit": 3}}, "text", "请粘贴"),
    ({"json": {"text": "字" * (MAX_PASTE_CHARS + 1)}}, "text", f"最多 {MAX_PASTE_CHARS} 个字符"),
    ({"data": {"text": "字" * (MAX_PASTE_CHARS + 1)}}, "text", f"最多 {MAX_PASTE_CHARS} 个字符"),
    ({"json": {"text": ["一", "二"]}}, "text", "只能出现一次"),
    ({"json": {"text": {"a": 1}}}, "text", "应为字符串"),
    ({"json": {"text": PARAPHRASE, "limit": True}}, "limit", "应为字符串"),
    ({"json": {"text": PARAPHRASE, "limit": 0}}, "limit", "应为 1 到"),
    ({"json": {"text": PARAPHRASE, "depatment": "民政局"}}, "depatment", "不是该接口的参数"),
    ({"json": {"text": PARAPHRASE, "year": "abc"}}, "year", "应为年份"),
    ({"json": {"text": PARAPHRASE}, "query_string": {"text": "又一段"}}, "text", "只能出现一次"),
    ({"json": {"text": PARAPHRASE}, "query_string": {"q": "养老"}}, "q", "不是该接口的参数"),
])
def test_the_api_refuses_a_bad_field_naming_it_in_chinese(client, request_, parameter, words):
    response = client.post("/api/precedents", **request_)
    body = response.get_json()
    assert response.status_code == 400 and body["parameter"] == parameter, body
    assert body["error"].startswith(f"参数 {parameter} 无效：") and words in body["error"], body["error"]
    validate(body, "/components/schemas/Error")


@pytest.mark.parametrize("data, content_type, status, words", [
    ('{"text": "现答复如下",}', "application/json", 400, "请求体不是有效的 JSON：第 1 行第 18 列有误"),
    ("[1, 2]", "application/json", 400, "请求体应为 JSON 对象"),
    ("[" * 100_000, "application/json", 400, "嵌套过深"),
    ("现答复如下", "text/plain", 415, "请求体应为 JSON 对象"),
    ("", None, 415, "请求体应为 JSON 对象"),
    ('{"text": "' + "字" * MAX_BODY_BYTES + '"}', "application/json", 413, "请求内容过大"),
])
def test_a_body_that_is_not_a_json_object_or_a_form_is_refused_saying_why(client, data, content_type, status, words):
    response = client.post("/api/precedents", data=data.encode(), content_type=content_type)
    body = response.get_json()
    assert response.status_code == status and body["parameter"] is None, body
    assert words in body["error"], body["error"]
    validate(body, "/components/schemas/Error")


def test_a_script_of_an_allowed_origin_may_post_json(archive_dir, index_dir):
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir),
                         "CORS_ORIGINS": "https://notebook.example"}).test_client()
    preflight = client.options("/api/precedents", headers={
        "Origin": "https://notebook.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    })
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://notebook.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    posted = client.post("/api/precedents", json={"text": PARAPHRASE}, headers={"Origin": "https://notebook.example"})
    assert posted.status_code == 200 and posted.headers["Access-Control-Allow-Origin"] == "https://notebook.example"


def test_other_methods_are_refused_with_allow(client):
    response = client.put("/api/precedents", json={"text": PARAPHRASE})
    assert response.status_code == 405 and {"GET", "POST"} <= set(response.headers["Allow"].split(", "))
    assert client.delete("/precedents").status_code == 405


# --- long pastes in the search box ------------------------------------------------------


def test_the_search_boxes_send_a_longer_text_to_precedents(client):
    for url in ("/", "/search?q=养老"):
        forms = re.findall(r'<form class="search-form[^"]*"[^>]*>', client.get(url).get_data(as_text=True))
        assert forms and all('data-long-text="/precedents"' in form for form in forms), url


def test_no_link_or_field_of_a_results_page_repeats_more_of_a_query_than_the_index_reads(client, archive_dir):
    long = draft(archive_dir, 3000).replace("\n", " ")
    for path in ("/search", "/stats", "/commitments", "/facets/department"):
        html = client.get(path, query_string={"q": long, "year": "2022"}).get_data(as_text=True)
        urls = [unescape(u) for u in re.findall(r'(?:href|action)="([^"]*)"', html)]
        queries = [q for u in urls for q in parse_qs(urlsplit(u).query).get("q", [])]
        values = [unescape(v) for v in re.findall(r'<input[^>]* name="q"[^>]* value="([^"]*)"', html)]
        assert queries and all(len(q) <= MAX_QUERY_CHARS for q in queries + values), path
        assert long.strip()[:MAX_QUERY_CHARS] in queries + values, path
    page = client.get("/search", query_string={"q": long}).get_data(as_text=True)
    assert "请用<a href=\"/precedents\">查找先例</a>" in page


# --- reuse on a reply's page ------------------------------------------------------------


def test_a_reply_lists_the_paragraphs_earlier_replies_said_with_links_and_its_new_share(recycling, replies):
    client, recycled = recycling
    earlier = next(r for r in replies if r.proposal_numbers == ("20200031",))
    earlier_page = client.get(f"/replies/{earlier.id}").get_data(as_text=True)
    page = client.get(f"/replies/{recycled.id}").get_data(as_text=True)
    section = page[page.index('<section class="related reuse"'):]
    section = section[:section.index("</section>")]
    assert "与既往答复重复的段落" in section
    for start in REPEATED:
        number, theirs = anchor(page, start), anchor(earlier_page, start)
        item = re.search(rf'<li data-paragraph="{number}"><a href="#p-{number}">第 {number} 段</a>(.*?)</li>',
                         section, re.S)
        assert item and f'href="/replies/{earlier.id}#p-{theirs}" data-earlier>{earlier.title}</a>' in item.group(1)
        assert earlier.department in item.group(1)
    with client.application.app_context():
        share = reply_index().reuse(recycled.id).new_share
    assert 0 < share < 1 and f"新内容约占 {round(share * 100)}%" in section
    assert "与既往答复重复的段落" not in earlier_page  # the earlier one said them first


def test_a_reply_page_renders_without_reuse_when_the_cluster_cannot_answer(recycling, monkeypatch):
    client, recycled = recycling

    def unavailable(*args, **kwargs):
        raise ClusterError("no shard answered")

    with client.application.app_context():
        monkeypatch.setattr(reply_index(), "reuse", unavailable)
    response = client.get(f"/replies/{recycled.id}")
    assert response.status_code == 200 and "与既往答复重复的段落" not in response.get_data(as_text=True)
    assert recycled.title in response.get_data(as_text=True)


# --- the proposal a reply answers, beside its title --------------------------------------


def test_lists_show_the_proposal_a_reply_answers(client, replies, seed_reply):
    npc = next(r for r in replies if r.channel == "npc")
    search = client.get("/search").get_data(as_text=True)
    assert f'<span class="subject">提案：《{seed_reply.proposal_title}》</span>' in search
    assert f'<span class="subject">建议：《{npc.proposal_title}》</span>' in search
    for url in ("/commitments", "/review", f"/replies/{npc.id}"):
        html = client.get(url).get_data(as_text=True)
        subjects = re.findall(r'<span class="subject">(提案|建议)：《([^》]+)》</span>', html)
        assert subjects and {title for _, title in subjects} <= {r.proposal_title for r in replies}, url


@pytest.mark.parametrize(("channel", "title", "kind"), [
    ("cppcc", "关于加强社区养老服务的答复", "提案"),  # the channel says, though the title does not
    ("npc", "关于加强社区养老服务的答复", "建议"),
    (None, "关于第0087号建议的答复", "建议"),  # no channel: the title says
    (None, "关于加强社区养老服务的答复", "提案（建议）"),  # nothing says
])
def test_the_subject_is_named_by_the_reply_s_channel_first(client, channel, title, kind):
    hit = SimpleNamespace(proposal_title="加强社区养老服务", channel=channel, title=title)
    subject = client.application.jinja_env.get_template("_subject.html").module.subject(hit)
    assert str(subject) == f'<span class="subject">{kind}：《加强社区养老服务》</span>'


def test_a_paste_splits_into_its_paragraphs_whatever_its_line_breaks(client):
    crlf = client.post("/api/precedents", data=json.dumps({"text": PARAPHRASE + "\r\n" + SAID}),
                       content_type="application/json").get_json()
    assert [p["text"] for p in crlf["pieces"]] == [PARAPHRASE, SAID]
