"""Extraction (archive.extract): every format replies come in, and every way one breaks.

PDF, DOCX and HTML fixtures are rendered at test time from the seed and the samples
(tests/formats.py); a legacy .doc converter is stood in for by a script on PATH, since
neither antiword nor LibreOffice can be assumed on a test machine.
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from pathlib import Path

import docx
import pypdf
import pytest

from reply_archive import data
from reply_archive.archive import extract as extract_module
from reply_archive.archive.clean import to_simplified
from reply_archive.archive.errors import ParseError
from reply_archive.archive.extract import decode, extract
from reply_archive.archive.ingest import read_source
from tests import formats
from tests.conftest import SEED

REPLIES = [SEED, *sorted(data.path("samples").glob("*.txt"))]
# Fields that must come out the same whatever the format; id and source name the file.
_SAME = ("id", "source", "body", "sections", "commitments")


def _fields(reply) -> dict:
    """Return the fields to compare, read in simplified script: a Big5 source is
    traditional, and its record quotes it as printed."""
    return {k: _simplified(v) for k, v in reply.to_dict().items() if k not in (*_SAME, "script")}


def _simplified(value):
    if isinstance(value, str):
        return to_simplified(value)
    if isinstance(value, list):
        return [_simplified(v) for v in value]
    if isinstance(value, dict):
        return {k: _simplified(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("fmt", formats.FORMATS)
@pytest.mark.parametrize("path", REPLIES, ids=lambda p: p.stem)
def test_every_format_parses_to_the_same_record(tmp_path, path, fmt):
    expected = read_source(path)
    reply = read_source(formats.write(path.read_text(encoding="utf-8"), fmt, tmp_path, path.stem))
    got, want = _fields(reply), _fields(expected)
    if fmt == "pdf" and path != SEED:
        # In a PDF a line ending a sentence at the right margin cannot be told from the
        # end of a paragraph (domain spec §1), so cleaning may split one there: the
        # opening paragraph can come out shorter (the body is compared below).
        assert want["opening"].startswith(got.pop("opening"))
        want.pop("opening")
    assert got == want
    assert reply.script == ("traditional" if fmt == "txt-big5" else expected.script)
    # The seed's lines do not fall that way, and every other format keeps paragraphs.
    if fmt != "pdf" or path == SEED:
        assert to_simplified(reply.body) == expected.body


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_seed_keeps_title_department_date_and_proposers_in_every_format(tmp_path, fmt):
    reply = read_source(formats.write(SEED.read_text(encoding="utf-8"), fmt, tmp_path, "seed"))
    assert to_simplified(reply.title) == "关于深圳市福田区政协六届二次会议第20220030号提案的办理意见"
    assert to_simplified(reply.department_raw) == "福田区委统战部"
    assert reply.date == "2022-09-23"
    assert tuple(map(to_simplified, reply.proposers)) == ("黄逸昆", "庄伟根", "简伟锋", "黄健诚")


# --- plain text ------------------------------------------------------------------


@pytest.mark.parametrize("fmt, encoding", [
    ("txt-utf8", "utf-8"), ("txt-utf8-bom", "utf-8-sig"), ("txt-gb18030", "gb18030"),
    ("txt-utf16", "utf-16"), ("txt-big5", "big5"),
])
def test_text_encoding_is_detected_and_recorded(tmp_path, fmt, encoding):
    reply = read_source(formats.write(SEED.read_text(encoding="utf-8"), fmt, tmp_path, "seed"))
    assert reply.source.format == "txt" and reply.source.encoding == encoding
    assert reply.script == ("traditional" if encoding == "big5" else "simplified")


def test_gbk_and_gb2312_labels_read_as_gb18030_with_gbk_only_characters():
    text = "关于朱镕基同志——提案的答复"
    assert decode(text.encode("gbk"), "x.txt") == (text, "gb18030")
    assert decode(text.encode("gbk"), "x.html", declared="gb2312") == (text, "gb18030")


def test_big5_is_never_read_as_gb18030_mojibake(tmp_path):
    # GB18030 decodes Big5 bytes without an error: only detection tells them apart.
    raw = formats.to_big5("关于市政协十一届三次会议第0487号提案的答复\n您提出的提案收悉，现答复如下。")
    assert decode(raw, "x.txt") == (raw.decode("big5"), "big5")
    path = tmp_path / "big5.txt"
    path.write_bytes(raw)
    assert extract(path).text == raw.decode("big5")  # kept as printed, in traditional script


def test_declared_charset_is_ignored_when_the_bytes_disagree():
    text = "关于提案的答复"
    assert decode(text.encode("gbk"), "x.html", declared="utf-8") == (text, "gb18030")
    assert decode(text.encode("utf-8"), "x.html", declared="no-such-charset") == (text, "utf-8")


def test_binary_and_undecodable_bytes_are_refused_with_reason():
    with pytest.raises(ParseError, match="binary"):
        decode(b"\x00\x01\x02garbage", "x.txt")
    with pytest.raises(ParseError, match="unknown text encoding"):
        decode(b"\x81\x30\xff\xff\xfe", "x.txt")


# --- PDF -------------------------------------------------------------------------


def test_pdf_pages_are_joined_by_form_feeds(tmp_path):
    path = tmp_path / "seed.pdf"
    path.write_bytes(formats.to_pdf(SEED.read_text(encoding="utf-8")))
    extracted = extract(path)
    pages = len(pypdf.PdfReader(path).pages)
    assert pages > 1 and extracted.text.count("\f") == pages - 1
    assert "\n\f" not in extracted.text  # a sentence running on over a page is not broken
    assert extracted.format == "pdf" and extracted.converter == f"pypdf {pypdf.__version__}"
    assert read_source(path).source.extracted_with == extracted.converter


def test_pdf_without_text_layer_or_readable_scan_is_refused_never_indexed_empty(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(formats.to_pdf("", scanned=True))  # page images of no text
    with pytest.raises(ParseError, match=r"scan\.pdf: scanned PDF \(no usable text layer\), but OCR found no text"):
        extract(path)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"%PDF-1.4\n" + b"\x8f" * 300])
def test_damaged_pdf_is_a_clear_error(tmp_path, damage):
    path = tmp_path / "broken.pdf"
    path.write_bytes(damage(formats.to_pdf(SEED.read_text(encoding="utf-8"))))
    with pytest.raises(ParseError, match="broken.pdf: damaged PDF, cannot be read"):
        extract(path)


def _encrypted(user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(formats.to_pdf(SEED.read_text(encoding="utf-8"))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_locked_by_a_password_is_a_clear_error(tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypted("secret"))
    with pytest.raises(ParseError, match="locked.pdf: PDF is protected by a password"):
        extract(path)


def test_pdf_encrypted_only_against_copying_is_read(tmp_path):
    path = tmp_path / "restricted.pdf"
    path.write_bytes(_encrypted(""))
    assert read_source(path).department_raw == "福田区委统战部"


# --- DOCX ------------------------------------------------------------------------


def _docx_bytes(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_reads_paragraphs_and_tables_in_order_without_headers_or_footers(tmp_path):
    def build(document):
        document.sections[0].header.paragraphs[0].text = "页眉：提案办理专用"
        document.sections[0].footer.paragraphs[0].text = "页脚：第1页"
        document.add_paragraph("表前段落。")
        table = document.add_table(rows=3, cols=3)
        for col, text in enumerate(("序号", "事项", "时限")):
            table.cell(0, col).text = text
        table.cell(1, 0).text = "1"
        table.cell(1, 1).merge(table.cell(1, 2)).text = "合并的单元格"
        table.cell(2, 0).merge(table.cell(2, 1)).text = "横跨两列"
        table.cell(2, 2).text = "年底前"
        table.cell(2, 2).add_paragraph("分两段")
        document.add_paragraph("表后段落。")

    path = tmp_path / "table.docx"
    path.write_bytes(_docx_bytes(build))
    extracted = extract(path)
    assert extracted.text.split("\n") == [
        "表前段落。", "序号\t事项\t时限", "1\t合并的单元格", "横跨两列\t年底前", "分两段", "表后段落。",
    ]
    assert extracted.format == "docx" and extracted.converter == f"python-docx {docx.__version__}"


def test_docx_fixture_signature_table_is_read_and_page_header_left_out(tmp_path):
    path = tmp_path / "seed.docx"
    path.write_bytes(formats.to_docx(SEED.read_text(encoding="utf-8"), page_header="福田区委统战部文件"))
    text = extract(path).text
    assert text.endswith("此复。\n福田区委统战部\n2022年9月23日")  # the signature is a table
    assert "福田区委统战部文件" not in text and "第 1 页" not in text


def test_docx_that_is_no_zip_or_no_word_file_is_a_clear_error(tmp_path):
    path = tmp_path / "fake.docx"
    path.write_bytes(b"just some text")
    with pytest.raises(ParseError, match="fake.docx: not a DOCX file \\(not a ZIP archive\\)"):
        extract(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "不是 Word 文件")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ParseError, match="fake.docx: damaged or not a Word DOCX"):
        extract(path)


def test_docx_zip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(extract_module, "MAX_UNPACKED_BYTES", 1000)
    path = tmp_path / "bomb.docx"
    path.write_bytes(formats.to_docx(SEED.read_text(encoding="utf-8")))
    with pytest.raises(ParseError, match="bomb.docx: DOCX unpacks to .* refused"):
        extract(path)


def test_content_decides_over_the_name(tmp_path):
    path = tmp_path / "really-a-docx.doc"
    path.write_bytes(formats.to_docx(SEED.read_text(encoding="utf-8")))
    reply = read_source(path)
    assert reply.source.format == "docx" and reply.department_raw == "福田区委统战部"


# --- legacy .doc -------------------------------------------------------------------


@pytest.fixture
def bin_dir(tmp_path, monkeypatch) -> Path:
    """Return a folder that is the whole PATH: no real converter is found."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def _fake_tool(bin_dir: Path, name: str, body: str) -> Path:
    """Install a stand-in converter: a Python script that logs its arguments."""
    script = bin_dir / name
    script.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"pathlib.Path({str(bin_dir / (name + '.args'))!r}).write_text('\\n'.join(sys.argv[1:]))\n{body}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bin_dir / f"{name}.args"


