"""Parsing reply texts into records (archive.parse; domain spec §1–§3 and §7).

The seed is the one real reply; the other inputs are made up (青溪市, 临江区 and every
personal name are fictional). When the text does not state a field, the parser leaves
it empty and adds a ``missing:<field>`` warning: empty beats wrong.
"""

from __future__ import annotations

import dataclasses

import pytest

from bench.accuracy import FIXTURES, load_expected, mismatches, parse_fixture
from reply_archive import data
from reply_archive.archive.clean import is_page_furniture
from reply_archive.archive.errors import ParseError
from reply_archive.archive.ingest import read_source
from reply_archive.archive.model import Contact, Source
from reply_archive.archive.parse import parse_reply, reply_id
from reply_archive.archive.store import from_markdown, to_markdown
from reply_archive.archive.tables import scheme_names
from reply_archive.web.render import labels, metadata_rows, warning_text

SAMPLES = sorted(data.path("samples").glob("*.txt"))


def parse(*lines: str, name: str = "case.txt"):
    """Parse a reply given as lines of text."""
    source = Source(file=name, format="txt", sha256="0" * 64, parser_version="test")
    return parse_reply("\n".join(lines), source=source)


def body_lines(reply) -> list[str]:
    return [line for paragraph in reply.body.split("\n\n") for line in paragraph.splitlines()]


# A minimal body and signature for header and title cases that show only their top.
SECTION = ("一、关于有关工作情况", "我局高度重视，认真研究，逐项落实。")
SIGNED = ("此复。", "临江区交通运输局", "2023年6月30日")


# --- the seed reply (real, from the Futian district) -----------------------------


def test_seed_title(seed_reply):
    assert seed_reply.title == "关于深圳市福田区政协六届二次会议第20220030号提案的办理意见"


def test_seed_channel_and_kind(seed_reply):
    assert seed_reply.channel == "cppcc"
    assert seed_reply.doc_kind == "handling_opinion"


def test_seed_assembly(seed_reply):
    assert seed_reply.assembly.type == "cppcc"
    assert seed_reply.assembly.level == "county"
    assert seed_reply.assembly.region == "深圳市福田区"


def test_seed_session(seed_reply):
    assert seed_reply.term == 6
    assert seed_reply.session_number == 2
    assert seed_reply.session_label == "六届二次"


def test_seed_year_from_number_prefix(seed_reply):
    assert seed_reply.year == 2022
    assert seed_reply.year_source == "number_prefix"


def test_seed_proposal_number(seed_reply):
    assert seed_reply.proposal_numbers == ("20220030",)


def test_seed_proposers(seed_reply):
    assert seed_reply.proposers == ("黄逸昆", "庄伟根", "简伟锋", "黄健诚")
    assert seed_reply.proposer_kind == "joint"
    assert seed_reply.proposer_count is None
    assert seed_reply.collective_type is None


def test_seed_proposal_title_from_opening_sentence(seed_reply):
    assert seed_reply.proposal_title == "发挥福田区位优势，打造深港共融试点"


def test_seed_department(seed_reply):
    assert seed_reply.department_raw == "福田区委统战部"
    assert seed_reply.department == "中共深圳市福田区委统一战线工作部"
    assert seed_reply.department_role == "主办"
    assert seed_reply.partial_scope is False


def test_seed_date(seed_reply):
    assert seed_reply.date == "2022-09-23"
    assert seed_reply.date_raw == "2022年9月23日"


def test_seed_leaves_unstated_header_fields_empty(seed_reply):
    # Seed observation 11: no result mark, no signer, no document number.
    assert seed_reply.result_category is None
    assert seed_reply.result_raw is None
    assert seed_reply.signer is None
    assert seed_reply.doc_number is None
    assert seed_reply.disclosure is None


def test_seed_sections(seed_reply):
    sections = seed_reply.sections
    assert [s.level for s in sections] == [1, 1, 1]
    assert [s.marker for s in sections] == ["一、", "二、", "三、"]
    assert all(s.heading.startswith("关于") for s in sections)
    assert sections[0].heading == "关于“构筑深港合作共融空间”的建议"


def test_seed_inline_lists_are_not_sections(seed_reply):
    assert not any(s.heading.startswith(("一是", "二是")) for s in seed_reply.sections)
    assert "二是发挥双创平台" in seed_reply.sections[0].text


def test_seed_last_section_stops_before_the_closing(seed_reply):
    last = seed_reply.sections[-1].text
    assert "此复" not in last
    assert "福田区委统战部" not in last
    assert "2022年9月23日" not in last
    assert last.endswith("促进交流交往。")


def test_seed_commitments(seed_reply):
    commitments = seed_reply.commitments
    assert len(commitments) == 3
    assert all(c.text.startswith("下一步") and c.cue == "下一步" for c in commitments)
    assert [c.section_idx for c in commitments] == [0, 1, 2]
    assert commitments[0].text == (
        "下一步，将探索用好社区和辖区商业公共空间，建设更多深港两地共融文化展示空间，营造深港共同发展友好氛围。"
    )


def test_seed_has_no_warnings(seed_reply):
    assert seed_reply.warnings == ()


def test_seed_body_keeps_words_whole(seed_reply):
    for phrase in ("华强上步片区", "品牌活动", "e站通", "2022年6月9日", "翰墨绘盛事 丹青铸同心"):
        assert phrase in seed_reply.body
    assert "1" not in seed_reply.body.split("\n\n")
    assert not seed_reply.body.startswith("关于")  # the title is not repeated in the body


def test_seed_parses_the_same_directly_and_from_the_archive(seed_reply):
    direct = read_source(data.path("seed", "seed_reply.txt"), seed_reply.source.file)
    assert direct.to_dict() == seed_reply.to_dict()


def test_seed_id_is_stable(seed_reply):
    assert seed_reply.id == reply_id("seed_reply.txt", ["20220030"], "福田区委统战部")
    assert seed_reply.id == reply_id("elsewhere/seed_reply.txt", ("20220030",), "福田区委统战部")


# --- domain spec §7, synthetic cases ----------------------------------------------


