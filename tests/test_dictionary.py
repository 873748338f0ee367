"""A changed domain dictionary: which words it changes, and an index that re-analyses
only the records holding them, ending as a rebuild would."""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest
from whoosh import index as whoosh_index

from reply_archive import data
from reply_archive.archive.ingest import ingest
from reply_archive.archive.store import iter_records
from reply_archive.indexer import build, sync
from reply_archive.indexer.analysis import changed_words, mentions_any, segment, user_dictionary
from reply_archive.indexer.build import current_generation, word_texts
from reply_archive.indexer.schema import WORD_TEXT_FIELDS
from reply_archive.indexer.sync import check_index, refresh_index

DICTIONARY = user_dictionary()
# Words of the sample replies that the dictionary does not hold: each in a few of them.
NEW_WORDS = ("老旧小区改造", "课后托管服务", "黑臭水体治理")


@pytest.fixture
def archive(tmp_path) -> Path:
    root = tmp_path / "archive"
    assert ingest([data.path("seed")], root).ok
    assert ingest([data.path("samples")], root, sample=True).ok
    return root


def _mentioning(archive: Path, words: tuple[str, ...]) -> set[str]:
    """The ids of the records whose word fields hold one of ``words``, by plain search."""
    return {
        reply.id for _, reply in iter_records(archive)
        if any(word in text for word in words for text in word_texts(reply).values())
    }


def _contents(index: Path) -> dict:
    """Every live document's postings in the word fields (reply id, frequency, field
    length, and the body's positions), by term: what a search reads."""
    ix = whoosh_index.open_dir(str(current_generation(index)))
    found: dict = {}
    with ix.reader() as reader:
        ids = {docnum: fields["id"] for docnum, fields in reader.iter_docs()}
        for name in WORD_TEXT_FIELDS:
            for term in reader.lexicon(name):
                postings = reader.postings(name, term)
                while postings.is_active():
                    docnum = postings.id()
                    positions = tuple(postings.value_as("positions")) if name == "body" else None
                    found.setdefault((name, term.decode("utf-8")), set()).add(
                        (ids[docnum], postings.weight(), reader.doc_field_length(docnum, name), positions)
                    )
                    postings.next()
    ix.close()
    return found


def test_an_added_word_is_the_only_word_changed():
    assert changed_words(DICTIONARY, DICTIONARY) == set()
    assert changed_words(DICTIONARY, DICTIONARY + "\n老旧小区改造\n") == {"老旧小区改造"}
    assert changed_words(DICTIONARY + "\n老旧小区改造\n", DICTIONARY) == {"老旧小区改造"}


def test_a_word_already_held_with_its_count_changes_nothing():
    word = next(line for line in DICTIONARY.splitlines() if line.strip())
    assert changed_words(DICTIONARY, f"{word}\n{DICTIONARY}") == set()


def test_removing_a_word_changes_the_words_its_count_was_suggested_from():
    # 粤港澳大湾区 comes after 大湾区: its count is suggested from how 大湾区 cuts it.
    assert "粤港澳大湾区" in DICTIONARY and "\n大湾区\n" in DICTIONARY
    changed = changed_words(DICTIONARY, DICTIONARY.replace("\n大湾区\n", "\n"))
    assert "大湾区" in changed and changed <= {w for w in DICTIONARY.split() if "大湾区" in w} | {"大湾区"}


def test_a_word_forced_apart_is_changed_and_leaves_jieba_as_it_was():
    forced = set(jieba.finalseg.Force_Split_Words)
    assert changed_words(DICTIONARY, DICTIONARY + "\n居民区 0\n") == {"居民区"}
    assert jieba.finalseg.Force_Split_Words == forced


def test_text_without_a_changed_word_is_segmented_alike(use_dictionary):
    # jieba's own loading weighs each user word into the total of every probability:
    # these phrases, which hold no word of the domain dictionary, would come out as
    # 不安宁 and 技术成果 with it and 不 安宁, 技术 成果 without.
    text = "夜间施工噪音使周边居民不安宁。推动技术成果转化。"
    assert not mentions_any(changed_words("", DICTIONARY))(text)
    use_dictionary("")
    before = segment(text)
    use_dictionary(DICTIONARY)
    assert segment(text) == before


