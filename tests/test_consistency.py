"""One schema, one facet list, one dependency direction."""

from __future__ import annotations

import configparser
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
        assert not re.search(r"^\s*(from|import)\s+(whoosh|opensearchpy)", path.read_text(), re.M), path
    # Each engine is imported by its backend's modules alone.
    # (analysis and schema define the analyzers both backends index with, as Whoosh objects.)
    engines = {"whoosh": ("whoosh_backend", "whoosh_query", "terms", "build", "schema", "analysis", "segment", "codec"),
               "opensearchpy": ("opensearch_backend",)}
    for path in (ROOT / "indexer").rglob("*.py"):
        for engine, modules in engines.items():
            if path.stem not in modules:
                assert not re.search(rf"^\s*(from|import)\s+{engine}\b", path.read_text(), re.M), (path, engine)
    for path in (ROOT / "archive").rglob("*.py"):
        assert not re.search(
            r"^\s*(from|import)\s+(reply_archive\.)?(indexer|web)\b"
            r"|^\s*from\s+reply_archive\s+import\s+(indexer|web)\b",
            path.read_text(),
            re.M,
        ), path
    for path in (ROOT / "indexer").rglob("*.py"):
        text = path.read_text()
        assert not re.search(
            r"^\s*(from|import)\s+(reply_archive\.)?web\b|^\s*from\s+reply_archive\s+import\s+web\b", text, re.M
        ), path
        # The record model, and the text normalisation parsing and indexing share. Sync is
        # where the archive meets the index: it alone also reads the record files, the
        # alias table and the archive's record errors. What a sentence is (text) and the
        # lock both layers take (locking) are defined once, in the archive, for both.
        shared = "model|clean|text|locking"
        allowed = f"{shared}|store|tables|errors|system" if path.name == "sync.py" else shared
        assert not re.search(rf"^\s*from\s+reply_archive\.archive\.(?!(?:{allowed})\b)", text, re.M), path
        assert not re.search(
            r"^\s*(import\s+reply_archive\.archive\b"
            r"|from\s+reply_archive\.archive\s+import"
            r"|from\s+reply_archive\s+import\s+archive\b)",
            text,
            re.M,
        ), path


def test_every_installed_folder_is_a_declared_package_of_the_namespace():
    # An undeclared folder of files is installed as data with a setuptools warning on
    # every install, or not at all; the namespace keeps generic names (data, web) out
    # of site-packages.
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    options = config["options"]
    mapped = dict(
        (part.strip() for part in line.split("=")) for line in options["package_dir"].strip().splitlines()
    )
    declared = set(options["packages"].split())
    assert set(mapped) == {f"reply_archive.{name}" for name in ("archive", "indexer", "web", "data")}
    for package, folder in mapped.items():
        for path in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            if path.is_dir() and path.name != "__pycache__" and any(p.is_file() for p in path.iterdir()):
                relative = path.relative_to(ROOT / folder).parts
                assert ".".join((package, *relative)) in declared, path
