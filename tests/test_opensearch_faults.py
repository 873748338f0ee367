"""A node of the cluster dies: every query is answered as before, and writes go on.

On the three-node cluster (2 primaries, 1 replica each), searches run in a loop while
the node holding a primary shard is killed (SIGKILL: a crash), then while the elected
cluster manager is; an update is made while a node is down. Every answer must equal the
answer before the kill (retries are allowed, a partial answer never is), and what was
written while degraded must survive the restart.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from bench.generate import generate
from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import iter_records, iter_replies
from reply_archive.indexer.search import ReplyIndex
from reply_archive.indexer.settings import Settings
from reply_archive.indexer.sync import refresh_index

from .opensearch_cluster import Cluster

pytestmark = pytest.mark.opensearch

QUERIES = (
    ("", {}),
    ("养老", {}),
    ('"现答复如下"', {}),
    ("教育 OR 医疗", {"year": ["2015-2024"]}),
    ('"养老 服务"~5', {}),
    ("-服务", {"result": ["A"]}),
)
Answer = tuple[int, frozenset[str], tuple]


def answer(index: ReplyIndex, q: str, filters: dict) -> Answer:
    """Return what a search answers: its total, every hit's id and every facet's counts."""
    results = index.search(q, filters=filters, per_page=5)
    ids = frozenset(hit.id for hit in index.export(q, filters=filters))
    facets = tuple((f.name, tuple((v.value, v.count) for v in f.values)) for f in results.facets)
    return results.total, ids, facets


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults-archive")
    assert ingest([data.path("seed")], root).ok
    assert ingest([data.path("samples")], root, sample=True).ok
    generate(120, root, seed=7, size=(600, 1200))
    return root


@pytest.fixture(scope="module")
def settings(opensearch_cluster: Cluster) -> Settings:
    # A generous deadline: a query may wait out a failover, retrying, but never answer part.
    return Settings(
        backend="opensearch", opensearch_url=",".join(opensearch_cluster.urls), opensearch_prefix="faults",
        opensearch_shards=2, opensearch_replicas=1, query_seconds=60,
    )


class Loop:
    """Searches in a thread, each compared with its expected answer, until stopped."""

    def __init__(self, index: ReplyIndex, expected: dict[int, Answer]) -> None:
        self.index = index
        self.expected = expected
        self.answers = 0
        self.wrong: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for n, (q, filters) in enumerate(QUERIES):
                try:
                    got = answer(self.index, q, filters)
                except Exception as exc:  # noqa: BLE001 - any failure to answer is what this test counts
                    self.wrong.append(f"{q!r}: {type(exc).__name__}: {exc}")
                    continue
                if got != self.expected[n]:
                    self.wrong.append(f"{q!r} {filters}: {got[0]} hits, expected {self.expected[n][0]}")
                self.answers += 1

    def __enter__(self) -> Loop:
        self._thread.start()
        return self

    def wait_for(self, answers: int, timeout: float = 180) -> None:
        """Wait until the loop has given ``answers`` more answers."""
        target = self.answers + answers
        deadline = time.monotonic() + timeout
        while self.answers < target and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.1)
        assert self.answers >= target, f"only {self.answers} answers; failures: {self.wrong[:3]}"

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)


def test_a_killed_node_changes_no_answer_and_degraded_writes_survive(
    opensearch_cluster: Cluster, archive: Path, settings: Settings, tmp_path: Path
) -> None:
    lock = tmp_path / "lock"
    assert refresh_index(archive, lock, settings=settings, rebuild=True).mode == "rebuilt"
    index = ReplyIndex(lock, settings)
    records = len(list(iter_replies(archive)))
    expected = {n: answer(index, q, f) for n, (q, f) in enumerate(QUERIES)}
    assert expected[0][0] == records  # the empty query selects the whole archive

    # 1. The node holding a primary dies under the searches.
    victim = opensearch_cluster.primary_holder(index.generation_id())
    with Loop(index, expected) as loop:
        loop.wait_for(len(QUERIES))
        opensearch_cluster.kill(victim)
        loop.wait_for(3 * len(QUERIES))
    assert not loop.wrong, loop.wrong[:5]

    # 2. Writes go on while it is down: an update adds one reply and removes another.
    added = tmp_path / "added"
    generate(1, added, seed=99, size=(600, 800))
    (name, new_reply), = iter_records(added)
    shutil.copy(added / name, archive / "added-while-degraded.md")
    removed, removed_reply = next((n, r) for n, r in iter_records(archive) if "synthetic-" in r.source.file)
    (archive / removed).unlink()
    run = refresh_index(archive, lock, settings=settings)
    assert (run.mode, run.indexed, run.removed) == ("updated", 1, 1)
    ids = index.ids()
    assert new_reply.id in ids and removed_reply.id not in ids and len(ids) == records

    # 3. It comes back; then the elected cluster manager dies under the searches.
    opensearch_cluster.restart(victim)
    opensearch_cluster.wait_for("green")
    expected = {n: answer(index, q, f) for n, (q, f) in enumerate(QUERIES)}
    manager = opensearch_cluster.cluster_manager()
    with Loop(index, expected) as loop:
        loop.wait_for(len(QUERIES))
        opensearch_cluster.kill(manager)
        loop.wait_for(3 * len(QUERIES))
    assert not loop.wrong, loop.wrong[:5]
    opensearch_cluster.restart(manager)
    opensearch_cluster.wait_for("green")

    # 4. What was written while degraded is still there, and the count is the archive's.
    ids = index.ids()
    assert new_reply.id in ids and removed_reply.id not in ids
    assert index.search("").total == len(list(iter_replies(archive))) == records
    index.close()