def test_spec_case_1_wrapped_title_and_joint_proposers():
    reply = parse(
        "关于临江区政协五届三次会议",
        "第 20230112 号提案的办理意见",
        "",
        "王一帆、陈嘉树委员：",
        "你们提出的提案收悉。现答复如下：",
        *SECTION,
        *SIGNED,
    )
    assert reply.title == "关于临江区政协五届三次会议第20230112号提案的办理意见"
    assert reply.assembly.level == "county"
    assert reply.assembly.region == "临江区"
    assert (reply.term, reply.session_number) == (5, 3)
    assert reply.proposal_numbers == ("20230112",)
    assert (reply.year, reply.year_source) == (2023, "number_prefix")
    assert reply.proposers == ("王一帆", "陈嘉树")
    assert reply.proposer_kind == "joint"
    assert reply.doc_kind == "handling_opinion"


def test_spec_case_2_header_block():
    reply = parse(
        "A类",
        "青溪市教育局",
        "青教提函〔2022〕15号　　签发人：许文澜",
        "关于市政协十一届一次会议第0487号提案的答复",
        "沈知秋委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "此复。",
        "青溪市教育局",
        "2022年6月20日",
    )
    assert reply.result_category == "A"
    assert reply.result_raw == "A类"
    assert reply.doc_number == "青教提函〔2022〕15号"
    assert reply.signer == "许文澜"
    assert (reply.term, reply.session_number) == (11, 1)
    assert reply.proposal_numbers == ("0487",)
    assert reply.department == "青溪市教育局"
    assert reply.assembly.level == "city"
    assert reply.title == "关于市政协十一届一次会议第0487号提案的答复"
    assert not any(line.startswith(("A类", "青教提函")) for line in body_lines(reply))


def test_spec_case_3_npc_partial_reply():
    reply = parse(
        "对十四届全国人大一次会议第5120号建议的答复",
        "赵启航等12名代表：",
        "你们提出的关于提升县域冷链物流能力的建议收悉。现就涉及我部职能的部分答复如下。",
        "一、关于冷链物流设施建设",
        "我部会同有关部门加快补齐县域冷链物流设施短板。",
        "农业农村部",
        "2023年6月30日",
    )
    assert reply.channel == "npc"
    assert reply.assembly.level == "national"
    assert (reply.year, reply.year_source) == (2023, "session_table")
    assert reply.proposal_numbers == ("5120",)
    assert reply.proposers == ("赵启航",)
    assert reply.proposer_count == 12
    assert reply.proposer_kind == "joint"
    assert reply.partial_scope is True
    assert reply.proposal_title == "关于提升县域冷链物流能力的建议"


def test_spec_case_3_last_section_stops_at_signature_without_closing_formula():
    reply = parse(
        "对十四届全国人大一次会议第5120号建议的答复",
        "赵启航等12名代表：",
        "你们提出的关于提升县域冷链物流能力的建议收悉。现答复如下。",
        "一、关于冷链物流设施建设",
        "我部会同有关部门加快补齐县域冷链物流设施短板。",
        "农业农村部",
        "2023年6月30日",
    )
    assert reply.sections[-1].text == "我部会同有关部门加快补齐县域冷链物流设施短板。"
    assert reply.department_raw == "农业农村部"
    assert reply.date == "2023-06-30"


def test_spec_case_4_proposal_title_in_the_title():
    reply = parse(
        "市政协九届二次会议《关于修缮老城区排水管网的提案》（第58号）的答复",
        "尊敬的李青禾委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        *SIGNED,
    )
    assert (reply.term, reply.session_number) == (9, 2)
    assert reply.proposal_numbers == ("58",)
    assert reply.proposal_title == "关于修缮老城区排水管网的提案"
    assert reply.proposers == ("李青禾",)
    assert reply.proposer_kind == "individual"


def test_spec_case_5_co_handling_opinion_addressee_is_no_proposer():
    reply = parse(
        "关于省政协十三届二次会议第318号提案的会办意见",
        "省住房和城乡建设厅：",
        "该提案由贵厅主办。经认真研究，现将会办意见函复如下：",
        *SECTION,
        "特此函复。",
        "江澜省自然资源厅",
        "2023年5月16日",
    )
    assert reply.doc_kind == "co_handling_opinion"
    assert reply.department_role == "会办"
    assert reply.proposers == ()
    assert reply.proposer_kind is None
    assert "missing:proposers" not in reply.warnings
    assert reply.assembly.level == "provincial"
    assert reply.proposal_numbers == ("318",)


def test_spec_case_6_merged_proposals():
    reply = parse(
        "关于市政协十二届三次会议第0215号、第0233号提案的答复",
        "孙若溪委员、钱望舒委员：",
        "你们提出的提案收悉。现答复如下：",
        *SECTION,
        *SIGNED,
    )
    assert reply.proposal_numbers == ("0215", "0233")
    assert reply.proposers == ("孙若溪", "钱望舒")
    assert reply.proposer_kind == "joint"


def test_spec_case_7_closing_part():
    reply = parse(
        "关于临江区政协五届三次会议第20230112号提案的答复",
        "王一帆委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "衷心感谢您对我区交通工作的关心和支持！",
        "临江区交通运输局",
        "2023年6月30日",
        "（联 系 人：马晴川；联系电话：0000-1234567）",
        "抄送：区政协提案委员会，区政府督查室",
    )
    assert reply.date == "2023-06-30"
    assert reply.date_raw == "2023年6月30日"
    assert reply.date_style == "arabic"
    assert reply.department_raw == "临江区交通运输局"
    assert reply.department == "临江区交通运输局"
    assert reply.closing == "衷心感谢您对我区交通工作的关心和支持！"
    assert reply.closing_type == "thanks"
    assert reply.contact == Contact(unit=None, person="马晴川", phone_redacted=True)
    assert reply.cc == ("区政协提案委员会", "区政府督查室")
    # The phone number is masked in the text itself, not only left out of a field.
    assert "（联系人：马晴川；联系电话：【已隐去】）" in body_lines(reply)
    assert "1234567" not in reply.body and "1234567" not in str(reply.to_dict())
    last = reply.sections[-1].text
    assert last == SECTION[1]
    assert "衷心感谢" not in last and "抄送" not in last and "联系人" not in last
    assert reply.commitments == ()


