"""Cleaning raw reply text into paragraphs (archive.clean; domain spec §1 and §8)."""

from __future__ import annotations

import sys
import unicodedata

import opencc
import pytest

from reply_archive import data
from reply_archive.archive import clean
from reply_archive.archive.clean import (
    REDACTED,
    clean_text,
    detect_script,
    display_width,
    drop_running_lines,
    fold_width,
    is_page_furniture,
    mask_phones,
    normalise_line,
    repair_mojibake,
    to_simplified,
)

# Running text without punctuation, so that only the rule under test can break it.
BODY = (
    "近年来我区坚持以人民为中心的发展思想把养老服务作为重要民生工程来抓先后出台了一系列政策"
    "措施推动社区养老服务设施建设取得明显成效全区已建成街道综合养老服务中心七个社区养老服务站"
    "五十二个长者食堂四十一个基本形成了十五分钟养老服务圈并在此基础上开展家庭养老床位建设累计"
    "为失能半失能老年人建设家庭养老床位六百八十张配备紧急呼叫智能监测等设备"
)
WIDTH = 16  # characters per line of the simulated PDF page


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """Hard-wrap text at a fixed width, as PDF extraction does."""
    return [text[i : i + width] for i in range(0, len(text), width)]


def seed_paragraphs() -> list[str]:
    return clean_text(data.path("seed", "seed_reply.txt").read_text(encoding="utf-8"))


# --- page furniture ---------------------------------------------------------------


@pytest.mark.parametrize("line", ["1", "12", "— 2 —", "-3-", "－3－", "—2—", "第1页 共3页", "第 2 页，共 3 页", " 1 "])
def test_page_number_lines_are_page_furniture(line):
    assert is_page_furniture(line)


@pytest.mark.parametrize("line", ["2022", "一、", "1.", "（1）", "第1页内容", "2022年6月9日", "100万元", "— 关于 —"])
def test_text_lines_are_not_page_furniture(line):
    assert not is_page_furniture(line)


def test_page_number_lines_are_dropped():
    raw = "1\n关于市政协十二届二次会议第0045号提案的答复\n— 2 —\n叶晚晴委员：\n-3-\n此复。\n第1页 共3页\n"
    assert clean_text(raw) == ["关于市政协十二届二次会议第0045号提案的答复", "叶晚晴委员：", "此复。"]


def test_page_number_inside_a_wrapped_sentence_does_not_split_it():
    lines = wrap(BODY)
    lines.insert(3, "— 2 —")
    assert clean_text("\n".join(lines)) == [BODY]


def test_page_number_inside_a_double_spaced_wrapped_sentence_does_not_split_it():
    # A lone page number between two blank lines must not count as a paragraph break.
    lines = wrap(BODY)
    lines.insert(3, "1")
    assert clean_text("\n\n".join(lines) + "\n\n") == [BODY]


# --- blank lines and line joins -----------------------------------------------------


def test_blank_line_after_every_line_collapses():
    lines = wrap(BODY)
    assert clean_text("\n\n".join(lines) + "\n\n") == clean_text("\n".join(lines)) == [BODY]


def test_wrapped_lines_rejoin_without_space_between_chinese_characters():
    text = BODY[: WIDTH - 1] + "关于" + BODY[WIDTH - 1 :]
    lines = wrap(text)
    assert lines[0].endswith("关") and lines[1].startswith("于")
    assert clean_text("\n".join(lines)) == [text]


def test_page_break_with_leading_space_rejoins():
    # Seed observation 2: a new page begins with a space and no blank line before it.
    text = BODY[: WIDTH - 1] + "华强" + BODY[WIDTH - 1 :]
    lines = wrap(text)
    lines[1] = " " + lines[1]
    assert lines[0].endswith("华") and lines[1].startswith(" 强")
    paragraphs = clean_text("\n\n".join(lines))
    assert paragraphs == [text]
    assert "华强" in paragraphs[0]


def test_latin_words_split_by_a_wrap_keep_their_space():
    lines = wrap(BODY)
    lines[2] += "Fun"
    lines[3] = "Run" + lines[3]
    assert clean_text("\n".join(lines)) == [BODY[: 3 * WIDTH] + "Fun Run" + BODY[3 * WIDTH :]]


