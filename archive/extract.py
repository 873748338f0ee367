"""Turn a source file into text: plain text in any Chinese encoding, PDF, DOCX, legacy
Word .doc, web pages saved from government sites, and archive records.

One entry point, :func:`extract`. Each reader leaves out what its format marks as
furniture (DOCX page headers and footers; a web page's navigation, widgets and footer)
and keeps the rest for cleaning, which also sees a PDF's page breaks as form feeds.
Every refusal is a :class:`ParseError` naming the file and the reason.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import shutil
import stat
import subprocess
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
import docx
import lxml.html
import pypdf
from docx.text.paragraph import Paragraph
from lxml import etree

from . import ocr
from .clean import CJK
from .errors import ParseError
from .layout import METADATA_LABELS, PAGE_LABELS, label_pattern
from .text import bom_encoding

# A reply is tens of kilobytes as text and a few megabytes as a PDF with its fonts; a
# larger file is not one reply, and reading it whole could exhaust memory.
MAX_SOURCE_BYTES = 20 * 1024 * 1024
# A DOCX is a ZIP archive that python-docx unpacks in memory: refuse a "ZIP bomb".
MAX_UNPACKED_BYTES = 10 * MAX_SOURCE_BYTES
# Converters for legacy .doc run as child processes; a hung one must not stall a batch.
CONVERTER_TIMEOUT = 120

TEXT_SUFFIXES = (".txt", ".text")
RECORD_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml", ".jhtml")
IMAGE_FORMATS = ("png", "jpg", "tif")  # page images, read by OCR
_FORMATS = {
    **dict.fromkeys(TEXT_SUFFIXES, "txt"),
    **dict.fromkeys(RECORD_SUFFIXES, "md"),
    **dict.fromkeys(HTML_SUFFIXES, "html"),
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".png": "png",
    **dict.fromkeys((".jpg", ".jpeg"), "jpg"),
    **dict.fromkeys((".tif", ".tiff"), "tif"),
}
# The content decides over the name: a .doc that is really a DOCX (or a PDF saved as
# .txt, a JPEG saved as .png) is read as what it is.
_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "doc"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
)

# GB2312 and GBK are subsets of GB18030, and pages labelled gb2312 routinely hold
# GBK-only characters (镕, —) that Python's gb2312 codec refuses: read them all as GB18030.
_GB_LABELS = {"gb2312", "gb_2312", "gb_2312-80", "gbk", "x-gbk", "cp936", "csgb2312", "chinese", "euc-cn", "gb18030"}
_DETECTED = ["gb18030", "big5"]  # what a Chinese text without BOM, not UTF-8, can be
_DECLARED_CHARSET = re.compile(rb"""(?:<meta[^>]+charset|<\?xml[^>]+encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


@dataclass(frozen=True)
class Extracted:
    """A source file's text and how it was obtained."""

    raw: bytes = field(repr=False)  # the file's bytes, hashed and kept in the archive
    text: str
    format: str  # txt | md | pdf | docx | doc | html | png | jpg | tif
    encoding: str | None = None
    converter: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # a web page's metadata table
    ocr_confidence: tuple[float, ...] | None = None  # per page, when the text was read by OCR

    @property
    def sha256(self) -> str:
        """Return the hex digest of the source bytes."""
        return hashlib.sha256(self.raw).hexdigest()


def extract(
    path: Path,
    name: str | None = None,
    *,
    ocr_cache: Path | None = None,
    ocr_progress: Callable[[int, int], None] | None = None,
) -> Extracted:
    """Read one source file and return its text.

    :param name: the name to report in errors (default: the file name).
    :param ocr_cache: the folder caching the text OCR read from scanned pages.
    :param ocr_progress: called with (pages done, pages) while pages are read by OCR.
    :raise ParseError: for an unreadable, oversized, unsupported or damaged file.
    """
    path = Path(path)
    name = name or path.name
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(_FORMATS))
        raise ParseError(name, f"unsupported format {path.suffix or '(no suffix)'}: the readable ones are {supported}")
    raw = read_bytes(path, name)
    fmt = next((magic_fmt for magic, magic_fmt in _MAGIC if raw.startswith(magic)), fmt)
    if fmt == "pdf":
        return _pdf(raw, name, ocr_cache, ocr_progress)
    if fmt in IMAGE_FORMATS:
        return _ocr(raw, fmt, name, ocr_cache, ocr_progress)
    if fmt == "docx":
        return _docx(raw, name)
    if fmt == "doc":
        return _doc(path, raw, name)
    if fmt == "html":
        return _html(raw, name)
    text, encoding = decode(raw, name)
    return Extracted(raw, text, fmt, encoding)


