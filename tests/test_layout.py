"""Replies as government pages publish them (archive.layout and the parser on top).

The inputs are fictional (青溪市, 临江区, 江澜省 and every name are made up), each laid
out as real published replies are: page furniture, metadata blocks, titles split,
repeated or missing, header marks on shared lines, collapsed table cells, pages printed
twice. ``tests/fixtures/pages/manifest.json`` says which fields a reader finds in each;
they are graded exactly as ``make accuracy`` grades real replies.
"""

from __future__ import annotations

import json

import pytest

from bench.real import PAGE_FIXTURES, VARIANTS, RealScore, grade, refusal_report, score_folder
from reply_archive.archive.clean import clean_text, fold_radicals, split_cells, to_simplified
from reply_archive.archive.errors import ParseError
from reply_archive.archive.ingest import read_source
from reply_archive.archive.layout import choose_title, read_layout, read_metadata, title_score
from reply_archive.archive.model import Reply, Source, salutation_parts
from reply_archive.archive.numerals import unmarked_date_readings
from reply_archive.archive.parse import parse_reply
from reply_archive.indexer.analysis import fold

MANIFEST = json.loads((PAGE_FIXTURES / "manifest.json").read_text(encoding="utf-8"))
BY_FILE = {entry["file"]: entry for entry in MANIFEST}


# A title, salutation and opening for cases that show only what follows.
TOP = ("关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。")


def parse(*lines: str, name: str = "page.txt") -> Reply:
    """Parse a page given as lines of text."""
    return parse_reply("\n".join(lines), source=Source(file=name, format="txt", sha256="0" * 64, parser_version="test"))


@pytest.mark.parametrize("name", sorted(BY_FILE))
def test_page_fixture_fields_read_right(name):
    statuses = grade(read_source(PAGE_FIXTURES / name), BY_FILE[name])
    # The year a reply does not state is derived (session table, date): reported, not wrong.
    assert {f: s for f, s in statuses.items() if s != "right" and f != "year"} == {}


def test_every_page_fixture_is_accepted_and_read_in_full():
    result = score_folder(PAGE_FIXTURES)
    assert (result.accepted, result.files) == (len(MANIFEST), len(MANIFEST))
    assert result.total("right") == result.stated


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_page_fixtures_read_alike_as_other_pages_serve_them(variant):
    result = score_folder(PAGE_FIXTURES, VARIANTS[variant])
    assert result.accepted == result.files
    assert result.total("right") == result.stated, {f: m for f, m in result.misses.items() if f != "year"}


def test_refusal_report_names_a_non_reply_taken_as_a_reply():
    documents = [("report", "各位代表：\n现在，我代表市人民政府向大会报告工作。"),
                 ("reply", "关于市政协十二届二次会议第0045号提案的答复\n叶晚晴委员：\n您提出的提案收悉。")]
    assert refusal_report(iter(documents)).splitlines() == [
        "  refused 1 / 2", "  ! taken as a reply: reply (关于市政协十二届二次会议第0045号提案的答复)"
    ]


# --- grading -------------------------------------------------------------------------


def test_grade_counts_right_wrong_missed_and_spurious():
    reply = parse(*TOP, "此复。", "青溪市教育局", "2023年6月2日")
    entry = {"channel": "政协提案", "proposal_numbers": ["0046"], "session": "十二届二次", "result_category": "A",
             "proposers": ["葉晚晴"], "flags": ["ambiguous:date"]}
    statuses = grade(reply, entry)
    assert statuses["channel"] == "right" and statuses["session"] == "right"
    assert statuses["proposers"] == "right"  # traditional and simplified compare alike
    assert statuses["proposal_numbers"] == "wrong"
    assert statuses["result_category"] == "missed"
    assert statuses["department"] == "spurious"  # the manifest states none
    assert "date" not in statuses  # ambiguous: not graded


def test_a_refused_file_misses_everything_it_states():
    statuses = grade(None, {"channel": "人大建议", "proposers": ["罗佩珊"]})
    assert statuses == {"channel": "missed", "proposers": "missed"}
    assert RealScore(files=1, refused={"x.txt": "why"}).accepted == 0


def test_doc_numbers_compare_with_the_year_in_any_bracket():
    reply = parse("关于市政协十二届二次会议第0045号提案的答复【青教提[2023]5号】", "叶晚晴委员：", "您提出的提案收悉。")
    assert reply.doc_number == "青教提〔2023〕5号"
    assert grade(reply, {"doc_number": "青教提[2023]5号"})["doc_number"] == "right"


