"""Errors raised by the indexer."""

from __future__ import annotations


class IndexerError(Exception):
    """Base class for index problems: missing index, a build already running."""


class QueryError(IndexerError):
    """A search request the indexer rejects: unknown facet, bad page or page size."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")
