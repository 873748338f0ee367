"""Render a reply's text as scanned pages, for the OCR benchmark and the OCR tests.

A reply's raw text (one paragraph a line, as the sources in ``data/samples`` are) is set
on A4 pages the way official replies are printed (GB/T 9704 margins, 16 pt body in
serif with a first-line indent of two characters, about 28 characters a line): the
header lines above the title flush left, the title centred in a larger bold face, the
salutation flush left, the signature and the date right-aligned, any trailer (抄送,
联系人) flush left, and "— N —" centred under each page. ``seal`` stamps a red ring with
the signing department's name over the signature and date.

Degradations are deterministic, so a page renders to the same pixels every time: a
page's skew angle and its paper grain are drawn from a generator seeded with the page
number. The order is the one of a real scan: the printed page (with its seal), the
paper's grain, the skew of the sheet on the scanner's glass, the optics' blur, then
the JPEG compression of the file.

``render_pages(text, dpi=300, skew=0.0, blur=0.0, jpeg_quality=None, seal=False,
background=255)``; ``to_pdf(images, dpi)`` and ``to_tiff(images)`` give the bytes of
an image-only PDF and of a multi-page TIFF.
"""

from __future__ import annotations

import io
import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from reply_archive.archive.layout import read_layout

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
BODY_FONT = FONT_DIR / "NotoSerifCJK-Regular.ttc"
TITLE_FONT = FONT_DIR / "NotoSerifCJK-Bold.ttc"
SEAL_FONT = FONT_DIR / "NotoSansCJK-Bold.ttc"
SC_FACE = 2  # face index of the Simplified Chinese cut in Noto's collections

A4_MM = (210.0, 297.0)
MARGIN_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}  # GB/T 9704
BODY_PT, TITLE_PT, PAGE_NUMBER_PT, SEAL_TEXT_PT = 16.0, 22.0, 14.0, 15.0
LINE_PITCH = 1.75  # line height in body font sizes: 22 lines a page, as GB/T 9704 sets
TITLE_PITCH = 1.5
INDENT_CHARS = 2
SEAL_MM, SEAL_RING_MM = 42.0, 1.2  # an official seal's diameter and ring width
SEAL_RED = (214, 40, 40)
INK = (20, 20, 20)
GRAIN_SIGMA = 6.0  # grey levels of the paper's grain, where the paper is not white
PDF_QUALITY = 95  # JPEG quality of the pages inside a PDF: near lossless, as a scanner writes them

# Punctuation that may not start a line; it hangs in the right margin instead.
_NO_LINE_START = frozenset("，。、；：？！）》」』”’·%％")
_ATOMIC = re.compile(r"[A-Za-z0-9０-９.,:/%+\-]+|.", re.S)  # numbers and Latin words stay whole
_DATE = re.compile(r"^(?:\d{4}|[〇○零一二三四五六七八九]{4})\s*年.{1,3}月.{1,3}日$")
_SIGNATURE_MAX = 30  # characters of a signature line (a department's name)


class FontMissing(RuntimeError):
    """The Noto CJK fonts the pages are set in are not installed."""


@dataclass(frozen=True)
class _Line:
    text: str
    style: str  # "body", "title"
    align: str  # "left", "centre", "right"
    indent: bool = False
    sealed: bool = False  # a line the seal is stamped over


def mm_to_px(mm: float, dpi: int) -> int:
    """Return the pixels of a length in millimetres at ``dpi``."""
    return round(mm / 25.4 * dpi)


def pt_to_px(pt: float, dpi: int) -> int:
    """Return the pixels of a type size in points at ``dpi``."""
    return round(pt / 72 * dpi)


@lru_cache(maxsize=32)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    if not path.exists():
        raise FontMissing(
            f"the scan renderer needs the Noto CJK fonts ({path} is missing): apt-get install fonts-noto-cjk"
        )
    return ImageFont.truetype(str(path), size, index=SC_FACE)