# --- cleaning of page text -------------------------------------------------------------


def test_table_cells_and_bullets_become_lines():
    cells = ["索引号", "qx/2021-01", "发布机构", "青溪市教育局"]
    assert split_cells("索引号 | qx/2021-01 | 发布机构 | 青溪市教育局 |") == cells
    assert split_cells("  • 发布单位|") == ["发布单位"]
    assert split_cells("- 2022-09-15") == ["2022-09-15"]
    assert split_cells("|") == [""]


def test_a_collapsed_reply_is_split_where_its_paragraphs_ended():
    lines = ["王一帆委员:", "您提出的提案收悉,现答复如下:", "我局已完成城东片区的改造。", "感谢您的关心。",
             "联系电话:3358214", "2021年8月20日"]
    assert split_cells(" ".join(lines)) == lines


def test_a_salutation_run_into_the_opening_is_split_off():
    assert split_cells("尊敬的李晴等8名代表：你们提出的建议收悉。") == ["尊敬的李晴等8名代表：", "你们提出的建议收悉。"]
    reply = parse(TOP[0], "孙若溪、钱望舒委员：您提出的提案收悉，现答复如下：", "此复。")
    assert reply.proposers == ("孙若溪", "钱望舒") and reply.salutation == "孙若溪、钱望舒委员："
    assert split_cells("尊敬的王立委员，您好！您提出的提案收悉。") == ["尊敬的王立委员", "您好！您提出的提案收悉。"]
    assert parse(TOP[0], "尊敬的王立委员，您好！您提出的提案收悉。").proposers == ("王立",)
    assert split_cells("一、关于代表：的问题") == ["一、关于代表：的问题"]
    assert split_cells("民建青溪市委员会：贵会提出的提案收悉。") == ["民建青溪市委员会：", "贵会提出的提案收悉。"]
    assert split_cells("尚一帆（等4位）代表：尚一帆（等4位）代表提出的建议已收悉。")[0] == "尚一帆（等4位）代表："
    assert split_cells("二、工作措施：加快推进项目建设。") == ["二、工作措施：加快推进项目建设。"]


def test_a_paragraph_with_one_space_after_a_full_stop_stays_whole():
    line = "关于老旧小区改造，我局高度重视。 2020年，我局将既有住宅加装电梯列入年度工作要点，已在三个小区完成试点。"
    assert split_cells(line) == [line]


def test_signature_and_date_on_one_line_are_split():
    assert split_cells("青溪市建设局 二〇〇九年八月二十一日") == ["青溪市建设局", "二〇〇九年八月二十一日"]
    assert split_cells("青溪市教育局2023年6月1日") == ["青溪市教育局", "2023年6月1日"]
    assert split_cells("截至2023年6月1日") == ["截至2023年6月1日"]
    # A sentence that ends in a date is left alone.
    assert split_cells("会议定于 2021年7月15日") == ["会议定于 2021年7月15日"]


@pytest.mark.parametrize(
    "line",
    ["【打印本页】 【关闭窗口】", "【责任编辑:临江区】 【收藏】 【关闭窗口】", "扫一扫在手机打开当前页", "附件下载:",
     "字号:[ 大 中 小 ]", "分享到:", "[打印] 字號:[大] [中] [小]", "主办:临江区人民政府 承办:临江区人民政府办公室",
     "网站标识码:0000000001 江ICP备00000000号", "留言与评论(共有 0 条评论)", "无障碍 长辈版 智能问答 繁体版", "×"],
)
def test_page_widgets_and_footers_are_dropped(line):
    assert clean_text(f"叶晚晴委员：\n{line}\n此复。") == ["叶晚晴委员：", "此复。"]


def test_sentences_that_mention_widgets_are_kept():
    text = "我局将打印宣传资料，分享到各社区。"
    assert clean_text(text) == [text]


def test_radicals_are_folded_at_ingest_and_in_search():
    assert fold_radicals("养⽼服务，⻘年志愿者") == "养老服务，青年志愿者"
    assert fold("社区养⽼") == fold("社区养老")
    reply = read_source(PAGE_FIXTURES / "22-radicals-pdf-text.txt")
    assert "养老服务站" in reply.body and reply.proposers == ("蒋青禾",)
    # Code points of those blocks that stand for nothing stay as they are (was a KeyError, a 500).
    assert fold_radicals("\ufada\u2fe0养老") == "\ufada\u2fe0养老" and fold("\ufada")


