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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import ocr
from .clean import mask_phones
from .errors import ArchiveError, ParseError, RecordError
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
    to_markdown,
    write_pending,
    write_reply,
)

REPORTS = ".reports"
# How long reading one file (extraction, cleaning, parsing) may take. Every rule is
# meant to be linear, but a file that still finds a slow path must not hold the
# archive's lock for the hours a batch of thousands would otherwise wait.
FILE_SECONDS = 120.0
# And for each page a scan has: OCR reads a page in seconds, ten on a busy machine.
PAGE_SECONDS = 60.0
_POLL = 0.2  # how often the time budget and the pages read are looked at
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
    paths: Iterable[Path], archive_dir: Path, *, sample: bool = False, file_seconds: float = FILE_SECONDS
) -> IngestReport:
    """Parse every source file under ``paths`` (files or folders) into ``archive_dir``."""
    return ingest_sources(iter_sources(paths), archive_dir, sample=sample, file_seconds=file_seconds)


def ingest_sources(
    sources: Iterable[SourceFile],
    archive_dir: Path,
    *,
    sample: bool = False,
    progress: Callable[[str], None] | None = None,
    file_seconds: float = FILE_SECONDS,
    pages: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Parse the files from :func:`iter_sources` into records.

    A record whose source bytes, extraction and parser are unchanged is left alone;
    one corrected by hand is kept whatever changed, its fresh parse written beside it.
    Pages read by OCR are cached in the archive's ``.ocr-cache/`` (or
    ``$REPLY_ARCHIVE_OCR_CACHE``), so that no page is read twice.

    :param sample: mark the records as fictional sample data.
    :param progress: called with each file name as it is processed.
    :param file_seconds: how long reading one file may take before it fails; a scan
        has :data:`PAGE_SECONDS` more for each of its pages.
    :param pages: called with (pages done, pages) of the file being read by OCR.
    :raise ArchiveBusy: when another ingest is writing to the same archive.
    """
    report = IngestReport()
    cache = ocr.cache_folder(Path(archive_dir) / ocr.CACHE_FOLDER)
    with archive_lock(archive_dir), _Reader(file_seconds, sample, cache, pages) as reader:
        for item in sources:
            _ingest_one(item, archive_dir, reader, report, progress)
    return report


def _ingest_one(
    item: SourceFile, archive_dir: Path, reader: _Reader, report: IngestReport, progress: Callable[[str], None] | None
) -> None:
    """Ingest one source file, recording the outcome in the report."""
    if progress:
        progress(item.name)
    if item.problem:
        report.failed.append((item.name, item.problem))
        return
    try:
        extracted, reply = reader.read(item)
        _store(reply, extracted, item.name, archive_dir, report)
    except ArchiveError as exc:
        report.failed.append((item.name, exc.message))
    except OSError as exc:
        report.failed.append((item.name, f"cannot write to the archive: {exc}"))


class _Reader:
    """Reads source files in a worker process, each within a time budget.

    A file past its budget fails (the worker is killed; the next file gets a new one) and
    the batch goes on. A scan's budget grows with its pages, which the worker reports as
    it reads them. Where processes cannot be forked (Windows), files are read here,
    without a budget.
    """

    def __init__(
        self, seconds: float, sample: bool, ocr_cache: Path | None, pages: Callable[[int, int], None] | None
    ) -> None:
        self.seconds = seconds
        self.sample = sample
        self.ocr_cache = ocr_cache
        self.pages = pages
        self._pool: Any = None
        self._pages_read: Any = None  # the worker's (pages done, pages) reports
        self._fork = "fork" in multiprocessing.get_all_start_methods()

    def read(self, item: SourceFile) -> tuple[Extracted, Reply]:
        """Return a file's extraction and record.

        :raise ArchiveError: when the file cannot be read, does not parse, or takes too long.
        """
        if not self._fork:
            return _outcome(_read(item.path, item.name, self.sample, self.ocr_cache, self.pages))
        if self._pool is None:
            context = multiprocessing.get_context("fork")
            self._pages_read = context.SimpleQueue()
            self._pool = context.Pool(1, initializer=_worker_started, initargs=(self._pages_read,))
        pending = self._pool.apply_async(_read, (item.path, item.name, self.sample, self.ocr_cache, _report_pages))
        started, budget = time.monotonic(), self.seconds
        while True:
            try:
                result = pending.get(_POLL)
                break
            except multiprocessing.TimeoutError:
                budget = self._follow_pages(budget)
                if time.monotonic() - started > budget:
                    self.close()
                    raise ParseError(item.name, f"reading took over {budget:g} s and was stopped") from None
        self._follow_pages(budget)
        return _outcome(result)

    def _follow_pages(self, budget: float) -> float:
        """Pass on the pages the worker reported read; return the file's budget."""
        while not self._pages_read.empty():
            done, total = self._pages_read.get()
            budget = self.seconds + total * PAGE_SECONDS
            if self.pages:
                self.pages(done, total)
        return budget

    def close(self) -> None:
        """Stop the worker process."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_logged: list[tuple[str, int, str]] = []  # in a worker: what reading the current file logged


class _Kept(logging.Handler):
    """Keeps a worker's log records, for the ingest to log them as its own."""

    def emit(self, record: logging.LogRecord) -> None:
        _logged.append((record.name, record.levelno, record.getMessage()))


_pages_read: Any = None  # in a worker: where it reports the pages it read by OCR


def _report_pages(done: int, total: int) -> None:
    _pages_read.put((done, total))


def _worker_started(pages_read: Any) -> None:
    global _pages_read
    _pages_read = pages_read
    # Ctrl-C in a terminal signals the whole process group: the ingest handles it and
    # stops this worker, which must not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What a reader library logs (pypdf's warnings) reaches the user through the
    # ingest's handlers, in its process, not from here.
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    root.addHandler(_Kept())


def _read(
    path: Path, name: str, sample: bool, ocr_cache: Path | None, pages: Callable[[int, int], None] | None
) -> tuple[str, Any, list[tuple[str, int, str]]]:
    """Extract and parse one file; return ``("ok", (extracted, record), logged)``, or the
    kind and text of the failure (exceptions are returned as text: not every one pickles)
    and what was logged meanwhile."""
    _logged.clear()
    try:
        extracted = extract(path, name, ocr_cache=ocr_cache, ocr_progress=pages)
        return "ok", (extracted, to_reply(extracted, name, sample=sample)), list(_logged)
    except ArchiveError as exc:
        return "refused", exc.message, list(_logged)
    except Exception as exc:  # a reader library's own failure: this file fails, the batch goes on
        return "refused", f"unexpected error while reading: {type(exc).__name__}: {exc}", list(_logged)


def _outcome(result: tuple[str, Any, list[tuple[str, int, str]]]) -> tuple[Extracted, Reply]:
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


def _store(reply: Reply, extracted: Extracted, name: str, archive_dir: Path, report: IngestReport) -> None:
    """Write the record (and keep its source) unless that would lose anything.

    :raise RecordError: when the record would not read back from the archive (written,
        it would be reported added and then skipped by every index run).
    """
    from_markdown(to_markdown(reply), name)
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
        write_reply(reply, archive_dir)
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
