"""Parse a cleaned reply text into a :class:`~archive.model.Reply`.

The parser reads the document anatomy of the domain spec §2: optional header lines
(result mark, disclosure, issuer, document number, signer), the title, the salutation,
the opening, numbered sections, the closing, the signature with its date and the
trailer (contact, cc, attachments). Every field it cannot read from the text stays
empty and gets a warning: a wrong guess is worse than an empty field.

A traditional-script text is read through a simplified copy of the same length, and
every value quoted from the text (names, titles, the body) is taken from the original
at the same offsets: the record keeps the text as printed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date as _date

from .clean import REDACTED, SECTION_MARKER, clean_text, detect_script, has_cjk, normalise_line, to_simplified
from .errors import ParseError
from .model import (
    TRAILER,
    Assembly,
    Contact,
    Reply,
    Section,
    Source,
    closing_kind,
    closing_start,
    date_line,
    is_salutation,
    is_signed_name,
)
from .numerals import CN_NUMBER, cn_to_int, int_to_cn, parse_date
from .tables import (
    canonical_department,
    classify_topic,
    official_topic,
    result_scheme,
    scheme_resolution,
    session_year,
    stated_resolution,
)

PARSER_VERSION = "1.1"

_TITLE_END = re.compile(r"(答复|办理意见|会办意见|答复函|答复的函|的函|摘要)$")
_TITLE_HINT = re.compile(r"提案|建议|政协|人大|议案")
_DOC_KINDS = (
    ("会办意见", "co_handling_opinion"),
    ("办理意见", "handling_opinion"),
    ("摘要", "summary"),
    ("函", "reply_letter"),
    ("答复", "reply"),
)
# A result mark, alone or labelled, maybe with the meaning printed after it:
# "A类", "乙类", "办理结果：B类（正在解决或列入计划解决）".
_RESULT_MARK = re.compile(
    r"^(?:(?:办理结果|办理类别|答复类别|结果类别)\s*[：:]\s*)?([ABCD甲乙丙丁])\s*类?\s*(?:[（(]([^）)]+)[）)])?$"
)
_RESULT_LETTER = {"甲": "A", "乙": "B", "丙": "C", "丁": "D"}
_DISCLOSURE = ("同意对外公开", "主动公开", "依申请公开", "不予公开")
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{1,12})\s*[〔\[【［(（]\s*((?:19|20)\d{2})\s*[〕\]】］)）]\s*(第?)\s*(\d+)\s*号"
)
_SIGNER = re.compile(r"签发人\s*[：:]\s*([\u4e00-\u9fff·]{2,6})")
# The ending of a department's name: region + function + rank suffix (spec §3).
_DEPARTMENT_END = r"(?:局|委员会|委|厅|部|办公室|办|政府|院|署|中心|协会|联合会|大队|支队|支行|总支|社)"
_DEPARTMENT = re.compile(rf"^(?!各|有关|相关|其他|其它)[\u4e00-\u9fff（）]{{2,30}}{_DEPARTMENT_END}$")
# T6: the issuer's name in front of the title (青溪市教育局关于市政协…).
_TITLE_ISSUER = re.compile(rf"^([\u4e00-\u9fff]{{2,30}}?{_DEPARTMENT_END})(?=关于|对)")
_SESSION = re.compile(rf"第?({CN_NUMBER}|\d+)届.{{0,8}}?第?({CN_NUMBER}|\d+)次(?:会议)?")
_TERM = re.compile(rf"第?({CN_NUMBER}|\d+)届")
# A run of numbers sharing one 号 (第0215、0233号) or each with its own (第0215号、第0233号).
# Not after 类 (a class serial) or a closing bracket (a document number, 〔2014〕46号).
_NUMBER_RUN = re.compile(r"(?<![类\d〕\]】］])\d{1,10}(?:\s*号?\s*[、，,和及与]\s*第?\s*\d{1,10})*\s*号")
# T2: 第01234号（资源环境类284号）.
_PROPOSAL_CLASS = re.compile(r"[（(]\s*([\u4e00-\u9fff]{2,8}类)\s*(\d+)\s*号\s*[）)]")
# The proposal's own title: ``raw`` as printed, ``title`` without its marks.
_QUOTED_TITLE = (
    re.compile(r"(?P<raw>《(?P<title>.+?)》)"),
    re.compile(r"(?P<raw>关于[“\"「](?P<title>.+?)[”\"」]的(?:建议|提案|议案))"),
    re.compile(r"(?P<raw>[“\"「](?P<title>关于.+?)[”\"」])"),
    re.compile(r"(?:提出的|所提)(?P<raw>(?P<title>关于.+?的(?:提案|建议)))收悉"),
)
_ROLE = re.compile(
    r"(?:(?:我|本)[局委部办厅院署]\s*)?作为(主办|会办|协办|分办|独办|参阅)单位|由(?:我|本)[局委部办厅院署](主办|会办|协办|分办|独办)"
)
# Wording that states the role without naming it: 我局会同/牵头… leads; 分别办理 splits.
_ROLE_IMPLIED = (
    (re.compile(r"我[局委部办厅院署]\s*(?:会同|牵头)"), "主办"),
    (re.compile(r"分别办理|分办"), "分办"),
    (re.compile(r"由我[局委部办厅院署]独立办理|独立承办"), "独办"),
)
# Units named as consulted (经商, 会同) or as co-handlers (结合…等会办单位意见).
_CO_DEPARTMENTS = re.compile(
    r"(?:经商|并商|会商|商请|会同|结合|征求)(?P<names>[^，。；：！？]{2,120}?)(?:等)?(?:会办单位|有关单位|相关单位|单位|部门)?(?:的)?(?:意见)?"
    r"(?=[，。；]|进行|认真|共同|研究|办理)"
)
_PARTIAL = re.compile(r"涉及.{0,6}职能的部分")
_INTERIM = re.compile(r"平时提案|闭会期间")
_COUNT = re.compile(rf"等\s*({CN_NUMBER}|\d+)\s*[名位]")
_PERSON_SUFFIX = re.compile(r"(委员|代表|同志|先生|女士)$")
_NOT_A_NAME = ("各位", "诸位", "全体")
# The opening names the proposers when the salutation addresses someone else
# (韩若霖等5位委员提出的…收悉, in an opinion addressed to the lead unit).
_OPENING_PROPOSERS = re.compile(r"^([\u4e00-\u9fff·、\d\s]{2,40}?(?:委员|代表))们?(?:提出|所提|领衔)")
_COLLECTIVE_TYPES = (
    (("民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "台盟", "党派"), "party"),
    (("工商联", "妇联", "共青团", "团市委", "总工会", "科协", "侨联", "台联", "青联"), "association"),
    (("专门委员会", "专委会", "委员会"), "committee"),
    (("界",), "sector"),
    (("小组",), "group"),
    (("代表团",), "delegation"),
)
_ORG_HINT = re.compile(r"[委会党盟联团组界局厅部办支社]$|学社|政府|委员会|界别$")
_CC = re.compile(r"^[（(]?\s*(?:抄送|抄报)\s*[：:]\s*(.+?)[。）)]?$")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*[：:]\s*(.*)$")
_ITEM_NUMBER = re.compile(r"^\d{1,2}\s*[.．、]\s*")
_CONTACT_UNIT = re.compile(r"联系单位\s*[：:]\s*([^；;，,）)\s]+)")
_CONTACT_PERSON = re.compile(r"(?:联系人|经办人)\s*[：:]\s*([^；;，,）)\s【]+)")
# National CPPCC and NPC terms last five years; the 14th met first in 2023.
_NATIONAL_TERM_START = {14: 2023}
_LEVEL_SUFFIX = (("自治区", "provincial"), ("省", "provincial"), ("市", "city"), ("州", "city"),
                 ("区", "county"), ("县", "county"), ("旗", "county"))


@dataclass
class _Header:
    result_raw: str | None = None
    result_letter: str | None = None
    result_note: str | None = None  # the meaning printed next to the letter
    disclosure: str | None = None
    doc_number: str | None = None
    signer: str | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class _Printed:
    """The paragraphs as read (simplified) and as printed, aligned offset for offset."""

    read: list[str]
    printed: list[str]

    def quote(self, value: str | None) -> str | None:
        """Return a value found in the read text as printed where it first occurs."""
        if not value or self.read == self.printed:
            return value
        at = "\n".join(self.read).find(value)
        return "\n".join(self.printed)[at : at + len(value)] if at >= 0 else value

    def quote_all(self, values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """Return each value as printed."""
        return tuple(self.quote(v) or v for v in values)


def parse_reply(
    text: str, *, source: Source, sample: bool = False, metadata: Mapping[str, str] | None = None
) -> Reply:
    """Parse a raw reply text (any cleaning state) into a record.

    :param source: provenance of the text; its ``file`` names the record in errors.
    :param metadata: fields a web page states outside the text, from its metadata table
        (``标题``, ``文号``, ``成文日期``, ``发文机关``, ``主题分类``…); the text wins
        where both state a field.
    :raise ParseError: when the text has no Chinese content or no recognisable title.
    """
    if not has_cjk(text):
        raise ParseError(source.file, "no Chinese text found (empty, binary or wrongly decoded file?)")
    metadata = metadata or {}
    warnings: list[str] = []
    printed = clean_text(text, warnings)
    script = detect_script("".join(printed))
    read = [to_simplified(p) for p in printed] if script == "traditional" else printed
    header, (start, end) = _split_title(read, source.file, bool(metadata.get("标题")))
    if start == end:  # no title in the text: the page's own title stands in
        title = normalise_line(metadata["标题"])
        title_read = to_simplified(title) if script == "traditional" else title
    else:
        title, title_read = "".join(printed[start:end]), "".join(read[start:end])
    rest, rest_printed = read[end:], printed[end:]
    original = _Printed([title_read, *rest], [title, *rest_printed])
    if header.doc_number is None and metadata.get("文号"):
        _read_header_line(normalise_line(metadata["文号"]), header)

    salutation = rest[0] if rest and is_salutation(rest[0]) else None
    body_start = 1 if salutation else 0
    opening = rest[body_start] if len(rest) > body_start else ""
    lead = "\n".join(rest[: body_start + 2])  # salutation, opening and the paragraph after it
    intro = lead[: m.end()] if (m := re.search(r"如下", lead)) else lead  # up to 现答复如下
    department_raw, date_info = _signature(rest)
    if department_raw is None:
        department_raw = header.issuer or _title_issuer(title_read) or _metadata_department(metadata)
    if date_info is None and metadata.get("成文日期"):
        date_info = parse_date(normalise_line(metadata["成文日期"]))

    doc_kind = next((kind for suffix, kind in _DOC_KINDS if suffix in title_read[-6:]), None)
    # The title decides; an opening may name the other body (经商市人大常委会…).
    channel = _channel(title_read) or _channel(lead)
    assembly, term, session_number = _assembly(title_read, opening, channel)
    numbers = _proposal_numbers(title_read) or _proposal_numbers(opening)
    proposal_class = _PROPOSAL_CLASS.search(title_read) or _PROPOSAL_CLASS.search(opening)
    session_label = f"{int_to_cn(term)}届{int_to_cn(session_number)}次" if term and session_number else None
    is_interim = bool(_INTERIM.search(title_read) or _INTERIM.search(intro))
    date_iso = date_info[0] if date_info else None
    year, year_source = _year(numbers, assembly, term, session_number, session_label, date_iso)

    proposers, proposer_count, proposer_kind, collective_type = _proposers(salutation, doc_kind)
    if not proposers and (named := _OPENING_PROPOSERS.match(opening)):
        proposers, proposer_count, proposer_kind, collective_type = _proposers(named.group(1), doc_kind)
    role, role_evidence = _role(lead, doc_kind)
    department = canonical_department(department_raw) if department_raw else None
    if assembly.region is None and assembly.level in _PLACE:
        # 市政协 / 区政协 name no place: the issuing department of the same level does.
        assembly = dataclasses.replace(assembly, region=_place(department or department_raw, assembly.level))
        year, year_source = _year(numbers, assembly, term, session_number, session_label, date_iso)
    proposal_title = _proposal_title(title_read, opening)
    levels = {i: found for i, p in enumerate(rest) if (found := heading_level(p))}
    closing_at = closing_start(rest, levels)
    sections = outline(rest_printed, {i: (lvl, *split_heading(rest_printed[i])[1:]) for i, (lvl, _, _) in levels.items()})
    tail = rest[closing_at:]
    official = official_topic(proposal_class.group(1) if proposal_class else None) or official_topic(metadata.get("主题分类"))
    topic, topics = classify_topic(
        title_read + (proposal_title[0] if proposal_title else ""),
        "\n".join(heading for _, _, heading in levels.values()),
        "\n".join(rest),
        department or department_raw,
        official,
    )
    result_category = _RESULT_LETTER.get(header.result_letter or "", header.result_letter)
    scheme, resolution = _resolution(result_category, header.result_note, assembly)

    # Warnings are codes (``missing:<field>``, ``unknown_department:<name>``,
    # ``year_estimated``…) so that tools can filter them and the UI can word them.
    for name, value in (
        ("channel", channel),
        ("session_label", session_label or is_interim),  # an interim proposal has no session
        ("proposal_numbers", numbers),
        ("year", year),
        ("department", department_raw),
        ("date", date_iso),
        ("department_role", role),
        ("proposers", proposers if doc_kind != "co_handling_opinion" else True),
        ("proposal_title", proposal_title),
    ):
        if not value:
            warnings.append(f"missing:{name}")
    if department_raw and not department:
        warnings.append(f"unknown_department:{original.quote(department_raw)}")
        department = original.quote(department_raw)
    if year_source == "reply_date_heuristic":
        warnings.append("year_estimated")

    return Reply(
        id=reply_id(source.file, numbers, original.quote(department_raw)),
        title=title,
        body="\n\n".join(rest_printed),
        sample=sample,
        channel=channel,
        doc_kind=doc_kind,
        doc_number=header.doc_number,
        assembly=assembly,
        term=term,
        session_number=session_number,
        session_label=session_label,
        is_interim=is_interim,
        year=year,
        year_source=year_source,
        proposal_numbers=tuple(numbers),
        proposal_class=proposal_class.group(1) if proposal_class else None,
        class_seq=int(proposal_class.group(2)) if proposal_class else None,
        proposers=original.quote_all(proposers),
        proposer_count=proposer_count,
        proposer_kind=proposer_kind,
        collective_type=collective_type,
        proposal_title=original.quote(proposal_title[0]) if proposal_title else None,
        proposal_title_raw=original.quote(proposal_title[1]) if proposal_title else None,
        department=department,
        department_raw=original.quote(department_raw),
        department_role=role,
        role_evidence=original.quote(role_evidence),
        co_departments=original.quote_all(_co_departments(intro)),
        partial_scope=bool(_PARTIAL.search(lead)),
        result_category=result_category,
        result_raw=header.result_raw,
        result_scheme=scheme,
        resolution_level=resolution,
        disclosure=header.disclosure,
        signer=header.signer,
        date=date_iso,
        date_raw=original.quote(date_info[1]) if date_info else None,
        date_style=date_info[2] if date_info else None,
        contact=_contact(tail, original),
        cc=original.quote_all(_cc(tail)),
        attachments=original.quote_all(_attachments(tail)),
        topic=topic,
        topics=topics,
        topic_source="official_class" if official else "keywords",
        script=script,
        sections=sections,
        source=source,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def reply_id(source_file: str, numbers: list[str] | tuple[str, ...], department_raw: str | None) -> str:
    """Return the stable record id: sha1 of source file name, numbers and department.

    Only the file's base name counts, so the id does not depend on the folder the file
    was ingested from.
    """
    key = "|".join((source_file.rsplit("/", 1)[-1], ",".join(numbers), department_raw or ""))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _split_title(paragraphs: list[str], source: str, page_title: bool) -> tuple[_Header, tuple[int, int]]:
    """Find the header lines and the (possibly wrapped) title at the top.

    :param page_title: the page states a title of its own; without one in the text, the
        header lines are read and ``(end, end)`` marks where the text starts.
    :return: the header and the title's paragraph range.
    """
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
                return header, (start, end)
    if page_title:
        end = next((i for i, line in enumerate(paragraphs) if not _read_header_line(line, header)), len(paragraphs))
        return header, (end, end)
    raise ParseError(source, "no title found: expected a line ending in 答复, 办理意见 or 函 near the top", line=1)


def _read_header_line(line: str, header: _Header) -> bool:
    """Read a header line into ``header``; return False when it is none of its kinds."""
    known = False
    if match := _RESULT_MARK.match(line):
        header.result_raw, header.result_letter, header.result_note = line, match.group(1), match.group(2)
        known = True
    if line in _DISCLOSURE:
        header.disclosure = line
        known = True
    if match := _DOC_NUMBER.search(line):
        prefix, year, ordinal, serial = match.groups()
        header.doc_number = f"{prefix}〔{year}〕{ordinal}{serial}号"
        known = True
    if match := _SIGNER.search(line):
        header.signer = match.group(1)
        known = True
    if not known and _DEPARTMENT.match(line):
        header.issuer = line
        known = True
    return known


def _signature(paragraphs: list[str]) -> tuple[str | None, tuple[str, str, str] | None]:
    """Return the department as signed and the reply date, read from the end.

    Without a date line, a department's name right after the closing formula still
    signs the reply.
    """
    tail = [p for p in paragraphs[-10:] if not TRAILER.match(p)]
    for idx in range(len(tail) - 1, -1, -1):
        if found := date_line(tail[idx]):
            before = tail[idx - 1] if idx > 0 else ""
            return (before if is_signed_name(before) else None), found
    if len(tail) >= 2 and closing_kind(tail[-2]) and is_signed_name(tail[-1]) and _DEPARTMENT.match(tail[-1]):
        return tail[-1], None
    return None, None


def _title_issuer(title: str) -> str | None:
    """Return the issuer named in front of a title (T6), if any."""
    match = _TITLE_ISSUER.match(title)
    return match.group(1) if match else None


def _metadata_department(metadata: Mapping[str, str]) -> str | None:
    """Return the issuing body a page's metadata table names, if any."""
    name = normalise_line(metadata.get("发文机关", ""))
    return name or None