@pytest.mark.parametrize("end", list("。！？；："))
def test_line_break_is_kept_after_sentence_end(end):
    first = BODY[: 3 * WIDTH - 1] + end
    second = BODY[3 * WIDTH : 7 * WIDTH]
    assert clean_text("\n".join(wrap(first) + wrap(second))) == [first, second]


@pytest.mark.parametrize("marker", ["一、", "（一）", "(一)", "1.", "2、", "（1）", "(1)"])
def test_line_break_is_kept_before_a_section_marker(marker):
    first = BODY[: 3 * WIDTH]
    second = marker + BODY[3 * WIDTH : 7 * WIDTH]
    # Half-width brackets come out full-width, as brackets next to Chinese text do.
    assert clean_text("\n".join(wrap(first) + wrap(second))) == [first, second.replace("(", "（").replace(")", "）")]


def test_line_break_is_kept_after_a_short_line():
    first = BODY[: 2 * WIDTH + 5]  # its last line stops well short of the margin
    second = BODY[3 * WIDTH : 7 * WIDTH]
    assert clean_text("\n".join(wrap(first) + wrap(second))) == [first, second]


def test_body_line_ending_in_dafu_is_not_taken_for_a_title_line():
    # A title line (…提案的答复) ends its own paragraph; a body line that merely ends in
    # 答复 after a sentence end (…收悉。经研究现答复 / 如下：) does not.
    opening = "您提出的提案已收悉。经研究现答复"
    assert len(opening) == WIDTH
    first = BODY[: 2 * WIDTH] + opening + "如下："
    second = BODY[2 * WIDTH : 6 * WIDTH]
    lines = wrap(BODY[: 2 * WIDTH]) + [opening, "如下："] + wrap(second)
    assert clean_text("\n".join(lines)) == [first, second]


def test_text_with_one_paragraph_per_line_is_not_joined():
    lines = [
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "你们提出的《关于提升义务教育课后服务质量的提案》收悉，经认真研究，现将有关情况答复如下",
        "一、关于课后服务总体进展",
        "全市义务教育学校课后服务实现了全覆盖，每周5天开展、每天至少2小时，结束时间与家长正常下班时间"
        "相衔接，课后服务已由“有没有”转向“好不好”",
        "二、关于丰富课后服务内容",
        "指导学校在做好作业辅导的基础上开设体育、艺术、科技、劳动等兴趣课程",
        "此复",
        "青溪市教育局",
        "2023年6月28日",
    ]
    assert clean_text("\n".join(lines)) == lines


# --- spaces -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("2022 年 6 月 9 日", "2022年6月9日"),
        ("第 20220030 号提案", "第20220030号提案"),
        ("发挥河套合作区“e 站通”服务作用", "发挥河套合作区“e站通”服务作用"),
        ("“Fun 梦湾区”深港澳青年社区参与支持计划", "“Fun梦湾区”深港澳青年社区参与支持计划"),
        ("增加至 557 项", "增加至557项"),
        ("开发 APP 应用", "开发APP应用"),
    ],
)
def test_space_between_cjk_and_ascii_is_removed(raw, clean):
    assert normalise_line(raw) == clean


def test_space_between_two_chinese_phrases_is_kept():
    raw = "系列活动启动、翰墨绘盛事 丹青铸同心——名家书画邀请展"
    assert normalise_line(raw) == raw


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("文　号：青教提函〔2022〕15号", "文号：青教提函〔2022〕15号"),
        ("索 引 号：000014349/2023-00123", "索引号：000014349/2023-00123"),
        ("联 系 单 位：临江区交通运输局综合科", "联系单位：临江区交通运输局综合科"),
        ("经 办 人：马晴川", "经办人：马晴川"),
        ("抄 报：区政协提案委员会", "抄报：区政协提案委员会"),
        ("发 文 机 关", "发文机关"),
        ("联 系 人：马晴川", "联系人：马晴川"),
        ("（联 系 人：马晴川；联系电话：0000-1234567）", "（联系人：马晴川；联系电话：0000-1234567）"),
        ("联 系 电 话：0000-1234567", "联系电话：0000-1234567"),
        ("抄 送：区政协提案委员会", "抄送：区政协提案委员会"),
        ("签 发 人：许文澜", "签发人：许文澜"),
    ],
)
def test_spaced_labels_are_closed_up(raw, clean):
    assert normalise_line(raw) == clean


