"""Read scanned pages: OCR engines, the page images of PDFs and image files, a cache.

A scanned reply reaches cleaning as the same kind of text a PDF's text layer gives:
each page's lines in reading order, one physical line a line, pages joined by form
feeds. Cleaning then rejoins wrapped lines and drops page numbers and running heads as
it does for any PDF.

Two engines: RapidOCR (PaddleOCR's PP-OCRv4 Chinese models run by ONNX Runtime, shipped
inside its wheel, the default) and Tesseract with its ``chi_sim`` data (a Debian
package). ``REPLY_ARCHIVE_OCR`` chooses one (``rapidocr``, ``tesseract``) or none
(``off``). Before recognition, red ink (seals) is turned white; recognised lines of
tiny confidence (a signature, a smudge) are dropped, and the engines' known misreadings
(a page number's dashes read as 一) are undone.

Reading a page takes seconds, so each page's text is cached by the page's pixels and
the engine: re-reading the same file, or a batch that was interrupted, reads no page
twice.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from .clean import CJK
from .errors import ParseError
from .system import usable_cores

ENGINE_ENV = "REPLY_ARCHIVE_OCR"
CACHE_ENV = "REPLY_ARCHIVE_OCR_CACHE"
ENGINES = ("rapidocr", "tesseract", "off")
CACHE_FOLDER = ".ocr-cache"  # inside the archive when ingesting
PDF_DPI = 300
# A reply is a few pages; a longer scan is not one reply and would take many minutes.
MAX_PAGES = 40
# Lines read with less confidence are a seal, a signature or a smudge, not text.
MIN_LINE_CONFIDENCE = 0.5
# A page read with less confidence than this asks for a person's eye (待核对).
LOW_PAGE_CONFIDENCE = 0.85
# Part of every cache key: change it when preparing pages or keeping lines changes, so
# that no page is answered from a cache written by the old rules.
PIPELINE = "2"
# RapidOCR's settings, measured with bench/ocr.py. Its angle classifier is off: pages
# are upright (a skew of a degree or two needs no classifier), and on upright lines it
# turned whole lines upside down, which then read as nonsense or as nothing.
RAPIDOCR_SETTINGS: dict[str, Any] = {"use_cls": False}
# Seal ink: red well above both green and blue. Dark text printed over a seal stays.
_RED_MARGIN = 60
_RED_MIN = 110

_INSTALL_RAPIDOCR = "pip install 'reply-archive[ocr]' (rapidocr-onnxruntime and pypdfium2)"
_INSTALL_TESSERACT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
_INSTALL_PDFIUM = "pip install 'reply-archive[ocr]' (pypdfium2 renders the pages)"


class OcrPage(NamedTuple):
    """The text read from one page and how sure the engine was of it."""

    text: str  # the page's lines in reading order, joined by newlines
    confidence: float  # 0-1: the mean of the line confidences, weighted by characters


class OcrEngine(Protocol):
    """An OCR engine: reads the text of one page image.

    ``read`` may be called from several threads at once: :func:`ocr_pages` reads as many
    pages at a time as the engine's ``parallel`` says (one when it says nothing).
    """

    name: str
    version: str

    def read(self, image: Image.Image) -> OcrPage:
        """Return the text of a page image."""
        ...


class _Line(NamedTuple):
    top: float
    bottom: float
    left: float
    right: float
    text: str
    confidence: float


def drop_red(image: Image.Image) -> Image.Image:
    """Return the page as RGB with strongly red pixels (seal ink) turned white."""
    rgb = np.asarray(image.convert("RGB"))
    channels = rgb.astype(np.int16)
    red, others = channels[..., 0], np.maximum(channels[..., 1], channels[..., 2])
    seal = (red >= _RED_MIN) & (red - others >= _RED_MARGIN)
    if not seal.any():
        return image.convert("RGB")
    cleaned = rgb.copy()
    cleaned[seal] = 255
    return Image.fromarray(cleaned)


# A page number between dashes ("— 2 —"), its dashes read as the look-alike 一 or as
# hyphens: written as printed, so that cleaning drops it as page furniture.
_PAGE_NUMBER = re.compile(r"^[一—–\-－﹣]+\s*(\d{1,3})\s*[一—–\-－﹣]+$")
# A lone Latin letter with an accent the recogniser added (“é站通” for “e站通”): an
# accented letter alone between Chinese characters is no word (a pinyin gloss stands in
# brackets).
_LONE_ACCENTED = re.compile(f"(?<=[{CJK}“‘《])[À-ÿĀ-ſ](?=[{CJK}”’》])")


def _plain_letter(match: re.Match[str]) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", match.group(0)) if not unicodedata.combining(ch))


def fix_misreadings(line: str) -> str:
    """Return a recognised line with the engines' known misreadings undone."""
    if number := _PAGE_NUMBER.match(line):
        return f"— {number.group(1)} —"
    return _LONE_ACCENTED.sub(_plain_letter, line)