def _layout_lines(text: str) -> list[_Line]:
    """Return the reply's paragraphs as lines to set, each with its style and alignment."""
    paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    if not paragraphs:
        raise ValueError("render_pages: text has no paragraph to render")
    layout = read_layout(paragraphs)
    title = range(layout.title.start, layout.title.end) if layout.title else range(0)
    date = next((i for i in range(len(paragraphs) - 1, -1, -1) if _DATE.match(paragraphs[i])), None)
    signature = None
    if date is not None and date > 0:
        before = paragraphs[date - 1]
        if len(before) <= _SIGNATURE_MAX and not re.search(r"[，。；！？：]", before):
            signature = date - 1
    lines = []
    for idx, paragraph in enumerate(paragraphs):
        if idx in title:
            lines.append(_Line(paragraph, "title", "centre"))
        elif idx in (signature, date):
            lines.append(_Line(paragraph, "body", "right", sealed=True))
        elif idx < layout.body[0] or idx == layout.salutation or (date is not None and idx > date):
            lines.append(_Line(paragraph, "body", "left"))
        else:
            lines.append(_Line(paragraph, "body", "left", indent=True))
    return lines


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, first_indent: float) -> list[str]:
    """Break a paragraph into lines of at most ``width`` pixels (closing punctuation hangs)."""
    rows: list[str] = []
    row, used, limit = "", 0.0, width - first_indent
    for token in _ATOMIC.findall(text):
        advance = font.getlength(token)
        if row and used + advance > limit and token not in _NO_LINE_START:
            rows.append(row)
            row, used, limit = "", 0.0, width
        row += token
        used += advance
    if row:
        rows.append(row)
    return rows


def _seal_layer(size: tuple[int, int], centre: tuple[int, int], name: str, dpi: int) -> Image.Image:
    """Return a white layer holding a red seal: a ring, a star and the name along the top arc."""
    layer = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(layer)
    radius = mm_to_px(SEAL_MM / 2, dpi)
    ring = max(2, mm_to_px(SEAL_RING_MM, dpi))
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=SEAL_RED, width=ring)
    star = radius * 0.3
    points = [
        (cx + star * (1 if k % 2 == 0 else 0.4) * math.sin(k * math.pi / 5),
         cy - star * (1 if k % 2 == 0 else 0.4) * math.cos(k * math.pi / 5))
        for k in range(10)
    ]
    draw.polygon(points, fill=SEAL_RED)
    font = _font(SEAL_FONT, pt_to_px(SEAL_TEXT_PT, dpi))
    chars = name[:16] or "专用章"
    span = min(240.0, 18.0 * len(chars))  # degrees of the top arc the name covers
    em = round(font.size)
    text_radius = radius - ring - em * 0.85
    for k, char in enumerate(chars):
        angle = -span / 2 + span * (k + 0.5) / len(chars)
        glyph = Image.new("L", (em * 2, em * 2), 0)
        ImageDraw.Draw(glyph).text((em, em), char, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        gx = cx + text_radius * math.sin(math.radians(angle)) - em
        gy = cy - text_radius * math.cos(math.radians(angle)) - em
        layer.paste(SEAL_RED, (round(gx), round(gy)), glyph)
    return layer


def _degrade(page: Image.Image, number: int, *, dpi: int, skew: float, blur: float,
             jpeg_quality: int | None, background: int) -> Image.Image:
    """Return a printed page as it comes out of the scanner (deterministic per page)."""
    rng = random.Random(number)
    if background < 255:
        noise = np.random.default_rng(number).normal(0.0, GRAIN_SIGMA, (page.height, page.width))
        grain = Image.fromarray(np.clip(255 + noise, 0, 255).astype(np.uint8)).convert("RGB")
        page = ImageChops.multiply(page, grain)
    if skew:
        angle = rng.uniform(skew / 2, skew) * rng.choice((-1, 1))
        page = page.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(background,) * 3)
    if blur:
        page = page.filter(ImageFilter.GaussianBlur(blur * dpi / 300))
    if jpeg_quality is not None:
        buffer = io.BytesIO()
        page.save(buffer, "JPEG", quality=jpeg_quality)
        page = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        page.info.clear()  # the JPEG's markers are no part of the scanned page
    return page


