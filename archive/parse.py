"""Parse a cleaned reply text into a :class:`~archive.model.Reply`.

The parser reads the document anatomy of the domain spec §2: optional header lines
(result mark, disclosure, document number, signer), the title, the salutation, the
opening, numbered sections, the closing and the signature with its date. Every field it
cannot read from the text stays empty and gets a warning: a wrong guess is worse than an
empty field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date as _date

from .clean import SECTION_MARKER, clean_text, has_cjk
from .errors import ParseError
from .model import Assembly, Reply, Section, Source
from .numerals import CN_NUMBER, cn_to_int, int_to_cn, parse_date
from .tables import canonical_department, classify_topic, session_year

PARSER_VERSION = "1.0"

_TITLE_END = re.compile(r"(答复|办理意见|会办意见|答复函|答复的函|的函|摘要)$")
_TITLE_HINT = re.compile(r"提案|建议|政协|人大|议案")
_DOC_KINDS = (
    ("会办意见", "co_handling_opinion"),
    ("办理意见", "handling_opinion"),
    ("摘要", "summary"),
    ("函", "reply_letter"),
    ("答复", "reply"),
)
_RESULT_MARK = re.compile(r"^([ABCD甲乙丙丁])\s*类?$")
_RESULT_LETTER = {"甲": "A", "乙": "B", "丙": "C", "丁": "D"}
_DISCLOSURE = ("同意对外公开", "主动公开", "依申请公开", "不予公开")
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{1,12})\s*[〔\[【［(（]\s*((?:19|20)\d{2})\s*[〕\]】］)）]\s*(第?)\s*(\d+)\s*号"
)
_SIGNER = re.compile(r"签发人\s*[：:]\s*([\u4e00-\u9fff·]{2,6})")
_SESSION = re.compile(rf"第?({CN_NUMBER}|\d+)届.{{0,8}}?第?({CN_NUMBER}|\d+)次(?:会议)?")
# A run of numbers sharing one 号 (第0215、0233号) or each with its own (第0215号、第0233号).
_NUMBER_RUN = re.compile(r"(?<![类\d])\d{1,10}(?:\s*号?\s*[、，,和及与]\s*第?\s*\d{1,10})*\s*号")
_QUOTED_TITLE = (
    re.compile(r"《(.+?)》"),
    re.compile(r"关于[“\"「](.+?)[”\"」]的(?:建议|提案|议案)"),
    re.compile(r"[“\"「](关于.+?)[”\"」]"),
    re.compile(r"(?:提出的|所提)(关于.+?的(?:提案|建议))收悉"),
)
_ROLE = re.compile(r"作为(主办|会办|协办|分办|独办|参阅)单位")
# Wording that states the role without naming it: 我局会同/牵头… leads; 分别办理 splits.
_ROLE_IMPLIED = ((re.compile(r"我[局委部办厅院署]\s*(?:会同|牵头)"), "主办"), (re.compile(r"分别办理|分办"), "分办"))
_PARTIAL = re.compile(r"涉及.{0,6}职能的部分")
_COUNT = re.compile(rf"等\s*({CN_NUMBER}|\d+)\s*[名位]")
_PERSON_SUFFIX = re.compile(r"(委员|代表|同志|先生|女士)$")
_COLLECTIVE_TYPES = (
    (("民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "台盟", "党派"), "party"),
    (("工商联", "妇联", "共青团", "团市委", "总工会", "科协", "侨联", "台联", "青联"), "association"),
    (("专门委员会", "专委会", "委员会"), "committee"),
    (("界",), "sector"),
    (("小组",), "group"),
    (("代表团",), "delegation"),
)
_ORG_HINT = re.compile(r"[委会党盟联团组界局厅部办支社]$|学社|政府|委员会")
_TRAILER = re.compile(r"^[（(]?\s*(联系人|联系电话|联系单位|抄送|抄报|附件|经办人)")
_INTERIM = re.compile(r"平时提案|闭会期间")
# National CPPCC and NPC terms last five years; the 14th met first in 2023.
_NATIONAL_TERM_START = {14: 2023}
_LEVEL_SUFFIX = (("自治区", "provincial"), ("省", "provincial"), ("市", "city"), ("州", "city"),
                 ("区", "county"), ("县", "county"), ("旗", "county"))


@dataclass
class _Header:
    result_raw: str | None = None
    disclosure: str | None = None
    doc_number: str | None = None
    signer: str | None = None


def parse_reply(
    text: str, *, source: Source, sample: bool = False, metadata: Mapping[str, str] | None = None
) -> Reply:
    """Parse a raw reply text (any cleaning state) into a record.

    :param source: provenance of the text; its ``file`` names the record in errors.
    :param metadata: fields a web page states outside the text, from its metadata table
        (``文号``, ``成文日期``, ``索引号``, ``主题分类``, ``发布日期``…); the text wins
        where both state a field.
    :raise ParseError: when the text has no Chinese content or no recognisable title.
    """
    if not has_cjk(text):
        raise ParseError(source.file, "no Chinese text found (empty, binary or wrongly decoded file?)")
    paragraphs = clean_text(text)
    header, title, rest = _split_title(paragraphs, source.file)
    metadata = metadata or {}
    if header.doc_number is None and metadata.get("文号"):
        _read_header_line(metadata["文号"], header)
    warnings: list[str] = []

    salutation = rest[0] if rest and _is_salutation(rest[0]) else None
    body_start = 1 if salutation else 0
    opening = rest[body_start] if len(rest) > body_start else ""
    department_raw, date_info = _signature(rest)
    if date_info is None and metadata.get("成文日期"):
        date_info = parse_date(metadata["成文日期"])
    lead = "\n".join(rest[: body_start + 2])  # salutation, opening and the paragraph after it

    doc_kind = next((kind for suffix, kind in _DOC_KINDS if suffix in title[-6:]), None)
    # The title decides; an opening may name the other body (经商市人大常委会…).
    channel = _channel(title) or _channel(lead)
    assembly, term, session_number = _assembly(title, opening, channel)
    numbers = _proposal_numbers(title) or _proposal_numbers(opening)
    session_label = f"{int_to_cn(term)}届{int_to_cn(session_number)}次" if term and session_number else None
    date_iso = date_info[0] if date_info else None
    year, year_source = _year(numbers, assembly, term, session_number, session_label, date_iso)

    proposers, proposer_count, proposer_kind, collective_type = _proposers(salutation, doc_kind)
    role = _role(lead, doc_kind)
    department = canonical_department(department_raw) if department_raw else None
    if assembly.region is None and assembly.level in _PLACE:
        # 市政协 / 区政协 name no place: the issuing department of the same level does.
        assembly = dataclasses.replace(assembly, region=_place(department or department_raw, assembly.level))
        year, year_source = _year(numbers, assembly, term, session_number, session_label, date_iso)
    proposal_title = _proposal_title(title, opening)
    sections = _sections(rest)
    topic, topics = classify_topic(
        title + (proposal_title or ""),
        "\n".join(s.heading for s in sections),
        "\n".join(rest),
        department or department_raw,
    )

    # Warnings are codes (``missing:<field>``, ``unknown_department:<name>``,
    # ``year_estimated``) so that tools can filter them and the UI can word them.
    for name, value in (
        ("session_label", session_label),
        ("proposal_numbers", numbers),
        ("department", department_raw),
        ("date", date_iso),
        ("department_role", role),
        ("proposers", proposers if doc_kind != "co_handling_opinion" else True),
        ("proposal_title", proposal_title),
    ):
        if not value:
            warnings.append(f"missing:{name}")
    if department_raw and not department:
        warnings.append(f"unknown_department:{department_raw}")
        department = department_raw
    if year_source == "reply_date_heuristic":
        warnings.append("year_estimated")

    return Reply(
        id=reply_id(source.file, numbers, department_raw),
        title=title,
        body="\n\n".join(rest),
        sample=sample,
        channel=channel,
        doc_kind=doc_kind,
        doc_number=header.doc_number,
        assembly=assembly,
        term=term,
        session_number=session_number,
        session_label=session_label,
        year=year,
        year_source=year_source,
        proposal_numbers=tuple(numbers),
        proposers=tuple(proposers),
        proposer_count=proposer_count,
        proposer_kind=proposer_kind,
        collective_type=collective_type,
        proposal_title=proposal_title,
        department=department,
        department_raw=department_raw,
        department_role=role,
        partial_scope=bool(_PARTIAL.search(lead)),
        result_category=_RESULT_LETTER.get(header.result_raw[0], header.result_raw[0]) if header.result_raw else None,
        result_raw=header.result_raw,
        disclosure=header.disclosure,
        signer=header.signer,
        date=date_iso,
        date_raw=date_info[1] if date_info else None,
        topic=topic,
        topics=topics,
        topic_source="keywords",
        sections=sections,
        source=source,
        warnings=tuple(warnings),
    )


def reply_id(source_file: str, numbers: list[str] | tuple[str, ...], department_raw: str | None) -> str:
    """Return the stable record id: sha1 of source file name, numbers and department.

    Only the file's base name counts, so the id does not depend on the folder the file
    was ingested from.
    """
    key = "|".join((source_file.rsplit("/", 1)[-1], ",".join(numbers), department_raw or ""))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _split_title(paragraphs: list[str], source: str) -> tuple[_Header, str, list[str]]:
    """Find the header lines and the (possibly wrapped) title at the top."""
    header = _Header()
    for start in range(min(len(paragraphs), 8)):
        if not (_TITLE_HINT.search(paragraphs[start]) or paragraphs[start].startswith(("关于", "对"))):
            continue  # header lines (result mark, 文号, issuer) never start the title
        for end in range(start + 1, min(start + 4, len(paragraphs)) + 1):
            candidate = "".join(paragraphs[start:end])
            if len(candidate) > 160:
                break
            if _TITLE_END.search(candidate) and _TITLE_HINT.search(candidate):
                for line in paragraphs[:start]:
                    _read_header_line(line, header)
                return header, candidate, paragraphs[end:]
    raise ParseError(source, "no title found: expected a line ending in 答复, 办理意见 or 函 near the top", line=1)


def _read_header_line(line: str, header: _Header) -> None:
    if _RESULT_MARK.match(line):
        header.result_raw = line
    if line in _DISCLOSURE:
        header.disclosure = line
    if match := _DOC_NUMBER.search(line):
        prefix, year, ordinal, serial = match.groups()
        header.doc_number = f"{prefix}〔{year}〕{ordinal}{serial}号"
    if match := _SIGNER.search(line):
        header.signer = match.group(1)


def _is_salutation(paragraph: str) -> bool:
    return paragraph.endswith(("：", ":")) and len(paragraph) <= 80 and not paragraph.startswith(("根据", "您", "你"))


def _signature(paragraphs: list[str]) -> tuple[str | None, tuple[str, str, str] | None]:
    """Return the department as signed and the reply date, read from the end."""
    tail = [p for p in paragraphs[-6:] if not _TRAILER.match(p)]
    for idx in range(len(tail) - 1, -1, -1):
        if found := _date_line(tail[idx]):
            before = tail[idx - 1] if idx > 0 else ""
            return (before if _is_signed_name(before) else None), found
    return None, None


def _date_line(paragraph: str) -> tuple[str, str, str] | None:
    """Return the date when the paragraph holds a date and nothing else (a signature)."""
    found = parse_date(paragraph)
    return found if found and len(paragraph) <= len(found[1]) + 2 else None


def _is_signed_name(paragraph: str) -> bool:
    """Return True for a short line without punctuation: a name signing above the date."""
    return bool(paragraph) and len(paragraph) <= 40 and not re.search(r"[。！？，；：]", paragraph)


def _channel(text: str) -> str | None:
    if "人大" in text or re.search(r"代表\s*[：:]", text):
        return "npc"
    if "政协" in text or "提案" in text or "委员" in text:
        return "cppcc"
    return None


def _assembly(title: str, opening: str, channel: str | None) -> tuple[Assembly, int | None, int | None]:
    """Read the assembly (level and region), term and session from the title or opening."""
    for text in (title, opening):
        session = _SESSION.search(text)
        body = re.search(r"政协|人大|全国委员会", text)
        if not session and not body:
            continue
        term = cn_to_int(session.group(1)) if session else None
        number = cn_to_int(session.group(2)) if session else None
        if "全国" in text[: (session.end() if session else len(text))]:
            return Assembly(type=channel, level="national", region=None), term, number
        anchor = min(m.start() for m in (session, body) if m)
        # The place stands in front (临江区政协五届三次), after the words that lead up to
        # it in an opening sentence (你提出的区政协…), or, in the formal style, between
        # 政协 and the term (政协深圳市福田区第六届委员会).
        place = re.split(r"关于|对|根据|在|的", text[:anchor])[-1].removeprefix("第")
        if not place and body and session and body.end() <= session.start():
            place = text[body.end() : session.start()]
        region = place if len(place) >= 3 else None
        level = next((lvl for suffix, lvl in _LEVEL_SUFFIX if place.endswith(suffix)), None)
        return Assembly(type=channel, level=level, region=region), term, number
    return Assembly(type=channel), None, None


def _role(lead: str, doc_kind: str | None) -> str | None:
    """Return the department's handling role as the opening states it."""
    if match := _ROLE.search(lead):
        return match.group(1)
    if doc_kind == "co_handling_opinion":
        return "会办"
    return next((role for pattern, role in _ROLE_IMPLIED if pattern.search(lead)), None)


