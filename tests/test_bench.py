"""The recall and word-mode checks still run (on the bundled archive, quickly)."""

from __future__ import annotations

import pytest

from bench import corpus, recall, words


@pytest.fixture(autouse=True)
def no_shared_corpus(monkeypatch, tmp_path):
    # Tests never depend on ../shared: point the corpus at an empty folder.
    monkeypatch.setattr(corpus, "SHARED", tmp_path / "absent")


def test_recall_check_is_exact_on_the_bundled_archive(capsys):
    recall.main(["--queries", "80"])
    out = capsys.readouterr().out
    assert "bundled sample archive" in out
    assert "recall (macro): 1.0000   precision (micro): 1.0000   mismatches: 0" in out


def test_word_mode_comparison_runs(capsys):
    words.main(["--words", "20"])
    out = capsys.readouterr().out
    assert "precise words only" in out and "sub-words" in out


def test_quoting_picks_a_quote_pair_the_needle_lacks():
    assert recall.quoted('a"b') == "“a\"b”"
    assert recall.quoted('"“”「」') is None


def test_generated_replies_parse_with_their_metadata(tmp_path):
    from collections import Counter

    from archive.store import iter_replies
    from bench import generate

    assert generate.generate(40, tmp_path, seed=3, size=(300, 600)) == 40
    replies = list(iter_replies(tmp_path))
    assert all(r.sample and r.source.file.startswith("synthetic/synthetic-") for r in replies)
    assert all(r.year and r.session_label and r.department and r.date and r.proposers for r in replies)
    assert all(r.commitments for r in replies)
    departments = Counter(r.department for r in replies).most_common()
    assert departments[0][1] > departments[-1][1]  # skewed: a few departments answer most