def test_spec_case_9_page_line_dropped_and_commitment():
    reply = parse(
        "关于青溪市政协十二届二次会议",
        "第 0087 号提案的答复",
        "韩若霖委员：",
        "您提出的《关于加快推进老旧小区加装电梯工作的提案》收悉。现答复",
        "如下：",
        "一、关于加装电梯工作进展",
        "近年来，我局会同各区政府和有关部门，按照“政府引导、业主自愿、",
        "因地制宜、一梯一策”的原则，持续简化审批流程，加大资金支持力度，",
        "组织设计单位和法律顾问上门释疑，引导高低楼层业主协商确定出资分",
        "摊方案，全市已累计完成加装电梯一千余部。今年我们将继续聚焦群众",
        "急难愁盼问题，把加装电梯列入民生实事项目，积极推动老旧小区加装",
        "— 2 —",
        " 电梯工作。下一步，将扩大试点范围。",
        "此复。",
        "青溪市住房和城乡建设局",
        "2023年6月19日",
    )
    assert "— 2 —" not in reply.body
    assert "积极推动老旧小区加装电梯工作。" in reply.body
    assert "您提出的《关于加快推进老旧小区加装电梯工作的提案》收悉。现答复如下：" in body_lines(reply)
    assert [c.text for c in reply.commitments] == ["下一步，将扩大试点范围。"]
    assert reply.commitments[0].section_idx == 0


def test_spec_case_10_session_and_number_from_opening_sentence():
    reply = parse(
        "对《关于规范电动自行车停放的提案》的答复",
        "周远山委员：",
        "你提出的区政协六届一次会议第45号提案收悉。现答复如下：",
        *SECTION,
        *SIGNED,
    )
    assert (reply.term, reply.session_number) == (6, 1)
    assert reply.session_label == "六届一次"
    assert reply.proposal_numbers == ("45",)
    assert reply.proposal_title == "关于规范电动自行车停放的提案"
    assert reply.assembly.level == "county"
    # 区政协 names no place; the signing 临江区 department does, never "你提出的区".
    assert reply.assembly.region == "临江区"


def test_spec_case_11_provincial_npc_number_in_quotes():
    reply = parse(
        "关于省十四届人大二次会议“第1045号”建议的答复",
        "钱塘月代表：",
        "您提出的建议收悉。现答复如下：",
        *SECTION,
        "此复。",
        "江澜省交通运输厅",
        "2024年6月28日",
    )
    assert reply.channel == "npc"
    assert reply.assembly.level == "provincial"
    assert reply.assembly.region == "江澜省"
    assert (reply.term, reply.session_number) == (14, 2)
    assert reply.proposal_numbers == ("1045",)


def test_spec_case_12_opening_with_half_width_comma_and_role():
    reply = parse(
        "关于临江区政协五届二次会议第20210044号提案的办理意见",
        "林小满委员：",
        "根据区政协五届二次会议第 20210044 号提案关于“完善社区食堂布局”的建议,我局作为主办单位，"
        "结合会办单位意见，现答复如下。",
        *SECTION,
        "此复。",
        "临江区民政局",
        "2021年6月18日",
    )
    assert "的建议，我局作为主办单位" in reply.body
    assert reply.department_role == "主办"
    assert reply.proposal_title == "完善社区食堂布局"
    assert reply.proposal_numbers == ("20210044",)
    assert "missing:department_role" not in reply.warnings


# --- cases of our own ---------------------------------------------------------------


@pytest.mark.parametrize(
    "numbers", ["第0215、0233号", "第0215号、第0233号", "第0215号和第0233号", "第 0215 号、第 0233 号"]
)
def test_merged_numbers_are_all_kept(numbers):
    reply = parse(
        f"关于市政协十二届三次会议{numbers}提案的答复", "孙若溪委员：", "您提出的提案收悉。", *SECTION, *SIGNED
    )
    assert reply.proposal_numbers == ("0215", "0233")


def test_national_class_serial_is_not_a_proposal_number():
    reply = parse(
        "关于政协第十四届全国委员会第二次会议第01234号（资源环境类284号）提案答复的函",
        "秦望川委员：",
        "您提出的提案收悉。",
        *SECTION,
        "农业农村部",
        "2024年7月1日",
    )
    assert reply.proposal_numbers == ("01234",)


@pytest.mark.parametrize(
    ("salutation", "count"), [("贺晓岚等4位委员：", 4), ("贺晓岚等四位委员：", 4), ("贺晓岚等 12 名委员：", 12)]
)
def test_proposer_count_from_deng_n(salutation, count):
    reply = parse("关于市政协十二届一次会议第0078号提案的答复", salutation, "你们提出的提案收悉。", *SECTION, *SIGNED)
    assert reply.proposers == ("贺晓岚",)
    assert reply.proposer_count == count
    assert reply.proposer_kind == "joint"


def test_local_npc_suggestion_with_deputies():
    reply = parse(
        "对青溪市十六届人大二次会议第215号建议的答复",
        "赵启航等3名代表：",
        "你们提出的关于优化营商环境的建议收悉。现答复如下：",
        *SECTION,
        "此复。",
        "青溪市发展和改革委员会",
        "2023年5月26日",
    )
    assert reply.channel == "npc"
    assert reply.assembly.region == "青溪市"
    assert reply.assembly.level == "city"
    assert (reply.year, reply.year_source) == (2023, "session_table")
    assert reply.proposer_count == 3
    assert reply.department == "青溪市发展和改革委员会"


@pytest.mark.parametrize(
    ("salutation", "proposer", "collective_type"),
    [
        ("民盟青溪市委：", "民盟青溪市委", "party"),
        ("九三学社青溪市委：", "九三学社青溪市委", "party"),
        ("青溪市工商联：", "青溪市工商联", "association"),
    ],
)
def test_collective_proposals(salutation, proposer, collective_type):
    reply = parse("关于市政协十二届一次会议第0076号提案的答复", salutation, "贵委提出的提案收悉。", *SECTION, *SIGNED)
    assert reply.proposers == (proposer,)
    assert reply.proposer_kind == "collective"
    assert reply.collective_type == collective_type
    assert reply.proposer_count is None


