"""Production serving, as README's Deploying section runs it: gunicorn with gunicorn.conf.py.

The server tests start gunicorn as a user does (the venv's ``gunicorn -c gunicorn.conf.py``
in a folder holding the config, the archive and the index, built with the CLI, under
REPLY_ARCHIVE_HOME), on free loopback ports; the rest drive the app's hooks through
Flask's test client.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import runpy
import shutil
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from click.testing import CliRunner

from reply_archive import data
from reply_archive.indexer.query import MAX_QUERY_CHARS
from reply_archive.indexer.settings import SettingError
from reply_archive.web import create_app, reply_index
from reply_archive.web.cli import cli
from reply_archive.web.serving import KEYED_ENDPOINTS

from .servers import ROOT, Server

README = (ROOT / "README.md").read_text(encoding="utf-8")
DEPLOYING = README.split("\n## Deploying\n", 1)[1].split("\n## ", 1)[0]
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "archive.example.org"}


def reply_archive(*args: object) -> None:
    """Run a reply-archive command (in this process: a command's start costs 2 s)."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def index(home: Path) -> None:
    """Bring the index of the deployment in ``home`` up to date, as ``reply-archive index`` does there."""
    reply_archive("index", "--archive", home / "archive", "--index", home / "index")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """Return a deployment folder as the README's steps 1 and 2 leave it (the archive and
    index folders REPLY_ARCHIVE_HOME implies)."""
    home = tmp_path_factory.mktemp("srv")
    shutil.copy(ROOT / "gunicorn.conf.py", home)
    reply_archive("ingest", "--sample", data.path("samples"), "--archive", home / "archive")
    index(home)
    return home


@pytest.fixture(scope="module")
def servers(home):
    """Return two gunicorns serving ``home``: behind one trusted proxy, and behind none
    (started together: each takes seconds to boot). Stopped at the end."""
    started = Server(home, proxies=1), Server(home, proxies=0)
    try:
        for server in started:
            server.wait_healthy()
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def server(servers) -> Server:
    return servers[0]


def test_the_readme_deploys_as_these_tests_do():
    for step in ("pip install '/path/to/reply-archive[serve]'", "cp /path/to/reply-archive/gunicorn.conf.py",
                 "export REPLY_ARCHIVE_HOME=", "reply-archive ingest", "reply-archive index",
                 "REPLY_ARCHIVE_PROXIES=1 gunicorn -c gunicorn.conf.py", "/healthz", "-H 'X-Forwarded-Proto: https'",
                 "-H 'X-Forwarded-Host: archive.example.org'", "-H 'X-Forwarded-Prefix: /archive'", "kill -TERM",
                 "```nginx", "```ini", "ExecStart=/srv/reply-archive/venv/bin/gunicorn -c gunicorn.conf.py"):
        assert step in DEPLOYING, step
    assert "gunicorn -c gunicorn.conf.py" in (ROOT / "Makefile").read_text()


def test_health_names_the_generation_and_counts_replies_and_records(server):
    response = server.get("/healthz")
    body = json.loads(response.body)
    assert response.status == 200 and response.headers.get("Cache-Control") == "no-store"
    assert body == {"ok": True, "status": "ok", "generation": body["generation"], "replies": 15, "records": 15}
    assert body["generation"].startswith("gen-")


def test_exported_links_follow_the_proxys_scheme_and_host(server):
    path = "/api/export?" + urlencode({"q": "养老", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(server.get(path, FORWARDED).body.decode("utf-8-sig"))))
    assert rows and all(row["链接"].startswith("https://archive.example.org/replies/") for row in rows)
    direct = list(csv.DictReader(io.StringIO(server.get(path).body.decode("utf-8-sig"))))
    assert [row["链接"] for row in direct] == [
        row["链接"].replace("https://archive.example.org", server.url) for row in rows
    ]


def test_a_path_prefix_keeps_every_link_and_redirect_under_it(server):
    prefixed = {**FORWARDED, "X-Forwarded-Prefix": "/archive"}
    export = server.get("/api/export?" + urlencode({"q": "养老", "format": "csv"}), prefixed)
    rows = list(csv.DictReader(io.StringIO(export.body.decode("utf-8-sig"))))
    assert rows and all(row["链接"].startswith("https://archive.example.org/archive/replies/") for row in rows)
    page = server.get("/search?q=" + quote("养老"), prefixed).body.decode()
    links = re.findall(r'(?:href|src|action)="([^"#]+)"', page)
    assert links and all(link.startswith("/archive/") for link in links), links
    redirect = server.get("/search?year_from=2020&year_to=2022", prefixed)
    assert redirect.status == 302 and redirect.headers.get("Location") == "/archive/search?year=2020-2022"


def test_text_answers_are_gzipped_for_clients_that_accept_it(server):
    path = "/api/search?q=" + quote("养老")
    plain = server.get(path)
    zipped = server.get(path, {"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None and "Accept-Encoding" in plain.headers.get("Vary")
    assert zipped.headers.get("Content-Encoding") == "gzip" and "Accept-Encoding" in zipped.headers.get("Vary")
    assert int(zipped.headers.get("Content-Length")) == len(zipped.body) < len(plain.body) / 2
    assert json.loads(gzip.decompress(zipped.body))["hits"] == json.loads(plain.body)["hits"]
    small = server.get("/healthz", {"Accept-Encoding": "gzip"})
    assert small.headers.get("Content-Encoding") is None  # under a kilobyte


def test_a_query_longer_than_the_app_reads_gets_its_notice_not_a_414(server):
    path = "/api/search?q=" + quote("养" * (MAX_QUERY_CHARS + 200))
    assert len(f"GET {path} HTTP/1.1") > 4094  # gunicorn's default limit
    response = server.get(path)
    assert response.status == 200
    assert "检索式过长" in json.loads(response.body)["query"]["notice"]


def test_a_revalidated_answer_is_a_304_until_the_next_build(server, home):
    path = "/api/search?q=" + quote("养老")
    first = server.get(path)
    etag = first.headers.get("ETag")
    assert etag.startswith('W/"') and first.headers.get("Cache-Control") == "no-cache"
    again = server.get(path, {"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status == 304 and again.body == b"" and again.headers.get("ETag") == etag
    reply_id = json.loads(first.body)["hits"][0]["id"]
    page = server.get(f"/replies/{reply_id}").headers.get("ETag")
    assert server.get(f"/replies/{reply_id}", {"If-None-Match": page}).status == 304
    assert server.get("/api/search?page=0").headers.get("ETag") is None  # an error

    # The record is edited: its page is sent anew at once, the index is stale until built.
    record = home / "archive" / f"{reply_id}.md"
    os.utime(record, ns=(record.stat().st_atime_ns, record.stat().st_mtime_ns + 1_000_000_000))
    assert server.get(f"/replies/{reply_id}", {"If-None-Match": page}).status == 200
    stale = server.get("/healthz")
    assert stale.status == 503 and json.loads(stale.body)["status"] == "stale"
    generation = json.loads(stale.body)["generation"]
    index(home)
    healthy = json.loads(server.get("/healthz").body)
    assert healthy["status"] == "ok" and healthy["generation"] != generation
    rebuilt = server.get(path, {"If-None-Match": etag})
    assert rebuilt.status == 200 and rebuilt.headers.get("ETag") != etag


def test_without_trusted_proxies_forwarded_headers_are_ignored_also_by_gunicorn(servers):
    untrusting = servers[1]
    headers = {**FORWARDED, "X-Forwarded-Prefix": "/archive", "X-Forwarded-For": "203.0.113.9"}
    body = untrusting.get("/api/export?format=jsonl", headers).body.decode()
    urls = [json.loads(line)["url"] for line in body.splitlines()]
    assert urls and all(url.startswith(f"http://127.0.0.1:{untrusting.port}/replies/") for url in urls)
    assert untrusting.stop() == 0
    assert "203.0.113.9" not in untrusting.output() and "GET /api/export?format=jsonl" in untrusting.output()


def test_sigterm_stops_it_cleanly_with_an_access_log_on_stdout(server):
    server.get("/api/search?q=" + quote("养老"), {"X-Forwarded-For": "203.0.113.9"})
    assert server.stop() == 0
    output = server.output()
    assert "Traceback" not in output and "Shutting down: Master" in output
    assert re.search(r'^203\.0\.113\.9 .* "GET /api/search\?q=%E5%85%BB%E8%80%81 HTTP/1\.1" 200 \d+ .* \d+ms$',
                     output, re.M), output


# --- the settings and hooks, through the test client ---------------------------------


def test_the_request_line_holds_the_longest_query_the_app_reads():
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # 12 bytes for a character percent-encoded, 100 for the method, path, other
    # parameters and protocol; gunicorn allows 8,190 at most.
    assert MAX_QUERY_CHARS * 12 + 100 <= conf["limit_request_line"] <= 8190
    assert conf["wsgi_app"] == "reply_archive.web.wsgi:app" and conf["preload_app"] and conf["accesslog"] == "-"
    assert (conf["bind"], conf["workers"], conf["threads"]) == ("127.0.0.1:5000", 2, 4)  # Makefile's defaults


@pytest.mark.parametrize("value", ["many", "-1", -1, True, 1.5])
def test_a_bad_proxies_setting_stops_the_app_naming_it(archive_dir, index_dir, value):
    with pytest.raises(SettingError, match="PROXIES"):
        create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir), "PROXIES": value})


def test_health_is_unavailable_without_an_index_and_stale_without_its_build_record(tmp_path, archive_dir, index_dir):
    missing = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(tmp_path)})
    response = missing.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "status": "unavailable", "generation": None, "replies": None,
                                   "records": 16}
    # The session's index was built without the CLI's record of the archive it read.
    built = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir)})
    assert built.test_client().get("/healthz").get_json()["status"] == "stale"


def test_an_answer_that_may_have_run_out_of_time_carries_no_etag(archive_dir, index_dir):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir),
                      "QUERY_SECONDS": 0})
    response = app.test_client().get("/api/search?q=养老")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    assert "ETag" not in response.headers


def test_streamed_exports_and_files_are_not_gzipped(client, seed_reply):
    for path in ("/api/export?format=csv", "/static/style.css", f"/replies/{seed_reply.id}/source"):
        with client.get(path, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.status_code == 200 and "Content-Encoding" not in response.headers, path


def test_the_review_page_reading_records_carries_no_etag(client):
    response = client.get("/review")
    assert response.status_code == 200 and "ETag" not in response.headers


def test_every_keyed_endpoint_is_a_route_of_the_app(app):
    assert set(KEYED_ENDPOINTS) <= {rule.endpoint for rule in app.url_map.iter_rules()}


def test_a_304_is_answered_without_searching(app):
    client = app.test_client()
    etag = client.get("/api/search?q=港澳").headers["ETag"]
    with app.app_context():
        searched = reply_index().cache_info()  # (matches served from memory, computed)
        response = client.get("/api/search?q=港澳", headers={"If-None-Match": etag})
        assert response.status_code == 304 and reply_index().cache_info() == searched
