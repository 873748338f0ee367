"""Pathological inputs bounded: work per file and per token that grows linearly, an
empty archive that answers like any other, requests that cannot amplify their answer,
names that cannot break a header.

Timings are compared as ratios within one test, so a busy machine does not fail them: a
linear step grows about 4× when the input does, a quadratic one about 16×.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reply_archive.archive.clean import clean_text, mask_phones, normalise_line
from reply_archive.archive.errors import RecordError, ReplyNotFound
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import find_reply, iter_replies, record_path, save_source, source_path, write_reply
from reply_archive.indexer.analysis import longest_word, segmenter, word_analyzer
from reply_archive.indexer.build import build_index
from reply_archive.indexer.errors import UnknownReply
from reply_archive.web import create_app
from tests.conftest import open_index


def seconds(work, argument) -> float:
    """Return the best of three timings of ``work(argument)``."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        work(argument)
        best = min(best, time.perf_counter() - start)
    return best


def growth(work, make, small: int) -> float:
    """Return how much longer ``work`` takes on an input four times as large."""
    return seconds(work, make(4 * small)) / max(seconds(work, make(small)), 1e-4)


@pytest.mark.parametrize(
    ("work", "make", "small"),
    [
        (normalise_line, lambda n: "甲" + " " * n + "乙", 50_000),  # a long run of spaces
        (clean_text, lambda n: "联系人：" * n, 5_000),  # many spaced-label candidates
        (mask_phones, lambda n: "联系电话：13812345678，" * n, 5_000),  # many numbers to mask
    ],
    ids=["spaces", "labels", "phones"],
)
def test_cleaning_work_grows_linearly(work, make, small):
    assert growth(work, make, small) < 8


def test_subword_work_per_token_is_bounded_by_the_longest_dictionary_word():
    analyzer = word_analyzer()
    tokens = [t.text for t in analyzer("1" * 50_000)]  # took forever: every substring was tried
    assert tokens == ["1" * 50_000]
    assert growth(lambda text: list(analyzer(text)), lambda n: "1" * n, 5_000) < 8
    # The bound loses no sub-word: none is longer than the dictionary's longest word.
    assert longest_word() == max(len(w) for w, count in segmenter().FREQ.items() if count)
    assert {t.text for t in analyzer("粤港澳大湾区家庭医生签约服务")} >= {"大湾区", "家庭医生", "家庭医生签约"}


@pytest.fixture(scope="module")
def empty_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("empty")
    (root / "archive").mkdir()
    build_index([], root / "index")
    return root


@pytest.mark.parametrize("q", ["", "养老", '"养老服务"', '"养"', '"养老 服务"~5', "同句(养老 服务)", "year:2023"])
def test_an_empty_index_answers_every_query_with_nothing(empty_index, q):
    index = empty_index / "index"
    for sort in ("relevance", "newest", "number"):
        assert open_index(index).search(q, sort=sort).total == 0
    assert not list(open_index(index).export(q))
    assert open_index(index).statistics(q).by_year == ()
    assert open_index(index).commitments(q).total == 0
    with pytest.raises(UnknownReply):
        open_index(index).similar("0123456789abcdef")


@pytest.mark.parametrize("url", ["/", "/search?q=养老", "/search?q=养老&sort=newest", "/stats?q=养老", "/commitments",
                                 "/review", "/facets/department", "/api/search?q=%22养老%22", "/api/stats",
                                 "/api/export?format=csv"])
def test_an_empty_archive_serves_every_page(empty_index, url):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(empty_index / "archive"),
                      "INDEX_DIR": str(empty_index / "index")})
    assert app.test_client().get(url).status_code == 200


@pytest.fixture
def client(app):
    return app.test_client()


def test_too_many_values_of_one_facet_are_refused_not_rendered(client):
    many = "&".join(f"department=单位{i}" for i in range(2000))  # a 247 MB page before
    response = client.get(f"/search?{many}")
    assert response.status_code == 400 and "参数 department 无效" in response.get_data(as_text=True)
    assert client.get(f"/api/search?{many}").get_json()["status"] == 400
    fifty = "&".join(f"department=单位{i}" for i in range(50))
    assert client.get(f"/search?{fifty}").status_code == 200


