"""Property-based tests: no query string and no parameter value ever gets a 5xx, and no
hand-edited front matter crashes the store."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reply_archive.archive.errors import RecordError
from reply_archive.archive.model import Reply
from reply_archive.archive.store import from_markdown, to_markdown
from reply_archive.indexer.schema import FACET_NAMES
from reply_archive.web.render import metadata_rows
from tests.payloads import PAYLOADS

# Text a user might send: Chinese, ASCII operators and punctuation, control characters.
QUERY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from('深港合作养老托育收悉答复"“”「」()（）-|~:：*?ＯＲAND OR NOT 同句同段 year:title:\x1f\x00\n\t'),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
)
VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "2019-2022", "9999-0", "20x", "%00", "../..", *PAYLOADS[:5]]),
)
PARAMS = st.dictionaries(
    st.sampled_from(
        ["q", "page", "per_page", "sort", "format", "chart", "limit", "fq", "year_from", "year_to", *FACET_NAMES]
    ),
    VALUES,
    max_size=6,
)
URLS = ["/search", "/api/search", "/api/export", "/api/stats", "/stats", "/commitments", "/facets/department", "/"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(q=QUERY_TEXT)
def test_any_query_string_gets_an_answer(client, q):
    for url in ("/search", "/api/search"):
        response = client.get(url, query_string={"q": q})
        assert response.status_code == 200, (url, q)


@FUZZ
@given(url=st.sampled_from(URLS), params=PARAMS)
def test_any_parameters_get_a_4xx_at_worst(client, url, params):
    response = client.get(url, query_string=params)
    assert response.status_code < 500, (url, params, response.get_data(as_text=True)[:300])
    if url.startswith("/api/") and response.status_code >= 400:
        assert response.get_json()["ok"] is False


@FUZZ
@given(reply_id=st.text(max_size=60))
def test_any_reply_id_gets_a_404_at_worst(client, reply_id):
    for url in (f"/replies/{reply_id}", f"/api/replies/{reply_id}", f"/api/replies/{reply_id}/similar"):
        response = client.get(url.replace("?", "%3F").replace("#", "%23"))
        assert response.status_code < 500, (url, response.status_code)


# Front matter as a hand edit can leave it: any field of the record (and a few that are
# none), holding any YAML value: scalars of every kind, lists, mappings, nesting, tags,
# anchors and aliases.
_FIELDS = [f.name for f in dataclasses.fields(Reply)] + ["colour", "record_sha256", "body"]
_SCALARS = st.sampled_from(
    ["''", "~", "0", "-1", "0x1f", "1e400", "2023-02-30", "2023-06-01", "'20230619'", "yes", "no", ".nan", "[]", "{}",
     "!!float abc", "!!binary aGVsbG8=", "&a x", "*a", "<<: {level: city}", "'0045'", "0045", "abcdef0123456789",
     "\"a\\nb\"", "'../../etc/passwd'", "[a, [b]]", "{level: [city]}", "{file: x, sha256: y}", "9" * 5000]
)
FRONT_MATTER = st.lists(st.tuples(st.sampled_from(_FIELDS), st.one_of(_SCALARS, st.text(max_size=20))), max_size=8)


@FUZZ
@given(pairs=FRONT_MATTER)
def test_any_hand_edited_front_matter_is_a_record_or_a_record_error(pairs):
    lines = "\n".join(f"{name}: {value}" for name, value in pairs)
    text = f"---\nid: 0123456789abcdef\ntitle: t\n{lines}\n---\n\n正文。\n"
    try:
        reply = from_markdown(text, "edited.md")
    except RecordError:
        return
    # Whatever is accepted is usable: it round-trips through the store and renders.
    assert from_markdown(to_markdown(reply), "again.md") == reply
    metadata_rows(reply)
