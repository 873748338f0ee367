"""The Markdown store: lossless round trips, hand corrections, clear errors."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from reply_archive.archive.errors import ArchiveBusy, RecordError, ReplyNotFound
from reply_archive.archive.ingest import ingest
from reply_archive.archive.locking import exclusive
from reply_archive.archive.store import (
    archive_lock,
    find_reply,
    from_markdown,
    front_matter,
    is_hand_edited,
    iter_replies,
    markdown_body,
    read_reply,
    record_path,
    save_source,
    snapshot,
    source_path,
    to_markdown,
    write_pending,
    write_reply,
)
from tests.conftest import SEED


def test_every_sample_round_trips(replies):
    for reply in replies:
        assert from_markdown(to_markdown(reply)) == reply, reply.source.file


def test_write_then_read_is_identical(tmp_path, seed_reply):
    path = write_reply(seed_reply, tmp_path)
    assert path.name == f"{seed_reply.id}.md"
    assert read_reply(path) == seed_reply
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_record_is_readable_markdown_with_front_matter(seed_reply):
    text = to_markdown(seed_reply)
    assert text.startswith("---\nid: ")
    assert "department_raw: 福田区委统战部" in text
    assert "## 一、关于“构筑深港合作共融空间”的建议" in text
    assert "\nbody:" not in text and "\ncommitments:" not in text  # derived from the text


def test_hand_corrected_heading_and_paragraph_are_read_back(tmp_path, seed_reply):
    path = write_reply(seed_reply, tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("## 二、关于“建立港澳友好服务体系”的建议", "## 二、关于“完善港澳服务体系”的建议")
    text = text.replace("此复。", "## 四、补充说明\n\n下一步，将于年底前完成评估。\n\n此复。")
    path.write_text(text, encoding="utf-8")
    corrected = read_reply(path)
    assert corrected.sections[1].heading == "关于“完善港澳服务体系”的建议"
    assert corrected.sections[-1].heading_line == "四、补充说明"
    assert corrected.commitments[-1].text == "下一步，将于年底前完成评估。"


def test_headings_stand_where_the_one_heading_map_puts_them(seed_reply):
    starts = seed_reply.section_starts()
    assert [idx for _, idx in starts] == list(range(len(seed_reply.sections)))
    for at, idx in starts:
        assert seed_reply.body[at - 2 : at] == "\n\n"  # a heading is a whole paragraph
        assert seed_reply.body[at:].startswith(seed_reply.sections[idx].heading_line + "\n\n")
    marked = [block for block in markdown_body(seed_reply).split("\n\n") if block.startswith("#")]
    assert marked == [f"{'#' * (s.level + 1)} {s.heading_line}" for s in seed_reply.sections]


def test_a_section_the_body_lacks_leaves_the_others_in_place(seed_reply):
    lost = dataclasses.replace(seed_reply.sections[0], heading="不在正文中的标题")
    reply = dataclasses.replace(seed_reply, sections=(lost, *seed_reply.sections[1:]))
    assert [idx for _, idx in reply.section_starts()] == list(range(1, len(seed_reply.sections)))
    assert markdown_body(reply).count("\n## ") == len(seed_reply.sections) - 1
    # Its paragraphs belong to no section now; those of the others keep theirs.
    assert [c.section_idx for c in reply.commitments] == [None, 1, 2]
    assert reply.closing == seed_reply.closing and reply.opening == seed_reply.opening


def test_a_second_writer_finds_the_archive_locked_until_the_first_ends(tmp_path):
    busy = pytest.raises(ArchiveBusy, match=f"another ingest is writing to {tmp_path}")
    with archive_lock(tmp_path), busy, archive_lock(tmp_path):
        pass
    with archive_lock(tmp_path):  # free again
        pass


def test_a_lock_file_that_is_a_link_leaves_its_target_intact(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / ".lock").symlink_to(target)
    with exclusive(tmp_path / "archive" / ".lock", lambda: AssertionError("not held by anyone")):
        pass
    assert target.read_text(encoding="utf-8") == "keep me"


def test_literal_hash_paragraph_is_not_a_heading(seed_reply):
    reply = dataclasses.replace(seed_reply, body=seed_reply.body + "\n\n# 不是标题")
    assert from_markdown(to_markdown(reply)).body.endswith("\n\n# 不是标题")


@pytest.mark.parametrize(
    "text, message",
    [
        ("no front matter", "missing YAML front matter"),
        ("---\nid: x\n", "not closed"),
        ("---\n[1, 2\n---\nbody", "not valid YAML"),
        ("---\n- a list\n---\nbody", "must be a mapping"),
        ("---\nid: abcdef12\ntitle: t\ncolour: red\n---\nbody", "unknown field"),
        ("---\nid: abcdef12\ntitle: ''\n---\nbody", "'title' is empty"),
    ],
)
def test_malformed_records_raise_record_error(text, message):
    with pytest.raises(RecordError, match=message):
        from_markdown(text, "bad.md")


def test_iter_replies_collects_bad_records_and_goes_on(tmp_path, seed_reply):
    write_reply(seed_reply, tmp_path)
    (tmp_path / "broken.md").write_text("garbage", encoding="utf-8")
    errors: list[RecordError] = []
    assert list(iter_replies(tmp_path, errors)) == [seed_reply]
    assert [e.path for e in errors] == [str(tmp_path / "broken.md")]
    with pytest.raises(RecordError):
        list(iter_replies(tmp_path))


@pytest.mark.parametrize("reply_id", ["../etc/passwd", "..", "abc", "ZZZZZZZZZZ", "0" * 41, "a/b"])
def test_find_reply_rejects_ids_that_are_not_record_ids(tmp_path, reply_id):
    with pytest.raises(ReplyNotFound):
        find_reply(tmp_path, reply_id)


def test_find_reply_looks_in_subfolders(tmp_path, seed_reply):
    write_reply(seed_reply, tmp_path / "2022")
    assert find_reply(tmp_path, seed_reply.id) == seed_reply


# --- seals, kept sources and what is not a record ----------------------------------


def test_written_record_is_sealed_and_reads_back_without_the_seal(tmp_path, seed_reply):
    path = write_reply(seed_reply, tmp_path)
    text = path.read_text(encoding="utf-8")
    front = text[: text.index("\n---\n", 3)]
    assert front.splitlines()[-1].startswith("record_sha256: ")
    assert read_reply(path) == seed_reply
    assert not is_hand_edited(path)


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("黄健诚", "黄健成"),  # a correction in the front matter
    lambda t: t.replace("此复。", "此复"),  # in the body
    lambda t: t.replace("record_sha256: ", "record_sha256: 0"),  # a damaged seal
    lambda t: "\n".join(line for line in t.split("\n") if not line.startswith("record_sha256")),  # no seal
])
def test_any_change_to_a_sealed_record_counts_as_hand_edited(tmp_path, seed_reply, edit):
    path = write_reply(seed_reply, tmp_path)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert is_hand_edited(path)


def test_pending_parse_is_sealed_beside_the_record(tmp_path, seed_reply):
    path = write_pending(seed_reply, tmp_path)
    assert path == tmp_path / f"{seed_reply.id}.md.new"
    assert not is_hand_edited(path) and read_reply(path) == seed_reply
    assert list(iter_replies(tmp_path)) == []


def test_source_block_leaves_out_empty_fields(seed_reply):
    text = to_markdown(seed_reply)
    source = yaml.safe_load(text[4 : text.index("\n---\n")])["source"]
    assert source == {"file": "seed/seed_reply.txt", "format": "txt", "sha256": seed_reply.source.sha256,
                      "parser_version": seed_reply.source.parser_version, "encoding": "utf-8"}


def test_sources_are_kept_by_content_and_found_from_the_record(tmp_path, seed_reply):
    raw = SEED.read_bytes()
    assert source_path(tmp_path, seed_reply) is None
    path = save_source(tmp_path, raw, "seed/seed_reply.TXT")
    assert path == tmp_path / ".sources" / f"{seed_reply.source.sha256}.txt"
    inode = path.stat().st_ino
    assert save_source(tmp_path, raw, "other-name.txt") == path  # the same bytes are one file,
    assert path.stat().st_ino == inode  # kept as it is
    assert path.read_bytes() == raw and source_path(tmp_path, seed_reply) == path
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left
    bogus = dataclasses.replace(seed_reply, source=dataclasses.replace(seed_reply.source, sha256="../../etc/passwd"))
    assert source_path(tmp_path, bogus) is None


def test_a_snapshot_names_records_in_path_order_with_their_size_and_time(tmp_path):
    """Names are relative, with slashes, ordered part by part as paths are (``a/z.md``
    before ``a-b/c.md``, though ``-`` sorts before ``/``); other files are not records."""
    for name in ("a-b/c.md", "a/z.md", "a/b/y.md", "top.md", "a/notes.txt", "a/.hidden.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    stamps = snapshot(tmp_path)
    assert list(stamps) == ["a/b/y.md", "a/z.md", "a-b/c.md", "top.md"]
    for name, stamp in stamps.items():
        stat = (tmp_path / name).stat()
        assert stamp == f"{stat.st_size}:{stat.st_mtime_ns}"
    assert snapshot(tmp_path / "a") == {"b/y.md": stamps["a/b/y.md"], "z.md": stamps["a/z.md"]}


def test_taking_the_lock_removes_what_a_killed_ingest_left_half_written(tmp_path, seed_reply):
    """Temporary files in the archive and its sources go; a record, a folder or a link
    of that name stays; an archive without a sources folder is no error."""
    path = write_reply(seed_reply, tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-kept.txt"
    outside.write_text("kept", encoding="utf-8")
    with archive_lock(tmp_path):
        pass
    (tmp_path / ".sources").mkdir()
    for name in (".tmp-abc.md", ".sources/.tmp-def.pdf"):
        (tmp_path / name).write_text("half", encoding="utf-8")
    (tmp_path / ".tmp-folder").mkdir()
    (tmp_path / ".tmp-link").symlink_to(outside)
    with archive_lock(tmp_path):
        left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == [".lock", ".sources", ".tmp-folder", ".tmp-link", path.name]
    assert outside.read_text(encoding="utf-8") == "kept"


def test_dot_folders_hold_no_records(tmp_path, seed_reply):
    write_reply(seed_reply, tmp_path)
    before = snapshot(tmp_path)
    for folder in (".sources", ".reports", "2022/.trash"):
        write_reply(dataclasses.replace(seed_reply, id="abcdef0123456789"), tmp_path / folder)
    (tmp_path / ".sources" / "x.md").write_text("not a record", encoding="utf-8")
    assert list(iter_replies(tmp_path)) == [seed_reply]
    assert snapshot(tmp_path) == before
    with pytest.raises(ReplyNotFound):
        find_reply(tmp_path, "abcdef0123456789")


@pytest.mark.parametrize("field, value, message", [
    ("id", "../out/pwned", "not 8-40 lowercase hex"),
    ("id", "bad0bad0bad0bad0\n", "not 8-40 lowercase hex"),  # ``$`` matched before the newline
    ("id", 0x1F2E3D4C5B, "written as text"),  # read by YAML as a number: a different id
    ("proposal_numbers", "20220030", "not a list"),  # became eight one-digit numbers
    ("date", "20230619", "YYYY-MM-DD"),  # ISO's basic form, which a page cannot show
    ("assembly", {"level": ["city"]}, "assembly.level"),
    ("contact", {"person": ["葛思远"]}, "contact.person"),
    ("contact", {"person": "葛思远", "phone": "123"}, "contact: unknown field"),
    ("topics", ["教育", ["体育"]], r"topics\[1\]"),
    ("assembly", "深圳", "assembly"),
    ("date", "2022年3月", "YYYY-MM-DD"),
    ("proposers", "张三", "proposers"),
    ("year", "二〇二二", "year"),
    ("sample", "yes", "sample"),
])
def test_hand_edits_of_the_wrong_kind_are_record_errors(seed_reply, field, value, message):
    text = to_markdown(seed_reply)
    meta, _, body = text[4:].partition("\n---\n")
    data = yaml.safe_load(meta)
    data[field] = value
    edited = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\n" + body
    with pytest.raises(RecordError, match=message):
        from_markdown(edited, "edited.md")


def test_numbers_yaml_reads_where_text_belongs_stay_text(seed_reply):
    text = to_markdown(seed_reply).replace("department_raw: 福田区委统战部", "department_raw: 2022")
    assert from_markdown(text).department_raw == "2022"


# Front matter a hand edit (or an attacker) can write that YAML itself cannot build or
# that would make the loader expand without bound: each is a record error naming the file.
HOSTILE_FRONT_MATTER = {
    "impossible date": ("date: 2023-02-30", "cannot be read"),
    "integer of 5,000 digits": ("year: " + "9" * 5000, "cannot be read"),
    "float tag on text": ("year: !!float abc", "cannot be read"),
    "deep nesting": ("topics: " + "[" * 5000 + "]" * 5000, "nested deeper"),
    "billion laughs": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "topics: [*b, *b, *b, *b, *b, *b, *b, *b, *b]", "anchors or aliases"),
    "oversized": ("title: " + "长" * 300_000, "larger than"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FRONT_MATTER))
def test_hostile_front_matter_is_a_record_error(name):
    extra, message = HOSTILE_FRONT_MATTER[name]
    text = f"---\nid: 0123456789abcdef\ntitle: t\n{extra}\n---\n\n正文。\n"
    with pytest.raises(RecordError, match=message) as caught:
        from_markdown(text, "edited.md")
    assert caught.value.path == "edited.md"


def test_index_and_check_report_hostile_records_and_go_on(tmp_path, seed_reply):
    from click.testing import CliRunner

    from reply_archive.web.cli import cli

    archive, index = tmp_path / "archive", tmp_path / "index"
    write_reply(seed_reply, archive)
    for number, name in enumerate(sorted(HOSTILE_FRONT_MATTER)):
        extra = HOSTILE_FRONT_MATTER[name][0]
        record = f"---\nid: {number:016x}\ntitle: t\n{extra}\n---\n\n正文。\n"
        (archive / f"{number:016x}.md").write_text(record, encoding="utf-8")
    result = CliRunner().invoke(cli, ["index", "--archive", str(archive), "--index", str(index)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "1 replies indexed" in result.output
    result = CliRunner().invoke(cli, ["check", "--archive", str(archive), "--index", str(index)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert f"{len(HOSTILE_FRONT_MATTER)} malformed" in result.output


def test_two_files_with_one_id_are_one_record_and_a_malformed_copy(tmp_path, seed_reply):
    write_reply(seed_reply, tmp_path)
    original = record_path(tmp_path, seed_reply.id).read_text(encoding="utf-8")
    (tmp_path / "zz-copy.md").write_text(original, encoding="utf-8")
    errors: list[RecordError] = []
    assert list(iter_replies(tmp_path, errors)) == [seed_reply]
    assert len(errors) == 1 and "already the id of" in errors[0].message


@pytest.mark.parametrize("encode", [lambda t: t.replace("\n", "\r\n").encode("utf-8"),
                                    lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode("utf-8"),
                                    lambda t: t.replace("\n", "\r\n").encode("utf-16")],
                         ids=["CRLF", "BOM and CRLF", "UTF-16 (Notepad's Unicode)"])
def test_a_record_saved_by_a_windows_editor_reads_back_in_the_archive_and_at_ingest(tmp_path, seed_reply, encode):
    path = write_reply(seed_reply, tmp_path / "archive")
    path.write_bytes(encode(path.read_text(encoding="utf-8")))
    assert read_reply(path) == seed_reply
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "edited.md").write_bytes(path.read_bytes())
    report = ingest([tmp_path / "src" / "edited.md"], tmp_path / "other")  # was: missing YAML front matter
    assert report.failed == [] and list(iter_replies(tmp_path / "other")) == [seed_reply]


_WITHOUT_POSIX = """
import os, sys, types
sys.modules["fcntl"] = None  # what importing it does off POSIX: ImportError
held = set()
msvcrt = types.ModuleType("msvcrt")
msvcrt.LK_NBLCK, msvcrt.LK_UNLCK = 2, 0
def locking(fd, mode, nbytes):
    key = os.fstat(fd).st_ino
    if mode == msvcrt.LK_NBLCK:
        if key in held:
            raise OSError("locked")
        held.add(key)
    else:
        held.discard(key)
