"""Field-by-field accuracy of the parser over the fixture replies and real replies.

The fixtures are fictional reply texts in ``tests/fixtures/replies``; their expected
fields are in ``expected.yaml`` there. For every field, prints how many fixtures state it
and how many the parser gets right, with the fixtures it misses; then the seed's full
record. When ``tests/formats.py`` is in the repository, every fixture is also rendered
to each format it offers (PDF, DOCX, a GBK web page, legacy encodings) and read back
through ingestion, and the same table is printed per format.

Then real replies as published (``bench/real.py``): ``../shared/real-replies`` when it is
beside the repository, else the project's own replies in page layouts
(``tests/fixtures/pages``), graded right / wrong / missed / spurious per field; the same
replies in variants other pages could serve (traditional script, the salutation run
into the opening, full-width punctuation…); and, when ``../shared/corpus`` is there, how
many official documents that are no replies the parser refuses.

Run with ``make accuracy`` (``python -m bench.accuracy``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from reply_archive import data
from reply_archive.archive.errors import ArchiveError
from reply_archive.archive.ingest import read_source
from reply_archive.archive.model import Reply, Source
from reply_archive.archive.parse import parse_reply

from . import real

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "replies"
FORMATS_MODULE = ROOT / "tests" / "formats.py"
# Keys of expected.yaml that are not record fields.
INPUT_KEYS = ("metadata",)
BODY_CHECKS = ("body_contains", "body_lacks")


def load_expected() -> dict[str, dict[str, Any]]:
    """Return the expected fields of every fixture, by file name."""
    with (FIXTURES / "expected.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def parse_fixture(name: str, expected: Mapping[str, Any]) -> Reply:
    """Parse one fixture text as it is, with the page metadata it comes with."""
    source = Source(file=name, format="txt", sha256="0" * 64, parser_version="fixture")
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return parse_reply(text, source=source, metadata=expected.get("metadata"))


def field_value(reply: Reply, name: str) -> Any:
    """Return a record's value for a field of expected.yaml, in its JSON form."""
    if name == "sections":
        return [[s.level, s.heading_line] for s in reply.sections]
    if name == "commitments":
        return [c.text for c in reply.commitments]
    data_ = reply.to_dict()
    return data_[name] if name in data_ else getattr(reply, name)  # salutation, closing…: derived


