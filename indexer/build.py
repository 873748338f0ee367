"""Build the index from records, atomically.

An index folder holds generations (``gen-<time>``) and a ``current`` symlink. A build
writes a complete new generation (an update, a changed copy of the current one), then
swaps the symlink in one rename, so readers see either the old index or the new one,
never half of one; a build that fails or is killed leaves ``current`` untouched. A lock
file keeps two builds from running at once.
"""

from __future__ import annotations

import ctypes
import gzip
import io
import itertools
import json
import os
import shutil
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import Index

from reply_archive.archive.locking import exclusive
from reply_archive.archive.model import Reply

from .analysis import exact_text, fold, segmenter
from .codec import ReplyCodec
from .errors import IndexBusy, IndexerError, IndexMissing, IndexStale
from .results import HIT_FIELDS
from .schema import CHAR_FIELD, EXACT_FIELD, FACETS, INDEX_VERSION, build_schema
from .segment import SegmentedWriter

CURRENT = "current"
_GEN_PREFIX = "gen-"
_INFO = "build.json"  # the caller's record of what the generation was built from
_FORMAT = "index.format"  # the INDEX_VERSION a generation was written by
_TEXTS_PREFIX, _TEXTS_SUFFIX = "texts-", ".tsv.gz"  # folded exact texts, see iter_texts
# zlib level of the texts files: a quarter (generated replies) to two fifths (real prose)
# of the text's size, at about a second of the indexing process's time per 100 MB
# (level 6: a tenth to a sixth smaller, twice as slow)
_TEXTS_LEVEL = 3


def facet_values(reply: Reply, attr: str) -> list[str]:
    """Return a record's values for one facet attribute as strings (none when empty)."""
    value: Any = reply
    for name in attr.split("."):
        value = getattr(value, name)
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(v) for v in values if v not in (None, "")]


def _keywords(values: Iterable[str]) -> str:
    """Join values for a comma-separated keyword field (a comma inside one becomes ，)."""
    return ",".join(str(v).replace(",", "，") for v in values if v)


