"""A query as every search backend receives it: analysed, engine-neutral.

The query language (:mod:`indexer.query`) is read, segmented by jieba, folded and
expanded with synonyms on our side; what crosses to a backend is only this small tree
of index terms. So every backend sees the same tokens, and a backend only translates
the tree into its own queries (:mod:`indexer.whoosh_query` for Whoosh).

Nodes are frozen and hashable: a plan is its own cache key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """A node of an analysed query."""


@dataclass(frozen=True)
class Term(Plan):
    """An index term of one field (a word, a keyword value, a year)."""

    field: str
    text: str
    boost: float = 1.0  # its weight among others (key terms of a similar-replies query)


@dataclass(frozen=True)
class Phrase(Plan):
    """Exact wording: texts whose folded title, proposal title and body contain it."""

    text: str  # folded


@dataclass(frozen=True)
class Nearby(Plan):
    """Runs of consecutive body words, each within ``slop`` words of the others, in any
    order."""

    runs: tuple[tuple[str, ...], ...]
    slop: int


@dataclass(frozen=True)
class AllOf(Plan):
    """Every child matches."""

    children: tuple[Plan, ...]


@dataclass(frozen=True)
class AnyOf(Plan):
    """At least one child matches; the scores of those that do add up."""

    children: tuple[Plan, ...]


@dataclass(frozen=True)
class Without(Plan):
    """Every reply the child does not match (inside an :class:`AllOf`: an exclusion)."""

    child: Plan


@dataclass(frozen=True)
class Everything(Plan):
    """Every reply: the query of a search that asks for nothing."""