def mismatches(reply: Reply, expected: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Return ``{field: (expected, actual)}`` for every expected field the record misses."""
    missed: dict[str, tuple[Any, Any]] = {}
    for name, want in expected.items():
        if name in INPUT_KEYS:
            continue
        if name == "body_contains":
            absent = [s for s in want if s not in reply.body]
            if absent:
                missed[name] = (want, absent)
        elif name == "body_lacks":
            present = [s for s in want if s in reply.body]
            if present:
                missed[name] = (want, present)
        elif (got := field_value(reply, name)) != want:
            missed[name] = (want, got)
    return missed


Results = dict[str, dict[str, tuple[Any, Any]] | str]


def score(results: Results, expected: Mapping[str, Mapping[str, Any]], skipped: Mapping[str, str] | None = None) -> str:
    """Return the per-field table: correct / expected and the fixtures that miss.

    :param results: per fixture, its mismatches, or why it could not be read at all
        (which counts as a miss of every field it should state).
    :param skipped: fixtures left out of the count, with the reason.
    """
    fields: dict[str, list[str]] = {}
    misses: dict[str, list[str]] = {}
    for name, want in expected.items():
        if name not in results:
            continue
        for field in want:
            if field in INPUT_KEYS:
                continue
            fields.setdefault(field, []).append(name)
            result = results[name]
            if isinstance(result, str) or field in result:
                misses.setdefault(field, []).append(name)
    lines = []
    total = correct = 0
    for field in sorted(fields, key=lambda f: (-len(fields[f]), f)):
        stated, missed = len(fields[field]), misses.get(field, [])
        total += stated
        correct += stated - len(missed)
        tail = f"   misses: {', '.join(missed)}" if missed else ""
        lines.append(f"  {field:<20} {stated - len(missed):>3} / {stated:<3}{tail}")
    failed = {name: why for name, why in results.items() if isinstance(why, str)}
    lines += [f"  ! {name}: {why}" for name, why in failed.items()]
    lines += [f"  - {name}: {why} (not counted)" for name, why in (skipped or {}).items()]
    lines.append(f"  {'all fields':<20} {correct:>3} / {total:<3} ({correct / total:.1%})" if total else "  (nothing)")
    return "\n".join(lines)


def run_text(expected: Mapping[str, Mapping[str, Any]]) -> Results:
    """Parse every fixture text directly and compare it with its expected fields."""
    results: Results = {}
    for name, want in expected.items():
        try:
            results[name] = mismatches(parse_fixture(name, want), want)
        except ArchiveError as exc:
            results[name] = f"not parsed: {exc}"
    return results


def run_format(
    fmt: str, render: Callable[[str, str], bytes], suffix: str, expected: Mapping[str, Mapping[str, Any]]
) -> tuple[Results, dict[str, str]]:
    """Render every fixture to ``fmt``, read it back through ingestion, compare.

    :return: the results, and the fixtures left out with the reason: those that come
        with page metadata (web-page cases of their own) and those the renderer cannot
        lay out (no date line for the DOCX signature table, characters Big5 lacks),
        which are no parser miss.
    """
    results: Results = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, want in expected.items():
            if "metadata" in want:
                skipped[name] = "a web-page case with metadata"
                continue
            text = (FIXTURES / name).read_text(encoding="utf-8")
            try:
                raw = render(text, fmt)
            except (UnicodeEncodeError, ValueError, StopIteration) as exc:
                skipped[name] = f"the renderer cannot lay it out as {fmt} ({type(exc).__name__})"
                continue
            path = Path(tmp) / f"{Path(name).stem}{suffix}"
            path.write_bytes(raw)
            try:
                results[name] = mismatches(read_source(path, name), want)
            except ArchiveError as exc:
                results[name] = f"not read: {exc.message}"
    return results, skipped


def formats() -> tuple[Iterable[str], Callable[[str, str], bytes], Mapping[str, str]] | None:
    """Return the formats, renderer and suffixes of ``tests/formats.py``, if it exists."""
    if not FORMATS_MODULE.exists():
        return None
    module = importlib.import_module("tests.formats")
    return module.FORMATS, module.render, module.SUFFIXES


def seed_record() -> dict[str, Any]:
    """Return the seed reply's full record, derived fields included, without the body."""
    reply = read_source(data.path("seed", "seed_reply.txt"))
    record = reply.to_dict()
    record["body"] = f"({len(reply.body)} characters)"
    for name in ("salutation", "opening", "closing", "closing_type"):
        record[name] = getattr(reply, name)
    return record


def main(argv: list[str] | None = None) -> None:
    """Print the accuracy tables and the seed's record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-only", action="store_true", help="skip the rendered formats")
    parser.add_argument("--real", type=Path, help="a folder of real replies with manifest.json (default: "
                        f"{real.REAL_REPLIES} if present, else {real.PAGE_FIXTURES.relative_to(ROOT)})")
    parser.add_argument("--real-only", action="store_true", help="grade only the real replies")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every field a real reply misses")
    args = parser.parse_args(argv)
    folder = args.real or (real.REAL_REPLIES if (real.REAL_REPLIES / "manifest.json").exists() else real.PAGE_FIXTURES)
    print(f"real replies: {folder}, field: right / stated, wrong, missed, spurious")
    print(real.report(real.score_folder(folder), verbose=args.verbose))
    print("\nthe same replies as other pages could serve them:")
    print(real.variant_report(folder))
    if any(real.NON_REPLIES.glob("*.jsonl")):
        print(f"\ndocuments that are no replies ({real.NON_REPLIES}):")
        print(real.refusal_report(real.non_replies()))
    if args.real_only:
        return
    expected = load_expected()
    print(f"fixtures: {len(expected)} replies in {FIXTURES.relative_to(ROOT)}")
    print("\ntext as written (txt, UTF-8), field: correct / expected")
    print(score(run_text(expected), expected))
    found = None if args.text_only else formats()
    if found is None and not args.text_only:
        print(f"\n{FORMATS_MODULE.relative_to(ROOT)} not found: rendered formats not measured")
    if found is not None:
        names, render, suffixes = found
        for fmt in names:
            print(f"\nrendered as {fmt}, read back through ingestion")
            results, skipped = run_format(fmt, render, suffixes[fmt], expected)
            print(score(results, expected, skipped))
    print("\nseed reply, full record:")
    print(json.dumps(seed_record(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
