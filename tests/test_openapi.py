"""The OpenAPI document: it describes every /api route and parameter, and real responses
of every endpoint, errors included, match its schemas."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from reply_archive.indexer.backend import SORTS
from reply_archive.indexer.errors import IndexBusy
from reply_archive.indexer.schema import FACET_NAMES
from reply_archive.web import create_app, reply_index
from reply_archive.web.formats import EXPORT_COLUMNS
from reply_archive.web.params import API_PARAMETERS

DOC: dict[str, Any] = json.loads(files("reply_archive.web").joinpath("openapi.json").read_text(encoding="utf-8"))
URI = "urn:reply-archive:openapi"
REGISTRY: Registry = Registry().with_resource(URI, DRAFT202012.create_resource(DOC))
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def pointer(*parts: str) -> str:
    """Return the JSON pointer (RFC 6901) of a place in the document."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def resolve(node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Return the object a ``$ref`` names (and its pointer), or the node itself."""
    if "$ref" not in node:
        return node, None
    ref = node["$ref"].removeprefix("#")
    return REGISTRY.resolver().lookup(f"{URI}#{ref}").contents, ref


def validate(instance: Any, at: str) -> None:
    """Validate data against the schema at a pointer of the document (its refs resolved)."""
    schema = {"$ref": f"{URI}#{at}"}
    Draft202012Validator(schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        instance
    )


def operation(path: str) -> dict[str, Any]:
    return DOC["paths"][path]["get"]


def check(response, path: str) -> None:
    """Check a real response against its operation: status, media type, headers and body."""
    responses = operation(path)["responses"]
    status = str(response.status_code)
    key = status if status in responses else "default"
    assert key in responses, (path, status)
    documented, ref = resolve(responses[key])
    base = ref or pointer("paths", path, "get", "responses", key)
    assert response.mimetype in documented["content"], (path, status, response.mimetype)
    for name in documented.get("headers", {}):
        assert name in response.headers, (path, status, name)
    media = documented["content"][response.mimetype]
    if response.mimetype == "application/json":
        validate(response.get_json(), base + pointer("content", response.mimetype, "schema"))
    elif "x-itemSchema" in media:  # JSON Lines: each line is one item
        item = media["x-itemSchema"]["$ref"].removeprefix("#")
        for line in response.get_data(as_text=True).splitlines():
            validate(json.loads(line), item)
    else:
        assert isinstance(response.get_data(as_text=True), str)


def test_the_document_is_served_and_is_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == DOC
    assert DOC["openapi"].startswith("3.1.") and {"title", "version"} <= set(DOC["info"])


def test_every_schema_is_valid_json_schema_and_every_ref_resolves():
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)

    def refs(node: Any):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(DOC):
        assert ref.startswith("#/"), ref
        REGISTRY.resolver().lookup(f"{URI}{ref}")  # raises on a dangling ref


def _api_routes(app) -> dict[str, tuple[str, set[str]]]:
    """Return each /api route as an OpenAPI path: its endpoint and methods (HEAD, OPTIONS aside)."""
    return {
        re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule): (rule.endpoint, set(rule.methods) - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }


def test_every_api_route_is_documented_and_every_documented_path_is_a_route(app):
    routes = _api_routes(app)
    documented = {path: {m.upper() for m in item if m in METHODS} for path, item in DOC["paths"].items()}
    assert {path: methods for path, (_, methods) in routes.items()} == documented


def _query_parameters(path: str) -> list[dict[str, Any]]:
    found = [resolve(p)[0] for p in operation(path).get("parameters", [])]
    return [p for p in found if p["in"] == "query"]


@pytest.mark.parametrize("path", DOC["paths"])
def test_documented_query_parameters_are_exactly_those_the_endpoint_reads(app, path):
    endpoint, _ = _api_routes(app)[path]
    assert sorted(p["name"] for p in _query_parameters(path)) == sorted(API_PARAMETERS[endpoint])


def _example(parameter: dict[str, Any]) -> Any:
    schema = resolve(parameter["schema"])[0] | parameter["schema"]
    for key in ("example", "default"):
        if key in parameter or key in schema:
            return parameter.get(key, schema.get(key))
    return schema["enum"][0]