# --- the layout -------------------------------------------------------------------------


def test_metadata_in_every_printed_form():
    lines = [
        "[ 索引号 ] 1150/2022-00418 [ 发文字号 ] 青交函〔2022〕61号",
        "发布日期：2023-07-19 10:02作者：admin来源：临江区交通运输局 阅读：次",
        "标 题",
        "关于市政协十二届一次会议第0318号提案的复函",
        "文号：",
        "日期",
        "2022-09-15",
        "分类标识【C】",
    ]
    found, consumed = read_metadata(lines)
    assert found == {
        "索引号": "1150/2022-00418", "文号": "青交函〔2022〕61号", "发布日期": "2023-07-19 10:02", "作者": "admin",
        "信息来源": "临江区交通运输局", "浏览": "次", "标题": "关于市政协十二届一次会议第0318号提案的复函",
        "办理结果": "【C】",
    }
    assert consumed == set(range(len(lines)))


def test_a_label_without_value_does_not_take_a_header_mark_below_it():
    found, consumed = read_metadata(["信息来源：", "江澜交建议复〔2020〕57号 B类"])
    assert found == {} and consumed == {0}


@pytest.mark.parametrize(
    ("title", "scored"),
    [
        ("关于市政协十二届二次会议第0045号提案的答复", True),
        ("青溪市交通委关于市政协十二届一次会议第0318号提案的复函", True),
        ("关于省十四届人大一次会议澜12号建议的答复[江交建〔2023〕66号]", True),
        ("区政协七届三次会议第19号提案的答复函《关于增设游客服务设施的建议》", True),
        ("对县十六届人大一次会议第3号建议的答复（水利局）", True),
        ("关于市政协十四届二次会议第207号提案协办件的答复", True),
        ("關於區二屆人大六次會議第319號建議的覆函", True),  # 覆 for 复, as traditional pages print it
        ("對省十二屆人大七次會議第1418號建議的答覆", True),
        ("关于加强校园周边交通管理的答复", True),  # names only its subject
        ("近年来我局高度重视并多次研究了有关问题的答复", False),
        ("自然资源部答复：加强耕地保护，守住粮食安全底线", False),  # a headline
        ("您提出的提案收悉，现答复如下：", False),
        ("建议提案办理结果文件", False),
        ("现将办理情况答复", False),
    ],
)
def test_title_score(title, scored):
    assert bool(title_score(to_simplified(title))) is scored


def test_a_title_over_lines_is_joined_but_a_breadcrumb_above_it_is_not():
    lines = ["当前位置：首页>建议提案办理>人大建议", "对省十二届人大七次会议第1418号建议的答复", "唐军代表："]
    title = choose_title(lines, range(2), set())
    assert (title.start, title.end) == (1, 2)
    lines = ["关于市十二届人大三次会议", "第133号建议的答复函", "庞志远代表："]
    assert (choose_title(lines, range(2), set()).start, choose_title(lines, range(2), set()).end) == (0, 2)


def test_body_starts_at_the_salutation_and_the_header_zone_is_kept_out():
    reply = read_source(PAGE_FIXTURES / "02-metadata-block-bracketed.txt")
    assert reply.body.startswith("唐梓涵委员：")
    assert "索引号" not in reply.body and "繁體版" not in reply.body and "分享到" not in reply.body
    assert reply.title == "青溪市交通委关于市政协十二届一次会议第0318号提案的复函"


def test_a_page_printed_twice_is_read_once():
    reply = read_source(PAGE_FIXTURES / "12-printed-twice.txt")
    assert reply.body.count("黎振邦等代表") == 1 and "建议提案结果公开" not in reply.body
    assert reply.body.endswith("2022531日")
    reply = read_source(PAGE_FIXTURES / "16-no-title-printed-twice.txt")
    assert reply.body.count("柯雅琴委员") == 1 and "留言与评论" not in reply.body


def test_without_salutation_the_body_starts_after_title_and_header_lines():
    reply = read_source(PAGE_FIXTURES / "07-forum-repost-no-salutation.txt")
    assert reply.body.startswith("省委、省政府高度重视") and "发表于" not in reply.body
    reply = read_source(PAGE_FIXTURES / "08-bullet-metadata-no-salutation.txt")
    assert reply.body.startswith("您提出的关于加强零工市场建设的提案收悉")
    assert reply.date == "2023-08-14"  # 发文日期; the page's 2022年03月01日 is site chrome


