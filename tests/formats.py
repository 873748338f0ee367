"""Render a reply text into every format replies come in, as test fixtures.

Each renderer takes a reply's text (as in ``data/seed`` or ``data/samples``) and returns
the bytes of a file laid out as such documents are in the wild: a PDF with a text layer
and page numbers, a DOCX with a page header and a table, a government web page in GBK
with navigation, widgets and a metadata table, text in the legacy encodings.
:func:`render` and :func:`write` give every format one call, for checks that loop over
:data:`FORMATS`.

The paragraphs are the project's own cleaning of the text, so a rendered file states
what the text states, laid out as a person would have typed it.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping
from pathlib import Path

import opencc
from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

from reply_archive.archive.clean import clean_text

# Every format :func:`render` knows, and the file suffix each is written with.
FORMATS = ("txt-utf8", "txt-utf8-bom", "txt-gb18030", "txt-utf16", "txt-big5", "pdf", "docx", "html")
SUFFIXES = {name: ".txt" for name in FORMATS if name.startswith("txt")} | {
    "pdf": ".pdf",
    "docx": ".docx",
    "html": ".html",
}
_TEXT_ENCODINGS = {"txt-utf8": "utf-8", "txt-utf8-bom": "utf-8-sig", "txt-gb18030": "gb18030", "txt-utf16": "utf-16"}

_PDF_FONT = "STSong-Light"  # a CID font every PDF reader knows; pypdf extracts it fully
_TITLE_END = ("答复", "办理意见", "会办意见", "函", "摘要")
# A signature date; a page may have lost its 年月日 (2022916).
_DATE_LINE = re.compile(
    r"^(?:(?:\d{4}|[〇○零一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日|(?:19|20)\d{4,6})$"
)


def paragraphs(text: str) -> list[str]:
    """Return the reply's paragraphs, as its author typed them."""
    return clean_text(text)


def title_span(paras: list[str]) -> tuple[int, int]:
    """Return ``(start, end)`` of the title paragraphs: it may be wrapped over two."""
    end = next(i for i, p in enumerate(paras) if p.endswith(_TITLE_END)) + 1
    wrapped = end >= 2 and paras[end - 2].startswith("关于") and not paras[end - 1].startswith("关于")
    start = end - 2 if wrapped else end - 1
    return start, end


def signature_span(paras: list[str]) -> tuple[int, int]:
    """Return ``(start, end)`` of the signature: the signing department and the date."""
    date = max(i for i, p in enumerate(paras) if _DATE_LINE.match(p))
    return date - 1, date + 1


