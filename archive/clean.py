"""Clean raw reply text (as extracted from PDFs, pages or files) into paragraphs.

The rules follow the domain spec §1 and §8. PDF text arrives hard-wrapped at the page
width, often with a blank line after every line, page numbers, and a leading space where
a page begins. Cleaning rejoins the wrapped lines into paragraphs without ever putting a
space between two Chinese characters, drops page furniture, and normalises the spacing
and punctuation around digits and Latin letters. Real gaps between two Chinese phrases
(an event name such as ``翰墨绘盛事 丹青铸同心``) are kept.

Damage that cannot be undone without guessing (characters lost in web extraction,
``?????`` runs, mojibake that does not decode back losslessly) is left as it is and
reported as warning codes; phone numbers are masked, because a published reply must
never show them.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import cache, lru_cache

import opencc

from reply_archive import data

from .numerals import CN_DATE, CN_NUMBER
from .text import SENTENCE_ENDS, unify_line_ends

# CJK ideographs plus the 〇 numeral; enough for every rule below.
CJK = r"\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")

_PAGE_FURNITURE = re.compile(
    r"""^(?:
        \d{1,3}                              # a bare page (or copy) number
      | [—–\-－﹣]+\s*\d{1,3}\s*[—–\-－﹣]+   # — 2 —  /  -3-
      | 第\s*\d+\s*页\s*[,，/／]?\s*共\s*\d+\s*页  # 第1页 共3页
      | \d{1,3}\s*/\s*\d{1,3}               # 1/3
    )$""",
    re.VERBOSE,
)
# Where a paragraph ends: sentence-final punctuation, or a colon that opens a list.
_PARAGRAPH_END = (*SENTENCE_ENDS, "：", ":")
# Lines that start a new block even when the previous line ran to the margin.
SECTION_MARKER = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}、|（[一二三四五六七八九十]{1,3}）|\([一二三四五六七八九十]{1,3}\)"
    r"|\d{1,2}[.．、](?!\d)|（\d{1,2}）|\(\d{1,2}\))"
)
_SPACE_CJK_ASCII = re.compile(f"(?<=[{CJK}])[ \u00a0\u3000]+(?=[0-9A-Za-z])")
_SPACE_ASCII_CJK = re.compile(f"(?<=[0-9A-Za-z%])[ \u00a0\u3000]+(?=[{CJK}])")
# Spaces next to full-width punctuation are always extraction noise.
# A match starts only where a run of spaces starts: tried from inside a run too, the
# first branch made a long run of spaces cost quadratic time.
_SPACE_PUNCT = re.compile(
    r"(?<![ \u00a0])[ \u00a0]+(?=[，。、；：！？”’）》」』〕】])"
    r"|(?<=[，。、；：！？“‘（《「『〔【])[ \u00a0]+"
)
# A document title ends its own line, even when it runs to the margin. A sentence end
# in between (…提案》收悉。现答复 / 如下：) means body text, not a title.
# How a reply's title ends (spec §2; 覆 for 复 as traditional pages print it): the
# layout reader scores titles on it, and line joining keeps a title on its own line.
GENRE_END = r"(?:答[复覆]的函|答[复覆]函|[复覆]函|回[复覆]|答[复覆]|办理意见|会办意见|协办意见|的函|答[复覆]意见|摘要)"
_TITLE_LINE = re.compile(rf"(提案|建议|议案)[^。！？；]{{0,12}}{GENRE_END}$")
# Web page furniture (spec §8): a line that is nothing but a site's widgets, labels or
# footer. Matched on whole lines only, so a sentence that mentions 打印 or 分享 is text.
_WIDGET = (
    r"[【\[［]?\s*(?:打印(?:本页|文章|此页)?|关闭(?:窗口|本页)?|收藏(?:本页)?|加入收藏|返回顶部|下载\s*(?:Word|PDF|WPS)"
    r"|责任编辑\s*[：:][^】\]]{0,20}|字[体号](?:大小)?\s*[：:]?\s*[【\[［]?\s*(?:大\s*中\s*小)?\s*[】\]］]?|[大中小]"
    r"|分享到\s*[：:]?|视力保护色\s*[：:]?|无障碍(?:浏览)?|长辈版|关怀版|智能问答|智能机器人|繁[体體]版|简体版|[手移]机版|手機版"
    r"|扫一扫.{0,20}|关注微信|关注手机版|附件下载\s*[：:]?|用微信扫描二维码|分享至好友和朋友圈|来自手机|显示全部楼层"
    r"|随便看|[×✕])\s*[】\]］]?"
)
_WEB_FURNITURE = re.compile(
    rf"^(?:(?:{_WIDGET})(?:\s+|$|(?=[【\[［])))+$"
    r"|^.{0,30}(?:浏览次数|阅读次数|访问次数|浏览量)\s*[：:]?\s*[-\d次]*$"
    r"|^(?:主办|承办|协办|主管|技术支持|版权所有|网站标识码|中文域名|E-?mail)\s*[：:].*$"
    r"|^.*(?:ICP备|公网安备|网站标识码).*$"
    r"|^留言与评论.{0,20}$|^百科全书收录.*$|^发表于\s.{0,40}$|^欢迎访问.{0,30}[!！]?$",
    re.IGNORECASE,
)
# What Cloudflare leaves where it hid an e-mail address.
_EMAIL_PLACEHOLDER = re.compile(r"\[email\s*protected\]")
_HALF_PUNCT = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
# , ; : next to a Chinese character are Chinese punctuation (a thousands separator or a
# clock time has digits on both sides); ! and ? only between two, so that a ``???`` run
# of lost characters stays visible as such.
_HALF_NEXT_TO_CJK = re.compile(f"(?<=[{CJK}])[,;:]|[,;:](?=[{CJK}])|(?<=[{CJK}])[!?](?=[{CJK}])")
_HALF_PARENS = re.compile(r"\(([^()]*)\)")
# A full stop typed as ``.`` after a Chinese character, before another or at the end.
_HALF_FULL_STOP = re.compile(f"(?<=[{CJK}])\\.(?=[{CJK}]|$)")
# Labels that extraction spreads out to the width of a form column (联 系 人, 文　号).
_LABELS = ("联系人", "联系电话", "联系单位", "经办人", "抄送", "抄报", "签发人", "文号", "索引号", "附件",
           "发文机关", "主题分类", "成文日期", "发布日期", "主送")
_SPACED_LABEL = re.compile(
    f"(?<![{CJK}])(" + "|".join(r"[ \u3000]*".join(label) for label in _LABELS) + r")(?=[ \u3000]*(?:[:：]|$))"
)
# A pinyin gloss after a character, 會(huì) or 会(hui4); a tone mark or tone number
# tells it from a Latin word in brackets.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYLLABLE = f"[a-zü{_TONED}]+[1-5]?"
_PINYIN_GLOSS = re.compile(f"(?<=[{CJK}])[ ]?[(（]\\s*({_SYLLABLE}(?:\\s+{_SYLLABLE})*)\\s*[)）]", re.IGNORECASE)
_TONE = re.compile(f"[{_TONED}]|[a-zü][1-5](?![0-9])", re.IGNORECASE)


# A table row of a stored page (| 标题 | 关于… |) or a bulleted list item (• 索引号|).
_CELL_BAR = re.compile(r"\s*[|｜]\s*")
_BULLET = re.compile(r"^(?:[•·●▪◦]|-(?=\s))\s*")
# A whole reply collapsed into one line (a table cell, an encyclopedia entry): its
# paragraphs are separated only by a space after a sentence end or a colon.
_COLLAPSED_BREAK = re.compile(r"(?<=[。！？：:；!?])[ \u3000\u00a0]+(?=\S)")
_COLLAPSED_MIN = (60, 2)  # at least this long, with at least this many breaks
# The ending of a unit's name: region + function + rank suffix (spec §3).
DEPARTMENT_END = (
    r"(?:局|委员会|委|厅|部|办公室|办|政府|院|署|中心|协会|联合会|大队|支队|支行|总支|社|办事处|街道|管委会)"
)
# A date printed on the same line as the signing unit or a contact line before it.
_DATE_TEXT = rf"(?:(?:19|20)\d{{2}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|{CN_DATE.pattern})"
_TRAILING_DATE = re.compile(
    rf"^(?:(?P<label>[^。！？]{{0,40}}?[：:][^。！？]*?)[ \u3000\u00a0]+"  # 联系电话：3358214 2021年8月20日
    rf"|(?P<unit>[^。！？，：:\s]{{1,40}}?{DEPARTMENT_END})[ \u3000\u00a0]*)"  # 青溪市建设局2009年8月21日
    rf"(?P<date>{_DATE_TEXT})$"
)
# A salutation (spec §2.3): people named with 委员, 代表… (王一帆、陈嘉树委员, 李红等8名代表,
# 尚路鹏（等4位）代表, 尊敬的朱杰代表) or a unit addressed (民建青溪市委员会, 市民政局).
# ``archive.model.salutation_parts`` reads a whole line; split_cells finds one run into
# the opening.
_PERSON = rf"(?:(?!等)[{CJK}·]){{2,5}}"  # 等 ends the names: 李红等8名代表
SALUTATION_PEOPLE = (
    rf"(?:尊敬的?)?\s*(?P<names>{_PERSON}(?:\s*[、，,]\s*{_PERSON})*)\s*"
    rf"(?:等\s*(?P<count>{CN_NUMBER}|\d+)?\s*[名位人个]?|[（(]\s*等?\s*(?P<pcount>{CN_NUMBER}|\d+)\s*[名位人]\s*[）)])?\s*"
    r"(?P<role>委员|代表|同志|先生|女士)们?\s*(?:[（(][^）)]{1,20}[）)])?"
)
SALUTATION_UNIT = (
    rf"(?:尊敬的)?(?P<unit>[{CJK}（）·]{{2,40}}?(?:委员会|委|会|党|盟|学社|联络组|小组|组|界别|界|局|厅|部|办|办公室"
    r"|政府|中心|代表团|支部|总支|街道|办事处))"
)
# Run into the opening: 王一帆委员：您提出的提案收悉…, 尊敬的王一帆委员，您好！…, or a
# unit with a colon before words of the opening.
_LEADING_SALUTATION = re.compile(
    rf"^(?P<people>{SALUTATION_PEOPLE}(?:[：:]|(?=[，,]\s*(?:您|你)们?好)))[，,]?\s*(?=\S)"
    rf"|^(?P<addressed>{SALUTATION_UNIT}[：:])\s*(?=.{{0,120}}(?:收悉|提出|所提|答复如下|办理))"
)


def fold_radicals(text: str) -> str:
    """Replace CJK radicals and compatibility ideographs with the ideographs they stand
    for (⽼ → 老, ⻘ → 青), one character for one: PDF text set in Noto or Source Han
    fonts comes out with them, and a search for 养老 must find such a reply."""
    table = _radicals()
    # The blocks also hold code points no table maps (unassigned, U+FADA): kept as they are.
    return _RADICAL.sub(lambda m: table.get(m.group(), m.group()), text) if _RADICAL.search(text) else text


@cache
def _radicals() -> dict[str, str]:
    """Return the radical table of ``data/tables/radicals.tsv`` plus the compatibility
    ideographs that have a canonical single-character decomposition."""
    table: dict[str, str] = {}
    for line in data.path("tables", "radicals.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            radical, ideograph = line.split("\t")
            table[radical] = ideograph
    for code in (*range(0xF900, 0xFB00), *range(0x2F800, 0x2FA20)):
        decomposed = unicodedata.normalize("NFC", chr(code))
        if len(decomposed) == 1 and decomposed != chr(code):
            table[chr(code)] = decomposed
    return table


_RADICAL = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")


def split_cells(line: str) -> list[str]:
    """Return a stored page's line as the lines it stands for.

    Table markup (``| 标题 | 关于… |``) gives one line per cell and list bullets are
    dropped; a reply collapsed into one long line is split where a paragraph ended; a
    date printed after the signing name or a contact line goes on a line of its own.
    A line that held only markup becomes blank.
    """
    marked = "|" in line or "｜" in line
    cells = [_BULLET.sub("", cell) for cell in (_CELL_BAR.split(line.strip()) if marked else [line.strip()])]
    out: list[str] = []
    for cell in cells:
        pieces = _COLLAPSED_BREAK.split(cell)
        if len(cell) < _COLLAPSED_MIN[0] or len(pieces) <= _COLLAPSED_MIN[1]:
            pieces = [cell]
        for piece in pieces:
            piece = piece.strip()
            if salutation := _LEADING_SALUTATION.match(piece):
                out.append(salutation.group("people") or salutation.group("addressed"))
                piece = piece[salutation.end() :]
            match = _TRAILING_DATE.match(piece)
            out += [(match.group("label") or match.group("unit")).strip(), match.group("date")] if match else [piece]
    return [piece for piece in out if piece] or [""]


def display_width(line: str) -> int:
    """Return the width of a line in half-width columns (CJK counts as two)."""
    return 2 * len(line) - len(_narrow().findall(line))  # a Chinese line has few narrow ones


@cache
def _narrow() -> re.Pattern[str]:
    """Return a pattern of one character that is not wide or full-width (East Asian
    width W or F): one regex pass over a line instead of a Python call per character."""
    ranges: list[str] = []
    start: int | None = None
    for code in range(sys.maxunicode + 2):
        wide = code <= sys.maxunicode and unicodedata.east_asian_width(chr(code)) in "WF"
        if wide and start is None:
            start = code
        elif not wide and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = None
    return re.compile(f"[^{''.join(ranges)}]")


def is_page_furniture(line: str) -> bool:
    """Return True for a line that only carries a page number."""
    return bool(_PAGE_FURNITURE.match(line.strip()))


def fold_width(text: str) -> str:
    """Turn full-width digits, Latin letters and the ideographic space into ASCII.

    Full-width punctuation is kept: NFKC on the whole text would turn ，into ``,``.
    """
    return _FULL_WIDTH_ALNUM.sub(lambda m: chr(ord(m.group()) - 0xFEE0), text)


_FULL_WIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def normalise_line(line: str) -> str:
    """Normalise spacing and punctuation inside one joined paragraph."""
    line = fold_width(line)
    line = _EMAIL_PLACEHOLDER.sub("", line)
    line = _PINYIN_GLOSS.sub(lambda m: "" if _TONE.search(m.group(1)) else m.group(0), line)
    line = _close_spaced_labels(line)
    line = _SPACE_CJK_ASCII.sub("", line)
    line = _SPACE_ASCII_CJK.sub("", line)
    line = _SPACE_PUNCT.sub("", line)
    line = _HALF_NEXT_TO_CJK.sub(lambda m: _HALF_PUNCT[m.group(0)], line)
    line = _HALF_FULL_STOP.sub("。", line)
    line = _HALF_PARENS.sub(_full_width_parens, line)
    line = CN_DATE.sub(_zero_in_cn_date, line)
    # Collapse runs of spaces that extraction left between two Chinese phrases.
    line = re.sub(r"[ \u00a0\u3000]{2,}", " ", line)
    return line.strip()


def _full_width_parens(match: re.Match[str]) -> str:
    """Return ``(…)`` as ``（…）`` when it holds or touches Chinese text."""
    text, start, end = match.string, match.start(), match.end()
    touching = text[start - 1 : start] + text[end : end + 1]
    if _CJK_CHAR.search(match.group(1)) or _CJK_CHAR.search(touching):
        return f"（{match.group(1)}）"
    return match.group(0)


def _zero_in_cn_date(match: re.Match[str]) -> str:
    """Write the zero of a Chinese-numeral year as 〇 (二○一九, 二O一九, 二0一九 → 二〇一九)."""
    year = match.group(1)
    if not re.search("[一二三四五六七八九]", year):
        return match.group(0)  # 2020年十月一日 mixes scripts; not a Chinese-numeral year
    return re.sub("[○O0]", "〇", year) + match.group(0)[len(year) :]


def _join(left: str, right: str) -> str:
    """Join a wrapped line to the next: no space, except between two Latin words."""
    if left and right and left[-1].isascii() and left[-1].isalpha() and right[0].isascii() and right[0].isalpha():
        return f"{left} {right}"
    return left + right


def _is_wrapped(lines: list[str]) -> bool:
    """Return True when the text is hard-wrapped at a page width (PDF extraction).

    In wrapped text most lines end at the same margin; text with one paragraph per line
    has widths all over the place. A short reply has few full lines: there, two lines
    that run to the margin and break off inside a sentence already tell.
    """
    text = [line for line in lines if line]
    widths = [display_width(line) for line in text]
    if len(widths) < 6:
        return False
    margin = statistics.quantiles(widths, n=10)[-1]  # 90th percentile
    full = sum(1 for w in widths if w >= 0.85 * margin)
    cut = sum(1 for line, after in zip(text, text[1:], strict=False) if _breaks_off(line, after, margin))
    return margin <= 120 and (full >= 0.4 * len(widths) or cut >= 2)


# A form line: a short label and a colon (附件：…, 联系人：…, 文号：…, 王一帆委员：).
_LABEL_LINE = re.compile(f"^[（(]?[{CJK} ]{{1,8}}[:：]")


def _breaks_off(line: str, after: str, margin: float) -> bool:
    """Return True for a line that runs to the margin and stops inside a sentence."""
    return (
        display_width(line) >= 0.9 * margin
        and line[-1].isalnum()  # a character or digit, not punctuation or a closing quote
        and not _TITLE_LINE.search(to_simplified(line))
        and not _LABEL_LINE.match(line)
        and not SECTION_MARKER.match(after)
        and not _LABEL_LINE.match(after)
    )


def _page_heads(lines: list[str], furniture: set[int]) -> set[str]:
    """Return the lines found on the same side of two or more page number lines.

    Running headers follow the page number and footers precede it, so there a line
    that repeats on only two pages is already page furniture. A line between two page
    numbers (a one-line page) is on different sides of them and does not count.
    """
    near: Counter[tuple[int, str]] = Counter()
    for idx in furniture:
        for step in (-1, 1):
            j = idx + step
            while 0 <= j < len(lines) and (not lines[j] or j in furniture):
                j += step
            if 0 <= j < len(lines):
                near[(step, lines[j])] += 1
    return {line for (_, line), n in near.items() if n >= 2}


def _drop_running_heads(lines: list[str], page_heads: set[str]) -> list[str]:
    """Drop running headers and footers: short lines repeated on several pages.

    Three copies anywhere are enough; two are, when both sit next to a page number.
    """
    counts = Counter(line for line in lines if line)
    repeated = {
        line
        for line, n in counts.items()
        if (n >= 3 or line in page_heads) and display_width(line) <= 60 and not line.endswith(_PARAGRAPH_END)
    }
    return [line for line in lines if line not in repeated]


def split_lines(raw: str) -> list[str]:
    """Return the raw text as stripped lines with page and web furniture removed.

    A blank line after every text line (a common PDF extraction artefact) carries no
    meaning and is dropped; in such text only two or more blank lines in a row count as
    a break. Elsewhere a blank line separates paragraphs and is kept as ``""``.
    """
    lines = [cell for line in raw.replace("\f", "\n").split("\n") for cell in split_cells(line)]
    lines = [line for line in lines if not _WEB_FURNITURE.match(to_simplified(line))]
    furniture = {i for i, line in enumerate(lines) if is_page_furniture(line)}
    page_heads = _page_heads(lines, furniture)
    # A page number goes together with the blank line after it (the double-spacing
    # artefact), not left as a blank: between two halves of a wrapped sentence it must
    # not end the paragraph.
    furniture |= {i + 1 for i in furniture if i + 1 < len(lines) and not lines[i + 1]}
    lines = [line for i, line in enumerate(lines) if i not in furniture]
    nonblank = [i for i, line in enumerate(lines) if line]
    spaced = sum(1 for i in nonblank[:-1] if i + 1 < len(lines) and not lines[i + 1])
    if nonblank and spaced >= 0.8 * (len(nonblank) - 1):
        out: list[str] = []
        blank_run = 0
        for line in lines:
            if line:
                if blank_run >= 2 and out:
                    out.append("")
                out.append(line)
                blank_run = 0
            else:
                blank_run += 1
        lines = out
    return _drop_running_heads(lines, page_heads)


def to_paragraphs(lines: list[str]) -> list[str]:
    """Rejoin wrapped lines into normalised paragraphs.

    A line break is kept where the line ends a sentence or a list lead-in, where the next
    line opens a section (一、 （一） 1.), or where the line stops well short of the
    margin; otherwise the next line continues the same paragraph.
    """
    wrapped = _is_wrapped(lines)
    margin = statistics.quantiles([display_width(line) for line in lines if line], n=10)[-1] if wrapped else 0
    paragraphs: list[str] = []
    current = ""
    last_line = ""  # the physical line ``current`` ends with
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = last_line = ""
            continue
        if current and wrapped and not _ends_block(last_line, line, margin):
            current = _join(current, line)
        else:
            if current:
                paragraphs.append(current)
            current = line
        last_line = line
    if current:
        paragraphs.append(current)
    return [p for p in (normalise_line(p) for p in paragraphs) if p]


# A web page printed to PDF keeps its header: a breadcrumb, metadata rows ([ 索引号 ] …)
# and the title each fill a line of their own that may reach the margin.
_BREADCRUMB = re.compile(r"(?:首页|当前位置|您的位置|所在位置).*[>＞»]")
_BRACKETED_LABEL = re.compile(f"^[\\[【［]\\s*[{CJK}]{{2,6}}\\s*[\\]】］]")
_WHOLE_TITLE = 60  # a line this short that is a title is one, not the start of a sentence


def _ends_block(last_line: str, next_line: str, margin: float) -> bool:
    """Decide whether a paragraph whose last line is ``last_line`` ends there."""
    return (
        last_line.endswith(_PARAGRAPH_END)
        or bool(SECTION_MARKER.match(next_line))
        or bool(_TITLE_LINE.search(to_simplified(last_line)))  # 關於…提案的答復 too
        or display_width(last_line) < 0.8 * margin
        or bool(_BREADCRUMB.search(to_simplified(last_line)))
        or bool(_BRACKETED_LABEL.match(next_line))
        or (len(next_line) <= _WHOLE_TITLE and bool(_TITLE_LINE.search(to_simplified(next_line))))
    )


def clean_text(raw: str, warnings: list[str] | None = None) -> list[str]:
    """Return the cleaned paragraphs of a raw reply text.

    :param warnings: when given, codes for damage found but not repaired (or repaired
        from a known encoding mistake) are added to it, each once:
        ``mojibake:<encoding>``, ``mojibake_repaired:<encoding>``,
        ``lost_characters:<text>`` and ``unreadable:<run>``.
    """
    found: list[str] = []
    text = fold_radicals(unify_line_ends(raw))
    text = "\n".join(repair_mojibake(line, found) for line in text.split("\n"))
    paragraphs = [mask_phones(p) for p in to_paragraphs(split_lines(drop_running_lines(text)))]
    found += artefact_warnings(paragraphs)
    if warnings is not None:
        warnings.extend(code for code in dict.fromkeys(found) if code not in warnings)
    return paragraphs


# --- page breaks ------------------------------------------------------------------

_EDGE = 2  # lines at the top and at the bottom of a page where running heads stand


def drop_running_lines(text: str) -> str:
    """Drop running headers and footers from text whose pages are split by ``\\f``.

    A line at the top or bottom of at least half the pages (two at the least) is page
    furniture there, not text; numbers inside it may change from page to page. The
    same line inside a page is left alone. Pages are joined with a newline, so that
    line joining can mend a sentence that runs across the break.
    """
    pages = [page.split("\n") for page in text.split("\f")]
    if len(pages) < 2:
        return text
    edges = [_edge_lines(lines) for lines in pages]
    counts = Counter(key for page_edges in edges for key in {_running_key(lines[i]) for lines, i in page_edges})
    needed = max(2, math.ceil(sum(1 for lines in pages if any(line.strip() for line in lines)) / 2))
    running = {key for key, n in counts.items() if n >= needed}
    kept: list[str] = []
    for lines, page_edges in zip(pages, edges, strict=True):
        drop = {i for _, i in page_edges if _running_key(lines[i]) in running and display_width(lines[i].strip()) <= 60}
        kept.extend(line for i, line in enumerate(lines) if i not in drop)
    return "\n".join(kept)


def _edge_lines(lines: list[str]) -> list[tuple[list[str], int]]:
    """Return ``(lines, index)`` of the first and last text lines of a page."""
    text = [i for i, line in enumerate(lines) if line.strip() and not is_page_furniture(line)]
    return [(lines, i) for i in dict.fromkeys(text[:_EDGE] + text[-_EDGE:])]


def _running_key(line: str) -> str:
    """Return a line with spaces removed and numbers blanked, to match running heads."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


