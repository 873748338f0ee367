"""Find the parts of a published reply: header, title, body, and what is neither.

A reply copied from a government web page is rarely only the reply. Above it stand
breadcrumbs, the page's metadata block (索引号, 发布机构, 成文日期, 文号…), the title
printed twice, date and source lines and widgets; below it, footers. The reply proper
starts at its salutation (王一帆委员：) or, without one, at its opening (…收悉) or right
after its title. Everything above that is the header zone: there labelled metadata is
read and the title is chosen among candidates by score, rather than by demanding one
exact form. Each reader fails alone: a reply without a title, a salutation or a
metadata block still has the others read.

The functions work on the paragraphs as read (simplified), by index, so the parser can
quote every value from the paragraphs as printed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .clean import DEPARTMENT_END, GENRE_END
from .model import salutation_parts
from .numerals import CN_NUMBER

CJK = r"\u4e00-\u9fff"

# Labels of metadata printed in a page's text or its metadata table, and the key each
# is read under. One table serves saved web pages and text alike; ``PAGE_LABELS`` are
# those a web page's table is read for (the others are too common as words there).
METADATA_LABELS: dict[str, str] = {
    label: label
    for label in ("索引号", "主题分类", "发文机关", "发布机构", "文号", "成文日期", "发布日期", "标题",
                  "主题词", "体裁分类", "组配分类", "服务对象", "有效性", "信息来源", "公开方式", "公开范围")
} | {
    "发文字号": "文号", "名称": "标题", "发文日期": "成文日期", "文件编号": "文号", "发文号": "文号",
    "印发日期": "成文日期", "成文时间": "成文日期", "发文单位": "发布机构", "发布部门": "发布机构",
    "发布机关": "发布机构", "来源单位": "信息来源", "稿源": "信息来源", "点击数": "浏览", "点击量": "浏览",
    # Text-only labels: the page's source line, result class, disclosure, view counters.
    "来源": "信息来源", "文章来源": "信息来源", "发布单位": "发布机构", "发文机构": "发布机构",
    "发布时间": "发布日期", "日期": "发布日期", "时间": "发布日期", "生成日期": "生成日期",
    "生效日期": "生效日期", "废止日期": "废止日期", "公开目录": "公开目录", "分类": "分类",
    "公开时限": "公开时限", "办复类别": "办理结果", "办理结果": "办理结果", "答复类别": "办理结果",
    "办理类别": "办理结果", "结果类别": "办理结果", "分类标识": "办理结果",
    "答复类型": "办理结果", "办理类型": "办理结果", "类别": "办理结果", "是否同意公开": "公开",
    "是否公开": "公开", "作者": "作者", "浏览量": "浏览", "浏览": "浏览", "阅读": "浏览",
    "阅读量": "浏览", "访问次数": "浏览", "浏览次数": "浏览", "字号": "字号", "字体": "字号",
    "字体大小": "字号",
}
PAGE_LABELS = frozenset(
    ("索引号", "主题分类", "发文机关", "发布机构", "文号", "成文日期", "发布日期", "标题", "主题词", "体裁分类",
     "组配分类", "服务对象", "有效性", "信息来源", "公开方式", "公开范围", "发文字号", "名称", "发文日期")
)


def label_pattern(labels: Sequence[str]) -> str:
    """Return an alternation of labels, longest first, each allowing spaces between its
    characters (索 引 号, 文　　号)."""
    return "|".join(r"\s*".join(label) for label in sorted(labels, key=len, reverse=True))


# A label in a line: ``[ 索引号 ] value``, ``label：value``, ``label【value】`` or a label
# alone (its value on the next line). Not inside a longer word: no Chinese character
# right before it (信息来源 is one label, not 信息 + 来源).
_LABEL = re.compile(
    rf"(?<![{CJK}])(?:[\[【［]\s*(?P<bracketed>{label_pattern(list(METADATA_LABELS))})\s*[\]】］]"
    rf"|(?P<bare>{label_pattern(list(METADATA_LABELS))})\s*(?:[：:|]|(?=[【\[［（(])|$))"
)
_VALUE_MAX = 200

# A title ends in the genre's form (archive.clean.GENRE_END); what may follow it is a
# document number or a department in brackets, the proposal's own title in 《》.
_GENRE_END = re.compile(rf"{GENRE_END}$")
# A bracketed group may hold one bracketed group of its own: 【穗林业园林提[2013]63号】.
_BRACKETED = r"[\[【［（(](?:[^\[\]【】［］（）()]|[\[【［（(][^\]】］）)]{0,10}[\]】］）)]){1,40}[\]】］）)]"
_TITLE_TAIL = re.compile(rf"(?:[《〈][^》〉]{{2,80}}[》〉]|{_BRACKETED})+$")
_NUMBER_TAIL = re.compile(rf"(?={_BRACKETED}$)[\[【［].*\d\s*号[\]】］]$")
_TITLE_HINT = re.compile(r"提案|建议|议案|政协|人大|人民代表大会")
_SESSION_HINT = re.compile(rf"({CN_NUMBER}|\d+)届.{{0,10}}?({CN_NUMBER}|\d+)次")
_NUMBER_HINT = re.compile(r"第?\s*[A-Za-z\d]+\s*号")
_TITLE_MAX = 160
_TITLE_LINES = 3  # a title may be set over up to three lines
_BARE_TITLE_MAX = 60  # a title that names neither proposal nor assembly is short
# What opens a reply's body: the receipt of the proposal and the formula before the answer.
OPENING = re.compile(
    r"收悉|答[复覆]如下|现答[复覆]|现将.{0,12}答[复覆]|现就.{0,20}答[复覆]"
    r"|已交.{0,6}(?:研究)?办理|提出的"
)
# The opening's receipt of a proposal, which only a reply has (a resolution on a report
# also says 报告提出的…).
RECEIPT = re.compile(
    r"收悉|答[复覆]如下|现答[复覆]|现将.{0,12}答[复覆]|现就.{0,20}答[复覆]|已交.{0,6}(?:研究)?办理"
    r"|(?:您|你|贵)[^。]{0,8}(?:提出|所提)的?[^。]{0,80}(?:提案|建议|议案)"
)
_SEARCH_DEPTH = 60  # paragraphs searched for the salutation
# A department's name, as a letterhead line above the title prints it.
_TITLE_START = re.compile(rf"^(?:关于|对|[{CJK}（）]{{2,30}}?{DEPARTMENT_END}(?:关于|对))")
LETTERHEAD = re.compile(rf"^(?!各|有关|相关|其他|其它|关于|对)(?!.*(?:会议|届))[{CJK}（）]{{2,30}}{DEPARTMENT_END}$")


@dataclass(frozen=True)
class Title:
    """The chosen title: its paragraph span, its cut (tails dropped) and its score."""

    start: int
    end: int
    cut: tuple[int, int]  # character range of the title in the span's joined text
    score: int


@dataclass
class Layout:
    """Where the parts of a reply are, as paragraph indices into the text as read."""

    title: Title | None
    body: tuple[int, int]  # the reply proper: salutation (or opening) to the end
    header: list[int] = field(default_factory=list)  # header lines: neither title nor metadata
    metadata: dict[str, str] = field(default_factory=dict)  # labelled fields of the header zone
    letterhead: str | None = None  # a department's name printed above the title
    salutation: int | None = None
    metadata_lines: list[int] = field(default_factory=list)


def read_layout(paragraphs: list[str]) -> Layout:
    """Split a reply's paragraphs (as read) into header zone, title and body."""
    salutation = _find_salutation(paragraphs)
    zone_end = salutation if salutation is not None else min(len(paragraphs), _SEARCH_DEPTH)
    metadata, consumed = read_metadata(paragraphs[:zone_end])
    title = choose_title(paragraphs, range(zone_end), consumed)
    if salutation is not None:
        start = salutation
    else:
        start = _body_start(paragraphs, title, consumed)
        # Without a salutation the zone was a guess; the metadata is the header's alone
        # (a body line such as 时间：… is no metadata of the page).
        metadata, consumed = read_metadata(paragraphs[:start])
    end = _body_end(paragraphs, start, title, salutation)
    in_title = set(range(title.start, title.end)) if title else set()
    header = [i for i in range(start) if i not in consumed and i not in in_title]
    letterhead = next(
        (
            paragraphs[i]
            for i in header
            if LETTERHEAD.match(paragraphs[i]) and _starts_title(paragraphs, i + 1)
        ),
        None,
    )
    return Layout(title, (start, end), header, metadata, letterhead, salutation, sorted(consumed))


