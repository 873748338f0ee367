"""Precedent finding: how fast ``ReplyIndex.precedents()`` answers, and whether it
finds the passage a paraphrase was made from.

On archives of generated replies (``bench/generate.py``; 2,000 and 20,000 by default,
each kept with its Whoosh index under the cache folder and reused by later runs of the
same size and seed; ``--archive`` and ``--index`` measure an archive built elsewhere)
this

1. times the whole ``precedents()`` call (its default limit of 10 passages) on pasted
   texts of about 20, 200 and 2,000 characters cut from 300 random replies of the
   archive: 20 and 200 characters from a passage, starting where a clause does; 2,000
   characters as consecutive paragraphs of a reply, one line each as a draft is pasted,
   so matched paragraph by paragraph. Each text runs three times, the median kept, the
   engine's remembered matches cleared before every run;
2. makes paraphrases of passages of those replies (numbered paragraphs of 40
   characters or more; not the salutation or the opening, which the generator writes
   from one template for every reply) in three ways: 1-3 words replaced by a synonym
   (the project's synonym table, ``data/dict/synonyms.txt`` as ``indexer.query`` reads
   it, or else one of the near-synonyms below), a clause dropped, two clauses swapped
   (clauses: the text between ，；。！？, the punctuation left in place). Each is pasted
   on its own; a paraphrase is found at rank k when one of the first k passages of its
   pasted paragraph is its source (same reply, same passage number) or has the same
   text: the generator puts the same prose in many replies, and such a copy is as
   right an answer. How often only a copy was ranked is reported.

Queries may run for ``QUERY_SECONDS`` seconds (not the product's 5): each figure is a
call's whole cost. Figures go to ``<cache>/results.json`` (one entry per archive size)
and are printed as the tables of BENCHMARKS.md; ``--report`` prints them again.

``python -m bench.precedents [--size 2000 20000] [--archive DIR --index DIR] [--texts 30] [--passages 100]
[--runs 3] [--root DIR] [--report]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from reply_archive.archive.model import Reply
from reply_archive.archive.store import iter_records, snapshot
from reply_archive.indexer.analysis import segment
from reply_archive.indexer.query import synonyms
from reply_archive.indexer.search import ReplyIndex
from reply_archive.indexer.settings import Settings

from .corpus import MIN_PARAGRAPH
from .machine import describe_machine
from .opensearch import generated_archive
from .run import ROOT, pct, run_measured
from .serving import timed_queries

SIZES = (2000, 20000)
WINDOWS = (20, 200)  # characters of the pasted texts cut from one passage
DRAFT = 2000  # characters of the pasted texts made of several paragraphs
LENGTHS = (*WINDOWS, DRAFT)
SAMPLED_REPLIES = 300
QUERY_SECONDS = 120.0
GOALS_AT = 20000  # the archive size the latency goals are set for
LATENCY_GOAL_MS = 1000  # p95 of any pasted text
LATENCY_GOAL_200_MS = 300  # p95 of a pasted text of 200 characters
TOP3_GOAL, TOP1_GOAL = 0.95, 0.85  # share of paraphrases whose source is ranked in the top 3, first
MAX_REPLACED = 3  # words replaced by a synonym in one paraphrase, at most
# Near-synonyms of official prose, for the words the project's table has none for: one
# way, where the other way would misread a word (持续 of 可持续 is no 不断).
NEAR_SYNONYMS = {
    "加强": "强化", "强化": "加强", "推进": "推动", "推动": "推进", "提升": "提高", "提高": "提升",
    "完善": "健全", "健全": "完善", "目前": "当前", "当前": "目前", "相关": "有关", "有关": "相关",
    "措施": "举措", "举措": "措施", "切实": "扎实", "扎实": "切实", "制定": "出台", "出台": "制定",
    "明显": "显著", "显著": "明显", "各类": "各种", "各种": "各类", "逐步": "逐渐", "逐渐": "逐步",
    "取得": "获得", "获得": "取得", "积极": "主动", "不断": "持续", "支持": "扶持", "加快": "加速",
    "大力": "着力", "认真": "仔细", "及时": "迅速", "已经": "业已", "广大": "众多", "实施": "推行",
}
_CLAUSE_ENDS = re.compile(r"([，；。！？])")
_NOT_WORD = re.compile(r"\W")
_SENTENCE_END = frozenset("。！？")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, nargs="+", help="replies of each generated archive (default 2000 20000)")
    parser.add_argument("--archive", type=Path, help="measure this archive instead (with --index)")
    parser.add_argument("--index", type=Path, help="the Whoosh index of --archive")
    parser.add_argument("--texts", type=int, default=30, help="pasted texts of each length timed")
    parser.add_argument("--passages", type=int, default=100, help="paraphrases of each kind")
    parser.add_argument("--runs", type=int, default=3, help="runs of each pasted text, the median kept")
    parser.add_argument("--seed", type=int, default=20220030)
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "bench-precedents", help="the cache folder")
    parser.add_argument("--report", action="store_true", help="print the last runs' figures again")
    args = parser.parse_args(argv)
    saved = args.root / "results.json"
    if args.report:
        for results in json.loads(saved.read_text())["sizes"].values():
            report(results)
        return
    if (args.archive is None) != (args.index is None):
        parser.error("--archive and --index go together")
    if args.archive is not None and args.size:
        parser.error("--archive measures the archive given: its size is what it holds, not --size")
    print(describe_machine())
    if args.archive is not None:
        measured = [(args.archive, args.index, "given")]
    else:
        measured = [cached_archive(size, args) for size in args.size or SIZES]
    for archive, index, origin in measured:
        results = {**bench(archive, index, args), "origin": origin}
        save(saved, results)
        report(results)


def cached_archive(size: int, args: argparse.Namespace) -> tuple[Path, Path, str]:
    """Return the archive of ``size`` generated replies under the cache folder and its
    Whoosh index, generating the one and building the other when they are not there
    (``reply-archive index`` does nothing on an index that is up to date)."""
    folder = args.root / str(size)
    progress(f"{size:,} generated replies: {folder} (generated when not there, then indexed when not up to date)")
    archive, reused = generated_archive(folder, argparse.Namespace(size=size, seed=args.seed))
    index = folder / "whoosh"
    run_measured(["index", "--archive", str(archive), "--index", str(index)])
    return archive, index, "cached" if reused else "generated"


def save(path: Path, results: dict[str, Any]) -> None:
    """Keep one size's figures in the results file, beside the other sizes'."""
    kept = json.loads(path.read_text()) if path.exists() else {"sizes": {}}
    kept["sizes"][str(results["size"])] = results
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept, ensure_ascii=False, indent=1))


def bench(archive: Path, index: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Time pasted texts and measure paraphrases on one archive; return every figure."""
    rng = random.Random(args.seed)
    replies = sampled_replies(archive, rng)
    engine = ReplyIndex(index, Settings(query_seconds=QUERY_SECONDS))
    try:
        size = len(engine.ids())
        engine.warmed()
        load_before = os.getloadavg()
        texts = pasted_texts(replies, args.texts, rng)
        latency = {}
        for n in LENGTHS:
            progress(f"{size:,} replies: timing {len(texts[n])} pasted texts of about {n:,} characters")
            latency[str(n)] = timed_queries(texts[n], partial(timed_precedents, engine), args.runs)
        made = paraphrases(sampled_passages(replies, rng), args.passages, rng)
        progress(f"{size:,} replies: pasting {len(made)} paraphrases")
        quality = [measured_paraphrase(engine, p) for p in made]
        load_after = os.getloadavg()
    finally:
        engine.close()
    return {
        "size": size,
        "machine": describe_machine(),
        "archive": str(archive),
        "index": str(index),
        "load": {"before": load_before, "after": load_after},
        "texts": {str(n): texts[n] for n in LENGTHS},
        "latency": latency,
        "quality": quality,
    }


