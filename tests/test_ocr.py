"""OCR of scanned replies: scanned PDFs, PDFs with a garbled text layer and page images
become records, seals are not read, and no page is read twice."""

from __future__ import annotations

import io
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from bench import scans
from reply_archive.archive import ocr
from reply_archive.archive.clean import is_page_furniture
from reply_archive.archive.errors import ParseError
from reply_archive.archive.extract import extract, usable_text_layer
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import read_reply, record_path

REPLY = """关于市政协十二届二次会议第0123号提案的答复
王一帆委员：
您提出的《关于增设社区食堂的提案》收悉。现答复如下：
我局将在全市推广社区食堂。
此复。
青溪市民政局
2023年5月6日"""
DPI = 150  # enough for 16 pt type, and quick to read


@pytest.fixture(scope="module")
def pages() -> list[Image.Image]:
    """The reply as a scanned A4 page, a red seal stamped over its signature."""
    return scans.render_pages(REPLY, dpi=DPI, seal=True)


@pytest.fixture(scope="module")
def strip(pages: list[Image.Image]) -> Image.Image:
    """A strip of the page holding the salutation and the opening: a small page to read."""
    return pages[0].crop((0, 355, pages[0].width, 468))


@pytest.fixture(scope="module")
def reader() -> ocr.OcrEngine:
    return ocr.engine("rapidocr")


def squeezed(text: str) -> str:
    return "".join(text.split())


class Counting:
    """An engine that answers each page by its size, counting the pages it reads."""

    name, version = "counting", "1"

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def read(self, image: Image.Image) -> ocr.OcrPage:
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        return ocr.OcrPage(f"第{image.width}页", 0.9)


def test_a_scanned_pdf_becomes_a_record_with_its_ocr_provenance(tmp_path, pages, monkeypatch):
    source = tmp_path / "in" / "scan.pdf"
    source.parent.mkdir()
    source.write_bytes(scans.to_pdf(pages, DPI))
    archive = tmp_path / "archive"
    report = ingest([source], archive)
    assert report.added == ["scan.pdf"], report.failed
    files = list((archive / ocr.CACHE_FOLDER).glob("*.json"))
    assert len(files) == 1  # one page read, its text kept in the archive's cache
    reply = read_reply(next(archive.glob("*.md")))
    assert reply.department == "青溪市民政局" and reply.date == "2023-05-06"
    assert reply.proposal_numbers == ("0123",) and reply.proposers == ("王一帆",)
    assert "推广社区食堂" in reply.body
    assert reply.body.count("青溪市民政局") == 1  # the seal, which bears the name too, is not read
    assert reply.source.format == "pdf"
    assert reply.source.extracted_with == "rapidocr-onnxruntime 1.4.4 (OCR)"
    confidence = reply.source.ocr_confidence
    assert len(confidence) == 1 and ocr.LOW_PAGE_CONFIDENCE < confidence[0] <= 1
    assert "ocr_confidence:" in record_path(archive, reply.id).read_text(encoding="utf-8")

    # Again: the page comes from the cache, the engine reads nothing.
    def read_again(self: ocr.RapidOcrEngine, image: Image.Image) -> ocr.OcrPage:
        raise AssertionError("the page was read again")

    monkeypatch.setattr(ocr.RapidOcrEngine, "read", read_again)
    again = ingest([source], archive)
    assert again.unchanged == ["scan.pdf"], again.failed


def test_a_page_read_with_low_confidence_asks_for_review(tmp_path, pages, monkeypatch):
    class Unsure:
        name, version = "unsure", "1"

        def read(self, image: Image.Image) -> ocr.OcrPage:
            return ocr.OcrPage(REPLY, 0.6)

    monkeypatch.setattr(ocr, "engine", lambda name=None: Unsure())
    source = tmp_path / "scan.png"
    pages[0].save(source)
    report = ingest([source], tmp_path / "archive")
    assert report.review["ocr_low_confidence"] == 1
    reply = read_reply(next((tmp_path / "archive").glob("*.md")))
    assert "ocr_low_confidence:1" in reply.warnings and "ocr_low_confidence" in reply.review_flags
    assert reply.source.ocr_confidence == (0.6,) and reply.source.format == "png"


