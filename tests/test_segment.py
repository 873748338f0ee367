"""The array segment writer writes what Whoosh's writer writes for the same documents."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions

from reply_archive.indexer import segment
from reply_archive.indexer.analysis import SEPARATOR, NgramTokenizer, fold, word_analyzer
from reply_archive.indexer.build import build_index, reply_to_doc
from reply_archive.indexer.codec import ReplyCodec, position_gaps
from reply_archive.indexer.schema import build_schema
from reply_archive.indexer.segment import ArrayWriter, SegmentedWriter, gram_codes, gram_text
from tests.conftest import open_index


def _write(folder: Path, schema: Schema, docs: list[dict], writer: str, procs: int = 1) -> dict[str, bytes]:
    """Write ``docs`` into a new index in ``folder`` with Whoosh's writer or the array
    writer; return its terms and postings files' contents by extension."""
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), schema)
    if writer == "whoosh":
        w = ix.writer(compound=False, codec=ReplyCodec())
    else:
        w = ArrayWriter(ix, compound=False, procs=procs)
    with w:
        for doc in docs:
            w.add_document(**doc)
    return {path.suffix: path.read_bytes() for path in folder.iterdir() if path.suffix in (".trm", ".pst")}


def _per_document(folder: Path) -> list:
    """Return what an index holds per document: stored fields, field lengths, columns."""
    with FileStorage(str(folder)).open_index().reader() as reader:
        docs = range(reader.doc_count_all())
        names = reader.schema.names()
        columns = [list(reader.column_reader(n)) for n in names if reader.has_column(n)]
        lengths = [[reader.doc_field_length(d, n) for d in docs] for n in names]
        return [[reader.stored_fields(d) for d in docs], lengths, columns]


def _same_segments(tmp_path: Path, schema: Schema, docs: list[dict], procs: int = 1) -> None:
    whoosh = _write(tmp_path / "whoosh", schema, docs, "whoosh")
    arrays = _write(tmp_path / "arrays", schema, docs, "arrays", procs)
    assert set(whoosh) == {".trm", ".pst"}
    for ext, data in whoosh.items():
        assert arrays[ext] == data, ext  # every term's info and postings, byte for byte
    # The per-document file is Whoosh's own writer's; its layout may differ, not its content.
    assert _per_document(tmp_path / "arrays") == _per_document(tmp_path / "whoosh")


def test_the_sample_archive_is_written_byte_for_byte_as_whoosh_writes_it(tmp_path, replies):
    _same_segments(tmp_path, build_schema(), [reply_to_doc(r) for r in replies])


def test_parallel_workers_write_the_same_segment(tmp_path, replies):
    _same_segments(tmp_path, build_schema(), [reply_to_doc(r) for r in replies], procs=2)


def _edge_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        kept=STORED,
        tags=KEYWORD(commas=True, scorable=False),
        counted=KEYWORD(commas=True, scorable=True),
        words=TEXT(analyzer=word_analyzer(), stored=True, field_boost=2.5),
        precise=TEXT(analyzer=word_analyzer(subwords=False), phrase=False),
        grams=TEXT(analyzer=NgramTokenizer(2), phrase=False, field_boost=3.0),
        chars=TEXT(analyzer=NgramTokenizer(1), phrase=False),
    )


def _edge_docs(count: int) -> list[dict]:
    """Documents that reach the writer's edges: terms in more than one block of
    postings (Whoosh's blocks hold 128), in every document or one, repeated within a
    document; separators, astral and full-width characters; empty and missing fields."""
    rng = random.Random(7)
    words = ["养老服务", "社区", "补贴", "运营", "家庭医生签约", "ＡＢＣ", "𠀀𠀁", "一", "老年人", "2023"]
    docs = []
    for i in range(count):
        text = "".join(rng.choice(words) + rng.choice("，。 ") for _ in range(rng.randint(0, 40)))
        doc = {
            "id": f"d{i:04d}",
            "kept": {"n": i},
            "tags": ",".join(rng.sample(["甲", "乙", "丙"], rng.randint(0, 3))),
            "counted": "共同,共同,单独" if i % 3 else "",
            "words": text,
            "precise": text[: rng.randint(0, len(text) + 1)],
            "grams": f"{text}{SEPARATOR}第{i}号{SEPARATOR}",
            "chars": text,
        }
        if i % 7 == 0:
            del doc["precise"]
        if i == 5:
            doc = {"id": "d-empty"}
        docs.append(doc)
    return docs


@pytest.mark.parametrize("count", [1, 127, 300])
def test_block_edges_and_odd_fields_are_written_as_whoosh_writes_them(tmp_path, count):
    _same_segments(tmp_path, _edge_schema(), _edge_docs(count))


