"""Index builds: atomic swap, failures leave the old index, one build at a time."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from reply_archive.indexer.analysis import exact_text, fold
from reply_archive.indexer.build import build_index, build_lock, current_generation, index_info, update_index
from reply_archive.indexer.errors import IndexerError
from reply_archive.web import create_app
from tests.conftest import open_index
from tests.test_hardening import _session_members


def test_rebuild_swaps_generations_and_the_searcher_follows(tmp_path, replies):
    build_index(replies[:3], tmp_path, info=lambda: {"built": "one"})
    first = current_generation(tmp_path)
    assert open_index(tmp_path).search("").total == 3 and index_info(tmp_path) == {"built": "one"}
    build_index(replies, tmp_path)
    assert current_generation(tmp_path) != first
    assert open_index(tmp_path).search("").total == len(replies)  # no restart needed
    assert index_info(tmp_path) is None


def test_a_failing_build_leaves_the_current_index_serving(tmp_path, replies):
    build_index(replies, tmp_path)
    before = current_generation(tmp_path)

    def broken():
        yield replies[0]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        build_index(broken(), tmp_path)
    assert current_generation(tmp_path) == before
    assert open_index(tmp_path).search("").total == len(replies)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("gen-")) == [before.name]


def test_old_generations_are_removed_but_one(tmp_path, replies):
    for _ in range(4):
        build_index(replies[:2], tmp_path)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("gen-")]) == 2


def test_a_second_build_stops_with_a_clear_message(tmp_path, replies):
    with build_lock(tmp_path):
        with pytest.raises(IndexerError, match="another index build is running"):
            build_index(replies, tmp_path)


KILLED_BUILD = """
import sys
from pathlib import Path
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.build import build_index
replies = list(iter_replies(Path(sys.argv[1]))) * 40  # long enough to be killed midway
build_index(replies, Path(sys.argv[2]))
"""


def test_sigkill_at_any_point_of_a_build_leaves_the_previous_index_serving(tmp_path, archive_dir, replies):
    """Kill builds at several points; the old index keeps answering and a rerun completes."""
    index = tmp_path / "index"
    build_index(replies, index)
    serving = current_generation(index)
    expected = open_index(index).search("收悉").total
    root = Path(__file__).resolve().parent.parent
    kills = 0
    for delay in (0.3, 0.8, 1.5, 2.5, 4.0):
        child = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(archive_dir), str(index)], cwd=root)
        time.sleep(delay)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.wait()
        finished = current_generation(index) != serving  # the build beat the kill
        assert open_index(index).search("收悉").total == (expected * 40 if finished else expected)
        serving = current_generation(index)
    assert kills >= 3  # most runs were killed midway, not after they finished
    build_index(replies, index)
    assert open_index(index).search("收悉").total == expected
    leftovers = [p.name for p in index.iterdir() if p.name.startswith((".current-", "gen-"))]
    assert len([n for n in leftovers if n.startswith("gen-")]) <= 2
    assert not [n for n in leftovers if n.startswith(".current-")]


POOL_INTERRUPTED_BUILD = """
import os, signal, sys
from multiprocessing.pool import Pool
from pathlib import Path
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.build import build_index
signal.signal(signal.SIGINT, signal.default_int_handler)
hand_out_tasks = Pool._handle_tasks

def interrupted(*args):  # Ctrl-C as the pool starts its threads
    os.kill(os.getpid(), signal.SIGINT)
    hand_out_tasks(*args)

