"""The page images of scanned replies: served from the kept scan, cached, refused in
Chinese when they cannot be shown, and linked from the reply page, the 待核对 view and
the JSON API."""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench import scans
from reply_archive import data
from reply_archive.archive import ocr, page_images
from reply_archive.archive.ingest import ingest
from reply_archive.archive.model import Reply
from reply_archive.archive.store import iter_replies, source_path, write_reply
from reply_archive.archive.tables import department_names
from reply_archive.indexer.build import build_index
from reply_archive.web import create_app
from tests.test_ocr import DPI
from tests.test_ocr import REPLY as SCANNED
from tests.test_openapi import check

UNSURE = """关于市政协十二届二次会议第0456号提案的答复
李文清委员：
您提出的《关于加快老旧小区加装电梯的提案》收悉。现答复如下：
我局将会同各区推进老旧小区加装电梯工作。
此复。
青溪市住房和城乡建设局
2023年6月8日"""
UNSURE_CONFIDENCE = (0.95, 0.6)  # the second page asks for a person's eye


class Unsure:
    """An engine that reads the two halves of a page as UNSURE's two pages, unsure of the second."""

    name, version = "unsure-ocr", "1"

    def __init__(self) -> None:
        lines = UNSURE.splitlines()
        self.pages = [ocr.OcrPage("\n".join(lines[:3]), UNSURE_CONFIDENCE[0]),
                      ocr.OcrPage("\n".join(lines[3:]), UNSURE_CONFIDENCE[1])]

    def read(self, image: Image.Image) -> ocr.OcrPage:
        return self.pages.pop(0)


def scanned_archive(root: Path) -> tuple[Path, Path, dict[str, Reply]]:
    """Ingest the seed reply, a one-page scanned PDF (read by OCR) and a two-page TIFF
    (read by an engine unsure of its second page) into ``root``, and index them.

    Return the archive, the index and the records by source format (txt, pdf, tif).
    """
    folder = root / "scans"
    folder.mkdir(parents=True)
    (folder / "scan.pdf").write_bytes(scans.to_pdf(scans.render_pages(SCANNED, dpi=DPI, seal=True), DPI))
    page = scans.render_pages(UNSURE, dpi=DPI)[0]
    half = page.height // 2
    (folder / "unsure.tif").write_bytes(scans.to_tiff([page.crop((0, 0, page.width, half)),
                                                       page.crop((0, half, page.width, page.height))]))
    archive, index = root / "archive", root / "index"
    report = ingest([data.path("seed"), folder / "scan.pdf"], archive)
    assert report.ok and len(report.added) == 2, report.failed
    with pytest.MonkeyPatch.context() as patch:
        unsure = Unsure()
        patch.setattr(ocr, "engine", lambda name=None: unsure)
        assert ingest([folder / "unsure.tif"], archive).added == ["unsure.tif"]
    records = list(iter_replies(archive))
    build_index(records, index, aliases=department_names())
    return archive, index, {r.source.format: r for r in records}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[Path, Path, dict[str, Reply]]:
    return scanned_archive(tmp_path_factory.mktemp("scans"))


@pytest.fixture(scope="module")
def records(scanned) -> dict[str, Reply]:
    return scanned[2]


def client_of(archive: Path, index: Path):
    return create_app({"TESTING": True, "ARCHIVE_DIR": str(archive), "INDEX_DIR": str(index)}).test_client()


@pytest.fixture
def client(scanned):
    page_images.cache.clear()
    archive, index, _ = scanned
    return client_of(archive, index)


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def image_url(reply: Reply, number: int) -> str:
    return f"/replies/{reply.id}/pages/{number}"


def test_the_records_are_scans_with_their_pages(records):
    assert not page_images.is_scan(records["txt"]) and page_images.scan_pages(records["txt"]) == ()
    engine = page_images.ocr_engine(records["pdf"])
    assert engine is not None and engine.startswith("rapidocr-onnxruntime ") and "OCR" not in engine
    pages = page_images.scan_pages(records["tif"])
    assert [(p.number, p.confidence, p.low) for p in pages] == [(1, 0.95, False), (2, 0.6, True)]
    assert "ocr_low_confidence:2" in records["tif"].warnings


