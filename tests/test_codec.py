"""The index's codec: positions stored as gap tuples, read back as Whoosh's values."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, TEXT, Schema
from whoosh.formats import Positions
from whoosh.query import Every, Phrase, Term

from reply_archive.indexer.analysis import word_analyzer
from reply_archive.indexer.codec import ReplyCodec, position_gaps, positions_value
from reply_archive.indexer.segment import ArrayWriter

WORDS = ["养老服务", "社区", "补贴", "运营", "家庭医生", "签约", "老年人", "食堂", "下一步", "我们将"]


@pytest.mark.parametrize("poslist", [[0], [3], [0, 1, 2], [5, 9, 200, 70000], list(range(0, 3000, 7))])
def test_gaps_give_back_the_value_positions_encodes(poslist):
    value = Positions().encode(poslist)
    assert positions_value(position_gaps(value)) == value
    assert Positions().decode_positions(positions_value(position_gaps(value))) == poslist


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(analyzer=word_analyzer()))


def _docs(count: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"id": f"d{i:03d}", "body": "，".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))}
        for i in range(count)
    ]


def _index(folder: Path, docs: list[dict], writer: str) -> whoosh_index.Index:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), _schema())
    if writer == "w3":
        w = ix.writer(codec=W3Codec())
    elif writer == "ours":
        w = ix.writer(codec=ReplyCodec())
    else:
        w = ArrayWriter(ix)
    with w:
        for doc in docs:
            w.add_document(**doc)
    return ix


def _positions(ix: whoosh_index.Index) -> dict[tuple[str, str], list[int]]:
    """Return each (word, document id)'s positions, read through Whoosh's matchers."""
    held = {}
    with ix.searcher() as searcher:
        for word in WORDS:
            matcher = Term("body", word).matcher(searcher)
            while matcher.is_active():
                held[word, searcher.stored_fields(matcher.id())["id"]] = matcher.value_as("positions")
                matcher.next()
    return held


def _phrases(ix: whoosh_index.Index) -> list[list[str]]:
    with ix.searcher() as searcher:
        return [
            sorted(hit["id"] for hit in searcher.search(Phrase("body", words, slop=slop), limit=None))
            for words, slop in ((["家庭医生", "签约"], 1), (["我们将", "下一步"], 3), (["社区", "食堂", "补贴"], 2))
        ]


@pytest.mark.parametrize("writer", ["ours", "arrays"])
def test_positions_read_back_as_whoosh_writes_them_in_half_the_space(tmp_path, writer):
    docs = _docs(300)
    whoosh, ours = _index(tmp_path / "w3", docs, "w3"), _index(tmp_path / "ours", docs, writer)
    assert _positions(ours) == _positions(whoosh)
    assert _phrases(ours) == _phrases(whoosh)
    assert any(_phrases(whoosh))

    def postings_bytes(folder: Path) -> int:
        return sum(p.stat().st_size for p in folder.glob("*.seg"))

    assert postings_bytes(tmp_path / "ours") < 0.8 * postings_bytes(tmp_path / "w3")


def test_segments_of_both_codecs_merge_with_their_positions(tmp_path):
    """An update merges segments through Whoosh's writer: values it reads from one
    segment are written into the next, whichever codec wrote them."""
    docs = _docs(120)
    reference = _index(tmp_path / "reference", docs, "w3")
    ix = _index(tmp_path / "mixed", docs[:40], "arrays")
    with ix.writer(codec=W3Codec()) as w:
        for doc in docs[40:80]:
            w.add_document(**doc)
    with ix.writer(codec=ReplyCodec()) as w:
        for doc in docs[80:]:
            w.add_document(**doc)
    assert len(ix._segments()) == 3
    assert _positions(ix) == _positions(reference)
    with ix.writer(codec=ReplyCodec()) as w:
        w.delete_by_term("id", "d007")
        w.optimize = True
    assert len(ix._segments()) == 1
    expected = {key: at for key, at in _positions(reference).items() if key[1] != "d007"}
    assert _positions(ix) == expected
    assert _phrases(ix) == [[d for d in ids if d != "d007"] for ids in _phrases(reference)]
    with ix.searcher() as searcher:
        assert len(list(Every().matcher(searcher).all_ids())) == 119
