"""Ingestion: encodings, provenance, re-ingest, and a batch that survives bad files."""

from __future__ import annotations

import hashlib

import pytest

from archive.errors import ParseError
from archive.ingest import decode, ingest, read_source
from archive.store import iter_replies, read_reply, record_path
from tests.conftest import SEED


@pytest.mark.parametrize("encoding, label", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030"), ("utf-16", "utf-16"),
])
def test_source_encodings_are_detected_and_recorded(tmp_path, encoding, label):
    text = SEED.read_text(encoding="utf-8")
    path = tmp_path / "reply.txt"
    path.write_bytes(text.encode(encoding))
    reply = read_source(path)
    assert reply.source.encoding == label
    assert reply.department_raw == "福田区委统战部"


def test_provenance_is_kept():
    reply = read_source(SEED)
    assert reply.source.file == "seed_reply.txt"
    assert reply.source.format == "txt"
    assert reply.source.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert reply.source.parser_version


def test_binary_and_undecodable_bytes_are_refused_with_reason():
    with pytest.raises(ParseError, match="binary"):
        decode(b"\x00\x01\x02garbage", "x.txt")
    with pytest.raises(ParseError, match="unknown text encoding"):
        decode(b"\x81\x30\xff\xff\xfe", "x.txt")


def test_batch_goes_on_past_bad_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(SEED.read_bytes())
    (src / "empty.txt").write_bytes(b"")
    (src / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (src / "notes.pdf").write_bytes(b"%PDF-1.4")
    (src / "prose.txt").write_text("这是一段没有标题的文字。", encoding="utf-8")
    report = ingest([src, tmp_path / "missing.txt"], tmp_path / "archive")
    assert report.added == ["src/good.txt"]
    failed = dict(report.failed)
    assert set(failed) == {"src/empty.txt", "src/junk.txt", "src/notes.pdf", "src/prose.txt", "missing.txt"}
    assert "no Chinese text" in failed["src/empty.txt"]
    assert "binary" in failed["src/junk.txt"]
    assert "unsupported format .pdf" in failed["src/notes.pdf"]
    assert "no title" in failed["src/prose.txt"]
    assert "cannot read" in failed["missing.txt"]
    assert len(list(iter_replies(tmp_path / "archive"))) == 1


def test_reingest_unchanged_changes_nothing_and_keeps_hand_corrections(tmp_path):
    archive = tmp_path / "archive"
    assert ingest([SEED], archive).added == ["seed_reply.txt"]
    reply = read_reply(next(archive.glob("*.md")))
    path = record_path(archive, reply.id)
    path.write_text(path.read_text(encoding="utf-8").replace("黄健诚", "黄健成"), encoding="utf-8")
    report = ingest([SEED], archive)
    assert report.unchanged == ["seed_reply.txt"] and not report.added and not report.updated
    assert "黄健成" in read_reply(path).proposers


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


def test_sample_flag_marks_records(archive_dir, replies):
    assert {r.sample for r in replies if "samples/" in r.source.file} == {True}
    assert not next(r for r in replies if r.source.file.endswith("seed_reply.txt")).sample