def test_a_letterhead_names_the_department():
    lines = ["青溪市卫生健康委员会", "关于对市十二届人大四次会议第88号建议的", "答 复", "罗佩珊代表：",
             "您的建议收悉，现答复如下："]
    layout = read_layout(lines)
    assert layout.letterhead == "青溪市卫生健康委员会" and layout.salutation == 3
    reply = parse(*lines)
    assert (reply.title, reply.department) == ("关于对市十二届人大四次会议第88号建议的答复", "青溪市卫生健康委员会")


# --- fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "names", "count", "role"),
    [
        ("尊敬的朱一鸣代表：", ("朱一鸣",), None, "代表"),
        ("尊敬袁立新代表：", ("袁立新",), None, "代表"),
        ("甘露代表", ("甘露",), None, "代表"),
        ("尚一帆（等4位）代表：", ("尚一帆",), 4, "代表"),
        ("李晴等8名代表：", ("李晴",), 8, "代表"),
        ("孙若溪委员、钱望舒委员：", ("孙若溪", "钱望舒"), None, "委员"),
        ("张立委员（第12号提案）：", ("张立",), None, "委员"),
        ("民建青溪市委员会：", ("民建青溪市委员会",), None, None),
    ],
)
def test_salutations(line, names, count, role):
    parts = salutation_parts(line)
    assert (parts.names, parts.count, parts.role) == (names, count, role)


@pytest.mark.parametrize("line", ["现答复如下：", "问题答复：", "附件：", "一、关于工作开展情况："])
def test_lines_that_are_no_salutation(line):
    assert salutation_parts(line) is None


@pytest.mark.parametrize(
    ("digits", "readings"),
    [("2019615", ["2019-06-15"]), ("2023529日", ["2023-05-29"]), ("202285", ["2022-08-05"]),
     ("2019111", ["2019-01-11", "2019-11-01"]), ("2019", [])],
)
def test_dates_without_year_month_day_marks(digits, readings):
    assert unmarked_date_readings(digits) == readings


def test_an_unmarked_date_with_two_readings_is_left_empty_and_flagged():
    reply = parse(*TOP, "此复。", "青溪市教育局", "2019111")
    assert reply.date is None and "date_ambiguous:2019111" in reply.warnings
    reply = parse(*TOP, "此复。", "青溪市教育局", "2019615")
    assert (reply.date, reply.date_style) == ("2019-06-15", "unmarked") and "date_unmarked:2019615" in reply.warnings


def test_a_placeholder_or_seal_is_no_part_of_the_department():
    reply = parse(*TOP, "单位名称（公章）", "2023年6月2日")
    assert reply.department is None and "missing:department" in reply.warnings
    reply = parse(*TOP, "青溪市教育局（盖章）", "2023年6月2日")
    assert reply.department == "青溪市教育局"


def test_the_full_name_is_taken_over_its_abbreviation_but_not_a_sub_unit():
    reply = read_source(PAGE_FIXTURES / "02-metadata-block-bracketed.txt")
    assert reply.department == "青溪市交通运输委员会"
    reply = parse(*TOP, "青溪市教育局", "2023年6月2日", "联系单位：青溪市教育局基础教育科")
    assert reply.department == "青溪市教育局"


def test_a_department_addressed_is_the_lead_unit_and_the_proposer_comes_from_the_opening():
    reply = read_source(PAGE_FIXTURES / "11-co-handling-addressed-to-lead.txt")
    assert reply.proposers == ("简书瑶",) and reply.department_role == "协办"
    assert reply.salutation == "市教育局："


def test_the_assemblys_own_office_as_source_is_no_replying_unit():
    body = ("宋晓岚代表：", "你提出的建议收悉。现答复如下：", "我局已调整班次。")
    reply = parse("发布日期：2023-07-19 来源：临江区人大办公室", *body)
    assert reply.department is None and "missing:department" in reply.warnings
    reply = parse("发布日期：2023-07-19 来源：临江区交通运输局", *body)
    assert reply.department == "临江区交通运输局"


