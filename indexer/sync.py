"""Keep the index in step with the archive: bring it up to date, and check that they agree.

This is where the archive meets the index: the one indexer module that reads the
archive's record files and alias table.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reply_archive.archive.errors import RecordError
from reply_archive.archive.model import Reply
from reply_archive.archive.store import iter_records, iter_replies, snapshot
from reply_archive.archive.system import usable_cores
from reply_archive.archive.tables import department_names

from .analysis import changed_words, domain_dictionary, mentions_any
from .backend import Backend, open_backend
from .build import word_texts
from .schema import INDEX_VERSION
from .search import ReplyIndex
from .settings import Settings

PARALLEL_BUILD_FROM = 200  # records; below this, starting worker processes costs more


MAX_BUILD_PROCESSES = 4


def build_processes(archive: Path) -> int:
    """Return how many processes should analyse the archive's records (:func:`processes`)."""
    return processes(sum(1 for _ in itertools.islice(archive.glob("*.md"), PARALLEL_BUILD_FROM)))


def processes(records: int) -> int:
    """Return how many processes should analyse ``records`` records: one a core this
    process may use, up to :data:`MAX_BUILD_PROCESSES`, from :data:`PARALLEL_BUILD_FROM`."""
    return min(usable_cores(), MAX_BUILD_PROCESSES) if records >= PARALLEL_BUILD_FROM else 1


def settings_digest() -> str:
    """Return a digest of what an index depends on besides the records and the domain
    dictionary: the index format, and the alias table, which is indexed with the
    records. A change to either means a full rebuild."""
    state = f"{INDEX_VERSION}\n{sorted(department_names().items())}"
    return hashlib.sha256(state.encode()).hexdigest()


# A changed dictionary re-analyses the replies holding a word whose count changed, unless
# they are more than this share of the archive: then it rebuilds, which costs about as
# much and leaves no replaced documents in the index's segments (BENCHMARKS.md).
REANALYSE_AT_MOST = 0.5


@dataclass
class IndexRun:
    """What one refresh of the index did."""

    mode: str  # up to date | rebuilt | updated
    indexed: int = 0  # records added or replaced
    removed: int = 0
    errors: list[RecordError] = field(default_factory=list)  # malformed records, skipped
    reanalysed: int = 0  # of those indexed, unchanged records whose words the dictionary changed
    words_changed: int = 0  # dictionary words whose count changed since the last build

    def describe(self, index: str | Path) -> str:
        """Return the one-line summary of the run for the index at ``index`` (a folder, a cluster)."""
        if self.mode == "up to date":
            return f"{index}: up to date"
        if self.mode == "rebuilt":
            return f"{index}: {self.indexed} replies indexed"
        words = f"{self.words_changed} changed dictionary word{'s' if self.words_changed > 1 else ''}"
        dictionary = f" ({self.reanalysed} for {words})" if self.words_changed else ""
        return f"{index}: updated, {self.indexed} added or changed{dictionary}, {self.removed} removed"


def refresh_index(
    archive: Path,
    index: Path,
    *,
    rebuild: bool = False,
    progress: Callable[[int], None] | None = None,
    settings: Settings | None = None,
) -> IndexRun:
    """Bring the index up to date with the archive.

    The index keeps the snapshot of the archive it was built from (each record file's
    size and modification time, and its id). Only records added, changed or removed
    since then are touched, and, when the domain dictionary changed, the records that
    contain a word whose count changed (:func:`~indexer.analysis.changed_words`), all
    others being segmented as before; a changed alias table or index format, a
    dictionary change that touches more than :data:`REANALYSE_AT_MOST` of the archive,
    or ``rebuild``, builds everything anew. Malformed records are skipped and reported,
    and tried again next time.

    :param progress: called with how many more of the archive's record files are done
        (indexed, found unchanged, or skipped as malformed), as they are: the counts add
        up to the number of record files, for a progress bar.
    :param settings: which backend holds the index (Whoosh in ``index`` by default).
    :raise IndexBusy: when another build holds the index's lock.
    """
    state = {"settings": settings_digest(), "dictionary": domain_dictionary()}
    stamps = snapshot(archive)
    backend = open_backend(index, settings or Settings())
    errors: list[RecordError] = []
    records: dict[str, list] = {}
    try:
        info = None if rebuild else backend.info()
        return _refresh(archive, backend, info, state, stamps, errors, records, progress)
    finally:
        backend.close()