def test_a_pdf_page_is_served_as_an_image_about_1000_px_wide(client, records):
    response = client.get(image_url(records["pdf"], 1))
    assert response.status_code == 200 and response.mimetype in ("image/png", "image/jpeg")
    image = Image.open(io.BytesIO(response.data))
    assert image.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[response.mimetype]
    assert 900 <= image.width <= page_images.DISPLAY_WIDTH  # A4 at the display dpi
    assert abs(image.height / image.width - 297 / 210) < 0.02
    assert image.mode == "RGB"  # the red seal is shown, in colour
    etag = records["pdf"].source.sha256 + "-1-" + page_images.RENDERING
    assert response.headers["ETag"] == f'"{etag}"'
    assert "max-age=" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]
    assert page_images.cache.get(etag) is not None  # kept for the next request

    again = client.get(image_url(records["pdf"], 1), headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304 and again.data == b""


def test_the_pages_of_an_image_file_are_scaled_to_the_display_width(client, records):
    sizes = []
    for number in (2, 1):
        response = client.get(image_url(records["tif"], number))
        assert response.status_code == 200 and response.mimetype == "image/png"
        image = Image.open(io.BytesIO(response.data))
        sizes.append(image.size)
        assert image.mode == "L"  # black on white: served grey
    width, height = scans.mm_to_px(210, DPI), scans.mm_to_px(297, DPI)
    half = height // 2
    assert sizes == [(1000, round((height - half) * 1000 / width)), (1000, round(half * 1000 / width))]


def test_the_pages_before_the_one_asked_for_are_kept_on_the_way(client, records):
    sha256 = records["tif"].source.sha256
    assert client.get(image_url(records["tif"], 2)).status_code == 200
    assert page_images.cache.get(f"{sha256}-1-{page_images.RENDERING}") is not None


def test_a_grainy_page_is_sent_as_jpeg_a_clean_one_as_png():
    rng = np.random.default_rng(0)
    grainy = Image.fromarray(rng.integers(150, 255, (700, 500, 3), dtype=np.uint8))
    clean = Image.new("RGB", (1400, 2000), "white")
    assert page_images.encode(grainy).mimetype == "image/jpeg"
    shown = page_images.encode(clean)
    assert shown.mimetype == "image/png" and (shown.width, shown.height) == (1000, 1429)


@pytest.mark.parametrize(("url", "message"), [
    ("/replies/ffffffffffffffff/pages/1", "没有编号为 ffffffffffffffff 的答复"),
    ("tif:3", "没有第 3 页：这件答复的扫描件共 2 页"),
    ("tif:0", "没有第 0 页：这件答复的扫描件共 2 页"),
    ("txt:1", "这件答复不是由扫描件识别（OCR）得到的，没有页面图像"),
])
def test_a_page_that_does_not_exist_is_a_404_saying_why(client, records, url, message):
    if ":" in url:
        fmt, number = url.split(":")
        url = image_url(records[fmt], int(number))
    response = client.get(url)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert message in text_of(response)


def test_a_scan_the_archive_does_not_keep_is_a_404_and_the_page_says_so(tmp_path, scanned):
    _, index, records = scanned
    lost = dataclasses.replace(records["tif"], source=dataclasses.replace(records["tif"].source, sha256="ab" * 32))
    archive = tmp_path / "archive"
    write_reply(lost, archive)
    client = client_of(archive, index)
    response = client.get(image_url(lost, 1))
    assert response.status_code == 404
    assert "档案中没有保存这件答复的原始扫描件" in text_of(response)
    page = text_of(client.get(f"/replies/{lost.id}"))
    assert "档案中没有保存原始扫描件，无法显示页面图像" in page and "<img" not in page
    assert client.get(f"/api/replies/{lost.id}").get_json()["page_images"] == []


def test_a_damaged_copy_of_the_scan_is_a_404_not_a_500(tmp_path, scanned):
    _, index, records = scanned
    archive = tmp_path / "archive"
    write_reply(records["pdf"], archive)
    (archive / ".sources").mkdir()
    (archive / ".sources" / f"{records['pdf'].source.sha256}.pdf").write_bytes(b"%PDF-1.4 damaged")
    assert source_path(archive, records["pdf"]) is not None
    page_images.cache.clear()
    response = client_of(archive, index).get(image_url(records["pdf"], 1))
    assert response.status_code == 404 and "原始扫描件已损坏" in text_of(response)


def test_without_pypdfium2_a_pdf_page_says_what_to_install(client, records, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # import pypdfium2 now fails
    response = client.get(image_url(records["pdf"], 1))
    assert response.status_code == 501
    assert "服务器未安装 pypdfium2" in text_of(response) and "reply-archive[ocr]" in text_of(response)
    assert client.get(image_url(records["tif"], 1)).status_code == 200  # image files need no PDFium


def test_the_reply_page_shows_each_page_beside_the_text(client, records):
    page = text_of(client.get(f"/replies/{records['tif'].id}"))
    assert "识别方式：OCR（unsure-ocr 1）" in page
    assert re.search(r'<a href="#page-1" data-page="1">第1页 95.0%</a>', page)
    assert re.search(r'<a href="#page-2" class="low" data-page="2">第2页 60.0%（偏低，需核对）</a>', page)
    figure = r'<figure id="page-(\d)" class="scan-page( low)?">\s*<img src="([^"]+)" loading="lazy" alt="([^"]+)">'
    figures = re.findall(figure, page)
    assert figures == [("1", "", image_url(records["tif"], 1), "第1页原件扫描图"),
                       ("2", " low", image_url(records["tif"], 2), "第2页原件扫描图")]
    assert '<div class="scan-layout">' in page and 'class="reply scanned"' in page

    plain = text_of(client.get(f"/replies/{records['txt'].id}"))
    assert "识别方式" not in plain and "scan-layout" not in plain and "scanned" not in plain


def test_the_review_view_links_each_low_page_to_its_image(client, records):
    response = client.get("/review?review=ocr_low_confidence")
    page = text_of(response)
    assert response.status_code == 200
    assert "需对照原件核对的页" in page
    link = f'<a href="/replies/{records["tif"].id}#page-2" data-page="2">第2页（置信度 60.0%）</a>'
    assert link in page
    assert page.count("需对照原件核对的页") == 1  # the PDF read well: it is not listed


def test_the_api_lists_the_page_images_of_a_scan(client, records):
    response = client.get(f"/api/replies/{records['tif'].id}")
    check(response, "/api/replies/{reply_id}")
    urls = response.get_json()["page_images"]
    assert urls == [f"http://localhost{image_url(records['tif'], n)}" for n in (1, 2)]
    plain = client.get(f"/api/replies/{records['txt'].id}")
    check(plain, "/api/replies/{reply_id}")
    assert plain.get_json()["page_images"] == []
    assert client.get(urls[1].removeprefix("http://localhost")).status_code == 200


def test_a_kept_copy_is_never_read_through_a_link(tmp_path, scanned):
    archive, index, records = scanned
    copy = tmp_path / "archive"
    write_reply(records["tif"], copy)
    kept = source_path(archive, records["tif"])
    (copy / ".sources").mkdir()
    (copy / ".sources" / kept.name).symlink_to(kept)
    assert client_of(copy, index).get(image_url(records["tif"], 1)).status_code == 404