def test_a_publisher_that_is_a_bureau_of_the_ministry_does_not_replace_the_title_issuer():
    reply = read_source(PAGE_FIXTURES / "08-bullet-metadata-no-salutation.txt")
    assert reply.department == "人力资源社会保障部" and reply.doc_number == "人社提字〔2023〕97号"


@pytest.mark.parametrize(
    ("title", "numbers"),
    [
        ("关于县政协十届五次会议第D022号提案的答复", ["D022"]),
        ("对市政协十二届三次会议第2024C017号集体提案的答复", ["2024C017"]),
        ("对省十二届人大五次会议第 JY1000120507号建议的答复", ["JY1000120507"]),
        ("关于省十四届人大一次会议澜12号建议的答复", ["澜12"]),
        ("关于省十四届人大一次会议上提出的澜12号建议的答复", ["澜12"]),
        ("关于省十四届人大一次会议第12号建议的答复", ["12"]),
        ("县七届人大一次会议《关于改造排水管网的建议》（35号）的答复", ["35"]),
    ],
)
def test_proposal_numbers_as_written(title, numbers):
    assert list(parse(title, "叶晚晴委员：", "您提出的提案收悉。").proposal_numbers) == numbers


def test_header_marks_sharing_lines_and_brackets():
    reply = read_source(PAGE_FIXTURES / "13-collective-header-marks.txt")
    assert (reply.result_category, reply.disclosure, reply.signer) == ("C", "主动公开", "钟立诚")
    assert reply.doc_number == "青房议字〔2024〕19号"


def test_a_legend_of_the_categories_is_no_result_and_no_section():
    reply = read_source(PAGE_FIXTURES / "14-placeholder-signature-legend.txt")
    assert reply.result_category == "C" and reply.result_raw == "办理结果：C"
    assert reply.sections == ()


def test_promises_mid_sentence_and_after_xiabu():
    reply = parse(
        *TOP,
        "我局已完成改造，下一步，我们将扩大试点范围。",
        "下步，我局将继续推进。",
        "城东地下步道已经开通。",
    )
    assert [c.text for c in reply.commitments] == ["下一步，我们将扩大试点范围。", "下步，我局将继续推进。"]


def test_a_title_without_any_text_is_refused_rather_than_stored_empty():
    with pytest.raises(ParseError, match="no reply text"):
        parse("关于市政协十二届二次会议第0045号提案的答复", "发布日期：2023-06-02", name="title-only.txt")


def test_a_text_without_any_reply_anatomy_is_refused():
    with pytest.raises(ParseError, match="not a reply"):
        parse("青溪市今年新建公园三座。", "绿道长度增加十二公里。", name="news.txt")


@pytest.mark.parametrize(
    "lines",
    [
        # A government work report opens with a salutation too, but names no proposer.
        ("各位代表：", "现在，我代表市人民政府，向大会报告政府工作，请予审议。", "一、过去一年的工作",
         "我们坚持稳中求进。"),
        # A resolution on it mentions what the report 提出的, which is no receipt of a proposal.
        ("青溪市第十六届人民代表大会第二次会议关于政府工作报告的决议", "会议同意报告提出的今年工作的总体要求。"),
    ],
)
def test_documents_of_the_assembly_that_are_no_replies_are_refused(lines):
    with pytest.raises(ParseError, match="not a reply"):
        parse(*lines, name="report.txt")


def test_labelled_lines_of_the_body_are_no_page_metadata():
    reply = parse("关于市政协十二届二次会议第0045号提案的答复", "您提出的提案收悉，现答复如下：",
                  "一、工作安排", "时间：2023年6月至12月", "来源：青溪市财政局专项资金")
    assert reply.department is None  # not 青溪市财政局专项资金, from a line of the body
    assert "来源：青溪市财政局专项资金" in reply.body


def test_a_news_outlet_that_reposted_the_reply_is_no_department():
    lines = ("关于市政协十二届二次会议第0045号提案的答复", "来源：青溪日报", "叶晚晴委员：",
             "您提出的提案收悉，现答复如下：", "我局已完成。")
    assert parse(*lines).department is None
    assert parse(*lines[:1], "来源：青溪市教育局", *lines[2:]).department == "青溪市教育局"


def test_a_document_cited_in_a_sentence_above_the_reply_is_not_its_number():
    reply = parse("导读：根据《青溪市课后服务管理办法》（青教发〔2021〕3号），委员的提案已办结。",
                  "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉，现答复如下：",
                  "我局已完成。")
    assert reply.doc_number is None