def read_metadata(paragraphs: Sequence[str]) -> tuple[dict[str, str], set[int]]:
    """Read labelled metadata from header lines: several labels to a line, a label in
    brackets, or a label alone with its value on the next line.

    :return: ``{key: value}`` (the first value of each key wins) and the indices of the
        paragraphs that were metadata.
    """
    found: dict[str, str] = {}
    consumed: set[int] = set()
    for idx, paragraph in enumerate(paragraphs):
        if idx in consumed:
            continue
        matches = list(_LABEL.finditer(paragraph))
        if not matches or matches[0].start() > 24:
            continue
        consumed.add(idx)
        for k, match in enumerate(matches):
            label = re.sub(r"\s+", "", match.group("bracketed") or match.group("bare"))
            stop = matches[k + 1].start() if k + 1 < len(matches) else len(paragraph)
            value = paragraph[match.end() : stop].strip(" ：:|")
            if not value and k + 1 == len(matches) and idx + 1 < len(paragraphs):
                following = paragraphs[idx + 1]
                if _is_value_line(following):
                    value = following
                    consumed.add(idx + 1)
            if value:
                found.setdefault(METADATA_LABELS[label], value)
    return found, consumed


def _is_value_line(line: str) -> bool:
    """Return True for a line that can be a label's value (not a label, salutation or sentence)."""
    return (
        len(line) <= _VALUE_MAX
        and not _LABEL.match(line)
        and not line.endswith(("：", ":"))
        and salutation_parts(line) is None
        and not _is_header_line(line)
        and "。" not in line
    )


