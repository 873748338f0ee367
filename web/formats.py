"""The download formats of a table of rows: the hits of a search, a statistics table.

JSON Lines; CSV (UTF-8 with a byte-order mark) and XLSX for spreadsheets, both with
Chinese column headers and every text cell kept as text; RIS, which EndNote,
NoteExpress and Zotero import; BibTeX. Every writer takes rows (dicts) and the columns
to write, and yields bytes: :data:`FORMATS` names each with its media type and file
extension, so a new kind of download gets every format by passing rows through it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from flask import Response
from markupsafe import Markup

from reply_archive.indexer.results import HIT_FIELDS, Hit

from .render import labels, value_label

# Columns of a hit export, in order; lists are joined with 、 in CSV and XLSX.
EXPORT_COLUMNS = (*HIT_FIELDS, "snippet", "url")

Row = Mapping[str, Any]
Writer = Callable[[Iterable[Row], Sequence[str]], Iterator[bytes]]


class Format(NamedTuple):
    """A download format: its writer, media type and file extension."""

    writer: Writer
    mimetype: str
    extension: str


def hit_row(hit: Hit, url: str) -> dict[str, Any]:
    """Return a hit as an export's row: its fields, its first snippet as plain text (the
    passage holding the query's words; empty without words) and the link to it."""
    snippet = Markup(hit.snippets[0].html).striptags() if hit.snippets else ""
    return {**hit.fields(), "snippet": snippet, "url": url}


def column_label(column: str) -> str:
    """Return the Chinese header of a column: a record field's label, or an export column's."""
    names = labels()
    return names["columns"].get(column) or names["fields"].get(column, column)


def jsonl(rows: Iterable[Row], columns: Sequence[str]) -> Iterator[bytes]:
    """Write one JSON object per line, with the columns' own (English) names."""
    for row in rows:
        yield (json.dumps({k: row.get(k) for k in columns}, ensure_ascii=False) + "\n").encode("utf-8")


def _shown(row: Row, columns: Sequence[str]) -> list[object]:
    """Return a row's values as a spreadsheet shows them: a coded value (a channel, a
    document kind, a promise's status) by its label in the interface (政协提案, 已到期)."""
    return [value_label(c, v) if isinstance(v, str) else v for c, v in zip(columns, map(row.get, columns), strict=True)]


def _plain(value: object) -> object:
    """Return a value as a spreadsheet cell holds it: lists joined with 、, None as nothing."""
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    return value


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV
# injection); a leading apostrophe makes it text, as typed text would be.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Text that Excel or Calc turns into something else when it opens a CSV: a number
# (0087 loses its zero, a 16-digit id its last digits, 1e5 becomes 100000, 1,234 and
# (5) and 50% and ¥5 are numbers too), a date or time (1/2, 3-4, 2023-06-15, 6月15日,
# 12:30), a fraction (1 1/2) or a truth value (TRUE).
_CONVERTED = re.compile(
    r"""[$¥￥€£]?\(?[+-]?(?:\d[\d,]*\.?\d*|\.\d+)(?:e[+-]?\d+)?%?\)?
      | \d+\s+\d+/\d+
      | \d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?(?:[\sT]+\d{1,2}:\d{2}(?::\d{2})?)?
      | \d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?m\.?)?
      | (?:\d{1,4}年)?\d{1,2}月(?:\d{1,2}日)? | \d{1,4}年
      | (?:\d{1,2}[-\s])?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[-\s]\d{1,4}
      | true | false""",
    re.IGNORECASE | re.VERBOSE,
)


def _converted(text: str) -> bool:
    """Tell whether a spreadsheet would read the text as a number, date or truth value."""
    return _CONVERTED.fullmatch(text.strip()) is not None