def progress(what: str) -> None:
    """Say on stderr what the benchmark is doing, with the time: a run takes long."""
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


# --- what is pasted ------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A passage of a reply: its reply, its passage number (``#p-N``) and its text."""

    reply_id: str
    paragraph: int
    text: str


def sampled_replies(archive: Path, rng: random.Random) -> list[Reply]:
    """Return :data:`SAMPLED_REPLIES` random replies of the archive."""
    names = sorted(snapshot(archive))
    return [reply for _, reply in iter_records(archive, rng.sample(names, k=min(SAMPLED_REPLIES, len(names))))]


def passages(reply: Reply) -> list[Source]:
    """Return the numbered paragraphs of a reply (neither headings nor contact lines)."""
    return [Source(reply.id, number, text) for text, number in zip(reply.paragraphs, reply.passage_numbers,
                                                                  strict=True) if number is not None]


def sampled_passages(replies: list[Reply], rng: random.Random) -> list[Source]:
    """Return the passages to paraphrase, shuffled, each text once: numbered paragraphs
    of :data:`MIN_PARAGRAPH` characters or more, not the salutation or the opening."""
    found: dict[str, Source] = {}
    for reply in replies:
        template = {reply.salutation, reply.opening}
        for source in passages(reply):
            if len(source.text) >= MIN_PARAGRAPH and source.text not in template:
                found.setdefault(source.text, source)
    chosen = list(found.values())
    rng.shuffle(chosen)
    return chosen