# --- full-width and half-width forms ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("的建议,我部作为主办单位", "的建议，我部作为主办单位"),
        ("联系人:马晴川", "联系人：马晴川"),
        ("一是加强监管;二是完善制度", "一是加强监管；二是完善制度"),
    ],
)
def test_half_width_punctuation_between_chinese_becomes_full_width(raw, clean):
    assert normalise_line(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("截至2023年5月,全区", "截至2023年5月，全区"),  # a digit on the other side
        ("仅占29%,单车日均亏损", "仅占29%，单车日均亏损"),
        ("联系电话:0000", "联系电话：0000"),
        ("开发APP,小程序", "开发APP，小程序"),
        ("时间:17:30", "时间：17:30"),
    ],
)
def test_half_width_comma_colon_semicolon_next_to_chinese_become_full_width(raw, clean):
    assert normalise_line(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("收悉.我局作为主办单位", "收悉。我局作为主办单位"), ("今年新建候车亭48座.", "今年新建候车亭48座。")],
)
def test_half_width_full_stop_after_chinese_becomes_full_width(raw, clean):
    assert normalise_line(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("(一)关于候车亭建设", "（一）关于候车亭建设"),
        ("(1)加强监管", "（1）加强监管"),
        ("电子站牌(实时公交信息)120块", "电子站牌（实时公交信息）120块"),
        ("规划(2023—2035年)", "规划（2023—2035年）"),
        ("开发APP(应用)", "开发APP（应用）"),
    ],
)
def test_half_width_brackets_touching_or_holding_chinese_become_full_width(raw, clean):
    assert normalise_line(raw) == clean


@pytest.mark.parametrize("raw", ["托位2,960个", "时间为17:30", "比例为1:2", "GDP (2022)", "e.g. (a)", "版本1.2.3"])
def test_half_width_punctuation_away_from_chinese_is_kept(raw):
    assert normalise_line(raw) == raw


def test_full_width_digits_and_letters_become_ascii():
    assert fold_width("２０２２年ＡＰＰｅ站通") == "2022年APPe站通"


def test_full_width_punctuation_is_kept():
    # NFKC would turn these into ASCII; cleaning must not.
    raw = "经认真研究，现答复如下：（一）扩大供给；〔2022〕！？"
    assert fold_width(raw) == raw
    assert normalise_line(raw) == raw


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("二○一九年八月二十日", "二〇一九年八月二十日"),  # ○ U+25CB
        ("二O一九年八月二十日", "二〇一九年八月二十日"),  # Latin O
        ("二0一九年十二月三十一日", "二〇一九年十二月三十一日"),  # ASCII zero
        ("二０二一年三月五日", "二〇二一年三月五日"),  # full-width zero
        ("青溪市教育局 二○一九年八月二十日 印发", "青溪市教育局 二〇一九年八月二十日 印发"),
    ],
)
def test_zero_in_chinese_numeral_dates_becomes_ling(raw, clean):
    assert normalise_line(raw) == clean


@pytest.mark.parametrize("raw", ["二零二零年二月二十九日", "2020年十月一日", "○ 项目进展", "编号O1", "二○一九版"])
def test_zero_outside_chinese_numeral_dates_is_kept(raw):
    assert normalise_line(raw) == raw


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("會(huì)客厅", "會客厅"),
        ("会（huì）客厅", "会客厅"),
        ("在臨江(lín jiāng)舉行", "在臨江舉行"),
        ("会(hui4)议", "会议"),
    ],
)
def test_pinyin_glosses_are_removed(raw, clean):
    assert normalise_line(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("开发APP（app）", "开发APP（app）"), ("会(hui)议", "会（hui）议"), ("服务(e站通)", "服务（e站通）")],
)
def test_latin_words_in_brackets_are_not_pinyin_glosses(raw, clean):
    # Without a tone mark or number, letters in brackets may be a word: they stay.
    assert normalise_line(raw) == clean


def test_full_width_forms_are_folded_in_clean_text():
    assert clean_text("于２０２２年６月９日挂牌，服务ｅ站通。") == ["于2022年6月9日挂牌，服务e站通。"]


# --- running headers ----------------------------------------------------------------


def test_running_header_repeated_three_times_is_dropped():
    header = "青溪市教育局提案办理答复"
    lines = []
    for part in (BODY[:60], BODY[60:120], BODY[120:]):
        lines += [header, *wrap(part)]
    paragraphs = clean_text("\n".join(lines))
    assert all(header not in p for p in paragraphs)
    assert "".join(paragraphs) == BODY