def page_of(lines: Iterable[_Line]) -> OcrPage:
    """Return the page of the lines kept: in reading order, pieces of one printed line
    joined, lines of tiny confidence dropped."""
    kept = sorted((line for line in lines if line.confidence >= MIN_LINE_CONFIDENCE and line.text.strip()),
                  key=lambda line: (line.top + line.bottom) / 2)
    rows: list[list[_Line]] = []
    for line in kept:
        # One printed line when the vertical middle falls inside the row's first piece
        # (a date right of a name, a gap the detector split at).
        row = rows[-1] if rows else None
        if row is not None and row[0].top <= (line.top + line.bottom) / 2 <= row[0].bottom:
            row.append(line)
        else:
            rows.append([line])
    texts = []
    for row in rows:
        row.sort(key=lambda line: line.left)
        text = row[0].text.strip()
        for before, piece in zip(row, row[1:], strict=False):
            # A gap wider than a character is a real space (两个短语 之间); cleaning
            # removes the ones it does not keep.
            gap = piece.left - before.right > (before.bottom - before.top)
            text += (" " if gap else "") + piece.text.strip()
        texts.append(fix_misreadings(text))
    chars = sum(len(line.text.strip()) for line in kept)
    confidence = sum(line.confidence * len(line.text.strip()) for line in kept) / chars if chars else 0.0
    return OcrPage("\n".join(texts), round(confidence, 4))


class RapidOcrEngine:
    """PaddleOCR's PP-OCRv4 Chinese models, run by ONNX Runtime (rapidocr-onnxruntime)."""

    name = "rapidocr-onnxruntime"

    def __init__(self, parallel: int | None = None) -> None:
        """:param parallel: pages read at once (default: one a core)."""
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise ParseError("OCR", f"the OCR engine rapidocr is not installed: {_INSTALL_RAPIDOCR}") from None
        self.version = importlib.metadata.version("rapidocr-onnxruntime")
        # One model a page read at once, each on one thread: ONNX Runtime releases the
        # GIL, and pages side by side read faster than one page on every core (measured
        # on 2 cores: 3.7 against 4.7 s a page).
        self.parallel = parallel or usable_cores()
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(self.parallel):
            # Lines below MIN_LINE_CONFIDENCE are dropped here, not by the engine, so that
            # both engines keep lines by the same rule.
            self._idle.put(RapidOCR(text_score=0.0, intra_op_num_threads=1, inter_op_num_threads=1,
                                    **RAPIDOCR_SETTINGS))

    def read(self, image: Image.Image) -> OcrPage:
        """Return the text of a page image."""
        bgr = np.ascontiguousarray(np.asarray(drop_red(image))[:, :, ::-1])
        model = self._idle.get()
        try:
            found, _ = model(bgr)
        finally:
            self._idle.put(model)
        lines = []
        for box, text, score in found or ():
            xs, ys = [point[0] for point in box], [point[1] for point in box]
            lines.append(_Line(min(ys), max(ys), min(xs), max(xs), text, float(score)))
        return page_of(lines)


