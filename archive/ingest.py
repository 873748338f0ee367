"""Bring source files into the archive: read, decode, parse, write records.

A batch never dies on one bad file: each failure is recorded with its file and reason
and the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ArchiveError, ParseError, RecordError
from .model import Reply, Source
from .parse import PARSER_VERSION, parse_reply
from .store import from_markdown, read_reply, record_path, write_reply

TEXT_SUFFIXES = (".txt", ".text")
RECORD_SUFFIXES = (".md", ".markdown")
# Byte-order marks decide the encoding outright; without one, strict UTF-8 is tried first
# because GB18030 decodes almost any byte string without complaint.
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when no file failed."""
        return not self.failed


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """Decode source bytes; return ``(text, encoding)``.

    :raise ParseError: when the bytes are neither UTF-8/UTF-16 nor GB18030 text.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise ParseError(name, f"starts with a {encoding} byte-order mark but does not decode: {exc}") from None
    if b"\x00" in raw[:4096]:
        raise ParseError(name, "binary data (NUL bytes), not a text file")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ParseError(name, "unknown text encoding (tried UTF-8, UTF-16 and GB18030)")


def read_source(path: Path, name: str | None = None, *, sample: bool = False) -> Reply:
    """Read one source file and parse it into a record.

    :param name: the name recorded as the record's source file (default: the file name).
    :raise ArchiveError: for an unsupported format or a file that does not parse.
    """
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(name, f"cannot read: {exc.strerror or exc}") from None
    if suffix in RECORD_SUFFIXES:
        return from_markdown(decode(raw, name)[0], name)
    if suffix not in TEXT_SUFFIXES:
        raise ParseError(name, f"unsupported format {suffix or '(no suffix)'}: this version reads .txt and .md files")
    text, encoding = decode(raw, name)
    source = Source(
        file=name,
        format="txt",
        sha256=hashlib.sha256(raw).hexdigest(),
        parser_version=PARSER_VERSION,
        encoding=encoding,
    )
    return parse_reply(text, source=source, sample=sample)


def iter_sources(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Yield ``(file, recorded name)`` for files and, recursively, folders.

    A file inside a folder is recorded as ``folder/relative/path`` so that two files of
    the same name in different folders keep different ids. Hidden files are skipped.
    """
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child, (Path(path.resolve().name) / rel).as_posix()
        else:
            yield path, path.name


def ingest(paths: Iterable[Path], archive_dir: Path, *, sample: bool = False) -> IngestReport:
    """Parse every source file under ``paths`` (files or folders) into ``archive_dir``."""
    return ingest_sources(iter_sources(paths), archive_dir, sample=sample)


def ingest_sources(
    sources: Iterable[tuple[Path, str]],
    archive_dir: Path,
    *,
    sample: bool = False,
    progress: Callable[[str], None] | None = None,
) -> IngestReport:
    """Parse ``(file, recorded name)`` pairs from :func:`iter_sources` into records.

    A record whose source bytes and parser version are unchanged is left alone.

    :param sample: mark the records as fictional sample data.
    :param progress: called with each file name as it is processed.
    """
    report = IngestReport()
    for path, name in sources:
        if progress:
            progress(name)
        try:
            reply = read_source(path, name, sample=sample)
            target = record_path(archive_dir, reply.id)
            previous = _existing(target)
            # Same source bytes, same parser: keep the record as it is, including any
            # correction a person made to it by hand.
            if previous is not None and previous.source == reply.source:
                report.unchanged.append(name)
                continue
            write_reply(reply, archive_dir)
            (report.updated if previous else report.added).append(name)
        except ArchiveError as exc:
            report.failed.append((name, exc.message))
        except OSError as exc:
            report.failed.append((name, f"cannot write record: {exc}"))
    return report


def _existing(path: Path) -> Reply | None:
    if not path.exists():
        return None
    try:
        return read_reply(path)
    except RecordError:
        return None  # a broken record is replaced by a fresh parse