def test_running_header_on_two_pages_next_to_page_numbers_is_dropped():
    header = "市政协十一届五次会议提案办理答复"
    lines = wrap(BODY)
    lines[6:6] = ["— 2 —", header]
    lines[3:3] = ["— 1 —", header]
    paragraphs = clean_text("\n\n".join(lines))
    assert all(header not in p for p in paragraphs)
    assert paragraphs == [BODY]


def test_line_repeated_twice_away_from_page_numbers_is_kept():
    lines = [
        "一、关于养老服务", "（一）基本情况", "已建成服务中心7个。",
        "二、关于托育服务", "（一）基本情况", "已提供托位2,960个。",
    ]
    assert clean_text("\n".join(lines)) == lines


# --- the seed reply -----------------------------------------------------------------


def test_seed_words_broken_by_page_joins_are_whole():
    text = "\n".join(seed_paragraphs())
    for phrase in (
        "华强上步片区", "品牌活动", "e站通", "2022年6月9日", "“Fun梦湾区”", "粤港澳专业人士（深圳）交流服务中心"
    ):
        assert phrase in text
    for broken in ("华 强", "品 牌", "e 站通", "2022 年"):
        assert broken not in text


def test_seed_page_number_is_dropped():
    paragraphs = seed_paragraphs()
    assert "1" not in paragraphs
    assert paragraphs[0] == "关于深圳市福田区政协六届二次会议"


def test_seed_keeps_the_event_name_gap_and_normalises_the_comma():
    text = "\n".join(seed_paragraphs())
    assert "翰墨绘盛事 丹青铸同心" in text
    assert "的建议，我部作为" in text
    assert "," not in text


def test_seed_rejoins_wrapped_lines_into_paragraphs():
    paragraphs = seed_paragraphs()
    assert "黄逸昆、庄伟根、简伟锋、黄健诚委员：" in paragraphs
    assert "一、关于“构筑深港合作共融空间”的建议" in paragraphs
    assert paragraphs[-3:] == ["此复。", "福田区委统战部", "2022年9月23日"]
    opening = next(p for p in paragraphs if p.startswith("根据"))
    assert opening.endswith("回复办理意见如下。")
    assert "提案关于“发挥福田区位优势" in opening


# --- page breaks (form feeds) -----------------------------------------------------


def paged(*pages: list[str]) -> str:
    """Join pages of lines with form feeds, as the PDF extractor does."""
    return "\f".join("\n".join(lines) for lines in pages)


def test_running_header_and_numbered_footer_on_every_page_are_dropped():
    lines = wrap(BODY)
    pages = [lines[0:4], lines[4:8], lines[8:]]
    text = paged(
        *(["青溪市生态环境局提案办理材料", *page, f"青溪市生态环境局（第{n}页）"] for n, page in enumerate(pages, 1))
    )
    paragraphs = clean_text(text)
    assert paragraphs == [BODY]


def test_running_footer_on_half_the_pages_is_dropped():
    lines = wrap(BODY)
    pages = [[*lines[0:3], "内部资料 注意保存"], lines[3:6], [*lines[6:9], "内部资料 注意保存"], lines[9:]]
    assert "内部资料" not in drop_running_lines(paged(*pages))


def test_line_repeated_inside_pages_is_kept():
    # Only the top and bottom lines of a page can be running heads.
    lines = wrap(BODY)
    pages = [[*lines[0:2], "（一）基本情况", *lines[2:5]], [*lines[5:7], "（一）基本情况", *lines[7:]]]
    assert drop_running_lines(paged(*pages)).count("（一）基本情况") == 2


def test_edge_line_on_one_page_of_two_is_kept():
    lines = wrap(BODY)
    text = paged(["此复。", *lines[:5]], lines[5:])
    assert drop_running_lines(text).startswith("此复。")


def test_text_without_form_feeds_is_unchanged_by_page_rules():
    text = "\n".join(wrap(BODY))
    assert drop_running_lines(text) == text


def test_web_page_furniture_is_dropped():
    raw = (
        "字体：[大 中 小]\n发布时间：2023-06-30 浏览次数：1024\n"
        + BODY
        + "如有意见请联系[email protected]。\n扫一扫在手机打开当前页"
    )
    assert clean_text(raw) == [BODY + "如有意见请联系。"]


# --- damage: flagged, repaired only when that is exact ------------------------------

SENTENCE = "我局于今年启动了绿道二期工程建设，新增绿道42公里。"


