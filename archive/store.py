"""The archive on disk: one Markdown file per reply, metadata in YAML front matter.

The Markdown body is the document itself, readable and editable by hand: paragraphs
separated by blank lines, section headings marked ``##`` (level 1), ``###`` (level 2)
and so on. Sections are read back from those marks, so a person who corrects a heading
or a paragraph in the file corrects the record.

Ingest seals each record it writes: the last line of the front matter,
``record_sha256``, is the digest of the file without that line. A file whose content no
longer matches its seal was changed by a person, and ingest never overwrites it.

Beside the records, dot-folders hold what is not a record: ``.sources/`` the original
source files, named by the digest of their bytes, and ``.reports/`` the ingest reports.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .errors import ArchiveBusy, RecordError, ReplyNotFound
from .locking import exclusive
from .model import ID_PATTERN, Reply
from .parse import outline, split_heading
from .text import bom_encoding, unify_line_ends

SUFFIX = ".md"
PENDING_SUFFIX = ".md.new"  # a fresh parse waiting beside a record corrected by hand
SOURCES = ".sources"
SEAL = "record_sha256"
_SEAL_LINE = re.compile(rf"{SEAL}: ([0-9a-f]{{64}})")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HEADING = re.compile(r"^(#{2,6})\s+(.*)$")
# Derived from the Markdown body, so not repeated in the front matter.
_BODY_FIELDS = ("body", "sections")


def to_markdown(reply: Reply) -> str:
    """Return the record as Markdown with YAML front matter."""
    meta = {
        key: value
        for key, value in reply.to_dict(derived=False).items()
        if key not in _BODY_FIELDS and not _unset(value) and value not in ([], {})
    }
    for name in ("assembly", "source"):
        meta[name] = {k: v for k, v in meta.get(name, {}).items() if not _unset(v)}
        if not meta[name]:
            del meta[name]
    return f"---\n{front_matter(meta)}---\n\n{markdown_body(reply)}\n"


def front_matter(meta: Mapping[str, Any]) -> str:
    """Return a record's front matter as YAML.

    libyaml's emitter writes what PyYAML's pure-Python one writes, five times faster,
    except for characters it escapes and PyYAML keeps (those beyond the Basic
    Multilingual Plane, such as the rarer ideographs of names, and NEL): a front matter
    holding any of them is written by PyYAML, so a record reads the same either way.
    """
    dumper = yaml.SafeDumper if _escaped_by_libyaml(meta) else _Dumper
    return yaml.dump(meta, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1000)


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# What libyaml writes as it stands, as PyYAML does: tab, line ends, printable ASCII and
# the rest of the Basic Multilingual Plane but the surrogates.
_LIBYAML_KEEPS = re.compile("[\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd]*")


def _escaped_by_libyaml(value: Any) -> bool:
    """Return True if a string in ``value`` (a scalar, or lists and mappings of them)
    holds a character outside :data:`_LIBYAML_KEEPS`."""
    if isinstance(value, str):
        return _LIBYAML_KEEPS.fullmatch(value) is None
    if isinstance(value, Mapping):
        return any(_escaped_by_libyaml(k) or _escaped_by_libyaml(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_escaped_by_libyaml(v) for v in value)
    return False


def _unset(value: Any) -> bool:
    """Return True for a value a record's file leaves out: None or False, never 0 (a
    test of ``value in (None, False)`` takes 0 for False)."""
    return value is None or value is False


def markdown_body(reply: Reply) -> str:
    """Return the reply's text as Markdown: paragraphs, with headings marked."""
    return "\n\n".join(markdown_blocks(reply))


def markdown_blocks(reply: Reply) -> list[str]:
    """Return the Markdown block of each body paragraph, in order."""
    blocks = []
    for idx, paragraph in enumerate(reply.paragraphs):
        if (section_idx := reply.heading_paragraphs.get(idx)) is not None:
            blocks.append(f"{'#' * (reply.sections[section_idx].level + 1)} {paragraph}")
        elif paragraph.startswith("#"):
            blocks.append("\\" + paragraph)  # a literal # that is not a heading
        else:
            blocks.append(paragraph)
    return blocks


# Front matter is a flat mapping with a few nested ones; a hand edit never needs more.
_MAX_DEPTH = 10
_MAX_FRONT_MATTER = 256 * 1024


class _Refused(Exception):
    """Front matter that uses what no record needs."""


