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

from .clean import (
    DEPARTMENT_END,
    REDACTED,
    SECTION_MARKER,
    clean_text,
    detect_script,
    has_cjk,
    normalise_line,
    to_simplified,
)
from .errors import ParseError
from .layout import LETTERHEAD, RECEIPT, Layout, read_layout, title_core, title_score
from .model import (
    TRAILER,
    Assembly,
    Contact,
    Reply,
    Salutation,
    Section,
    Source,
    closing_kind,
    closing_start,
    date_line,
    is_salutation,
    is_signed_name,
    salutation_parts,
)
from .numerals import CN_NUMBER, cn_to_int, int_to_cn, parse_listed_date, unmarked_date_readings
from .tables import (
    canonical_department,
    classify_topic,
    official_topic,
    result_scheme,
    scheme_resolution,
    session_year,
    stated_resolution,
)

PARSER_VERSION = "2.0"

_DOC_KINDS = (
    ("会办意见", "co_handling_opinion"),
    ("协办意见", "co_handling_opinion"),
    ("办理意见", "handling_opinion"),
    ("摘要", "summary"),
    ("函", "reply_letter"),
    ("答复", "reply"),
    ("答覆", "reply"),  # 覆 for 复, as traditional-script pages print it
    ("回复", "reply"),
)
# A result mark, alone or labelled, maybe with the meaning printed after it:
# "A类", "乙类", "办理结果：B类（正在解决或列入计划解决）".
_RESULT_LABEL = r"(?:办理结果|办复类别|办理类别|答复类别|结果类别|分类标识|答复类型|办理类型|类别)"
_RESULT_MARK = re.compile(
    rf"^(?:{_RESULT_LABEL}\s*[：:]?\s*)?[（(【\[]?\s*([ABCD甲乙丙丁])\s*[）)】\]]?\s*类?\s*(?:[（(]([^）)]+)[）)])?\s*[）)】\]]?$"
)
# A result mark in the closing part must carry its label (办复类别：B类).
_LABELLED_RESULT = re.compile(rf"^{_RESULT_LABEL}\s*[：:]")
_RESULT_LETTER = {"甲": "A", "乙": "B", "丙": "C", "丁": "D"}
_DISCLOSURE = ("同意对外公开", "主动公开", "依申请公开", "不予公开", "公开")
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{1,12})\s*[〔\[【［(（]\s*((?:19|20)\d{2})\s*[〕\]】］)）]\s*(第?)\s*(\d+)\s*号"
)
_SIGNER = re.compile(r"签发人\s*[：:]\s*([\u4e00-\u9fff·]{2,6})")
_DEPARTMENT = LETTERHEAD
# T6: the issuer's name in front of the title (青溪市教育局关于市政协…).
_TITLE_ISSUER = re.compile(rf"^([\u4e00-\u9fff]{{2,30}}?{DEPARTMENT_END})(?=关于|对)")
# …的答复（水利局）: the issuer in brackets after the title.
_TITLE_TAIL_ISSUER = re.compile(r"[（(]([\u4e00-\u9fff]{2,30})[）)]$")
# A seal mark after a signing name (青溪市教育局（盖章）) is not part of the name, and a
# signature that was never filled in (单位名称（公章）) names no department.
_SEAL = re.compile(r"\s*[（(](?:公章|盖章|印章|签章|章)[）)]\s*$")
_PLACEHOLDER = re.compile(r"名称|^(?:承办单位|单位|署名|签字|盖章)$")
# The unit a page names as its publisher or source, and a trailer's handling unit.
_SOURCE_NAME = re.compile(r"^[\u4e00-\u9fff（）()]{2,40}$")
_NOT_A_SOURCE = ("本网", "本站", "网站", "人民政府网", "政府网")
_UNIT_NAME = re.compile(rf"{DEPARTMENT_END}(?:[（(][^）)]*[）)])?$")
_MEDIA = re.compile(r"(?:网|报|报社|台|电视台|新闻社|通讯社|新华社|中新社|频道|客户端)$")
# The assembly's own offices publish the replies to its members (来源：人大办公室) but do
# not write them: as a page's source or publisher they name no replying unit.
_ASSEMBLY_OFFICE = re.compile(r"人大|人民代表大会|政协|提案委员会")
_TRAILER_UNIT = re.compile(r"(?:承办单位|联系单位(?:及电话)?)\s*[：:]\s*([\u4e00-\u9fff（）()]{2,40})")
# A year printed before the assembly's name in a title: 2023年…县八届人大二次会议.
_STATED_YEAR = re.compile(r"^((?:19|20)\d{2})年(?=[^，。]{0,30}(?:政协|人大|人民代表大会|会议))")
_SESSION = re.compile(rf"第?({CN_NUMBER}|\d+)届.{{0,8}}?第?({CN_NUMBER}|\d+)次(?:会议)?")
_TERM = re.compile(rf"第?({CN_NUMBER}|\d+)届")
# A run of numbers sharing one 号 (第0215、0233号) or each with its own (第0215号、第0233号).
# A number may carry letters as printed (D022, 2025D048, JY100012050700). Not after 类
# (a class serial) or a closing bracket (a document number, 〔2014〕46号).
_NUMBER = r"[A-Za-z]{0,4}\d[\dA-Za-z]{0,15}"
_NUMBER_RUN = re.compile(rf"(?<![类\dA-Za-z〕\]】］]){_NUMBER}(?:\s*号?\s*[、，,和及与]\s*第?\s*{_NUMBER})*\s*号")
# A delegation's number: 会议温36号建议 (the 36th suggestion of the Wenzhou delegation).
_DELEGATION = re.compile(r"(?:会议|会议上提出的|所提的?)((?!第)[\u4e00-\u9fff])$")
# T2: 第01234号（资源环境类284号）.
_PROPOSAL_CLASS = re.compile(r"[（(]\s*([\u4e00-\u9fff]{2,8}类)\s*(\d+)\s*号\s*[）)]")
# The proposal's own title: ``raw`` as printed, ``title`` without its marks.
_QUOTED_TITLE = (
    re.compile(r"(?P<raw>《(?P<title>.+?)》)"),
    re.compile(r"(?P<raw>关于[“\"「](?P<title>.+?)[”\"」]的(?:建议|提案|议案))"),
    re.compile(r"(?P<raw>[“\"「](?P<title>关于.+?)[”\"」])"),
    re.compile(r"(?:提出的|所提)(?P<raw>(?P<title>关于.+?的(?:提案|建议)))已?收悉"),
)
_ROLE = re.compile(
    r"(?:(?:我|本)[局委部办厅院署]\s*)?作为(主办|会办|协办|分办|独办|参阅)单位|由(?:我|本)[局委部办厅院署](主办|会办|协办|分办|独办)"
)
_TITLE_ROLE = re.compile(r"(主办|会办|协办|分办)(?:件|意见)")
# Other words that state a role. 我局会同… or 牵头 only implies that the unit leads, and
# is not read as 主办: real replies that say it (由我部会同…办理) state no role.
_ROLE_IMPLIED = (
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
_NOT_A_NAME = ("各位", "诸位", "全体")
# The opening names the proposers when the salutation addresses someone else
# (韩若霖等5位委员提出的…收悉, in an opinion addressed to the lead unit).
_OPENING_PROPOSERS = re.compile(r"^([\u4e00-\u9fff·、（）\d\s]{2,40}?(?:委员|代表))们?(?:提出|所提|领衔)")
_COLLECTIVE_TYPES = (
    (("民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "台盟", "党派"), "party"),
    (("工商联", "妇联", "共青团", "团市委", "总工会", "科协", "侨联", "台联", "青联"), "association"),
    (("专门委员会", "专委会", "委员会"), "committee"),
    (("界",), "sector"),
    (("小组", "联络组"), "group"),
    (("代表团",), "delegation"),
)
# A unit addressed by name proposes only if it is a body of the assembly or a party or
# association (民建长春市委员会, 瓦渡乡政协联络组); a department addressed (市民政局：) is
# the lead unit a co-handling reply goes to.
_COLLECTIVE_HINT = re.compile(
    "|".join(k for keys, _ in _COLLECTIVE_TYPES for k in keys if k not in ("委员会", "界"))
    + r"|政协|界别|界$|党|委员会$"
)
_CC = re.compile(r"^[（(]?\s*(?:抄送|抄报)\s*[：:]\s*(.+?)[。）)]?$")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*[：:]\s*(.*)$")
_ITEM_NUMBER = re.compile(r"^\d{1,2}\s*[.．、]\s*")
_CONTACT_UNIT = re.compile(r"联系单位(?:及电话)?\s*[：:]\s*([^；;，,）)\s【]+)")
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
    """Parse a raw reply text (any cleaning state, page furniture included) into a record.

    :param source: provenance of the text; its ``file`` names the record in errors.
    :param metadata: fields a web page states outside the text, from its metadata table
        (``标题``, ``文号``, ``成文日期``, ``发文机关``, ``主题分类``…); they win over the
        same labels printed in the text's header, and the reply's own lines win over both.
    :raise ParseError: when the text has no Chinese content, or nothing of a reply: no
        title of the genre, salutation, opening or signature.
    """
    if not has_cjk(text):
        raise ParseError(source.file, "no Chinese text found (empty, binary or wrongly decoded file?)")
    warnings: list[str] = []
    printed = clean_text(text, warnings)
    script = detect_script("".join(printed))
    read = [to_simplified(p) for p in printed] if script == "traditional" else printed
    original = _Printed(read, printed)
    layout = read_layout(read)
    page = {**layout.metadata, **{k: normalise_line(v) for k, v in (metadata or {}).items()}}
    header = _read_header(read, layout, page)
    title, title_read = _title(read, printed, layout, page, script)
    start, end = layout.body
    rest, rest_printed = read[start:end], printed[start:end]

    salutation = rest[0] if rest and is_salutation(rest[0]) else None
    body_start = 1 if salutation else 0
    opening = rest[body_start] if len(rest) > body_start else ""
    lead = "\n".join(rest[: body_start + 3])  # salutation, opening and the paragraphs after it
    intro = lead[: m.end()] if (m := re.search(r"如下", lead)) else lead  # up to 现答复如下
    signed, date_info = _signature(rest)
    if not _is_reply(layout, page, salutation, rest, signed or date_info):
        raise ParseError(
            source.file,
            "not a reply: no title of the genre (…的答复), no opening (…收悉, 现答复如下), no salutation"
            " naming the proposers (王一帆委员：) and no salutation over a signature",
            line=1,
        )
    if not "".join(rest).strip():
        raise ParseError(source.file, "no reply text: only a title or page header was found", line=1)
    department_raw = _department(signed, title_read, layout, header, page, rest)
    if date_info is None:
        date_info = _listed_date(page.get("成文日期"))
        if date_info is None and (digits := _unread_date(rest)):
            warnings.append(f"date_ambiguous:{digits}")
    elif date_info[2] == "unmarked":
        warnings.append(f"date_unmarked:{date_info[1]}")

    core = title_core(title_read)
    doc_kind = next((kind for suffix, kind in _DOC_KINDS if suffix in core[-6:]), None)
    # The title decides; an opening may name the other body (经商市人大常委会…).
    channel = _channel(title_read) or _addressed_channel(salutation) or _channel(opening) or _channel(lead)
    assembly, term, session_number = _assembly(title_read, opening, channel)
    numbers = _proposal_numbers(title_read) or _proposal_numbers(opening)
    proposal_class = _PROPOSAL_CLASS.search(title_read) or _PROPOSAL_CLASS.search(opening)
    session_label = f"{int_to_cn(term)}届{int_to_cn(session_number)}次" if term and session_number else None
    is_interim = bool(_INTERIM.search(title_read) or _INTERIM.search(intro))
    date_iso = date_info[0] if date_info else None
    stated_year = _STATED_YEAR.match(title_read)
    year, year_source = _year(numbers, assembly, term, session_number, session_label, date_iso, stated_year)

    proposers, proposer_count, proposer_kind, collective_type = _proposers(salutation, doc_kind)
    if not proposers and (named := _OPENING_PROPOSERS.match(opening)):
        proposers, proposer_count, proposer_kind, collective_type = _proposers(named.group(1), doc_kind)
    role, role_evidence = _role(core, lead, doc_kind)
    department = canonical_department(department_raw) if department_raw else None
    if assembly.region is None and assembly.level in _PLACE:
        # 市政协 / 区政协 name no place: the issuing department of the same level does.
        assembly = dataclasses.replace(assembly, region=_place(department or department_raw, assembly.level))
        year, year_source = _year(numbers, assembly, term, session_number, session_label, date_iso, stated_year)
    proposal_title = _proposal_title(title_read, opening)
    # Numbered lines after the signature (a legend of the result categories) are no sections.
    signed_at = next((i for i in range(len(rest) - 1, max(-1, len(rest) - 13), -1) if date_line(rest[i])), len(rest))
    levels = {i: found for i, p in enumerate(rest[:signed_at]) if (found := heading_level(p))}
    closing_at = closing_start(rest, levels)
    sections = outline(
        rest_printed, {i: (lvl, *split_heading(rest_printed[i])[1:]) for i, (lvl, _, _) in levels.items()}
    )
    tail = rest[closing_at:]
    official = official_topic(proposal_class.group(1) if proposal_class else None) or official_topic(
        page.get("主题分类")
    )
    topic, topics = classify_topic(
        title_read + (proposal_title[0] if proposal_title else ""),
        "\n".join(heading for _, _, heading in levels.values()),
        "\n".join(rest),
        department or department_raw,
        official,
    )
    if header.result_letter is None:  # 办复类别：B类 among the closing lines
        for line in rest[-12:]:
            if _LABELLED_RESULT.match(line):
                _read_header_line(line, header)
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
    if not title:  # nothing titles it: say what it answers, and flag it
        signed_as = original.quote(department_raw)
        title = _derived_title(signed_as, session_label, numbers, proposal_title, proposers, channel)
        warnings.append("title_derived")

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


def _is_reply(layout: Layout, page: Mapping[str, str], salutation: str | None, body: list[str], signed: object) -> bool:
    """Return True when the text shows the anatomy of a reply: a title of the genre, an
    opening formula, a salutation naming proposers, or a salutation over a signature.

    A generic salutation alone (各位代表：) opens a government work report as well.
    """
    if layout.title is not None or title_score(page.get("标题", "")):
        return True
    if any(RECEIPT.search(paragraph[:160]) for paragraph in body[:3]):
        return True
    return salutation is not None and (bool(_proposers(salutation, None)[0]) or bool(signed))


def _read_header(read: list[str], layout: Layout, page: Mapping[str, str]) -> _Header:
    """Read the header marks: lines above the reply, the title's bracketed tail, and the
    labelled metadata (文号, 办复类别, 是否同意公开)."""
    header = _Header()
    for idx in sorted(layout.header + layout.metadata_lines):
        _read_header_line(read[idx], header)
    if layout.title is not None:
        joined = "".join(read[layout.title.start : layout.title.end])
        _read_header_line(joined[layout.title.cut[1] :], header)
    for key in ("文号", "办理结果"):
        if page.get(key):
            _read_header_line(page[key], header)
    if header.disclosure is None and (value := page.get("公开", "").strip("（）()【】[] ")) in _DISCLOSURE:
        header.disclosure = value
    return header


def _title(
    read: list[str], printed: list[str], layout: Layout, page: Mapping[str, str], script: str
) -> tuple[str, str]:
    """Return the title as printed and as read: the chosen title lines, else the
    title the page's metadata states, else nothing (the parser then derives one)."""
    if layout.title is not None:
        span = slice(layout.title.start, layout.title.end)
        cut = slice(*layout.title.cut)
        return _close_up("".join(printed[span])[cut]), _close_up("".join(read[span])[cut])
    if page.get("标题"):
        title = page["标题"]
        return title, to_simplified(title) if script == "traditional" else title
    return "", ""


def _close_up(title: str) -> str:
    """Remove the spaces of a letter-spaced title (答 复) between Chinese characters."""
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", title).strip()


def _read_header_line(line: str, header: _Header) -> None:
    """Read a header line's marks into ``header``: 文号, 签发人, result mark, disclosure,
    or the issuer's name on a line of its own.

    One line may hold several marks (湘交建议复〔2017〕98号 A类, 长房议字〔2025〕11号
    签发人：赵洪利); the first value of each kind wins.
    """
    known = False
    rest = line
    # A document number stands on a line of its own or with other marks; one inside a
    # sentence (根据《…》（国办发〔2023〕5号）…) is a document cited, not this reply's.
    if (match := _DOC_NUMBER.search(rest)) and not re.search(r"[。，；《》]", rest):
        prefix, year, ordinal, serial = match.groups()
        header.doc_number = header.doc_number or f"{prefix}〔{year}〕{ordinal}{serial}号"
        rest = f"{rest[: match.start()]} {rest[match.end() :]}"
        known = True
    if match := _SIGNER.search(rest):
        header.signer = header.signer or match.group(1)
        rest = f"{rest[: match.start()]} {rest[match.end() :]}"
        known = True
    for piece in [rest.strip(), *rest.split()] if rest.strip() else []:
        if header.result_letter is None and (match := _RESULT_MARK.match(piece)):
            header.result_raw, header.result_letter, header.result_note = piece, match.group(1), match.group(2)
            known = True
        elif header.disclosure is None and piece.strip("（）()【】") in _DISCLOSURE:
            header.disclosure = piece.strip("（）()【】")
            known = True
    if not known and _DEPARTMENT.match(line):
        header.issuer = header.issuer or line


def _department(
    signed: str | None,
    title: str,
    layout: Layout,
    header: _Header,
    page: Mapping[str, str],
    body: list[str],
) -> str | None:
    """Return the replying unit from the best place that names it.

    In order: the signature, the issuer in front of or after the title, a letterhead or
    header line, the page's publisher (发布机构, 发文机关), its source line (来源), and a
    trailer's 承办单位 or 联系单位. A placeholder (单位名称（公章）) is never a department.
    Where a later place spells out the name the chosen one abbreviates (重庆高新区管委会
    → 重庆高新技术产业开发区管理委员会), the full name is taken.
    """
    tail = _TITLE_TAIL_ISSUER.search(title)
    trailer = next((m.group(1) for line in body[-12:] if (m := _TRAILER_UNIT.search(line))), None)
    candidates = [
        signed,
        _title_issuer(title),
        tail.group(1) if tail and _DEPARTMENT.match(tail.group(1)) else None,
        layout.letterhead,
        header.issuer,
        *(_source_name(page.get(key)) for key in ("发文机关", "发布机构", "信息来源")),
        trailer,
    ]
    names = [c for c in candidates if c and not _PLACEHOLDER.search(c)]
    if not names:
        return None
    chosen = names[0]
    return next((n for n in names[1:] if len(n) > len(chosen) and _abbreviates(chosen, n)), chosen)


def _source_name(value: str | None) -> str | None:
    """Return a page's publisher or source as a unit's name, if it is one."""
    value = (value or "").strip()
    if not _SOURCE_NAME.match(value) or value in _NOT_A_SOURCE or _ASSEMBLY_OFFICE.search(value):
        return None
    # A unit's name (市发改委（市粮储局）), not a news outlet that reposted the reply.
    return value if _UNIT_NAME.search(value) and not _MEDIA.search(value) else None


_SHORT_RANKS = (("委", "委员会"), ("办", "办公室"))


def _abbreviates(short: str, full: str) -> bool:
    """Return True when ``short`` is ``full`` with characters left out inside, first and
    last kept: 市教委 of 重庆市教育委员会 no, 重庆高新区管委会 of 重庆高新技术产业开发区管理委员会
    yes. A name followed by more (青溪市教育局基础教育科) is a sub-unit, not the full name."""
    chars = iter(full)
    same_rank = short[-1] == full[-1] or any(short.endswith(a) and full.endswith(f) for a, f in _SHORT_RANKS)
    return short[0] == full[0] and same_rank and not full.startswith(short) and all(ch in chars for ch in short)


def _listed_date(value: str | None) -> tuple[str, str, str] | None:
    """Return the document date a page's metadata lists (成文日期, 发文日期)."""
    return parse_listed_date(value) if value else None


def _unread_date(paragraphs: list[str]) -> str | None:
    """Return a signature date's digits when 年月日 were lost and they allow several readings."""
    return next((p for p in reversed(paragraphs[-6:]) if len(unmarked_date_readings(p)) > 1), None)


def _derived_title(
    department: str | None,
    session_label: str | None,
    numbers: list[str],
    proposal_title: tuple[str, str] | None,
    proposers: list[str],
    channel: str | None,
) -> str:
    """Return a title made from what is known, for a reply that prints none."""
    kind = {"cppcc": "提案", "npc": "建议"}.get(channel or "", "提案建议")
    if numbers:
        what = f"{session_label + '会议' if session_label else ''}第{'、'.join(numbers)}号{kind}"
    elif proposal_title:
        what = f"《{proposal_title[0]}》"
    elif proposers:
        what = f"{'、'.join(proposers)}{'代表' if channel == 'npc' else '委员'}所提{kind}"
    else:
        what = kind
    return f"{department or ''}关于{what}的答复"


def _signature(paragraphs: list[str]) -> tuple[str | None, tuple[str, str, str] | None]:
    """Return the department as signed and the reply date, read from the end.

    Without a date line, a department's name right after the closing formula still
    signs the reply. A placeholder left in the signature (单位名称（公章）) signs nothing.
    """
    tail = [p for p in paragraphs[-12:] if not TRAILER.match(p)]
    for idx in range(len(tail) - 1, -1, -1):
        if found := date_line(tail[idx]):
            before = _SEAL.sub("", tail[idx - 1]) if idx > 0 else ""
            signed = is_signed_name(before) and not _PLACEHOLDER.search(before) and not salutation_parts(before)
            return (before if signed else None), found
    if len(tail) >= 2 and closing_kind(tail[-2]) and is_signed_name(tail[-1]) and _DEPARTMENT.match(tail[-1]):
        return tail[-1], None
    return None, None


def _title_issuer(title: str) -> str | None:
    """Return the issuer named in front of a title (T6), if any."""
    match = _TITLE_ISSUER.match(title)
    return match.group(1) if match else None


def _addressed_channel(salutation: str | None) -> str | None:
    """Return the channel a salutation implies: 委员 are CPPCC members, 代表 NPC deputies."""
    parts = salutation_parts(salutation) if salutation else None
    return {"委员": "cppcc", "代表": "npc"}.get(parts.role or "") if parts else None


def _channel(text: str) -> str | None:
    """Return npc or cppcc as the text names the assembly, its members or the genre."""
    if re.search(r"人大|人民代表大会|代表建议|议案|代表\s*[：:]", text):
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


def _role(title: str, lead: str, doc_kind: str | None) -> tuple[str | None, str | None]:
    """Return the department's handling role as the title (…提案协办件的答复, 会办意见)
    or the opening states it, and the words."""
    if match := _TITLE_ROLE.search(title):
        return match.group(1), match.group(0)
    if match := _ROLE.search(lead):
        return match.group(1) or match.group(2), match.group(0)
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
    """Return the proposal numbers printed in the text as written (0045, D022, 温36)."""
    numbers: list[str] = []
    for run in _NUMBER_RUN.finditer(text):
        found = re.findall(_NUMBER, run.group(0))
        if found and (delegation := _DELEGATION.search(text[: run.start()])):
            found[0] = delegation.group(1) + found[0]
        numbers += found
    return list(dict.fromkeys(numbers))


def _year(
    numbers: list[str],
    assembly: Assembly,
    term: int | None,
    session_number: int | None,
    session_label: str | None,
    reply_date: str | None,
    stated: re.Match[str] | None = None,
) -> tuple[int | None, str | None]:
    """Return the year the plenary session met and where that figure came from.

    :param stated: the title's own statement of the year (2023年…八届人大二次会议).
    """
    if stated is not None:
        return int(stated.group(1)), "title"
    this_year = _date.today().year
    for number in numbers:
        if len(number) >= 7 and number[:4].isdigit() and 1990 <= int(number[:4]) <= this_year + 1:
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
    """Read proposers from the salutation: names, count, kind and collective type.

    A unit addressed by name is a collective proposer only if it is a party, an
    association or a body of the assembly; a department addressed is the lead unit a
    co-handling reply goes to, not a proposer.
    """
    if not salutation:
        return [], None, None, None
    parts = salutation_parts(salutation)
    if parts is None:  # a salutation of another form names a unit, if anything
        unit = salutation.rstrip("：:").strip().removeprefix("尊敬的")
        parts = Salutation((unit,), None, None, True)
    if parts.role is None:
        unit = parts.names[0]
        if doc_kind == "co_handling_opinion" or not _COLLECTIVE_HINT.search(unit):
            return [], None, None, None
        kind = next((t for keys, t in _COLLECTIVE_TYPES if any(k in unit for k in keys)), None)
        return [unit], None, "collective", kind
    names = [n for n in parts.names if n not in _NOT_A_NAME]
    if not names:
        return [], None, None, None  # 各位代表：names nobody
    joint = (parts.count or 0) > 1 or len(names) > 1
    return names, parts.count, ("joint" if joint else "individual"), None


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
    return [
        name.strip()
        for p in tail
        if (m := _CC.match(p))
        for name in re.split(r"[，、,；;]", m.group(1))
        if name.strip()
    ]


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