@pytest.mark.parametrize(
    "path, name", [(path, p["name"]) for path in DOC["paths"] for p in _query_parameters(path)]
)
def test_each_documented_query_parameter_is_accepted(client, seed_reply, path, name):
    parameter = next(p for p in _query_parameters(path) if p["name"] == name)
    response = client.get(path.format(reply_id=seed_reply.id), query_string={name: _example(parameter)})
    # chart= alone asks for format=csv: refused, but for the other parameter.
    assert response.status_code == 200 or response.get_json()["parameter"] != name, response.get_json()


def test_the_enums_are_the_code_s_lists():
    schemas = DOC["components"]["schemas"]
    assert schemas["FacetName"]["enum"] == list(FACET_NAMES)
    assert schemas["Sort"]["enum"] == list(SORTS)
    assert [*schemas["HitFields"]["properties"], *schemas["ExportRow"]["properties"]] == list(EXPORT_COLUMNS)


@pytest.mark.parametrize("url, path", [
    ("/api/search?q=深港&per_page=2", "/api/search"),
    ("/api/search?year=2019-2022&year=2023&sort=newest&page=2&per_page=3", "/api/search"),
    ("/api/search?q=\"这句话不存在于任何答复\"", "/api/search"),
    ("/api/commitments?per_page=2&topic=社会建设", "/api/commitments"),
    ("/api/export?q=收悉", "/api/export"),
    ("/api/export?format=csv", "/api/export"),
    ("/api/export?format=ris", "/api/export"),
    ("/api/stats?year=2023", "/api/stats"),
    ("/api/stats?chart=results&format=csv", "/api/stats"),
    ("/api/replies/{reply_id}/similar?limit=3", "/api/replies/{reply_id}/similar"),
    ("/api/openapi.json", "/api/openapi.json"),
    ("/api/search?bogus=1", "/api/search"),
    ("/api/search?year=abc", "/api/search"),
    ("/api/export?format=xml", "/api/export"),
    ("/api/stats?chart=colour&format=csv", "/api/stats"),
    ("/api/replies/ffffffffffffffff", "/api/replies/{reply_id}"),
    ("/api/replies/ffffffffffffffff/similar", "/api/replies/{reply_id}/similar"),
    ("/api/replies/{reply_id}/similar?limit=0", "/api/replies/{reply_id}/similar"),
    ("/api/openapi.json?x=1", "/api/openapi.json"),
])
def test_real_responses_match_the_document(client, seed_reply, url, path):
    check(client.get(url.format(reply_id=seed_reply.id)), path)


def test_every_record_matches_the_reply_schema(client, replies):
    for reply in replies:
        check(client.get(f"/api/replies/{reply.id}"), "/api/replies/{reply_id}")


def test_a_missing_index_answers_503_as_documented(archive_dir, tmp_path, seed_reply):
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(tmp_path)}).test_client()
    for path in ("/api/search", "/api/commitments", "/api/export", "/api/stats", "/api/replies/{reply_id}/similar"):
        response = client.get(path.format(reply_id=seed_reply.id))
        assert response.status_code == 503
        check(response, path)


def test_a_busy_index_answers_409_as_documented(app, monkeypatch):
    def busy(*args, **kwargs):
        raise IndexBusy(app.config["INDEX_DIR"])

    with app.app_context():
        monkeypatch.setattr(reply_index(), "search", busy)
    response = app.test_client().get("/api/search")
    assert response.status_code == 409
    check(response, "/api/search")


def test_other_methods_and_unknown_routes_answer_documented_errors(client):
    response = client.post("/api/search")
    assert response.status_code == 405
    documented = DOC["components"]["responses"]["MethodNotAllowed"]
    assert set(documented["headers"]) <= set(response.headers.keys())
    validate(response.get_json(), "/components/responses/MethodNotAllowed/content/application~1json/schema")
    validate(client.get("/api/no-such-endpoint").get_json(), "/components/schemas/Error")