def test_latin1_mojibake_is_repaired_and_reported():
    warnings: list[str] = []
    assert repair_mojibake(SENTENCE.encode("utf-8").decode("latin-1"), warnings) == SENTENCE
    assert warnings == ["mojibake_repaired:latin-1"]


def test_cp1252_mojibake_is_repaired():
    warnings: list[str] = []
    garbled = "国家".encode().decode("cp1252")
    assert garbled == "å›½å®¶"
    assert repair_mojibake(garbled, warnings) == "国家"
    assert warnings == ["mojibake_repaired:latin-1"]


def test_gbk_mojibake_that_decodes_exactly_is_repaired():
    warnings: list[str] = []
    garbled = "认真研究".encode().decode("gbk")
    assert garbled == "璁ょ湡鐮旂┒"
    assert repair_mojibake(garbled, warnings) == "认真研究"
    assert warnings == ["mojibake_repaired:gbk"]


def test_gbk_mojibake_with_lost_bytes_is_flagged_and_kept():
    warnings: list[str] = []
    garbled = SENTENCE.encode("utf-8").decode("gbk", errors="replace")
    assert repair_mojibake(garbled, warnings) == garbled
    assert warnings == ["mojibake:gbk"]


@pytest.mark.parametrize("text", [BODY, "“湾区社保通”“深港通注册易”", "Café 与 naïve", "——……"])
def test_real_text_is_no_mojibake(text):
    warnings: list[str] = []
    assert repair_mojibake(text, warnings) == text
    assert warnings == []


def test_bundled_texts_have_no_damage_warnings():
    for path in [data.path("seed", "seed_reply.txt"), *sorted(data.path("samples").glob("*.txt"))]:
        warnings: list[str] = []
        clean_text(path.read_text(encoding="utf-8"), warnings)
        assert warnings == [], path.name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("我市于20168月启动公园城市建设。", "lost_characters:20168月"),
        ("根据《绿地系统规划(20152030年)》，", "lost_characters:20152030年"),
        ("问卷回收情况?????。", "unreadable:?????"),
        ("问卷回收情况？？？。", "unreadable:？？？"),
        ("回收情况\ufffd。", "unreadable:\ufffd"),
    ],
)
def test_lost_characters_are_flagged_not_guessed(text, code):
    warnings: list[str] = []
    paragraphs = clean_text(text, warnings)
    assert warnings == [code]
    assert code.partition(":")[2] in paragraphs[0]  # left as it is


@pytest.mark.parametrize("text", ["2016年8月启动。", "规划（2015—2030年）。", "第20220030号提案", "是否可行?"])
def test_intact_text_is_not_flagged(text):
    warnings: list[str] = []
    clean_text(text, warnings)
    assert warnings == []


def test_warnings_are_added_once():
    warnings = ["missing:date"]
    clean_text("于20168月启动，20168月完成。", warnings)
    assert warnings == ["missing:date", "lost_characters:20168月"]


# --- phone numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("（联系人：马晴川；联系电话：0000-1234567）", f"（联系人：马晴川；联系电话：{REDACTED}）"),
        ("联系电话：0571-87654321、13812345678", f"联系电话：{REDACTED}"),
        ("联系人：马晴川 13912345678", f"联系人：马晴川 {REDACTED}"),
        ("如有疑问请拨打咨询电话87654321。", f"如有疑问请拨打咨询电话{REDACTED}。"),
        ("手机：13800000000", f"手机：{REDACTED}"),
    ],
)
def test_phone_numbers_are_masked(raw, masked):
    assert mask_phones(raw) == masked


@pytest.mark.parametrize(
    "text", ["畅通12345热线和服务电话96333", "投入资金12000000元", "全市已建成1,036部", "联系人：马晴川"]
)
def test_public_hotlines_and_figures_are_not_phone_numbers(text):
    assert mask_phones(text) == text


def test_phone_numbers_are_masked_in_clean_text():
    paragraphs = clean_text("此复。\n联 系 人：马晴川\n联系电话:0000-1234567")
    assert paragraphs[-1] == f"联系电话：{REDACTED}"
    assert "1234567" not in "".join(paragraphs)


# --- scripts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("關於市政協八屆三次會議第212號提案的答復", "traditional"),
        ("关于市政协八届三次会议第212号提案的答复", "simplified"),
        (BODY, "simplified"),
    ],
)
def test_script_is_detected(text, script):
    assert detect_script(text) == script


