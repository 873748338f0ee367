"""The reply record: one government reply to a proposal or suggestion.

Field names follow the domain spec (§3) because researchers' scripts, the JSON API and
the archive's front matter all use them. Everything except ``id``, ``title`` and
``body`` is optional: a field the text does not state stays empty (and the parser adds
a warning) rather than holding a guess.

The parts of the body that are the body's own paragraphs (salutation, opening, closing)
and the commitments are derived from it, never stored: a hand correction of the body
can then never leave a stale copy behind. The layout rules they rest on (where the
closing part starts, what a salutation looks like) are here, shared with the parser.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from typing import Any

from .clean import CONTACT_LABELS, SALUTATION_PEOPLE, SALUTATION_UNIT, SECTION_MARKER, to_simplified, to_traditional
from .numerals import cn_to_int, parse_date, unmarked_date_readings
from .text import sentences

_TARGET_YEAR = re.compile(r"(?:拟于|计划于|力争于?|争取于?|到)\s*((?:19|20)\d{2})\s*年")
COMMITMENT_CUES = ("下一步", "下步", "今后将", "拟于", "计划于")
# 下一步 and 下步 promise only where a clause starts with them (…，下一步，我们将…); inside
# a word (地下步道) they are no cue.
_STEP_CUES = ("下一步", "下步")
_CLAUSE_START = re.compile(r"(?:^|(?<=[，,：:]))\s*(下一步|下步)")
# Trailer lines after the signature (spec §2.9): contact, copies, attachments.
TRAILER = re.compile(rf"^[（(]?\s*({CONTACT_LABELS}|抄送|抄报|附件)")
_CONTACT = re.compile(rf"^[（(]?\s*({CONTACT_LABELS})")
_CONTACT_PREFIX = 40  # characters of a paragraph that can hold a contact label
# The first characters of the labels, in both scripts.
_CONTACT_START = frozenset(c for label in CONTACT_LABELS.split("|") for c in (label[0], to_traditional(label[0])))
# Closing formulas by kind (spec §2.7); the kind of the first one is the closing's type.
_CLOSING_KINDS = (
    ("appeal", re.compile(r"^恳请")),
    ("thanks", re.compile(r"^(?:衷心|再次|非常|特别)?感谢|^谢谢")),
    ("reply_formula", re.compile(r"^(?:此[复覆]|特此函[复覆]|特此答[复覆]|专此函[复覆]|以上答[复覆])")),
)


def _is_contact_line(paragraph: str) -> bool:
    # The labels open the line: its first characters decide, and a line none of whose
    # first characters starts a label (in either script) is none (converting text to
    # simplified characters costs more than the rest of the test).
    opening = paragraph[:_CONTACT_PREFIX]
    return not _CONTACT_START.isdisjoint(opening) and bool(_CONTACT.match(to_simplified(opening)))


def passage_numbers(paragraphs: Sequence[str], headings: Container[int]) -> list[int | None]:
    """Return, per paragraph of a body, its passage number: the ``N`` of its ``#p-N``
    link, counting the paragraphs that are neither headings (their indexes in
    ``headings``) nor contact lines; None for those.

    The reply page anchors paragraphs by it and precedents cite them by it, from the
    record's body or from the searchable body the index stores (the same numbers:
    that body only lacks the contact lines).
    """
    numbers: list[int | None] = []
    count = 0
    for idx, paragraph in enumerate(paragraphs):
        if idx in headings or _is_contact_line(paragraph):
            numbers.append(None)
        else:
            count += 1
            numbers.append(count)
    return numbers


@dataclass(frozen=True)
class Salutation:
    """What a salutation line says: the people (or the unit) addressed."""

    names: tuple[str, ...]
    count: int | None  # 等4位, 等8名
    role: str | None  # 委员, 代表…; None when a unit is addressed
    colon: bool


_SALUTE_PEOPLE = re.compile(rf"^{SALUTATION_PEOPLE}\s*(?P<colon>[：:])?\s*$")
_SALUTE_UNIT = re.compile(rf"^{SALUTATION_UNIT}\s*[：:]\s*$")
_ROLE_SUFFIX = re.compile(r"(?:委员|代表|同志|先生|女士)$")


def salutation_parts(paragraph: str) -> Salutation | None:
    """Read a salutation: names with 委员/代表… (王一帆、陈嘉树委员：, 李红等8名代表：,
    尚路鹏（等4位）代表：, 高松代表 without a colon) or a unit with a colon (民建长春市委员会：)."""
    read = to_simplified(paragraph).strip()
    if match := _SALUTE_PEOPLE.match(read):
        # Each name may carry its own 委员 (孙若溪委员、钱望舒委员：).
        names = tuple(_ROLE_SUFFIX.sub("", n) for n in re.split(r"\s*[、，,]\s*", match.group("names")) if n)
        count_text = match.group("count") or match.group("pcount")
        count = cn_to_int(count_text) if count_text else None
        return Salutation(names, count, match.group("role"), bool(match.group("colon")))
    if match := _SALUTE_UNIT.match(read):
        return Salutation((match.group("unit"),), None, None, True)
    return None


def is_salutation(paragraph: str) -> bool:
    """Return True for a salutation line (王一帆委员：, 民盟青溪市委：, 高松代表)."""
    read = to_simplified(paragraph)
    if salutation_parts(read) is not None:
        return True
    return read.endswith(("：", ":")) and len(read) <= 80 and not read.startswith(("根据", "您", "你"))


def date_line(paragraph: str) -> tuple[str, str, str] | None:
    """Return the date when the paragraph holds a date and nothing else (a signature).

    A date whose 年/月/日 a web page lost (2019615, 2023529日) counts where its digits
    allow one reading only; its style is then ``unmarked``.
    """
    found = parse_date(paragraph)
    if found is None and len(readings := unmarked_date_readings(paragraph)) == 1:
        return readings[0], paragraph.strip(), "unmarked"
    return found if found and len(paragraph) <= len(found[1]) + 2 else None


def is_signed_name(paragraph: str) -> bool:
    """Return True for a short line without punctuation: a name signing above the date."""
    return bool(paragraph) and len(paragraph) <= 40 and not re.search(r"[。！？，；：]", paragraph)


def closing_kind(paragraph: str) -> str | None:
    """Return the kind of closing formula a paragraph is, if it is one (either script)."""
    read = to_simplified(paragraph)
    return next((kind for kind, pattern in _CLOSING_KINDS if pattern.match(read)), None)


def closing_start(paragraphs: Sequence[str], levels: Mapping[int, tuple[int, str, str]]) -> int:
    """Return the index where the closing part starts, given the heading paragraphs.

    The closing part ends the text: closing formulas (此复, 衷心感谢…, 恳请…), the
    signature (a name over a date line) and the trailer (联系人, 抄送, 附件…). Without it
    the last section would swallow the signature of a reply that has no 此复. It is
    searched for after the last top-level heading only: a closing formula cannot come
    before a section, but a list after the signature (附件：1.…) can.

    :param levels: ``{paragraph index: (level, marker, heading)}`` of the headings.
    """
    top = min((found[0] for found in levels.values()), default=0)
    last_heading = max((j for j, found in levels.items() if found[0] == top), default=-1)
    end = next(
        (
            idx
            for idx in range(max(last_heading + 1, len(paragraphs) - 8), len(paragraphs))
            if date_line(paragraphs[idx]) or TRAILER.match(to_simplified(paragraphs[idx]))
        ),
        len(paragraphs),
    )
    # Walk back over the formulas and the signing name only while they are contiguous: a
    # 恳请… paragraph followed by more body text is body text.
    start = end
    while start - 1 > last_heading and _is_closing_line(paragraphs[start - 1]):
        start -= 1
    return start


def _is_closing_line(paragraph: str) -> bool:
    """Return True for a closing formula or a signing name (not a bare heading)."""
    return closing_kind(paragraph) is not None or (is_signed_name(paragraph) and not SECTION_MARKER.match(paragraph))


@dataclass(frozen=True)
class Assembly:
    """The body the proposal was raised in: CPPCC or NPC, its level and region."""

    type: str | None = None  # cppcc | npc
    level: str | None = None  # national | provincial | city | county
    region: str | None = None  # e.g. 深圳市福田区

    @property
    def name(self) -> str | None:
        """Return the body as it is named: its region and 政协 or 人大 (深圳市福田区政协,
        青溪市人大, 全国政协); None when the record does not say which body it was."""
        body = _BODIES.get(self.type or "")
        if body is None:
            return None
        if self.level == "national":
            return f"全国{body}"
        return f"{self.region}{body}" if self.region else None


_BODIES = {"cppcc": "政协", "npc": "人大"}
# A 届次 label (十三届二次): what a qualified 届次 ends with, see Reply.qualified_session.
_SESSION_LABEL = re.compile(r"[一二三四五六七八九十百零〇]+届[一二三四五六七八九十百零〇]+次$")


def session_label_of(qualified: str) -> str | None:
    """Return the bare 届次 of a qualified one (青溪市政协十二届一次 → 十二届一次), or of
    a bare one itself; None for text that is no 届次."""
    match = _SESSION_LABEL.search(qualified)
    return match.group(0) if match else None


@dataclass(frozen=True)
class Contact:
    """Who handled the reply. The phone number is never kept, only that one was given."""

    unit: str | None = None
    person: str | None = None
    phone_redacted: bool = False

    def __str__(self) -> str:
        """Return the person and unit for display (there is no phone to show)."""
        if self.person and self.unit:
            return f"{self.person}（{self.unit}）"
        return self.person or self.unit or ""


@dataclass(frozen=True)
class Section:
    """A headed section of the reply (一、 level 1, （一） level 2, 1. level 3, （1） level 4)."""

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
    passage: int | None = None  # the paragraph's passage number (its #p-N); None in a heading


@dataclass(frozen=True)
class Source:
    """Where a record came from, so that every field can be traced back."""

    file: str
    format: str  # txt | pdf | docx | doc | html | png | jpg | tif
    sha256: str  # of the source file's bytes; names its copy in the archive's .sources/
    parser_version: str
    encoding: str | None = None  # of a text or HTML source, as detected
    extracted_with: str | None = None  # the tool that turned the file into text: pypdf 7.1.1, antiword…
    ocr_confidence: tuple[float, ...] | None = None  # per page (0-1), when the text was read by OCR


# Warnings that mean a person should look at the record (待核对): a field the reader
# could not find where a reply always has one, a title made up, a figure inferred, text
# damaged in extraction. Listed in the order the review view shows them. Fields a reply
# often does not state (a role, a proposal title) are not on the list.
REVIEW_KINDS = (
    "missing:department",
    "missing:proposers",
    "missing:date",
    "title_derived",
    "year_estimated",
    "missing:year",
    "missing:channel",
    "date_unmarked",
    "date_ambiguous",
    "lost_characters",
    "unreadable",
    "mojibake",
    "ocr_low_confidence",
)


def review_kind(code: str) -> str:
    """Return the kind of a warning code: ``missing:<field>`` keeps its field, other
    codes drop their detail (``date_unmarked:2019615`` → ``date_unmarked``)."""
    kind, _, detail = code.partition(":")
    return code if kind == "missing" else kind


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
    is_interim: bool = False  # raised between plenary sessions (平时提案, 闭会期间)
    year: int | None = None
    year_source: str | None = None
    proposal_numbers: tuple[str, ...] = ()
    proposal_class: str | None = None  # national CPPCC class, e.g. 资源环境类
    class_seq: int | None = None
    proposers: tuple[str, ...] = ()
    proposer_count: int | None = None
    proposer_kind: str | None = None  # individual | joint | collective | unknown
    collective_type: str | None = None  # party | association | committee | sector | group | delegation
    proposal_title: str | None = None
    proposal_title_raw: str | None = None  # as printed, quote marks or 《》 included
    department: str | None = None
    department_raw: str | None = None
    department_role: str | None = None
    role_evidence: str | None = None  # the words that state the role
    co_departments: tuple[str, ...] = ()
    partial_scope: bool = False
    result_category: str | None = None
    result_raw: str | None = None
    result_scheme: str | None = None
    resolution_level: str | None = None  # solved | in_progress | planned | not_now | reference
    disclosure: str | None = None
    signer: str | None = None
    date: str | None = None  # ISO 8601
    date_raw: str | None = None
    date_style: str | None = None  # arabic | cn_numeral | unmarked (年月日 lost) | iso (a listed 2023-05-05)
    contact: Contact | None = None
    cc: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    topic: str | None = None
    topics: tuple[str, ...] = ()
    topic_source: str | None = None
    script: str | None = None  # simplified | traditional; the text is kept as printed
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
        paragraphs = zip(self.paragraphs, self._paragraph_sections, self.passage_numbers, strict=True)
        for paragraph, section_idx, passage in paragraphs:
            for sentence in sentences(paragraph):
                # Cues are simplified; a traditional text is kept as printed.
                read = to_simplified(sentence) if self.script == "traditional" else sentence
                cue = next((c for c in COMMITMENT_CUES if c in read and c not in _STEP_CUES), None)
                step = _CLAUSE_START.search(read)
                if step is not None and (cue is None or step.start(1) < read.index(cue)):
                    cue = step.group(1)
                    # A promise that begins mid-sentence is quoted from its cue on.
                    sentence, read = sentence[step.start(1) :], read[step.start(1) :]
                if cue is None:
                    continue
                year = _TARGET_YEAR.search(read)
                found.append(
                    Commitment(
                        text=sentence,
                        cue=cue,
                        section_idx=section_idx,
                        target_year=int(year.group(1)) if year else None,
                        passage=passage,
                    )
                )
        return tuple(found)

    @cached_property
    def paragraphs(self) -> tuple[str, ...]:
        """Return the paragraphs of the body (headings included), in order."""
        return tuple(self.body.split("\n\n"))

    @cached_property
    def passage_numbers(self) -> list[int | None]:
        """Return the passage number of each body paragraph (see :func:`passage_numbers`)."""
        return passage_numbers(self.paragraphs, self.heading_paragraphs)

    @cached_property
    def heading_paragraphs(self) -> Mapping[int, int]:
        """Return ``{paragraph index: section index}`` for the paragraphs that are headings.

        Headings are body paragraphs, in section order; a section whose heading line the
        body does not hold (data whose sections disagree with its body) has none. Where
        a section stands in the body, for any reader of the record, is worked out here.
        """
        found: dict[int, int] = {}
        cursor = 0
        for section_idx, section in enumerate(self.sections):
            lines = range(cursor, len(self.paragraphs))
            at = next((i for i in lines if self.paragraphs[i] == section.heading_line), None)
            if at is not None:
                found[at] = section_idx
                cursor = at + 1
        return found

    def section_starts(self) -> list[tuple[int, int]]:
        """Return ``(character offset in the body, section index)`` of each heading the
        body holds, in order."""
        starts, offset = [], 0
        for idx, paragraph in enumerate(self.paragraphs):
            if idx in self.heading_paragraphs:
                starts.append((offset, self.heading_paragraphs[idx]))
            offset += len(paragraph) + 2  # the blank line between paragraphs
        return starts

    @cached_property
    def _levels(self) -> dict[int, tuple[int, str, str]]:
        """Return ``{paragraph index: (level, marker, heading)}`` of the headings."""
        return {
            at: (self.sections[idx].level, self.sections[idx].marker, self.sections[idx].heading)
            for at, idx in self.heading_paragraphs.items()
        }

    @cached_property
    def _closing_at(self) -> int:
        """Return the index of the paragraph where the closing part starts."""
        return closing_start(self.paragraphs, self._levels)

    @cached_property
    def _paragraph_sections(self) -> tuple[int | None, ...]:
        """Return, for each paragraph, the index of the outermost section holding it.

        A section runs until the next heading of the same or a higher level (as the
        parser's outline cuts it); headings, the opening and the closing part belong to
        none.
        """
        found: list[int | None] = []
        outer: int | None = None  # the section index of the outermost open section
        for idx in range(len(self.paragraphs)):
            section_idx = self.heading_paragraphs.get(idx)
            if section_idx is None:
                found.append(outer if idx < self._closing_at else None)
                continue
            found.append(None)
            # A heading of the same or a higher level closes it; a lower one opens a
            # section inside it.
            if outer is None or self.sections[section_idx].level <= self.sections[outer].level:
                outer = section_idx
        return tuple(found)

    @cached_property
    def _parts(self) -> tuple[str | None, str | None, tuple[str, ...]]:
        """Return the salutation, the opening and the closing formulas of the body."""
        paragraphs, levels, closing_at = self.paragraphs, self._levels, self._closing_at
        salutation = paragraphs[0] if is_salutation(paragraphs[0]) else None
        at = 1 if salutation else 0
        # The opening comes before the first section and the closing part, if at all.
        opening = (paragraphs[at] or None) if at < min([closing_at, *levels]) else None
        closing = tuple(p for p in paragraphs[closing_at:] if closing_kind(p))
        return salutation, opening, closing

    @property
    def salutation(self) -> str | None:
        """Return the salutation (主送) line, derived from the body."""
        return self._parts[0]

    @property
    def opening(self) -> str | None:
        """Return the opening paragraph (…收悉…现答复如下), derived from the body."""
        return self._parts[1]

    @property
    def closing(self) -> str | None:
        """Return the closing formulas (此复, thanks, appeals), derived from the body."""
        return "\n\n".join(self._parts[2]) or None

    @property
    def closing_type(self) -> str | None:
        """Return the kind of the first closing formula: reply_formula, thanks or appeal."""
        return closing_kind(self._parts[2][0]) if self._parts[2] else None

    @property
    def qualified_session(self) -> str | None:
        """Return the 届次 with the body that held it (深圳市福田区政协六届二次): the same
        label of two bodies is two different meetings.

        When the record does not name the body's region, the channel stands in front,
        set off by a dot (政协·十三届二次: a 十三届二次 of some CPPCC whose place is not
        known), or 会议不详· when not even the channel is known; the label is never
        left bare, so it cannot be mistaken for one body's. None without a 届次.
        """
        if not self.session_label:
            return None
        if self.assembly.name:
            return f"{self.assembly.name}{self.session_label}"
        body = _BODIES.get(self.assembly.type or self.channel or "", "会议不详")
        return f"{body}·{self.session_label}"

    @property
    def review_flags(self) -> tuple[str, ...]:
        """Return the kinds of this record's warnings that ask for a person's eye (待核对)."""
        kinds = {review_kind(code) for code in self.warnings}
        return tuple(kind for kind in REVIEW_KINDS if kind in kinds)

    @property
    def searchable_body(self) -> str:
        """Return the body without its contact trailer (联系人, 联系电话…): contact
        details are shown on the record's page but never indexed."""
        return "\n\n".join(p for p in self.paragraphs if not _is_contact_line(p))

    def to_dict(self, *, derived: bool = True) -> dict[str, Any]:
        """Return the record as plain JSON-ready data.

        :param derived: include the fields derived from the text (:data:`DERIVED`),
            which take longer to work out than the rest; a record's file holds none.
        """
        data = _plain(self)
        for name in DERIVED if derived else ():
            data[name] = _plain(getattr(self, name))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """Build a record from ``to_dict`` output; unknown keys are an error."""
        data = {k: v for k, v in data.items() if k not in DERIVED}  # never trusted from input
        if isinstance(data.get("id"), int):  # YAML reads 0x1f2e3d4c5b or 12345678 as a number
            raise ValueError(f"id {data['id']!r} must be written as text (quoted), not as a number")
        _check_types(cls, data)
        if not ID_PATTERN.fullmatch(str(data.get("id", ""))):
            raise ValueError(f"id {data.get('id')!r} is not 8-40 lowercase hex digits")
        if data.get("date") is not None:
            try:
                if not _ISO_DATE.fullmatch(data["date"]):
                    raise ValueError
                date.fromisoformat(data["date"])
            except ValueError:
                raise ValueError(f"date {data['date']!r} is not a date written YYYY-MM-DD") from None
        if isinstance(data.get("assembly"), dict):
            data["assembly"] = Assembly(**data["assembly"])
        elif data.get("assembly") is None:
            data.pop("assembly", None)
        if data.get("source") is not None:
            source = data["source"]
            if source.get("ocr_confidence") is not None:
                source["ocr_confidence"] = tuple(source["ocr_confidence"])
            data["source"] = Source(**source)
        if data.get("contact") is not None:
            data["contact"] = Contact(**data["contact"])
        data["sections"] = tuple(Section(**s) for s in data.get("sections") or ())
        for name in ("proposal_numbers", "proposers", "co_departments", "cc", "attachments", "topics", "warnings"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)


# A record id: what the archive names files after and URLs carry, so nothing else.
# Matched whole (fullmatch): with match, ``$`` would also accept a final newline.
ID_PATTERN = re.compile(r"[0-9a-f]{8,40}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _check_types(cls: type, data: dict[str, Any], where: str = "") -> None:
    """Reject values of the wrong kind, as a hand edit can write them, in the record and
    in its nested parts (assembly, source, contact, sections).

    Numbers YAML read where text belongs (a doc number 15, a proposal number 487) become
    text; a list where one value belongs, text where a list belongs, a list or mapping
    inside a list, or text where a number belongs is an error rather than a record that
    breaks later. Unknown keys inside a nested part are errors too.
    """
    hints, defaults = _fields_of(cls)
    if unknown := set(data) - set(hints):
        raise ValueError(f"{where + ': ' if where else ''}unknown field(s): {', '.join(sorted(unknown))}")
    for name, value in list(data.items()):
        field_name = f"{where}.{name}" if where else name
        if value is not None:
            data[name] = _checked(hints[name], value, field_name)
        elif type(None) not in typing.get_args(hints[name]):
            # A key left empty (`partial_scope:`) where no empty value belongs means
            # "not given": the field's default, or an error when it has none.
            if name not in defaults:
                raise ValueError(f"{field_name}: must not be empty")
            del data[name]


@cache  # resolving the hints compiles their text: most of reading a record, done each time
def _fields_of(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    """Return a record class's field types, and the names of the fields with defaults."""
    defaults = frozenset(f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
                         or f.default_factory is not dataclasses.MISSING)
    return typing.get_type_hints(cls), defaults


def _checked(expected: Any, value: Any, name: str) -> Any:
    """Return ``value`` as the type ``expected`` holds (numbers as text where text
    belongs), or raise ValueError naming the field."""
    args = [a for a in typing.get_args(expected) if a is not type(None)]
    kind = args[0] if typing.get_origin(expected) is not tuple and args else expected
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):  # a nested part's class
        if not isinstance(value, dict):
            raise ValueError(f"{name}: {type(value).__name__} {value!r} is not what this field holds")
        _check_types(kind, value, name)
        return value
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name}: {type(value).__name__} {value!r} is not a list")
        return [_checked(typing.get_args(kind)[0], item, f"{name}[{i}]") for i, item in enumerate(value)]
    ok: bool
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        raise ValueError(f"{name}: {type(value).__name__} {value!r} is not what this field holds")
    return value


# Read from the body on demand, so a hand correction of the text never leaves a stale
# copy behind: in the JSON, never in the archive's front matter.
DERIVED = ("salutation", "opening", "closing", "closing_type", "commitments")


def _plain(obj: Any) -> Any:
    """Convert dataclasses and tuples into dicts and lists, recursively."""
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