class TesseractEngine:
    """Tesseract with its simplified Chinese data (Debian's tesseract-ocr-chi-sim)."""

    name = "tesseract"

    def __init__(self) -> None:
        binary = shutil.which("tesseract")
        if binary is None:
            raise ParseError("OCR", f"the OCR engine tesseract is not installed: {_INSTALL_TESSERACT}")
        self._binary = binary
        languages = self._run(["--list-langs"]).split()
        if "chi_sim" not in languages:
            raise ParseError("OCR", f"tesseract has no simplified Chinese data (chi_sim): {_INSTALL_TESSERACT}")
        self.version = self._run(["--version"]).split()[1]
        self.parallel = usable_cores()  # one process a page, each on one thread

    def _run(self, arguments: list[str], stdin: bytes | None = None) -> str:
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            done = subprocess.run([self._binary, *arguments], input=stdin, capture_output=True, timeout=300, check=True,
                                  env=env)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ParseError("OCR", f"tesseract failed: {exc}") from None
        return done.stdout.decode("utf-8", "replace")

    def read(self, image: Image.Image) -> OcrPage:
        """Return the text of a page image."""
        png = io.BytesIO()
        drop_red(image).save(png, "PNG")
        # Automatic page segmentation (--psm 3). One uniform block (--psm 6) reads straight
        # pages a little better but merges the lines of a page skewed by a degree or two.
        tsv = self._run(["stdin", "stdout", "-l", "chi_sim", "--psm", "3", "tsv"], png.getvalue())
        words: dict[tuple[str, ...], list[list[str]]] = {}
        for row in tsv.splitlines()[1:]:
            cells = row.split("\t")
            if len(cells) == 12 and cells[0] == "5" and cells[11].strip():
                words.setdefault(tuple(cells[1:5]), []).append(cells)
        lines = []
        for line_words in words.values():
            text = ""
            for word in (cell[11].strip() for cell in line_words):
                latin = _latin(text[-1:]) and _latin(word[0])  # Chinese words run on without spaces
                text += " " + word if latin else word
            chars = sum(len(cell[11].strip()) for cell in line_words)
            confidence = sum(float(cell[10]) * len(cell[11].strip()) for cell in line_words) / chars / 100
            left = min(int(cell[6]) for cell in line_words)
            top = min(int(cell[7]) for cell in line_words)
            right = max(int(cell[6]) + int(cell[8]) for cell in line_words)
            bottom = max(int(cell[7]) + int(cell[9]) for cell in line_words)
            lines.append(_Line(top, bottom, left, right, text, confidence))
        return page_of(lines)


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


_engines: dict[tuple[int, str], OcrEngine] = {}


def engine(name: str | None = None) -> OcrEngine:
    """Return the OCR engine ``name`` (default: ``$REPLY_ARCHIVE_OCR``, else rapidocr).

    Each engine is made once per process (its models load once); a forked process
    makes its own, since an engine's threads do not survive a fork.

    :raise ParseError: when OCR is off, the name is unknown or the engine is not installed.
    """
    name = (name or os.environ.get(ENGINE_ENV) or "rapidocr").strip().lower()
    if name not in ENGINES:
        raise ParseError("OCR", f"{ENGINE_ENV}={name!r} is no OCR engine: choose one of {', '.join(ENGINES)}")
    if name == "off":
        raise ParseError("OCR", f"OCR is off ({ENGINE_ENV}=off): set {ENGINE_ENV}=rapidocr or tesseract to read scans")
    key = (os.getpid(), name)
    if key not in _engines:
        _engines[key] = RapidOcrEngine() if name == "rapidocr" else TesseractEngine()
    return _engines[key]


def pdf_page_images(raw: bytes, dpi: int = PDF_DPI) -> Iterator[Image.Image]:
    """Yield a PDF's pages rendered at ``dpi``, one at a time.

    :raise ParseError: when pypdfium2 is not installed or cannot read the PDF.
    """
    try:
        import pypdfium2
    except ImportError:
        raise ParseError("OCR", f"PDF pages cannot be rendered for OCR: {_INSTALL_PDFIUM}") from None
    try:
        document = pypdfium2.PdfDocument(raw)
    except pypdfium2.PdfiumError as exc:
        raise ParseError("OCR", f"damaged PDF, its pages cannot be rendered: {exc}") from None
    try:
        for page in document:
            yield page.render(scale=dpi / 72).to_pil().convert("RGB")
            page.close()
    finally:
        document.close()