def test_a_changed_dictionary_reanalyses_only_the_records_holding_its_words(archive, tmp_path, use_dictionary):
    index, rebuilt = tmp_path / "index", tmp_path / "rebuilt"
    assert refresh_index(archive, index).mode == "rebuilt"
    expected = _mentioning(archive, NEW_WORDS)
    records = len(list(archive.glob("*.md")))
    assert 0 < len(expected) <= records * sync.REANALYSE_AT_MOST
    use_dictionary(DICTIONARY + "\n" + "\n".join(NEW_WORDS) + "\n")
    assert check_index(archive, index).stale

    run = refresh_index(archive, index)
    assert (run.mode, run.indexed, run.reanalysed, run.removed) == ("updated", len(expected), len(expected), 0)
    assert f"({len(expected)} for {len(NEW_WORDS)} changed dictionary words)" in run.describe(index)
    assert not check_index(archive, index).stale
    assert refresh_index(archive, index).mode == "up to date"
    assert refresh_index(archive, rebuilt).mode == "rebuilt"
    assert _contents(index) == _contents(rebuilt)
    assert any(term in {w.lower() for w in NEW_WORDS} for _, term in _contents(index))


def test_a_dictionary_change_that_no_record_holds_keeps_every_document(archive, tmp_path, use_dictionary):
    index = tmp_path / "index"
    refresh_index(archive, index)
    generation = current_generation(index)
    use_dictionary(DICTIONARY + "\n量子纠缠态\n")
    run = refresh_index(archive, index)
    assert (run.mode, run.indexed) == ("updated", 0)
    assert "0 added or changed (0 for 1 changed dictionary word)" in run.describe(index)
    assert current_generation(index) != generation and not check_index(archive, index).stale


def test_a_change_holding_most_records_rebuilds(archive, tmp_path, use_dictionary, monkeypatch):
    index = tmp_path / "index"
    refresh_index(archive, index)
    monkeypatch.setattr(sync, "REANALYSE_AT_MOST", 0.05)
    use_dictionary(DICTIONARY + "\n" + "\n".join(NEW_WORDS) + "\n")
    assert refresh_index(archive, index).mode == "rebuilt"


def test_an_index_whose_build_kept_no_dictionary_is_rebuilt(archive, tmp_path):
    index = tmp_path / "index"
    refresh_index(archive, index)
    info = current_generation(index) / "build.json"
    info.write_text(info.read_text().replace('"dictionary"', '"other"'))
    assert refresh_index(archive, index).mode == "rebuilt"


def test_a_large_update_is_written_as_array_segments_and_ends_as_a_rebuild(archive, tmp_path, monkeypatch):
    index, rebuilt = tmp_path / "index", tmp_path / "rebuilt"
    refresh_index(archive, index)
    monkeypatch.setattr(build, "ARRAY_UPDATE_FROM", 3)
    writers = []
    real = build.SegmentedWriter
    monkeypatch.setattr(build, "SegmentedWriter", lambda *a, **k: writers.append(1) or real(*a, **k))
    for path in sorted(archive.glob("*.md"))[:5]:
        path.write_text(path.read_text(encoding="utf-8") + "\n新增一段：黑臭水体治理。\n", encoding="utf-8")
    gone = sorted(archive.glob("*.md"))[-1]
    gone_id = next(reply.id for _, reply in iter_records(archive, [gone.name]))
    gone.unlink()
    run = refresh_index(archive, index)
    assert (run.mode, run.indexed, run.removed, writers) == ("updated", 5, 1, [1])
    refresh_index(archive, rebuilt)
    contents = _contents(index)
    assert contents == _contents(rebuilt)
    assert ("body", "黑臭水体治理") in contents or ("body", "治理") in contents
    assert all(reply_id != gone_id for postings in contents.values() for reply_id, *_ in postings)