def _csv_cell(value: object) -> object:
    """Return a value as a CSV cell that opens in a spreadsheet as the text it is.

    Text a spreadsheet would run as a formula gets a leading apostrophe. Text it would
    turn into a number or a date gets a leading tab: the only mark that survives both
    Excel and Calc. ``="0087"`` is a formula (Calc 7.4 imports it as one; it is what
    the apostrophe above defuses), an apostrophe is kept as a visible character by
    both, a leading space is trimmed by Calc before reading the number (``␠0087`` opens
    as 87); a tab is kept as text by Calc (checked with LibreOffice 7.4, US and Chinese
    locales, special numbers on and off) and stops Excel's conversion too. The tab is
    invisible in the cell; every such cell is quoted, so a reader that also splits on
    tabs keeps it whole. Programs should read JSON Lines, which carries values as they are.
    """
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, str):
        if value.startswith(_FORMULA_START):
            return "'" + value
        if _converted(value):
            return "\t" + value
    return value


def csv_rows(rows: Iterable[Row], columns: Sequence[str]) -> Iterator[bytes]:
    """Write CSV with a header row of Chinese column labels."""
    # The byte-order mark makes Excel open the file as UTF-8 rather than the locale's GBK.
    yield "\ufeff".encode("utf-8")
    buffer = io.StringIO()
    # Every text cell quoted (numbers, such as a year or a count, are not): the tab of a
    # protected cell stays inside its cell whatever separators a spreadsheet splits on.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([column_label(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in _shown(row, columns)])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


# XML 1.0 allows tab, line feed, carriage return and these ranges only: anything else
# (control characters, lone surrogates, U+FFFE) would make the workbook unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# OOXML reads _xHHHH_ in a string as the character HHHH; an underscore written as
# _x005F_ keeps a literal _x0041_ as typed.
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CELL_CHARS = 32767  # the most a cell holds (Excel); longer text is cut rather than refused
_MIN_WIDTH, _MAX_WIDTH = 6, 60  # column widths, in characters of the default font
_WIDTH_SAMPLE = 500  # rows measured for the column widths

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SHEET_NAME = "数据"
# Styles: 0 plain, 1 the header row (bold, shaded), 2 text that would be mistaken for a
# number or formula, marked quotePrefix as when typed with an apostrophe, so that it
# stays text when the cell is edited.
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="等线"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8ECF2"/><bgColor indexed="64"/></patternFill></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_PARTS = {
    "[Content_Types].xml": (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": _STYLES,
}


def _xml_text(text: str) -> str:
    """Return text as the content of an XML element: illegal characters dropped, escaped."""
    return escape(_OOXML_ESCAPE.sub(r"_x005F_\1", _NOT_XML.sub("", text))[:_CELL_CHARS])


def _column_name(index: int) -> str:
    """Return the letters of a 0-based column index: A, B, … Z, AA …"""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _xlsx_cell(ref: str, value: object, style: int = 0) -> str:
    """Return one cell: a number for a true number, inline text for everything else."""
    value = _plain(value)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = str(value)
    if not style and (text.startswith(_FORMULA_START) or _converted(text)):
        style = 2
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'


