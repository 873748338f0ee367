"""OCR of scanned replies: how well each engine reads them, and how fast.

The project's own replies (the seed reply, the bundled samples, then generated ones,
``bench/generate.py``), their paragraphs as cleaning reads them, are rendered as scans
(``bench/scans.py``) under each condition below, packed as image-only PDFs (a
multi-page TIFF for one condition) and read through ingestion as a user's scans are
(``REPLY_ARCHIVE_OCR`` chooses the engine; every run has a fresh archive and OCR cache,
so no page is answered from a cache). Each record is compared with the record of the
same reply ingested as text:

- character error rate: the edit distance between the two bodies over the text's body
  length, both folded first (NFKC, the full- and half-width forms of punctuation as one,
  whitespace dropped), summed over the replies;
- field accuracy: the fields ``bench/real.py`` grades, the text version's values taken
  as the truth (a field the text states and the scan misses or reads otherwise, or one
  only the scan states, is an error); the text versions score 100 % by this measure, so
  the goal "within 2 points of the text versions" is 98 %;
- exact-wording recall: phrases of 4-12 characters sampled from the text bodies; for
  each, the replies whose folded text body holds it (a substring scan) against those
  whose OCR'd body holds it, folded as exact-wording search folds (``indexer.analysis``);
- pages per minute: the pages over the wall time of the whole ingest (engine start,
  PDF rendering, OCR, parsing, writing) on this machine's cores.

Figures go to ``<root>/ocr.json`` and are printed as Markdown tables.

``python -m bench.ocr [--replies 3] [--engines rapidocr,tesseract] [--conditions clean-300,...]
[--seed S] [--root DIR] [--report]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reply_archive.archive.clean import clean_text
from reply_archive.archive.errors import ArchiveError
from reply_archive.archive.ingest import ingest, read_source
from reply_archive.archive.model import Reply
from reply_archive.archive.ocr import CACHE_ENV, ENGINE_ENV
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.analysis import fold

from . import real
from .generate import write_sources
from .machine import describe_machine
from .run import ROOT
from .scans import render_pages, to_pdf, to_tiff

ENGINES = ("rapidocr", "tesseract")
REPLIES = 3  # replies per condition: the seed reply and two samples, 10 pages a condition
GENERATED_CHARS = (800, 1600)  # body length of a generated reply: one to two pages
PHRASES_PER_REPLY = 10
PHRASE_CHARS = (4, 12)
FILE_SECONDS = 900.0  # a scan of several pages on a loaded machine takes minutes
CER_GOAL_CLEAN, CER_GOAL_DEGRADED = 0.01, 0.03
FIELD_GOAL = 0.98  # within 2 points of the text versions' 100 %
PAGES_PER_MINUTE_GOAL = 15.0


@dataclass(frozen=True)
class Condition:
    """How the pages of one run are scanned and packed."""

    name: str
    label: str
    dpi: int = 300
    skew: float = 0.0
    blur: float = 0.0
    jpeg_quality: int | None = None
    seal: bool = False
    background: int = 255
    container: str = "pdf"  # or "tif"

    @property
    def clean(self) -> bool:
        """Return True for the condition the strictest goal is set for."""
        return self.name == "clean-300"

    def render(self, text: str) -> tuple[bytes, int]:
        """Return the scan's file bytes and its page count."""
        pages = render_pages(text, dpi=self.dpi, skew=self.skew, blur=self.blur, jpeg_quality=self.jpeg_quality,
                             seal=self.seal, background=self.background)
        data = to_tiff(pages) if self.container == "tif" else to_pdf(pages, self.dpi)
        return data, len(pages)


