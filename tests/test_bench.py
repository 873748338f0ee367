"""The benchmarks still run: recall and word modes on the bundled archive, and the
suite at 1,000 generated replies as a smoke test (figures printed, none asserted)."""

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

    from bench import generate
    from reply_archive.archive.store import iter_replies

    assert generate.generate(40, tmp_path, seed=3, size=(300, 600)) == 40
    replies = list(iter_replies(tmp_path))
    assert all(r.sample and r.source.file.startswith("synthetic/synthetic-") for r in replies)
    assert all(r.year and r.session_label and r.department and r.date and r.proposers for r in replies)
    assert all(r.commitments for r in replies)
    departments = Counter(r.department for r in replies).most_common()
    assert departments[0][1] > departments[-1][1]  # skewed: a few departments answer most


@pytest.mark.slow
def test_the_benchmark_suite_runs_at_three_hundred_replies(tmp_path, capsys):
    import json

    from bench import run

    run.main(["--sizes", "300", "--runs", "1", "--queries", "8", "--root", str(tmp_path / "bench")])
    out = capsys.readouterr().out
    for line in ("| ingest + index |", "segmentation only", "| index size |", "words + all facet counts",
                 "exact phrase, 1–12 chars", "reply page with marked terms", "facet counting:", "cold start",
                 "serving process: peak", "adding one reply until searchable"):
        assert line in out, line
    results = json.loads((tmp_path / "bench" / "300" / "results.json").read_text())
    assert set(results["baselines"]) >= {"fts5"}
    for engine in results["baselines"].values():  # the same queries, each answered
        assert len(engine["words"]) == len(results["ours"]["words"])
        assert len(engine["exact"]) == len(results["ours"]["exact"])
    # The engines agree on what the exact phrases match.
    ours = [q["matches"] for q in results["ours"]["exact"]]
    assert all([q["matches"] for q in engine["exact"]] == ours for engine in results["baselines"].values())


def test_precedent_paraphrases_differ_and_are_measured(tmp_path, capsys):
    import json
    import random

    from bench import generate, precedents
    from reply_archive.archive.store import iter_replies
    from reply_archive.archive.tables import department_names
    from reply_archive.indexer.build import build_index

    archive, index, root = tmp_path / "archive", tmp_path / "index", tmp_path / "bench"
    assert generate.generate(60, archive, seed=5, size=(300, 600)) == 60
    build_index(list(iter_replies(archive)), index, aliases=department_names())

    rng = random.Random(5)
    made = precedents.paraphrases(precedents.sampled_passages(precedents.sampled_replies(archive, rng), rng), 5, rng)
    assert {p.kind for p in made} == set(precedents.MAKERS)
    for p in made:
        assert p.text != p.source.text and "\n" not in p.text
        if p.kind == "clause dropped":
            assert len(p.text) < len(p.source.text)
        if p.kind == "clauses swapped":
            assert sorted(p.text) == sorted(p.source.text)

    precedents.main(["--archive", str(archive), "--index", str(index), "--root", str(root),
                     "--texts", "1", "--passages", "4", "--runs", "1"])
    out = capsys.readouterr().out
    for line in ("| about 2,000 characters | 1 |", "| two clauses swapped | 4 |", "| all | 12 |",
                 "| source first ≥ 85%, all paraphrases |"):
        assert line in out, line
    results = json.loads((root / "results.json").read_text())["sizes"]["60"]
    assert len(results["quality"]) == 12
    assert all(q["pieces"] == 1 for q in results["quality"])  # each paraphrase pasted as one paragraph
    precedents.main(["--report", "--root", str(root)])
    assert "## Precedent finding, 60 generated replies" in capsys.readouterr().out