_PLACE = {"provincial": r"^(.+?(?:省|自治区))", "city": r"^(.+?市)", "county": r"^(.+?[区县旗])"}


def _place(department: str | None, level: str) -> str | None:
    """Return the place at the start of a department's name, cut at ``level``."""
    if not department:
        return None
    match = re.match(_PLACE[level], department.removeprefix("中共"))
    return match.group(1) if match and len(match.group(1)) >= 3 else None


def _proposal_numbers(text: str) -> list[str]:
    """Return the proposal numbers printed in the text, leading zeros kept."""
    return list(dict.fromkeys(n for run in _NUMBER_RUN.findall(text) for n in re.findall(r"\d+", run)))


def _year(
    numbers: list[str],
    assembly: Assembly,
    term: int | None,
    session_number: int | None,
    session_label: str | None,
    reply_date: str | None,
) -> tuple[int | None, str | None]:
    """Return the year the plenary session met and where that figure came from."""
    this_year = _date.today().year
    for number in numbers:
        if len(number) >= 7 and 1990 <= int(number[:4]) <= this_year + 1:
            return int(number[:4]), "number_prefix"
    if assembly.level == "national" and term and session_number:
        start = _NATIONAL_TERM_START[14] + 5 * (term - 14)
        return start + session_number - 1, "session_table"
    year = session_year(assembly.region, assembly.type, session_label)
    if year:
        return year, "session_table"
    if reply_date:
        reply_year, month = int(reply_date[:4]), int(reply_date[5:7])
        return (reply_year - 1 if month <= 2 else reply_year), "reply_date_heuristic"
    return None, None