@pytest.mark.parametrize("procs", [2, 3])
def test_blocks_encoded_by_several_processes_are_written_as_whoosh_writes_them(tmp_path, monkeypatch, procs):
    # Every field is cut into runs of terms encoded in forked processes, whose bytes
    # and term offsets the writer joins.
    monkeypatch.setattr(segment, "PARALLEL_POSTINGS", 0)
    encoded = segment._encoded
    runs: list[int] = []
    monkeypatch.setattr(segment, "_encoded", lambda blocks, cut: runs.append(len(cut)) or encoded(blocks, cut))
    _same_segments(tmp_path, _edge_schema(), _edge_docs(300), procs=procs)
    assert max(runs) == procs  # the fields were cut into runs, encoded elsewhere


def test_gram_codes_order_as_the_grams_do_and_skip_separators():
    text = f"Ａ老 𠀀{SEPARATOR}年人"
    folded = fold(text)
    grams = [folded[i : i + 2] for i in range(len(folded) - 1) if SEPARATOR not in folded[i : i + 2]]
    codes = gram_codes(text, 2).tolist()
    assert [gram_text(c, 2) for c in codes] == grams
    assert sorted(codes) == [c for _, c in sorted(zip((g.encode() for g in grams), codes, strict=True))]
    assert gram_codes("", 2).size == 0 and gram_codes("老", 2).size == 0


def test_a_failing_worker_fails_the_build_and_leaves_no_process(tmp_path, replies):
    docs = [reply_to_doc(r) for r in replies]
    docs[len(docs) // 2]["title"] = 12345  # not text: Whoosh's field refuses it
    before = set(multiprocessing.active_children())
    with pytest.raises(ValueError, match="not unicode"):
        build_index_from_docs(tmp_path, docs)
    assert set(multiprocessing.active_children()) == before


def build_index_from_docs(folder: Path, docs: list[dict]) -> None:
    ix = whoosh_index.create_in(str(folder), build_schema())
    with ArrayWriter(ix, procs=2, batchsize=2) as writer:
        for doc in docs:
            writer.add_document(**doc)


def test_a_built_index_answers_as_before(tmp_path, replies):
    build_index(replies, tmp_path, procs=2)
    assert open_index(tmp_path).search("").total == len(replies)
    assert open_index(tmp_path).search('"现答复如下"').total > 0


def test_a_segment_is_written_beside_the_index_s_others_never_merging_them(tmp_path, replies):
    docs = [reply_to_doc(r) for r in replies]
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    for part in (docs[:3], docs[3:]):
        with ArrayWriter(ix) as writer:
            for doc in part:
                writer.add_document(**doc)
    with ix.searcher() as searcher:
        assert len(list(searcher.leaf_searchers())) == 2
        assert {stored["id"] for stored in searcher.all_stored_fields()} == {d["id"] for d in docs}


def test_a_segmented_writer_starts_a_segment_once_one_holds_enough_postings(tmp_path, replies):
    docs = [reply_to_doc(r) for r in replies]
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one, many = (whoosh_index.create_in(str(tmp_path / name), build_schema()) for name in ("one", "many"))
    for ix, bound in ((one, 10**9), (many, 8_000)):
        with SegmentedWriter(ix, max_postings=bound) as writer:
            for doc in docs:
                writer.add_document(**doc)
    with one.searcher() as a, many.searcher() as b:
        assert len(list(a.leaf_searchers())) == 1 and len(list(b.leaf_searchers())) > 2
        for field, text in (("body", "养老"), ("exact", "答复"), ("department", docs[0]["department"])):
            found = [{s.stored_fields(d)["id"] for d in s.document_numbers(**{field: text})} for s in (a, b)]
            assert found[0] == found[1] and found[0], (field, text)


def test_the_segments_of_a_parallel_build_share_one_pool_of_workers(tmp_path, monkeypatch):
    pools = []
    start_pool = segment.analysis_pool
    monkeypatch.setattr(segment, "analysis_pool", lambda *args: pools.append(start_pool(*args)) or pools[-1])
    docs = _edge_docs(300)
    ix = whoosh_index.create_in(str(tmp_path), _edge_schema())
    with SegmentedWriter(ix, procs=2, max_postings=2_000) as writer:
        for doc in docs:
            writer.add_document(**doc)
    with ix.searcher() as searcher:
        assert len(list(searcher.leaf_searchers())) > 2
        assert sorted(f["id"] for f in searcher.all_stored_fields()) == sorted(d["id"] for d in docs)
    assert len(pools) == 1  # the workers, and their caches, serve every segment
    assert pools[0]._state != multiprocessing.pool.RUN  # and are stopped with the build


def test_each_terms_positions_become_the_gaps_the_codec_stores():
    poslists = [[0], [3], [], [0, 1, 2], [5, 9, 200, 70000], list(range(0, 3000, 7))]
    data, counts = segment._gaps(poslists)
    gaps = np.frombuffer(data, dtype=np.int32).tolist()
    ends = np.cumsum(counts).tolist()
    held = [tuple(gaps[a:b]) for a, b in zip([0, *ends], ends, strict=False)]
    assert held == [position_gaps(Positions().encode(p)) for p in poslists]