# --- encoding damage ----------------------------------------------------------------

# cp1252 prints bytes 0x80-0x9f as these characters (Latin-1 as C1 controls).
_CP1252 = {ch: b for b in range(0x80, 0xA0) if (ch := bytes([b]).decode("cp1252", errors="ignore"))}
_LATIN_RUN = re.compile("[\u0080-\u00ff" + "".join(_CP1252) + "]{2,}")
_WIDE_RUN = re.compile(r"[^\x00-\x7f\s]{4,}")


def repair_mojibake(line: str, warnings: list[str]) -> str:
    """Undo UTF-8 text misread as Latin-1/cp1252 or GBK where that is lossless.

    A run that decodes back to Chinese exactly is replaced (``mojibake_repaired``); one
    that only mostly does, because the misreading dropped bytes, is left and flagged
    (``mojibake``).
    """
    line = _LATIN_RUN.sub(lambda m: _repair_run(m.group(0), "latin-1", warnings), line)
    return _WIDE_RUN.sub(lambda m: _repair_run(m.group(0), "gbk", warnings), line)


def _misread_bytes(run: str, encoding: str, errors: str) -> bytes:
    """Return the bytes that a Latin-1/cp1252 or a GBK reading turned into ``run``."""
    if encoding == "gbk":
        return run.encode("gbk", errors=errors)
    return bytes(_CP1252.get(ch, ord(ch)) for ch in run)  # _LATIN_RUN holds nothing else