def to_pdf(text: str, *, scanned: bool = False) -> bytes:
    """Return a PDF of the reply, A4, with a text layer and 「— N —」 page numbers.

    :param scanned: draw the pages as shapes only, as a scan without OCR has no text.
    """
    buffer = io.BytesIO()
    if scanned:
        canvas = Canvas(buffer, pagesize=A4, invariant=True)
        for _ in range(2):
            canvas.rect(20 * mm, 20 * mm, 170 * mm, 250 * mm, fill=1)
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()
    pdfmetrics.registerFont(UnicodeCIDFont(_PDF_FONT))
    style = ParagraphStyle("body", fontName=_PDF_FONT, fontSize=15, leading=27, wordWrap="CJK", firstLineIndent=30)

    def page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.setFont(_PDF_FONT, 12)
        canvas.drawCentredString(A4[0] / 2, 15 * mm, f"— {doc.page} —")

    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=True, leftMargin=28 * mm, rightMargin=26 * mm,
                            topMargin=37 * mm, bottomMargin=35 * mm)
    doc.build([Paragraph(html.escape(p), style) for p in paragraphs(text)],
              onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()


def to_docx(text: str, *, page_header: str = "青溪市政协提案办理答复", page_footer: str = "第 1 页") -> bytes:
    """Return a DOCX of the reply: the signature in a borderless table, a page header and footer."""
    paras = paragraphs(text)
    sign_start, sign_end = signature_span(paras)
    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = page_header
    section.footer.paragraphs[0].text = page_footer
    for para in paras[:sign_start]:
        document.add_paragraph(para)
    table = document.add_table(rows=sign_end - sign_start, cols=1)
    for row, para in zip(table.rows, paras[sign_start:sign_end], strict=True):
        row.cells[0].text = para
    for para in paras[sign_end:]:
        document.add_paragraph(para)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DEFAULT_METADATA = {"索引号": "11440304MB2C92110R/2022-00731", "主题分类": "其他", "发布日期": "2022-09-30"}


def to_html(
    text: str,
    *,
    encoding: str = "gbk",
    charset: str | None = "gb2312",
    metadata: Mapping[str, str] | None = None,
    title_in_article: bool = False,
) -> bytes:
    """Return a government web page publishing the reply.

    The page has what such pages have around the text: navigation, a breadcrumb, a
    metadata table (:data:`DEFAULT_METADATA` and the title, or ``metadata``), the title
    as a heading, an info bar with font-size, print and close widgets, share buttons,
    scripts, styles and a footer. By default it is GBK bytes labelled gb2312, as on many
    .gov.cn sites; a Big5 page is in traditional characters.

    :param charset: the label in the page's meta tag; None for no label.
    :param title_in_article: repeat the title inside the article container, as some
        sites do; by default it is only the heading above it.
    """
    paras = paragraphs(text)
    title_start, title_end = title_span(paras)
    title = "".join(paras[title_start:title_end])
    article = paras if title_in_article else paras[:title_start] + paras[title_end:]
    meta = {**DEFAULT_METADATA, "标题": title} if metadata is None else dict(metadata)
    esc = html.escape
    meta_rows = "\n".join(
        f"<tr><td class=\"label\"><b>{esc(' '.join(label) if len(label) == 3 else label)}：</b></td>"
        f"<td>{esc(value)}</td></tr>"
        for label, value in meta.items()
    )
    body = "\n".join(f"<p style=\"text-indent:2em\">{esc(p)}</p>" for p in article)
    head_meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html>
<head>
{head_meta}
<title>{esc(title)}_青溪市人民政府门户网站</title>
<style>body {{ font-family: "宋体"; }} .nav li {{ float: left; }}</style>
<script type="text/javascript">var siteName = "青溪市人民政府"; document.write("脚本写入的文字");</script>
</head>
<body>
<div class="top"><a href="/">青溪市人民政府</a> <a href="/en">English</a> <a href="/wza">无障碍</a></div>
<ul class="nav">
<li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li><li><a href="/zwfw">政务服务</a></li>
<li><a href="/hdjl">互动交流</a></li><li><a href="/jyta">建议提案办理</a></li>
</ul>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; \
<a href="/jyta">建议提案办理</a></div>
<div class="main">
<table class="xxgk-info">
{meta_rows}
</table>
<h1 class="title">{esc(title)}</h1>
<div class="info">发布日期：2022-09-30 来源：青溪市人民政府办公室 浏览次数：1024
字体：[<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>]</div>
<div class="article" id="zoom">
{body}
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a><span>扫一扫在手机打开当前页</span></div>
<div class="tools"><a href="javascript:window.print()">[打印]</a> \
<a href="javascript:window.close()">[关闭窗口]</a></div>
<!-- 统计代码：访问量统计 -->
</div>
<div class="footer">
<p>主办单位：青溪市人民政府办公室 承办：青溪市政务服务数据管理局</p>
<p>网站标识码：0000000000 备案号：青ICP备00000000号</p>
</div>
</body>
</html>
"""
    return (traditional(page) if encoding.startswith("big5") else page).encode(encoding)


def traditional(text: str) -> str:
    """Return the text in traditional characters, as big5 gateway mirrors serve it.

    Big5 has no 〇: dates are written with ○ (U+25CB), as on such pages.
    """
    return opencc.OpenCC("s2tw").convert(text).replace("〇", "○")


def to_big5(text: str) -> bytes:
    """Return the reply in traditional characters, Big5-encoded."""
    return traditional(text).encode("big5")


def render(text: str, fmt: str) -> bytes:
    """Return the reply rendered in one of :data:`FORMATS`."""
    if fmt == "pdf":
        return to_pdf(text)
    if fmt == "docx":
        return to_docx(text)
    if fmt == "html":
        return to_html(text)
    if fmt == "txt-big5":
        return to_big5(text)
    return text.encode(_TEXT_ENCODINGS[fmt])


def write(text: str, fmt: str, folder: Path, stem: str) -> Path:
    """Write the reply rendered in ``fmt`` to ``folder/stem<suffix>``; return the path."""
    path = Path(folder) / f"{stem}{SUFFIXES[fmt]}"
    path.write_bytes(render(text, fmt))
    return path