def _refresh(
    archive: Path,
    backend: Backend,
    info: Mapping[str, Any] | None,
    state: Mapping[str, str],
    stamps: Mapping[str, str],
    errors: list[RecordError],
    records: dict[str, list],
    progress: Callable[[int], None] | None,
) -> IndexRun:
    """Update the index when its build kept a snapshot under today's settings (``state``:
    the settings' digest and the dictionary), else rebuild it."""

    def kept() -> dict:
        return {**state, "records": records}

    def done(count: int) -> None:
        if progress and count:
            progress(count)

    aliases = department_names()
    if info is not None and info.get("settings") == state["settings"] and isinstance(info.get("dictionary"), str):
        old = info["records"]
        changed = [name for name, stamp in stamps.items() if old.get(name, [None])[0] != stamp]
        gone = [name for name in old if name not in stamps]
        words = changed_words(info["dictionary"], state["dictionary"])
        reanalyse = _mentioning(archive, [name for name in stamps if name not in changed], words, aliases)
        if len(changed) + len(reanalyse) <= REANALYSE_AT_MOST * len(stamps) or not reanalyse:
            if not changed and not gone and info["dictionary"] == state["dictionary"]:
                done(len(stamps))
                return IndexRun("up to date")
            changed += reanalyse
            records.update((name, old[name]) for name in stamps if name not in changed)
            replies = []
            # A changed file may copy the id of one left as it is: one record per id.
            held = {old[name][1]: name for name in stamps if name not in changed and name in old}
            for name, reply in iter_records(archive, changed, errors, held):
                replies.append(reply)
                records[name] = [stamps[name], reply.id]
            done(len(stamps) - len(replies))  # unchanged or malformed
            delete = {old[name][1] for name in (*gone, *changed) if name in old}
            indexed = backend.update(
                replies, delete=delete, aliases=aliases, info=kept, procs=processes(len(replies)), progress=progress
            )
            return IndexRun(
                "updated", indexed=indexed, removed=len(gone), errors=errors,
                reanalysed=len(reanalyse), words_changed=len(words),
            )

    def every_reply() -> Iterator[Reply]:
        for name, reply in iter_records(archive, None, errors):
            records[name] = [stamps.get(name), reply.id]
            yield reply

    procs = build_processes(archive)
    indexed = backend.build(every_reply(), aliases=aliases, info=kept, procs=procs, progress=progress)
    done(len(errors))
    return IndexRun("rebuilt", indexed=indexed, errors=errors)


@dataclass
class CheckReport:
    """How the archive and the index differ, record for record."""

    records: int  # well-formed records in the archive
    indexed: int  # replies in the index
    errors: list[RecordError] = field(default_factory=list)  # malformed records
    missing: list[str] = field(default_factory=list)  # ids of records not in the index
    extra: list[str] = field(default_factory=list)  # ids in the index with no record
    stale: bool = False  # the index was not built from the archive as it is now

    @property
    def ok(self) -> bool:
        """Return whether the archive and the index agree."""
        return not (self.errors or self.missing or self.extra or self.stale)


def check_index(archive: Path, index: Path, settings: Settings | None = None) -> CheckReport:
    """Return how the archive and the index differ, record for record.

    Lists malformed records, records missing from the index and index entries with no
    record, and says whether the index was built from the archive as it is now (its
    snapshot of the record files, and the settings).

    :raise IndexMissing: when no index has been built in ``index``.
    """
    errors: list[RecordError] = []
    records = {reply.id for reply in iter_replies(archive, errors)}
    reply_index = ReplyIndex(index, settings)
    try:
        indexed = reply_index.ids()
        info = reply_index.info()
    finally:
        reply_index.close()
    # A malformed record is reported as such, not as a difference from the snapshot.
    malformed = {Path(exc.path).relative_to(archive).as_posix() for exc in errors}
    current = {name: stamp for name, stamp in snapshot(archive).items() if name not in malformed}
    return CheckReport(
        records=len(records),
        indexed=len(indexed),
        errors=errors,
        missing=sorted(records - indexed),
        extra=sorted(indexed - records),
        stale=is_stale(info, current),
    )


def is_stale(info: Mapping[str, Any] | None, stamps: Mapping[str, str]) -> bool:
    """Return True unless an index (what its build kept, :func:`indexer.build.index_info`)
    was built with today's settings and dictionary from exactly these record files (a snapshot)."""
    if info is None:
        return True
    built_from = {name: stamp for name, (stamp, _) in info.get("records", {}).items()}
    return (
        info.get("settings") != settings_digest()
        or info.get("dictionary") != domain_dictionary()
        or built_from != dict(stamps)
    )


def _mentioning(
    archive: Path, names: list[str], words: set[str], aliases: Mapping[str, Sequence[str]]
) -> list[str]:
    """Return which of the records ``names`` index a text containing one of ``words``
    (or cannot be read now: read again as changed ones are, they are reported then).

    Reading the records is the time it takes (about a millisecond each), so processes
    read a share each, as a build's workers analyse them.
    """
    if not words:
        return []
    procs = processes(len(names))
    chunks = [(archive, names[i::procs], words, aliases) for i in range(procs)]
    if procs == 1:
        return _mentioning_in(*chunks[0])
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return [name for found in pool.starmap(_mentioning_in, chunks) for name in found]


def _mentioning_in(
    archive: Path, names: list[str], words: set[str], aliases: Mapping[str, Sequence[str]]
) -> list[str]:
    mentions = mentions_any(words)
    unreadable: list[RecordError] = []
    found = [name for name, reply in iter_records(archive, names, unreadable)
             if any(map(mentions, word_texts(reply, aliases).values()))]
    return found + [Path(exc.path).relative_to(archive).as_posix() for exc in unreadable]
