"""Bring source files into the archive: read, extract, parse, write records.

A batch never dies on one bad file: each failure is recorded with its file and reason
and the rest of the batch goes on. Each source file is kept in the archive, so a record
can always be checked against it. A record a person corrected by hand is never
overwritten: when its source (or the parser) changes, the fresh parse is written beside
it as ``<id>.md.new`` and the run reports a conflict.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import re
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from . import ocr
from .clean import mask_phones
from .errors import ArchiveError, RecordError
from .extract import Extracted, extract
from .model import Reply, Source
from .parse import PARSER_VERSION, parse_reply
from .store import (
    archive_lock,
    from_markdown,
    is_hand_edited,
    read_reply,
    record_path,
    save_source,
    sealed_markdown,
    write_pending,
    write_reply,
)
from .system import usable_cores

REPORTS = ".reports"
# How long reading one file (extraction, cleaning, parsing) may take. Every rule is
# meant to be linear, but a file that still finds a slow path must not hold the
# archive's lock for the hours a batch of thousands would otherwise wait.
FILE_SECONDS = 120.0
# And for each page a scan has: OCR reads a page in seconds, ten on a busy machine.
PAGE_SECONDS = 60.0
# Files read at once, at most (one a usable core below that). Storing stays in one
# process, in source order, and becomes the bottleneck past a few readers.
MAX_READERS = 4
_DYING = 1.0  # seconds a worker that closed its pipe has to exit, for its own exit status
_CONTROL = re.compile(r"[\t\r\n]+")  # would break a TSV row


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest and the name it is recorded under."""

    path: Path
    name: str
    problem: str | None = None  # why it cannot be read, when walking the folders found out


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (file, what was kept where)
    # What the records written in this run need a person to check (Reply.review_flags).
    review: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """Return True when no file failed (a conflict is no failure: nothing was lost)."""
        return not self.failed


def read_source(path: Path, name: str | None = None, *, sample: bool = False) -> Reply:
    """Read one source file and parse it into a record.

    :param name: the name recorded as the record's source file (default: the file name).
    :raise ArchiveError: for an unsupported format or a file that does not parse.
    """
    name = name or Path(path).name
    return to_reply(extract(path, name), name, sample=sample)


def to_reply(extracted: Extracted, name: str, *, sample: bool = False) -> Reply:
    """Parse extracted text into a record; an archive record is read back as it is.

    :param sample: mark the record as fictional sample data.
    """
    if extracted.format == "md":
        return _masked(from_markdown(extracted.text, name))
    source = Source(
        file=name,
        format=extracted.format,
        sha256=extracted.sha256,
        parser_version=PARSER_VERSION,
        encoding=extracted.encoding,
        extracted_with=extracted.converter,
        ocr_confidence=extracted.ocr_confidence,
    )
    reply = parse_reply(extracted.text, source=source, sample=sample, metadata=extracted.metadata)
    if not (low := ocr.low_confidence_warnings(extracted.ocr_confidence or ())):
        return reply
    return dataclasses.replace(reply, warnings=(*reply.warnings, *low))


def _masked(reply: Reply) -> Reply:
    """Mask phone numbers in a re-imported record's text, as parsing does for sources."""

    def mask(text: str) -> str:
        return "\n\n".join(mask_phones(p) for p in text.split("\n\n"))

    sections = tuple(dataclasses.replace(s, heading=mask_phones(s.heading), text=mask(s.text)) for s in reply.sections)
    return dataclasses.replace(reply, body=mask(reply.body), sections=sections)


