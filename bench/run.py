"""The benchmark suite: build, query and update archives of generated replies, and
compare every figure with SQLite FTS5 and tantivy on the same replies and queries.

For each size (1,000, 10,000 and 20,000 replies by default) the suite

1. writes the replies as raw text (``bench/generate.py``: real prose, the genre's
   anatomy, skewed metadata; marked synthetic) and runs ``reply-archive ingest`` and
   ``reply-archive index`` on them as a user would, each in its own process, timing
   them and sampling the memory of the process tree (the index build forks workers);
2. starts a fresh process holding only the web app (``bench/serving.py``) that times
   the first answer from process start (cold start), runs each query kind — word
   queries, exact phrases of 1-12 characters, reply pages — several times, taking each
   query's median, reads its peak memory, and adds one reply to the archive, timing
   ingest + incremental index until a search in that process finds it;
3. segments the same text with the same number of processes as the index build (the
   floor under ingest + index throughput), builds FTS5 and tantivy from those words,
   runs the same queries on them and prints every figure of ours as a ratio to theirs.

Our match cache is cleared before every query: each figure is a query matched from
the index, not remembered. Figures go to ``<root>/<size>/results.json`` and are printed
as the tables of BENCHMARKS.md.

``python -m bench.run [--sizes 1000,10000,20000] [--runs 3] [--queries 40]``
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from reply_archive.archive.store import iter_records, iter_replies, snapshot
from reply_archive.archive.system import usable_cores
from reply_archive.indexer.analysis import segment
from reply_archive.indexer.build import current_generation
from reply_archive.indexer.query import parse_query
from reply_archive.indexer.sync import MAX_BUILD_PROCESSES

from .baselines import available, from_reply
from .corpus import searchable_text
from .generate import write_sources
from .machine import describe_machine
from .recall import quoted, sample_needles
from .serving import MB, status_kib, timed_queries
from .words import sample_words

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1000, 10000, 20000)
TARGETS_AT = 20000  # the size the performance targets are set for
LARGE = 100000  # a province's archive: its own targets for start, memory and build time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="replies per archive, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query (and of builds up to 2,000 replies)")
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=20220030)
    parser.add_argument("--chars", default="2000-5000", help="body length of a generated reply, MIN-MAX")
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's archives and build figures")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: whole numbers separated by commas, not {args.sizes!r}")
    print(describe_machine())
    for size in sizes:
        results = bench_size(size, args)
        (args.root / str(size) / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
        report(results)


def bench_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, ingest, index and measure one archive size; return every figure.

    With ``--reuse``, the archive, index and build figures of the previous run of this
    size are kept and only the queries are measured again (after a change to search).
    """
    folder = args.root / str(size)
    archive, index = folder / "archive", folder / "index"
    previous = folder / "results.json"
    if args.reuse and previous.exists():
        built = {k: v for k, v in json.loads(previous.read_text()).items() if k in ("source_mb", "build", "index_mb")}
    else:
        built = build(size, folder, args)
    asked = sample_queries(archive, args)
    queries = folder / "queries.json"
    queries.write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
    started = time.time()
    child = subprocess.run(
        [sys.executable, "-m", "bench.serving", str(archive), str(index), str(queries), str(started), str(args.runs)],
        cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True,
    )
    served = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "size": size,
        "machine": describe_machine(),
        **built,
        **served,
        "queries": {"words": asked["words"], "phrases": asked["phrases"]},
        **reference_engines(archive, asked, args.runs),
    }


