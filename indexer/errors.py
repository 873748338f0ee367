"""Errors raised by the indexer."""

from __future__ import annotations

from pathlib import Path


class IndexerError(Exception):
    """Base class for index problems: missing index, a build already running."""


class DictionaryError(IndexerError):
    """The domain dictionary's file cannot be read."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"cannot read the domain dictionary {path}: {reason}")
        self.path = str(path)


class IndexMissing(IndexerError):
    """No index has been built in the folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        super().__init__(f"no index in {folder}: run `reply-archive index` to build it")


class IndexBusy(IndexerError):
    """Another index build holds the folder's build lock."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        super().__init__(f"another index build is running in {folder}; try again when it ends")


class IndexStale(IndexerError):
    """The index was written by another index format version and must be rebuilt."""

    def __init__(self, folder: str | Path, found: str, expected: str) -> None:
        self.folder = Path(folder)
        self.found = found
        self.expected = expected
        super().__init__(
            f"the index in {folder} was built by another version (format {found}, "
            f"this one reads {expected}): run `reply-archive index --rebuild`"
        )


class ClusterError(IndexerError):
    """The search cluster cannot answer: unreachable, or shards unavailable past the deadline."""


class UnknownReply(IndexerError):
    """The index holds no reply with the given id."""

    def __init__(self, reply_id: str) -> None:
        self.reply_id = reply_id
        super().__init__(f"no reply with id {reply_id!r}")


class QueryError(IndexerError):
    """A search request the indexer rejects: unknown facet, bad page or page size."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")