def iter_sources(paths: Iterable[Path]) -> Iterator[SourceFile]:
    """Yield the files named and, recursively, the files in the folders named.

    A file inside a folder is recorded as ``folder/relative/path``, its provenance; the
    record id uses only the base name, so moving a folder keeps ids stable (two
    different files of one name are reported as a conflict, never overwritten). Hidden
    files and folders are skipped. A symbolic link found inside a folder is reported
    and never followed: a folder of replies received from elsewhere could otherwise
    bring any file of this machine (/etc/passwd) into the archive, to be served. A path
    named on the command line is taken as named, link or not.
    """
    for path in map(Path, paths):
        if path.is_dir():
            yield from _walk(path)
        else:
            yield SourceFile(path, path.name)


_LINK = "symbolic link: not followed (only files inside the folder are read)"


def _walk(top: Path) -> Iterator[SourceFile]:
    prefix = Path(top.resolve().name)
    # A stack of (path, what it is: folder, file or link), popped in name order.
    stack: list[tuple[Path, str]] = [(top, "folder")]
    while stack:
        path, kind = stack.pop()
        name = (prefix / path.relative_to(top)).as_posix()
        if kind != "folder":
            yield SourceFile(path, name, _LINK if kind == "link" else None)
            continue
        try:
            entries = sorted((e for e in os.scandir(path) if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            yield SourceFile(path, name, f"cannot read folder: {exc.strerror or exc}")
            continue
        kinds = ("link" if e.is_symlink() else "folder" if e.is_dir(follow_symlinks=False) else "file" for e in entries)
        stack.extend(reversed([(Path(e.path), kind) for e, kind in zip(entries, kinds, strict=True)]))


def ingest(
    paths: Iterable[Path],
    archive_dir: Path,
    *,
    sample: bool = False,
    file_seconds: float = FILE_SECONDS,
    readers: int | None = None,
) -> IngestReport:
    """Parse every source file under ``paths`` (files or folders) into ``archive_dir``."""
    return ingest_sources(iter_sources(paths), archive_dir, sample=sample, file_seconds=file_seconds, readers=readers)


def ingest_sources(
    sources: Iterable[SourceFile],
    archive_dir: Path,
    *,
    sample: bool = False,
    progress: Callable[[str], None] | None = None,
    file_seconds: float = FILE_SECONDS,
    pages: Callable[[int, int], None] | None = None,
    readers: int | None = None,
) -> IngestReport:
    """Parse the files from :func:`iter_sources` into records.

    A record whose source bytes, extraction and parser are unchanged is left alone;
    one corrected by hand is kept whatever changed, its fresh parse written beside it.
    Pages read by OCR are cached in the archive's ``.ocr-cache/`` (or
    ``$REPLY_ARCHIVE_OCR_CACHE``), so that no page is read twice. Files are read several
    at once, but stored one by one in the order given: the report and the archive are
    those of reading them one at a time.

    :param sample: mark the records as fictional sample data.
    :param progress: called with each file name, in the order given, as the file is
        stored (or fails), once its reading is done.
    :param file_seconds: how long reading one file may take before it fails; a scan
        has :data:`PAGE_SECONDS` more for each of its pages.
    :param pages: called with (pages done, pages) of a file being read by OCR.
    :param readers: files read at once (default: one a usable core, at most
        :data:`MAX_READERS`).
    :raise ArchiveBusy: when another ingest is writing to the same archive.
    """
    report = IngestReport()
    cache = ocr.cache_folder(Path(archive_dir) / ocr.CACHE_FOLDER)
    with archive_lock(archive_dir), _Reader(file_seconds, sample, cache, pages, readers) as reader:
        for item, result in reader.read_all(sources):
            if progress:
                progress(item.name)
            _ingest_one(item, result, archive_dir, report)
    return report


# What reading one file gave: ("ok", (extraction, record, its sealed Markdown), logged)
# or ("refused", the reason, logged), with what was logged meanwhile as (logger, level,
# message).
_Result = tuple[str, Any, list[tuple[str, int, str]]]


def _ingest_one(item: SourceFile, result: _Result, archive_dir: Path, report: IngestReport) -> None:
    """Store one file's record, recording the outcome in the report."""
    try:
        extracted, reply, text = _outcome(result)
        _store(reply, extracted, text, item.name, archive_dir, report)
    except ArchiveError as exc:
        report.failed.append((item.name, exc.message))
    except OSError as exc:
        report.failed.append((item.name, f"cannot write to the archive: {exc}"))


@dataclass(eq=False)
class _Worker:
    """A process reading the files it is sent, one at a time, and its end of their pipe."""

    process: BaseProcess
    conn: Connection


@dataclass
class _Task:
    """A file handed out, in source order, until its result is taken."""

    item: SourceFile
    result: _Result | None = None  # None while it is being read
    worker: _Worker | None = None  # the one reading it
    started: float = 0.0  # when its reading started (time.monotonic)
    budget: float = 0.0  # seconds it may take
    scan: bool = False  # its worker reported pages read by OCR


class _Reader:
    """Reads source files in worker processes, several at once, each within a time budget.

    Each worker is a process of its own, with its own pipe, so that a file past its
    budget fails alone: its worker is killed (the next file gets a new one), the files
    the others read go on, and so does the batch. A file's budget runs from when its
    worker was sent it, and grows with the pages of a scan, which the worker reports as
    it reads them. Results are taken in source order; at most two files a reader are in
    flight (read, or read and waiting for the files before them), so a slow file holds
    back at most that many records in memory. Where processes cannot be forked
    (Windows), files are read here, one by one, without a budget.
    """

    def __init__(
        self,
        seconds: float,
        sample: bool,
        ocr_cache: Path | None,
        pages: Callable[[int, int], None] | None,
        readers: int | None = None,
    ) -> None:
        self.seconds = seconds
        self.sample = sample
        self.ocr_cache = ocr_cache
        self.pages = pages
        self.readers = max(1, readers or min(usable_cores(), MAX_READERS))
        self._workers: list[_Worker] = []  # alive
        self._idle: list[_Worker] = []
        self._fork = "fork" in multiprocessing.get_all_start_methods()

    def read_all(self, items: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, _Result]]:
        """Yield each file with what reading it gave, in the order given."""
        if not self._fork:
            for item in items:
                yield item, _read(item, self.sample, self.ocr_cache, self.pages)
            return
        todo = iter(items)
        flight: deque[_Task] = deque()
        while True:
            self._hand_out(todo, flight)
            if not flight:
                return
            head = flight[0]
            if head.result is None:
                self._follow([task for task in flight if task.result is None])
                continue
            flight.popleft()
            yield head.item, head.result

    def _hand_out(self, todo: Iterator[SourceFile], flight: deque[_Task]) -> None:
        """Send files to free workers while fewer than two a reader are in flight.

        OCR reads the pages of one scan on every core (archive/ocr.py): while a file in
        flight is being read by OCR, no more files are handed out, so the scan has the
        machine to itself once the files already sent are read. Which file is a scan is
        only known once its worker reports pages, so several scans handed out together
        share the cores (at most :data:`MAX_READERS` of them; each worker that read a
        scan keeps its own OCR engine loaded).
        """
        while len(flight) < 2 * self.readers:
            reading = [task for task in flight if task.result is None]
            if len(reading) >= self.readers or any(task.scan for task in reading):
                return
            item = next(todo, None)
            if item is None:
                return
            if item.problem:  # found unreadable by the walk: refused without a worker
                flight.append(_Task(item, _read(item, self.sample, self.ocr_cache, None)))
                continue
            worker = self._free_worker()
            worker.conn.send(item)
            flight.append(_Task(item, worker=worker, started=time.monotonic(), budget=self.seconds))

    def _free_worker(self) -> _Worker:
        """Return an idle worker, or a new one when none is (or it died idle)."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            self._stop(worker)
        return self._start_worker()

    def _start_worker(self) -> _Worker:
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        # The worker closes its copies of this process's ends of every pipe, so that it
        # sees the end of its own when this process dies, and stops.
        ends = [ours, *(worker.conn for worker in self._workers)]
        process = context.Process(target=_serve, args=(theirs, ends, self.sample, self.ocr_cache), daemon=True)
        process.start()
        theirs.close()
        worker = _Worker(process, ours)
        self._workers.append(worker)
        return worker

    def _follow(self, reading: list[_Task]) -> None:
        """Take what the workers of the files being read sent, waiting until the first
        message or the first budget to run out; stop the files past their budget."""
        first_end = min(task.started + task.budget for task in reading)
        ready = wait([task.worker.conn for task in reading if task.worker], max(0.0, first_end - time.monotonic()))
        for task in reading:
            if task.worker and task.worker.conn in ready:
                self._receive(task)
        now = time.monotonic()
        for task in reading:
            # A file whose result has arrived (and waits to be taken) was read in time.
            if task.worker and now - task.started > task.budget and not task.worker.conn.poll():
                self._stop(task.worker)
                task.worker, task.result = None, _refused(f"reading took over {task.budget:g} s and was stopped")

    def _receive(self, task: _Task) -> None:
        """Take the messages waiting from the worker reading ``task``: pages read by OCR
        (passed on; they set the file's budget), then its result."""
        worker = task.worker
        assert worker is not None
        try:
            while task.result is None and worker.conn.poll():
                kind, value = worker.conn.recv()
                if kind == "result":
                    task.worker, task.result = None, value
                    self._idle.append(worker)
                    continue
                done, total = value
                task.scan, task.budget = True, self.seconds + total * PAGE_SECONDS
                if self.pages:
                    self.pages(done, total)
        except (EOFError, OSError):  # it died: a reader library crashed, or the kernel killed it
            worker.process.join(_DYING)
            code = self._stop(worker)
            task.worker, task.result = None, _refused(f"the process reading it died (exit status {code})")

    def _stop(self, worker: _Worker) -> int | None:
        """Kill a worker (whatever it is doing) and forget it; return its exit status."""
        worker.process.kill()
        worker.process.join()
        code = worker.process.exitcode
        worker.process.close()
        worker.conn.close()
        self._workers.remove(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        return code

    def close(self) -> None:
        """Stop every worker process."""
        while self._workers:
            self._stop(self._workers[-1])

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_logged: list[tuple[str, int, str]] = []  # in a worker: what reading the current file logged


class _Kept(logging.Handler):
    """Keeps a worker's log records, for the ingest to log them as its own."""

    def emit(self, record: logging.LogRecord) -> None:
        _logged.append((record.name, record.levelno, record.getMessage()))


def _serve(conn: Connection, ends: list[Connection], sample: bool, ocr_cache: Path | None) -> None:
    """Run a worker: read each file sent on ``conn``, sending back the pages OCR read
    as ``("pages", (done, pages))`` and then ``("result", what reading gave)``."""
    # Ctrl-C in a terminal signals the whole process group: the ingest handles it and
    # stops this worker, which must not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for end in ends:
        end.close()
    # What a reader library logs (pypdf's warnings) reaches the user through the
    # ingest's handlers, in its process, not from here.
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    root.addHandler(_Kept())

    def report_pages(done: int, total: int) -> None:
        conn.send(("pages", (done, total)))

    while True:
        try:
            item = conn.recv()
        except EOFError:  # the ingest is gone
            return
        conn.send(("result", _read(item, sample, ocr_cache, report_pages)))


def _read(item: SourceFile, sample: bool, ocr_cache: Path | None, pages: Callable[[int, int], None] | None) -> _Result:
    """Extract and parse one file, and check that its record reads back from the archive
    (written, it would be reported added and then skipped by every index run).

    Exceptions are returned as text (not every one pickles), with what was logged meanwhile.
    """
    if item.problem:
        return _refused(item.problem)
    _logged.clear()
    try:
        extracted = extract(item.path, item.name, ocr_cache=ocr_cache, ocr_progress=pages)
        reply = to_reply(extracted, item.name, sample=sample)
        text = sealed_markdown(reply)
        from_markdown(text, item.name)
        return "ok", (extracted, reply, text), list(_logged)
    except ArchiveError as exc:
        return "refused", exc.message, list(_logged)
    except Exception as exc:  # a reader library's own failure: this file fails, the batch goes on
        return "refused", f"unexpected error while reading: {type(exc).__name__}: {exc}", list(_logged)


def _refused(reason: str) -> _Result:
    return "refused", reason, []


def _outcome(result: _Result) -> tuple[Extracted, Reply, str]:
    kind, value, logged = result
    for logger, level, message in logged:
        logging.getLogger(logger).log(level, "%s", message)
    if kind != "ok":
        raise _Refused(value)
    return value


class _Refused(ArchiveError):
    """A file the reader could not read or parse (the reason alone: reports name the file)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _store(
    reply: Reply, extracted: Extracted, text: str, name: str, archive_dir: Path, report: IngestReport
) -> None:
    """Write the record (``text``, its sealed Markdown, rendered and checked to read back
    from the archive as the file was read: :func:`_read`), and keep its source, unless
    that would lose anything."""
    if extracted.format != "md":  # a re-imported record names its original source
        save_source(archive_dir, extracted.raw, name)
    target = record_path(archive_dir, reply.id)
    existed = target.exists()
    previous = _existing(target)
    # Same source bytes, extraction and parser: keep the record as it is, including any
    # correction a person made to it by hand.
    if previous is not None and previous.source == reply.source:
        report.unchanged.append(name)
    elif (other := _other_source(previous, reply)) is not None:
        report.conflicts.append((
            name,
            f"{target.name} already holds {other.file}, with the same file name, proposal "
            "number and department but other content; neither was overwritten: rename one of the files",
        ))
    elif existed and is_hand_edited(target):
        pending = write_pending(reply, archive_dir)
        kept = f"{target.name} was corrected by hand and is kept; the fresh parse is in {pending.name}"
        report.conflicts.append((name, kept))
    else:
        write_reply(reply, archive_dir, text)
        (report.updated if existed else report.added).append(name)
        report.review.update(reply.review_flags)


def _other_source(previous: Reply | None, reply: Reply) -> Source | None:
    """Return the source of the record in place when it came from a different file with
    other bytes, else None.

    Ids hash the file's base name, so the same file ingested from another folder keeps
    its record; two different files of one name would otherwise overwrite each other.
    """
    if previous is None or previous.source is None or reply.source is None:
        return None
    other = previous.source
    return other if other.file != reply.source.file and other.sha256 != reply.source.sha256 else None


def _existing(path: Path) -> Reply | None:
    if not path.exists():
        return None
    try:
        return read_reply(path)
    except RecordError:
        return None  # unreadable: written over if ingest sealed it, kept if a person edited it


def write_report(report: IngestReport, archive_dir: Path) -> Path | None:
    """Write the run's failures and conflicts to ``.reports/ingest-<time>.tsv``; return its path.

    Columns: status (failed or conflict), file, reason. Nothing is written for a run
    without either.
    """
    rows = [("failed", *row) for row in report.failed] + [("conflict", *row) for row in report.conflicts]
    if not rows:
        return None
    folder = Path(archive_dir) / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    lines = ["status\tfile\treason", *("\t".join(_CONTROL.sub(" ", cell) for cell in row) for row in rows)]
    path, attempt = folder / f"ingest-{stamp}.tsv", 1
    while True:
        try:
            with path.open("x", encoding="utf-8") as fh:  # never overwrite the report of another run
                fh.write("\n".join(lines) + "\n")
            return path
        except FileExistsError:
            attempt += 1
            path = folder / f"ingest-{stamp}-{attempt}.tsv"