CONDITIONS = (
    Condition("clean-300", "clean, 300 dpi"),
    Condition("clean-200", "clean, 200 dpi", dpi=200),
    Condition("skew", "skewed up to 2°", skew=2.0),
    Condition("blur", "blurred (1.2 px at 300 dpi)", blur=1.2),
    Condition("jpeg", "JPEG quality 30", jpeg_quality=30),
    Condition("seal", "red seal over the signature", seal=True),
    Condition("grey", "grey paper with grain", background=215),
    Condition("tiff-200", "multi-page TIFF, 200 dpi, skewed 1°", dpi=200, skew=1.0, container="tif"),
)

# Punctuation with a full- and a half-width form; NFKC folds most (，→ ,) but not these.
_PUNCTUATION_PAIRS = str.maketrans({"。": ".", "“": '"', "”": '"', "‘": "'", "’": "'", "—": "-",
                                    "【": "[", "】": "]", "・": "·", "〜": "~"})
_SPACE = re.compile(r"\s+")


def fold_for_cer(text: str) -> str:
    """Return text as character error rates compare it: NFKC, one form of each
    full/half-width punctuation pair, no whitespace."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).translate(_PUNCTUATION_PAIRS))


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance of two strings (Myers' bit-parallel algorithm,
    in Hyyrö's form for a global distance: linear in ``len(b)`` steps on ``len(a)``-bit
    integers, fast for pages of text)."""
    if not a or not b:
        return len(a) + len(b)
    match: dict[str, int] = {}
    for idx, char in enumerate(a):
        match[char] = match.get(char, 0) | (1 << idx)
    mask, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    plus, minus, distance = mask, 0, len(a)  # vertical deltas: +1 and -1 bits
    for char in b:
        eq = match.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        hplus = minus | ~(xh | plus)
        hminus = plus & xh
        if hplus & top:
            distance += 1
        elif hminus & top:
            distance -= 1
        hplus = (hplus << 1) | 1  # the first row grows by one a character of b
        hminus <<= 1
        plus = (hminus | ~(xv | hplus)) & mask
        minus = hplus & xv & mask
    return distance


def cer_counts(reference: str, hypothesis: str) -> tuple[int, int]:
    """Return (edits, reference characters) of two texts, folded for comparison."""
    ref, hyp = fold_for_cer(reference), fold_for_cer(hypothesis)
    return edit_distance(ref, hyp), len(ref)


def sample_phrases(bodies: list[str], per_body: int, rng: random.Random) -> list[str]:
    """Sample phrases of 4-12 characters from the bodies' paragraphs, ``per_body`` each."""
    phrases: list[str] = []
    for body in bodies:
        paragraphs = [p for p in body.split("\n\n") if len(p) > PHRASE_CHARS[1]]
        for _ in range(per_body if paragraphs else 0):
            paragraph = rng.choice(paragraphs)
            length = rng.randint(*PHRASE_CHARS)
            start = rng.randrange(len(paragraph) - length + 1)
            phrases.append(paragraph[start : start + length])
    return phrases


def recall_counts(phrases: list[str], sources: list[str], read: list[str]) -> tuple[int, int]:
    """Return (found, expected): over the phrases, the pairs (phrase, reply) whose
    source body holds the phrase, and how many of those the OCR'd body holds too.

    ``sources`` and ``read`` are the bodies of the same replies, in the same order.
    """
    folded_sources, folded_read = [fold(s) for s in sources], [fold(r) for r in read]
    found = expected = 0
    for phrase in map(fold, phrases):
        for source, text in zip(folded_sources, folded_read, strict=True):
            if phrase in source:
                expected += 1
                found += phrase in text
    return found, expected


def field_entry(reply: Reply) -> dict[str, Any]:
    """Return a record's graded fields as ``bench/real.py`` expects a manifest entry."""
    entry: dict[str, Any] = {}
    for name in real.FIELDS:
        value = reply.department or reply.department_raw if name == "department" else real.record_value(reply, name)
        if value not in (None, [], ""):
            entry[name] = value
    return entry