def _word97(tmp_path: Path) -> Path:
    path = tmp_path / "-reply.doc"  # a leading dash must not read as an option
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return path


def test_doc_is_converted_with_antiword(tmp_path, bin_dir):
    args = _fake_tool(bin_dir, "antiword", f"sys.stdout.buffer.write(pathlib.Path({str(SEED)!r}).read_bytes())")
    _fake_tool(bin_dir, "soffice", "sys.exit('LibreOffice must not be used when antiword is there')")
    path = _word97(tmp_path)
    reply = read_source(path)
    assert args.read_text().split("\n") == ["-w", "0", "-m", "UTF-8.txt", str(path.absolute())]
    assert reply.source.format == "doc" and reply.source.extracted_with == "antiword"
    assert reply.department_raw == "福田区委统战部" and reply.date == "2022-09-23"


def test_doc_falls_back_to_libreoffice(tmp_path, bin_dir):
    args = _fake_tool(bin_dir, "soffice", (
        "out = sys.argv[sys.argv.index('--outdir') + 1]\n"
        "stem = pathlib.Path(sys.argv[-1]).stem\n"
        f"pathlib.Path(out, stem + '.txt').write_bytes(b'\\xef\\xbb\\xbf' + pathlib.Path({str(SEED)!r}).read_bytes())"
    ))
    path = _word97(tmp_path)
    reply = read_source(path)
    called = args.read_text().split("\n")
    assert called[0].startswith("-env:UserInstallation=file://") and "--headless" in called
    assert called[called.index("--convert-to") + 1] == "txt:Text (encoded):UTF8"
    assert reply.source.extracted_with == "libreoffice" and reply.department_raw == "福田区委统战部"


