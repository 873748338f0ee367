"""Exports a spreadsheet opens as they are, file names that say what they hold, and
citations in GB/T 7714-2015 form with RIS and BibTeX for reference managers."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import zipfile
from datetime import date
from urllib.parse import unquote

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from reply_archive.archive.store import write_reply
from reply_archive.indexer.build import build_index
from reply_archive.indexer.results import COMMITMENT_STATUSES
from reply_archive.web import config, create_app
from reply_archive.web.cli import cli
from reply_archive.web.formats import (
    EXPORT_COLUMNS,
    column_label,
    content_disposition,
    csv_rows,
    download_name,
)
from reply_archive.web.render import citation, labels
from tests.test_openapi import check

HEADER = [column_label(c) for c in EXPORT_COLUMNS]
HOSTILE_TITLE = '=HYPERLINK("x")'
DIGIT_ID = "1234567890123456"  # a valid id of hex digits that are all decimal


@pytest.fixture
def hostile(tmp_path, seed_reply):
    """Serve two records a spreadsheet would mangle: a formula and a control character in
    titles, an id of 16 decimal digits, a proposal number with a leading zero, TeX markup."""
    replies = [
        dataclasses.replace(seed_reply, id=DIGIT_ID, title=HOSTILE_TITLE, proposal_numbers=("0087",),
                            department="青溪市民政局", channel="cppcc"),
        dataclasses.replace(seed_reply, id="b" * 16, title="关于《青溪市养老条例》\x01修订的答复 {50%} & $#_\\~^",
                            proposal_numbers=("1/2", "1e5"), doc_number=None, department=None, department_raw=None),
    ]
    for reply in replies:
        write_reply(reply, tmp_path / "archive")
    build_index(replies, tmp_path / "index")
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(tmp_path / "archive"), "INDEX_DIR": str(tmp_path / "index")})
    return app.test_client()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_cells_read_back_as_the_texts_a_spreadsheet_keeps():
    values = ["0087", DIGIT_ID, "20220030", "1/2", "3-4", "1e5", "2023-06-15", "6月15日", "TRUE", "50%", "(5)",
              HOSTILE_TITLE, "-2+3", "\t=1", "关于第0087号提案的答复", "A"]
    rows = [{"title": value, "year": 2023} for value in values]
    data = b"".join(csv_rows(rows, ["title", "year"]))
    header, *table = _csv(data)
    assert header == ["标题", "年度"]
    # Formulas start with an apostrophe; numbers, dates, fractions and truth values
    # with a tab; other text, and the year (a number), as they are.
    assert [line[0] for line in table] == [
        "\t0087", f"\t{DIGIT_ID}", "\t20220030", "\t1/2", "\t3-4", "\t1e5", "\t2023-06-15", "\t6月15日", "\tTRUE",
        "\t50%", "\t(5)", "'" + HOSTILE_TITLE, "'-2+3", "'\t=1", "关于第0087号提案的答复", "A",
    ]
    assert {line[1] for line in table} == {"2023"}
    # Every text cell is quoted, so a tab inside one cannot split it; the year is not.
    assert '"\t0087",2023\r\n' in data.decode("utf-8-sig")


def test_csv_export_has_chinese_headers_and_guarded_cells(hostile):
    response = hostile.get("/api/export?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *table = _csv(response.data)
    assert header == HEADER and header[:4] == ["编号", "标题", "提案（建议）标题", "提案（建议）号"]
    rows = {line[0].lstrip("\t"): dict(zip(header, line, strict=True)) for line in table}
    assert rows[DIGIT_ID]["编号"] == f"\t{DIGIT_ID}" and rows[DIGIT_ID]["提案（建议）号"] == "\t0087"
    assert rows[DIGIT_ID]["标题"] == "'" + HOSTILE_TITLE
    assert rows["b" * 16]["提案（建议）号"] == "1/2、1e5"  # joined, no longer a fraction or a number


def _sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_xlsx_export_keeps_text_as_text_and_numbers_as_numbers(hostile):
    response = hostile.get("/api/export?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
            "xl/worksheets/sheet1.xml"} == set(names)
    sheet = _sheet(response.data)
    assert [cell.value for cell in sheet[1]] == HEADER
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{get_column_letter(len(HEADER))}{sheet.max_row}"
    rows = {row[0].value: {h: c for h, c in zip(HEADER, row, strict=True)} for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {DIGIT_ID, "b" * 16}
    digits = rows[DIGIT_ID]
    for name, value in (("编号", DIGIT_ID), ("提案（建议）号", "0087"), ("标题", HOSTILE_TITLE)):
        assert digits[name].value == value and digits[name].data_type == "s", name  # text, never a formula
        assert digits[name].quotePrefix  # and stays text when the cell is edited
    assert digits["年度"].value == 2022 and digits["年度"].data_type == "n"
    assert digits["答复日期"].value == "2022-09-23" and digits["答复日期"].data_type == "s"
    assert digits["链接"].value == f"http://localhost/replies/{DIGIT_ID}"
    other = rows["b" * 16]
    assert other["标题"].value == "关于《青溪市养老条例》修订的答复 {50%} & $#_\\~^"  # the control character dropped
    assert other["承办单位"].value is None and not other["标题"].quotePrefix
    widths = {key: dimension.width for key, dimension in sheet.column_dimensions.items()}
    year = get_column_letter(EXPORT_COLUMNS.index("year") + 1)
    assert widths["B"] > widths[year] >= 6 and max(widths.values()) <= 60  # the title wide, the year narrow


def test_spreadsheets_show_labels_and_qualified_sessions_where_json_lines_keeps_codes(client, replies):
    by_id = {r.id: r for r in replies}
    table = _csv(client.get("/api/export?format=csv").data)
    header, rows = table[0], table[1:]
    channel, session, bare = header.index("类型"), header.index("会议届次"), header.index("届次")
    assert {row[channel] for row in rows} == {"政协提案", "人大建议"}
    for row in rows:
        reply = by_id[row[0]]
        assert row[session] == (reply.qualified_session or "") and row[bare] == (reply.session_label or "")
    sheet = _sheet(client.get("/api/export?format=xlsx").data)
    kinds = {cell.value for cell in next(sheet.iter_cols(min_col=channel + 1, max_col=channel + 1, min_row=2))}
    assert kinds == {"政协提案", "人大建议"}
    lines = [json.loads(line) for line in client.get("/api/export").get_data(as_text=True).splitlines()]
    assert {row["channel"] for row in lines} == {"cppcc", "npc"}
    assert all(row["qualified_session"] == by_id[row["id"]].qualified_session for row in lines)


def test_a_commitments_spreadsheet_shows_each_status_by_its_label(client):
    statuses = {row["status"] for row in map(json.loads, client.get("/api/commitments?format=jsonl").data.splitlines())}
    table = _csv(client.get("/api/commitments?format=csv").data)
    column = table[0].index("状态")
    assert {row[column] for row in table[1:]} == {labels()["values"]["status"][code] for code in statuses}
    assert len(statuses) > 1 and statuses <= set(COMMITMENT_STATUSES)
    sheet = _sheet(client.get("/api/commitments?format=xlsx").data)
    assert {c.value for c in next(sheet.iter_cols(min_col=column + 1, max_col=column + 1, min_row=2))} == {
        labels()["values"]["status"][code] for code in statuses}


def test_ris_names_the_session_with_its_body(client, seed_reply):
    ris = client.get(f"/api/replies/{seed_reply.id}/cite?format=ris").get_data(as_text=True)
    assert f"N1  - 届次：{seed_reply.qualified_session}\r\n" in ris and "福田区政协六届二次" in ris


def test_an_export_of_a_query_holds_each_hit_s_first_passage_of_its_words(client, replies):
    def rows(url):
        return list(csv.DictReader(io.StringIO(client.get(url).data.decode("utf-8-sig"))))

    found = rows("/api/export?format=csv&q=电梯")
    assert found and all("电梯" in row["摘录"] and "<" not in row["摘录"] for row in found)
    assert {row["摘录"] for row in rows("/api/export?format=csv")} == {""}  # no words: no passage


def test_statistics_download_as_a_workbook_with_numbers(client, replies):
    response = client.get("/api/stats?chart=year&format=xlsx")
    sheet = _sheet(response.data)
    assert [cell.value for cell in sheet[1]] == ["年度", "件数"]
    counts = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert counts == {y: sum(1 for r in replies if r.year == y) for y in {r.year for r in replies if r.year}}
    assert client.get("/api/stats?chart=year&format=ris").get_json()["parameter"] == "format"


def test_the_command_line_writes_the_web_s_workbook_byte_for_byte(archive_dir, index_dir, monkeypatch):
    base = "https://archive.example.org"
    monkeypatch.setenv(config.BASE_URL_ENV, base)
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir),
                         "BASE_URL": base}).test_client()
    for fmt in ("xlsx", "bibtex"):
        result = CliRunner().invoke(cli, ["export", "养老", "--index", str(index_dir), "--format", fmt])
        assert result.exit_code == 0
        assert result.stdout_bytes == client.get(f"/api/export?q=养老&format={fmt}").data, fmt


def test_a_download_is_named_after_what_it_holds(client):
    may_day = date(2024, 5, 1)
    assert download_name("答复检索", "养老", {"year": ["2024"]}, today=may_day) == "答复检索_养老_2024_2024-05-01"
    assert download_name("答复检索", "", {}, today=may_day) == "答复检索_全部_2024-05-01"
    today = date.today().isoformat()
    response = client.get("/api/export?q=养老 托育&year=2023&format=xlsx")
    disposition = response.headers["Content-Disposition"]
    assert disposition == (f'attachment; filename="reply-archive_2023_{today}.xlsx"; '
                           f"filename*=UTF-8''{re.search(r'%[^;]*$', disposition)[0]}")
    assert unquote(disposition.split("UTF-8''")[1]) == f"答复检索_养老-托育_2023_{today}.xlsx"


def test_a_hostile_query_cannot_break_the_file_name():
    name = download_name("答复检索", '../"evil"\\name\r\n\u202e\x00' + "养" * 100, {"review": ["missing:date"]})
    assert not re.search(r'[/\\"\'\x00-\x1f\u202e:*?<>|]', name)
    assert len(name) <= 72 + 11 and "养" * 10 in name and "missing-date" in name
    header = content_disposition(name + ".csv")
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert unquote(header.split("UTF-8''")[1]) == name + ".csv"
    assert re.fullmatch(r'attachment; filename="[0-9A-Za-z._-]+"; .*', header)


def test_the_citation_follows_gb_t_7714_and_nests_no_book_title_marks(seed_reply):
    reply = dataclasses.replace(seed_reply, title="关于《青溪市养老条例》实施的提案的答复", department="青溪市民政局",
                                doc_number="青民函〔2023〕12号", date="2023-06-15")
    cited = citation(reply, "https://a.example/replies/x", cited=date(2026, 12, 1))
    assert cited == ("青溪市民政局. 关于《青溪市养老条例》实施的提案的答复: 青民函〔2023〕12号[A/OL]. "
                     "(2023-06-15)[2026-12-01]. https://a.example/replies/x")
    unsigned = dataclasses.replace(reply, department=None, department_raw=None, doc_number=None, date=None)
    expected = "佚名. 关于《青溪市养老条例》实施的提案的答复[A/OL]. [2026-12-01]. u"
    assert citation(unsigned, "u", cited=date(2026, 12, 1)) == expected


def test_the_reply_page_shows_the_citation_and_offers_it_to_reference_managers(client, seed_reply):
    page = client.get(f"/replies/{seed_reply.id}").get_data(as_text=True)
    link = f"http://localhost/replies/{seed_reply.id}"
    today = date.today().isoformat()
    expected = f"中共深圳市福田区委统一战线工作部. {seed_reply.title}[A/OL]. (2022-09-23)[{today}]. {link}"
    assert f'data-citation="{expected}"' in page  # the copy buttons append #p-N to the link
    assert f"引用（GB/T 7714—2015）：{expected}" in page
    assert f"/api/replies/{seed_reply.id}/cite?format=ris" in page and "RIS（NoteExpress / EndNote / Zotero）" in page
    assert f"/api/replies/{seed_reply.id}/cite?format=bibtex" in page


def test_one_reply_cites_as_text_ris_and_bibtex(hostile):
    text = hostile.get(f"/api/replies/{DIGIT_ID}/cite")
    assert text.mimetype == "text/plain"
    assert text.get_data(as_text=True).startswith(f"青溪市民政局. {HOSTILE_TITLE}[A/OL]. (2022-09-23)[")

    ris = hostile.get(f"/api/replies/{DIGIT_ID}/cite?format=ris")
    assert ris.mimetype == "application/x-research-info-systems" and "attachment" in ris.headers["Content-Disposition"]
    lines = ris.get_data(as_text=True).split("\r\n")
    assert lines[:3] == ["TY  - GOVDOC", f"TI  - {HOSTILE_TITLE}", "AU  - 青溪市民政局"]
    assert f"UR  - http://localhost/replies/{DIGIT_ID}" in lines and lines.count("ER  - ") == 1

    bib = hostile.get(f"/api/replies/{DIGIT_ID}/cite?format=bibtex")
    assert bib.mimetype == "application/x-bibtex"
    assert bib.headers["Content-Disposition"].endswith(".bib")
    entry = bib.get_data(as_text=True)
    assert entry.startswith(f"@misc{{reply-{DIGIT_ID},\n  author = {{{{青溪市民政局}}}},\n")
    for field in ("year = {2022}", "date = {2022-09-23}", f"url = {{http://localhost/replies/{DIGIT_ID}}}",
                  f"urldate = {{{date.today().isoformat()}}}", "note = {第0087号政协提案}", "langid = {chinese}"):
        assert f"  {field}" in entry, field


def test_bibtex_escapes_what_tex_reads_as_markup(hostile):
    entry = hostile.get(f"/api/replies/{'b' * 16}/cite?format=bibtex").get_data(as_text=True)
    escaped = r"\{50\%\} \& \$\#\_\textbackslash{}\textasciitilde{}\textasciicircum{}"
    assert f"title = {{关于《青溪市养老条例》修订的答复 {escaped}}}" in entry  # the control character dropped
    assert "author" not in entry  # no department: no author rather than an empty one
    assert entry.count("{") == entry.count("}")


@pytest.mark.parametrize("url, status, parameter", [
    (f"/api/replies/{'f' * 16}/cite", 404, None),
    (f"/api/replies/{DIGIT_ID}/cite?format=endnote", 400, "format"),
    ("/api/export?format=xls", 400, "format"),
])
def test_bad_citation_and_export_requests_are_json_errors(hostile, url, status, parameter):
    response = hostile.get(url)
    assert response.status_code == status and response.get_json()["parameter"] == parameter


def test_the_search_page_offers_every_export(client):
    page = client.get("/search?q=收悉").get_data(as_text=True)
    for fmt, label in (("xlsx", "Excel（XLSX）"), ("csv", "CSV"), ("jsonl", "JSON Lines"),
                       ("ris", "RIS（NoteExpress / EndNote / Zotero）"), ("bibtex", "BibTeX")):
        assert f"format={fmt}\" download>{label}</a>" in page, fmt


@pytest.mark.parametrize("url, path", [
    (f"/api/replies/{DIGIT_ID}/cite", "/api/replies/{reply_id}/cite"),
    (f"/api/replies/{DIGIT_ID}/cite?format=ris", "/api/replies/{reply_id}/cite"),
    (f"/api/replies/{DIGIT_ID}/cite?format=bibtex", "/api/replies/{reply_id}/cite"),
    (f"/api/replies/{DIGIT_ID}/cite?format=endnote", "/api/replies/{reply_id}/cite"),
    (f"/api/replies/{'f' * 16}/cite", "/api/replies/{reply_id}/cite"),
    ("/api/export?format=bibtex", "/api/export"),
])
def test_citations_and_exports_match_the_document(hostile, url, path):
    check(hostile.get(url), path)