def _width(text: str) -> int:
    """Return how many columns of the default font a text takes: CJK characters two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet(rows: Iterable[Row], columns: Sequence[str]) -> tuple[str, str]:
    """Return the worksheet (a frozen header row, measured column widths, a filter) and
    the reference of its last cell."""
    header = [column_label(c) for c in columns]
    names = [_column_name(i) for i in range(len(columns))]
    widths = [_width(h) for h in header]
    lines = ['<row r="1">' + "".join(_xlsx_cell(f"{n}1", h, 1) for n, h in zip(names, header, strict=True)) + "</row>"]
    for number, row in enumerate(rows, start=2):
        values = _shown(row, columns)
        if number - 1 <= _WIDTH_SAMPLE:
            for i, value in enumerate(values):
                if value is not None:
                    widths[i] = max(widths[i], _width(str(_plain(value))))
        cells = "".join(_xlsx_cell(f"{n}{number}", v) for n, v in zip(names, values, strict=True))
        lines.append(f'<row r="{number}">{cells}</row>')
    last = f"{names[-1]}{len(lines)}"
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH)}" customWidth="1"/>'
        for i, w in enumerate(widths, start=1)
    )
    sheet = (
        f'{_XML}<worksheet xmlns="{_NS}" xmlns:r="{_REL_NS}"><dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f'<sheetData>{"".join(lines)}</sheetData><autoFilter ref="A1:{last}"/></worksheet>'
    )
    return sheet, f"${names[-1]}${len(lines)}"


def _workbook(last: str) -> str:
    """Return the workbook: its one sheet, and the range its filter covers (as Excel writes it)."""
    area = escape(f"'{_SHEET_NAME}'!$A$1:{last}")
    return (
        f'{_XML}<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}">'
        f'<sheets><sheet name={quoteattr(_SHEET_NAME)} sheetId="1" r:id="rId1"/></sheets>'
        f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{area}</definedName>'
        "</definedNames></workbook>"
    )


def xlsx(rows: Iterable[Row], columns: Sequence[str]) -> Iterator[bytes]:
    """Write an Excel workbook (Office Open XML), with the standard library alone.

    One sheet: a header row of Chinese column labels, frozen and with a filter; text
    cells as text (ids and numbers with leading zeros stay as they are, and a cell
    that starts with = is text, never a formula), numbers as numbers.
    """
    sheet, last = _sheet(rows, columns)
    parts = {**_PARTS, "xl/workbook.xml": _workbook(last), "xl/worksheets/sheet1.xml": sheet}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            # A fixed time: the same rows give the same bytes (the CLI and the web agree).
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    yield buffer.getvalue()


# A line break inside a value would start a tag of its own (ER  - ends a record): every
# kind is flattened to a space, so a title cannot forge records.
_RIS_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")


def ris(rows: Iterable[Row], columns: Sequence[str]) -> Iterator[bytes]:
    """Write RIS records (type GOVDOC), one per hit: EndNote, NoteExpress and Zotero import them."""
    for row in rows:
        lines = [("TY", "GOVDOC"), ("TI", row["title"]), ("AU", row.get("department") or "")]
        if row.get("proposal_title"):
            lines.append(("T2", row["proposal_title"]))
        if row.get("date"):
            lines.append(("DA", row["date"].replace("-", "/")))
        if row.get("year"):
            lines.append(("PY", str(row["year"])))
        if row.get("proposal_numbers"):
            lines.append(("M1", "、".join(row["proposal_numbers"])))
        if row.get("qualified_session"):
            lines.append(("N1", f"届次：{row['qualified_session']}"))
        lines += [("UR", row["url"]), ("ID", row["id"]), ("LA", "zh-CN"), ("ER", "")]
        text = "".join(f"{tag}  - {_RIS_BREAK.sub(' ', value)}\r\n" for tag, value in lines if value or tag == "ER")
        yield text.encode("utf-8")


# What TeX reads as markup in a field; each is written as the character it is.
_BIBTEX_SPECIAL = {
    "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#", "_": r"\_",
    "\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_BIBTEX_MARKUP = re.compile("|".join(map(re.escape, _BIBTEX_SPECIAL)))


def _bibtex_text(value: str) -> str:
    """Return text as a BibTeX field's value: on one line, without control characters,
    TeX's special characters escaped."""
    text = " ".join("".join(ch for ch in value if unicodedata.category(ch) != "Cc" or ch.isspace()).split())
    return _BIBTEX_MARKUP.sub(lambda m: _BIBTEX_SPECIAL[m[0]], text)


