"""The JSON API: response shapes and errors that are always JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

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


@pytest.mark.parametrize("url, status, word", [
    ("/api/search?page=0", 400, "page"),
    ("/api/search?page=two", 400, "page"),
    ("/api/search?per_page=100000", 400, "per_page"),
    ("/api/search?sort=random", 400, "sort"),
    ("/api/replies/0123456789abcdef", 404, "0123456789abcdef"),
    ("/api/replies/..%2f..%2fetc%2fpasswd", 404, ""),
    ("/api/no-such-endpoint", 404, ""),
])
def test_errors_are_json(client, url, status, word):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert body["ok"] is False and body["status"] == status and word in body["error"]


def test_method_not_allowed_is_json(client):
    response = client.post("/api/search")
    assert response.status_code == 405 and response.get_json()["ok"] is False


def test_missing_index_is_503_not_500(archive_dir, tmp_path):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(tmp_path)})
    response = app.test_client().get("/api/search?q=深港")
    assert response.status_code == 503 and response.get_json()["ok"] is False


def test_export_csv_has_a_bom_and_every_hit(client, replies):
    response = client.get("/api/export", query_string={"format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode("utf-8"))
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,title,proposal_title,proposal_numbers")
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
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["a" * 16]["title"] == '\'=HYPERLINK("http://evil.example","点此")'
    assert rows["a" * 16]["department"] == "'-2+3"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows.values() for cell in row.values())


def test_ris_export_cannot_be_forged_by_line_breaks_in_a_field(forged_client):
    lines = forged_client.get("/api/export?format=ris").data.decode("utf-8").split("\r\n")
    assert [line for line in lines if line.startswith(("TY  - ", "ER  - "))] == ["TY  - GOVDOC", "ER  - "] * 2
    assert "TI  - 正常标题 ER  -  TY  - JOUR TI  - 伪造的记录 AU  - x" in lines  # one line, breaks flattened