def test_reply_without_date_leaves_date_empty():
    # A date inside a sentence is not the date of the reply.
    reply = parse(
        "关于临江区政协五届三次会议第20230112号提案的答复",
        "王一帆委员：",
        "您提出的提案收悉。现答复如下：",
        "一、关于试点工作",
        "2023年5月10日起在三所学校开展试点。",
        "此复。",
        "临江区交通运输局",
    )
    assert reply.date is None
    assert reply.date_raw is None
    assert "missing:date" in reply.warnings


@pytest.mark.parametrize(
    ("signed", "iso"),
    [
        ("二〇二〇年七月十五日", "2020-07-15"),
        ("二○一九年八月二十日", "2019-08-20"),
        ("二O一九年八月二十日", "2019-08-20"),
        ("二0一九年十二月三十一日", "2019-12-31"),
    ],
)
def test_chinese_numeral_signature_dates(signed, iso):
    reply = parse(
        "关于市政协十一届三次会议第0487号提案的答复", "沈知秋委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "青溪市教育局", signed,
    )
    assert reply.date == iso
    # Cleaning writes the zero of a Chinese-numeral year as 〇; date_raw is as in the body.
    assert reply.date_raw == signed.replace("○", "〇").replace("O", "〇").replace("0", "〇")
    assert reply.date_raw in body_lines(reply)
    assert reply.date_style == "cn_numeral"
    assert reply.department == "青溪市教育局"
    assert "missing:date" not in reply.warnings


@pytest.mark.parametrize(
    ("printed", "normalised"),
    [
        ("青教提函[2022]15号", "青教提函〔2022〕15号"),
        ("青教提函【2022】15号", "青教提函〔2022〕15号"),
        ("青教提函［2022］15号", "青教提函〔2022〕15号"),
        ("青教提函(2022)15号", "青教提函〔2022〕15号"),
        ("青教提函〔 2022 〕 15 号", "青教提函〔2022〕15号"),
        ("青建提复字〔2023〕第 29 号", "青建提复字〔2023〕第29号"),
    ],
)
def test_document_number_is_normalised(printed, normalised):
    reply = parse(
        printed, "关于市政协十二届一次会议第0487号提案的答复", "沈知秋委员：", "您提出的提案收悉。", *SECTION, *SIGNED
    )
    assert reply.doc_number == normalised


def test_result_mark_and_disclosure():
    reply = parse(
        "乙类", "同意对外公开", "关于市政协十二届一次会议第0487号提案的答复", "沈知秋委员：", "您提出的提案收悉。",
        *SECTION, *SIGNED,
    )
    assert reply.result_raw == "乙类"
    assert reply.result_category == "B"
    assert reply.disclosure == "同意对外公开"


def test_reply_without_title_is_titled_from_what_it_states_and_flagged():
    reply = parse("沈知秋委员：", "您提出的关于规范校园周边停车的提案收悉。", *SECTION, *SIGNED, name="no-title.txt")
    assert reply.title == "临江区交通运输局关于《关于规范校园周边停车的提案》的答复"
    assert "title_derived" in reply.warnings
    assert reply.proposers == ("沈知秋",) and reply.channel == "cppcc"


def test_text_that_is_no_reply_raises_parse_error_naming_the_source():
    with pytest.raises(ParseError) as caught:
        parse("青溪市今年新建公园三座，绿道长度增加十二公里。", "市民可以就近休闲。", name="prose.txt")
    assert caught.value.source == "prose.txt"
    assert "prose.txt" in str(caught.value)
    assert "not a reply" in caught.value.message


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n  ", "\x00\x01\x02\x7f\x00PK\x03\x04", "%PDF-1.7\n1 0 obj\nstream\nendobj", "reply text in English"],
)
def test_empty_or_binary_text_raises_parse_error(text):
    with pytest.raises(ParseError) as caught:
        parse(text, name="junk.txt")
    assert caught.value.source == "junk.txt"


def test_national_cppcc_title():
    reply = parse(
        "关于政协第十四届全国委员会第二次会议第01234号提案答复的函",
        "秦望川委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "农业农村部",
        "2024年7月1日",
    )
    assert reply.channel == "cppcc"
    assert reply.doc_kind == "reply_letter"
    assert reply.assembly.level == "national"
    assert reply.assembly.region is None
    assert (reply.term, reply.session_number) == (14, 2)
    assert reply.session_label == "十四届二次"
    assert (reply.year, reply.year_source) == (2024, "session_table")
    assert reply.proposal_numbers == ("01234",)


def test_national_npc_title():
    reply = parse(
        "对十四届全国人大一次会议第5120号建议的答复",
        "赵启航代表：",
        "您提出的建议收悉。现答复如下：",
        *SECTION,
        "农业农村部",
        "2023年7月1日",
    )
    assert reply.channel == "npc"
    assert reply.assembly.level == "national"
    assert (reply.term, reply.session_number) == (14, 1)
    assert (reply.year, reply.year_source) == (2023, "session_table")
    assert reply.proposal_numbers == ("5120",)


def test_title_decides_the_channel_over_the_opening():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。经商市人大常委会办公厅，现答复如下：",
        *SECTION,
        "此复。",
        "青溪市教育局",
        "2023年6月28日",
    )
    assert reply.channel == "cppcc"
    assert reply.assembly.type == "cppcc"
    assert (reply.year, reply.year_source) == (2023, "session_table")


def test_formal_session_style_names_the_place_after_zhengxie():
    reply = parse(
        "关于政协青溪市第十二届委员会第二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。",
        *SECTION,
        *SIGNED,
    )
    assert reply.assembly.region == "青溪市"
    assert reply.assembly.level == "city"
    assert (reply.term, reply.session_number) == (12, 2)
    assert (reply.year, reply.year_source) == (2023, "session_table")


def test_unstated_role_and_proposal_title_stay_empty():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。现答复如下：",
        *SECTION, *SIGNED,
    )
    assert reply.department_role is None
    assert reply.proposal_title is None
    assert "missing:department_role" in reply.warnings
    assert "missing:proposal_title" in reply.warnings


