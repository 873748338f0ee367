"""The OCR benchmark's scoring and the scan renderer it feeds engines with (no OCR run)."""

from __future__ import annotations

import dataclasses
import io
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench import ocr, scans
from reply_archive import data

SAMPLE = Path(data.__file__).parent / "samples" / "03-elevator-retrofit-lead-2023.txt"


def plain_distance(a: str, b: str) -> int:
    """The textbook dynamic programme, to check the bit-parallel one against."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


@pytest.fixture(scope="module")
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(sample_text: str) -> list[Image.Image]:
    return scans.render_pages(sample_text, dpi=100, seal=True)


def test_edit_distance_agrees_with_the_plain_dynamic_programme():
    rng = random.Random(7)
    alphabet = "关于提案的答复，。一二三abc"
    for _ in range(200):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        assert ocr.edit_distance(a, b) == plain_distance(a, b), (a, b)
    assert ocr.edit_distance("答复如下", "答复如下") == 0
    assert ocr.edit_distance("", "答复") == 2


def test_cer_folds_punctuation_width_and_whitespace():
    reference = "现答复如下：一是“落实补助”。（二）2023年，共10项!"
    read = "现答复 如下:一是\"落实补助\".(二)２０２３年,共10项！\n"
    assert ocr.cer_counts(reference, read) == (0, len(ocr.fold_for_cer(reference)))
    edits, chars = ocr.cer_counts("加装电梯工作", "加装电悌工")
    assert (edits, chars) == (2, 6)


def test_recall_counts_every_reply_whose_source_holds_the_phrase():
    sources = ["推进老旧小区加装电梯", "加装电梯补助资金", "垃圾分类"]
    read = ["推进老旧小区加装电悌", "加装电梯补助资金", "垃圾分类"]
    # 加装电梯 is in two sources and read right in one; 垃圾分类 in one, read right.
    assert ocr.recall_counts(["加装电梯", "垃圾分类", "不在任何一篇"], sources, read) == (2, 3)


def test_phrases_are_sampled_from_the_bodies_within_paragraphs():
    bodies = ["第一段落的文字足够长可以取样。\n\n第二段落也有足够多的文字。"]
    phrases = ocr.sample_phrases(bodies, 20, random.Random(1))
    assert len(phrases) == 20
    assert all(4 <= len(p) <= 12 and p in bodies[0] and "\n" not in p for p in phrases)


def test_fields_of_a_misread_scan_are_graded_against_the_text_version(sample_text: str):
    from reply_archive.archive.ingest import read_source

    truth = read_source(SAMPLE)
    stated = ocr.field_entry(truth)
    assert len(stated) >= 5 and set(ocr.field_grades(truth, truth).values()) == {"right"}
    grades = ocr.field_grades(truth, dataclasses.replace(truth, date=None))
    assert grades["date"] == "missed" and sum(g == "right" for g in grades.values()) == len(stated) - 1
    assert "right" not in ocr.field_grades(truth, None).values()


def test_a_hard_wrapped_source_is_printed_one_paragraph_a_line():
    wrapped = (Path(data.__file__).parent / "seed" / "seed_reply.txt").read_text(encoding="utf-8")
    printed = ocr.printed_text(wrapped).split("\n")
    # 我部作为 / 主办单位 are two lines of the source: printed apart, the role would be lost.
    assert any("我部作为主办单位" in line for line in printed)
    assert "1" not in printed and "" not in printed  # its page numbers and blank lines are gone
    assert len(printed) < len([line for line in wrapped.splitlines() if line.strip()]) / 2


def test_pages_are_a4_numbered_and_deterministic(sample_text: str, pages: list[Image.Image]):
    assert len(pages) == 3
    assert all(p.size == (scans.mm_to_px(210, 100), scans.mm_to_px(297, 100)) for p in pages)
    again = scans.render_pages(sample_text, dpi=100, seal=True)
    assert [p.tobytes() for p in pages] == [p.tobytes() for p in again]
    degraded = [scans.render_pages(sample_text, dpi=100, skew=2, blur=1, jpeg_quality=40, background=220)
                for _ in range(2)]
    assert [p.tobytes() for p in degraded[0]] == [p.tobytes() for p in degraded[1]]
    assert degraded[0][0].tobytes() != again[0].tobytes()


def test_a_longer_text_takes_more_pages(sample_text: str):
    longer = sample_text + "\n".join(["这是一段补充的文字，用于把正文拉长到更多页面。" * 6] * 20)
    assert len(scans.render_pages(longer, dpi=72)) > len(scans.render_pages(sample_text, dpi=72))


def red_pixels(image: Image.Image) -> int:
    rgb = np.asarray(image).astype(int)
    return int(((rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)).sum())


def test_the_seal_is_red_and_only_on_the_last_page(sample_text: str, pages: list[Image.Image]):
    assert red_pixels(pages[-1]) > 1000
    assert all(red_pixels(p) == 0 for p in pages[:-1])
    unsealed = scans.render_pages(sample_text, dpi=100)
    assert red_pixels(unsealed[-1]) == 0


def test_pdf_and_tiff_hold_every_page(pages: list[Image.Image]):
    pypdfium2 = pytest.importorskip("pypdfium2")
    document = pypdfium2.PdfDocument(scans.to_pdf(pages, 100))
    assert len(document) == len(pages)
    document.close()
    with Image.open(io.BytesIO(scans.to_tiff(pages))) as tiff:
        assert getattr(tiff, "n_frames", 1) == len(pages)
        tiff.seek(len(pages) - 1)
        assert red_pixels(tiff.convert("RGB")) > 1000


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="dpi"):
        scans.render_pages("关于提案的答复", dpi=10)
    with pytest.raises(ValueError, match="text"):
        scans.render_pages(" \n ")