def _proposers(salutation: str | None, doc_kind: str | None) -> tuple[list[str], int | None, str | None, str | None]:
    """Read proposers from the salutation: names, count, kind and collective type."""
    if not salutation:
        return [], None, None, None
    text = salutation.rstrip("：:").strip().removeprefix("尊敬的")
    count_match = _COUNT.search(text)
    count = cn_to_int(count_match.group(1)) if count_match else None
    if count_match:
        text = text[: count_match.start()]
    is_people = bool(_PERSON_SUFFIX.search(salutation.rstrip("：:"))) or count_match is not None
    if not is_people:
        if doc_kind == "co_handling_opinion" or not _ORG_HINT.search(text):
            return [], None, None, None  # addressed to the lead unit, not to a proposer
        kind = next((t for keys, t in _COLLECTIVE_TYPES if any(k in text for k in keys)), None)
        return [text], None, "collective", kind
    names = [_PERSON_SUFFIX.sub("", n) for n in re.split(r"[、，,\s]+", _PERSON_SUFFIX.sub("", text))]
    names = [n for n in names if n]
    joint = (count or 0) > 1 or len(names) > 1
    return names, count, ("joint" if joint else "individual"), None


def _proposal_title(title: str, opening: str) -> str | None:
    """Return the proposal's own title, without 《》 or quote marks."""
    for text in (title, opening):
        for pattern in _QUOTED_TITLE:
            if match := pattern.search(text):
                return match.group(1).strip()
    return None


