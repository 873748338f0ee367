"""Errors raised by the archive layer."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class for everything the archive layer refuses to do.

    ``message`` is the reason alone, without the file name, for reports that list the
    file separately.
    """

    message: str


class ParseError(ArchiveError):
    """A source document could not be turned into a reply record."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class RecordError(ArchiveError):
    """An archive record (Markdown with front matter) is malformed."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


class ReplyNotFound(ArchiveError):
    """No record with the given id exists in the archive."""

    def __init__(self, reply_id: str) -> None:
        self.reply_id = reply_id
        self.message = f"no reply with id {reply_id!r}"
        super().__init__(self.message)


class ArchiveBusy(ArchiveError):
    """Another run holds the archive's write lock."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