Pool._handle_tasks = staticmethod(interrupted)
try:
    build_index(iter_replies(Path(sys.argv[1])), Path(sys.argv[2]), procs=2)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_while_a_parallel_build_starts_its_workers_leaves_none_behind(tmp_path, archive_dir):
    """Interrupted inside ``Pool()``, a build once left a pool nothing stopped: at exit
    it forked new workers that held the build's output open for ever."""
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen(
        [sys.executable, "-c", POOL_INTERRUPTED_BUILD, str(archive_dir), str(tmp_path / "index")],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        _, err = child.communicate(timeout=30)
    finally:
        for pid in _session_members(child.pid):
            os.kill(pid, signal.SIGKILL)
    assert child.returncode == 130, err.decode()
    assert _session_members(child.pid) == []
    assert not list((tmp_path / "index").glob("gen-*"))


def test_searches_keep_answering_during_a_rebuild(tmp_path, replies):
    build_index(replies, tmp_path)
    expected = open_index(tmp_path).search("收悉").total
    errors: list[Exception] = []
    done = threading.Event()

    def keep_searching():
        while not done.is_set():
            try:
                assert open_index(tmp_path).search("收悉").total == expected
            except Exception as exc:  # collected and reported below
                errors.append(exc)

    threads = [threading.Thread(target=keep_searching) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        build_index(replies, tmp_path)
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_parallel_build_finds_what_a_single_process_build_finds(tmp_path, replies):
    build_index(replies, tmp_path / "one")
    build_index(replies, tmp_path / "two", procs=2)
    for q in ("收悉", '"现答复如下"', "深港", "year:2023 养老", ""):
        one = open_index(tmp_path / "one").search(q, per_page=100)
        two = open_index(tmp_path / "two").search(q, per_page=100)
        assert {h.id for h in one.hits} == {h.id for h in two.hits}, q
        assert [(f.name, f.values) for f in one.facets] == [(f.name, f.values) for f in two.facets], q


def test_an_index_of_another_format_version_is_a_clear_error_not_a_crash(tmp_path, replies, archive_dir):
    build_index(replies, tmp_path)
    (current_generation(tmp_path) / "index.format").write_text("1")
    with pytest.raises(IndexerError, match="reply-archive index --rebuild"):
        open_index(tmp_path).search("深港")
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(tmp_path)}).test_client()
    assert client.get("/api/search?q=深港").status_code == 503
    assert client.get("/search?q=深港").status_code == 503


def test_an_update_adds_replaces_and_deletes_in_a_new_generation(tmp_path, replies):
    build_index(replies[:10], tmp_path)
    before = current_generation(tmp_path)
    changed = dataclasses.replace(replies[0], title=replies[0].title + "（修订）")
    count = update_index([changed, *replies[10:]], tmp_path, delete=[replies[1].id], info=lambda: {"n": 2})
    assert count == 1 + len(replies) - 10
    assert current_generation(tmp_path) != before and index_info(tmp_path) == {"n": 2}
    expected = {r.id for r in replies} - {replies[1].id}
    assert {h.id for h in open_index(tmp_path).search("", per_page=100).hits} == expected
    assert open_index(tmp_path).search('"（修订）"').hits[0].id == replies[0].id  # replaced, not duplicated
    assert open_index(tmp_path).search("").total == len(expected)


def test_an_update_links_the_segments_it_keeps_and_leaves_the_previous_generation_intact(tmp_path, replies):
    build_index(replies[:10], tmp_path)
    before = current_generation(tmp_path)
    segments = {p.name: p.stat().st_ino for p in before.glob("*.seg")}
    update_index(replies[10:], tmp_path, delete=[replies[1].id])
    after = current_generation(tmp_path)
    assert segments and all((after / name).stat().st_ino == ino for name, ino in segments.items())
    with whoosh_index.open_dir(str(before)).searcher() as searcher:  # kept one round, as it was
        assert searcher.doc_count() == 10 and searcher.document_number(id=replies[1].id) is not None


def test_an_update_needs_an_index_to_update(tmp_path, replies):
    with pytest.raises(IndexerError, match="reply-archive index"):
        update_index(replies, tmp_path)


def test_only_the_body_keeps_positions(tmp_path, replies):
    build_index(replies[:2], tmp_path)
    schema = whoosh_index.open_dir(str(current_generation(tmp_path))).schema
    positioned = [name for name in schema.names() if schema[name].format and schema[name].format.supports("positions")]
    assert positioned == ["body"]


def test_phrases_matched_by_whoosh_read_the_stored_texts(tmp_path, replies):
    # Without the texts files (and inside a proximity query, which the arrays leave to
    # Whoosh), an exact phrase is checked in each candidate's stored text.
    build_index(replies, tmp_path)
    for texts in current_generation(tmp_path).glob("texts-*"):
        texts.unlink()
    haystacks = {r.id: fold(exact_text(r.title, r.proposal_title, r.searchable_body)) for r in replies}
    for phrase in ("现答复如下", "答复如下", "感谢您对", "不存在的说法"):
        expected = {rid for rid, text in haystacks.items() if phrase in text}
        assert {h.id for h in open_index(tmp_path).export(f'"{phrase}"')} == expected, phrase
        nearby = {h.id for h in open_index(tmp_path).export(f'"{phrase}" "工作 推进"~5')}
        assert nearby <= expected, phrase
