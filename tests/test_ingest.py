"""Ingestion: provenance, kept sources, re-ingest, hand corrections, and a batch that
survives bad files; the ``reply-archive ingest`` command on top."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from reply_archive import data
from reply_archive.archive import ingest as ingest_module
from reply_archive.archive.ingest import IngestReport, ingest, iter_sources, read_source, write_report
from reply_archive.archive.store import (
    is_hand_edited,
    iter_replies,
    pending_path,
    read_reply,
    record_path,
    source_path,
    to_markdown,
    write_reply,
)
from reply_archive.web.cli import cli
from tests import formats
from tests.conftest import SEED

SAMPLE = data.path("samples", "01-edu-after-school-2019.txt")


def _only_record(archive: Path) -> Path:
    (path,) = archive.glob("*.md")
    return path


def _correct_by_hand(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace("黄健诚", "黄健成"), encoding="utf-8")


def _corrected_record(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Ingest a copy of the seed, correct its record by hand; return source, archive, record."""
    source = tmp_path / "reply.txt"
    source.write_bytes(SEED.read_bytes())
    archive = tmp_path / "archive"
    ingest([source], archive)
    path = _only_record(archive)
    _correct_by_hand(path)
    return source, archive, path


def test_provenance_is_kept():
    reply = read_source(SEED)
    assert reply.source.file == "seed_reply.txt"
    assert reply.source.format == "txt" and reply.source.encoding == "utf-8"
    assert reply.source.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert reply.source.parser_version and reply.source.extracted_with is None


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html", "txt-gb18030"])
def test_source_file_is_kept_in_the_archive(tmp_path, fmt):
    path = formats.write(SEED.read_text(encoding="utf-8"), fmt, tmp_path, "reply")
    archive = tmp_path / "archive"
    ingest([path], archive)
    reply = read_reply(_only_record(archive))
    kept = source_path(archive, reply)
    assert kept == archive / ".sources" / f"{hashlib.sha256(path.read_bytes()).hexdigest()}{path.suffix}"
    assert kept.read_bytes() == path.read_bytes()
    # No temporary file left behind: only the kept sources and the write lock.
    assert sorted(p.name for p in archive.iterdir() if p.name.startswith(".")) == [".lock", ".sources"]


def test_reimported_record_is_read_as_it_is_and_keeps_no_copy(tmp_path, seed_reply):
    exported = write_reply(seed_reply, tmp_path / "export")
    archive = tmp_path / "archive"
    assert ingest([exported], archive).added == [exported.name]
    assert read_reply(_only_record(archive)) == seed_reply
    assert not (archive / ".sources").exists()