def test_reply_without_session_or_number_warns():
    reply = parse("对《关于规范电动自行车停放的提案》的答复", "周远山委员：", "你提出的提案收悉。", *SECTION, *SIGNED)
    assert (reply.term, reply.session_number, reply.session_label) == (None, None, None)
    assert reply.proposal_numbers == ()
    assert "missing:session_label" in reply.warnings
    assert "missing:proposal_numbers" in reply.warnings


@pytest.mark.parametrize(("signed", "year"), [("2022年6月30日", 2022), ("2022年1月20日", 2021)])
def test_year_estimated_from_reply_date_is_flagged(signed, year):
    # 十一届一次 of 青溪市 is not in the session table and 0487 carries no year.
    reply = parse(
        "关于市政协十一届一次会议第0487号提案的答复", "沈知秋委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "青溪市教育局", signed,
    )
    assert (reply.year, reply.year_source) == (year, "reply_date_heuristic")
    assert "year_estimated" in reply.warnings


def test_unknown_department_is_kept_raw_and_flagged():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "青溪市水务局", "2023年6月1日",
    )
    assert reply.department_raw == "青溪市水务局"
    assert reply.department == "青溪市水务局"
    assert "unknown_department:青溪市水务局" in reply.warnings


def test_department_alias_maps_to_full_name():
    reply = parse(
        "关于市政协十二届一次会议第0126号提案的办理意见", "致公党青溪市委：", "你们提出的提案收悉。",
        *SECTION, "此复。", "市委统战部", "2022年7月8日",
    )
    assert reply.department_raw == "市委统战部"
    assert reply.department == "中共青溪市委统一战线工作部"


def test_attachment_list_after_signature_is_not_a_section():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "二、关于下一步工作",
        "下一步，我局将继续完善课后服务经费保障机制。",
        "此复。",
        "青溪市教育局",
        "2023年6月28日",
        "附件：",
        "1.青溪市中小学课后服务经费管理办法",
    )
    assert [s.marker for s in reply.sections] == ["一、", "二、"]
    assert reply.sections[-1].text == "下一步，我局将继续完善课后服务经费保障机制。"
    assert [c.section_idx for c in reply.commitments] == [1]


def test_closing_formulas_and_signature_belong_to_no_section():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "衷心感谢您对我市教育工作的关心和支持！",
        "此复。",
        "青溪市教育局",
        "2023年6月28日",
    )
    assert reply.sections[-1].text == SECTION[1]


def test_appeal_followed_by_more_body_text_stays_in_the_section():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "恳请理解和支持。",
        "下一步，我局将继续研究提高补助标准。",
        "此复。",
        "青溪市教育局",
        "2023年6月28日",
    )
    assert reply.sections[-1].text.endswith("恳请理解和支持。\n\n下一步，我局将继续研究提高补助标准。")
    assert [c.section_idx for c in reply.commitments] == [0]


def test_undated_signature_belongs_to_no_section():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "此复。",
        "青溪市教育局",
    )
    assert reply.sections[-1].text == SECTION[1]
    assert reply.date is None
    assert "missing:date" in reply.warnings


def test_sub_sections_nest_under_their_section():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        "一、关于丰富课后服务内容",
        "（一）推进一校多品建设",
        "指导学校开设兴趣课程。",
        "（二）用好校外优质资源",
        "会同市科协建立项目库。",
        "二、关于教师减负",
        "全市学校已普遍实行弹性上下班制度。",
        *SIGNED,
    )
    assert [(s.level, s.marker) for s in reply.sections] == [(1, "一、"), (2, "（一）"), (2, "（二）"), (1, "二、")]
    assert reply.sections[0].text == "指导学校开设兴趣课程。\n\n会同市科协建立项目库。"
    assert reply.sections[1].text == "指导学校开设兴趣课程。"
    assert reply.sections[3].text == "全市学校已普遍实行弹性上下班制度。"


# --- the bundled fictional samples --------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_parses_core_fields(path):
    reply = read_source(path, sample=True)
    assert reply.title
    assert reply.department
    assert reply.date
    assert reply.session_label
    assert reply.year
    assert reply.proposal_numbers


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_body_has_no_page_number_lines(path):
    reply = read_source(path, sample=True)
    assert not any(is_page_furniture(line) for line in body_lines(reply))


def test_samples_exist():
    assert len(SAMPLES) >= 10


def test_sample_running_header_is_dropped():
    reply = read_source(data.path("samples", "10-intangible-heritage-2021.txt"), sample=True)
    assert "市政协十一届五次会议提案办理答复" not in reply.body
    assert "新建独立场馆需落实选址用地" in reply.body


def test_sample_page_number_mid_sentence_is_rejoined():
    reply = read_source(data.path("samples", "07-school-bus-parking-linjiang-2023.txt"), sample=True)
    assert "我局会同区自然资源部门进行了研究" in reply.body


def test_sample_npc_reply_last_section_stops_at_closing():
    reply = read_source(data.path("samples", "13-npc-business-environment-2023.txt"), sample=True)
    last = reply.sections[-1].text
    assert "感谢各位代表" not in last and "抄送" not in last and "青溪市发展和改革委员会\n" not in last
    assert last.endswith("及时协调解决企业发展中的困难和问题。")


def test_page_metadata_fills_what_the_text_does_not_state():
    text = (
        "关于市政协十二届二次会议第0045号提案的答复\n\n王一帆委员：\n\n"
        "您提出的提案收悉。现答复如下：\n\n此复。\n\n青溪市教育局"
    )
    source = Source(file="page.html", format="html", sha256="0" * 64, parser_version="test")
    reply = parse_reply(text, source=source, metadata={"文号": "青教提函[2023]28号", "成文日期": "2023年6月28日"})
    assert reply.doc_number == "青教提函〔2023〕28号" and reply.date == "2023-06-28"
    stated = parse_reply(text + "\n\n2023年7月1日", source=source, metadata={"成文日期": "2023年6月28日"})
    assert stated.date == "2023-07-01"  # the text wins


# --- the fixture set: every expected field of tests/fixtures/replies ----------------

EXPECTED = load_expected()