def image_pages(raw: bytes) -> Iterator[Image.Image]:
    """Yield the pages of an image file (every frame of a multi-page TIFF), upright.

    :raise ParseError: for bytes that are no image, or an image too large to be a page.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as image:
                for frame in ImageSequence.Iterator(image):
                    # A photo taken upright but stored turned carries its orientation.
                    yield (ImageOps.exif_transpose(frame) or frame).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ParseError("OCR", f"image too large to be a page: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises on damaged files
        raise ParseError("OCR", f"damaged image, cannot be read: {exc}") from None


def image_count(raw: bytes) -> int:
    """Return the pages of an image file (the frames of a multi-page TIFF).

    :raise ParseError: for bytes that are no image.
    """
    try:
        with Image.open(io.BytesIO(raw)) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ParseError("OCR", f"damaged image, cannot be read: {exc}") from None


def cache_folder(default: Path | None = None) -> Path | None:
    """Return where OCR results are cached: ``$REPLY_ARCHIVE_OCR_CACHE``, else ``default``."""
    chosen = os.environ.get(CACHE_ENV)
    return Path(chosen) if chosen else default


def _cache_key(image: Image.Image, reader: OcrEngine) -> str:
    digest = hashlib.sha256(f"{reader.name} {reader.version} {PIPELINE} {image.mode} {image.size}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _cached(path: Path) -> OcrPage | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return OcrPage(str(data["text"]), float(data["confidence"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or damaged: read the page again


def _keep(path: Path, page: OcrPage, reader: OcrEngine) -> None:
    """Write a page's result atomically (an interrupted write leaves no half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"engine": reader.name, "version": reader.version, "text": page.text, "confidence": page.confidence}
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False) as fh:
        json.dump(data, fh, ensure_ascii=False)
    os.replace(fh.name, path)


def ocr_pages(
    images: Iterable[Image.Image],
    reader: OcrEngine,
    *,
    cache: Path | None = None,
    total: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[OcrPage]:
    """Read pages, each from the cache when it was read before, as many at once as the
    engine reads (``parallel``); return them in order.

    A page is cached as soon as it is read, so that a batch stopped halfway keeps the
    pages it had read. Pages are taken from ``images`` only as a reader is free for
    them: a long scan is never held in memory whole.

    :param cache: the folder of cached results (none: every page is read).
    :param total: the number of pages, for progress.
    :param progress: called with (pages done, total) after each page.
    """
    pages: list[OcrPage | None] = []
    done = 0

    def finished(number: int, page: OcrPage, path: Path | None) -> None:
        nonlocal done
        pages[number] = page
        if path is not None:
            try:
                _keep(path, page, reader)
            except OSError:
                pass  # a cache that cannot be written only costs time
        done += 1
        if progress:
            progress(done, total or len(pages))

    if progress and total:
        progress(0, total)
    at_once = max(1, getattr(reader, "parallel", 1))
    with ThreadPoolExecutor(at_once, thread_name_prefix="ocr") as pool:
        reading: dict[Future[OcrPage], tuple[int, Path | None]] = {}

        def collect(until: str) -> None:
            ended, _ = wait(reading, return_when=until)
            for future in ended:
                number, path = reading.pop(future)
                finished(number, future.result(), path)

        for image in images:
            path = cache / f"{_cache_key(image, reader)}.json" if cache is not None else None
            pages.append(None)
            page = _cached(path) if path is not None else None
            if page is not None:
                finished(len(pages) - 1, page, None)
                continue
            reading[pool.submit(reader.read, image)] = (len(pages) - 1, path)
            if len(reading) >= at_once:
                collect(FIRST_COMPLETED)
        if reading:
            collect(ALL_COMPLETED)
    return [page for page in pages if page is not None]


_SPACES = re.compile(r"[ \t]+")


def page_text(pages: Iterable[OcrPage]) -> str:
    """Return the pages' text as a PDF's text layer reads: pages joined by form feeds."""
    return "\f".join(_SPACES.sub(" ", page.text).strip("\n") for page in pages)


def low_confidence_warnings(confidences: Iterable[float]) -> list[str]:
    """Return the warning codes of the pages read with low confidence (1-based pages)."""
    return [f"ocr_low_confidence:{page}" for page, confidence in enumerate(confidences, 1)
            if confidence < LOW_PAGE_CONFIDENCE]
