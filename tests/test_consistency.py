"""One schema, one facet list, one dependency direction."""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

from reply_archive.archive.model import Reply
from reply_archive.indexer.schema import FACETS, build_schema
from reply_archive.web.render import _PANEL, labels

ROOT = Path(__file__).resolve().parent.parent


def test_every_facet_is_a_field_a_record_attribute_and_has_a_label():
    schema = build_schema()
    empty = Reply(id="0" * 16, title="t", body="b")
    for facet in FACETS:
        assert facet.name in schema.names()
        functools.reduce(getattr, facet.attr.split("."), empty)  # a nested one: assembly.level
        assert labels()["facets"][facet.name]
    assert set(labels()["facets"]) == {f.name for f in FACETS}


def test_every_field_shown_in_the_ui_has_a_label_and_is_a_field():
    attrs = {f.name for f in dataclasses.fields(Reply)}
    assert set(_PANEL) <= set(labels()["fields"])  # a missing label would be a KeyError, a 500
    assert set(labels()["fields"]) <= attrs


def test_web_never_touches_whoosh_and_archive_imports_neither_layer():
    for path in (ROOT / "web").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+whoosh", path.read_text(), re.M), path
    for path in (ROOT / "archive").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+(reply_archive\.)?(indexer|web)\b|^\s*from\s+reply_archive\s+import\s+(indexer|web)\b", path.read_text(), re.M), path
    for path in (ROOT / "indexer").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(reply_archive\.)?web\b|^\s*from\s+reply_archive\s+import\s+web\b", text, re.M), path
        # The record model, and the text normalisation parsing and indexing share. Sync is
        # where the archive meets the index: it alone also reads the record files, the
        # alias table and the archive's record errors. What a sentence is (text) and the
        # lock both layers take (locking) are defined once, in the archive, for both.
        shared = "model|clean|text|locking"
        allowed = f"{shared}|store|tables|errors" if path.name == "sync.py" else shared
        assert not re.search(rf"^\s*from\s+reply_archive\.archive\.(?!(?:{allowed})\b)", text, re.M), path
        assert not re.search(r"^\s*(import\s+reply_archive\.archive\b|from\s+reply_archive\.archive\s+import|from\s+reply_archive\s+import\s+archive\b)", text, re.M), path