def test_fixture_set_covers_at_least_thirty_replies():
    files = {p.name for p in FIXTURES.glob("*.txt")}
    assert len(files) >= 30
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_fields(name):
    reply = parse_fixture(name, EXPECTED[name])
    assert mismatches(reply, EXPECTED[name]) == {}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_record_round_trips_through_the_archive(name):
    reply = parse_fixture(name, EXPECTED[name])
    assert from_markdown(to_markdown(reply)) == reply


# --- fields of the opening: role, co-handling units, interim proposals --------------


@pytest.mark.parametrize(
    ("opening", "role", "evidence"),
    [
        ("您提出的提案收悉。我局作为主办单位，经认真研究，现答复如下：", "主办", "我局作为主办单位"),
        ("您提出的提案收悉。作为协办单位，我委认真研究，现答复如下：", "协办", "作为协办单位"),
        ("您提出的提案收悉。该提案由我局独立办理，现答复如下：", "独办", "由我局独立办理"),
        ("您提出的提案收悉。该提案由我局主办，现答复如下：", "主办", "由我局主办"),
        # 我局会同… implies that the unit leads but states no role: real replies that say it
        # are read by hand as stating none.
        ("您提出的提案收悉。我局会同市财政局认真研究，现答复如下：", None, None),
        ("您提出的提案收悉。该提案由我委与市财政局分别办理，现答复如下：", "分办", "分别办理"),
    ],
)
def test_role_and_the_words_that_state_it(opening, role, evidence):
    reply = parse("关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", opening, *SECTION, *SIGNED)
    assert (reply.department_role, reply.role_evidence) == (role, evidence)


def test_role_of_another_unit_is_not_ours():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "该提案由市水务局主办。经认真研究，现答复如下：",
        *SECTION, *SIGNED,
    )
    assert reply.department_role is None and reply.role_evidence is None


@pytest.mark.parametrize(
    ("opening", "units"),
    [
        ("经商市财政局、市科学技术协会，现答复如下：", ("市财政局", "市科学技术协会")),
        ("我局作为主办单位，会同市住房和城乡建设局、市人力资源和社会保障局进行了认真研究，现答复如下：",
         ("市住房和城乡建设局", "市人力资源和社会保障局")),
        ("我局作为主办单位，结合区教育局和区公安分局等会办单位意见，现答复如下：", ("区教育局", "区公安分局")),
        ("我局作为主办单位，结合实际工作情况及会办单位意见，现答复如下：", ()),  # unnamed
        ("我局会同各区政府和有关部门认真研究，现答复如下：", ()),  # no unit named
    ],
)
def test_co_departments_are_the_units_named(opening, units):
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。" + opening, *SECTION, *SIGNED
    )
    assert reply.co_departments == units


def test_units_named_in_the_body_are_not_co_departments():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        "一、关于经费保障",
        "今年4月，我局会同市财政局联合印发管理办法。",
        *SIGNED,
    )
    assert reply.co_departments == ()


def test_interim_proposal_has_a_term_and_no_session():
    reply = parse(
        "关于临江区政协五届委员会平时提案第12号的答复", "许听雨委员：", "您提出的提案收悉。", *SECTION, *SIGNED
    )
    assert reply.is_interim is True
    assert (reply.term, reply.session_number, reply.session_label) == (5, None, None)
    assert reply.assembly.region == "临江区"
    assert "missing:session_label" not in reply.warnings


def test_session_proposal_is_not_interim():
    reply = parse(
        "关于临江区政协五届三次会议第20230112号提案的答复", "王一帆委员：", "您提出的提案收悉。", *SECTION, *SIGNED
    )
    assert reply.is_interim is False


def test_national_class_gives_the_topic():
    reply = parse(
        "关于政协第十四届全国委员会第二次会议第01234号（资源环境类284号）提案答复的函",
        "秦望川委员：",
        "您提出的《关于发展冷链物流的提案》收悉。",  # keywords alone would say 农业农村
        *SECTION,
        "农业农村部",
        "2024年7月1日",
    )
    assert (reply.proposal_class, reply.class_seq) == ("资源环境类", 284)
    assert (reply.topic, reply.topic_source) == ("生态文明建设", "official_class")


def test_without_a_class_the_keywords_give_the_topic():
    reply = parse(
        "关于政协第十四届全国委员会第二次会议第01234号提案答复的函",
        "秦望川委员：", "您提出的《关于发展冷链物流的提案》收悉。",
        *SECTION, *SIGNED,
    )
    assert (reply.proposal_class, reply.class_seq) == (None, None)
    assert (reply.topic, reply.topic_source) == ("经济建设", "keywords")


# --- results ------------------------------------------------------------------------


def test_result_with_its_meaning_printed_states_the_scheme():
    reply = parse(
        "B类（正在解决或列入计划解决）", "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, *SIGNED,
    )
    assert (reply.result_category, reply.result_scheme, reply.resolution_level) == ("B", "stated", "in_progress")
    assert reply.result_raw == "B类（正在解决或列入计划解决）"


def test_result_scheme_from_the_assembly_table():
    reply = parse(
        "C类", "关于临江区政协五届三次会议第20230112号提案的答复", "王一帆委员：", "您提出的提案收悉。",
        *SECTION, *SIGNED,
    )
    assert (reply.result_scheme, reply.resolution_level) == ("shenzhen_4", "not_now")


@pytest.mark.parametrize("mark", ["C类", "丙类", "A类"])
def test_result_without_a_known_scheme_has_no_resolution_level(mark):
    # 青溪市's rule set is unknown: C may mean "not now" or "for reference" (spec §5).
    reply = parse(
        mark, "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。", *SECTION, *SIGNED
    )
    assert reply.result_category in "AC"
    assert (reply.result_scheme, reply.resolution_level) == (None, None)


def test_every_result_scheme_has_a_label():
    assert set(scheme_names()) | {"stated"} == set(labels()["values"]["result_scheme"])


# --- the closing part: closing formulas, contact, copies, attachments ----------------


