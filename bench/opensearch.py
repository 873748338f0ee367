"""The OpenSearch backend beside Whoosh: build, index size, query latencies, memory,
and a paper estimate of what 1 and 10 million replies need.

On one archive of generated replies (``bench/generate.py``; kept under the cache folder
and reused by later runs of the same size and seed) and a local cluster of three nodes
(``tests/opensearch_cluster.py``, one JVM each), in one process, this

1. builds the index with each backend by ``reply-archive index --rebuild`` in its own
   process (``bench/run.py``'s timing: wall time and the peak memory of the process
   tree, both with two analysing processes), the cluster named in the environment as a
   deployment names it; reads each index's size, the cluster's shards (documents and
   store), its nodes' heap and the JVMs' resident memory and CPU seconds;
2. runs the same queries on both backends in turn, query by query (so that other work
   on the machine slows both alike), each three times keeping the median, the
   engines' remembered matches cleared before every run: word queries of 1-3 words
   (a page of 20 hits: matching, + facet counts, + hits with snippets), the same with
   a year range and a department selected, exact phrases of 1-12 characters,
   proximity queries, statistics and the export of mid-size results (a tenth of the
   archive). Both backends must give the same totals, facet counts, statistics and
   exported replies (ranking order may differ); every disagreement is counted;
3. reads the nodes again and, from the measured figures per reply and per shard,
   prints a paper estimate of shards, nodes, heap and disk for 1 and 10 million replies.

``--reuse`` keeps the Whoosh index and build figures of the last run on the same
archive (its build takes the longest). Queries may run for ``QUERY_SECONDS`` seconds
(not the product's 5): each figure is a query's whole cost. Figures go to
``<cache>/opensearch-results.json`` and are printed as the tables of BENCHMARKS.md;
``--report`` prints them again from that file.

``python -m bench.opensearch [--size 20000] [--queries 40] [--heap 1g] [--root DIR] [--reuse] [--report]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from reply_archive.archive.store import iter_records, iter_replies, snapshot
from reply_archive.archive.tables import department_names
from reply_archive.indexer.analysis import segment
from reply_archive.indexer.build import current_generation
from reply_archive.indexer.opensearch_backend import to_source
from reply_archive.indexer.schema import build_schema
from reply_archive.indexer.search import ReplyIndex
from reply_archive.indexer.settings import ENV_PREFIX, SETTINGS, Settings
from reply_archive.indexer.sync import build_processes
from tests.opensearch_cluster import VERSION, Cluster, prerequisite, request

from .corpus import searchable_text
from .machine import describe_machine
from .recall import quoted, sample_needles
from .run import ROOT, folder_bytes, pct, ratio, run_measured
from .serving import MB, status_kib, timed_queries
from .words import sample_words

GB = 1_000_000_000
PREFIX = "bench"  # the archive's alias on the cluster
QUERY_SECONDS = 120.0
ENGINES = ("whoosh", "opensearch")
YEARS = "2019-2022"  # the year range of the filtered word queries
NEAR_SLOP = 10  # "a b"~10
# The paper estimate's assumptions (BENCHMARKS.md states them with the arithmetic).
ESTIMATE_SIZES = (1_000_000, 10_000_000)
TARGET_SHARD_GB = 20  # within the 10-30 GB per shard usually advised for search
DISK_HEADROOM = 1.5  # disk per stored byte: under the 85 % watermark, with room for merges
NODE_RAM_GB, NODE_HEAP_GB = 64, 31  # one data node: heap at most half the RAM, under 32 GB
SHARDS_PER_HEAP_GB = 20  # the usual ceiling of shard copies per GB of heap
MIN_NODES = 3  # a cluster-manager quorum; a replica never on its primary's node
BUILD_PROCESSES_MAX = 4  # the most indexer.sync.build_processes starts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20000, help="replies in the archive")
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind (3x as many exact phrases)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query, the median kept")
    parser.add_argument("--seed", type=int, default=20220030)
    parser.add_argument("--heap", default="1g", help="heap of each of the three nodes")
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "bench-opensearch", help="the cache folder")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the Whoosh index and build figures of the last run on this archive")
    parser.add_argument("--report", action="store_true",
                        help="print the last run's figures again, the estimate made anew (its assumptions changed)")
    args = parser.parse_args(argv)
    saved = args.root / "opensearch-results.json"
    if args.report:
        results = json.loads(saved.read_text())
        results["estimate"] = estimate(results)
        saved.write_text(json.dumps(results, ensure_ascii=False, indent=1))
        report(results)
        return
    reason = prerequisite()
    if reason:
        raise SystemExit(f"no OpenSearch cluster can start here: {reason}")
    print(describe_machine())
    signal.signal(signal.SIGTERM, terminated)  # stop the cluster and remove its folder, as on Ctrl-C
    results = bench(args)
    saved.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    report(results)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start a cluster, build and query both backends on one archive; return every figure."""
    folder = args.root / str(args.size)
    archive, reused = generated_archive(folder, args)
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="bench-opensearch-")), nodes=3, heap=args.heap)
    try:
        cluster.start()
        nodes = {"started": node_figures(cluster.url)}
        base = Settings(query_seconds=QUERY_SECONDS)
        settings = {
            "whoosh": base,
            "opensearch": dataclasses.replace(
                base, backend="opensearch", opensearch_url=",".join(cluster.urls), opensearch_prefix=PREFIX,
                opensearch_shards=2, opensearch_replicas=1,
            ),
        }
        indexes = {"whoosh": folder / "whoosh", "opensearch": folder / "opensearch-lock"}
        built = {"whoosh": whoosh_build(archive, indexes["whoosh"], settings["whoosh"], cluster.url, args.reuse),
                 "opensearch": build(archive, indexes["opensearch"], settings["opensearch"], cluster.url)}
        built["opensearch"].update(cluster_size(cluster.url), **sent_per_reply(archive))
        nodes["built"] = node_figures(cluster.url)
        shards = shard_figures(cluster.url)
        rss_before = status_kib("self", "VmRSS") * 1024 / MB
        engines = {name: ReplyIndex(indexes[name], settings[name]) for name in ENGINES}
        asked = sample_queries(archive, engines["whoosh"], args)
        measured = measure_queries(engines, asked, args.runs)
        nodes["queried"] = node_figures(cluster.url)
        process = {"rss_before_mb": rss_before, "peak_mb": status_kib("self", "VmHWM") * 1024 / MB,
                   "rss_mb": status_kib("self", "VmRSS") * 1024 / MB}
        for engine in engines.values():
            engine.close()
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
    results = {
        "size": args.size,
        "machine": describe_machine(),
        "archive_reused": reused,
        "build_processes": build_processes(archive),
        "text_mb": json.loads((folder / "archive.json").read_text())["text_mb"],
        "cluster": {"version": VERSION, "nodes": cluster.nodes, "heap": args.heap, "shards": 2, "replicas": 1},
        "build": built,
        "shards": shards,
        "nodes": nodes,
        "process": process,
        "queries": asked,
        "measured": measured,
    }
    results["estimate"] = estimate(results)
    return results