def sample_queries(archive: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Draw the queries from 300 random replies: one- and two-word queries (half of
    the words frequent), phrases of 1-12 characters (half across punctuation), reply
    pages with a word to mark, and paragraphs for the reply added at the end."""
    rng = random.Random(args.seed)
    names = sorted(snapshot(archive))
    sample = [reply for _, reply in iter_records(archive, rng.sample(names, k=min(300, len(names))))]
    words = sample_words([f"{r.title}\n{r.body}" for r in sample], args.queries * 2, rng)
    phrases = sample_needles([searchable_text(r) for r in sample], args.queries * 3, rng)
    return {
        "words": [" ".join(rng.sample(words, k=rng.choice((1, 2)))) for _ in range(args.queries)],
        "phrases": phrases,
        "quoted": [quoted(p) for p in phrases],
        "pages": [[r.id, rng.choice(words)] for r in rng.sample(sample, k=min(args.queries, len(sample)))],
        "paragraphs": [p for r in sample for p in r.body.split("\n") if len(p) > 40],
        "serial": len(names),
    }


def build(size: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Write the replies as text, then ingest and index them as a user does, timed."""
    shutil.rmtree(folder, ignore_errors=True)
    sources = folder / "synthetic"
    low, _, high = args.chars.partition("-")
    source_bytes = write_sources(size, sources, seed=args.seed, size=(int(low), int(high)))
    archive, index = folder / "archive", folder / "index"
    runs = []
    for _ in range(args.runs if size <= 2000 else 1):  # large builds take minutes: one run
        shutil.rmtree(archive, ignore_errors=True)
        shutil.rmtree(index, ignore_errors=True)
        ingest_s, ingest_peak = run_measured(["ingest", "--sample", str(sources), "--archive", str(archive)])
        index_s, index_peak = run_measured(["index", "--archive", str(archive), "--index", str(index)])
        runs.append({"ingest_s": ingest_s, "index_s": index_s, "ingest_peak": ingest_peak, "index_peak": index_peak})
    return {
        "source_mb": source_bytes / MB,
        "build": {**{key: statistics.median(run[key] for run in runs) for key in runs[0]}, "runs": len(runs)},
        "index_mb": folder_bytes(current_generation(index)) / MB,
    }


def cli_command() -> list[str]:
    """Return the command line of the ``reply-archive`` program of this environment."""
    script = Path(sys.executable).with_name("reply-archive")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from reply_archive.web.cli import cli; cli()"]


def run_measured(arguments: list[str]) -> tuple[float, int]:
    """Run ``reply-archive`` with ``arguments``; return its seconds and the peak memory
    (bytes resident) of its process tree, sampled every 0.1 s."""
    started = time.perf_counter()
    proc = subprocess.Popen([*cli_command(), *arguments], cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = 0
    try:
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.1)
    except BaseException:  # interrupted or terminated: the command must not run on alone
        proc.terminate()
        proc.wait()
        raise
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"reply-archive {' '.join(arguments)} failed with exit status {proc.returncode}")
    return seconds, peak


def tree_rss(pid: int) -> int:
    """Return the resident bytes of a process and all its descendants (0 if gone)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(status_kib(p, "VmRSS") for p in tree) * 1024


def folder_bytes(path: Path) -> int:
    """Return the bytes of the files in a folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- the reference engines -------------------------------------------------------


def reference_engines(archive: Path, asked: dict[str, Any], runs: int) -> dict[str, Any]:
    """Segment the archive's text (the floor), build each reference engine from those
    words and run the same queries on it."""
    records = list(iter_replies(archive))
    floor_s, words_of = segment_all(records)
    baselines = {}
    parsed_words = [parse_query(q).terms for q in asked["words"]]
    for engine_class in available():
        folder = archive.parent / f"baseline-{engine_class.__name__.lower()}"
        shutil.rmtree(folder, ignore_errors=True)
        engine = engine_class(folder)
        started = time.perf_counter()
        engine.build((from_reply(r) for r in records), words_of)
        build_s = time.perf_counter() - started
        baselines[engine.name] = {
            "build_s": build_s,
            "size_mb": engine.size() / MB,
            "words": timed_queries(parsed_words, partial(baseline_phases, engine.words), runs),
            "exact": timed_queries(asked["phrases"], partial(baseline_phases, engine.exact), runs),
        }
        engine.close()
        shutil.rmtree(folder, ignore_errors=True)
    return {"floor": {"segment_s": floor_s, "processes": PROCESSES}, "baselines": baselines}


