"""Field-by-field accuracy of the parser on real replies read by hand.

A folder of real replies (as published, page furniture included) comes with a
``manifest.json``: for each file the fields a person read from its text. A field
absent from an entry is not stated there, so a value the parser gives for it is
spurious; a field flagged ``ambiguous:<field>`` is left out of the grading. Each file
is read through ingestion as a user's file would be, and every graded field is
counted as right, wrong (a different value), missed (no value) or spurious.

The folder is ``../shared/real-replies`` beside the repository when it exists; the
project ships no real texts of its own: its fixtures in ``tests/fixtures/pages`` are
written for the same layouts, with the same manifest, and stand in where the real
replies are absent.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reply_archive.archive.clean import fold_width, to_simplified
from reply_archive.archive.errors import ArchiveError
from reply_archive.archive.ingest import read_source
from reply_archive.archive.model import Reply, Source
from reply_archive.archive.parse import parse_reply

ROOT = Path(__file__).resolve().parent.parent
REAL_REPLIES = ROOT.parent / "shared" / "real-replies"
PAGE_FIXTURES = ROOT / "tests" / "fixtures" / "pages"  # the project's own, fictional
# The manifest's fields and how a record states each.
FIELDS = ("channel", "department", "proposal_numbers", "session", "year", "date", "proposers",
          "department_role", "result_category", "doc_number")
_CHANNELS = {"政协提案": "cppcc", "人大建议": "npc"}
STATUSES = ("right", "wrong", "missed", "spurious")


def record_value(reply: Reply, name: str) -> Any:
    """Return the record's value for a manifest field (department: canonical and as signed)."""
    if name == "session":
        return reply.session_label
    if name == "department":
        return [v for v in (reply.department, reply.department_raw) if v]
    if name in ("proposal_numbers", "proposers"):
        return list(getattr(reply, name))
    return getattr(reply, name)


def _plain(value: Any, name: str) -> Any:
    """Return a value in the form both sides are compared in: simplified, half-width
    letters, full-width brackets, no spaces; a document number's year in 〔〕."""
    if isinstance(value, list):
        return [_plain(v, name) for v in value]
    if not isinstance(value, str):
        return value
    text = to_simplified(fold_width(value)).replace("(", "（").replace(")", "）")
    text = re.sub(r"\s+", "", text)
    if name == "doc_number":
        text = re.sub(r"[\[【［（(]((?:19|20)\d{2})[\]】］）)]", r"〔\1〕", text)
    return text


def grade(reply: Reply | None, entry: Mapping[str, Any]) -> dict[str, str]:
    """Return ``{field: status}`` for one file; a file not accepted misses all it states."""
    ambiguous = {flag.split(":", 1)[1] for flag in entry.get("flags", ()) if flag.startswith("ambiguous:")}
    statuses: dict[str, str] = {}
    for name in FIELDS:
        if name in ambiguous:
            continue
        stated = name in entry
        want = _CHANNELS.get(entry[name], entry[name]) if name == "channel" and stated else entry.get(name)
        got = record_value(reply, name) if reply is not None else None
        empty = got in (None, [], "")
        if not stated:
            if not empty:
                statuses[name] = "spurious"
            continue
        if empty:
            statuses[name] = "right" if want in ([], None) else "missed"
        elif name == "department":
            statuses[name] = "right" if _plain(want, name) in _plain(got, name) else "wrong"
        else:
            statuses[name] = "right" if _plain(got, name) == _plain(want, name) else "wrong"
    return statuses


@dataclass
class RealScore:
    """The graded fields of a folder of real replies."""

    files: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # file -> reason
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> status -> n
    misses: dict[str, list[str]] = field(default_factory=dict)  # field -> "file: want / got"

    @property
    def accepted(self) -> int:
        """Return how many files were read into a record."""
        return self.files - len(self.refused)

    def total(self, status: str) -> int:
        """Return the count of one status over all fields."""
        return sum(c.get(status, 0) for c in self.counts.values())

    @property
    def stated(self) -> int:
        """Return how many graded fields the texts state."""
        return sum(self.total(s) for s in ("right", "wrong", "missed"))


# The same replies as other pages could serve them: in traditional script, with the
# salutation run into the opening, full-width punctuation, CRLF line ends, a blank line
# after every line, indented lines. A reader that depends on one layout fails some.
_SALUTATION_LINE = re.compile(r"(?m)^(\s*\S{2,40}?(?:委员|代表|会|委|组|局)\s*[:：])\s*\n+\s*")


def _s2t(text: str) -> str:
    import opencc  # the parser's own dependency; only this variant needs the other direction

    return opencc.OpenCC("s2t").convert(text)