def terminated(signum: int, frame: object) -> None:
    """Leave as on Ctrl-C when terminated, so that the cluster is stopped and removed."""
    raise SystemExit(128 + signum)


# --- the archive and the builds ----------------------------------------------------


def generated_archive(folder: Path, args: argparse.Namespace) -> tuple[Path, bool]:
    """Return the archive of ``args.size`` generated replies under ``folder`` and whether
    it was there already; generate it (in its own process, as ``bench.generate`` does
    from the command line) and count its text otherwise."""
    archive, described = folder / "archive", folder / "archive.json"
    wanted = {"size": args.size, "seed": args.seed}
    if described.exists() and {k: v for k, v in json.loads(described.read_text()).items() if k in wanted} == wanted:
        return archive, True
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.generate", str(args.size), str(archive), "--seed", str(args.seed)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    text = sum(len(f"{r.title}\n{r.body}".encode()) for r in iter_replies(archive))
    described.write_text(json.dumps({**wanted, "text_mb": text / MB, "generated_s": time.perf_counter() - started}))
    return archive, False


def whoosh_build(archive: Path, index: Path, settings: Settings, url: str, reuse: bool) -> dict[str, Any]:
    """Build the Whoosh index and keep its figures beside it (a run stopped later can
    be started again with ``reuse``); with ``reuse``, return those of the last build."""
    kept = index.with_name("whoosh-build.json")
    if reuse and kept.exists() and index.exists():
        return {**json.loads(kept.read_text()), "reused": True}
    figures: dict[str, Any] = build(archive, index, settings, url)
    figures["size_mb"] = folder_bytes(current_generation(index)) / MB
    kept.write_text(json.dumps(figures))
    return figures