def _channel(text: str) -> str | None:
    if "人大" in text or re.search(r"代表\s*[：:]", text):
        return "npc"
    if "政协" in text or "提案" in text or "委员" in text:
        return "cppcc"
    return None


def _assembly(title: str, opening: str, channel: str | None) -> tuple[Assembly, int | None, int | None]:
    """Read the assembly (level and region), term and session from the title or opening.

    An interim proposal (平时提案, 闭会期间) names a term but no session.
    """
    for text in (title, opening):
        session = _SESSION.search(text)
        term_match = session or _TERM.search(text)
        body = re.search(r"政协|人大|全国委员会", text)
        if not term_match and not body:
            continue
        term = cn_to_int(term_match.group(1)) if term_match else None
        number = cn_to_int(session.group(2)) if session else None
        if "全国" in text[: (term_match.end() if term_match else len(text))]:
            return Assembly(type=channel, level="national", region=None), term, number
        anchor = min(m.start() for m in (term_match, body) if m)
        # The place stands in front (临江区政协五届三次), after the words that lead up to
        # it in an opening sentence (你提出的区政协…), or, in the formal style, between
        # 政协 and the term (政协深圳市福田区第六届委员会).
        place = re.split(r"关于|对|根据|在|的", text[:anchor])[-1].removeprefix("第")
        if not place and body and term_match and body.end() <= term_match.start():
            place = text[body.end() : term_match.start()]
        region = place if len(place) >= 3 else None
        level = next((lvl for suffix, lvl in _LEVEL_SUFFIX if place.endswith(suffix)), None)
        return Assembly(type=channel, level=level, region=region), term, number
    return Assembly(type=channel), None, None