def test_batch_goes_on_past_bad_files_and_loses_nothing(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    src = tmp_path / "src"
    src.mkdir()
    kept = src / "kept.txt"
    kept.write_bytes(SEED.read_bytes())
    assert ingest([kept], archive).added == ["kept.txt"]
    kept_record = _only_record(archive)
    before = kept_record.read_bytes()
    kept.write_bytes(b"\x00\x01 damaged since")  # the source of an ingested record goes bad

    (src / "good.txt").write_bytes(SAMPLE.read_bytes())
    (src / "empty.txt").write_bytes(b"")
    (src / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (src / "notes.pdf").write_bytes(b"%PDF-1.4")
    (src / "prose.txt").write_text("这是一段没有标题的文字。", encoding="utf-8")
    (src / "sheet.xls").write_bytes(b"\xd0\xcf")
    with (src / "huge.txt").open("wb") as fh:
        fh.truncate(50 * 2**20)
    (src / "secret.txt").write_bytes(SEED.read_bytes())
    (src / "dangling.txt").symlink_to(src / "gone.txt")
    (src / "itself.txt").symlink_to(src / "itself.txt")
    real_open = Path.open

    def denied(self, *args, **kwargs):  # root reads a mode-000 file anyway: refuse as the OS would
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    report = ingest([src, tmp_path / "missing.txt"], archive)
    assert report.added == ["src/good.txt"]
    failed = dict(report.failed)
    assert failed == {
        "src/dangling.txt": "symbolic link: not followed (only files inside the folder are read)",
        "src/empty.txt": "empty file (0 bytes)",
        "src/huge.txt": "too large (50.0 MiB); sources over 20 MiB are refused",
        "src/itself.txt": "symbolic link: not followed (only files inside the folder are read)",
        "src/junk.txt": "binary data (NUL bytes), not a text file",
        "src/kept.txt": "binary data (NUL bytes), not a text file",
        "src/notes.pdf": failed["src/notes.pdf"],
        "src/prose.txt": failed["src/prose.txt"],
        "src/secret.txt": "cannot read: Permission denied",
        "src/sheet.xls": failed["src/sheet.xls"],
        "missing.txt": "cannot read: No such file or directory",
    }
    assert failed["src/notes.pdf"].startswith("damaged PDF")
    assert "not a reply" in failed["src/prose.txt"] and "unsupported format .xls" in failed["src/sheet.xls"]
    assert len(list(iter_replies(archive))) == 2
    assert kept_record.read_bytes() == before  # nothing already ingested is lost


def test_symbolic_links_inside_a_folder_are_reported_never_followed(tmp_path):
    outside = tmp_path / "outside.txt"  # any file of the machine, /etc/passwd say
    outside.write_bytes(SEED.read_bytes())
    src = tmp_path / "src"
    (src / "2022").mkdir(parents=True)
    (src / "2022" / "reply.txt").write_bytes(SEED.read_bytes())
    (src / "2022" / "back-up").symlink_to(src)  # a loop
    (src / "latest").symlink_to(src / "2022")  # a folder by another name
    (src / "passwd.txt").symlink_to(outside)  # a file outside the folder
    sources = list(iter_sources([src]))
    link = "symbolic link: not followed (only files inside the folder are read)"
    assert [(s.name, s.problem) for s in sources] == [
        ("src/2022/back-up", link),
        ("src/2022/reply.txt", None),
        ("src/latest", link),
        ("src/passwd.txt", link),
    ]
    report = ingest([src], tmp_path / "archive")
    assert report.added == ["src/2022/reply.txt"] and len(report.failed) == 3
    assert not any(p.is_symlink() for p in (tmp_path / "archive").rglob("*"))


def test_hidden_files_and_folders_are_skipped(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "reply.txt").write_bytes(SEED.read_bytes())
    (tmp_path / ".draft.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "reply.txt").write_bytes(SEED.read_bytes())
    assert [s.name for s in iter_sources([tmp_path])] == [f"{tmp_path.name}/reply.txt"]


def test_reingest_unchanged_changes_nothing_and_keeps_hand_corrections(tmp_path):
    archive = tmp_path / "archive"
    assert ingest([SEED], archive).added == ["seed_reply.txt"]
    path = _only_record(archive)
    _correct_by_hand(path)
    stamp = path.stat().st_mtime_ns
    report = ingest([SEED], archive)
    assert report.unchanged == ["seed_reply.txt"] and not (report.added or report.updated or report.conflicts)
    assert "黄健成" in read_reply(path).proposers and path.stat().st_mtime_ns == stamp


def test_changed_source_updates_its_record_and_keeps_its_id(tmp_path):
    source = tmp_path / "reply.txt"
    source.write_bytes(SEED.read_bytes())
    archive = tmp_path / "archive"
    ingest([source], archive)
    first = next(iter_replies(archive))
    source.write_text(SEED.read_text(encoding="utf-8").replace("此复。", "特此函复。"), encoding="utf-8")
    report = ingest([source], archive)
    assert report.updated == ["reply.txt"]
    (second,) = iter_replies(archive)
    assert second.id == first.id and "特此函复。" in second.body


def test_changed_source_never_overwrites_a_hand_correction(tmp_path):
    source, archive, path = _corrected_record(tmp_path)
    corrected = path.read_bytes()
    source.write_text(SEED.read_text(encoding="utf-8").replace("此复。", "特此函复。"), encoding="utf-8")

    report = ingest([source], archive)
    assert report.conflicts == [("reply.txt", f"{path.name} was corrected by hand and is kept; "
                                              f"the fresh parse is in {path.name}.new")]
    assert report.ok and not (report.updated or report.added or report.unchanged)
    assert path.read_bytes() == corrected
    fresh = pending_path(archive, read_reply(path).id)
    assert "特此函复。" in fresh.read_text(encoding="utf-8")
    assert [r.id for r in iter_replies(archive)] == [read_reply(path).id]  # the .new is no record

    # Taking the fresh parse is a rename: it is sealed, so the next run finds it unchanged.
    fresh.replace(path)
    assert not is_hand_edited(path)
    assert ingest([source], archive).unchanged == ["reply.txt"]


def test_conflict_is_settled_for_your_version_by_taking_the_new_source_block(tmp_path):
    source, archive, path = _corrected_record(tmp_path)
    old_sha = read_reply(path).source.sha256
    source.write_bytes(SEED.read_bytes() + b"\n")
    assert ingest([source], archive).conflicts
    fresh = pending_path(archive, read_reply(path).id)
    path.write_text(
        path.read_text(encoding="utf-8").replace(old_sha, read_reply(fresh).source.sha256), encoding="utf-8"
    )
    fresh.unlink()
    assert ingest([source], archive).unchanged == ["reply.txt"]
    assert "黄健成" in read_reply(path).proposers and not fresh.exists()


def test_parser_change_updates_records_but_keeps_hand_corrections(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    ingest([SEED, SAMPLE], archive)
    seed_record = next(p for p in archive.glob("*.md") if "黄健诚" in p.read_text(encoding="utf-8"))
    _correct_by_hand(seed_record)
    monkeypatch.setattr(ingest_module, "PARSER_VERSION", "99.0")
    report = ingest([SEED, SAMPLE], archive)
    assert report.updated == [SAMPLE.name] and [name for name, _ in report.conflicts] == ["seed_reply.txt"]
    assert "黄健成" in read_reply(seed_record).proposers
    assert read_reply(pending_path(archive, read_reply(seed_record).id)).source.parser_version == "99.0"


def test_unsealed_or_broken_records_count_as_hand_edited(tmp_path, seed_reply):
    source = tmp_path / "seed_reply.txt"
    source.write_text(SEED.read_text(encoding="utf-8").replace("此复。", "特此函复。"), encoding="utf-8")
    archive = tmp_path / "archive"
    legacy = record_path(archive, seed_reply.id)
    archive.mkdir()
    legacy.write_text(to_markdown(seed_reply), encoding="utf-8")  # as written before records were sealed
    assert [name for name, _ in ingest([source], archive).conflicts] == ["seed_reply.txt"]
    legacy.write_text("---\nid: [broken by hand\n", encoding="utf-8")
    assert [name for name, _ in ingest([source], archive).conflicts] == ["seed_reply.txt"]
    assert legacy.read_text(encoding="utf-8") == "---\nid: [broken by hand\n"


def test_report_file_lists_failures_and_conflicts(tmp_path):
    report = IngestReport(added=["a.txt"], failed=[("bad.txt", "binary data\twith a tab\nand a line")],
                          conflicts=[("hand.txt", "x.md was corrected by hand")])
    first = write_report(report, tmp_path)
    second = write_report(report, tmp_path)
    assert first.parent == tmp_path / ".reports" and first.name.startswith("ingest-") and first.suffix == ".tsv"
    assert second != first  # two runs within a second keep both reports
    assert first.read_text(encoding="utf-8").splitlines() == [
        "status\tfile\treason", "failed\tbad.txt\tbinary data with a tab and a line",
        "conflict\thand.txt\tx.md was corrected by hand",
    ]
    assert write_report(IngestReport(added=["a.txt"]), tmp_path / "clean") is None


def test_sample_flag_marks_records(archive_dir, replies):
    assert {r.sample for r in replies if "samples/" in r.source.file} == {True}
    assert not next(r for r in replies if r.source.file.endswith("seed_reply.txt")).sample


# --- the command ------------------------------------------------------------------


def test_ingest_command_summarises_writes_the_report_and_exits_1(tmp_path):
    archive = tmp_path / "archive"
    src = tmp_path / "src"
    src.mkdir()
    (src / "bad.txt").write_bytes(b"\x00\x00binary")
    formats.write(SEED.read_text(encoding="utf-8"), "docx", src, "reply")
    result = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(archive)])
    assert result.exit_code == 1
    assert f"{archive}: 1 added, 0 updated, 0 unchanged, 1 failed, 0 conflicts" in result.output
    assert "failed: src/bad.txt: binary data (NUL bytes), not a text file" in result.output
    (report,) = (archive / ".reports").iterdir()
    assert f"report: {report}" in result.output
    assert "failed\tsrc/bad.txt\tbinary data (NUL bytes), not a text file" in report.read_text(encoding="utf-8")
    assert len(list(iter_replies(archive))) == 1  # .reports/ and .sources/ hold no records


def test_ingest_command_reports_a_conflict_but_succeeds(tmp_path):
    archive = tmp_path / "archive"
    source = tmp_path / "reply.txt"
    source.write_bytes(SEED.read_bytes())
    assert CliRunner().invoke(cli, ["ingest", str(source), "--archive", str(archive)]).exit_code == 0
    _correct_by_hand(_only_record(archive))
    source.write_text(SEED.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(source), "--archive", str(archive)])
    assert result.exit_code == 0 and "0 updated, 0 unchanged, 0 failed, 1 conflicts" in result.output
    assert "conflict: reply.txt: " in result.output and ".md.new" in result.output
    assert os.listdir(archive / ".reports")


def test_a_reimported_record_has_its_phone_numbers_masked(tmp_path, seed_reply):
    leaky = dataclasses.replace(seed_reply, body=seed_reply.body + "\n\n请致电0755-82911234或13812345678咨询。")
    exported = write_reply(leaky, tmp_path / "export")
    ingest([exported], tmp_path / "archive")
    (record,) = iter_replies(tmp_path / "archive")
    assert "82911234" not in record.body and "13812345678" not in record.body
    assert record.body.endswith("请致电【已隐去】咨询。")  # both numbers after the label, one mark


def test_two_different_files_of_one_name_never_overwrite_each_other(tmp_path):
    for folder, closing in (("a", "此复。"), ("b", "特此函复。")):
        (tmp_path / "src" / folder).mkdir(parents=True)
        (tmp_path / "src" / folder / "reply.txt").write_text(
            SEED.read_text(encoding="utf-8").replace("此复。", closing), encoding="utf-8"
        )
    report = ingest([tmp_path / "src"], tmp_path / "archive")
    assert report.added == ["src/a/reply.txt"]
    assert [name for name, _ in report.conflicts] == ["src/b/reply.txt"]
    (record,) = iter_replies(tmp_path / "archive")
    assert "此复。" in record.body  # the first one is intact
    # The same file from another folder is the same record, unchanged.
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "reply.txt").write_bytes((tmp_path / "src" / "a" / "reply.txt").read_bytes())
    assert ingest([tmp_path / "elsewhere"], tmp_path / "archive").conflicts == []