def title_score(text: str) -> int:
    """Return how much a line reads as a reply's title; 0 when it cannot be one.

    A title ends in one of the genre's forms (答复, 复函, 办理意见…), after any
    bracketed document number, department or proposal title, and names what it
    answers (提案, 建议, 政协, 人大…), or else starts with 关于/对 and is short. Each
    further mark of the genre adds to the score: a proposal number, a session, 关于/对.
    """
    core = re.sub(r"\s+", "", text).lstrip("—-－·•")
    if not core or len(core) > _TITLE_MAX or re.search(r"[。！？；]", core) or core.endswith(("：", ":")):
        return 0
    core = title_core(core)
    if not _GENRE_END.search(core):
        return 0
    if not _TITLE_HINT.search(core):
        # 关于加强校园周边交通管理的答复: a title that names its subject only, and ranks
        # below one that names the proposal.
        return 4 if _TITLE_START.match(core) and len(core) <= _BARE_TITLE_MAX else 0
    score = 5
    score += bool(re.search(r"提案|建议|议案", core))
    score += bool(_NUMBER_HINT.search(core))
    score += bool(_SESSION_HINT.search(core))
    score += bool(re.match(r"^(?:关于|对)", core) or re.search(r"(?:关于|对)", core[:40]))
    return score


def title_core(title: str) -> str:
    """Return a title without the bracketed number, department or 《proposal title》
    after its genre ending."""
    return _TITLE_TAIL.sub("", re.sub(r"\s+", "", title))