# libyaml's loader where PyYAML was built with it (its wheels are): loading the front
# matter in Python was a fifth of an ingest and of reading the records to index them.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_events(yaml_text: str) -> None:
    """Refuse anchors and aliases (the billion-laughs expansion) and nesting deeper than
    any record has, reading the document's events before it is composed."""
    depth = 0  # of the collections the next node stands in
    for event in yaml.parse(yaml_text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("front matter uses YAML anchors or aliases (& and *), which records never need")
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, (yaml.CollectionStartEvent, yaml.ScalarEvent)):
            if depth + 1 > _MAX_DEPTH:  # the node's own level
                raise _Refused(f"front matter is nested deeper than {_MAX_DEPTH} levels")
            depth += isinstance(event, yaml.CollectionStartEvent)


def _front_matter(yaml_text: str, path: str) -> Any:
    """Load a record's front matter, refusing what no record needs and a loader can be
    made to choke on: anchors and aliases, deep nesting, huge sizes; and values the YAML
    loader cannot build (date: 2023-02-30, an integer of 5,000 digits, !!float abc).

    :raise RecordError: naming the file, for every one of these.
    """
    if len(yaml_text) > _MAX_FRONT_MATTER:
        raise RecordError(path, f"front matter is larger than {_MAX_FRONT_MATTER // 1024} KiB")
    try:
        _check_events(yaml_text)
        return yaml.load(yaml_text, Loader=_Loader) or {}  # a safe loader
    except _Refused as exc:
        raise RecordError(path, str(exc)) from None
    except yaml.YAMLError as exc:
        raise RecordError(path, f"front matter is not valid YAML: {exc}") from None
    except (ValueError, OverflowError, RecursionError) as exc:  # a value YAML parsed but cannot build
        raise RecordError(path, f"front matter holds a value that cannot be read: {exc}") from None


def from_markdown(text: str, path: str = "<record>") -> Reply:
    """Parse a record written by :func:`to_markdown` (or corrected by hand).

    :raise RecordError: when the front matter is missing or malformed.
    """
    # A record saved by an editor on Windows has CRLF line ends, perhaps a byte-order mark.
    text = unify_line_ends(text)
    if not text.startswith("---\n"):
        raise RecordError(path, "missing YAML front matter (the file must start with ---)")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise RecordError(path, "front matter is not closed by a --- line")
    meta = _front_matter(text[4:end], path)
    if not isinstance(meta, dict):
        raise RecordError(path, "front matter must be a mapping of field names to values")
    meta.pop(SEAL, None)  # the store's, not a field of the reply
    paragraphs: list[str] = []
    levels: dict[int, tuple[int, str, str]] = {}
    for block in re.split(r"\n\s*\n", text[end + 5 :].strip()):
        block = block.strip()
        if not block:
            continue
        if heading := _HEADING.match(block):
            line = heading.group(2).strip()
            _, marker, text = split_heading(line)
            levels[len(paragraphs)] = (len(heading.group(1)) - 1, marker, text)
            paragraphs.append(line)
        else:
            paragraphs.append(block[1:] if block.startswith("\\#") else block)
    meta["body"] = "\n\n".join(paragraphs)
    meta["sections"] = [dataclasses.asdict(s) for s in outline(paragraphs, levels)]
    try:
        reply = Reply.from_dict(_coerce(meta))
    except (TypeError, ValueError) as exc:
        raise RecordError(path, f"bad field: {exc}") from None
    for name in ("id", "title", "body"):
        if not getattr(reply, name):
            raise RecordError(path, f"required field {name!r} is empty")
    return reply


def _coerce(meta: dict[str, Any]) -> dict[str, Any]:
    # YAML reads an unquoted 2022-09-23 as a date; the record keeps it as text. Anything
    # else of the wrong kind is left for the record's type check to name.
    if isinstance(meta.get("date"), datetime.date) and not isinstance(meta["date"], datetime.datetime):
        meta["date"] = meta["date"].isoformat()
    return meta


@contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """Hold the archive's write lock, or fail at once if another ingest holds it.

    :raise ArchiveBusy: naming the archive, when another run is writing to it.
    """
    root = Path(root)
    message = f"another ingest is writing to {root}; run this one when it has finished"
    with exclusive(root / ".lock", lambda: ArchiveBusy(message)):
        _sweep_temporaries(root)
        yield