def _repair_run(run: str, encoding: str, warnings: list[str]) -> str:
    """Return ``run`` decoded as the UTF-8 it was misread from, when that is exact."""
    decoded = _misread_bytes(run, encoding, "replace").decode("utf-8", errors="replace")
    chinese = len(_CJK_CHAR.findall(decoded))
    # Real Chinese text re-read this way gives mostly U+FFFD; mojibake gives Chinese.
    if chinese < 2 or chinese < 0.3 * len(decoded):
        return run
    try:
        repaired = _misread_bytes(run, encoding, "strict").decode("utf-8")
    except UnicodeError:
        repaired = None
    code = f"mojibake:{encoding}" if repaired is None else f"mojibake_repaired:{encoding}"
    if code not in warnings:
        warnings.append(code)
    return run if repaired is None else repaired


# --- privacy and artefacts ------------------------------------------------------------

REDACTED = "【已隐去】"
# Mobile numbers (+86 138 1234 5678) and landlines with an area code (0755-8291 1234)
# look like nothing else and are masked wherever they stand; a bare 7-8 digit number
# only after a phone label or in a contact line.
_MOBILE = r"(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"
_AREA_LINE = r"(?:\+?86[\s-]?)?[(（]?0\d{2,3}[)）]?[\s\-－—]?\d{3,4}[\s\-－]?\d{4}(?:\s*(?:转|-|－)\s*\d{1,5})?"
_LOCAL_LINE = r"\d{3,4}[\s\-－]?\d{4}(?:\s*(?:转|-|－)\s*\d{1,5})?"
_PHONE = f"{_MOBILE}|{_AREA_LINE}|{_LOCAL_LINE}"
_LABELLED_PHONE = re.compile(
    rf"((?:联系|咨询|办公|值班|服务|投诉|举报)?电话(?:号码)?|手机(?:号码)?|座机|联系方式|传真|致电|拨打|热线)"
    rf"(\s*[：:]?\s*)(?<!\d)((?:{_PHONE})(?:\s*[、，,/或]\s*(?:{_PHONE}))*)(?!\d)"
)
CONTACT_LABELS = "联系人|联系电话|联系单位|联系方式|经办人"
_CONTACT_LINE = re.compile(CONTACT_LABELS)
_BARE_PHONE = re.compile(rf"(?<![\d.])(?:{_PHONE})(?![\d.])")
_DISTINCT_PHONE = re.compile(rf"(?<![\d.])(?:{_MOBILE}|{_AREA_LINE})(?![\d.])")
_DIGIT_RUN = re.compile(r"\d{3}")  # in each of the numbers above


