"""The serving process of the benchmark suite: a fresh process holding only the app.

``bench/run.py`` starts it with the moment it did so and a file of queries. It creates
the web app, answers a first search (the cold start, imports included), waits for the
background warm-up of the index, runs every query of the file several times through
the search module (our match cache cleared before each) and the reply pages through
the app, reads its own peak memory, then adds one reply to the archive and times it
until a search finds it. It prints its figures as one line of JSON.

``python -m bench.serving ARCHIVE INDEX QUERIES.json STARTED RUNS``
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reply_archive.archive.store import find_reply, record_path, source_path
from reply_archive.indexer.search import ReplyIndex
from reply_archive.web import create_app, reply_index
from reply_archive.web.cli import cli

from .generate import reply_text

MB = 1_000_000
MARKER = "基准测试新增答复标记"  # a phrase only the added reply holds


def main(argv: list[str]) -> None:
    archive, index, queries, started, runs = Path(argv[0]), Path(argv[1]), Path(argv[2]), float(argv[3]), int(argv[4])
    app = create_app({"ARCHIVE_DIR": str(archive), "INDEX_DIR": str(index), "TESTING": True})
    client = app.test_client()
    with app.app_context():
        engine = reply_index()  # the app's own: queries timed here share its memory
    response = client.get("/api/search", query_string={"q": "答复", "per_page": 10})
    cold_start = time.time() - started
    if response.status_code != 200:
        raise SystemExit(f"first search failed: {response.status_code} {response.get_data(as_text=True)[:200]}")
    engine.warmed()  # the background warm-up that long exact phrases need
    warm = time.time() - started
    asked = json.loads(queries.read_text(encoding="utf-8"))

    def run(q: str) -> dict[str, float]:
        engine.forget_matches()  # matched from the index, not remembered
        results = engine.search(q, per_page=10)
        return {**results.took_ms, "matches": results.query.word_count}

    def page(reply: list[str]) -> dict[str, float]:
        return {"total": page_ms(client, f"/replies/{reply[0]}", {"q": reply[1]})}

    ours = {
        "words": timed_queries(asked["words"], run, runs),
        "exact": timed_queries(asked["quoted"], run, runs),
        "reply_page": timed_queries(asked["pages"], page, runs),
    }
    serving = {"peak_mb": status_kib("self", "VmHWM") * 1024 / MB, "rss_mb": status_kib("self", "VmRSS") * 1024 / MB}
    added = add_one(archive, index, engine, asked["paragraphs"], asked["serial"])
    print(json.dumps({"cold_start_s": cold_start, "warm_s": warm, "ours": ours, "serving": serving, "add_one": added}))


def timed_queries(queries: list, run: Callable[[Any], dict[str, float]], runs: int) -> list[dict[str, float]]:
    """Run each query ``runs`` times; return, per query, the median of each figure."""
    figures = []
    for query in queries:
        samples = [run(query) for _ in range(runs)]
        figures.append({key: statistics.median(s[key] for s in samples) for key in samples[0]})
    return figures


def page_ms(client, path: str, params: dict[str, str]) -> float:
    """Return the milliseconds a page takes to render (it must answer 200)."""
    started = time.perf_counter()
    response = client.get(path, query_string=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return elapsed


def status_kib(pid: int | str, key: str) -> int:
    """Return a ``/proc/<pid>/status`` memory figure in KiB (0 if unavailable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith(key + ":")), 0)
    except OSError:
        return 0


def add_one(archive: Path, index: Path, engine: ReplyIndex, paragraphs: list[str], serial: int) -> dict[str, float]:
    """Add one new reply to the archive and time it until a search finds it: ingest,
    incremental index, then this process's first search of the new generation. The
    reply is removed again afterwards, so the archive stays as generated."""
    text = reply_text(random.Random(serial), serial, paragraphs, (2000, 5000)).replace("此复。", f"{MARKER}。此复。")
    source = index.parent / "added" / f"synthetic-{serial:06d}.txt"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    cli.main(["ingest", "--sample", str(source), "--archive", str(archive)], standalone_mode=False)
    ingested = time.perf_counter()
    cli.main(["index", "--archive", str(archive), "--index", str(index)], standalone_mode=False)
    indexed = time.perf_counter()
    found = engine.search(f'"{MARKER}"')
    searched = time.perf_counter()
    if found.total != 1:
        raise SystemExit(f"the added reply was not found ({found.total} hits)")
    reply = find_reply(archive, found.hits[0].id)
    for path in (record_path(archive, reply.id), source_path(archive, reply)):
        if path is not None:
            path.unlink()
    cli.main(["index", "--archive", str(archive), "--index", str(index)], standalone_mode=False)
    return {"ingest_s": ingested - started, "index_s": indexed - ingested, "search_s": searched - indexed,
            "total_s": searched - started}


if __name__ == "__main__":
    main(sys.argv[1:])