_LEVELS = (
    (re.compile(r"^([一二三四五六七八九十]{1,3}、)(.+)$"), 1),
    (re.compile(r"^([（(][一二三四五六七八九十]{1,3}[）)])(.+)$"), 2),
    (re.compile(r"^(\d{1,2}[.．、])(?!\d)(.+)$"), 3),
)


def split_heading(line: str) -> tuple[int | None, str, str]:
    """Split a heading line into ``(level implied by its marker, marker, heading text)``.

    A line with no section marker gives ``(None, "", line)``.
    """
    for pattern, level in _LEVELS:
        if match := pattern.match(line):
            return level, match.group(1), match.group(2).strip()
    return None, "", line.strip()


def heading_level(paragraph: str) -> tuple[int, str, str] | None:
    """Return ``(level, marker, heading)`` when a paragraph is a section heading.

    A heading stands alone: short, and not a sentence (no full stop inside).
    """
    if len(paragraph) > 50 or "。" in paragraph.rstrip("。") or not SECTION_MARKER.match(paragraph):
        return None
    level, marker, heading = split_heading(paragraph)
    if level is None or (heading.endswith("。") and len(heading) > 30):
        return None
    return level, marker, heading


_CLOSING = re.compile(r"^(此复|特此函复|特此答复|专此函复|以上答复|衷心感谢|感谢|再次感谢|恳请)")


