"""The reply record: one government reply to a proposal or suggestion.

Field names follow the domain spec (§3) because researchers' scripts, the JSON API and
the archive's front matter all use them. Everything except ``id``, ``title`` and
``body`` is optional: a field the text does not state stays empty (and the parser adds
a warning) rather than holding a guess.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Sentence ends used to cut commitments out of paragraphs.
_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")
_TARGET_YEAR = re.compile(r"(?:拟于|计划于|力争于?|争取于?|到)\s*((?:19|20)\d{2})\s*年")
COMMITMENT_CUES = ("下一步", "今后将", "拟于", "计划于")


@dataclass(frozen=True)
class Assembly:
    """The body the proposal was raised in: CPPCC or NPC, its level and region."""

    type: str | None = None  # cppcc | npc
    level: str | None = None  # national | provincial | city | county
    region: str | None = None  # e.g. 深圳市福田区


@dataclass(frozen=True)
class Section:
    """A headed section of the reply (一、 level 1, （一） level 2, 1. level 3)."""

    level: int
    marker: str
    heading: str
    text: str

    @property
    def heading_line(self) -> str:
        """Return the heading as printed: marker followed by heading text."""
        return f"{self.marker}{self.heading}"


@dataclass(frozen=True)
class Commitment:
    """A promise in the reply: a 下一步 / 今后将 / 拟于…年 sentence."""

    text: str
    cue: str
    section_idx: int | None = None
    target_year: int | None = None


@dataclass(frozen=True)
class Source:
    """Where a record came from, so that every field can be traced back."""

    file: str
    format: str
    sha256: str
    parser_version: str
    encoding: str | None = None


@dataclass(frozen=True)
class Reply:
    """One reply record. Immutable; derive a changed copy with ``dataclasses.replace``."""

    id: str
    title: str
    body: str
    sample: bool = False
    channel: str | None = None  # cppcc | npc
    doc_kind: str | None = None  # reply | handling_opinion | reply_letter | co_handling_opinion | summary
    doc_number: str | None = None
    assembly: Assembly = field(default_factory=Assembly)
    term: int | None = None
    session_number: int | None = None
    session_label: str | None = None
    year: int | None = None
    year_source: str | None = None
    proposal_numbers: tuple[str, ...] = ()
    proposers: tuple[str, ...] = ()
    proposer_count: int | None = None
    proposer_kind: str | None = None  # individual | joint | collective | unknown
    collective_type: str | None = None
    proposal_title: str | None = None
    department: str | None = None
    department_raw: str | None = None
    department_role: str | None = None
    partial_scope: bool = False
    result_category: str | None = None
    result_raw: str | None = None
    disclosure: str | None = None
    signer: str | None = None
    date: str | None = None  # ISO 8601
    date_raw: str | None = None
    topic: str | None = None
    topics: tuple[str, ...] = ()
    topic_source: str | None = None
    sections: tuple[Section, ...] = ()
    source: Source | None = None
    warnings: tuple[str, ...] = ()

    @cached_property
    def commitments(self) -> tuple[Commitment, ...]:
        """Return the promises the reply makes, derived from its text.

        Derived rather than stored, so a hand correction of the body can never leave a
        stale copy behind.
        """
        found: list[Commitment] = []
        for paragraph in self.body.split("\n\n"):
            section_idx = self.section_of(paragraph)
            for sentence in _SENTENCE.findall(paragraph):
                sentence = sentence.strip()
                cue = next((c for c in COMMITMENT_CUES if c in sentence), None)
                if cue is None or (cue == "下一步" and not sentence.startswith("下一步")):
                    continue
                year = _TARGET_YEAR.search(sentence)
                found.append(
                    Commitment(
                        text=sentence,
                        cue=cue,
                        section_idx=section_idx,
                        target_year=int(year.group(1)) if year else None,
                    )
                )
        return tuple(found)

    def section_of(self, paragraph: str) -> int | None:
        """Return the index of the section whose text holds ``paragraph``, if any."""
        for idx, section in enumerate(self.sections):
            if paragraph and paragraph in section.text.split("\n\n"):
                return idx
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON-ready data, derived fields included."""
        data = _plain(self)
        data["commitments"] = [_plain(c) for c in self.commitments]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """Build a record from ``to_dict`` output; unknown keys are an error."""
        data = dict(data)
        data.pop("commitments", None)  # derived, never trusted from input
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        if isinstance(data.get("assembly"), dict):
            data["assembly"] = Assembly(**data["assembly"])
        elif data.get("assembly") is None:
            data.pop("assembly", None)
        if data.get("source") is not None:
            data["source"] = Source(**data["source"])
        data["sections"] = tuple(Section(**s) for s in data.get("sections") or ())
        for name in ("proposal_numbers", "proposers", "topics", "warnings"):
            data[name] = tuple(str(v) for v in data.get(name) or ())
        return cls(**data)


def _plain(obj: Any) -> Any:
    """Convert dataclasses and tuples into dicts and lists, recursively."""
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
