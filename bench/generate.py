"""Generate realistic replies at scale, deterministically, for load and speed tests.

Each reply is written as raw text in the genre's anatomy (title with session and number,
salutation, opening, numbered sections with 下一步 commitments, closing, signature and
date) and goes through the real parser, so ingestion is exercised as users run it.
Metadata is skewed as in real archives: a few departments answer most proposals.
Section text is real official prose (the shared corpus when present, the bundled
replies otherwise). Every generated record is marked as sample data and its source
file name starts with ``synthetic-``.

``python -m bench.generate N ARCHIVE [--seed S] [--chars MIN-MAX]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from reply_archive.archive.ingest import ingest
from reply_archive.archive.numerals import int_to_cn

from .corpus import bundled_records, paragraph_records

PLACES = ("青溪市", "临江区", "东湖区", "西山区", "南港区", "北塘区", "云岭县", "石门县", "白沙区", "清河区")
BUREAUS = ("教育局", "民政局", "财政局", "交通运输局", "生态环境局", "卫生健康委员会", "文化广电旅游体育局",
           "住房和城乡建设局", "市场监督管理局", "应急管理局", "水务局", "农业农村局", "商务局", "司法局",
           "人力资源和社会保障局", "自然资源局", "城市管理局", "科学技术局")
# Topic cue words (data/taxonomies/topics.toml) to put in titles, so topics spread.
SUBJECTS = ("老旧小区加装电梯", "义务教育课后服务", "社区嵌入式养老服务", "黑臭水体治理", "非物质文化遗产保护",
            "优化营商环境", "一网通办改革", "垃圾分类", "普惠托育服务", "公共文化服务", "乡村振兴",
            "基层医疗服务", "新能源汽车充电设施", "历史街区保护", "中小企业融资", "志愿服务", "公交线路优化",
            "湿地生态保护", "职业教育", "食品安全监管")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐韩冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "一帆嘉树若溪望舒晴川听澜砚青知秋晚晴北辰若霖一苇启航晓岚思远文澜承霖子墨雨桐清和明远书宁安然"
CN_MONTHS = {m: int_to_cn(m) for m in range(1, 13)}


def department_weights(count: int) -> list[float]:
    """Return Zipf weights: the first departments answer most proposals."""
    return [1 / (rank + 1) for rank in range(count)]


def prose() -> list[str]:
    """Return paragraphs of real official prose to build section texts from."""
    records, _ = paragraph_records()
    paragraphs = [r.body for r in records]
    if len(paragraphs) < 50:  # the bundled archive: its replies' paragraphs
        paragraphs = [p for r in bundled_records() for p in r.body.split("\n\n") if len(p) > 40]
    return paragraphs


def reply_text(rng: random.Random, serial: int, paragraphs: list[str], size: tuple[int, int]) -> str:
    """Write one reply in the genre's anatomy."""
    departments = [p + b for p in PLACES for b in BUREAUS]
    department = rng.choices(departments, weights=department_weights(len(departments)))[0]
    year = rng.choices(range(2015, 2025), weights=range(1, 11))[0]  # more recent years, more replies
    term, session = divmod(year - 2013, 5)
    number = f"{year}{serial % 10000:04d}"
    subject = rng.choice(SUBJECTS)
    people = [
        rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
        for _ in range(rng.choice((1, 1, 2, 3)))
    ]
    place = department[:3]
    mark = rng.choice(("A类", "B类", "C类", ""))
    role = rng.choices(("主办", "会办"), weights=(4, 1))[0]
    lines = [mark] if mark else []
    lines += [
        f"关于{place}政协{int_to_cn(term + 11)}届{int_to_cn(session + 1)}次会议第{number}号提案的答复",
        f"{'、'.join(people)}委员：",
        f"您提出的《关于加强{subject}的提案》收悉。我局作为{role}单位，经认真研究，现答复如下：",
    ]
    target = rng.randint(*size)
    written = 0
    section = 0
    while written < target:
        section += 1
        aspect = rng.choice(("工作情况", "主要做法", "存在问题", "下一步打算"))
        lines.append(f"{int_to_cn(section)}、关于{subject}的{aspect}")
        for text in rng.sample(paragraphs, k=2):
            lines.append(text)
            written += len(text)
        lines.append(f"下一步，我局将继续推进{subject}工作，拟于{year + 1}年完成相关任务。")
    month = rng.randint(5, 9)
    lines += ["此复。", department, f"{year}年{month}月{rng.randint(1, 28)}日"]
    return "\n".join(lines) + "\n"


def write_sources(count: int, folder: Path, *, seed: int = 1, size: tuple[int, int] = (2000, 5000)) -> int:
    """Write ``count`` replies as raw text files into ``folder``; return their UTF-8 bytes."""
    rng = random.Random(seed)
    paragraphs = prose()
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for serial in range(count):
        data = reply_text(rng, serial, paragraphs, size).encode("utf-8")
        (folder / f"synthetic-{serial:06d}.txt").write_bytes(data)
        written += len(data)
    return written


def generate(count: int, archive: Path, *, seed: int = 1, size: tuple[int, int] = (2000, 5000)) -> int:
    """Write ``count`` replies as text, ingest them into ``archive``; return the number added."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synthetic"
        write_sources(count, folder, seed=seed, size=size)
        report = ingest([folder], archive, sample=True)
    for name, reason in report.failed:
        print(f"  failed: {name}: {reason}", file=sys.stderr)
    return len(report.added) + len(report.updated) + len(report.unchanged)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chars", default="2000-5000", help="body length range, MIN-MAX characters")
    args = parser.parse_args(argv)
    low, _, high = args.chars.partition("-")
    print(f"{generate(args.count, args.archive, seed=args.seed, size=(int(low), int(high)))} replies in {args.archive}")


if __name__ == "__main__":
    main()