@pytest.mark.parametrize(
    ("closing", "kind"),
    [
        (("此复。",), "reply_formula"),
        (("特此函复。",), "reply_formula"),
        (("衷心感谢您对我市教育工作的关心和支持！", "此复。"), "thanks"),
        (("感谢您的关心，请继续关注和支持我局工作。",), "thanks"),
        (("恳请予以理解和支持。", "此复。"), "appeal"),
    ],
)
def test_closing_and_its_type(closing, kind):
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, *closing, "青溪市教育局", "2023年6月28日",
    )
    assert reply.closing == "\n\n".join(closing)
    assert reply.closing_type == kind
    assert reply.salutation == "叶晚晴委员："
    assert reply.opening == "您提出的提案收悉。"


def test_closing_follows_a_hand_correction_of_the_body():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "青溪市教育局", "2023年6月28日",
    )
    corrected = dataclasses.replace(reply, body=reply.body.replace("此复。", "特此函复。"))
    assert corrected.closing == "特此函复。"


def test_reply_without_closing_formula_has_no_closing():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, "青溪市教育局", "2023年6月28日",
    )
    assert (reply.closing, reply.closing_type) == (None, None)


def test_trailer_contact_copies_and_attachments():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。现答复如下：",
        *SECTION,
        "此复。",
        "附件：1.青溪市中小学课后服务经费管理办法",
        "2.青溪市课后服务资源库名单",
        "青溪市教育局",
        "2023年6月28日",
        "联系单位：青溪市教育局基础教育科",
        "经办人：葛思远；手机：13812345678",
        "抄送：市政协提案委员会、市政府督查室。",
        "抄报：市委督查室",
    )
    assert reply.attachments == ("青溪市中小学课后服务经费管理办法", "青溪市课后服务资源库名单")
    assert reply.contact == Contact(unit="青溪市教育局基础教育科", person="葛思远", phone_redacted=True)
    assert reply.cc == ("市政协提案委员会", "市政府督查室", "市委督查室")
    assert (reply.department, reply.date) == ("青溪市教育局", "2023-06-28")
    assert "13812345678" not in reply.body


def test_contact_without_phone_is_not_marked_redacted():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, *SIGNED, "联系人：马晴川",
    )
    assert reply.contact == Contact(person="马晴川", phone_redacted=False)


def test_contact_shows_person_and_unit_never_a_phone():
    contact = Contact(unit="临江区交通运输局综合科", person="马晴川", phone_redacted=True)
    assert str(contact) == "马晴川（临江区交通运输局综合科）"
    reply = parse(
        "关于临江区政协五届三次会议第20230112号提案的答复", "王一帆委员：", "您提出的提案收悉。",
        *SECTION, *SIGNED, "（联系人：马晴川；联系电话：0000-1234567）",
    )
    rows = dict(metadata_rows(reply))
    assert rows["联系人"] == "马晴川"
    assert not any("1234567" in text for text in rows.values())


def test_no_trailer_leaves_trailer_fields_empty(seed_reply):
    assert (seed_reply.contact, seed_reply.cc, seed_reply.attachments) == (None, (), ())


# --- where the department comes from ------------------------------------------------


def test_department_from_the_issuer_before_the_title():
    reply = parse(
        "青溪市教育局关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "2023年6月28日",
    )
    assert reply.department == "青溪市教育局"
    assert "missing:department" not in reply.warnings


def test_department_from_the_header_issuer_line():
    reply = parse(
        "青溪市教育局", "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "2023年6月28日",
    )
    assert reply.department == "青溪市教育局"


def test_undated_signature_after_the_closing_formula_signs():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "青溪市教育局",
    )
    assert reply.department_raw == "青溪市教育局"
    assert reply.date is None and "missing:date" in reply.warnings


def test_department_is_never_guessed():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "您提出的提案收悉。", *SECTION, "此复。"
    )
    assert (reply.department, reply.department_raw) == (None, None)
    assert "missing:department" in reply.warnings


# --- proposers ----------------------------------------------------------------------


def test_co_handling_opinion_takes_proposers_from_the_opening():
    reply = parse(
        "关于青溪市政协十二届二次会议第0087号提案的会办意见",
        "青溪市住房和城乡建设局：",
        "韩若霖等5位委员提出的《关于加快推进老旧小区加装电梯工作的提案》收悉。我局作为会办单位，现将会办意见函复如下：",
        *SECTION,
        "特此函复。",
        "青溪市市场监督管理局",
        "2023年5月16日",
    )
    assert (reply.proposers, reply.proposer_count, reply.proposer_kind) == (("韩若霖",), 5, "joint")


@pytest.mark.parametrize("salutation", ["各位代表：", "各位委员："])
def test_generic_salutation_names_no_proposer(salutation):
    reply = parse("关于市政协十二届二次会议第0045号提案的答复", salutation, "提案收悉。", *SECTION, *SIGNED)
    assert reply.proposers == ()
    assert "missing:proposers" in reply.warnings


@pytest.mark.parametrize(
    ("salutation", "kind"),
    [
        ("市政协经济界别：", "sector"),
        ("市政协社会和法制委员会：", "committee"),
        ("青溪市人大临江代表团：", "delegation"),
    ],
)
def test_more_collective_proposers(salutation, kind):
    reply = parse("关于市政协十二届二次会议第0045号提案的答复", salutation, "你们提出的提案收悉。", *SECTION, *SIGNED)
    assert reply.proposers == (salutation.rstrip("："),)
    assert (reply.proposer_kind, reply.collective_type) == ("collective", kind)


# --- traditional script ---------------------------------------------------------------


def test_traditional_text_is_read_and_kept_as_printed():
    reply = parse(
        "關於市政協八屆三次會議第212號提案的答復",
        "林書言委員：",
        "您提出的《關於推進社區養老服務的提案》收悉。我局作為主辦單位，經商市財政局，現答復如下：",
        "一、關於社區養老服務設施",
        "下一步，我局將繼續擴大服務覆蓋面。",
        "此復。",
        "青溪市民政局",
        "2020年7月1日",
    )
    assert reply.script == "traditional"
    assert reply.title == "關於市政協八屆三次會議第212號提案的答復"
    assert (reply.term, reply.session_number, reply.session_label, reply.proposal_numbers) == (
        8, 3, "八届三次", ("212",)
    )
    assert reply.proposers == ("林書言",)
    assert reply.proposal_title == "關於推進社區養老服務的提案"
    assert (reply.department_role, reply.role_evidence) == ("主办", "我局作為主辦單位")
    assert reply.co_departments == ("市財政局",)
    assert reply.sections[0].heading == "關於社區養老服務設施"
    assert [c.text for c in reply.commitments] == ["下一步，我局將繼續擴大服務覆蓋面。"]
    assert (reply.closing, reply.closing_type) == ("此復。", "reply_formula")
    assert reply.department_raw == "青溪市民政局"
    assert "經商市財政局" in reply.body