def build(archive: Path, index: Path, settings: Settings, url: str) -> dict[str, float]:
    """Rebuild the index of a backend with ``reply-archive index``, its settings in the
    environment; return its wall time, peak memory and CPU seconds, and those of the
    cluster's JVMs meanwhile."""
    shutil.rmtree(index, ignore_errors=True)
    jvm_before, ours_before = jvm_cpu_s(url), os.times()
    with mock.patch.dict(os.environ, environment(settings)):
        seconds, peak = run_measured(["index", "--rebuild", "--archive", str(archive), "--index", str(index)])
    ours = os.times()  # the build and its analysing processes, all waited for
    return {"s": seconds, "peak_mb": peak / MB, "jvm_cpu_s": jvm_cpu_s(url) - jvm_before,
            "cpu_s": ours.children_user + ours.children_system - ours_before.children_user
            - ours_before.children_system}


def environment(settings: Settings) -> dict[str, str]:
    """Return the ``REPLY_ARCHIVE_*`` variables that give these settings (those not at
    their default)."""
    default = Settings()
    return {ENV_PREFIX + spec.name.upper(): str(getattr(settings, spec.name)) for spec in SETTINGS
            if getattr(settings, spec.name) != getattr(default, spec.name)}


def sent_per_reply(archive: Path, count: int = 50) -> dict[str, float]:
    """Return the mean kB of a reply's text (title and body) and of the document the
    OpenSearch build sends for it (its JSON as the client writes it), over the first
    ``count`` replies of the archive."""
    schema, aliases = build_schema(), department_names()
    replies = [reply for _, reply in iter_records(archive, sorted(snapshot(archive))[:count])]
    sent = sum(len(json.dumps(to_source(r, aliases, schema), ensure_ascii=False, separators=(",", ":")).encode())
               for r in replies)
    text = sum(len(f"{r.title}\n{r.body}".encode()) for r in replies)
    return {"text_kb_per_reply": text / len(replies) / 1000, "sent_kb_per_reply": sent / len(replies) / 1000}


# --- the cluster's figures ---------------------------------------------------------


def node_figures(url: str) -> dict[str, dict[str, float]]:
    """Return each node's heap (used, most) and its JVM's resident memory, in MB."""
    pids = {node["name"]: node["process"]["id"] for node in request(f"{url}/_nodes/process")["nodes"].values()}
    stats = request(f"{url}/_nodes/stats/jvm")["nodes"].values()
    return {
        node["name"]: {
            "heap_used_mb": node["jvm"]["mem"]["heap_used_in_bytes"] / MB,
            "heap_max_mb": node["jvm"]["mem"]["heap_max_in_bytes"] / MB,
            "rss_mb": status_kib(pids[node["name"]], "VmRSS") * 1024 / MB,
        }
        for node in sorted(stats, key=lambda n: n["name"])
    }


