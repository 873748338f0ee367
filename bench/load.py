"""Load test: concurrent clients against the production server, on 127.0.0.1 only.

Builds (once, then reuses) an archive of generated replies and its index under
``var/load``, starts gunicorn as ``make serve-prod`` does on a free loopback port, runs
N clients for S seconds with a mix of requests (word searches, exact phrases, facet
filters, reply pages, statistics, exports), stops the server and prints the requests,
errors and latency per kind. Exits 1 on any error. Every loop is bounded in time.

``python -m bench.load [--replies 10000] [--clients 16] [--seconds 60]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from reply_archive.web.cli import cli

from .generate import SUBJECTS, generate
from .machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("收悉", "答复", "加强", "服务", "养老", "教育", "深港", "营商环境", "乡村振兴", "社区", "资金", "试点")
PHRASES = ("现答复如下", "此复", "认真研究", "下一步", "会办单位", "主办单位", "感谢您", "拟于2025年")


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(replies: int, root: Path) -> tuple[Path, Path]:
    """Generate the archive (unless it is there) and build its index; return both."""
    archive, index = root / "archive", root / "index"
    present = sum(1 for _ in archive.glob("*.md")) if archive.is_dir() else 0
    if present < replies:
        started = time.perf_counter()
        generate(replies, archive, size=(2000, 5000))
        print(f"generated {replies} replies in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    cli.main(["index", "--archive", str(archive), "--index", str(index)], standalone_mode=False)
    print(f"index ready in {time.perf_counter() - started:.0f} s")
    return archive, index


def request_mix(rng: random.Random, ids: list[str]) -> tuple[str, str]:
    """Return one request ``(kind, path)`` of the mix users send."""
    kind = rng.choices(("words", "exact", "facets", "reply", "stats", "export"), weights=(35, 25, 20, 12, 5, 3))[0]
    if kind == "words":
        query = " ".join(rng.sample(WORDS, k=rng.choice((1, 2))))
        return kind, "/search?" + urlencode({"q": query})
    if kind == "exact":
        return kind, "/api/search?" + urlencode({"q": f'"{rng.choice(PHRASES + SUBJECTS)}"'})
    if kind == "facets":
        params = [
            ("q", rng.choice(WORDS)),
            ("year", str(rng.randint(2015, 2024))),
            ("sort", rng.choice(("newest", "relevance"))),
        ]
        return kind, "/search?" + urlencode(params)
    if kind == "reply":
        return kind, f"/replies/{rng.choice(ids)}?q={quote(rng.choice(WORDS))}"
    if kind == "stats":
        return kind, "/stats?" + urlencode({"q": rng.choice(WORDS)})
    return kind, "/api/export?" + urlencode(
        {"q": f'"{rng.choice(SUBJECTS)}"', "year": str(rng.randint(2015, 2024)), "format": "csv"}
    )


def client(port: int, deadline: float, seed: int, ids: list[str], results: list) -> None:
    """Send requests on one keep-alive connection until the deadline."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < deadline:
        kind, path = request_mix(rng, ids)
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = f"{type(exc).__name__}: {exc}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results.append((kind, status, (time.perf_counter() - started) * 1000))
    conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "load")
    args = parser.parse_args(argv)
    print(describe_machine())
    archive, index = prepare(args.replies, args.root)
    port = free_port()
    env = {**os.environ, "REPLY_ARCHIVE_DIR": str(archive), "REPLY_ARCHIVE_INDEX": str(index)}
    gunicorn = [sys.executable, "-m", "gunicorn", "--preload", "--workers", str(args.workers),
                "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "reply_archive.web.wsgi:app"]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ids = wait_ready(port)
        results: list = []
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client, args=(port, deadline, seed, ids, results)) for seed in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    report(results, args)


def wait_ready(port: int, seconds: float = 120) -> list[str]:
    """Wait until the server answers (every worker warms on its first requests); return reply ids."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/search?per_page=100&sort=newest")
            body = json.loads(conn.getresponse().read())
            conn.close()
            return [hit["id"] for hit in body["hits"]]
        except (OSError, http.client.HTTPException, ValueError):
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer on 127.0.0.1:{port} within {seconds:.0f} s")


def report(results: list, args) -> None:
    """Print requests, errors and latency per kind; exit 1 on any error."""
    errors = [r for r in results if r[1] != 200]
    print(f"{len(results)} requests in {args.seconds:.0f} s from {args.clients} clients "
          f"({len(results) / args.seconds:.0f} req/s), {args.workers} workers x {args.threads} threads, "
          f"{args.replies} replies; errors: {len(errors)}")
    for kind in sorted({r[0] for r in results}):
        times = sorted(r[2] for r in results if r[0] == kind)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        print(f"  {kind:7s} n={len(times):5d}  p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms")
    all_times = [r[2] for r in results]
    if len(all_times) > 1:
        print(f"  {'all':7s} n={len(all_times):5d}  p50 {statistics.median(all_times):7.1f} ms  "
              f"p95 {statistics.quantiles(all_times, n=20)[-1]:7.1f} ms")
    for kind, status, _ in errors[:10]:
        print(f"  error: {kind}: {status}")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