def pasted_texts(replies: list[Reply], count: int, rng: random.Random) -> dict[int, list[str]]:
    """Return ``count`` texts of each of :data:`LENGTHS` characters cut from the replies:
    for :data:`WINDOWS`, a passage's characters from the start of one of its clauses;
    for :data:`DRAFT`, consecutive paragraphs of a reply, one line each. (A small
    archive's passages or bodies may be shorter: its longest then.)"""
    everything = [source.text for reply in replies for source in passages(reply)]
    texts: dict[int, list[str]] = {}
    for length in WINDOWS:
        long_enough = [text for text in everything if len(text) >= length] or [max(everything, key=len)]
        texts[length] = [clause_window(rng.choice(long_enough), length, rng) for _ in range(count)]
    longest = max(replies, key=lambda r: len(r.body))
    bodies = [r.paragraphs for r in replies if len(r.body) >= DRAFT] or [longest.paragraphs]
    texts[DRAFT] = [paragraph_run(rng.choice(bodies), DRAFT, rng) for _ in range(count)]
    return texts


def clause_window(text: str, length: int, rng: random.Random) -> str:
    """Return ``length`` characters of ``text`` starting where one of its clauses does."""
    starts = [0, *(m.end() for m in _CLAUSE_ENDS.finditer(text) if m.end() <= len(text) - length)]
    start = rng.choice(starts)
    return text[start : start + length]


def paragraph_run(paragraphs: tuple[str, ...], length: int, rng: random.Random) -> str:
    """Return consecutive paragraphs, one line each, from a random one on until they
    hold ``length`` characters (starting early enough for the body to hold them)."""
    tail = 0
    latest = 0  # the last paragraph a run of ``length`` characters can start at
    for idx in range(len(paragraphs) - 1, -1, -1):
        tail += len(paragraphs[idx])
        if tail >= length:
            latest = idx
            break
    lines: list[str] = []
    for paragraph in paragraphs[rng.randint(0, latest) :]:
        lines.append(paragraph)
        if sum(map(len, lines)) >= length:
            break
    return "\n".join(lines)


# --- paraphrases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Paraphrase:
    """A passage said otherwise: how (``kind``), the new text and what changed."""

    kind: str
    text: str
    source: Source
    change: str  # the words replaced (word→synonym, marked with the table they are from), or the clauses


Maker = Callable[[str, random.Random], tuple[str, str] | None]


def with_synonyms(text: str, rng: random.Random) -> tuple[str, str] | None:
    """Replace 1-3 words of ``text`` by a synonym: one of the project's table when the
    word has one (several words joined by +, written with 、), else a near-synonym.
    Return the new text and the replacements (``[table]`` or ``[near]`` after each), or
    None when no word of the text has a synonym."""
    table = synonyms()
    replaceable = []
    for word, start, end in segment(text):
        if text[start:end] != word:  # jieba read the word in simplified characters: leave it as printed
            continue
        if word in table:
            replaceable.append((start, end, rng.choice(["、".join(a) for a in table[word]]), "table"))
        elif word in NEAR_SYNONYMS:
            replaceable.append((start, end, NEAR_SYNONYMS[word], "near"))
    if not replaceable:
        return None
    chosen = sorted(rng.sample(replaceable, k=min(rng.randint(1, MAX_REPLACED), len(replaceable))), reverse=True)
    changes = []
    for start, end, synonym, origin in chosen:  # from the end, so the offsets before hold
        changes.append(f"{text[start:end]}→{synonym} [{origin}]")
        text = text[:start] + synonym + text[end:]
    return text, "; ".join(reversed(changes))


def clause_parts(text: str) -> list[str]:
    """Split ``text`` into clauses and the punctuation after each, alternately: clause,
    mark, clause, mark, ..., clause (the last one possibly empty)."""
    return _CLAUSE_ENDS.split(text)