def render_pages(
    text: str,
    *,
    dpi: int = 300,
    skew: float = 0.0,
    blur: float = 0.0,
    jpeg_quality: int | None = None,
    seal: bool = False,
    background: int = 255,
) -> list[Image.Image]:
    """Render a reply's text as scanned A4 pages (RGB), deterministically.

    :param skew: the largest angle in degrees a page is turned by (each page by an angle
        between half of it and all of it, either way)
    :param blur: the Gaussian blur's radius in pixels at 300 dpi (scaled with ``dpi``)
    :param jpeg_quality: when given, each page goes through JPEG compression at it
    :param seal: stamp a red seal over the signature and the date
    :param background: the paper's grey level (255 white); below 255 the paper has grain
    """
    if not 72 <= dpi <= 1200:
        raise ValueError(f"render_pages: dpi must be between 72 and 1200, not {dpi}")
    if not 0 <= background <= 255:
        raise ValueError(f"render_pages: background must be a grey level 0-255, not {background}")
    width, height = mm_to_px(A4_MM[0], dpi), mm_to_px(A4_MM[1], dpi)
    left, right = mm_to_px(MARGIN_MM["left"], dpi), width - mm_to_px(MARGIN_MM["right"], dpi)
    top, bottom = mm_to_px(MARGIN_MM["top"], dpi), height - mm_to_px(MARGIN_MM["bottom"], dpi)
    fonts = {"body": _font(BODY_FONT, pt_to_px(BODY_PT, dpi)), "title": _font(TITLE_FONT, pt_to_px(TITLE_PT, dpi))}
    pitches = {"body": fonts["body"].size * LINE_PITCH, "title": fonts["title"].size * TITLE_PITCH}
    number_font = _font(BODY_FONT, pt_to_px(PAGE_NUMBER_PT, dpi))

    pages: list[Image.Image] = []
    sealed_at: tuple[int, float, float, str] | None = None  # page, first and last y, name
    draw: ImageDraw.ImageDraw | None = None
    y = float(bottom)  # start a new page at the first line

    def new_page() -> ImageDraw.ImageDraw:
        pages.append(Image.new("RGB", (width, height), (background,) * 3))
        return ImageDraw.Draw(pages[-1])

    for line in _layout_lines(text):
        font, pitch = fonts[line.style], pitches[line.style]
        indent = font.size * INDENT_CHARS if line.indent else 0
        for k, row in enumerate(_wrap(line.text, font, right - left, indent)):
            if draw is None or y + pitch > bottom:
                draw, y = new_page(), float(top)
            advance = font.getlength(row)
            if line.align == "centre":
                x = left + (right - left - advance) / 2
            elif line.align == "right":
                x = right - advance - font.size * 2  # official signatures sit two characters in
            else:
                x = left + (indent if k == 0 else 0)
            draw.text((x, y), row, font=font, fill=INK)
            if line.sealed:
                name = sealed_at[3] if sealed_at else row
                first = sealed_at[1] if sealed_at and sealed_at[0] == len(pages) - 1 else y
                sealed_at = (len(pages) - 1, first, y + font.size, name)
            y += pitch
    if seal:
        if sealed_at is None:  # no signature found: stamp after the last line, on the right
            sealed_at = (len(pages) - 1, y - pitches["body"], y, "")
        page_idx, first, last, name = sealed_at
        centre = (right - mm_to_px(SEAL_MM / 2 + 10, dpi), round((first + last) / 2))
        pages[page_idx] = ImageChops.multiply(pages[page_idx], _seal_layer((width, height), centre, name, dpi))
    for idx, page in enumerate(pages):
        label = f"— {idx + 1} —"
        ImageDraw.Draw(page).text(
            ((width - number_font.getlength(label)) / 2, bottom + mm_to_px(12, dpi)), label, font=number_font, fill=INK
        )
    return [
        _degrade(page, idx, dpi=dpi, skew=skew, blur=blur, jpeg_quality=jpeg_quality, background=background)
        for idx, page in enumerate(pages)
    ]


def _fresh(images: list[Image.Image]) -> list[Image.Image]:
    # Pillow keeps the settings of an image's last save on it (a JPEG's quality, the
    # PDF's) and hands them to the next writer, which may refuse them: save copies.
    return [image.copy() for image in images]


def to_pdf(images: list[Image.Image], dpi: int) -> bytes:
    """Return an image-only PDF of the pages, one image a page at ``dpi``."""
    if not images:
        raise ValueError("to_pdf: images is empty")
    buffer = io.BytesIO()
    first, *rest = _fresh(images)
    first.save(buffer, "PDF", save_all=True, append_images=rest, resolution=dpi, quality=PDF_QUALITY)
    return buffer.getvalue()


def to_tiff(images: list[Image.Image]) -> bytes:
    """Return a multi-page TIFF of the pages (lossless)."""
    if not images:
        raise ValueError("to_tiff: images is empty")
    buffer = io.BytesIO()
    first, *rest = _fresh(images)
    first.save(buffer, "TIFF", save_all=True, append_images=rest, compression="tiff_adobe_deflate")
    return buffer.getvalue()