def test_a_line_break_in_a_source_name_does_not_break_its_download(tmp_path, seed_reply):
    raw = "叶晚晴委员：\n您提出的提案收悉。".encode()
    digest = hashlib.sha256(raw).hexdigest()
    source = dataclasses.replace(seed_reply.source, file="samples/改过\n的名称.txt", sha256=digest)
    reply = dataclasses.replace(seed_reply, source=source)
    write_reply(reply, tmp_path / "archive")
    save_source(tmp_path / "archive", raw, source.file)
    build_index([reply], tmp_path / "index")
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(tmp_path / "archive"), "INDEX_DIR": str(tmp_path / "index")})
    with app.test_client().get(f"/replies/{reply.id}/source") as response:
        assert response.status_code == 200 and response.data == raw  # was a 500
        assert "\n" not in response.headers["Content-Disposition"]


def test_links_inside_the_archive_are_never_followed(tmp_path, seed_reply):
    archive = tmp_path / "archive"
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0", encoding="utf-8")
    digest = hashlib.sha256(b"root:x:0:0").hexdigest()
    reply = dataclasses.replace(seed_reply, source=dataclasses.replace(seed_reply.source, sha256=digest))
    write_reply(reply, archive)
    (archive / ".sources").mkdir()
    (archive / ".sources" / f"{digest}.txt").symlink_to(outside)  # names the record's digest
    (archive / f"{'f' * 16}.md").symlink_to(tmp_path / "elsewhere.md")
    (tmp_path / "elsewhere.md").write_text(record_path(archive, reply.id).read_text(encoding="utf-8")
                                           .replace(reply.id, "f" * 16), encoding="utf-8")
    assert source_path(archive, reply) is None
    errors: list[RecordError] = []
    assert [r.id for r in iter_replies(archive, errors)] == [reply.id]  # the link is reported, not read
    assert len(errors) == 1 and "symbolic link" in errors[0].message
    with pytest.raises(ReplyNotFound):
        find_reply(archive, "f" * 16)
    build_index([reply], tmp_path / "index")
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive), "INDEX_DIR": str(tmp_path / "index")})
    assert app.test_client().get(f"/replies/{reply.id}/source").status_code == 404


def test_a_configured_base_url_keeps_a_forged_host_out_of_exports_and_citations(archive_dir, index_dir, seed_reply):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir),
                      "BASE_URL": "https://archive.example.org"})
    client = app.test_client()
    forged = {"Host": "evil.example"}
    ris = client.get("/api/export?format=ris", headers=forged).get_data(as_text=True)
    assert f"UR  - https://archive.example.org/replies/{seed_reply.id}" in ris and "evil.example" not in ris
    page = client.get(f"/replies/{seed_reply.id}", headers=forged).get_data(as_text=True)
    assert f"https://archive.example.org/replies/{seed_reply.id}" in page and "evil.example" not in page


def test_temporary_files_a_killed_ingest_left_are_swept_by_the_next(tmp_path):
    archive = tmp_path / "archive"
    (archive / ".sources").mkdir(parents=True)
    left = [archive / ".tmp-abc123", archive / ".sources" / ".tmp-def456"]
    for path in left:
        path.write_bytes(b"half a file")
    (tmp_path / "src").mkdir()
    text = "关于市政协十二届二次会议第0045号提案的答复\n叶晚晴委员：\n您提出的提案收悉，现答复如下：\n我局已完成。"
    (tmp_path / "src" / "reply.txt").write_text(text, encoding="utf-8")
    assert ingest([tmp_path / "src"], archive).added == ["src/reply.txt"]
    assert not any(path.exists() for path in left)


def test_ingest_writes_only_what_the_archive_reads_back(tmp_path, monkeypatch, seed_reply):
    from reply_archive.archive import ingest as module

    unreadable = dataclasses.replace(seed_reply, body="")  # the store refuses a record without text
    monkeypatch.setattr(module, "to_reply", lambda *args, **kwargs: unreadable)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "reply.txt").write_text("叶晚晴委员：\n您提出的提案收悉。", encoding="utf-8")
    report = ingest([tmp_path / "src"], tmp_path / "archive")
    assert report.added == [] and "'body' is empty" in dict(report.failed)["src/reply.txt"]
    assert not list((tmp_path / "archive").glob("*.md"))


