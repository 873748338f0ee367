"""Analysis: word positions are ordinals, offsets are true, n-grams see folded text."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from reply_archive.archive.clean import to_simplified
from reply_archive.indexer.analysis import (
    _FOLD,
    fold,
    fold_with_offsets,
    ngram_analyzer,
    segment,
    segmenter,
    word_analyzer,
)


def tokens(analyzer, text, **kw):
    return [(t.text, t.pos, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True, **kw)]


def test_query_mode_gives_precise_words_at_ordinal_positions():
    text = "我部作为主办单位，结合会办单位意见"
    got = tokens(word_analyzer(), text, mode="query")
    assert [t[1] for t in got] == list(range(len(got)))
    for word, _, start, end in got:
        assert text[start:end].lower() == word
    assert ("主办单位", 2, 4, 8) in got and ("会办单位", 4, 11, 15) in got  # domain dictionary


def test_index_mode_stacks_sub_words_at_their_word_position():
    got = tokens(word_analyzer(), "粤港澳大湾区建设")
    positions = {word: pos for word, pos, _, _ in got}
    assert positions["粤港澳大湾区"] == positions["大湾区"] == positions["港澳"] == 0
    assert positions["建设"] == 1
    for word, _, start, end in got:
        assert "粤港澳大湾区建设"[start:end] == word


def test_repeated_words_get_their_own_offsets():
    got = tokens(word_analyzer(), "统战部与统战部", mode="query")
    assert [(w, p, s) for w, p, s, _ in got if w == "统战部"] == [("统战部", 0, 0), ("统战部", 2, 4)]


def test_punctuation_and_spaces_are_not_tokens():
    assert [t[0] for t in tokens(word_analyzer(), "“e站通”， 深港！", mode="query")] == ["e站通", "深港"]


def test_bigrams_overlap_at_character_positions_of_the_folded_text():
    got = tokens(ngram_analyzer(2), "e 站通")
    assert [(t, p) for t, p, _, _ in got] == [("e站", 0), ("站通", 1)]


def test_ngrams_never_span_the_document_separator():
    assert [t[0] for t in tokens(ngram_analyzer(2), "标题\x1f正文")] == ["标题", "正文"]


def test_fold_removes_spaces_and_unifies_widths_and_case():
    assert fold("Ｅ 站通 ２０２２ 年\u3000ABC") == "e站通2022年abc"
    assert fold("二○二二年") == fold("二零二二年") == "二〇二二年"
    assert fold("建议，我部（深圳）。") == "建议,我部(深圳)。"  # a query typed either way matches


def test_fold_with_offsets_maps_back_to_the_original():
    text = "e 站通 2022 年"
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text)
    assert all(fold(text[offsets[i]]) == folded[i] for i in range(len(folded)))


def test_analyzers_pickle_for_the_index_schema():
    for analyzer in (word_analyzer(), ngram_analyzer(1), ngram_analyzer(2)):
        assert tokens(pickle.loads(pickle.dumps(analyzer)), "深港共融") == tokens(analyzer, "深港共融")


def test_segment_uses_the_domain_dictionary():
    assert "会办单位" in [w for w, _, _ in segment("现结合实际工作情况及会办单位意见")]


def test_traditional_characters_fold_to_simplified_keeping_offsets():
    assert fold("粵港澳大灣區") == "粤港澳大湾区"
    folded, offsets = fold_with_offsets("頭髮 發展")
    assert folded == "头发发展" and offsets == [0, 1, 3, 4]
    assert [w for w, _, _ in segment("粵港澳大灣區發展")] == ["粤港澳大湾区", "发展"]


def test_dictionary_words_of_any_length_inside_longer_words_are_indexed():
    # 家庭医生签约 is one dictionary word; jieba's search mode would stop at 3 characters.
    got = {t[0] for t in tokens(word_analyzer(), "推进家庭医生签约服务")}
    assert {"家庭医生签约", "家庭医生", "签约"} <= got


@given(st.text(alphabet=st.sampled_from(
    [chr(c) for c in (*_FOLD, *range(0x4E00, 0x4E40), *range(0x20, 0x7F), 0x7E41, 0x9AD4)]), max_size=60))
@settings(max_examples=300)
def test_folding_replaces_exactly_what_the_fold_table_maps(text):
    # fold() finds the characters to fold with a regex; the table is the definition.
    assert fold(text) == to_simplified(text).translate(_FOLD)
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text) and len(offsets) == len(folded)


def _tokenized(text):
    return [t for t in segmenter().tokenize(to_simplified(text)) if any(ch.isalnum() for ch in t[0])]


def test_segmenting_clause_by_clause_gives_jiebas_words_of_the_whole_text(replies):
    for reply in replies:
        for text in (reply.title, reply.body, "\n".join(s.heading_line for s in reply.sections)):
            assert segment(text) == _tokenized(text), reply.id


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="深港合作发展养老服务2023年-_.%+#&，。 \nabcAB", max_size=60))
def test_segmenting_clause_by_clause_agrees_on_any_text(text):
    assert segment(text) == _tokenized(text)