VARIANTS: dict[str, Callable[[str], str]] = {
    "traditional": _s2t,
    "salutation run in": lambda text: _SALUTATION_LINE.sub(r"\1", text),
    "full-width punctuation": lambda text: text.translate(str.maketrans({",": "，", ":": "：", "(": "（", ")": "）"})),
    "CRLF": lambda text: text.replace("\n", "\r\n"),
    "double-spaced": lambda text: text.replace("\n", "\n\n"),
    "indented": lambda text: re.sub(r"(?m)^", "\u3000\u3000", text),
}


def score_folder(folder: Path, transform: Callable[[str], str] | None = None) -> RealScore:
    """Read every file of the manifest and grade its fields.

    :param transform: applied to each file's text first (one of :data:`VARIANTS`).
    """
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    result = RealScore(files=len(manifest))
    with tempfile.TemporaryDirectory() as tmp:
        for entry in manifest:
            _grade_file(folder, entry, transform, Path(tmp), result)
    return result


def _grade_file(
    folder: Path, entry: Mapping[str, Any], transform: Callable[[str], str] | None, tmp: Path, result: RealScore
) -> None:
    """Read one file of the manifest (transformed, if asked) and count its fields."""
    path = folder / entry["file"]
    if transform is not None:
        path = tmp / entry["file"]
        path.write_text(transform((folder / entry["file"]).read_text(encoding="utf-8")), encoding="utf-8")
    reply: Reply | None
    try:
        reply = read_source(path, entry["file"])
    except ArchiveError as exc:
        result.refused[entry["file"]] = exc.message
        reply = None
    for name, status in grade(reply, entry).items():
        result.counts.setdefault(name, {}).setdefault(status, 0)
        result.counts[name][status] += 1
        if status != "right":
            got = record_value(reply, name) if reply is not None else None
            result.misses.setdefault(name, []).append(f"{entry['file']}: {status} {entry.get(name)!r} / {got!r}")


def variant_report(folder: Path) -> str:
    """Return one line per page variant: files accepted and fields right / stated."""
    lines = []
    for name, transform in VARIANTS.items():
        result = score_folder(folder, transform)
        right, stated = result.total("right"), result.stated
        lines.append(f"  {name:<24} accepted {result.accepted:>3} / {result.files:<3} right {right:>4} / {stated:<4}"
                     f" ({right / stated:.1%})" if stated else f"  {name:<24} (nothing stated)")
    return "\n".join(lines)


# Official documents that are no replies (government work reports, congress reports),
# one JSON object with a ``content`` text per line, when they are beside the repository.
NON_REPLIES = ROOT.parent / "shared" / "corpus"


def non_replies(folder: Path = NON_REPLIES) -> Iterator[tuple[str, str]]:
    """Yield ``(name, text)`` of each document in the folder's JSON lines files."""
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                yield f"{path.name}:{number}", json.loads(line).get("content") or ""


def refusal_report(documents: Iterator[tuple[str, str]]) -> str:
    """Return how many documents that are no replies the parser refuses, and those it took."""
    taken: list[str] = []
    total = 0
    for name, text in documents:
        total += 1
        source = Source(file=name, format="txt", sha256="0" * 64, parser_version="accuracy")
        try:
            reply = parse_reply(text, source=source)
        except ArchiveError:
            continue
        taken.append(f"  ! taken as a reply: {name} ({reply.title})")
    return "\n".join([f"  refused {total - len(taken)} / {total}", *taken])


def report(result: RealScore, *, verbose: bool = False) -> str:
    """Return the table: per field right / stated / wrong / missed / spurious."""
    lines = [f"  files accepted: {result.accepted} / {result.files}"]
    lines += [f"  ! refused {name}: {why}" for name, why in result.refused.items()]
    lines.append(f"  {'field':<16} {'right':>5} / {'stated':<6} {'wrong':>5} {'missed':>6} {'spurious':>8}")
    for name in FIELDS:
        c = result.counts.get(name, {})
        stated = c.get("right", 0) + c.get("wrong", 0) + c.get("missed", 0)
        lines.append(
            f"  {name:<16} {c.get('right', 0):>5} / {stated:<6} {c.get('wrong', 0):>5} {c.get('missed', 0):>6}"
            f" {c.get('spurious', 0):>8}"
        )
    right, stated = result.total("right"), result.stated
    share = f" ({right / stated:.1%})" if stated else ""
    lines.append(
        f"  {'all fields':<16} {right:>5} / {stated:<6} {result.total('wrong'):>5} {result.total('missed'):>6}"
        f" {result.total('spurious'):>8}{share}"
    )
    if verbose:
        for name in FIELDS:
            lines += [f"    {name}: {miss}" for miss in result.misses.get(name, [])]
    return "\n".join(lines)
