"""Render a record's Markdown to HTML that is safe to put in a page.

``markdown`` passes raw HTML through untouched (``<script>``, ``onerror=``,
``javascript:`` links), so its output is cleaned with nh3 against an explicit allowlist
before it reaches a template.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import cache
from typing import Any

import markdown
import nh3
from markupsafe import Markup, escape

from reply_archive import data
from reply_archive.archive.model import Reply
from reply_archive.archive.store import markdown_blocks
from reply_archive.indexer.highlight import mark_html

_TAGS = {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "blockquote",
         "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "a", "br", "hr"}
_ATTRIBUTES = {"a": {"href", "title"}, **{f"h{n}": {"id"} for n in range(2, 7)}}
_SECTION_ID = re.compile(r"^sec(_\d+)?$")


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    # Heading ids are ours (sec, sec_1, …); any other id could clobber page elements.
    if attr == "id" and not _SECTION_ID.match(value):
        return None
    return value


def reply_html(reply: Reply, needles: tuple[str, ...] = ()) -> tuple[Markup, int]:
    """Return the reply's body as sanitised HTML and the number of marked matches.

    Headings are anchored by section index, ``sec``, ``sec_1``… (as the table of
    contents links them), paragraphs ``p-1``, ``p-2``… by passage number (stable links
    for citations, the numbers precedents cite: :func:`archive.model.passage_numbers`);
    the needles of a search are marked ``m-1``, ``m-2``….
    """
    # The headings Markdown makes are the sections the body holds, in order, and toc
    # asks for their ids in that order. Ids follow the section index, not the count of
    # headings, so a section the body lacks moves no link; an id of "" (for a heading
    # that is no section) becomes one the sanitiser drops.
    anchors = (_section_anchor(idx) for idx in reply.heading_paragraphs.values())
    converter = markdown.Markdown(
        extensions=["toc"],
        extension_configs={"toc": {"slugify": lambda value, separator: next(anchors, "")}},
    )
    # Each paragraph is its own block, so each is converted alone and anchored by its
    # own number, whatever HTML it becomes (a paragraph, a table, a list).
    signed = {f"<p>{escape(line)}</p>" for line in (reply.department_raw, reply.date_raw) if line}
    blocks = []
    for block, number in zip(markdown_blocks(reply), reply.passage_numbers, strict=True):
        html = _sanitised(converter.reset().convert(block))
        if html in signed:  # the signature and date close the document flush right, as on paper
            html = html.replace("<p>", '<p class="signature">', 1)
        if number is not None:
            html = _FIRST_TAG.sub(rf'<\1 id="p-{number}"', html, count=1)
        blocks.append(html)
    marked, count = mark_html("\n".join(blocks), needles)
    return Markup(marked), count


def _sanitised(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
    )


_FIRST_TAG = re.compile(r"^<(p|table|ul|ol|blockquote|pre)\b")


def _section_anchor(section_idx: int) -> str:
    """Return the id of a section's heading on the reply page."""
    return f"sec_{section_idx}" if section_idx else "sec"


def citation(reply: Reply, permalink: str, *, cited: date | None = None) -> str:
    """Return the reply's reference in the form of GB/T 7714-2015, ending with its link.

    ``青溪市民政局. 关于市政协十二届一次会议第0087号提案的答复[A/OL]. (2023-06-15)[2026-12-01].
    https://…/replies/<id>``: the issuing department (the canonical name; 佚名 when the
    reply is unsigned), the title as the reply prints it, the 文号 as other title
    information after a colon when it has one, the type, the date it was signed in
    parentheses, the date it was cited (``cited``, today) in brackets, the permanent link.

    The type is A (档案) on the carrier OL: a reply is an official document (公文) issued
    by a department, and the standard codes its own example of an official document read
    online, a government office's 通知 with its 文号, as [A/OL]. EB (电子公告) is for a
    text that exists only as a posting on a site, which a reply is not (the site only
    carries it), and Z (其他) for a kind no code names. The standard puts titles in no
    《》, so a title holding 《》 nests none. The closing full stop, which the standard
    makes optional, is left off: the entry ends with its link, and the copy buttons
    append a paragraph's anchor (``#p-3``) to it.
    """
    title = reply.title + (f": {reply.doc_number}" if reply.doc_number else "")
    signed = f"({reply.date})" if reply.date else ""
    return (
        f"{reply.department or reply.department_raw or '佚名'}. {title}[A/OL]. "
        f"{signed}[{(cited or date.today()).isoformat()}]. {permalink}"
    )


@cache
def labels() -> dict[str, Any]:
    """Return the Chinese display labels of fields, values and facets."""
    with data.path("tables", "labels.toml").open("rb") as fh:
        return tomllib.load(fh)


def value_label(field: str, value: str) -> str:
    """Return how a coded value of a field or facet reads in the interface (cppcc → 政协提案,
    overdue → 已到期); a value without a label reads as itself."""
    return labels()["values"].get(field, {}).get(value, value)


# The metadata panel, in reading order; empty fields are left out.
_PANEL = ("channel", "doc_kind", "proposal_numbers", "proposal_class", "class_seq", "session_label", "is_interim",
          "assembly", "year", "year_source", "proposal_title", "proposers", "proposer_count", "proposer_kind",
          "collective_type", "department", "department_raw", "department_role", "role_evidence", "co_departments",
          "partial_scope", "result_raw", "resolution_level", "result_scheme", "doc_number", "signer", "disclosure",
          "date", "contact", "cc", "attachments", "topic", "topics", "topic_source", "script", "source")


def metadata_rows(reply: Reply) -> list[tuple[str, str]]:
    """Return ``(label, text)`` rows for every field the record has."""
    names = labels()["fields"]
    values = labels()["values"]
    rows = []
    for field in _PANEL:
        value = getattr(reply, field)
        if field == "assembly":
            level = values["assembly_level"].get(value.level or "", "")
            text = f"{value.region}（{level}）" if value.region and level else value.region or level
        elif field == "source":
            text = f"{value.file}（{value.format}，解析器 {value.parser_version}）" if value else ""
        elif field == "partial_scope":
            text = "是（仅答复涉及本单位职能的部分）" if value else ""
        elif isinstance(value, (list, tuple)):
            text = "、".join(str(v) for v in value)
        elif field in values:
            text = value_label(field, str(value)) if value else ""
        else:
            text = "" if value is None else str(value)
        if text:
            rows.append((names[field], text))
    return rows


def warning_text(code: str) -> str:
    """Return a parser warning code (``missing:date``…) worded for readers."""
    kind, _, detail = code.partition(":")
    template = labels()["warnings"].get(kind)
    if template is None:
        return code
    if kind == "missing":
        detail = labels()["fields"].get(detail, detail)
    return template.format(detail=detail)