def _role(lead: str, doc_kind: str | None) -> tuple[str | None, str | None]:
    """Return the department's handling role as the opening states it, and the words."""
    if match := _ROLE.search(lead):
        return match.group(1) or match.group(2), match.group(0)
    if doc_kind == "co_handling_opinion":
        return "会办", "会办意见"
    for pattern, role in _ROLE_IMPLIED:
        if match := pattern.search(lead):
            return role, match.group(0)
    return None, None


def _co_departments(intro: str) -> list[str]:
    """Return the units the opening names as consulted or co-handling; unnamed ones are none."""
    names: list[str] = []
    for match in _CO_DEPARTMENTS.finditer(intro):
        # 和/及/与 join two names only after a name's ending: 市住房和城乡建设局 is one.
        parts = re.split(r"[、，,]|(?<=[局委厅部办府院署心会队行支社])[和及与]", match.group("names"))
        names += [part.strip() for part in parts if _DEPARTMENT.match(part.strip())]
    return list(dict.fromkeys(names))


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


def _resolution(letter: str | None, note: str | None, assembly: Assembly) -> tuple[str | None, str | None]:
    """Return ``(scheme, resolution level)`` of a result mark, where the scheme is known.

    The meaning printed next to the letter is the scheme (``stated``); otherwise the
    assembly's known rule set is. A letter whose scheme is unknown gets no level (spec
    §5: C means "not now" in one place and "for reference" in another).
    """
    if letter is None:
        return None, None
    if note and (level := stated_resolution(note)):
        return "stated", level
    scheme = result_scheme(assembly.region, assembly.type)
    return (scheme, scheme_resolution(scheme, letter)) if scheme else (None, None)


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
    names = [n for n in names if n and n not in _NOT_A_NAME]
    if not names:
        return [], None, None, None  # 各位代表：names nobody
    joint = (count or 0) > 1 or len(names) > 1
    return names, count, ("joint" if joint else "individual"), None