def test_doc_without_a_converter_says_how_to_get_one(tmp_path, bin_dir):
    with pytest.raises(
        ParseError, match=r"-reply\.doc: legacy Word \.doc needs a converter: install antiword.*save it as \.docx"
    ):
        extract(_word97(tmp_path))


def test_doc_converter_failure_and_hang_are_clear_errors(tmp_path, bin_dir, monkeypatch):
    _fake_tool(bin_dir, "antiword", "sys.stderr.write('is not a Word Document.\\n'); sys.exit(1)")
    with pytest.raises(ParseError, match="antiword could not read it: is not a Word Document."):
        extract(_word97(tmp_path))
    _fake_tool(bin_dir, "antiword", "import time; time.sleep(30)")
    monkeypatch.setattr(extract_module, "CONVERTER_TIMEOUT", 0.5)
    with pytest.raises(ParseError, match="antiword did not finish within 0.5 s"):
        extract(_word97(tmp_path))


# --- web pages -----------------------------------------------------------------------


def _page(tmp_path: Path, content: bytes, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_government_page_yields_the_article_without_page_furniture(tmp_path):
    extracted = extract(_page(tmp_path, formats.to_html(SEED.read_text(encoding="utf-8"))))
    lines = extracted.text.split("\n")
    assert lines[0] == "关于深圳市福田区政协六届二次会议第20220030号提案的办理意见"
    assert lines[1] == "黄逸昆、庄伟根、简伟锋、黄健诚委员：" and lines[-1] == "2022年9月23日"
    for furniture in ("首页", "政务公开", "当前位置", "字体", "扫一扫", "浏览次数", "[打印]", "[关闭窗口]",
                      "分享到", "主办单位：", "网站标识码", "脚本写入", "宋体", "索引号", "统计代码", "11440304"):
        assert furniture not in extracted.text, furniture
    assert extracted.encoding == "gb18030" and extracted.format == "html"


def test_page_metadata_table_is_read_and_passed_to_the_parser(tmp_path):
    text = (
        "关于市政协十二届二次会议第0045号提案的答复\n王一帆委员：\n您提出的提案收悉。现答复如下：\n"
        "此复。\n青溪市教育局\n2023年6月28日"
    )
    page = formats.to_html(text, metadata={
        "索引号": "QX-0045/2023-00028", "主题分类": "教育", "发文机关": "青溪市教育局",
        "发文字号": "青教提函[2023]28号", "成文日期": "2023年6月28日", "发布日期": "2023-07-03",
        "标题": "关于市政协十二届二次会议第0045号提案的答复",
    })
    path = _page(tmp_path, page)
    assert extract(path).metadata == {
        "索引号": "QX-0045/2023-00028", "主题分类": "教育", "发文机关": "青溪市教育局", "文号": "青教提函[2023]28号",
        "成文日期": "2023年6月28日", "发布日期": "2023-07-03", "标题": "关于市政协十二届二次会议第0045号提案的答复",
    }
    assert read_source(path).doc_number == "青教提函〔2023〕28号"  # stated by the page only


def test_widgets_and_metadata_inside_the_article_container_are_left_out(tmp_path):
    page = """<html><body><div class="content">
    <table><tr><td>索 引 号：</td><td>QX-0045</td><td>发布日期：</td><td>2023-07-03</td></tr></table>
    <p>关于市政协十二届二次会议第0045号提案的答复</p><p>王一帆委员：</p>
    <p>您提出的提案收悉。现答复如下：我局将于年底前完成评估。</p><p>此复。</p>
    <p>青溪市教育局</p><p>2023年6月28日</p>
    <p>【字体：大 中 小】【打印】【关闭】</p><p>扫一扫在手机打开当前页</p><p>浏览次数：1024</p>
    </div></body></html>"""
    extracted = extract(_page(tmp_path, page.encode()))
    assert extracted.text.split("\n") == [
        "关于市政协十二届二次会议第0045号提案的答复", "王一帆委员：",
        "您提出的提案收悉。现答复如下：我局将于年底前完成评估。", "此复。", "青溪市教育局", "2023年6月28日",
    ]
    assert extracted.metadata == {"索引号": "QX-0045", "发布日期": "2023-07-03"}


def test_paragraph_starting_with_a_label_word_is_no_metadata(tmp_path):
    page = "<html><body><p>名称变更后，我局将按新名称办理。</p><p>标题</p><p>关于提案的答复</p></body></html>"
    extracted = extract(_page(tmp_path, page.encode()))
    assert extracted.metadata == {"标题": "关于提案的答复"}
    assert extracted.text.startswith("关于提案的答复\n名称变更后，我局将按新名称办理。")


def test_page_title_is_put_back_only_when_the_article_lacks_it(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    for in_article in (False, True):
        page = formats.to_html(text, title_in_article=in_article, metadata={})
        extracted = extract(_page(tmp_path, page)).text
        assert extracted.count("第20220030号提案的办理意见") == 1
        assert extracted.split("\n")[1 + in_article] == "黄逸昆、庄伟根、简伟锋、黄健诚委员："


def test_page_title_goes_after_header_lines_and_before_the_salutation(tmp_path):
    sample = data.path("samples", "01-edu-after-school-2019.txt").read_text(encoding="utf-8")
    lines = extract(_page(tmp_path, formats.to_html(sample))).text.split("\n")
    assert lines[:6] == ["A类", "同意对外公开", "青溪市教育局", "青教提函〔2019〕15号 签发人：许文澜",
                         "关于市政协十一届三次会议第0487号提案的答复", "沈知秋委员："]


@pytest.mark.parametrize("page, encoding", [
    ('<html><head><meta charset="utf-8"></head><body><p>关于朱镕基——提案的答复</p></body></html>'.encode(), "utf-8"),
    (b"\xef\xbb\xbf" + '<html><meta charset="gb2312"><p>关于朱镕基——提案的答复</p></html>'.encode(), "utf-8-sig"),
    (
        '<?xml version="1.0" encoding="gb2312"?><html><body><p>关于朱镕基——提案的答复</p></body></html>'.encode("gbk"),
        "gb18030",
    ),
    (
        '<html><body><p>关于朱镕基——提案的答复</p><p>您提出的提案收悉，现答复如下。</p></body></html>'.encode("gbk"),
        "gb18030",
    ),
])
def test_page_encoding_comes_from_bom_label_or_detection(tmp_path, page, encoding):
    extracted = extract(_page(tmp_path, page))
    assert extracted.encoding == encoding and extracted.text.startswith("关于朱镕基——提案的答复")


def test_big5_page_keeps_its_script_and_parses(tmp_path):
    path = _page(tmp_path, formats.to_html(SEED.read_text(encoding="utf-8"), encoding="big5", charset="big5"))
    extracted = extract(path)
    assert extracted.encoding == "big5"
    assert "扫一扫" not in extracted.text and "掃一掃" not in extracted.text  # furniture, read in either script
    reply = read_source(path)
    assert reply.script == "traditional"
    assert to_simplified("、".join(reply.proposers)) == "黄逸昆、庄伟根、简伟锋、黄健诚"


def test_page_layout_follows_the_browser(tmp_path):
    page = """<html><body><table><tr><td class="nav"><a href="/">首页</a></td></tr>
    <tr><td class="content">关于市政协提案的答复<br>王一帆委员：<br>您提出的提案收悉。经认真研究，现将构
    建托育体系的情况答复如下。<br>此复。</td></tr></table>
    <div class="footer">版权所有</div></body></html>"""
    text = extract(_page(tmp_path, page.encode())).text
    assert text.split("\n") == [
        "关于市政协提案的答复", "王一帆委员：", "您提出的提案收悉。经认真研究，现将构建托育体系的情况答复如下。",
        "此复。",
    ]


def test_empty_or_textless_page_is_a_clear_error(tmp_path):
    with pytest.raises(ParseError, match="page.html: not a readable web page"):
        extract(_page(tmp_path, b"   "))
    with pytest.raises(ParseError, match="no Chinese text"):
        read_source(_page(tmp_path, b"<html><body><script>var x = 1;</script></body></html>"))


# --- files that are not replies ------------------------------------------------------


def test_unknown_suffix_lists_the_readable_ones(tmp_path):
    path = tmp_path / "reply.xls"
    path.write_bytes(b"x")
    with pytest.raises(ParseError, match=r"reply.xls: unsupported format \.xls: the readable ones are .*\.docx.*\.pdf"):
        extract(path)


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(50 * 2**20)  # sparse: 50 MiB that takes no disk
    with pytest.raises(ParseError, match=r"huge.txt: too large \(50.0 MiB\); sources over 20 MiB are refused"):
        extract(path)


def test_empty_file_and_fifo_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(ParseError, match="empty.txt: empty file"):
        extract(tmp_path / "empty.txt")
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    with pytest.raises(ParseError, match="pipe.txt: not a regular file"):
        extract(tmp_path / "pipe.txt")


def test_unreadable_file_reports_the_reason(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_bytes(SEED.read_bytes())
    path.chmod(0)
    real_open = Path.open

    def denied(self, *args, **kwargs):  # root reads a mode-000 file anyway: refuse as the OS would
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(ParseError, match="secret.txt: cannot read: Permission denied"):
        extract(path)


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "no-such-charset"])
def test_a_page_declaring_a_non_text_charset_is_read_by_detection(tmp_path, charset):
    page = formats.to_html(SEED.read_text(encoding="utf-8"), encoding="utf-8", charset=charset)
    reply = read_source(_page(tmp_path, page))
    assert reply.department_raw == "福田区委统战部"


def test_an_unexpected_reader_failure_fails_one_file_not_the_batch(tmp_path, monkeypatch):
    from reply_archive.archive.ingest import ingest

    good, bad = tmp_path / "good.txt", tmp_path / "bad.pdf"
    good.write_bytes(SEED.read_bytes())
    bad.write_bytes(b"%PDF-1.4 whatever")

    def explode(*args):
        raise RuntimeError("the PDF library fell over")

    monkeypatch.setattr(extract_module, "_pdf", explode)
    report = ingest([bad, good], tmp_path / "archive")
    assert report.added == ["good.txt"]
    assert report.failed == [("bad.pdf", "unexpected error while reading: RuntimeError: the PDF library fell over")]