def jvm_cpu_s(url: str) -> float:
    """Return the CPU seconds the cluster's JVMs have used (/proc/<pid>/stat)."""
    total = 0
    for node in request(f"{url}/_nodes/process")["nodes"].values():
        fields = Path(f"/proc/{node['process']['id']}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def settled(url: str, timeout: float = 300) -> None:
    """Wait until the archive's index has no merge running, so that its size is final."""
    deadline = time.monotonic() + timeout
    while request(f"{url}/{PREFIX}/_stats/merge")["_all"]["total"]["merges"]["current"]:
        if time.monotonic() > deadline:
            return
        time.sleep(1)


def cluster_size(url: str) -> dict[str, float]:
    """Return the documents and the store of the archive's index: primaries and all copies."""
    settled(url)
    row = request(f"{url}/_cat/indices/{PREFIX}?format=json&bytes=b")[0]
    return {"docs": int(row["docs.count"]), "primary_mb": int(row["pri.store.size"]) / MB,
            "size_mb": int(row["store.size"]) / MB}


def shard_figures(url: str) -> list[dict[str, Any]]:
    """Return every shard copy of the archive's index: number, primary or replica,
    node, documents and store."""
    rows = request(f"{url}/_cat/shards/{PREFIX}?format=json&bytes=b")
    return sorted(({"shard": int(r["shard"]), "prirep": r["prirep"], "node": r["node"], "docs": int(r["docs"]),
                    "store_mb": int(r["store"]) / MB} for r in rows), key=lambda r: (r["shard"], r["prirep"]))


# --- the queries ---------------------------------------------------------------------


def sample_queries(archive: Path, whoosh: ReplyIndex, args: argparse.Namespace) -> dict[str, list]:
    """Draw each kind of query from 300 random replies, as the suite does (words: half
    frequent; phrases: half across punctuation), and pick the mid-size exports: the
    single words whose number of replies (by Whoosh) is nearest a tenth of the archive."""
    rng = random.Random(args.seed)
    names = sorted(snapshot(archive))
    sample = [reply for _, reply in iter_records(archive, rng.sample(names, k=min(300, len(names))))]
    vocabulary = sample_words([f"{r.title}\n{r.body}" for r in sample], args.queries * 2, rng)
    words = [" ".join(rng.sample(vocabulary, k=rng.randint(1, 3))) for _ in range(args.queries)]
    paragraphs = [p for r in sample for p in r.body.split("\n") if len(p) > 40]
    departments = [r.department for r in sample if r.department]
    totals = {word: whoosh.search(word, per_page=1).total for word in vocabulary}
    mid_size = sorted(totals, key=lambda w: abs(math.log(max(totals[w], 1) * 10 / args.size)))
    few = max(args.queries // 4, 1)
    return {
        "words": [[q, None] for q in words],
        "filtered": [[q, {"year": [YEARS], "department": [rng.choice(departments)]}] for q in words],
        "exact": [[quoted(p), None] for p in sample_needles([searchable_text(r) for r in sample], args.queries * 3,
                                                            rng)],
        "near": [[q, None] for q in sample_near(paragraphs, few, rng)],
        "statistics": words,
        "export": mid_size[:few],
    }


def sample_near(paragraphs: list[str], count: int, rng: random.Random) -> list[str]:
    """Return ``count`` proximity queries ``"a b"~10`` then as many ``"a b c"~10``: words
    of two or more characters, one to three such words apart in a paragraph of the
    archive. (Fewer than of the other kinds: Whoosh checks every candidate's positions.)"""
    queries: list[str] = []
    for size in (2, 3):
        wanted = len(queries) + count
        while len(queries) < wanted:
            words = [w for w, _, _ in segment(rng.choice(paragraphs)) if len(w) >= 2 and not w.isascii()]
            if len(words) < 3 * size:
                continue
            at = rng.randrange(len(words) - 3 * size + 1)
            picked = [words[at]]
            while len(picked) < size:
                at += rng.randint(1, 3)
                picked.append(words[at])
            if len(set(picked)) == size:
                queries.append(f'"{" ".join(picked)}"~{NEAR_SLOP}')
    return queries


Measure = Callable[[ReplyIndex, Any], tuple[dict[str, float], Any]]


def searched(engine: ReplyIndex, query: list) -> tuple[dict[str, float], Any]:
    """A page of 20 hits with every facet counted: the phases of ``took_ms``; what both
    backends must agree on is the total and the facet counts."""
    q, filters = query
    results = engine.search(q, filters=filters, per_page=20)
    return {**results.took_ms, "matches": results.total}, (results.total, results.facets)


def counted(engine: ReplyIndex, q: str) -> tuple[dict[str, float], Any]:
    """The statistics of a search (years, departments, topics, results by department)."""
    started = time.perf_counter()
    found = engine.statistics(q)
    return {"total": (time.perf_counter() - started) * 1000, "matches": found.total}, found


def exported(engine: ReplyIndex, q: str) -> tuple[dict[str, float], Any]:
    """Every hit of a search, as an export reads them; both must give the same replies."""
    started = time.perf_counter()
    hits = engine.export(q)
    return {"total": (time.perf_counter() - started) * 1000, "matches": len(hits)}, {h.id for h in hits}


MEASURES: dict[str, Measure] = {"words": searched, "filtered": searched, "exact": searched, "near": searched,
                                "statistics": counted, "export": exported}


def side_by_side(engines: dict[str, ReplyIndex], measure: Measure) -> Callable[[Any], dict[str, float]]:
    """Return a run of one query on every engine in turn, each after its remembered
    matches are cleared: every engine's figures, and 1 when their answers agree."""

    def run(query: Any) -> dict[str, float]:
        figures: dict[str, float] = {}
        answers = []
        for name, engine in engines.items():
            engine.forget_matches()
            measured, answer = measure(engine, query)
            figures.update({f"{name} {key}": value for key, value in measured.items()})
            answers.append(answer)
        figures["same"] = float(all(answer == answers[0] for answer in answers))
        return figures

    return run


def measure_queries(engines: dict[str, ReplyIndex], asked: dict[str, list], runs: int) -> dict[str, list]:
    """Time every kind of query on both engines, each query ``runs`` times (medians)."""
    engines["whoosh"].warmed()
    return {kind: timed_queries(asked[kind], side_by_side(engines, measure), runs)
            for kind, measure in MEASURES.items()}


# --- the paper estimate -----------------------------------------------------------


def estimate(r: dict[str, Any]) -> dict[str, Any]:
    """Scale the measured store per reply, the build rates and the nodes' heap to 1 and
    10 million replies, with the assumptions of the constants above."""
    built, whoosh = r["build"]["opensearch"], r["build"]["whoosh"]
    primary_per_reply = built["primary_mb"] * MB / built["docs"]
    stored_per_reply = built["size_mb"] * MB / built["docs"]
    copies = 1 + r["cluster"]["replicas"]
    page_cache_gb = NODE_RAM_GB - NODE_HEAP_GB
    faster = BUILD_PROCESSES_MAX / r["build_processes"]  # more analysing processes, if the cluster keeps up
    out: dict[str, Any] = {
        "primary_kb_per_reply": primary_per_reply / 1000,
        "stored_kb_per_reply": stored_per_reply / 1000,
        "whoosh_kb_per_reply": whoosh["size_mb"] * MB / r["size"] / 1000,
        "replies_per_s": r["size"] / built["s"],
        "whoosh_replies_per_s": r["size"] / whoosh["s"],
        "heap_used_mb": max(node["heap_used_mb"] for stage in r["nodes"].values() for node in stage.values()),
        "store_per_node_mb": built["size_mb"] / r["cluster"]["nodes"],
        "sizes": {},
    }
    for size in ESTIMATE_SIZES:
        primary_gb = primary_per_reply * size / GB
        shards = max(MIN_NODES, math.ceil(primary_gb / TARGET_SHARD_GB))
        stored_gb = stored_per_reply * size / GB
        nodes = max(MIN_NODES, math.ceil(stored_gb / page_cache_gb))
        out["sizes"][str(size)] = {
            "primary_gb": primary_gb,
            "shards": shards,
            "shard_gb": primary_gb / shards,
            "docs_per_shard": size / shards,
            "copies": shards * copies,
            "stored_gb": stored_gb,
            "disk_gb": stored_gb * DISK_HEADROOM,
            "nodes": nodes,
            "copies_per_node": shards * copies / nodes,
            "disk_per_node_gb": stored_gb * DISK_HEADROOM / nodes,
            "build_h": size / out["replies_per_s"] / 3600,
            "build_h_faster": size / out["replies_per_s"] / 3600 / faster,
            "whoosh_gb": out["whoosh_kb_per_reply"] * 1000 * size / GB,
            "whoosh_build_h": size / out["whoosh_replies_per_s"] / 3600,
        }
    return out


# --- the report -------------------------------------------------------------------


def report(r: dict[str, Any]) -> None:
    """Print the figures as the tables of BENCHMARKS.md."""
    size, text_mb = r["size"], r["text_mb"]
    whoosh, opensearch = r["build"]["whoosh"], r["build"]["opensearch"]
    cluster = r["cluster"]
    machine = r["machine"].removeprefix("machine: ")
    print(f"\n## OpenSearch beside Whoosh, {size:,} generated replies\n\n{machine}; {text_mb:.1f} MB of reply text "
          f"(titles and bodies, UTF-8); OpenSearch {cluster['version']}, {cluster['nodes']} nodes of "
          f"{cluster['heap']} heap, {cluster['shards']} shards x {cluster['replicas']} replica\n")
    if whoosh.get("reused"):
        print("(Whoosh's build figures are those of an earlier run on this archive.)\n")
    print("| build | Whoosh | OpenSearch | OpenSearch ÷ Whoosh |\n|---|---|---|---|")
    for label, ours, theirs, fmt in (
        ("wall time, s", whoosh["s"], opensearch["s"], "{:.1f}"),
        ("replies/s", size / whoosh["s"], size / opensearch["s"], "{:.1f}"),
        ("MB/s of text", text_mb / whoosh["s"], text_mb / opensearch["s"], "{:.2f}"),
        ("CPU s of the build process and its workers", whoosh["cpu_s"], opensearch["cpu_s"], "{:.0f}"),
        ("CPU s of the cluster's JVMs meanwhile", whoosh["jvm_cpu_s"], opensearch["jvm_cpu_s"], "{:.0f}"),
        ("peak memory of the build process tree, MB", whoosh["peak_mb"], opensearch["peak_mb"], "{:.0f}"),
        ("index size, MB (OpenSearch: primaries)", whoosh["size_mb"], opensearch["primary_mb"], "{:.0f}"),
        ("index size, MB (OpenSearch: with the replicas)", whoosh["size_mb"], opensearch["size_mb"], "{:.0f}"),
    ):
        print(f"| {label} | {fmt.format(ours)} | {fmt.format(theirs)} | {ratio(theirs, ours)} |")
    print("\n| query, ms | n | hits, median | Whoosh p50 | Whoosh p95 | OpenSearch p50 | OpenSearch p95 "
          "| OpenSearch ÷ Whoosh, p50 / p95 | same answers |\n|---|---|---|---|---|---|---|---|---|")
    lengths = [len(q) - 2 for q, _ in r["queries"]["exact"]]  # without the quotes
    for label, kind, keys, chosen in (
        ("words (1–3): match", "words", ("match",), None),
        ("words + facet counts", "words", ("match", "facets"), None),
        ("words + facets + 20 hits with snippets", "words", ("total",), None),
        (f"words, year {YEARS} and a department selected, whole page", "filtered", ("total",), None),
        *((f"exact phrase, {low}–{high} chars, whole page", "exact", ("total",),
           [i for i, n in enumerate(lengths) if low <= n <= high]) for low, high in ((1, 2), (3, 6), (7, 12), (1, 12))),
        *((f'proximity "{words}"~{NEAR_SLOP}, whole page', "near", ("total",),
           [i for i, (q, _) in enumerate(r["queries"]["near"]) if len(q.split()) == len(words.split())])
          for words in ("a b", "a b c")),
        ("statistics (words)", "statistics", ("total",), None),
        ("export, mid-size result", "export", ("total",), None),
    ):
        figures = r["measured"][kind]
        rows = [figures[i] for i in (range(len(figures)) if chosen is None else chosen)]
        if not rows:
            continue
        ms = {name: [sum(row[f"{name} {key}"] for key in keys) for row in rows] for name in ENGINES}
        p50 = {name: pct(values, 50) for name, values in ms.items()}
        p95 = {name: pct(values, 95) for name, values in ms.items()}
        hits = pct([row["whoosh matches"] for row in rows], 50)
        same = sum(int(row["same"]) for row in rows)
        print(f"| {label} | {len(rows)} | {hits:,.0f} | {p50['whoosh']:.1f} | {p95['whoosh']:.1f} "
              f"| {p50['opensearch']:.1f} | {p95['opensearch']:.1f} | {ratio(p50['opensearch'], p50['whoosh'])} / "
              f"{ratio(p95['opensearch'], p95['whoosh'])} | {same} / {len(rows)} |")
    slow = sum(1 for kind in r["measured"].values() for row in kind for name in ENGINES
               if row[f"{name} total"] > 5000)
    print(f"\ndocument sent per reply: {opensearch['sent_kb_per_reply']:.1f} kB of JSON for "
          f"{opensearch['text_kb_per_reply']:.1f} kB of text")
    print(f"queries over the product's 5 s (QUERY_SECONDS would cut them short, with a notice): {slow}")
    process = r["process"]
    print(f"this process (both engines open): {process['rss_before_mb']:.0f} MB resident before opening them, "
          f"{process['rss_mb']:.0f} MB after the queries, peak {process['peak_mb']:.0f} MB")
    print("\n| shard | copy | node | docs | store, MB |\n|---|---|---|---|---|")
    for row in r["shards"]:
        copy = "primary" if row["prirep"] == "p" else "replica"
        print(f"| {row['shard']} | {copy} | {row['node']} | {row['docs']:,} | {row['store_mb']:.0f} |")
    nodes = r["nodes"]
    print("\n| node | heap, MB | heap used, MB: started / built / queried | JVM resident, MB: started / built / "
          "queried |\n|---|---|---|---|")
    for name in nodes["started"]:
        stages = [nodes[stage][name] for stage in ("started", "built", "queried")]
        print(f"| {name} | {stages[0]['heap_max_mb']:.0f} | "
              + " / ".join(f"{s['heap_used_mb']:.0f}" for s in stages) + " | "
              + " / ".join(f"{s['rss_mb']:.0f}" for s in stages) + " |")
    report_estimate(r["estimate"])


def report_estimate(e: dict[str, Any]) -> None:
    """Print the paper estimate with the figures it starts from."""
    print(f"\nPaper estimate from the measured figures: {e['primary_kb_per_reply']:.1f} kB of primary store per "
          f"reply, {e['stored_kb_per_reply']:.1f} kB with the replica (Whoosh: {e['whoosh_kb_per_reply']:.1f} kB); "
          f"heap used at most {e['heap_used_mb']:.0f} MB on a node holding {e['store_per_node_mb']:.0f} MB of "
          f"shards; build {e['replies_per_s']:.1f} replies/s (Whoosh {e['whoosh_replies_per_s']:.1f}). Shards of "
          f"at most {TARGET_SHARD_GB} GB, at least {MIN_NODES}; disk = store x {DISK_HEADROOM}; nodes of "
          f"{NODE_RAM_GB} GB RAM with {NODE_HEAP_GB} GB heap, the other {NODE_RAM_GB - NODE_HEAP_GB} GB caching "
          f"the index files, enough of them for the whole index to stay cached as here, at least {MIN_NODES}.\n")
    sizes = e["sizes"]
    print("| estimate | " + " | ".join(f"{int(n):,} replies" for n in sizes) + " |\n" + "|---" * (1 + len(sizes)) + "|")
    for label, key, fmt in (
        ("primary store, GB", "primary_gb", "{:,.0f}"),
        ("primary shards", "shards", "{:,}"),
        ("shard size, GB", "shard_gb", "{:.1f}"),
        ("replies per shard", "docs_per_shard", "{:,.0f}"),
        ("shard copies with 1 replica", "copies", "{:,}"),
        ("store with the replica, GB", "stored_gb", "{:,.0f}"),
        ("disk, GB", "disk_gb", "{:,.0f}"),
        ("data nodes", "nodes", "{:,}"),
        ("disk per node, GB", "disk_per_node_gb", "{:,.0f}"),
        (f"shard copies per node (at most {SHARDS_PER_HEAP_GB} per GB of heap)", "copies_per_node", "{:.1f}"),
        ("full build at the measured rate, hours", "build_h", "{:,.1f}"),
        (f"full build with {BUILD_PROCESSES_MAX} analysing processes, if linear, hours", "build_h_faster", "{:,.1f}"),
        ("Whoosh: one index folder, GB", "whoosh_gb", "{:,.0f}"),
        ("Whoosh: full build at its measured rate, hours", "whoosh_build_h", "{:,.1f}"),
    ):
        print(f"| {label} | " + " | ".join(fmt.format(s[key]) for s in sizes.values()) + " |")


if __name__ == "__main__":
    main()