def clause_indexes(parts: list[str]) -> list[int]:
    """Return where the clauses of :func:`clause_parts` are that hold two characters
    or more besides punctuation (not a closing quote after a full stop)."""
    return [i for i in range(0, len(parts), 2) if len(_NOT_WORD.sub("", parts[i])) >= 2]


def without_clause(text: str, rng: random.Random) -> tuple[str, str] | None:
    """Drop one clause of a text of three clauses or more, with the comma or semicolon
    after it (before it, when a sentence ends after it, so the sentence still ends).
    Return the new text and the clause dropped, or None for a text with fewer clauses."""
    parts = clause_parts(text)
    clauses = clause_indexes(parts)
    if len(clauses) < 3:
        return None
    at = rng.choice(clauses)
    after = parts[at + 1] if at + 1 < len(parts) else ""
    before = parts[at - 1] if at > 0 else ""
    if after and after not in _SENTENCE_END:
        kept = parts[:at] + parts[at + 2 :]
    elif before and before not in _SENTENCE_END:  # the last clause of a sentence
        kept = parts[: at - 1] + [after] + parts[at + 2 :]
    else:  # a sentence of one clause: dropped whole
        kept = parts[:at] + parts[at + 2 :]
    return "".join(kept), parts[at]


def with_clauses_swapped(text: str, rng: random.Random) -> tuple[str, str] | None:
    """Swap two different clauses of a text, the punctuation left in place. Return the
    new text and the two clauses, or None for a text with fewer than two clauses."""
    parts = clause_parts(text)
    clauses = clause_indexes(parts)
    pairs = [(i, j) for n, i in enumerate(clauses) for j in clauses[n + 1 :] if parts[i] != parts[j]]
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    parts[i], parts[j] = parts[j], parts[i]
    return "".join(parts), f"{parts[j]} ⇄ {parts[i]}"


MAKERS: dict[str, Maker] = {
    "synonyms": with_synonyms,
    "clause dropped": without_clause,
    "clauses swapped": with_clauses_swapped,
}
KIND_LABELS = {
    "synonyms": "1–3 words replaced by synonyms",
    "clause dropped": "a clause dropped",
    "clauses swapped": "two clauses swapped",
}


def paraphrases(sources: list[Source], count: int, rng: random.Random) -> list[Paraphrase]:
    """Return ``count`` paraphrases of each kind, made from the first of ``sources`` that
    each kind can rewrite (so mostly the same passages for all three)."""
    made = []
    for kind, maker in MAKERS.items():
        found = 0
        for source in sources:
            if found == count:
                break
            rewritten = maker(source.text, rng)
            if rewritten is not None and rewritten[0] != source.text:
                made.append(Paraphrase(kind, rewritten[0], source, rewritten[1]))
                found += 1
    return made


# --- measuring -------------------------------------------------------------------------


def timed_precedents(engine: ReplyIndex, text: str) -> dict[str, float]:
    """Time one whole ``precedents()`` call, matched anew: the milliseconds (and the
    engine's own ``took_ms``), the pasted paragraphs and whether it timed out."""
    engine.forget_matches()
    started = time.perf_counter()
    found = engine.precedents(text)
    elapsed = (time.perf_counter() - started) * 1000
    return {"total": elapsed, "took_ms": found.took_ms, "pieces": len(found.pieces),
            "timed_out": float(found.timed_out)}


def measured_paraphrase(engine: ReplyIndex, paraphrase: Paraphrase) -> dict[str, Any]:
    """Paste a paraphrase; return it with the rank (1-based) of the first passage that
    is its source or says the same text, and the rank of the source itself (None when
    not among the passages)."""
    found = engine.precedents(paraphrase.text)
    ranked = found.pieces[0].passages if found.pieces else ()
    source = paraphrase.source
    # A passage stands for the others of its very text too (those it names).
    exact = [(source.reply_id, source.paragraph) in {(p.hit.id, p.paragraph), *((h.id, n) for h, n in p.same)}
             for p in ranked]
    right = [is_source or p.text == source.text for is_source, p in zip(exact, ranked, strict=True)]
    return {**asdict(paraphrase), "pieces": len(found.pieces), "timed_out": found.timed_out,
            "exact_rank": exact.index(True) + 1 if any(exact) else None,
            "rank": right.index(True) + 1 if any(right) else None}


