"""One sentence for every reader of the text: commitments, snippets, same-sentence search."""

from __future__ import annotations

import pytest

from reply_archive.archive.model import Reply
from reply_archive.archive.text import sentence_spans, sentences
from reply_archive.indexer.highlight import passages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一是加强养老服务。二是发展托育。", ["一是加强养老服务。", "二是发展托育。"]),
        ("是否可行？将研究！已完成；继续", ["是否可行？", "将研究！", "已完成；", "继续"]),
        ("ASCII ends too? yes! and; this", ["ASCII ends too?", "yes!", "and;", "this"]),
        ("一行没有句号\n下一行。", ["一行没有句号", "下一行。"]),  # a line break ends a sentence
        ("真的吗？！是的。", ["真的吗？！", "是的。"]),  # a run of ends closes one sentence
        ("  前有空格。  后有空格  \n\n ", ["前有空格。", "后有空格"]),
        ("", []),
        (" \n\n\t", []),
    ],
)
def test_sentences_end_after_a_mark_or_a_line_break(text, expected):
    assert sentences(text) == expected


def test_sentence_spans_are_offsets_into_the_text():
    text = "开头。 下一步，将扩大试点。\n结尾"
    spans = list(sentence_spans(text))
    assert spans == [(0, 3), (4, 14), (15, 17)]
    assert [text[s:e] for s, e in spans] == sentences(text)


def test_a_commitment_never_runs_over_a_line_break():
    reply = Reply(id="0" * 16, title="t", body="已完成前期调研\n下一步，将扩大试点范围;年底前完成。")
    assert [c.text for c in reply.commitments] == ["下一步，将扩大试点范围;"]


def test_a_snippet_is_one_sentence_of_the_text():
    text = "甲项工作已完成。乙项工作将于明年启动；丙项\n工作另行安排。"
    assert passages(text, ["乙项"]) == [(text.index("乙"), "<mark>乙项</mark>工作将于明年启动；")]
    assert passages(text, ["工作另行"]) == [(text.index("\n") + 1, "<mark>工作另行</mark>安排。")]
