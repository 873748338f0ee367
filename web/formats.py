"""The download formats of a list of hits and of a statistics table.

JSON Lines, CSV (UTF-8 with a byte-order mark, for Excel) and RIS (for reference
managers such as Zotero and EndNote). Every writer takes rows (dicts) and the columns
to write, and yields text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import Response

from reply_archive.indexer.results import HIT_FIELDS

# Columns of a hit export, in order; lists are joined with 、 in CSV.
EXPORT_COLUMNS = (*HIT_FIELDS, "url")

Writer = Callable[[Iterable[dict], Sequence[str]], Iterator[str]]


def jsonl(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    """Write one JSON object per line."""
    for row in rows:
        yield json.dumps({k: row.get(k) for k in columns}, ensure_ascii=False) + "\n"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV
# injection); a leading apostrophe makes it text, as typed text would be.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Return a value as a CSV cell: lists joined with 、, text that a spreadsheet would
    run as a formula made inert."""
    if isinstance(value, (list, tuple)):
        value = "、".join(map(str, value))
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_rows(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    """Write CSV with a header row."""
    # The byte-order mark makes Excel open the file as UTF-8 rather than the locale's GBK.
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in map(row.get, columns)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# A line break inside a value would start a tag of its own (ER  - ends a record): every
# kind is flattened to a space, so a title cannot forge records.
_RIS_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")


def ris(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    """Write RIS records (type GOVDOC), one per hit."""
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
        if row.get("session_label"):
            lines.append(("N1", f"届次：{row['session_label']}"))
        lines += [("UR", row["url"]), ("ID", row["id"]), ("LA", "zh-CN"), ("ER", "")]
        yield "".join(f"{tag}  - {_RIS_BREAK.sub(' ', value)}\r\n" for tag, value in lines if value or tag == "ER")


# Each format: its writer, media type and file extension.
FORMATS: dict[str, tuple[Writer, str]] = {
    "jsonl": (jsonl, "application/x-ndjson"),
    "csv": (csv_rows, "text/csv"),
    "ris": (ris, "application/x-research-info-systems"),
}


def download(body: Iterable[str], mimetype: str, filename: str) -> Response:
    """Return a response the browser saves as ``filename``."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})