def _sweep_temporaries(root: Path) -> None:
    """Remove the temporary files a killed ingest left: with the lock held, no write of
    the archive is under way, so every one of them is stale. (A scan of names, not a
    glob: at 100,000 records 0.09 s, not 0.2 s, of every ingest.)"""
    for folder in (root, root / SOURCES):
        try:
            entries = os.scandir(folder)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith(_TEMPORARY) and entry.is_file(follow_symlinks=False):
                    Path(entry.path).unlink(missing_ok=True)


def record_path(root: Path, reply_id: str) -> Path:
    """Return where the record with this id is written."""
    return Path(root) / f"{reply_id}{SUFFIX}"


def pending_path(root: Path, reply_id: str) -> Path:
    """Return where a fresh parse waits beside a record corrected by hand."""
    return Path(root) / f"{reply_id}{PENDING_SUFFIX}"


def write_reply(reply: Reply, root: Path, text: str | None = None) -> Path:
    """Write a sealed record atomically (a reader never sees half a file); return its path.

    :param text: the record's :func:`sealed_markdown`, when the caller has it already.
    """
    path = record_path(root, reply.id)
    _write_atomic(path, (sealed_markdown(reply) if text is None else text).encode("utf-8"))
    return path


def write_pending(reply: Reply, root: Path) -> Path:
    """Write a sealed fresh parse as ``<id>.md.new``, beside the record; return its path.

    Being sealed, it becomes an ordinary record when renamed to ``<id>.md``.
    """
    path = pending_path(root, reply.id)
    _write_atomic(path, sealed_markdown(reply).encode("utf-8"))
    return path


def sealed_markdown(reply: Reply) -> str:
    """Return :func:`to_markdown` with the seal as the last line of the front matter."""
    text = to_markdown(reply)
    end = text.index("\n---\n", 3) + 1
    return f"{text[:end]}{SEAL}: {hashlib.sha256(text.encode('utf-8')).hexdigest()}\n{text[end:]}"


