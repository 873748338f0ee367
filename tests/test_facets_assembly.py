"""届次 qualified by the body that held it, the assembly facet, the result-category chart."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest

from reply_archive.archive.model import Assembly, Reply, Source, session_label_of
from reply_archive.archive.parse import parse_reply
from reply_archive.archive.store import write_reply
from reply_archive.indexer.build import build_index
from reply_archive.indexer.facets import facet_list
from reply_archive.indexer.results import Statistics, result_parts
from reply_archive.indexer.search import ReplyIndex
from reply_archive.web import create_app

SOURCE = Source(file="reply.txt", format="txt", sha256="0" * 64, parser_version="test")
BODY = "王一帆委员：\n\n您提出的提案收悉，现答复如下：\n\n我局已完成。\n\n此复。"


def reply(n: int, *, region: str | None, channel: str = "cppcc", level: str = "city", label: str | None = "十三届二次",
          department: str = "青溪市教育局", result: str | None = "A") -> Reply:
    return Reply(id=f"{n:016x}", title=f"答复{n}", body=BODY, channel=channel, session_label=label,
                 assembly=Assembly(type=channel, level=level, region=region), department=department,
                 result_category=result, year=2023)


@pytest.mark.parametrize("record, qualified, body", [
    (reply(1, region="青溪市"), "青溪市政协十三届二次", "青溪市政协"),
    (reply(2, region="深圳市福田区", level="county", channel="npc"), "深圳市福田区人大十三届二次", "深圳市福田区人大"),
    (reply(3, region=None, level="national"), "全国政协十三届二次", "全国政协"),
    (reply(4, region=None), "政协·十三届二次", None),
    (reply(5, region=None, channel="npc", level="county"), "人大·十三届二次", None),
    (dataclasses.replace(reply(6, region=None), channel=None, assembly=Assembly()), "会议不详·十三届二次", None),
    (reply(7, region="青溪市", label=None), None, "青溪市政协"),
])
def test_the_session_is_qualified_by_its_body_and_never_left_bare(record, qualified, body):
    assert record.qualified_session == qualified
    assert record.assembly.name == body
    assert record.session_label in (None, "十三届二次")  # the record's field is unchanged
    if qualified:
        assert session_label_of(qualified) == "十三届二次"


def test_session_label_of_reads_the_trailing_label_only():
    assert session_label_of("青溪市政协十二届一次") == "十二届一次"
    assert session_label_of("二届一次") == "二届一次"
    assert session_label_of("青溪市政协") is None


@pytest.mark.parametrize("title, department, qualified", [
    ("关于深圳市福田区政协六届二次会议第20220030号提案的办理意见", "中共深圳市福田区委统一战线工作部",
     "深圳市福田区政协六届二次"),
    ("关于市政协十二届一次会议第0301号提案的答复", "青溪市教育局", "青溪市政协十二届一次"),
    ("关于市十六届人大二次会议第0012号建议的答复", "青溪市发展和改革委员会", "青溪市人大十六届二次"),
    ("关于全国政协十三届二次会议第1234号提案的答复", "教育部", "全国政协十三届二次"),
])
def test_parsed_replies_carry_the_qualified_session(title, department, qualified):
    salutation = "王一帆代表：" if "人大" in title else "王一帆委员："
    text = f"{title}\n{salutation}\n您提出的建议收悉，现答复如下：\n我局已完成。\n此复。\n{department}\n2023年6月28日"
    record = parse_reply(text, source=SOURCE)
    assert record.qualified_session == qualified
    assert record.session_label == session_label_of(qualified)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Two bodies with the same 届次, one of them twice, and a body of unknown region."""
    root = tmp_path_factory.mktemp("assemblies")
    records = [
        reply(1, region="青溪市", result="B"),
        reply(2, region="青溪市", result=None),
        reply(3, region="临江区", level="county", department="临江区民政局", result="C"),
        reply(4, region=None, result="A"),
        reply(5, region="青溪市", label="十三届一次", result="A"),
    ]
    for record in records:
        write_reply(record, root / "archive")
    build_index(records, root / "index")
    return root