def reply_to_doc(reply: Reply, aliases: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Map a record to index fields: the only place that knows both shapes.

    :param aliases: every name of a department, by canonical name, so that a
        ``department:`` query for any of its names finds the reply.
    """
    words = word_texts(reply, aliases)
    everything = exact_text(reply.title, reply.proposal_title, words["body"])
    doc: dict[str, Any] = {
        "id": reply.id,
        **words,
        EXACT_FIELD: everything,
        CHAR_FIELD: everything,
        "date": reply.date or "",
        "number_order": _number_order(reply.proposal_numbers),
        "proposers": _keywords(reply.proposers),
        "numbers": _keywords(reply.proposal_numbers),
        "session_labels": _keywords((reply.session_label or "",)),
        "commitments": "yes" if reply.commitments else "",
        "display": {
            # What a hit shows, read back without the record (lists stored as lists).
            **{name: _stored(getattr(reply, name)) for name in HIT_FIELDS},
            "sections": _section_starts(reply),
            "commitments": [[c.text, c.cue, c.target_year, c.passage] for c in reply.commitments],
        },
    }
    for facet in FACETS:
        doc[facet.name] = _keywords(facet_values(reply, facet.attr))
    return doc


def word_texts(reply: Reply, aliases: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Return the texts of a record that the word fields index (:data:`WORD_TEXT_FIELDS`), by field."""
    names = [reply.department, reply.department_raw, *(aliases or {}).get(reply.department or "", ())]
    return {
        "title": reply.title,
        "proposal_title": reply.proposal_title or "",
        "headings": "\n".join(s.heading_line for s in reply.sections),
        "body": reply.searchable_body,
        "department_names": "\n".join(dict.fromkeys(n for n in names if n)),
    }


def stored_exact_text(stored: Mapping[str, Any]) -> str:
    """Return the folded exact text of a reply from its stored fields: what its texts
    file holds (:func:`iter_texts`), for a search that has no texts file at hand."""
    display = stored["display"]
    return fold(exact_text(display["title"], display["proposal_title"], stored["body"]))


def _stored(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _number_order(numbers: Sequence[str]) -> str:
    """Return the sort key of a reply by proposal number: its smallest number, padded
    so that text order is numeric order; replies without a number sort last."""
    return min((n.rjust(20, "0") for n in numbers if n.isdigit()), default="~")


def _section_starts(reply: Reply) -> list[tuple[int, str]]:
    """Return where each section's heading stands in the body, for snippet headings."""
    return [(at, reply.sections[idx].heading_line) for at, idx in reply.section_starts()]


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock, or fail at once if another build holds it."""
    with exclusive(index_dir / ".lock", lambda: IndexBusy(index_dir)):
        yield


def build_index(
    replies: Iterable[Reply],
    index_dir: Path,
    *,
    info: Callable[[], dict[str, Any]] | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    schema: Schema | None = None,
    procs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Build a new index generation from ``replies`` and make it current.

    The generation's segments are written by :class:`~indexer.segment.SegmentedWriter`
    (one segment up to about 9,000 replies of 4,500 characters).

    :param info: called once the replies are consumed; what the caller wants kept with
        the generation (the archive state it was built from), read by :func:`index_info`.
    :param aliases: department names by canonical name (see :func:`reply_to_doc`).
    :param schema: a variant of :func:`build_schema` (benchmarks compare analyses).
    :param procs: processes that analyse documents in parallel (BENCHMARKS.md).
    :param progress: called with the number of records indexed since its last call, as
        they are (a parallel build's workers are at most a few batches behind).
    :return: the number of records indexed.
    :raise IndexerError: when another build holds the lock.
    """
    with _new_generation(Path(index_dir), info) as gen:
        ix = whoosh_index.create_in(str(gen), schema or build_schema())
        with _array_writer(ix, procs) as writer:
            count = _write_replies(replies, aliases, gen, writer.add_document, progress)
        ix.close()
    return count


@contextmanager
def _array_writer(ix: Index, procs: int) -> Iterator[SegmentedWriter]:
    """Give a writer of array segments to ``ix``, with ``procs`` processes analysing
    documents; it commits when the block ends, and is cancelled, its workers stopped,
    when the block fails or is interrupted."""
    segmenter()  # load the dictionary once, before any worker forks
    with _workers_die_with_this_process(procs > 1), SegmentedWriter(ix, procs=procs) as writer:
        yield writer


# A parallel build forks its workers. Killed, the build would leave them
# running for tens of seconds, holding the build lock they inherited: a process forked
# while this is set asks the kernel (Linux) to kill it when its parent dies.
_PR_SET_PDEATHSIG = 1
_forking_workers_of: int | None = None  # the pid of the build that forks them


@contextmanager
def _workers_die_with_this_process(parallel: bool) -> Iterator[None]:
    global _forking_workers_of
    _forking_workers_of = os.getpid() if parallel else None
    try:
        yield
    finally:
        _forking_workers_of = None


# A terminal's Ctrl-C signals every process of its group. The build alone handles it (it
# stops its workers, then removes its generation); workers that took it too would print
# a traceback each. SIGINT stays blocked across the fork, so none reaches a worker
# before it ignores them.


_masks_before_fork = threading.local()  # each forking thread's signal mask


def _hold_interrupts() -> None:
    """In a build about to fork a worker: keep SIGINT pending until the fork is done."""
    if _forking_workers_of == os.getpid():
        _masks_before_fork.mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _release_interrupts() -> None:
    """In a build that forked a worker: give the thread its mask again, taking SIGINT
    (one that came meanwhile too) unless the thread held it before the fork."""
    mask = getattr(_masks_before_fork, "mask", None)
    if mask is not None:
        del _masks_before_fork.mask
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _die_with_parent() -> None:
    """In a forked build worker: leave SIGINT to the build, and die with it (the parent
    may already be gone)."""
    if _forking_workers_of is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != _forking_workers_of:  # it died before the request took effect
        os._exit(1)


os.register_at_fork(before=_hold_interrupts, after_in_parent=_release_interrupts, after_in_child=_die_with_parent)


# An update of this many replies or more is written as array segments, like a build.
# Whoosh's writer takes twice as long for 10 or 100 replies and five times for 600 (an
# update of a 20,000-reply index, two cores), but merges the small segments that many
# small updates leave, which the array writer never does.
ARRAY_UPDATE_FROM = 100


def update_index(
    replies: Iterable[Reply],
    index_dir: Path,
    *,
    delete: Iterable[str] = (),
    info: Callable[[], dict[str, Any]] | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    procs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add or replace ``replies`` and delete the ids in ``delete``, in a new generation.

    The current generation is copied (no record is analysed again; its segment files,
    which Whoosh never changes once written, are hard links) and changed in the copy,
    which then replaces it as a build does: searches never see half an update.

    :param procs: processes that analyse the replies of a large update (see
        :data:`ARRAY_UPDATE_FROM`) in parallel.
    :param progress: called with the number of records written since its last call, as they are.
    :return: the number of records added or replaced.
    :raise IndexerError: when there is no index yet, or another build holds the lock.
    """
    replies = iter(replies)
    first = list(itertools.islice(replies, ARRAY_UPDATE_FROM))
    with _new_generation(Path(index_dir), info, copy_current=True) as gen:
        ix = open_generation(gen)
        large = len(first) == ARRAY_UPDATE_FROM
        with _array_writer(ix, procs) if large else ix.writer(codec=ReplyCodec()) as writer:
            for reply_id in delete:
                writer.delete_by_term("id", reply_id)
            count = _write_replies(itertools.chain(first, replies), aliases, gen, writer.update_document, progress)
        ix.close()
    return count


def _write_replies(
    replies: Iterable[Reply],
    aliases: Mapping[str, Sequence[str]] | None,
    gen: Path,
    write: Callable[..., None],
    progress: Callable[[int], None] | None,
) -> int:
    """Give each reply's fields to ``write`` (a writer's add or update) and its folded
    exact text to a new texts file of the generation, telling ``progress`` of each;
    return how many were written.

    A texts file is gzip-compressed, with a line ``id<TAB>text`` per reply (folding
    removes tabs and line ends). Each build or update writes one; a reply's text is in
    the newest file that has it (see :func:`iter_texts`).
    """
    count = 0
    path = gen / f"{_TEXTS_PREFIX}{time.time_ns()}{_TEXTS_SUFFIX}"
    # No time in the gzip header: the same replies make the same file.
    with gzip.GzipFile(path, "wb", compresslevel=_TEXTS_LEVEL, mtime=0) as raw, \
            io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as texts:
        for reply in replies:
            doc = reply_to_doc(reply, aliases)
            write(**doc)
            texts.write(f"{doc['id']}\t{fold(doc[EXACT_FIELD])}\n")
            count += 1
            if progress:
                progress(1)
    return count


def iter_texts(gen: Path) -> Iterator[tuple[str, str]]:
    """Yield the id and folded exact text of every line of a generation's texts files.

    Search matches long exact phrases in these texts. The files are read oldest first:
    where a reply changed by an update recurs, its last text is its current one.

    :raise OSError: when a file cannot be read, or is truncated or damaged.
    """
    for path in sorted(gen.glob(f"{_TEXTS_PREFIX}*{_TEXTS_SUFFIX}")):
        try:
            with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
                for line in fh:
                    reply_id, _, text = line.rstrip("\n").partition("\t")
                    yield reply_id, text
        except (EOFError, zlib.error) as exc:  # a truncated or damaged file: as unreadable
            raise OSError(f"{path}: {exc}") from exc


@contextmanager
def _new_generation(
    index_dir: Path, info: Callable[[], dict[str, Any]] | None, copy_current: bool = False
) -> Iterator[Path]:
    """Give a new generation folder to fill (empty, or a copy of the current one), then
    make it current, atomically.

    If anything fails (or the process is killed) before the swap, ``current`` still
    points to the previous generation and the partial folder is removed.
    """
    with build_lock(index_dir):
        link = index_dir / CURRENT
        previous = os.readlink(link) if link.is_symlink() else None
        if copy_current:
            check_format(current_generation(index_dir))
        gen = index_dir / f"{_GEN_PREFIX}{time.time_ns()}"
        try:
            if copy_current:
                shutil.copytree(current_generation(index_dir), gen, copy_function=_link_or_copy)
            else:
                gen.mkdir()
            yield gen
            (gen / _FORMAT).write_text(str(INDEX_VERSION))
            kept = info() if info else None
            (gen / _INFO).unlink(missing_ok=True)  # a copied generation's info is stale
            if kept is not None:
                (gen / _INFO).write_text(json.dumps(kept, ensure_ascii=False))
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        # Outside the try: a Ctrl-C just after the rename must not remove what `current`
        # now points to (a swap that fails leaves the folder to the next build's sweep).
        _swap(index_dir, gen)
        # The previous generation stays one more round for searches that resolved the
        # link just before the swap.
        _remove_old_generations(index_dir, keep={gen.name, previous or gen.name})


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link a segment or texts file (written once, never modified), copy anything
    else.

    Linking makes an update's copy of a large generation instant; a file system
    without hard links gets a copy.
    """
    if src.endswith((".seg", _TEXTS_SUFFIX)):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


def open_generation(gen: Path) -> Index:
    """Open an index generation, reading its files without memory mapping.

    With a memory map, Whoosh copies each segment's term and posting files into every
    reader it opens: at 10,000 replies a searcher took 1.35 GB and 0.4-1.3 s to open.
    Read through the file, a searcher opens at once in a few MB, for matching about
    10 % slower (measured, BENCHMARKS.md).

    :raise whoosh.index.EmptyIndexError: when the folder holds no index.
    """
    return FileStorage(str(gen), supports_mmap=False).open_index()


def current_generation(index_dir: Path) -> Path:
    """Return the folder of the index generation in use.

    :raise IndexMissing: when the folder holds no built index.
    """
    link = Path(index_dir) / CURRENT
    if not link.is_symlink() and not link.is_dir():
        raise IndexMissing(index_dir)
    return link.resolve()


def check_format(generation: Path) -> None:
    """Refuse a generation written by another index format version.

    :raise IndexStale: telling the user to rebuild.
    """
    try:
        version = (generation / _FORMAT).read_text().strip()
    except OSError:
        version = "unknown"
    if version != str(INDEX_VERSION):
        raise IndexStale(generation.parent, version, str(INDEX_VERSION))


def index_info(index_dir: Path) -> dict[str, Any] | None:
    """Return what the current generation was built from, as its builder kept it."""
    try:
        return json.loads((current_generation(index_dir) / _INFO).read_text())
    except (IndexerError, OSError, ValueError):
        return None


def _swap(index_dir: Path, gen: Path) -> None:
    tmp = index_dir / f".{CURRENT}-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(gen.name)
    os.replace(tmp, index_dir / CURRENT)  # rename(2) is atomic


def _remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Delete superseded generations, and what killed builds left behind (partial
    generations, temporary links); readers that still hold a generation open keep its
    files until they close them."""
    for child in index_dir.iterdir():
        if child.name.startswith(_GEN_PREFIX) and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(f".{CURRENT}-") and child.is_symlink():
            child.unlink(missing_ok=True)