def field_grades(truth: Reply, read: Reply | None) -> dict[str, str]:
    """Return ``{field: status}`` (right, wrong, missed, spurious) of a scan's record, the
    text version's record taken as the truth (None: the scan was not read at all)."""
    return real.grade(read, field_entry(truth))


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block (the ingest worker inherits them)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def source_files(count: int, folder: Path, seed: int) -> list[Path]:
    """Return ``count`` reply texts: the seed reply, the samples, then generated ones."""
    own = sorted((ROOT / "data" / "seed").glob("*.txt")) + sorted((ROOT / "data" / "samples").glob("*.txt"))
    if count > len(own):
        write_sources(count - len(own), folder, seed=seed, size=GENERATED_CHARS)
        own += sorted(folder.glob("*.txt"))
    return own[:count]


def printed_text(raw: str) -> str:
    """Return a reply's text as the renderer sets it, one paragraph a line: a source
    hard-wrapped as a PDF's text layer is (the seed reply) is rejoined first, or each of
    its wrapped lines would be printed as a paragraph of its own."""
    return "\n".join(clean_text(raw))


def run_condition(engine: str, condition: Condition, texts: dict[str, Reply], sources: dict[str, str],
                  work: Path, phrases: list[str]) -> dict[str, Any]:
    """Scan every reply under one condition, ingest the scans with one engine, score them."""
    folder = work / f"{engine}-{condition.name}" / "scans"
    folder.mkdir(parents=True)
    pages = 0
    for stem, text in sources.items():
        data, count = condition.render(text)
        (folder / f"{stem}.{condition.container}").write_bytes(data)
        pages += count
    archive = folder.parent / "archive"
    with environment(**{ENGINE_ENV: engine, CACHE_ENV: str(folder.parent / "cache")}):
        started = time.perf_counter()
        report = ingest([folder], archive, file_seconds=FILE_SECONDS)
        seconds = time.perf_counter() - started
    read = {Path(r.source.file).stem: r for r in iter_replies(archive) if r.source} if archive.exists() else {}
    edits = chars = 0
    fields: Counter[str] = Counter()
    misses: list[str] = []
    for stem, truth in texts.items():
        got = read.get(stem)
        e, c = cer_counts(truth.body, got.body if got else "")
        edits, chars = edits + e, chars + c
        graded = field_grades(truth, got)
        fields.update(graded.values())
        misses += [f"{stem}: {name} {status}" for name, status in graded.items() if status != "right"]
    found, expected = recall_counts(phrases, [t.body for t in texts.values()],
                                    [read[s].body if s in read else "" for s in texts])
    total = sum(fields.values())
    return {
        "engine": engine, "condition": condition.name, "replies": len(texts), "pages": pages,
        "seconds": round(seconds, 1), "pages_per_minute": round(pages / seconds * 60, 2),
        "cer": edits / chars if chars else 0.0, "edits": edits, "chars": chars,
        "fields": fields["right"] / total if total else 0.0, "field_counts": dict(fields), "field_misses": misses,
        "recall": found / expected if expected else 0.0, "phrases_found": found, "phrases_expected": expected,
        "failed": [list(f) for f in report.failed],
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run every engine under every condition chosen; return the figures."""
    conditions = [c for c in CONDITIONS if c.name in args.conditions]
    results: dict[str, Any] = {
        "machine": describe_machine(), "replies": args.replies, "seed": args.seed, "load": {"before": os.getloadavg()},
        "conditions": [asdict(c) for c in conditions], "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        work = Path(tmp)
        files = source_files(args.replies, work / "generated", args.seed)
        texts: dict[str, Reply] = {}
        for path in files:
            try:
                texts[path.stem] = read_source(path)
            except ArchiveError as exc:
                print(f"  skipped {path.name}: the text version does not parse: {exc.message}")
        sources = {path.stem: printed_text(path.read_text(encoding="utf-8")) for path in files if path.stem in texts}
        phrases = sample_phrases([r.body for r in texts.values()], PHRASES_PER_REPLY, random.Random(args.seed))
        for engine in args.engines:
            for condition in conditions:
                print(f"  {engine}, {condition.label}: {len(texts)} replies …", flush=True)
                run = run_condition(engine, condition, texts, sources, work, phrases)
                print(f"    CER {run['cer']:.2%}, fields {run['fields']:.1%}, recall {run['recall']:.1%}, "
                      f"{run['pages_per_minute']:.1f} pages/min, {len(run['failed'])} failed", flush=True)
                results["runs"].append(run)
    results["load"]["after"] = os.getloadavg()
    return results


def goals(run: dict[str, Any]) -> list[tuple[str, bool]]:
    """Return the goals of one run, each with whether it is met."""
    cer_goal = CER_GOAL_CLEAN if run["condition"] == "clean-300" else CER_GOAL_DEGRADED
    return [
        (f"CER ≤ {cer_goal:.0%}", run["cer"] <= cer_goal),
        (f"fields ≥ {FIELD_GOAL:.0%}", run["fields"] >= FIELD_GOAL),
        (f"≥ {PAGES_PER_MINUTE_GOAL:.0f} pages/min", run["pages_per_minute"] >= PAGES_PER_MINUTE_GOAL),
    ]


def report(r: dict[str, Any]) -> None:
    """Print the figures as Markdown tables, one per engine, goals beside them."""
    machine = r["machine"].removeprefix("machine: ")
    before, after = (", ".join(f"{x:.2f}" for x in r["load"][when]) for when in ("before", "after"))
    labels = {c["name"]: Condition(**c).label for c in r["conditions"]}
    print(f"\n## OCR of scanned replies, {r['replies']} replies\n\n{machine}; load average {before} before, "
          f"{after} after. Goals: CER ≤ {CER_GOAL_CLEAN:.0%} clean at 300 dpi, ≤ {CER_GOAL_DEGRADED:.0%} "
          f"otherwise; fields ≥ {FIELD_GOAL:.0%} of the text versions' (100 %); ≥ {PAGES_PER_MINUTE_GOAL:.0f} "
          "pages/min.\n")
    for engine in dict.fromkeys(run["engine"] for run in r["runs"]):
        print(f"### {engine}\n\n| condition | pages | CER | fields | exact-wording recall | pages/min "
              "| failed | goals missed |\n|---|---|---|---|---|---|---|---|")
        for run in (run for run in r["runs"] if run["engine"] == engine):
            missed = [label for label, met in goals(run) if not met]
            print(f"| {labels[run['condition']]} | {run['pages']} | {run['cer']:.2%} | {run['fields']:.1%} | "
                  f"{run['recall']:.1%} ({run['phrases_found']}/{run['phrases_expected']}) | "
                  f"{run['pages_per_minute']:.1f} | {len(run['failed'])} | {'; '.join(missed) or 'none'} |")
        print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=REPLIES, help="replies scanned under each condition")
    parser.add_argument("--engines", default=",".join(ENGINES), help="OCR engines, comma-separated")
    parser.add_argument("--conditions", default=",".join(c.name for c in CONDITIONS),
                        help="scan conditions, comma-separated")
    parser.add_argument("--seed", type=int, default=20220030)
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "bench", help="where ocr.json is written")
    parser.add_argument("--report", action="store_true", help="print the last run's figures again")
    args = parser.parse_args(argv)
    saved = args.root / "ocr.json"
    if args.report:
        report(json.loads(saved.read_text()))
        return
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = [e for e in args.engines if e not in ENGINES] + [
        c for c in args.conditions if c not in {c.name for c in CONDITIONS}]
    if unknown:
        parser.error(f"unknown engine or condition: {', '.join(unknown)}")
    if args.replies < 1:
        parser.error("--replies must be at least 1")
    print(describe_machine())
    results = bench(args)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    report(results)


if __name__ == "__main__":
    main()
