"""The page images of a scanned reply, for a person checking its text against the scan.

A record read by OCR (``source.ocr_confidence`` holds one confidence a page) keeps its
source file in the archive's ``.sources/``. Its pages are rendered from that copy at a
width a screen shows whole (about 1,000 px: a PDF at ``DISPLAY_DPI``, an image file
scaled down), encoded as PNG, or as JPEG when that is much smaller (a grainy photo of
a page), and the encoded pages are kept in a small per-process cache.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections import OrderedDict
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import ocr
from .errors import ArchiveError, ParseError
from .extract import IMAGE_FORMATS
from .model import Reply
from .store import source_path

SCAN_FORMATS = ("pdf", *IMAGE_FORMATS)
DISPLAY_DPI = 120  # an A4 page renders 992 px wide
DISPLAY_WIDTH = 1000  # wider pages (A3, a photo) are scaled down to it
JPEG_QUALITY = 85
JPEG_SHARE = 0.5  # JPEG is sent when it takes less than this share of the PNG's bytes
GREY_SPREAD = 12  # channel spread under which a page is grey (no seal ink): a smaller PNG
CACHE_PAGES = 32
# Part of every ETag: change it when rendering changes, so that no browser keeps the old images.
RENDERING = "1"
_WARNING = "ocr_low_confidence"


class PageImageError(ArchiveError):
    """A page image that cannot be shown."""

    def __init__(self, reply_id: str, message: str) -> None:
        self.reply_id = reply_id
        self.message = message
        super().__init__(f"{reply_id}: {message}")


class NotAScan(PageImageError):
    """The record was not read by OCR from a scan: it has no page images."""


class PageOutOfRange(PageImageError):
    """The scan has no page of that number."""

    def __init__(self, reply_id: str, page: int, pages: int) -> None:
        self.page = page
        self.pages = pages
        super().__init__(reply_id, f"page {page} of a scan of {pages} page(s)")


class SourceMissing(PageImageError):
    """The archive holds no copy of the scan the record was read from."""


class RendererMissing(PageImageError):
    """pypdfium2, which renders the pages of PDFs, is not installed."""


class SourceUnreadable(PageImageError):
    """The kept copy of the scan cannot be rendered (damaged since it was read)."""


@dataclass(frozen=True)
class ScanPage:
    """One page of a scanned record: its number (from 1) and OCR's confidence (0-1)."""

    number: int
    confidence: float
    low: bool  # below ocr.LOW_PAGE_CONFIDENCE, or flagged for review when it was read


@dataclass(frozen=True)
class KeptPage:
    """A page of a scan whose copy the archive holds, ready to render."""

    reply_id: str
    number: int
    path: Path
    format: str
    sha256: str

    @property
    def etag(self) -> str:
        """Return the page's entity tag: the same bytes for as long as the source and the rendering are."""
        return _etag(self.sha256, self.number)


def _etag(sha256: str, number: int) -> str:
    return f"{sha256}-{number}-{RENDERING}"


@dataclass(frozen=True)
class PageImage:
    """An encoded page image."""

    data: bytes
    mimetype: str  # image/png or image/jpeg
    width: int
    height: int


def is_scan(reply: Reply) -> bool:
    """Return True when the record's text was read by OCR from a scanned PDF or a page image."""
    return reply.source is not None and reply.source.ocr_confidence is not None and reply.source.format in SCAN_FORMATS


def ocr_engine(reply: Reply) -> str | None:
    """Return the OCR engine and its version that read the record (``rapidocr-onnxruntime 1.4.4``)."""
    if not is_scan(reply) or reply.source is None or not reply.source.extracted_with:
        return None
    return reply.source.extracted_with.removesuffix("(OCR)").strip() or None


def scan_pages(reply: Reply) -> tuple[ScanPage, ...]:
    """Return the pages of a scanned record with their confidence; none for other records."""
    if not is_scan(reply) or reply.source is None or reply.source.ocr_confidence is None:
        return ()
    flagged = {detail for kind, _, detail in (w.partition(":") for w in reply.warnings) if kind == _WARNING}
    return tuple(
        ScanPage(number, confidence, confidence < ocr.LOW_PAGE_CONFIDENCE or str(number) in flagged)
        for number, confidence in enumerate(reply.source.ocr_confidence, 1)
    )


