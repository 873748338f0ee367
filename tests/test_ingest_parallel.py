"""Ingest reading several files at once: the same records and report as reading them
one by one, each file within its own time budget, and no process left behind."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path

import pytest

from reply_archive import data
from reply_archive.archive import ingest as ingest_module
from reply_archive.archive.ingest import ingest, iter_sources
from reply_archive.archive.store import read_reply
from tests import formats
from tests.conftest import SEED

CORRECTED = "01-edu-after-school-2019.txt"  # the sample whose record is corrected by hand
UPDATED = "10-intangible-heritage-2021.txt"


def _reply(subject: str) -> str:
    return f"叶晚晴委员：\n您提出的关于{subject}的提案收悉。现答复如下：\n一、已经办理。"


def _write_replies(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(_reply(name), encoding="utf-8")


def _reads_logged(monkeypatch: pytest.MonkeyPatch, log: Path, slow: dict[str, float] | None = None) -> None:
    """Have parsing note in ``log`` when it starts and ends each file (in the workers'
    processes too: the clock is the system's), and take ``slow[name]`` seconds more for
    the files named; a name with ``stuck`` in it is never done."""
    parse = ingest_module.to_reply

    def logged(extracted, name, **kwargs):
        _note(log, "start", name)
        time.sleep((slow or {}).get(Path(name).name, 0.0))
        while "stuck" in name:  # a cleaning rule that found a slow path
            time.sleep(0.05)
        reply = parse(extracted, name, **kwargs)
        _note(log, "end", name)
        return reply

    monkeypatch.setattr(ingest_module, "to_reply", logged)


def _note(log: Path, event: str, name: str) -> None:
    with log.open("a", encoding="utf-8") as fh:  # one short appended line: whole, whoever writes
        fh.write(f"{event}\t{Path(name).name}\t{time.monotonic()}\n")


def _times(log: Path) -> dict[tuple[str, str], float]:
    """Return when each (event, file) happened."""
    rows = (line.split("\t") for line in log.read_text(encoding="utf-8").splitlines())
    return {(event, name): float(at) for event, name, at in rows}


def _most_at_once(log: Path) -> int:
    """Return how many files were parsed at once, at most."""
    events = sorted((at, 1 if event == "start" else -1) for (event, _), at in _times(log).items())
    at_once = most = 0
    for _, step in events:
        at_once += step
        most = max(most, at_once)
    return most


def _archive_files(archive: Path) -> dict[str, bytes]:
    """Return every file of the archive (records, pending parses, kept sources) by path."""
    return {
        p.relative_to(archive).as_posix(): p.read_bytes()
        for p in sorted(archive.rglob("*"))
        if p.is_file() and p.name != ".lock" and ".reports" not in p.parts
    }


def _sources(tmp_path: Path) -> Path:
    """Write 30 sources: the samples, eight of them again under the same names with other
    bytes (conflicts: which one is kept depends on the order of storing), the seed in
    three formats, and files that fail."""
    src = tmp_path / "src"
    samples = sorted(data.path("samples").glob("*.txt"))
    for year, ending, paths in (("2023", "", samples), ("2024", "\n\n", samples[:8])):
        (src / year).mkdir(parents=True)
        for path in paths:
            (src / year / path.name).write_text(path.read_text(encoding="utf-8") + ending, encoding="utf-8")
    for fmt in ("pdf", "docx", "html"):
        formats.write(SEED.read_text(encoding="utf-8"), fmt, src, f"seed-{fmt}")
    (src / "empty.txt").write_bytes(b"")
    (src / "junk.txt").write_bytes(bytes(range(256)))
    (src / "sheet.xls").write_bytes(b"\xd0\xcf")
    (src / "gone.txt").symlink_to(src / "nowhere.txt")
    return src


def _ingest_twice(sources: Path, run: Path, **options) -> tuple[list, dict[str, bytes]]:
    """Ingest a copy of ``sources`` into ``run/archive``, correct a record by hand and
    change two sources, ingest again; return both reports and the archive's files."""
    src, archive = shutil.copytree(sources, run / "src", symlinks=True), run / "archive"
    first = ingest([src], archive, **options)
    (record,) = (p for p in archive.glob("*.md") if read_reply(p).source.file == f"src/2023/{CORRECTED}")
    record.write_text(record.read_text(encoding="utf-8").replace("葛思远", "葛思源"), encoding="utf-8")
    for name in (CORRECTED, UPDATED):
        path = src / "2023" / name
        path.write_text(path.read_text(encoding="utf-8").replace("此复。", "特此函复。"), encoding="utf-8")
    second = ingest([src], archive, **options)
    return [first, second], _archive_files(archive)


def test_reading_in_parallel_stores_what_reading_one_by_one_does(tmp_path, monkeypatch):
    sources = _sources(tmp_path)  # once: a PDF written again would differ, by its time of writing
    sequential = _ingest_twice(sources, tmp_path / "one", readers=1)
    (first, second), _ = sequential
    assert len(first.added) == 18 and len(first.conflicts) == 8 and len(first.failed) == 4
    assert second.updated == [f"src/2023/{UPDATED}"] and len(second.unchanged) == 16 and len(second.conflicts) == 9
    assert second.conflicts[0][0] == f"src/2023/{CORRECTED}" and ".md.new" in second.conflicts[0][1]
    log = tmp_path / "reads.tsv"
    # The first file parses slowest: the files after it are read before it, and must wait.
    _reads_logged(monkeypatch, log, slow={CORRECTED: 0.3})
    assert _ingest_twice(sources, tmp_path / "three", readers=3) == sequential
    assert _most_at_once(log) == 3
    # Where processes cannot be forked, files are read in this one, one by one.
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    before = set(multiprocessing.active_children())
    assert _ingest_twice(sources, tmp_path / "here", readers=3) == sequential
    assert set(multiprocessing.active_children()) == before


def test_a_file_past_its_budget_fails_alone_while_the_others_are_read_beside_it(tmp_path, monkeypatch):
    names = ["a.txt", "b.txt", "stuck.txt", "c.txt", "d.txt", "e.txt"]
    _write_replies(tmp_path / "src", names)
    log = tmp_path / "reads.tsv"
    _reads_logged(monkeypatch, log)
    started = time.monotonic()
    report = ingest([tmp_path / "src"], tmp_path / "archive", file_seconds=1, readers=2)
    assert time.monotonic() - started < 5
    assert report.added == [f"src/{name}" for name in names if name != "stuck.txt"]
    assert report.failed == [("src/stuck.txt", "reading took over 1 s and was stopped")]
    times = _times(log)
    assert times["end", "c.txt"] < times["start", "stuck.txt"] + 1  # read while stuck.txt was
    assert not multiprocessing.active_children()


def test_each_file_has_its_budget_from_when_its_own_reading_started(tmp_path, monkeypatch):
    names = [f"{i}.txt" for i in range(8)]
    _write_replies(tmp_path / "src", names)
    _reads_logged(monkeypatch, tmp_path / "reads.tsv", slow=dict.fromkeys(names, 0.4))
    started = time.monotonic()
    report = ingest([tmp_path / "src"], tmp_path / "archive", file_seconds=1, readers=2)
    assert time.monotonic() - started > 1.5  # the last files waited past a budget for a reader
    assert len(report.added) == 8 and not report.failed


def test_a_scan_reports_its_pages_gets_time_for_them_and_reads_without_new_files_beside_it(tmp_path, monkeypatch):
    names = ["a.txt", "b-scan.txt", "c.txt", "d.txt"]
    _write_replies(tmp_path / "src", names)
    log = tmp_path / "reads.tsv"
    _reads_logged(monkeypatch, log, slow={"a.txt": 0.3})
    extract = ingest_module.extract

    def scanning(path, name, *, ocr_cache=None, ocr_progress=None):
        if "scan" in name:  # three pages read by OCR, half a second each
            for done in range(4):
                time.sleep(0.5 if done else 0)
                ocr_progress(done, 3)
        return extract(path, name, ocr_cache=ocr_cache, ocr_progress=ocr_progress)

    monkeypatch.setattr(ingest_module, "extract", scanning)
    monkeypatch.setattr(ingest_module, "PAGE_SECONDS", 1.0)
    seen: list[tuple[int, int]] = []
    report = ingest_module.ingest_sources(
        iter_sources([tmp_path / "src"]), tmp_path / "archive", file_seconds=0.5, readers=2,
        pages=lambda *done: seen.append(done),
    )
    assert report.added == [f"src/{name}" for name in names] and not report.failed  # 1.5 s: within 0.5 + 3 × 1
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    times = _times(log)
    assert times["start", "c.txt"] > times["end", "b-scan.txt"]  # the scan had the cores to itself


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_exception_mid_batch_stops_every_worker(tmp_path, error):
    names = [f"{i:02d}.txt" for i in range(20)]
    _write_replies(tmp_path / "src", names)
    before = set(multiprocessing.active_children())
    working: list[int] = []

    def progress(name: str) -> None:
        working.append(len(set(multiprocessing.active_children()) - before))
        if name.endswith("05.txt"):
            raise error("stopped")  # Ctrl-C, or a failure of the caller's own

    with pytest.raises(error, match="stopped"):
        ingest_module.ingest_sources(iter_sources([tmp_path / "src"]), tmp_path / "archive", progress=progress,
                                     readers=3)
    assert max(working) == 3
    assert set(multiprocessing.active_children()) == before
    assert len(ingest([tmp_path / "src"], tmp_path / "archive").unchanged) == 5  # the lock was let go


def test_a_reader_that_dies_fails_its_file_and_the_batch_goes_on(tmp_path, monkeypatch):
    names = ["a.txt", "crash.txt", "b.txt", "c.txt"]
    _write_replies(tmp_path / "src", names)
    parse = ingest_module.to_reply

    def crashing(extracted, name, **kwargs):
        if "crash" in name:  # a reader library's crash, or the kernel's OOM killer
            os._exit(3)
        return parse(extracted, name, **kwargs)

    monkeypatch.setattr(ingest_module, "to_reply", crashing)
    report = ingest([tmp_path / "src"], tmp_path / "archive", readers=2)
    assert report.added == ["src/a.txt", "src/b.txt", "src/c.txt"]
    assert report.failed == [("src/crash.txt", "the process reading it died (exit status 3)")]
    assert not multiprocessing.active_children()