# --- the report ------------------------------------------------------------------------


def quality_rows(quality: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Return, per kind of paraphrase and for all of them: how many, the median length
    of their sources, the shares found in the top 3 and first, and how many of those
    were found only through a copy."""
    rows = {}
    for kind in [*MAKERS, "all"]:
        chosen = [q for q in quality if kind in ("all", q["kind"])]
        if not chosen:
            continue
        row: dict[str, float] = {"n": len(chosen), "chars": statistics.median(len(q["source"]["text"]) for q in chosen)}
        for k in (3, 1):
            found = [q for q in chosen if q["rank"] is not None and q["rank"] <= k]
            row[f"top{k}"] = len(found) / len(chosen)
            row[f"copy{k}"] = sum(1 for q in found if q["exact_rank"] is None or q["exact_rank"] > k)
        rows[kind] = row
    return rows


def report(r: dict[str, Any]) -> None:
    """Print one archive's figures as the tables of BENCHMARKS.md."""
    size = r["size"]
    machine = r["machine"].removeprefix("machine: ")
    before, after = (", ".join(f"{x:.2f}" for x in r["load"][when]) for when in ("before", "after"))
    print(f"\n## Precedent finding, {size:,} generated replies\n\n{machine}; archive {r['archive']} "
          f"({r['origin']}); load average {before} before the measures, {after} after\n")
    print("| pasted text | n | chars, median | paragraphs matched, median | p50 ms | p95 ms | took_ms p50 |"
          "\n|---|---|---|---|---|---|---|")
    for length, rows in r["latency"].items():
        ms = [row["total"] for row in rows]
        chars = statistics.median(len(text) for text in r["texts"][length])
        print(f"| about {int(length):,} characters | {len(rows)} | {chars:,.0f} | "
              f"{statistics.median(row['pieces'] for row in rows):.0f} | {pct(ms, 50):.1f} | {pct(ms, 95):.1f} | "
              f"{pct([row['took_ms'] for row in rows], 50):.1f} |")
    timed_out = sum(1 for rows in r["latency"].values() for row in rows if row["timed_out"])
    timed_out += sum(1 for q in r["quality"] if q["timed_out"])
    rows = quality_rows(r["quality"])
    print("\n| paraphrase | n | source chars, median | source in the top 3 | source first "
          "| found only as a copy (top 3 / first) |\n|---|---|---|---|---|---|")
    for kind, row in rows.items():
        label = KIND_LABELS.get(kind, "all")
        print(f"| {label} | {row['n']:.0f} | {row['chars']:,.0f} | {row['top3']:.1%} | {row['top1']:.1%} | "
              f"{row['copy3']:.0f} / {row['copy1']:.0f} |")
    origins = Counter(m for q in r["quality"] if q["kind"] == "synonyms" for m in re.findall(r"\[(\w+)\]", q["change"]))
    print(f"\nwords replaced: {origins['table']} from the project's synonym table, {origins['near']} by the "
          f"benchmark's near-synonyms; calls cut short by the deadline: {timed_out}")
    print(f"\n| goal{'' if size == GOALS_AT else f' (set for {GOALS_AT:,} replies)'} | measured | met |"
          "\n|---|---|---|")
    for label, value, met in goals(r, rows):
        print(f"| {label} | {value} | {'yes' if met else '**no**'} |")


def goals(r: dict[str, Any], rows: dict[str, dict[str, float]]) -> list[tuple[str, str, bool]]:
    """Return each goal with its measured value and whether it is met."""
    checks = []
    for length, timed in r["latency"].items():
        p95 = pct([row["total"] for row in timed], 95)
        limit = LATENCY_GOAL_200_MS if int(length) == 200 else LATENCY_GOAL_MS
        checks.append((f"p95 ≤ {limit:,} ms, about {int(length):,} characters", f"{p95:.0f} ms", p95 <= limit))
    for kind, row in rows.items():
        label = KIND_LABELS.get(kind, "all paraphrases")
        checks.append((f"source in the top 3 ≥ {TOP3_GOAL:.0%}, {label}", f"{row['top3']:.1%}",
                       row["top3"] >= TOP3_GOAL))
        checks.append((f"source first ≥ {TOP1_GOAL:.0%}, {label}", f"{row['top1']:.1%}", row["top1"] >= TOP1_GOAL))
    return checks


if __name__ == "__main__":
    main()