def bibtex(rows: Iterable[Row], columns: Sequence[str]) -> Iterator[bytes]:
    """Write BibTeX entries (``@misc``, biblatex's fields), one per hit.

    The department is a corporate author, in double braces so that no style splits it
    into given and family names; ``note`` holds the proposal numbers, with the channel's
    label (政协提案, 人大建议) when the row has one.
    """
    today = date.today().isoformat()
    for row in rows:
        fields: list[tuple[str, str]] = []
        if row.get("department"):
            fields.append(("author", "{" + _bibtex_text(row["department"]) + "}"))
        fields.append(("title", _bibtex_text(row["title"])))
        if row.get("year"):
            fields.append(("year", str(row["year"])))
        if row.get("date"):
            fields.append(("date", row["date"]))
        fields += [("url", row["url"]), ("urldate", today)]
        if row.get("proposal_numbers"):
            numbers = "、".join(row["proposal_numbers"])
            channel = row.get("channel")
            note = f"第{numbers}号{value_label('channel', channel)}" if channel else f"提案（建议）号：{numbers}"
            fields.append(("note", _bibtex_text(note)))
        fields.append(("langid", "chinese"))
        key = "reply-" + re.sub(r"[^0-9A-Za-z]", "", row["id"])
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        yield f"@misc{{{key},\n{body}\n}}\n\n".encode()


FORMATS: dict[str, Format] = {
    "jsonl": Format(jsonl, "application/x-ndjson", "jsonl"),
    "csv": Format(csv_rows, "text/csv", "csv"),
    "xlsx": Format(xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ris": Format(ris, "application/x-research-info-systems", "ris"),
    "bibtex": Format(bibtex, "application/x-bibtex", "bib"),
}
# The formats of a plain table (statistics, the commitments ledger): those that write any columns.
TABLE_FORMATS = ("csv", "xlsx")


# A name part keeps no path separator, quote, or character Windows refuses in a name.
_NAME_UNSAFE = re.compile(r"[/\\:*?\"'<>|`]")
_NAME_PART_CHARS = 24  # of the query and of each filter
_NAME_CHARS = 72  # of the whole name before its date


def name_part(text: str) -> str:
    """Return text as (part of) a file name: no control, format or unsafe characters, no spaces."""
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in _NAME_UNSAFE.sub(" ", text))
    part = "-".join(kept.split()).strip(".-")
    return part if len(part) <= _NAME_PART_CHARS else part[: _NAME_PART_CHARS - 1] + "…"


def download_name(subject: str, q: str, filters: Mapping[str, Sequence[str]], *, today: date | None = None) -> str:
    """Return the name (without extension) of a download that says what it holds.

    ``答复检索_养老_2023_青溪市民政局_2024-05-01``: the subject, the query's words
    (全部 without any), the values of the filters as far as the name's length allows,
    today's date.
    """
    parts = [name_part(subject), name_part(q) or "全部"]
    for values in filters.values():
        part = name_part("、".join(values))
        if part and len("_".join([*parts, part])) <= _NAME_CHARS:
            parts.append(part)
    return "_".join([*parts, (today or date.today()).isoformat()])


def content_disposition(filename: str) -> str:
    """Return an attachment's ``Content-Disposition``: the name in UTF-8 (RFC 5987) and
    an ASCII one for clients that read only ``filename``."""
    stem, dot, extension = filename.rpartition(".")
    ascii_parts = [re.sub(r"[^0-9A-Za-z.-]+", "", part).strip(".-") for part in (stem or extension).split("_")]
    fallback = "_".join(["reply-archive", *filter(None, ascii_parts)]) + (dot + extension if stem else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(body: Iterable[bytes], mimetype: str, filename: str) -> Response:
    """Return a response the browser saves as ``filename`` (any name: it is encoded here)."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename)})


def send(fmt: str, rows: Iterable[Row], columns: Sequence[str], name: str) -> Response:
    """Return rows written in one of :data:`FORMATS` as an attachment named ``name`` and
    the format's extension (:func:`download_name` says what a download holds)."""
    chosen = FORMATS[fmt]
    return download(chosen.writer(rows, columns), chosen.mimetype, f"{name}.{chosen.extension}")