def baseline_phases(run: Callable[..., Any], query: Any) -> dict[str, float]:
    """Time a reference engine's query as ours is split: matching alone, with every
    facet counted, and with facets and highlighted snippets of the top 10."""
    figures = {}
    for phase, options in (("match", {"facets": False, "highlight": False}),
                           ("facets", {"facets": True, "highlight": False}),
                           ("total", {"facets": True, "highlight": True})):
        started = time.perf_counter()
        result = run(query, **options)
        figures[phase] = (time.perf_counter() - started) * 1000
    figures["matches"] = result.total
    return figures


PROCESSES = min(usable_cores(), MAX_BUILD_PROCESSES)  # as many as `reply-archive index` uses


def segment_all(records: list) -> tuple[float, Callable[[str], list[str]]]:
    """Segment every text of the records once, with as many processes as the index
    build uses: the floor under ingest + index throughput. Return the seconds and a
    function giving the words of a text, for the reference engines."""
    texts = list(dict.fromkeys(t for r in records for t in (r.title, r.proposal_title or "", r.searchable_body)))
    started = time.perf_counter()
    with Pool(PROCESSES) as pool:
        # Kept joined by spaces: a list of words per text would take gigabytes.
        joined = dict(zip(texts, pool.map(_segment_joined, texts, chunksize=64), strict=True))
    seconds = time.perf_counter() - started

    def words_of(text: str) -> list[str]:
        found = joined.get(text)
        return (found if found is not None else _segment_joined(text)).split()

    return seconds, words_of


def _segment_joined(text: str) -> str:
    return " ".join(word for word, _, _ in segment(text) if word.strip())


# --- the report -------------------------------------------------------------------


def pct(values: list[float], q: int) -> float:
    """Return the q-th percentile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-q * len(ordered) // 100) - 1))]


def ratio(ours: float, theirs: float) -> str:
    """Return how many times ours takes theirs, as the tables print it."""
    return f"{ours / theirs:.1f}×" if theirs else "–"


def report(r: dict[str, Any]) -> None:
    """Print one size's figures as the tables of BENCHMARKS.md."""
    size, build = r["size"], r["build"]
    seconds = build["ingest_s"] + build["index_s"]
    floor_mbs = r["source_mb"] / r["floor"]["segment_s"]
    machine = r["machine"].removeprefix("machine: ")
    print(f"\n## {size:,} generated replies\n\n{machine}; {r['source_mb']:.1f} MB of UTF-8 source text\n")
    print("| build | figure |\n|---|---|")
    print(f"| ingest (parse, write records) | {build['ingest_s']:.1f} s, peak {build['ingest_peak'] / MB:.0f} MB |")
    print(f"| index (two processes) | {build['index_s']:.1f} s, peak {build['index_peak'] / MB:.0f} MB |")
    print(f"| ingest + index | **{r['source_mb'] / seconds:.2f} MB/s**, {size / seconds:.0f} replies/s "
          f"(median of {build['runs']}) |")
    print(f"| segmentation only, same text, {r['floor']['processes']} processes (floor) | {floor_mbs:.2f} MB/s "
          f"(ours {r['source_mb'] / seconds / floor_mbs:.2f}× of it) |")
    print(f"| index size | {r['index_mb']:.0f} MB |")
    for name, base in r["baselines"].items():
        print(f"| {name}: build from the segmented text | {base['build_s']:.1f} s, {base['size_mb']:.0f} MB |")
    names = list(r["baselines"])
    print("\n| query, ms | n | ours p50 | ours p95 | "
          + " | ".join(f"{n} p50 | {n} p95 | ours ÷ {n}, p50 / p95" for n in names)
          + " |\n" + "|---" * (4 + 3 * len(names)) + "|")
    words = r["ours"]["words"]
    lengths = [len(p) for p in r["queries"]["phrases"]]
    everything = range(len(words))
    for label, kind, chosen, ours_key, their_key in (
        ("words: match and rank", "words", everything, ("match",), "match"),
        ("words + all facet counts", "words", everything, ("match", "facets"), "facets"),
        ("words + facets + highlighted top 10", "words", everything, ("total",), "total"),
        *((f"exact phrase, {low}–{high} chars", "exact", [i for i, n in enumerate(lengths) if low <= n <= high],
           ("total",), "total") for low, high in ((1, 2), (3, 6), (7, 12), (1, 12))),
        ("reply page with marked terms", "reply_page", range(len(r["ours"]["reply_page"])), ("total",), None),
    ):
        ms = [sum(r["ours"][kind][i][k] for k in ours_key) for i in chosen]
        if not ms:
            continue
        line = f"| {label} | {len(ms)} | {pct(ms, 50):.1f} | {pct(ms, 95):.1f} |"
        for name in names:
            if their_key is None:
                line += " – | – | – |"
                continue
            theirs = [r["baselines"][name][kind][i][their_key] for i in chosen]
            p50, p95 = pct(theirs, 50), pct(theirs, 95)
            line += f" {p50:.1f} | {p95:.1f} | {ratio(pct(ms, 50), p50)} / {ratio(pct(ms, 95), p95)} |"
        print(line)
    matched = sum(f["matches"] for f in words)
    facet_us = sum(f["facets"] for f in words) * 1000 / max(matched, 1)
    print(f"\nfacet counting: {facet_us:.2f} µs per matching reply (ten facets, {matched:,} matches over "
          f"{len(words)} word queries)")
    add = r["add_one"]
    print(f"cold start (process start to first answer): {r['cold_start_s']:.2f} s; background warm-up "
          f"done {r['warm_s']:.2f} s after process start")
    print(f"serving process: peak {r['serving']['peak_mb']:.0f} MB resident "
          f"({r['serving']['rss_mb']:.0f} MB after the queries)")
    print(f"adding one reply until searchable: {add['total_s']:.2f} s (ingest {add['ingest_s']:.2f}, "
          f"index {add['index_s']:.2f}, first search {add['search_s']:.2f})")
    if size >= TARGETS_AT:
        print_targets(r, facet_us)