def read_bytes(path: Path, name: str) -> bytes:
    """Return a regular file's bytes, refusing anything over :data:`MAX_SOURCE_BYTES`.

    :raise ParseError: for a missing, unreadable, special or oversized file.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(name, "not a regular file")  # a FIFO or a device would block or never end
        if info.st_size > MAX_SOURCE_BYTES:
            raise ParseError(name, _too_large(info.st_size))
        with path.open("rb") as fh:
            raw = fh.read(MAX_SOURCE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise ParseError(name, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise ParseError(name, _too_large(len(raw)))
    if not raw:
        raise ParseError(name, "empty file (0 bytes)")
    return raw


def _too_large(size: int) -> str:
    return f"too large ({size / 2**20:.1f} MiB); sources over {MAX_SOURCE_BYTES // 2**20} MiB are refused"


def decode(raw: bytes, name: str, declared: str | None = None) -> tuple[str, str]:
    """Decode text bytes; return ``(text, encoding)``.

    A byte-order mark decides outright, then a charset the file declares (if the bytes
    agree with it), then strict UTF-8; otherwise the encoding is detected between
    GB18030 and Big5. UTF-8 is tried before detection because it is unambiguous, and
    GB18030 is never merely tried: it decodes almost any bytes, Big5 included, into
    silent mojibake.

    :raise ParseError: for binary data or bytes in no encoding a reply comes in.
    """
    if encoding := bom_encoding(raw):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise ParseError(name, f"starts with a {encoding} byte-order mark but does not decode: {exc}") from None
    if b"\x00" in raw[:4096]:
        raise ParseError(name, "binary data (NUL bytes), not a text file")
    for encoding in dict.fromkeys(filter(None, (_codec(declared), "utf-8"))):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(raw, cp_isolation=_DETECTED).best()
    if best is None:
        raise ParseError(name, "unknown text encoding (tried UTF-8, UTF-16, GB18030 and Big5)")
    encoding = _codec(best.encoding) or best.encoding
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        reason = f"looks like {encoding} but byte {exc.start} does not decode (mixed or damaged encoding)"
        raise ParseError(name, reason) from None


def _codec(label: str | None) -> str | None:
    """Return the Python codec for a charset label, GB family read as GB18030; None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _GB_LABELS:
        return "gb18030"
    try:
        codec = codecs.lookup(label)
    except LookupError:
        return None
    # rot13, base64 and the like are codecs too, but not text encodings of bytes.
    return codec.name if getattr(codec, "_is_text_encoding", True) else None


# --- PDF ---------------------------------------------------------------------------

log = logging.getLogger(__name__)

# pypdf tells what it repairs or cannot read through logging ("EOF marker not found"):
# left alone, each message reaches stderr bare, naming no file. They are kept for the
# PDF being read instead: a damaged file's reason then says what pypdf found, and a
# file read in spite of them logs them here, with its name.
_pdf_messages: ContextVar[list[str] | None] = ContextVar("pdf_messages", default=None)


class _KeepPdfMessages(logging.Handler):
    """Keep pypdf's messages for the PDF being read (else log them here)."""

    def emit(self, record: logging.LogRecord) -> None:
        messages = _pdf_messages.get()
        if messages is None:  # pypdf used by other code of the process
            log.warning("pypdf: %s", record.getMessage())
        else:
            messages.append(record.getMessage())