def facets(results) -> dict[str, dict[str, int]]:
    return {f.name: {v.value: v.count for v in f.values} for f in results.facets}


def test_facet_counts_keep_two_bodies_with_the_same_session_apart(archive):
    found = facets(ReplyIndex(archive / "index").search(""))
    assert found["session"] == {"青溪市政协十三届二次": 2, "临江区政协十三届二次": 1, "政协·十三届二次": 1,
                                "青溪市政协十三届一次": 1}
    assert found["assembly"] == {"青溪市政协": 3, "临江区政协": 1}


def test_a_qualified_session_or_an_assembly_selects_one_body(archive):
    index = ReplyIndex(archive / "index")
    assert index.search("", filters={"session": ["青溪市政协十三届二次"]}).total == 2
    assert {h.id for h in index.search("", filters={"assembly": ["临江区政协"]}).hits} == {f"{3:016x}"}


def test_a_bare_session_still_selects_that_session_of_every_body(archive):
    index = ReplyIndex(archive / "index")
    results = index.search("", filters={"session": ["十三届二次"]})
    assert results.total == 4
    session = next(f for f in results.facets if f.name == "session")
    # The bare value is no row of its own: the values it picks show as selected.
    assert {v.value for v in session.values if v.selected} == {
        "青溪市政协十三届二次", "临江区政协十三届二次", "政协·十三届二次"}
    assert "十三届二次" not in {v.value for v in session.values}
    assert index.search("", filters={"session": ["三届二次"]}).total == 0  # a label, not a suffix


def test_facet_list_keeps_a_selected_qualified_value_visible_at_zero():
    listed = facet_list({"session": {}}, {"session": ("青溪市政协九届一次",)})
    session = next(f for f in listed if f.name == "session")
    assert [(v.value, v.count, v.selected) for v in session.values] == [("青溪市政协九届一次", 0, True)]


def test_result_categories_are_drawn_a_to_d_then_others_then_unmarked():
    assert result_parts({"": 4, "C": 1, "A": 2, "E": 1, "B": 3}) == (("A", 2), ("B", 3), ("C", 1), ("E", 1), ("", 4))


def test_the_results_table_gives_each_department_its_total(archive):
    stats = ReplyIndex(archive / "index").statistics()
    assert dict(stats.results_by_department)["青溪市教育局"] == (("A", 2), ("B", 1), ("", 1))
    header, rows = stats.tables()["results"]
    assert header == ("department", "A", "B", "C", "D", "unmarked", "total")
    assert ("青溪市教育局", 2, 1, 0, 0, 1, 4) in rows
    extra = Statistics(total=2, by_year=(), by_department=(), by_topic=(),
                       results_by_department=(("某局", (("A", 1), ("E", 1))),))
    assert extra.tables()["results"][1] == [("某局", 1, 0, 0, 0, 0, 2)]  # N counts every category


def test_the_chart_draws_unmarked_last_with_n_per_department(archive):
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive / "archive"),
                         "INDEX_DIR": str(archive / "index")}).test_client()
    page = client.get("/stats").get_data(as_text=True)
    chart = page[page.index('<svg class="chart stacked"'):]
    chart = chart[: chart.index("</svg>")]
    legend = re.findall(r'class="label">([^<]+)</text>', chart)[:5]
    assert legend == ["A类", "B类", "C类", "D类", "未标注"]
    row = chart[chart.index(">青溪市教育局<"):]
    assert "共 4 件" in row[: row.index("<rect")]
    assert re.findall(r'class="cat-(\w+)"><title>青溪市教育局', row) == ["A", "B", "none"]
    assert "style=" not in chart
    table = list(csv.reader(io.StringIO(client.get("/api/stats?chart=results&format=csv").data.decode("utf-8-sig"))))
    assert table[0][-2:] == ["未标注", "合计"] and ["青溪市教育局", "2", "1", "0", "0", "1", "4"] in table