def _close_spaced_labels(line: str) -> str:
    """Close up spaced labels (联 系 人：), found on the simplified reading (聯 系 人：)."""
    spans = [match.span(1) for match in _SPACED_LABEL.finditer(to_simplified(line))]
    return _replace_spans(line, spans, lambda piece: re.sub(r"\s+", "", piece))


def _replace_spans(text: str, spans: list[tuple[int, int]], replace: Callable[[str], str]) -> str:
    """Return ``text`` with each of the ordered, disjoint ``spans`` replaced, in one pass
    (replacing them one by one copies the text once per span)."""
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces += [text[last:start], replace(text[start:end])]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def mask_phones(paragraph: str) -> str:
    """Replace phone numbers with a mark: mobiles and area-code landlines anywhere, any
    number after a phone label or in a contact line.

    Labels are matched on the simplified reading (聯繫電話 is 联系电话), which has the
    same length, so the spans apply to the paragraph as printed.
    """
    if not _DIGIT_RUN.search(paragraph):  # every phone number has one
        return paragraph
    read = to_simplified(paragraph)
    spans = [(m.start(3), m.end(3)) for m in _LABELLED_PHONE.finditer(read)]
    bare = _BARE_PHONE if _CONTACT_LINE.search(read) else _DISTINCT_PHONE
    spans += [(m.start(), m.end()) for m in bare.finditer(read)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return _replace_spans(paragraph, merged, lambda _: REDACTED)


# 年 lost between year and month (20168月), a dash between two years (20152030年).
_LOST = re.compile(r"(?<!\d)(?:19|20)\d{2}(?:1[0-2]|0?[1-9])月|(?<!\d)(?:19|20)\d{2}(?:19|20)\d{2}年")
_UNREADABLE = re.compile(r"[?？]{3,}|\ufffd+")


def artefact_warnings(paragraphs: list[str]) -> list[str]:
    """Return warning codes for characters lost in extraction; nothing is changed."""
    codes = []
    for paragraph in paragraphs:
        codes += [f"lost_characters:{m.group(0)}" for m in _LOST.finditer(paragraph)]
        codes += [f"unreadable:{m.group(0)[:10]}" for m in _UNREADABLE.finditer(paragraph)]
    return codes


# --- scripts ------------------------------------------------------------------------


@cache
def _opencc(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """Convert simplified characters to traditional ones (OpenCC's usual forms)."""
    return _opencc("s2t").convert(text)


@lru_cache(maxsize=64)  # cleaning reads a line several times (is it a title? a breadcrumb?)
def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified, keeping one character per character.

    The parser reads fields from the converted text and quotes them from the original
    at the same offsets, so the length must not change; where phrase conversion would
    change it, the text is converted character by character.
    """
    converted = _opencc("t2s").convert(text)
    if len(converted) != len(text):
        converted = "".join(c if len(c := _opencc("t2s").convert(ch)) == 1 else ch for ch in text)
    return converted


def detect_script(text: str) -> str:
    """Return ``traditional`` when traditional-only characters outnumber simplified-only ones."""
    traditional = len(_converted_by("t2s").findall(text))
    simplified = len(_converted_by("s2t").findall(text))
    return "traditional" if traditional > simplified else "simplified"


@cache
def _converted_by(config: str) -> re.Pattern[str]:
    """Return a pattern of one Chinese character that OpenCC's ``config`` changes, read
    off every character once (about 0.2 s): a reply is then counted in one pass."""
    convert = _opencc(config).convert
    chars = (chr(code) for code in range(0x3000, 0xFB00) if _CJK_CHAR.match(chr(code)))
    return re.compile("[" + "".join(re.escape(ch) for ch in chars if convert(ch) != ch) + "]")


def has_cjk(text: str) -> bool:
    """Return True if the text contains at least one Chinese character."""
    return bool(_CJK_CHAR.search(text))