msvcrt.locking = locking
sys.modules["msvcrt"] = msvcrt
sys.platform = "win32"
import reply_archive.archive.store
from reply_archive.archive.locking import exclusive
class Busy(Exception):
    pass
with exclusive(sys.argv[1], Busy):
    try:
        with exclusive(sys.argv[1], Busy):
            raise SystemExit("a second lock was granted")
    except Busy:
        pass
with exclusive(sys.argv[1], Busy):  # released: taken again
    print("ok")
"""


def test_the_store_imports_and_locks_where_there_is_no_fcntl(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _WITHOUT_POSIX, str(tmp_path / ".lock")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_an_unknown_id_is_looked_up_without_scanning_an_unchanged_archive(tmp_path, seed_reply, monkeypatch):
    from reply_archive.archive import store

    write_reply(seed_reply, tmp_path)
    (tmp_path / "2023").mkdir()
    walks = []
    real = store._walk
    monkeypatch.setattr(store, "_walk", lambda root: walks.append(root) or real(root))
    for _ in range(3):
        with pytest.raises(ReplyNotFound):
            find_reply(tmp_path, "abcdef0123456789")
    assert len(walks) == 1  # the folders have not changed: the map holds
    moved = tmp_path / "2023" / f"{seed_reply.id}.md"
    (tmp_path / f"{seed_reply.id}.md").rename(moved)  # by hand, into a subfolder
    assert find_reply(tmp_path, seed_reply.id) == seed_reply and len(walks) == 2
    (tmp_path / "2024").mkdir()
    moved.rename(tmp_path / "2024" / moved.name)
    assert find_reply(tmp_path, seed_reply.id) == seed_reply


# Strings of the kinds a front matter holds, and of the kinds YAML quotes or escapes.
_AWKWARD = [
    "", " lead", "trail ", "a: b", "- x", "#c", "'q'", '"dq"', "line\nbreak", "tab\tx", "yes", "No", "null", "~",
    "001", "1e3", "0x1F", "2022-01-01", "12:30", "青溪市政协：关于", "「引号」", "中" * 1200, "a" * 1500, "\u2028x",
    "\x85y", "\ufeffbom", "名字𪚥", "emoji😀", "\x07bell", "[a]", "{b}", "*star", "&amp", "!bang", "%pct", "@at",
    "a #b", "a, b", "?q", "|pipe", ">gt", "\u3000全角\u3000", "x\u200by", "end:", "k: v\n  more", "\ud7ff\ue000\ufffd",
]


@pytest.mark.parametrize("value", _AWKWARD)
def test_front_matter_is_what_pyyaml_writes(value):
    meta = {"title": value, "proposers": [value, "王一帆"], "source": {"file": value, "ocr_confidence": [0.5, 91]}}
    pure = yaml.dump(meta, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False, width=1000)
    assert front_matter(meta) == pure


def test_a_zero_in_the_front_matter_is_written_back(seed_reply):
    reply = dataclasses.replace(seed_reply, term=0)
    assert from_markdown(to_markdown(reply), "again.md") == reply