@pytest.mark.parametrize(("suffix", "options"), [(".png", {}), (".jpeg", {"quality": 85})])
def test_page_images_are_read(tmp_path, strip, reader, suffix, options):
    path = tmp_path / f"page{suffix}"
    strip.save(path, **options)
    extracted = extract(path)
    assert "王一帆委员" in squeezed(extracted.text) and "社区食堂的提案》收悉" in squeezed(extracted.text)
    assert extracted.format == ("png" if suffix == ".png" else "jpg")
    assert extracted.converter == f"{reader.name} {reader.version} (OCR)"


def test_every_page_of_a_multi_page_tiff_is_read(tmp_path, strip, reader):
    top, bottom = strip.crop((0, 0, strip.width, strip.height // 2)), strip.crop((0, strip.height // 2, *strip.size))
    path = tmp_path / "scan.tif"
    path.write_bytes(scans.to_tiff([top, bottom]))
    extracted = extract(path)
    first, second = extracted.text.split("\f")
    assert "王一帆委员" in squeezed(first) and "现答复如下" in squeezed(second)
    assert extracted.format == "tif" and len(extracted.ocr_confidence) == 2


def test_a_pdf_whose_text_layer_is_garbage_goes_to_ocr(tmp_path, strip, reader):
    buffer = io.BytesIO()
    width, height = strip.width * 72 / DPI, strip.height * 72 / DPI  # a page the strip's size, quick to read
    canvas = Canvas(buffer, pagesize=(width, height + 20), invariant=True)
    canvas.drawImage(ImageReader(strip), 0, 20, width=width, height=height)
    canvas.drawString(10, 5, "!#$%&'()*+,-./0123 :;<=>?@ ABCD")  # a font's broken character map
    canvas.save()
    path = tmp_path / "garbled.pdf"
    path.write_bytes(buffer.getvalue())
    extracted = extract(path)
    assert extracted.converter.endswith("(OCR)") and "王一帆委员" in squeezed(extracted.text)


def test_usable_text_layers_are_told_from_garbled_ones():
    reply = "您提出的《关于增设社区食堂的提案》收悉。现答复如下：我局将在全市推广社区食堂。"
    assert usable_text_layer([reply, "此复。青溪市民政局二〇二三年五月六日，联系人：王强"])
    assert not usable_text_layer(["— 1 —", "— 2 —"])  # page numbers of a scan
    assert not usable_text_layer(["\ue001\ue002\ue003" * 30 + reply])  # private-use code points
    assert not usable_text_layer(["\ufffd" * 60 + reply])
    assert not usable_text_layer(["A1B2C3D4E5F6G7H8" * 10 + reply])  # mostly not Chinese


def test_red_seal_ink_turns_white_and_black_text_stays():
    image = Image.new("RGB", (200, 100), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 90, 90), outline=scans.SEAL_RED, width=6)
    draw.rectangle((120, 40, 180, 60), fill=scans.INK)
    draw.rectangle((40, 45, 60, 55), fill=(90, 10, 10))  # text printed over the seal: dark, kept
    cleaned = np.asarray(ocr.drop_red(image))
    assert (cleaned[10:90, 10:90] != 0).all() and not (np.asarray(image)[10:90, 10:90] == 255).all()
    assert (cleaned[15, 50] == 255).all()  # the ring
    assert (cleaned[50, 150] == scans.INK).all() and (cleaned[50, 50] == (90, 10, 10)).all()


def test_known_misreadings_are_undone_when_lines_are_kept():
    def line(top: int, text: str) -> ocr._Line:
        return ocr._Line(top, top + 60, 300, 2100, text, 0.9)

    page = ocr.page_of([line(0, "化深港交流交融。二是充分发挥河套合作区“é站通”服"), line(100, "务作用。"),
                        line(200, "一2一"), line(300, "-3—"), line(400, "统一1一"), line(500, "Café（é）")])
    assert page.text.split("\n") == ["化深港交流交融。二是充分发挥河套合作区“e站通”服", "务作用。",
                                      "— 2 —", "— 3 —", "统一1一", "Café（é）"]
    assert is_page_furniture("— 2 —") and not is_page_furniture("一2一")  # what cleaning then drops


def test_cached_pages_are_not_read_again(tmp_path):
    images = [Image.new("RGB", (width, 40), "white") for width in (100, 120)]
    first = Counting()
    assert [p.text for p in ocr.ocr_pages(images, first, cache=tmp_path)] == ["第100页", "第120页"]
    again = Counting()
    assert ocr.ocr_pages(images, again, cache=tmp_path) == ocr.ocr_pages(images, first)
    assert first.calls == 4 and again.calls == 0
    other = Counting()
    other.version = "2"  # another engine version reads the pages anew
    ocr.ocr_pages(images, other, cache=tmp_path)
    assert other.calls == 2


def test_an_interrupted_batch_resumes_after_the_pages_it_read(tmp_path):
    images = [Image.new("RGB", (100 + i, 40), "white") for i in range(4)]
    interrupted = Counting(fail_at=3)
    seen: list[tuple[int, int]] = []
    with pytest.raises(KeyboardInterrupt):
        ocr.ocr_pages(images, interrupted, cache=tmp_path, total=4, progress=lambda *done: seen.append(done))
    assert seen == [(0, 4), (1, 4), (2, 4)]
    resumed = Counting()
    assert len(ocr.ocr_pages(images, resumed, cache=tmp_path)) == 4 and resumed.calls == 2


class SideBySide:
    """An engine reading two pages at once, the first page slowest: it tells how many
    pages it was given at once."""

    name, version, parallel = "side-by-side", "1", 2

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reading = self.most = 0

    def read(self, image: Image.Image) -> ocr.OcrPage:
        with self.lock:
            self.reading += 1
            self.most = max(self.most, self.reading)
        time.sleep(0.3 if image.width == 100 else 0.05)
        with self.lock:
            self.reading -= 1
        return ocr.OcrPage(f"第{image.width}页", 0.9)


def test_pages_are_read_side_by_side_and_kept_in_order(tmp_path):
    def scan():
        for width in range(100, 106):
            yield Image.new("RGB", (width, 40), "white")

    engine, seen = SideBySide(), []
    read = ocr.ocr_pages(scan(), engine, cache=tmp_path, total=6, progress=lambda *done: seen.append(done))
    assert [page.text for page in read] == [f"第{width}页" for width in range(100, 106)]
    assert engine.most == 2  # two at once, never more: pages wait for a free reader
    assert seen == [(n, 6) for n in range(7)]
    assert len(list(tmp_path.glob("*.json"))) == 6  # each cached as it was read


def test_a_damaged_cache_entry_is_read_again(tmp_path):
    image = Image.new("RGB", (100, 40), "white")
    ocr.ocr_pages([image], Counting(), cache=tmp_path)
    next(tmp_path.glob("*.json")).write_text("{not json", encoding="utf-8")
    again = Counting()
    assert ocr.ocr_pages([image], again, cache=tmp_path)[0].text == "第100页" and again.calls == 1


def test_ocr_off_or_missing_says_how_to_get_it(tmp_path, pages, monkeypatch):
    path = tmp_path / "scan.pdf"
    path.write_bytes(scans.to_pdf(pages, DPI))
    monkeypatch.setenv(ocr.ENGINE_ENV, "off")
    with pytest.raises(ParseError, match=r"scan\.pdf: scanned PDF \(no usable text layer\); OCR is off"):
        extract(path)
    monkeypatch.setenv(ocr.ENGINE_ENV, "abbyy")
    with pytest.raises(ParseError, match="is no OCR engine: choose one of rapidocr, tesseract, off"):
        extract(path)
    monkeypatch.delenv(ocr.ENGINE_ENV)
    monkeypatch.setattr(ocr, "_engines", {})
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # not installed
    with pytest.raises(ParseError, match=r"scan\.pdf: .*rapidocr is not installed: pip install 'reply-archive\[ocr\]'"):
        extract(path)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ParseError, match="tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-chi"):
        ocr.engine("tesseract")


def test_a_scan_with_nothing_legible_is_refused(tmp_path, reader):
    path = tmp_path / "blank.png"
    Image.new("RGB", (600, 400), "white").save(path)
    with pytest.raises(ParseError, match=r"blank\.png: page image, but OCR found no text on its 1 page\(s\)"):
        extract(path)


def test_a_damaged_image_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(ParseError, match=r"broken\.png: .*damaged image, cannot be read"):
        extract(path)


def test_tesseract_reads_a_page(strip):
    if shutil.which("tesseract") is None:
        reason = "the tesseract OCR tests need: apt-get install tesseract-ocr tesseract-ocr-chi-sim"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    page = ocr.engine("tesseract").read(strip)
    assert "王一帆委员" in squeezed(page.text) and 0.5 < page.confidence <= 1


def test_the_cache_folder_is_settable(tmp_path, monkeypatch):
    assert ocr.cache_folder(tmp_path / "a") == tmp_path / "a"
    monkeypatch.setenv(ocr.CACHE_ENV, str(tmp_path / "b"))
    assert ocr.cache_folder(tmp_path / "a") == Path(tmp_path / "b")
