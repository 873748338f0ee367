"""Cleaning raw reply text into paragraphs (archive.clean; domain spec §1 and §8)."""

from __future__ import annotations

import pytest

import data
from archive.clean import clean_text, fold_width, is_page_furniture, normalise_line

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


@pytest.mark.parametrize("marker", ["一、", "（一）", "1.", "2、", "（1）"])
def test_line_break_is_kept_before_a_section_marker(marker):
    first = BODY[: 3 * WIDTH]
    second = marker + BODY[3 * WIDTH : 7 * WIDTH]
    assert clean_text("\n".join(wrap(first) + wrap(second))) == [first, second]


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


@pytest.mark.parametrize("raw", ["托位2,960个", "时间为17:30", "比例为1:2"])
def test_half_width_punctuation_between_digits_is_kept(raw):
    assert normalise_line(raw) == raw


def test_full_width_digits_and_letters_become_ascii():
    assert fold_width("２０２２年ＡＰＰｅ站通") == "2022年APPe站通"


def test_full_width_punctuation_is_kept():
    # NFKC would turn these into ASCII; cleaning must not.
    raw = "经认真研究，现答复如下：（一）扩大供给；〔2022〕！？"
    assert fold_width(raw) == raw
    assert normalise_line(raw) == raw


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
    lines = ["一、关于养老服务", "（一）基本情况", "已建成服务中心7个。", "二、关于托育服务", "（一）基本情况", "已提供托位2,960个。"]
    assert clean_text("\n".join(lines)) == lines


# --- the seed reply -----------------------------------------------------------------


def test_seed_words_broken_by_page_joins_are_whole():
    text = "\n".join(seed_paragraphs())
    for phrase in ("华强上步片区", "品牌活动", "e站通", "2022年6月9日", "“Fun梦湾区”", "粤港澳专业人士（深圳）交流服务中心"):
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
