"""Index synchronisation with the archive, and how each named indexer error is served."""

from __future__ import annotations

from pathlib import Path

import pytest

from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.build import build_lock, current_generation
from reply_archive.indexer.errors import IndexBusy, IndexerError, IndexMissing, IndexStale, UnknownReply
from reply_archive.indexer.sync import IndexRun, check_index, refresh_index
from reply_archive.web import create_app

SAMPLE = sorted(data.path("samples").glob("*.txt"))[0]


@pytest.fixture
def seeded(tmp_path) -> tuple[Path, Path]:
    """Return an archive holding the seed reply, and a folder for its index."""
    archive = tmp_path / "archive"
    assert ingest([data.path("seed")], archive).ok
    return archive, tmp_path / "index"


def test_refresh_builds_then_touches_only_what_changed(seeded):
    archive, index = seeded
    run = refresh_index(archive, index)
    assert run == IndexRun("rebuilt", indexed=1) and run.describe(index) == f"{index}: 1 replies indexed"
    assert refresh_index(archive, index) == IndexRun("up to date")
    assert refresh_index(archive, index).describe(index) == f"{index}: up to date"
    assert refresh_index(archive, index, rebuild=True) == IndexRun("rebuilt", indexed=1)

    (seed,) = archive.glob("*.md")
    assert ingest([SAMPLE], archive, sample=True).ok
    assert refresh_index(archive, index) == IndexRun("updated", indexed=1, removed=0)
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.replace("深港共融", "深港共融（已核对）", 1), encoding="utf-8")  # a hand correction
    (added,) = set(archive.glob("*.md")) - {seed}
    added.unlink()
    run = refresh_index(archive, index)
    assert run == IndexRun("updated", indexed=1, removed=1)
    assert run.describe(index) == f"{index}: updated, 1 added or changed, 1 removed"
    assert check_index(archive, index).ok


def test_refresh_skips_malformed_records_and_reports_them(seeded):
    archive, index = seeded
    (archive / "broken.md").write_text("not a record", encoding="utf-8")
    run = refresh_index(archive, index)
    assert run.mode == "rebuilt" and run.indexed == 1
    assert [Path(exc.path).name for exc in run.errors] == ["broken.md"]


def test_refresh_rebuilds_everything_when_the_settings_change(seeded, monkeypatch):
    archive, index = seeded
    refresh_index(archive, index)
    monkeypatch.setattr("reply_archive.indexer.sync.settings_digest", lambda: "other settings")
    assert refresh_index(archive, index) == IndexRun("rebuilt", indexed=1)
    assert refresh_index(archive, index) == IndexRun("up to date")


def test_refresh_during_another_build_is_index_busy(seeded):
    archive, index = seeded
    with build_lock(index), pytest.raises(IndexBusy, match="another index build is running") as caught:
        refresh_index(archive, index)
    assert caught.value.folder == index


def test_check_agrees_then_reports_every_kind_of_mismatch(seeded):
    archive, index = seeded
    refresh_index(archive, index)
    report = check_index(archive, index)
    assert report.ok and (report.records, report.indexed) == (1, 1)
    assert (report.errors, report.missing, report.extra, report.stale) == ([], [], [], False)

    (seed,) = iter_replies(archive)
    next(archive.glob("*.md")).unlink()
    assert ingest([SAMPLE], archive, sample=True).ok
    (added,) = iter_replies(archive)
    (archive / "broken.md").write_text("not a record", encoding="utf-8")
    report = check_index(archive, index)
    assert not report.ok and (report.records, report.indexed) == (1, 1)
    assert [Path(exc.path).name for exc in report.errors] == ["broken.md"]
    assert report.missing == [added.id] and report.extra == [seed.id] and report.stale


def test_check_without_an_index_is_index_missing(seeded):
    archive, index = seeded
    with pytest.raises(IndexMissing, match="reply-archive index") as caught:
        check_index(archive, index)
    assert caught.value.folder == index


def test_named_errors_keep_their_messages_and_base_class(tmp_path):
    assert str(IndexStale(tmp_path, "1", "9")).endswith("run `reply-archive index --rebuild`")
    assert UnknownReply("0123456789abcdef").reply_id == "0123456789abcdef"
    assert all(issubclass(cls, IndexerError) for cls in (IndexMissing, IndexBusy, IndexStale, UnknownReply))


@pytest.fixture
def seeded_app(seeded):
    archive, index = seeded
    return create_app({"TESTING": True, "ARCHIVE_DIR": str(archive), "INDEX_DIR": str(index)})


def test_an_empty_index_folder_is_503_with_how_to_build(seeded_app):
    response = seeded_app.test_client().get("/api/search?q=深港")
    body = response.get_json()
    assert response.status_code == 503 and body["ok"] is False and body["status"] == 503
    assert body["error"] == "索引不可用，请先运行 reply-archive index 建立索引"
    assert "Retry-After" not in response.headers


def test_an_index_of_another_format_is_503_with_how_to_rebuild(seeded, seeded_app):
    archive, index = seeded
    refresh_index(archive, index)
    (current_generation(index) / "index.format").write_text("1")
    client = seeded_app.test_client()
    body = client.get("/api/search?q=深港").get_json()
    assert body["status"] == 503 and body["ok"] is False and "reply-archive index --rebuild" in body["error"]
    page = client.get("/search?q=深港")
    assert page.status_code == 503 and "reply-archive index --rebuild" in page.get_data(as_text=True)


@pytest.mark.parametrize("error, status, message", [
    (IndexMissing("var/index"), 503, "索引不可用，请先运行 reply-archive index 建立索引"),
    (IndexStale("var/index", "1", "9"), 503, "reply-archive index --rebuild"),
    (IndexBusy("var/index"), 409, "索引正在重建，请稍后再试"),
    (UnknownReply("0123456789abcdef"), 404, "没有编号为 0123456789abcdef 的答复"),
    (IndexerError("cannot open the index"), 503, "检索服务暂不可用"),
])
@pytest.mark.parametrize("prefix", ["/api", ""])
def test_each_named_error_is_served_with_its_status(seeded_app, error, status, message, prefix):
    def fail():
        raise error

    seeded_app.add_url_rule(f"{prefix}/fail", "fail", fail)
    response = seeded_app.test_client().get(f"{prefix}/fail")
    assert response.status_code == status
    if status == 409:
        assert int(response.headers["Retry-After"]) > 0
    else:
        assert "Retry-After" not in response.headers
    if prefix:
        body = response.get_json()
        assert body["ok"] is False and body["status"] == status and message in body["error"]
    else:
        assert response.mimetype == "text/html" and message in response.get_data(as_text=True)


def test_an_update_refuses_a_copy_of_a_record_it_leaves_as_it_is(seeded):
    archive, index = seeded
    refresh_index(archive, index)
    (seed,) = archive.glob("*.md")
    (archive / "2023").mkdir()
    (archive / "2023" / "copy.md").write_bytes(seed.read_bytes())  # a record copied by hand
    run = refresh_index(archive, index)  # incremental: only the copy is read
    assert run.mode == "updated" and run.indexed == 0
    duplicate = f"id {seed.stem} is already the id of {seed.name}; one record per id"
    assert [exc.message for exc in run.errors] == [duplicate]
    report = check_index(archive, index)
    assert not report.ok and len(report.errors) == 1 and report.indexed == 1
