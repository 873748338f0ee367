"""Shared fixtures: the bundled sample archive, parsed once, and an index built from it.

Tests that write build their own archive or index under ``tmp_path``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import jieba
import pytest

from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.model import Reply
from reply_archive.archive.store import iter_replies
from reply_archive.archive.tables import department_names
from reply_archive.indexer import analysis
from reply_archive.indexer.build import build_index
from reply_archive.indexer.search import ReplyIndex
from reply_archive.web import create_app

from .opensearch_cluster import opensearch_cluster  # noqa: F401 - the cluster fixture, for every test module

SEED = data.path("seed", "seed_reply.txt")


@pytest.fixture(autouse=True, scope="session")
def _data_home(tmp_path_factory) -> None:
    """Keep every default folder (archive, index, instance) out of the user's own data
    folder: a command a test runs without --archive writes under a temporary one."""
    os.environ["REPLY_ARCHIVE_HOME"] = str(tmp_path_factory.mktemp("home"))


def open_index(folder: str | Path) -> ReplyIndex:
    """Return the one ReplyIndex of a folder for the whole session, as a web app holds
    one: it sees each new build of the folder, as the app does."""
    return _open_index(Path(folder).resolve())


@functools.cache
def _open_index(folder: Path) -> ReplyIndex:
    return ReplyIndex(folder)


@pytest.fixture(scope="session")
def archive_dir(tmp_path_factory) -> Path:
    """Return an archive holding the seed reply and the fictional samples."""
    root = tmp_path_factory.mktemp("archive")
    assert ingest([data.path("seed")], root).ok
    assert ingest([data.path("samples")], root, sample=True).ok
    return root


@pytest.fixture(scope="session")
def replies(archive_dir) -> list[Reply]:
    """Return every record of the sample archive."""
    return list(iter_replies(archive_dir))


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, replies) -> Path:
    """Return an index of the sample archive, built once per session."""
    root = tmp_path_factory.mktemp("index")
    build_index(replies, root, aliases=department_names())
    return root


@pytest.fixture(scope="session")
def seed_reply(replies) -> Reply:
    """Return the record of the real seed reply."""
    return next(r for r in replies if r.source.file.endswith("seed_reply.txt"))


@pytest.fixture
def app(archive_dir, index_dir):
    return create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def use_dictionary(monkeypatch):
    """Return a function that makes a text this process's domain dictionary, as if the
    dictionary's file held it, until the test ends."""
    forced = set(jieba.finalseg.Force_Split_Words)  # jieba's module-wide set

    def forget() -> None:
        analysis._segmenter = analysis._dictionary = None
        for cached in (analysis._cut, analysis._clause_tokens, analysis.longest_word):
            cached.cache_clear()
        jieba.finalseg.Force_Split_Words.clear()
        jieba.finalseg.Force_Split_Words.update(forced)

    def use(text: str) -> None:
        monkeypatch.setattr(analysis, "user_dictionary", lambda: text)
        forget()

    yield use
    forget()  # the next segmenter loads the file's dictionary again