_pypdf_log = logging.getLogger("pypdf")
_pypdf_log.addHandler(_KeepPdfMessages())
_pypdf_log.propagate = False


def _pdf(raw: bytes, name: str, ocr_cache: Path | None, ocr_progress: Callable[[int, int], None] | None) -> Extracted:
    """Return a PDF's text layer, pages joined by form feeds; a scan's pages read by OCR."""
    messages: list[str] = []
    token = _pdf_messages.set(messages)
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        # Many official PDFs are encrypted only to restrict copying or printing: their
        # user password is empty and any viewer opens them.
        locked = reader.is_encrypted and not reader.decrypt("")
        pages = [] if locked else [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises all kinds (KeyError, ValueError…) on damaged files
        found = "; ".join(dict.fromkeys([*messages, str(exc)]))
        raise ParseError(name, f"damaged PDF, cannot be read: {found}") from None
    finally:
        _pdf_messages.reset(token)
    for message in dict.fromkeys(messages):
        log.warning("%s: %s", name, message)
    if locked:
        raise ParseError(name, "PDF is protected by a password; remove the protection (or print to a new PDF) first")
    # A page's text ends with a line break; left in, it would read as a paragraph break
    # before the page boundary even inside a sentence that runs on to the next page.
    text = "\f".join(page.strip("\r\n") for page in pages)
    if not usable_text_layer(pages):
        return _ocr(raw, "pdf", name, ocr_cache, ocr_progress, pages=len(pages))
    return Extracted(raw, text, "pdf", converter=f"pypdf {pypdf.__version__}")


# A reply's page holds hundreds of Chinese characters; a text layer with a few per page
# (page numbers, a stamp's caption) or mostly other signs is a scan's, or a font's
# broken character map: private-use code points, replacement characters, controls.
_MIN_CJK_PER_PAGE = 20
_MIN_CJK_SHARE = 0.3
_MAX_JUNK_SHARE = 0.1
_JUNK = re.compile("[\ue000-\uf8ff\ufffd\x00-\x08\x0b\x0e-\x1f]")


def usable_text_layer(pages: list[str]) -> bool:
    """Return True when a PDF's page texts read as a Chinese reply, not as a scan's or
    a garbled layer."""
    text = "".join(pages)
    signs = sum(1 for ch in text if not ch.isspace())
    cjk = len(_CJK_CHAR.findall(text))
    return (
        cjk >= _MIN_CJK_PER_PAGE * max(len(pages), 1)
        and cjk >= _MIN_CJK_SHARE * signs
        and len(_JUNK.findall(text)) <= _MAX_JUNK_SHARE * signs
    )


def _ocr(
    raw: bytes,
    fmt: str,
    name: str,
    cache: Path | None,
    progress: Callable[[int, int], None] | None,
    pages: int | None = None,
) -> Extracted:
    """Return the text OCR reads from a scanned PDF's pages or an image file's."""
    what = "scanned PDF (no usable text layer)" if fmt == "pdf" else "page image"
    try:
        total = pages if pages is not None else ocr.image_count(raw)
        if total > ocr.MAX_PAGES:
            raise ParseError(name, f"{total} pages to read by OCR: a scan of over {ocr.MAX_PAGES} pages is no reply")
        reader = ocr.engine()
        images = ocr.pdf_page_images(raw) if fmt == "pdf" else ocr.image_pages(raw)
        read = ocr.ocr_pages(images, reader, cache=cache, total=total, progress=progress)
    except ParseError as exc:
        raise ParseError(name, exc.message if exc.source == name else f"{what}; {exc.message}") from None
    text = ocr.page_text(read)
    if not any(ch.isalpha() for ch in text):  # page numbers alone are no text
        raise ParseError(name, f"{what}, but OCR found no text on its {total} page(s)")
    return Extracted(raw, text, fmt, converter=f"{reader.name} {reader.version} (OCR)",
                     ocr_confidence=tuple(page.confidence for page in read))


# --- DOCX --------------------------------------------------------------------------


def _docx(raw: bytes, name: str) -> Extracted:
    """Return a DOCX's body text: paragraphs and tables in document order.

    Page headers and footers live outside the body and are left out: they are page
    furniture (running titles, page numbers), not the reply.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ParseError(name, "not a DOCX file (not a ZIP archive); a legacy Word file must be named .doc") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ParseError(name, f"DOCX unpacks to {unpacked / 2**20:.0f} MiB; refused as a ZIP bomb")
    try:
        document = docx.Document(io.BytesIO(raw))
        text = "\n".join(_docx_lines(document))
    except Exception as exc:  # python-docx and lxml raise many kinds on damaged parts
        raise ParseError(name, f"damaged or not a Word DOCX, cannot be read: {exc}") from None
    return Extracted(raw, text, "docx", converter=f"python-docx {docx.__version__}")


def _docx_lines(container: docx.document.Document | docx.table._Cell) -> Iterator[str]:
    """Yield the lines of a document body or table cell, tables included, in order."""
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
            continue
        # A merged cell is returned once for every grid position it spans, across
        # columns and down rows: read each underlying <w:tc> once. The set holds the
        # elements themselves, which keeps their lxml proxies (and so identities) alive.
        seen: set[object] = set()
        for row in block.rows:
            cells = []
            for cell in row.cells:
                if cell._tc not in seen:
                    seen.add(cell._tc)
                    cells.append("\n".join(_docx_lines(cell)))
            # Cells of a row share a line, tab-separated, as in the web page reader; a
            # cell holding several paragraphs keeps them as lines.
            if cells:
                yield "\t".join(cells)


# --- legacy Word .doc -------------------------------------------------------------


def _doc(path: Path, raw: bytes, name: str) -> Extracted:
    """Convert a Word 97–2003 .doc with antiword, or LibreOffice when that is all there is."""
    if antiword := shutil.which("antiword"):
        # -w 0: no wrapping at 80 columns; -m UTF-8.txt: UTF-8 output, not Latin-1.
        output = _convert([antiword, "-w", "0", "-m", "UTF-8.txt", str(path.absolute())], "antiword", name)
        return Extracted(raw, _utf8(output, "antiword", name), "doc", converter="antiword")
    if soffice := shutil.which("soffice") or shutil.which("libreoffice"):
        with tempfile.TemporaryDirectory() as tmp:
            # A profile of its own, so a LibreOffice the user has open does not swallow
            # the call; the UTF8 filter option, since the plain Text filter writes the
            # locale's encoding.
            profile = Path(tmp, "profile").as_uri()
            command = [soffice, f"-env:UserInstallation={profile}", "--headless",
                       "--convert-to", "txt:Text (encoded):UTF8", "--outdir", tmp, str(path.absolute())]
            _convert(command, "LibreOffice", name)
            converted = Path(tmp, f"{path.stem}.txt")
            if not converted.is_file():
                raise ParseError(name, "LibreOffice wrote no text; is it a Word document?")
            output = converted.read_bytes()
        return Extracted(raw, _utf8(output, "LibreOffice", name).lstrip("\ufeff"), "doc", converter="libreoffice")
    raise ParseError(
        name,
        "legacy Word .doc needs a converter: install antiword (apt-get install antiword) or LibreOffice, "
        "or open the file in Word or WPS and save it as .docx",
    )


def _convert(command: list[str], tool: str, name: str) -> bytes:
    """Run a converter; return its standard output."""
    try:
        done = subprocess.run(command, capture_output=True, timeout=CONVERTER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ParseError(name, f"{tool} did not finish within {CONVERTER_TIMEOUT} s") from None
    except OSError as exc:
        raise ParseError(name, f"cannot run {tool}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ParseError(name, f"{tool} could not read it: {reason[0] if reason else f'exit status {done.returncode}'}")
    return done.stdout


def _utf8(output: bytes, tool: str, name: str) -> str:
    try:
        return output.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(name, f"{tool} output is not UTF-8 (byte {exc.start})") from None


# --- web pages ---------------------------------------------------------------------
#
# lxml, not the standard library's html.parser: python-docx needs it already, it builds
# a tree that can be pruned and scored (html.parser only streams tags, so a tree would be
# code of ours), and it is faster: measured on a 5.3 MB page, 44 ms to a tree against
# 303 ms for html.parser to merely tokenize. It is always given a str decoded here: on
# GBK bytes labelled gb2312 it stops at the first GBK-only character (deps.md §4).

# Never text of the page.
_INVISIBLE = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head",
              "input", "select", "textarea", "button")
# Page furniture by its HTML5 role.
_FURNITURE_TAGS = ("nav", "header", "footer", "aside")
_HIDDEN = "//*[contains(translate(@style, ' ', ''), 'display:none')]"
# Elements that begin a line; table cells share their row's line, tab-separated.
_LINE_TAGS = frozenset(
    "p div li ul ol dl dt dd tr table tbody thead tfoot caption h1 h2 h3 h4 h5 h6 section article main "
    "body blockquote pre center address figure figcaption hr form fieldset".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_BLOCK_TAGS = _LINE_TAGS | _CELL_TAGS
_LINE, _CELL = "\x00", "\x01"  # break marks, not whitespace, while whitespace is collapsed
_SPACE_RUN = re.compile(r"\s+")
_CJK_CHAR = re.compile(f"[{CJK}]")
# Lines of page widgets that sit inside the article container on many sites.
_WIDGET_LINE = re.compile(
    r"字体[:：]?\s*[\[【(（]?\s*大\s*中\s*小|扫一扫|分享到|浏览次数|阅读次数|访问次数|点击[数量率]"
    r"|[\[【]\s*(?:打印|打印本页|关闭|关闭窗口|关闭本页|收藏|返回顶部)\s*[\]】]"
    r"|^(?:打印|关闭窗口|返回顶部|当前位置|您的位置|您现在的位置)(?:[:：]|$)"
)
_WIDGET_MAX = 80  # a longer line is text, whatever it mentions
# The labels of the metadata table (政府信息公开 information) that pages carry, and the
# name each is passed to the parser under, are the ones the parser reads in text too.
_META_LABEL = re.compile(
    "^(" + label_pattern(sorted(PAGE_LABELS)) + ")"
    + r"\s*(?:[:：]\s*(.*))?$",
    re.S,
)
_META_VALUE_MAX = 200
_NEXT_LABEL = re.compile(rf"\s+(?=[{CJK}]{{2,6}}\s*[:：])")  # 发布日期：2023-01-01 来源：…


def _html(raw: bytes, name: str) -> Extracted:
    """Return a saved web page's article text and its metadata table."""
    declared = _DECLARED_CHARSET.search(raw[:4096])
    text, encoding = decode(raw, name, declared.group(1).decode("ascii", "replace") if declared else None)
    try:
        root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(name, f"not a readable web page: {exc}") from None
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    # <title> is 关于…的答复_青溪市人民政府: the site's name follows a separator.
    page_title = re.split(r"\s*[_|｜]\s*|\s+-\s+", _squash(root.findtext(".//title") or ""))[0]
    headings = [_squash(h1.text_content()) for h1 in root.iter("h1")]
    etree.strip_elements(root, *_INVISIBLE, *_FURNITURE_TAGS, with_tail=False)
    for hidden in root.xpath(_HIDDEN):
        hidden.drop_tree()
    metadata = _page_metadata(root)
    lines = [line for line in _page_lines(_article(root)) if len(line) > _WIDGET_MAX or not _WIDGET_LINE.search(line)]
    title = metadata.get("标题") or next(filter(None, headings), page_title)
    # Pages often print the title as a heading above the article container; put it
    # back where a reply has it when the article lacks it: after any header lines (A类,
    # 文号…) and before the salutation, the first line ending in a colon.
    if title and _compact(title) not in _compact("".join(lines[:10])):
        at = next((i for i, line in enumerate(lines[:10]) if line.endswith(("：", ":"))), 0)
        lines.insert(at, title)
    return Extracted(raw, "\n".join(lines), "html", encoding, f"lxml {lxml.__version__}", metadata)


def _page_metadata(root: etree._Element) -> dict[str, str]:
    """Read the page's metadata table (索引号, 文号, 成文日期…) and take it out of the page.

    Labels and values are found as text pieces, whatever the markup: table cells,
    ``<span>`` pairs, or ``label：value`` in one element.
    """
    pieces = list(_text_pieces(root))
    metadata: dict[str, str] = {}
    consumed: list[tuple[etree._Element, str]] = []
    for idx, piece in enumerate(pieces):
        match = _META_LABEL.match(_piece_text(piece))
        if not match:
            continue
        key = METADATA_LABELS[_SPACE_RUN.sub("", match.group(1))]
        value, used = match.group(2) or "", [piece]
        if not value and idx + 1 < len(pieces):
            following = _piece_text(pieces[idx + 1])
            if len(following) <= _META_VALUE_MAX and not _META_LABEL.match(following):
                value, used = following, [piece, pieces[idx + 1]]
        value = _NEXT_LABEL.split(_squash(value))[0]
        if value and key not in metadata:
            metadata[key] = value
            consumed += used
    for element, attr in consumed:
        setattr(element, attr, None)
    return metadata


def _text_pieces(root: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """Yield each non-blank text node as ``(element, "text" | "tail")``, in reading order."""
    if root.text and root.text.strip():
        yield root, "text"
    for child in root:
        yield from _text_pieces(child)
        if child.tail and child.tail.strip():
            yield child, "tail"


def _piece_text(piece: tuple[etree._Element, str]) -> str:
    return getattr(piece[0], piece[1]).strip()


def _article(root: etree._Element) -> etree._Element:
    """Return the element holding the article: the one with the most text in its paragraphs.

    Each innermost block (a paragraph, a cell, a list item) credits its parent with its
    Chinese characters outside links; navigation is mostly links and footers are short,
    so the article's container wins.
    """
    credit: Counter[etree._Element] = Counter()
    for element in root.iter(etree.Element):
        if element.tag in _BLOCK_TAGS and element is not root:
            if not any(d.tag in _BLOCK_TAGS for d in element.iterdescendants()):
                links = sum(_cjk_count(a.text_content()) for a in element.iter("a"))
                credit[element.getparent()] += _cjk_count(element.text_content()) - links
    return max(credit, key=credit.__getitem__) if credit else root


def _page_lines(element: etree._Element) -> list[str]:
    """Return an element's text as non-blank lines, laid out as a browser shows it."""
    out: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.tag == "br" or node.tag in _LINE_TAGS:
            out.append(_LINE)
        out.append(node.text or "")
        for child in node:
            walk(child)
            out.append(child.tail or "")
        if node.tag in _CELL_TAGS:
            out.append(_CELL)
        elif node.tag in _LINE_TAGS:
            out.append(_LINE)

    walk(element)
    text = _squash("".join(out)).replace(_CELL, "\t")
    return [line.strip() for line in text.split(_LINE) if line.strip()]


def _squash(text: str) -> str:
    """Collapse whitespace as a browser does.

    A run becomes one space, or none where a source line break falls between two wide
    (CJK) characters: a page wrapped inside 构建 reads 构建, not 构 建.
    """
    return _SPACE_RUN.sub(_collapse, text).strip()


def _collapse(match: re.Match[str]) -> str:
    if "\n" not in match.group():
        return " "
    text, start, end = match.string, match.start(), match.end()
    wide = start > 0 and end < len(text) and _is_wide(text[start - 1]) and _is_wide(text[end])
    return "" if wide else " "


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _compact(text: str) -> str:
    return _SPACE_RUN.sub("", text)


def _cjk_count(text: str) -> int:
    return len(_CJK_CHAR.findall(text))