def test_conversion_to_simplified_keeps_every_offset():
    text = "關於市政協八屆三次會議第212號提案的答復，頭髮理髮著作乾隆"
    converted = to_simplified(text)
    assert converted.startswith("关于市政协八届三次会议第212号提案的答复")
    assert len(converted) == len(text)


# --- wrapped short replies ----------------------------------------------------------


def test_short_wrapped_reply_is_joined():
    # Few lines reach the margin in a short reply; two that stop there mid-sentence do.
    lines = [
        "关于市政协十二届二次会议第0045号提案的答复",
        "叶晚晴委员：",
        "您提出的《关于提高课后服务财政补助标准的提案》收悉。我局作",
        "为主办单位，经认真研究，现答复如下：",
        "一、关于补助标准",
        "2021年我市已将生均补助标准由每学期200元提高至300元，目",
        "前在全省处于中上水平。",
        "此复。",
        "青溪市教育局",
        "2023年6月28日",
    ]
    paragraphs = clean_text("\n".join(lines))
    assert (
        "您提出的《关于提高课后服务财政补助标准的提案》收悉。我局作为主办单位，经认真研究，现答复如下：" in paragraphs
    )
    assert "2021年我市已将生均补助标准由每学期200元提高至300元，目前在全省处于中上水平。" in paragraphs
    assert paragraphs[-3:] == ["此复。", "青溪市教育局", "2023年6月28日"]


def test_wrapped_traditional_title_ends_its_paragraph():
    lines = ["關於市政協八屆三次會議第212號提案的答復", "林書言委員：", *wrap(BODY)]
    paragraphs = clean_text("\n".join(lines))
    assert paragraphs[:2] == ["關於市政協八屆三次會議第212號提案的答復", "林書言委員："]


def test_phone_numbers_are_masked_in_traditional_script_too():
    assert mask_phones("（聯繫人：馬晴川；聯繫電話：0000-1234567）") == "（聯繫人：馬晴川；聯繫電話：【已隐去】）"
    assert mask_phones("联系人：王五，电话：13812345678、0755-1234567") == "联系人：王五，电话：【已隐去】"


def test_spaced_labels_close_up_in_traditional_script_too():
    assert normalise_line("聯 系 人：馬晴川") == "聯系人：馬晴川"


@pytest.mark.parametrize("raw, masked", [
    ("联系电话：0755 8291 1234", "联系电话：【已隐去】"),
    ("手机：138-1234-5678", "手机：【已隐去】"),
    ("电话：+86 138 1234 5678", "电话：【已隐去】"),
    ("电话：8291-1234", "电话：【已隐去】"),
    ("请致电0755-82911234咨询", "请致电【已隐去】咨询"),
    ("如有疑问可联系13812345678。", "如有疑问可联系【已隐去】。"),
    ("拨打12345热线", "拨打12345热线"),  # a public hotline is not a person's phone
    ("投入资金1234.5678万元", "投入资金1234.5678万元"),
    ("第20220030号提案", "第20220030号提案"),
])
def test_phone_numbers_in_any_common_form_are_masked(raw, masked):
    assert mask_phones(raw) == masked


def test_display_width_counts_wide_and_full_width_characters_as_two():
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    for start in range(0, len(every), 50_000):
        line = every[start : start + 50_000]
        assert display_width(line) == sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
    assert display_width("关于ab１２") == 10


def test_fold_width_turns_every_full_width_letter_and_digit_and_nothing_else():
    every = "".join(chr(c) for c in range(0x3000, 0x10000) if not 0xD800 <= c <= 0xDFFF)
    expected = "".join(
        unicodedata.normalize("NFKC", ch) if unicodedata.normalize("NFKC", ch).isascii()
        and unicodedata.normalize("NFKC", ch).isalnum() and 0xFF00 < ord(ch) < 0xFF60 else ch
        for ch in every
    )
    assert fold_width(every) == expected


@pytest.mark.parametrize("config", ["t2s", "s2t"])
def test_the_script_count_takes_every_character_opencc_changes_and_no_other(config):
    convert = opencc.OpenCC(config).convert
    pattern = clean._converted_by(config)
    for code in range(0x3000, 0xFB00):
        ch = chr(code)
        assert bool(pattern.fullmatch(ch)) == (bool(clean._CJK_CHAR.match(ch)) and convert(ch) != ch), hex(code)