def test_a_file_that_reads_past_its_budget_fails_and_the_batch_goes_on(tmp_path, monkeypatch):
    from reply_archive.archive import ingest as module

    def stuck_on_one(extracted, name, **kwargs):
        while "stuck" in name:  # a cleaning rule that found a slow path
            time.sleep(0.05)
        return reading(extracted, name, **kwargs)

    reading = module.to_reply
    monkeypatch.setattr(module, "to_reply", stuck_on_one)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.txt", "stuck.txt", "z.txt"):
        text = f"叶晚晴委员：\n您提出的关于{name}的提案收悉。现答复如下：\n一、已经办理。"
        (src / name).write_text(text, encoding="utf-8")
    started = time.monotonic()
    report = ingest([src], tmp_path / "archive", file_seconds=1)
    assert time.monotonic() - started < 10
    assert report.added == ["src/a.txt", "src/z.txt"]
    assert report.failed == [("src/stuck.txt", "reading took over 1 s and was stopped")]


@pytest.mark.parametrize("sort", ["newest", "number"])
def test_a_request_survives_two_builds_finishing_while_it_runs(tmp_path, replies, monkeypatch, sort):
    from reply_archive.indexer import whoosh_backend as engine

    index = tmp_path / "index"
    build_index(replies, index)
    real = engine._matches

    def slow(*args, **kwargs):  # two builds swap generations while the query is matched
        found = real(*args, **kwargs)
        build_index(replies, index)
        build_index(replies, index)
        return found

    monkeypatch.setattr(engine, "_matches", slow)
    assert open_index(index).search("答复", sort=sort).total > 0  # was a 500: the generation's folder was gone


PARALLEL_BUILD = """
import sys
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.build import build_index
build_index(iter_replies(sys.argv[1]), sys.argv[2], procs=2)
"""


def _session_members(sid: int) -> list[int]:
    """Return the pids of the live processes of a session (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; not a zombie
            members.append(int(stat.parent.name))
    return members


# Off Linux there is no /proc to read; under CI (Linux) a missing /proc is a failure.
@pytest.mark.skipif(not Path("/proc").is_dir() and not os.environ.get("CI"), reason="reads processes from /proc")
def test_the_workers_of_a_killed_parallel_build_die_with_it(tmp_path, seed_reply):
    archive, index = tmp_path / "archive", tmp_path / "index"
    for i in range(400):
        write_reply(dataclasses.replace(seed_reply, id=f"{i:016x}"), archive)
    root = Path(__file__).resolve().parent.parent
    build = subprocess.Popen([sys.executable, "-c", PARALLEL_BUILD, str(archive), str(index)], cwd=root,
                             start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_session_members(build.pid)) < 3 and time.monotonic() < deadline and build.poll() is None:
        time.sleep(0.05)
    assert build.poll() is None, "the build ended before its workers could be seen"
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 5
    while _session_members(build.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_members(build.pid) == []  # they kept running 15-40 s, holding the lock
    assert build_index([seed_reply], index) == 1  # the lock is free at once


@pytest.mark.parametrize("url", ["/stats", "/commitments", "/search"])
def test_a_page_of_several_queries_stops_within_one_time_budget(archive_dir, index_dir, monkeypatch, url):
    import numpy as np

    from reply_archive.indexer import whoosh_backend

    def stalled(searcher, query, deadline, *, scored):  # a proximity query Whoosh cannot finish
        time.sleep(deadline.remaining())
        return (np.empty(0, dtype=np.int64), np.empty(0) if scored else None), True

    monkeypatch.setattr(whoosh_backend, "_whoosh_matches", stalled)
    budget = 0.6
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir),
                         "QUERY_SECONDS": budget}).test_client()
    started = time.monotonic()
    response = client.get(url, query_string={"q": '"认真 研究"~3'})
    elapsed = time.monotonic() - started
    # /stats and /commitments ask twice (the sidebar's search, then their own): each
    # query used to get the whole budget again.
    assert response.status_code == 200 and "检索用时超过" in response.get_data(as_text=True)
    assert elapsed < 1.5 * budget, elapsed