def choose_title(paragraphs: Sequence[str], zone: range, skip: set[int]) -> Title | None:
    """Return the best-scoring title among the zone's lines and runs of up to three
    consecutive lines; on a tie the first (a page often prints its title twice)."""
    best: Title | None = None
    for start in zone:
        if start in skip or _is_header_line(paragraphs[start]):
            continue
        for end in range(start + 1, min(start + _TITLE_LINES, zone.stop) + 1):
            if end - 1 in skip or (end - 1 > start and _is_header_line(paragraphs[end - 1])):
                break
            joined = "".join(paragraphs[start:end])
            if len(joined) > _TITLE_MAX:
                break
            if score := title_score(joined):
                # Lines in front that do not start a title add nothing when the lines after
                # them are a title already (a breadcrumb or a letterhead above a title
                # set over two lines).
                shorter = not _TITLE_START.match(paragraphs[start]) and any(
                    title_score("".join(paragraphs[k:end])) for k in range(start + 1, end)
                )
                if not shorter and (best is None or score > best.score):
                    best = Title(start, end, title_cut(joined), score)
                break  # the shortest run that is a title; more lines would add another
    return best


def title_cut(joined: str) -> tuple[int, int]:
    """Return the character range of the title proper in its joined lines: leading
    dashes and a trailing bracketed document number are not the title."""
    start = len(joined) - len(joined.lstrip("—-－·• "))
    end = len(joined)
    if (tail := _NUMBER_TAIL.search(joined)) is not None:
        end = tail.start()
    return start, end


def _starts_title(paragraphs: Sequence[str], idx: int) -> bool:
    """Return True when a title (whole or its first line) starts at ``idx``."""
    return idx < len(paragraphs) and (
        bool(re.match(r"^(?:关于|对)", paragraphs[idx])) or title_score("".join(paragraphs[idx : idx + 3])) > 0
    )


def _find_salutation(paragraphs: Sequence[str]) -> int | None:
    """Return the index of the salutation: the first line addressing the proposers (or
    the unit a reply goes to), with a colon or, without one, before the opening."""
    for idx, paragraph in enumerate(paragraphs[:_SEARCH_DEPTH]):
        parts = salutation_parts(paragraph)
        if parts is None:
            continue
        following = paragraphs[idx + 1] if idx + 1 < len(paragraphs) else ""
        if parts.colon or OPENING.search(following[:80]):
            return idx
    return None


def _body_start(paragraphs: Sequence[str], title: Title | None, consumed: set[int]) -> int:
    """Return where a reply without a salutation starts: at its opening, or after its
    title and the header lines below it."""
    first = title.end if title else 0
    for idx in range(first, min(len(paragraphs), first + 12)):
        if OPENING.search(paragraphs[idx][:120]) and len(paragraphs[idx]) > 12:
            return idx
    idx = first
    while idx < len(paragraphs) and (idx in consumed or _is_header_line(paragraphs[idx])):
        idx += 1
    return idx


_HEADER_LINE = re.compile(
    r"^(?:[（(【\[]?[ABCD甲乙丙丁][）)】\]]?类?|主动公开|依申请公开|同意对外公开|不予公开|公开|\d{4}年"
    r"|[^，。]{0,12}[〔\[【［(（]\s*(?:19|20)\d{2}\s*[〕\]】］)）]\s*第?\s*\d+\s*号.*|签发人.*)$"
)


def _is_header_line(paragraph: str) -> bool:
    """Return True for a short header line: result mark, disclosure, document number, signer."""
    return len(paragraph) <= 60 and bool(_HEADER_LINE.match(paragraph))


def _is_block_heading(paragraph: str) -> bool:
    """Return True for a short line without punctuation or digits (建议提案结果公开)."""
    return len(paragraph) <= 12 and not re.search(r"[。，：:！]|\d", paragraph)


def _body_end(paragraphs: Sequence[str], start: int, title: Title | None, salutation: int | None) -> int:
    """Return where the reply ends: before a second copy of it, if the page printed it
    twice (its title or its salutation again)."""
    repeats = set()
    if salutation is not None:
        repeats.add(paragraphs[salutation])
    if title is not None:
        repeats.add("".join(paragraphs[title.start : title.end]))
    for idx in range(start + 2, len(paragraphs)):
        if paragraphs[idx] in repeats:
            end = idx
            # A heading of the repeated block (建议提案结果公开) goes with it.
            while end - 1 > start and _is_block_heading(paragraphs[end - 1]):
                end -= 1
            return end
    return len(paragraphs)