def is_hand_edited(path: Path) -> bool:
    """Return True unless the record file is exactly as ingest sealed it.

    A file without a seal (removed, or written before records were sealed) counts as
    edited: it cannot be told apart from a correction.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    end = text.find("\n---\n", 3)
    start = text.rfind("\n", 0, end) + 1
    seal = _SEAL_LINE.fullmatch(text, start, end) if end > 0 else None
    if seal is None:
        return True
    unsealed = text[:start] + text[end + 1 :]
    return hashlib.sha256(unsealed.encode("utf-8")).hexdigest() != seal.group(1)


def save_source(root: Path, data: bytes, file: str) -> Path:
    """Keep a source file's bytes in the archive, named by their digest; return the path.

    :param file: the source's file name, whose suffix the copy keeps.
    """
    path = _source_file(root, hashlib.sha256(data).hexdigest(), file)
    if not path.is_file():  # content-addressed: an existing copy is this very file
        _write_atomic(path, data)
    return path


def source_path(root: Path, reply: Reply) -> Path | None:
    """Return the archive's copy of the record's source file, or None if it has none."""
    if reply.source is None or not _SHA256.match(reply.source.sha256):  # never a path from a hand edit
        return None
    path = _source_file(root, reply.source.sha256, reply.source.file)
    return path if path.is_file() and _within(root, path) else None


def _within(root: Path, path: Path) -> bool:
    """Return True when ``path`` is no link and resolves to a place inside ``root``: the
    archive is a closed folder (a link in .sources/ to /etc/passwd is never served)."""
    return not path.is_symlink() and path.resolve().is_relative_to(Path(root).resolve())


def _source_file(root: Path, sha256: str, file: str) -> Path:
    return Path(root) / SOURCES / f"{sha256}{Path(file).suffix.lower()}"


_TEMPORARY = ".tmp-"  # the prefix of a file being written


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name is a dot-file: never read as a record, even if left by a crash.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before the rename: a power cut leaves old or new
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # Windows cannot open a folder to sync it
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # and the rename itself survives it
        finally:
            os.close(directory)


def read_reply(path: Path) -> Reply:
    """Read one record file.

    :raise RecordError: when the file cannot be read or is malformed.
    """
    if Path(path).is_symlink():
        raise RecordError(str(path), "is a symbolic link: the archive never reads through links")
    try:
        raw = Path(path).read_bytes()
        # The store writes UTF-8; an editor may have saved it with a BOM, or as UTF-16.
        text = raw.decode(bom_encoding(raw) or "utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(str(path), f"cannot read: {exc}") from None
    return from_markdown(text, str(path))


def iter_replies(root: Path, errors: list[RecordError] | None = None) -> Iterator[Reply]:
    """Yield every record under ``root`` (recursively), in path order.

    :param errors: when given, malformed records are collected here and skipped, so one
        bad file never stops a batch; otherwise the first one raises.
    """
    for _, reply in iter_records(root, None, errors):
        yield reply


def iter_records(
    root: Path,
    names: Iterable[str] | None = None,
    errors: list[RecordError] | None = None,
    held: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, Reply]]:
    """Yield ``(name, record)`` for the records named (paths relative to ``root``, as
    :func:`snapshot` gives them), or for every record; malformed ones as in
    :func:`iter_replies`. A second file with an id already read is malformed too.

    :param held: ids already held by files not read now (id -> file name): an update
        reads only the changed files, and a copy of an unchanged record is one too many.
    """
    root = Path(root)
    paths = _record_files(root) if names is None else [root / name for name in names]
    first: dict[str, str] = dict(held or {})  # id -> the file that holds it
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            reply = read_reply(path)
            if (other := first.setdefault(reply.id, name)) != name:  # a copied record
                raise RecordError(str(path), f"id {reply.id} is already the id of {other}; one record per id")
            yield name, reply
        except RecordError as exc:
            if errors is None:
                raise
            errors.append(exc)


def snapshot(root: Path) -> dict[str, str]:
    """Return each record file (path relative to ``root``, in path order) with a stamp
    of its size and modification time: two snapshots differ exactly where records were
    added, removed or edited.

    Paths are joined as strings, not :class:`~pathlib.Path` objects: at 100,000 records
    that takes 0.5 s, not 1.5 s, of every ``reply-archive index``.
    """
    top = os.fspath(root)
    stamps = []
    for folder, names in _walk(root):
        relative = os.path.relpath(folder, top)
        prefix = "" if relative == os.curdir else relative.replace(os.sep, "/") + "/"
        for name in names:
            stat = os.stat(os.path.join(folder, name))
            stamps.append((prefix + name, f"{stat.st_size}:{stat.st_mtime_ns}"))
    stamps.sort(key=lambda item: item[0].split("/"))  # as paths sort: part by part
    return dict(stamps)


def _record_files(root: Path) -> list[Path]:
    """Return the record files under ``root``, in path order.

    Dot-files and everything in dot-folders (``.sources/``, ``.reports/``) are not
    records; symbolic links to folders are not followed.
    """
    return sorted(Path(folder, name) for folder, names in _walk(root) for name in names)


def _walk(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Yield each record folder under ``root`` with the names of its record files."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield folder, [f for f in files if f.endswith(SUFFIX) and not f.startswith(".")]


class _Locations:
    """Where each record file of an archive is, by file name, for records moved into
    subfolders by hand: looking up an unknown id scanned the whole archive (39 ms
    against 3 ms at 2,000 records), now only when a folder has changed since.

    A folder's modification time changes whenever an entry is added, removed or
    renamed in it, so checking the folders' times (one stat each) says whether the map
    still holds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._maps: dict[str, tuple[dict[str, int], dict[str, Path]]] = {}

    def get(self, root: Path, name: str) -> Path | None:
        key = str(Path(root).absolute())
        with self._lock:
            known = self._maps.get(key)
        if known is None or not _unchanged(known[0]):
            folders: dict[str, int] = {}
            names: dict[str, Path] = {}
            for folder, files in _walk(root):
                folders[folder] = _mtime(folder)
                for file in files:
                    names.setdefault(file, Path(folder, file))
            known = (folders, names)
            with self._lock:
                self._maps[key] = known
        return known[1].get(name)


def _mtime(folder: str) -> int:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return -1


def _unchanged(folders: dict[str, int]) -> bool:
    return all(_mtime(folder) == mtime for folder, mtime in folders.items())


_locations = _Locations()


def find_reply(root: Path, reply_id: str) -> Reply:
    """Return the record with this id.

    :raise ReplyNotFound: for an unknown or malformed id (never a path outside ``root``).
    """
    if not ID_PATTERN.fullmatch(reply_id):
        raise ReplyNotFound(reply_id)
    path = record_path(root, reply_id)
    if not (path.is_file() and _within(root, path)):
        moved = _locations.get(root, f"{reply_id}{SUFFIX}")
        if moved is None or not (moved.is_file() and _within(root, moved)):
            raise ReplyNotFound(reply_id)
        path = moved
    return read_reply(path)
