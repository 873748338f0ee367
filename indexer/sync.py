"""Keep the index in step with the archive: bring it up to date, and check that they agree.

This is where the archive meets the index: the one indexer module that reads the
archive's record files and alias table.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reply_archive.archive.errors import RecordError
from reply_archive.archive.model import Reply
from reply_archive.archive.store import iter_records, iter_replies, snapshot
from reply_archive.archive.system import usable_cores
from reply_archive.archive.tables import department_names

from .backend import Backend, open_backend
from .schema import index_signature
from .search import ReplyIndex
from .settings import Settings

PARALLEL_BUILD_FROM = 200  # records; below this, starting worker processes costs more


MAX_BUILD_PROCESSES = 4


def build_processes(archive: Path) -> int:
    """Return how many processes should analyse the archive's records: one a core this
    process may use, up to :data:`MAX_BUILD_PROCESSES`."""
    many = sum(1 for _ in itertools.islice(archive.glob("*.md"), PARALLEL_BUILD_FROM)) >= PARALLEL_BUILD_FROM
    return min(usable_cores(), MAX_BUILD_PROCESSES) if many else 1


def settings_digest() -> str:
    """Return a digest of what an index depends on besides the records.

    The alias table is indexed with the records, and the words depend on the index
    format and the dictionary: a change to any means a full rebuild.
    """
    state = f"{index_signature()}\n{sorted(department_names().items())}"
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass
class IndexRun:
    """What one refresh of the index did."""

    mode: str  # up to date | rebuilt | updated
    indexed: int = 0  # records added or replaced
    removed: int = 0
    errors: list[RecordError] = field(default_factory=list)  # malformed records, skipped

    def describe(self, index: str | Path) -> str:
        """Return the one-line summary of the run for the index at ``index`` (a folder, a cluster)."""
        if self.mode == "up to date":
            return f"{index}: up to date"
        if self.mode == "rebuilt":
            return f"{index}: {self.indexed} replies indexed"
        return f"{index}: updated, {self.indexed} added or changed, {self.removed} removed"


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
    since then are touched; a changed dictionary, alias table or index format, or
    ``rebuild``, builds everything anew. Malformed records are skipped and reported, and
    tried again next time.

    :param progress: called with how many more of the archive's record files are done
        (indexed, found unchanged, or skipped as malformed), as they are: the counts add
        up to the number of record files, for a progress bar.
    :param settings: which backend holds the index (Whoosh in ``index`` by default).
    :raise IndexBusy: when another build holds the index's lock.
    """
    digest, stamps = settings_digest(), snapshot(archive)
    backend = open_backend(index, settings or Settings())
    errors: list[RecordError] = []
    records: dict[str, list] = {}
    try:
        info = None if rebuild else backend.info()
        return _refresh(archive, backend, info, digest, stamps, errors, records, progress)
    finally:
        backend.close()


def _refresh(
    archive: Path,
    backend: Backend,
    info: Mapping[str, Any] | None,
    settings: str,
    stamps: Mapping[str, str],
    errors: list[RecordError],
    records: dict[str, list],
    progress: Callable[[int], None] | None,
) -> IndexRun:
    """Update the index when its build kept a snapshot under today's settings, else rebuild it."""

    def kept() -> dict:
        return {"settings": settings, "records": records}

    def done(count: int) -> None:
        if progress and count:
            progress(count)

    if info is not None and info.get("settings") == settings:
        old = info["records"]
        changed = [name for name, stamp in stamps.items() if old.get(name, [None])[0] != stamp]
        gone = [name for name in old if name not in stamps]
        if not changed and not gone:
            done(len(stamps))
            return IndexRun("up to date")
        records.update((name, old[name]) for name in stamps if name not in changed)
        replies = []
        # A changed file may copy the id of one left as it is: one record per id.
        held = {old[name][1]: name for name in stamps if name not in changed and name in old}
        for name, reply in iter_records(archive, changed, errors, held):
            replies.append(reply)
            records[name] = [stamps[name], reply.id]
        done(len(stamps) - len(replies))  # unchanged or malformed
        delete = {old[name][1] for name in (*gone, *changed) if name in old}
        indexed = backend.update(replies, delete=delete, aliases=department_names(), info=kept, progress=progress)
        return IndexRun("updated", indexed=indexed, removed=len(gone), errors=errors)

    def every_reply() -> Iterator[Reply]:
        for name, reply in iter_records(archive, None, errors):
            records[name] = [stamps.get(name), reply.id]
            yield reply

    indexed = backend.build(
        every_reply(), aliases=department_names(), info=kept, procs=build_processes(archive), progress=progress
    )
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
    was built with today's settings from exactly these record files (a snapshot)."""
    if info is None:
        return True
    built_from = {name: stamp for name, (stamp, _) in info.get("records", {}).items()}
    return info.get("settings") != settings_digest() or built_from != dict(stamps)