def _proposal_title(title: str, opening: str) -> tuple[str, str] | None:
    """Return the proposal's own title without its marks, and as printed with them."""
    for text in (title, opening):
        for pattern in _QUOTED_TITLE:
            if match := pattern.search(text):
                return match.group("title").strip(), match.group("raw")
    return None


def _contact(tail: list[str], text: _Printed) -> Contact | None:
    """Return the contact trailer: unit and person, and whether a phone was masked."""
    lines = [p for p in tail if TRAILER.match(p) and not _CC.match(p) and not _ATTACHMENT.match(p)]
    if not lines:
        return None
    joined = "\n".join(lines)
    unit, person = _CONTACT_UNIT.search(joined), _CONTACT_PERSON.search(joined)
    return Contact(
        unit=text.quote(unit.group(1)) if unit else None,
        person=text.quote(person.group(1)) if person else None,
        phone_redacted=REDACTED in joined,
    )


def _cc(tail: list[str]) -> list[str]:
    """Return the units a copy goes to (抄送, 抄报)."""
    return [name.strip() for p in tail if (m := _CC.match(p)) for name in re.split(r"[，、,；;]", m.group(1)) if name.strip()]


def _attachments(tail: list[str]) -> list[str]:
    """Return the attachment titles: ``附件：1.…`` and the numbered lines after it."""
    found: list[str] = []
    in_list = False
    for paragraph in tail:
        if match := _ATTACHMENT.match(paragraph):
            in_list = True
            item = match.group(1)
        elif in_list and _ITEM_NUMBER.match(paragraph):
            item = paragraph
        else:
            in_list = False
            continue
        if item := _ITEM_NUMBER.sub("", item).rstrip("。；;").strip():
            found.append(item)
    return found


_LEVELS = (
    (re.compile(r"^([一二三四五六七八九十]{1,3}、)(.+)$"), 1),
    (re.compile(r"^([（(][一二三四五六七八九十]{1,3}[）)])(.+)$"), 2),
    (re.compile(r"^(\d{1,2}[.．、])(?!\d)(.+)$"), 3),
    (re.compile(r"^([（(]\d{1,2}[）)])(.+)$"), 4),
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


def outline(paragraphs: list[str], levels: dict[int, tuple[int, str, str]]) -> tuple[Section, ...]:
    """Build sections from paragraphs and the indices of heading paragraphs.

    A section's text runs until the next heading of the same or a higher level; the
    last one stops where the closing part begins, which belongs to no section.
    """
    closing = closing_start(paragraphs, levels)
    bounds = sorted(j for j in levels if j < closing)
    sections: list[Section] = []
    for idx in bounds:
        level, marker, heading = levels[idx]
        end = next((j for j in bounds if j > idx and levels[j][0] <= level), closing)
        text = "\n\n".join(p for j, p in enumerate(paragraphs[idx + 1 : end], idx + 1) if j not in levels)
        sections.append(Section(level=level, marker=marker, heading=heading, text=text))
    return tuple(sections)
