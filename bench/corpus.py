"""Text for benchmarks and recall checks: real official prose when it is there.

The shared corpus (``../shared/corpus/*.jsonl``: government work reports and party
congress reports, one JSON object per line with ``title`` and ``content``) is read when
that folder exists beside the checkout; otherwise the bundled sample archive is used, so
every check runs anywhere.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.model import Reply
from reply_archive.archive.store import iter_replies
from reply_archive.indexer.analysis import fold
from reply_archive.indexer.build import reply_to_doc
from reply_archive.indexer.schema import EXACT_FIELD

from .machine import describe_machine

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MIN_PARAGRAPH = 40  # shorter lines of the reports are headings and list stubs


def shared_documents() -> Iterator[dict]:
    """Yield the shared corpus's documents, if the folder exists."""
    for path in sorted(SHARED.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def paragraph_records() -> tuple[list[Reply], str]:
    """Return records to index and a description of where they came from.

    Each paragraph of the shared corpus becomes one record (title = its report's title),
    which gives thousands of reply-sized texts; without the corpus, the bundled replies.
    """
    records = []
    for doc in shared_documents():
        for idx, paragraph in enumerate(p.strip() for p in doc["content"].split("\n")):
            if len(paragraph) >= MIN_PARAGRAPH:
                key = hashlib.sha1(f"{doc['title']}|{idx}".encode()).hexdigest()[:16]
                records.append(Reply(id=key, title=doc["title"], body=paragraph))
    if records:
        chars = sum(len(r.body) for r in records)
        return records, f"shared corpus: {len(records)} paragraphs of {SHARED}, {chars:,} chars"
    return bundled_records(), "bundled sample archive (shared corpus not found)"


def bundled_records() -> list[Reply]:
    """Return the bundled seed and sample replies, parsed."""
    with tempfile.TemporaryDirectory() as tmp:
        ingest([data.path("seed")], Path(tmp))
        ingest([data.path("samples")], Path(tmp), sample=True)
        return list(iter_replies(Path(tmp)))


def searchable_text(reply: Reply) -> str:
    """Return what the exact field indexes for a reply, folded: a scan's haystack."""
    return fold(reply_to_doc(reply)[EXACT_FIELD])


def load() -> tuple[list[Reply], dict[str, str]]:
    """Load the benchmark records, print where they came from and on what machine, and
    return them with their searchable text by id."""
    records, origin = paragraph_records()
    print(f"corpus: {origin}")
    print(describe_machine())
    return records, {r.id: searchable_text(r) for r in records}
