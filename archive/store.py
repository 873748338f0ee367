"""The archive on disk: one Markdown file per reply, metadata in YAML front matter.

The Markdown body is the document itself, readable and editable by hand: paragraphs
separated by blank lines, section headings marked ``##`` (level 1), ``###`` (level 2)
and so on. Sections are read back from those marks, so a person who corrects a heading
or a paragraph in the file corrects the record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import RecordError, ReplyNotFound
from .model import Reply
from .parse import outline, split_heading

SUFFIX = ".md"
_ID = re.compile(r"^[0-9a-f]{8,40}$")
_HEADING = re.compile(r"^(#{2,6})\s+(.*)$")
# Derived from the Markdown body, so not repeated in the front matter.
_BODY_FIELDS = ("body", "sections")


def to_markdown(reply: Reply) -> str:
    """Return the record as Markdown with YAML front matter."""
    meta = {
        key: value
        for key, value in reply.to_dict().items()
        if key not in _BODY_FIELDS and key != "commitments" and value not in (None, [], False, {})
    }
    meta["assembly"] = {k: v for k, v in meta.get("assembly", {}).items() if v is not None}
    if not meta["assembly"]:
        del meta["assembly"]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n\n{markdown_body(reply)}\n"


def markdown_body(reply: Reply) -> str:
    """Return the reply's text as Markdown: paragraphs, with headings marked."""
    pending = list(reply.sections)
    blocks = []
    for paragraph in reply.body.split("\n\n"):
        if pending and paragraph == pending[0].heading_line:
            section = pending.pop(0)
            blocks.append(f"{'#' * (section.level + 1)} {paragraph}")
        elif paragraph.startswith("#"):
            blocks.append("\\" + paragraph)  # a literal # that is not a heading
        else:
            blocks.append(paragraph)
    return "\n\n".join(blocks)


def from_markdown(text: str, path: str = "<record>") -> Reply:
    """Parse a record written by :func:`to_markdown` (or corrected by hand).

    :raise RecordError: when the front matter is missing or malformed.
    """
    if not text.startswith("---\n"):
        raise RecordError(path, "missing YAML front matter (the file must start with ---)")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise RecordError(path, "front matter is not closed by a --- line")
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise RecordError(path, f"front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise RecordError(path, "front matter must be a mapping of field names to values")
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
    # YAML reads an unquoted 2022-09-23 as a date and 0487 may come back as a number
    # when edited by hand; the record keeps both as strings.
    if meta.get("date") is not None:
        meta["date"] = str(meta["date"])
    if meta.get("proposal_numbers"):
        meta["proposal_numbers"] = [str(n) for n in meta["proposal_numbers"]]
    if meta.get("id") is not None:
        meta["id"] = str(meta["id"])
    return meta


def record_path(root: Path, reply_id: str) -> Path:
    """Return where the record with this id is written."""
    return Path(root) / f"{reply_id}{SUFFIX}"


def write_reply(reply: Reply, root: Path) -> Path:
    """Write a record atomically (a reader never sees half a file); return its path."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = record_path(root, reply.id)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(to_markdown(reply))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_reply(path: Path) -> Reply:
    """Read one record file.

    :raise RecordError: when the file cannot be read or is malformed.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(str(path), f"cannot read: {exc}") from None
    return from_markdown(text, str(path))


def iter_replies(root: Path, errors: list[RecordError] | None = None) -> Iterator[Reply]:
    """Yield every record under ``root`` (recursively), in path order.

    :param errors: when given, malformed records are collected here and skipped, so one
        bad file never stops a batch; otherwise the first one raises.
    """
    root = Path(root)
    if not root.is_dir():
        return
    for path in sorted(root.rglob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue
        try:
            yield read_reply(path)
        except RecordError as exc:
            if errors is None:
                raise
            errors.append(exc)


def fingerprint(root: Path) -> str:
    """Return a digest of the archive's record files (names, sizes, modification times).

    Any added, removed or edited record changes it; the index keeps the digest it was
    built from to know whether it is up to date.
    """
    digest = hashlib.sha256()
    root = Path(root)
    if root.is_dir():
        for path in sorted(root.rglob(f"*{SUFFIX}")):
            if not path.name.startswith("."):
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def find_reply(root: Path, reply_id: str) -> Reply:
    """Return the record with this id.

    :raise ReplyNotFound: for an unknown or malformed id (never a path outside ``root``).
    """
    if not _ID.match(reply_id):
        raise ReplyNotFound(reply_id)
    path = record_path(root, reply_id)
    if not path.is_file():
        matches = [p for p in Path(root).rglob(f"{reply_id}{SUFFIX}") if p.is_file()]
        if not matches:
            raise ReplyNotFound(reply_id)
        path = matches[0]
    return read_reply(path)