def locate(root: Path, reply: Reply, number: int) -> KeptPage:
    """Return page ``number`` (from 1) of the record's kept scan, checked but not rendered.

    :raise NotAScan: for a record not read by OCR.
    :raise PageOutOfRange: for a page the scan does not have.
    :raise SourceMissing: when the archive holds no copy of the scan.
    """
    pages = scan_pages(reply)
    if not pages or reply.source is None:
        raise NotAScan(reply.id, "the record was not read from a scan")
    if not 1 <= number <= len(pages):
        raise PageOutOfRange(reply.id, number, len(pages))
    path = source_path(Path(root), reply)
    if path is None:
        raise SourceMissing(reply.id, f"no copy of {reply.source.file} in the archive")
    return KeptPage(reply.id, number, path, reply.source.format, reply.source.sha256)


class _Cache:
    """The most recently shown encoded pages, by ETag (the source's digest and the page)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._pages: OrderedDict[str, PageImage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> PageImage | None:
        with self._lock:
            image = self._pages.get(key)
            if image is not None:
                self._pages.move_to_end(key)
            return image

    def put(self, key: str, image: PageImage) -> None:
        with self._lock:
            self._pages[key] = image
            self._pages.move_to_end(key)
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


cache = _Cache(CACHE_PAGES)
# PDFium may not be called from two threads at once; one page at a time also keeps two
# requests from rendering the same pages side by side.
_rendering = threading.Lock()


def render(page: KeptPage) -> PageImage:
    """Return the page's image, from the cache when it was shown lately.

    The pages before it are rendered on the way (a PDF and a TIFF are read in order),
    and kept too: a browser loading the pages one after the other renders each once.

    :raise RendererMissing: for a PDF when pypdfium2 is not installed.
    :raise SourceUnreadable: when the kept copy cannot be read or lacks the page.
    """
    found = cache.get(page.etag)
    if found is not None:
        return found
    if page.format == "pdf" and importlib.util.find_spec("pypdfium2") is None:
        raise RendererMissing(page.reply_id, "pypdfium2 is not installed")
    with _rendering:
        found = cache.get(page.etag)  # rendered by the request that held the lock
        if found is not None:
            return found
        try:
            raw = page.path.read_bytes()
            images = _pages(raw, page.format)
            with closing(images):  # the document closes here, under the lock
                for number, image in enumerate(images, 1):
                    key = _etag(page.sha256, number)
                    shown = cache.get(key) or encode(image)
                    cache.put(key, shown)
                    if number == page.number:
                        return shown
        except (OSError, RuntimeError, ParseError) as exc:  # RuntimeError: PDFium failing on a page
            raise SourceUnreadable(page.reply_id, str(exc)) from None
    raise SourceUnreadable(page.reply_id, f"the kept copy has fewer than {page.number} page(s)")


def _pages(raw: bytes, fmt: str) -> Generator[Image.Image, None, None]:
    """Yield a scan's pages, a PDF's at ``DISPLAY_DPI``; closing this closes the document."""
    yield from (ocr.pdf_page_images(raw, DISPLAY_DPI) if fmt == "pdf" else ocr.image_pages(raw))


def encode(image: Image.Image) -> PageImage:
    """Return a page scaled to at most ``DISPLAY_WIDTH`` and encoded: PNG, or JPEG when much smaller."""
    if image.width > DISPLAY_WIDTH:
        height = max(1, round(image.height * DISPLAY_WIDTH / image.width))
        image = image.resize((DISPLAY_WIDTH, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    if int((pixels.max(axis=2) - pixels.min(axis=2)).max()) <= GREY_SPREAD:
        image = image.convert("L")  # black print on white paper: a third of the PNG
    png, jpeg = io.BytesIO(), io.BytesIO()
    image.save(png, "PNG")
    image.save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=True)
    if jpeg.tell() < png.tell() * JPEG_SHARE:
        return PageImage(jpeg.getvalue(), "image/jpeg", image.width, image.height)
    return PageImage(png.getvalue(), "image/png", image.width, image.height)