def outline(paragraphs: list[str], levels: dict[int, tuple[int, str, str]]) -> tuple[Section, ...]:
    """Build sections from paragraphs and the indices of heading paragraphs.

    A section's text runs until the next heading of the same or a higher level; the
    last one stops where the closing part begins, which belongs to no section.
    """
    # Search for the closing after the last top-level heading only: a closing formula
    # cannot come before a section, but a list after the signature (附件：1.…) can.
    top = min((found[0] for found in levels.values()), default=0)
    closing = _closing_start(paragraphs, max((j for j, found in levels.items() if found[0] == top), default=-1))
    bounds = sorted(j for j in levels if j < closing)
    sections: list[Section] = []
    for idx in bounds:
        level, marker, heading = levels[idx]
        end = next((j for j in bounds if j > idx and levels[j][0] <= level), closing)
        text = "\n\n".join(p for j, p in enumerate(paragraphs[idx + 1 : end], idx + 1) if j not in levels)
        sections.append(Section(level=level, marker=marker, heading=heading, text=text))
    return tuple(sections)


def _closing_start(paragraphs: list[str], last_heading: int) -> int:
    """Return the index where the closing part starts, after ``last_heading``.

    The closing part ends the text: closing formulas (此复, 衷心感谢…, 恳请…), the
    signature (a name over a date line) and the trailer (联系人, 抄送, 附件…). Without it
    the last section would swallow the signature of a reply that has no 此复.
    """
    end = next(
        (
            idx
            for idx in range(max(last_heading + 1, len(paragraphs) - 8), len(paragraphs))
            if _date_line(paragraphs[idx]) or _TRAILER.match(paragraphs[idx])
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
    return bool(_CLOSING.match(paragraph)) or (_is_signed_name(paragraph) and not SECTION_MARKER.match(paragraph))


def _sections(paragraphs: list[str]) -> tuple[Section, ...]:
    levels = {i: found for i, p in enumerate(paragraphs) if (found := heading_level(p))}
    return outline(paragraphs, levels)
