"""The reply-archive command, driven through click's test runner."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from reply_archive import data
from reply_archive.archive.store import iter_replies
from reply_archive.web import reply_index
from reply_archive.web.cli import cli
from tests.conftest import SEED

SAMPLES = len(list(data.path("samples").glob("*.txt")))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_parse_json_prints_the_record_with_spec_field_names():
    result = run("parse", SEED, "--json")
    assert result.exit_code == 0
    record = json.loads(result.output)
    assert record["title"] == "关于深圳市福田区政协六届二次会议第20220030号提案的办理意见"
    assert record["session_label"] == "六届二次" and record["year"] == 2022
    assert {"term", "session_number", "proposal_numbers", "proposers", "proposer_kind", "proposal_title",
            "department", "department_raw", "department_role", "date", "sections", "commitments", "body",
            "source", "warnings"} <= set(record)


def test_parse_of_a_bad_file_fails_with_its_name(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("", encoding="utf-8")
    result = run("parse", bad)
    assert result.exit_code == 1 and "empty.txt" in result.output


def test_ingest_index_search_round_trip(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    result = run("ingest", data.path("seed"), "--archive", archive)
    assert result.exit_code == 0 and "1 added" in result.output
    assert "1 unchanged" in run("ingest", data.path("seed"), "--archive", archive).output
    assert "1 replies indexed" in run("index", "--archive", archive, "--index", index).output
    assert "up to date" in run("index", "--archive", archive, "--index", index).output
    assert "1 replies indexed" in run("index", "--archive", archive, "--index", index, "--rebuild").output
    result = run("search", '"深港共融"', "--index", index, "-f", "year=2022")
    assert result.exit_code == 0 and "1 replies" in result.output and "[深港共融]" in result.output
    payload = json.loads(run("search", "深港", "--index", index, "--json").output)
    assert payload["total"] == 1


def test_ingest_reports_failures_and_exits_1(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x00binary")
    result = CliRunner().invoke(cli, ["ingest", str(SEED), str(bad), "--archive", str(tmp_path / "a")])
    assert result.exit_code == 1
    assert "1 added" in result.output and "bad.txt" in result.output and "binary" in result.output


def test_environment_variables_choose_the_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLY_ARCHIVE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("REPLY_ARCHIVE_INDEX", str(tmp_path / "i"))
    assert run("ingest", SEED).exit_code == 0
    assert run("index").exit_code == 0
    assert (tmp_path / "i" / "current").exists()


def test_search_with_a_bad_filter_says_which(tmp_path):
    result = CliRunner().invoke(cli, ["search", "x", "-f", "nonsense", "--index", str(tmp_path)])
    assert result.exit_code == 2 and "FACET=VALUE" in result.output


def test_a_changed_dictionary_or_alias_table_makes_the_index_stale(tmp_path, monkeypatch):
    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", SEED, "--archive", archive)
    run("index", "--archive", archive, "--index", index)
    assert "up to date" in run("index", "--archive", archive, "--index", index).output
    monkeypatch.setattr("reply_archive.indexer.sync.index_signature", lambda: "other-dictionary")
    assert "1 replies indexed" in run("index", "--archive", archive, "--index", index).output
    monkeypatch.setattr("reply_archive.indexer.sync.department_names", lambda: {"X": ("X", "Y")})
    assert "1 replies indexed" in run("index", "--archive", archive, "--index", index).output


def test_check_reports_agreement_and_every_kind_of_mismatch(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", data.path("samples"), "--archive", archive)
    run("index", "--archive", archive, "--index", index)
    result = CliRunner().invoke(cli, ["check", "--archive", str(archive), "--index", str(index)])
    assert result.exit_code == 0 and "archive and index agree" in result.output
    assert f"{SAMPLES} records" in result.output and f"{SAMPLES} replies" in result.output

    records = sorted(p for p in archive.glob("*.md"))
    records[0].unlink()  # in the index but not the archive
    records[1].write_text("not a record", encoding="utf-8")  # malformed
    result = CliRunner().invoke(cli, ["check", "--archive", str(archive), "--index", str(index)])
    assert result.exit_code == 1
    assert "1 malformed" in result.output and "in the index but not the archive" in result.output
    assert "not built from the archive as it is now" in result.output


def test_index_errors_are_clear_messages_with_exit_status_1(tmp_path):
    from reply_archive.indexer.build import build_lock

    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", SEED, "--archive", archive)
    result = CliRunner().invoke(cli, ["check", "--archive", str(archive), "--index", str(index)])
    assert result.exit_code == 1 and f"no index in {index}: run `reply-archive index`" in result.output
    with build_lock(index):
        result = CliRunner().invoke(cli, ["index", "--archive", str(archive), "--index", str(index)])
    assert result.exit_code == 1 and "another index build is running" in result.output
    assert not (index / "current").exists()


def test_a_second_ingest_into_the_same_archive_stops_with_a_clear_message(tmp_path):
    from reply_archive.archive.store import archive_lock

    archive = tmp_path / "archive"
    with archive_lock(archive):
        result = CliRunner().invoke(cli, ["ingest", str(SEED), "--archive", str(archive)])
    assert result.exit_code == 1 and "another ingest is writing to" in result.output
    assert not list(archive.glob("*.md"))
    assert run("ingest", SEED, "--archive", archive).exit_code == 0  # free again


def test_index_touches_only_what_changed_and_check_agrees(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", data.path("samples"), "--archive", archive)
    assert f"{SAMPLES} replies indexed" in run("index", "--archive", archive, "--index", index).output
    records = sorted(archive.glob("*.md"))
    edited = records[0].read_text(encoding="utf-8").replace("收悉", "收悉（已核对）", 1)
    records[0].write_text(edited, encoding="utf-8")  # a hand correction
    records[1].unlink()  # a removal
    run("ingest", SEED, "--archive", archive)  # an addition
    result = run("index", "--archive", archive, "--index", index)
    assert "updated, 2 added or changed, 1 removed" in result.output
    assert "up to date" in run("index", "--archive", archive, "--index", index).output
    assert json.loads(run("search", '"收悉（已核对）"', "--index", index, "--json").output)["total"] == 1
    assert json.loads(run("search", "", "--index", index, "--json").output)["total"] == SAMPLES  # -1 +1
    result = CliRunner().invoke(cli, ["check", "--archive", str(archive), "--index", str(index)])
    assert result.exit_code == 0, result.output


KILLED_INGEST = """
import sys
from reply_archive.web.cli import cli
cli.main(["ingest", sys.argv[1], "--archive", sys.argv[2]], standalone_mode=False)
"""


def test_an_ingest_killed_midway_loses_nothing_and_a_rerun_completes(tmp_path):
    """Kill an ingest of many files; every record written is whole, and a rerun finishes."""
    sources = tmp_path / "src"
    sources.mkdir()
    text = SEED.read_text(encoding="utf-8")
    for i in range(150):  # different numbers, so different records
        (sources / f"reply-{i:03d}.txt").write_text(text.replace("20220030", f"2022{i:04d}"), encoding="utf-8")
    archive, index = tmp_path / "archive", tmp_path / "index"
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-c", KILLED_INGEST, str(sources), str(archive)], cwd=root)
    deadline = time.monotonic() + 60
    while len(list(archive.glob("*.md"))) < 20 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    written = len(list(archive.glob("*.md")))
    assert 0 < written < 150  # killed midway
    assert len(list(iter_replies(archive))) == written  # every record written is whole
    result = run("ingest", sources, "--archive", archive)
    assert f"{150 - written} added" in result.output and f"{written} unchanged" in result.output
    run("index", "--archive", archive, "--index", index)
    assert CliRunner().invoke(cli, ["check", "--archive", str(archive), "--index", str(index)]).exit_code == 0


def test_serve_never_runs_the_debugger(tmp_path, monkeypatch):
    calls = {}
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *args, **kwargs: calls.update(kwargs, args=args))
    run("ingest", SEED, "--archive", tmp_path / "a")
    assert run("serve", "--archive", tmp_path / "a", "--index", tmp_path / "i").exit_code == 0
    assert calls["use_debugger"] is False and calls["use_reloader"] is False
    app = calls["args"][2]  # serves the folders given, not the configured ones
    assert app.config["ARCHIVE_DIR"] == str(tmp_path / "a") and app.config["INDEX_DIR"] == str(tmp_path / "i")
    with app.app_context():
        assert reply_index().folder == tmp_path / "i"