def test_simplified_text_is_marked_simplified(seed_reply):
    assert seed_reply.script == "simplified"


# --- page metadata --------------------------------------------------------------------

PAGE = Source(file="page.html", format="html", sha256="0" * 64, parser_version="test")


def test_page_metadata_names_the_department_the_text_does_not_sign():
    text = "关于市政协十二届二次会议第0045号提案的答复\n\n叶晚晴委员：\n\n您提出的提案收悉。\n\n此复。\n\n2023年6月28日"
    reply = parse_reply(text, source=PAGE, metadata={"发文机关": "青溪市教育局"})
    assert reply.department == "青溪市教育局"
    signed = parse_reply(
        text.replace("此复。", "此复。\n\n市教育局"), source=PAGE, metadata={"发文机关": "青溪市人民政府"}
    )
    assert signed.department_raw == "市教育局"  # the text wins


@pytest.mark.parametrize(
    ("subject", "topic", "source"),
    [("教育", "社会建设", "official_class"), ("城乡建设、环境保护", "其他", "keywords"), ("其他", "其他", "keywords")],
)
def test_page_subject_class_gives_the_topic_when_it_maps(subject, topic, source):
    text = (
        "关于市政协十二届二次会议第0045号提案的答复\n\n叶晚晴委员：\n\n"
        "您提出的提案收悉。\n\n此复。\n\n青溪市教育局\n\n2023年6月28日"
    )
    reply = parse_reply(text, source=PAGE, metadata={"主题分类": subject})
    assert (reply.topic, reply.topic_source) == (topic, source)


def test_page_title_stands_in_when_the_text_has_none():
    text = "B类\n\n叶晚晴委员：\n\n您提出的提案收悉。\n\n此复。\n\n青溪市教育局\n\n2023年6月28日"
    reply = parse_reply(text, source=PAGE, metadata={"标题": "关于市政协十二届二次会议第0045号提案的答复"})
    assert reply.title == "关于市政协十二届二次会议第0045号提案的答复"
    assert reply.proposal_numbers == ("0045",)
    assert reply.result_category == "B"
    assert reply.body.startswith("叶晚晴委员：")


def test_text_without_title_or_page_title_gets_a_derived_title():
    reply = parse_reply("叶晚晴委员：\n\n您提出的提案收悉。", source=PAGE, metadata={"文号": "青教提函〔2023〕28号"})
    assert reply.title == "关于叶晚晴委员所提提案的答复" and "title_derived" in reply.warnings
    assert reply.doc_number == "青教提函〔2023〕28号"


# --- other fields ---------------------------------------------------------------------


def test_level_four_sections():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的提案收悉。",
        "一、关于托育服务",
        "1.新建托育机构",
        "（1）社区托育点",
        "新建托育点8个。",
        *SIGNED,
    )
    assert [(s.level, s.marker) for s in reply.sections] == [(1, "一、"), (3, "1."), (4, "（1）")]
    assert reply.sections[2].text == "新建托育点8个。"


def test_year_never_invented():
    reply = parse(
        "关于市政协十一届一次会议第0487号提案的答复", "沈知秋委员：", "您提出的提案收悉。",
        *SECTION, "此复。", "青溪市教育局",
    )
    assert (reply.year, reply.year_source) == (None, None)
    assert "missing:year" in reply.warnings


def test_seed_new_fields(seed_reply):
    assert seed_reply.role_evidence == "我部作为主办单位"
    assert seed_reply.co_departments == ()  # 会办单位 not named (seed observation 10)
    assert seed_reply.proposal_title_raw == "关于“发挥福田区位优势，打造深港共融试点”的建议"
    assert (seed_reply.date_style, seed_reply.is_interim) == ("arabic", False)
    assert (seed_reply.closing, seed_reply.closing_type) == ("此复。", "reply_formula")
    assert seed_reply.salutation == "黄逸昆、庄伟根、简伟锋、黄健诚委员："
    assert seed_reply.opening.startswith("根据深圳市福田区政协六届二次会议第20220030号提案")
    assert (seed_reply.result_scheme, seed_reply.resolution_level) == (None, None)


def test_seed_topic(seed_reply):
    assert seed_reply.topic == "政治建设"
    assert seed_reply.topics[:2] == ("统战与港澳台侨", "区域合作")
    assert seed_reply.topic_source == "keywords"


def test_document_number_in_the_opening_is_no_proposal_number():
    reply = parse(
        "对《关于规范电动自行车停放的提案》的答复",
        "周远山委员：",
        "根据国办发〔2014〕46号文件要求，现将你提出的区政协六届一次会议第45号提案办理情况答复如下：",
        *SECTION,
        *SIGNED,
    )
    assert reply.proposal_numbers == ("45",)


def test_every_warning_of_the_fixtures_is_worded_for_readers():
    codes = {code for name in EXPECTED for code in parse_fixture(name, EXPECTED[name]).warnings}
    assert {code.partition(":")[0] for code in codes} >= {
        "missing", "unknown_department", "year_estimated", "lost_characters", "unreadable", "mojibake",
        "mojibake_repaired",
    }
    assert all(warning_text(code) != code for code in codes)


def test_a_reply_without_numbered_sections_parses_and_serialises():
    reply = parse(
        "关于市政协十二届二次会议第0045号提案的答复",
        "王一帆委员：",
        "您提出的提案收悉。现答复如下：我局已将相关建议纳入年度工作计划。",
        "此复。",
        "青溪市教育局",
        "2023年6月28日",
    )
    assert reply.sections == ()
    data = reply.to_dict()
    assert data["opening"].startswith("您提出的提案收悉") and data["closing"] == "此复。"