def print_targets(r: dict[str, Any], facet_us: float) -> None:
    """Print each target of the performance goals with its measured value: at
    :data:`LARGE` replies the start, memory and build targets are those of that size."""
    words, exact = r["ours"]["words"], r["ours"]["exact"]
    full = [f["total"] for f in words]
    fts5 = r["baselines"].get("fts5")
    build_s = r["build"]["ingest_s"] + r["build"]["index_s"]
    large = r["size"] >= LARGE
    start_s, memory_mb = (3, 1500) if large else (2, 500)
    checks = [
        ("words + facets + top 10, p95 ≤ 100 ms", pct(full, 95), pct(full, 95) <= 100),
        ("words + facets + top 10, p50 ≤ 20 ms", pct(full, 50), pct(full, 50) <= 20),
        ("facet counting ≤ 1 µs per matching reply", facet_us, facet_us <= 1),
        ("exact wording, any length, p95 ≤ 100 ms", pct([f["total"] for f in exact], 95),
         pct([f["total"] for f in exact], 95) <= 100),
        (f"cold start ≤ {start_s} s", r["cold_start_s"], r["cold_start_s"] <= start_s),
        (f"serving process ≤ {memory_mb:,} MB", r["serving"]["peak_mb"], r["serving"]["peak_mb"] <= memory_mb),
        ("ingest + index ≤ 30 min", build_s / 60, build_s <= 30 * 60) if large
        else ("ingest + index ≥ 1 MB/s", r["source_mb"] / build_s, r["source_mb"] / build_s >= 1),
        ("one reply searchable ≤ 2 s", r["add_one"]["total_s"], r["add_one"]["total_s"] <= 2),
    ]
    if fts5:
        theirs = pct([t["total"] for t in fts5["words"]], 95)
        checks.append(
            ("words + facets + top 10 no slower than FTS5 (p95)", pct(full, 95) / theirs, pct(full, 95) <= theirs)
        )
    print("\n| target | measured | met |\n|---|---|---|")
    for label, value, met in checks:
        print(f"| {label} | {value:.2f} | {'yes' if met else '**no**'} |")


if __name__ == "__main__":
    main()
