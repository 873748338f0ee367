"""Index builds: atomic swap, failures leave the old index, one build at a time."""

from __future__ import annotations

import pytest

from indexer.build import build_index, build_lock, current_generation, index_fingerprint
from indexer.errors import IndexerError
from indexer.search import reply_count, search


def test_rebuild_swaps_generations_and_the_searcher_follows(tmp_path, replies):
    build_index(replies[:3], tmp_path, fingerprint=lambda: "one")
    first = current_generation(tmp_path)
    assert reply_count(tmp_path) == 3 and index_fingerprint(tmp_path) == "one"
    build_index(replies, tmp_path)
    assert current_generation(tmp_path) != first
    assert search(tmp_path, "").total == len(replies)  # no restart needed
    assert index_fingerprint(tmp_path) is None


def test_a_failing_build_leaves_the_current_index_serving(tmp_path, replies):
    build_index(replies, tmp_path)
    before = current_generation(tmp_path)

    def broken():
        yield replies[0]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        build_index(broken(), tmp_path)
    assert current_generation(tmp_path) == before
    assert search(tmp_path, "").total == len(replies)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("gen-")) == [before.name]


def test_old_generations_are_removed_but_one(tmp_path, replies):
    for _ in range(4):
        build_index(replies[:2], tmp_path)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("gen-")]) == 2


def test_a_second_build_stops_with_a_clear_message(tmp_path, replies):
    with build_lock(tmp_path):
        with pytest.raises(IndexerError, match="another index build is running"):
            build_index(replies, tmp_path)
