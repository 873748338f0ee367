"""The reply-archive command, driven through click's test runner."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import importlib.metadata
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import click.testing
from click.testing import CliRunner

from reply_archive import data
from reply_archive.archive.store import iter_replies, write_reply
from reply_archive.indexer.analysis import user_dictionary
from reply_archive.indexer.sync import build_processes
from reply_archive.web import config, create_app, reply_index
from reply_archive.web.cli import cli
from reply_archive.web.formats import EXPORT_COLUMNS, column_label
from tests import formats
from tests.conftest import SEED
from tests.test_hardening import _session_members

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


def test_a_changed_dictionary_or_alias_table_makes_the_index_stale(tmp_path, monkeypatch, use_dictionary):
    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", data.path("samples"), "--archive", archive)
    run("index", "--archive", archive, "--index", index)
    assert "up to date" in run("index", "--archive", archive, "--index", index).output
    use_dictionary(user_dictionary() + "\n老旧小区改造\n")  # a word of one sample reply
    updated = run("index", "--archive", archive, "--index", index).output
    assert "updated, 1 added or changed (1 for 1 changed dictionary word), 0 removed" in updated
    assert "up to date" in run("index", "--archive", archive, "--index", index).output
    monkeypatch.setattr("reply_archive.indexer.sync.department_names", lambda: {"X": ("X", "Y")})
    assert f"{SAMPLES} replies indexed" in run("index", "--archive", archive, "--index", index).output


def test_a_deployment_s_own_dictionary_is_read_from_the_file_the_environment_names(tmp_path):
    archive, index, words = tmp_path / "archive", tmp_path / "index", tmp_path / "words.txt"
    run("ingest", data.path("samples"), "--archive", archive)

    def index_with(dictionary: Path) -> subprocess.CompletedProcess:
        env = {**os.environ, "REPLY_ARCHIVE_DICTIONARY": str(dictionary)}
        command = [sys.executable, "-c", "from reply_archive.web.cli import cli; cli()", "index",
                   "--archive", str(archive), "--index", str(index)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    missing = index_with(tmp_path / "nowhere.txt")
    assert missing.returncode == 1 and not index.exists()
    assert f"cannot read the domain dictionary {tmp_path / 'nowhere.txt'}: No such file or directory" in missing.stderr
    words.write_text(user_dictionary(), encoding="utf-8")
    assert f"{SAMPLES} replies indexed" in index_with(words).stdout
    words.write_text(user_dictionary() + "老旧小区改造\n", encoding="utf-8")
    assert "1 added or changed (1 for 1 changed dictionary word)" in index_with(words).stdout
    words.write_bytes("老旧小区改造\n".encode("gbk"))
    assert "not UTF-8 text" in index_with(words).stderr


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


def test_version_and_help_short_and_long_on_every_command():
    result = run("--version")
    version = importlib.metadata.version("reply-archive")
    assert result.exit_code == 0 and result.output == f"reply-archive, version {version}\n"
    assert run("-h").output == run("--help").output and "export" in run("-h").output
    for name in cli.commands:
        short, long = run(name, "-h"), run(name, "--help")
        assert short.exit_code == 0 and short.output.startswith(f"Usage: cli {name}"), name
        assert short.output == long.output, name


def test_the_command_line_imports_no_heavy_module_until_a_command_needs_it():
    heavy = ("whoosh", "jieba", "flask", "werkzeug", "pypdf", "lxml", "docx", "numpy")
    script = "import sys, reply_archive.web.cli; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert "click" in loaded and not set(heavy) & set(loaded)


def _on_a_terminal(monkeypatch):
    """Make the test runner's stderr (and stdout) say they are a terminal."""
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)


def test_index_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path, monkeypatch):
    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", data.path("samples"), "--archive", archive)
    result = run("index", "--archive", archive, "--index", index)
    assert result.output == f"{index}: {SAMPLES} replies indexed\n" and result.stderr == ""
    _on_a_terminal(monkeypatch)
    bar = re.compile(rf"indexing.*{SAMPLES}/{SAMPLES}")
    result = run("index", "--archive", archive, "--index", index, "--rebuild")
    assert bar.search(result.stderr) and f"{SAMPLES} replies indexed" in result.stdout
    record = sorted(archive.glob("*.md"))[0]
    record.write_text(record.read_text(encoding="utf-8").replace("收悉", "收悉（已核对）", 1), encoding="utf-8")
    result = run("index", "--archive", archive, "--index", index)  # an update counts the unchanged records too
    assert bar.search(result.stderr) and "1 added or changed" in result.stdout
    assert bar.search(run("index", "--archive", archive, "--index", index).stderr)  # up to date: all done


def test_the_first_serve_shows_the_progress_of_its_index_build(tmp_path, monkeypatch):
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *args, **kwargs: None)
    _on_a_terminal(monkeypatch)
    result = run("serve", "--archive", tmp_path / "a", "--index", tmp_path / "i")
    assert result.exit_code == 0 and re.search(rf"indexing.*{SAMPLES + 1}/{SAMPLES + 1}", result.stderr)


def _sample_index(tmp_path) -> Path:
    archive, index = tmp_path / "archive", tmp_path / "index"
    run("ingest", data.path("samples"), "--archive", archive)
    run("index", "--archive", archive, "--index", index)
    return index


def test_export_writes_every_hit_in_each_format_with_its_url(tmp_path, monkeypatch):
    index = _sample_index(tmp_path)
    monkeypatch.delenv(config.BASE_URL_ENV, raising=False)
    rows = [json.loads(line) for line in run("export", "--index", index).stdout.splitlines()]
    assert len(rows) == SAMPLES and all(list(row) == list(EXPORT_COLUMNS) for row in rows)
    assert all(row["url"] == f"/replies/{row['id']}" for row in rows)

    monkeypatch.setenv(config.BASE_URL_ENV, "https://archive.example.org/")
    result = run("export", "养老", "--index", index, "-f", "year=2024", "--format", "csv")
    assert result.stdout_bytes.startswith(codecs.BOM_UTF8)  # Excel reads it as UTF-8
    header, *table = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert header == [column_label(c) for c in EXPORT_COLUMNS] and table
    assert {line[header.index("年度")] for line in table} == {"2024"}
    assert all(line[-1] == f"https://archive.example.org/replies/{line[0]}" for line in table)

    ris = run("export", "--index", index, "--format", "ris").stdout
    assert ris.count("TY  - GOVDOC") == ris.count("ER  - ") == SAMPLES
    assert run("export", "--index", index, "--format", "xml").exit_code == 2


def test_export_is_the_web_export_byte_for_byte(tmp_path, monkeypatch, archive_dir):
    index = _sample_index(tmp_path)
    base = "https://archive.example.org"
    monkeypatch.setenv(config.BASE_URL_ENV, base)
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index),
                         "BASE_URL": base}).test_client()
    for fmt in ("jsonl", "csv", "ris"):
        web = client.get(f"/api/export?q=答复&year=2023&sort=newest&format={fmt}").data
        assert run("export", "答复", "-f", "year=2023", "--sort", "newest", "--format", fmt,
                   "--index", index).stdout_bytes == web, fmt


def test_export_and_search_sort_and_export_writes_a_file(tmp_path):
    index = _sample_index(tmp_path)
    exported = [json.loads(line) for line in run("export", "--index", index, "--sort", "oldest").stdout.splitlines()]
    dates = [row["date"] for row in exported if row["date"]]
    assert dates == sorted(dates)
    found = json.loads(run("search", "--index", index, "--sort", "oldest", "--per-page", 100, "--json").output)
    assert [hit["id"] for hit in found["hits"]] == [row["id"] for row in exported]
    assert run("search", "--index", index, "--sort", "sideways").exit_code == 2

    out = tmp_path / "replies.ris"
    result = run("export", "--index", index, "--format", "ris", "-o", out)
    assert result.stdout == "" and f"{out}: {SAMPLES} replies" in result.stderr
    assert out.read_bytes() == run("export", "--index", index, "--format", "ris").stdout_bytes
    result = run("export", "--index", index, "-o", tmp_path / "missing" / "x.jsonl")
    assert result.exit_code == 1 and "cannot write" in result.output


def test_a_broken_pdf_is_reported_once_and_pypdf_says_nothing_raw(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.pdf").write_bytes(b"%PDF-1.4")  # no %%EOF: pypdf logs it, then gives up
    pdf = formats.to_pdf(SEED.read_text(encoding="utf-8"))
    (src / "repaired.pdf").write_bytes(re.sub(rb"startxref\s+\d+", b"startxref\n1", pdf))  # pypdf repairs it
    result = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(tmp_path / "a")])
    assert result.exit_code == 1 and "1 added" in result.stdout
    lines = result.stderr.splitlines()
    assert "  failed: src/notes.pdf: damaged PDF, cannot be read: EOF marker not found; " in "\n".join(lines)
    assert "warning: src/repaired.pdf: incorrect startxref pointer(1)" in lines
    assert all(line.startswith(("  failed: ", "warning: ")) for line in lines), lines
    assert len(lines) == len(set(lines))  # each message once


INTERRUPTED_INDEX = """
import signal, sys
from reply_archive.web.cli import cli
# A shell starts background commands with SIGINT ignored; a terminal's command has it.
signal.signal(signal.SIGINT, signal.default_int_handler)
cli(sys.argv[1:])
"""


def test_ctrl_c_stops_a_build_in_one_line_and_leaves_the_index_as_it_was(tmp_path, seed_reply):
    small, large, index = tmp_path / "small", tmp_path / "large", tmp_path / "index"
    run("ingest", SEED, "--archive", small)
    run("index", "--archive", small, "--index", index)
    serving = sorted(p.name for p in index.iterdir() if p.name.startswith("gen-"))
    for i in range(400):  # enough for a parallel build that runs for a while
        write_reply(dataclasses.replace(seed_reply, id=f"{i:016x}"), large)
    workers = build_processes(large) if build_processes(large) > 1 else 0
    root = Path(__file__).resolve().parent.parent
    build = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_INDEX, "index", "--rebuild", "--archive", str(large), "--index", str(index)],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and build.poll() is None and not (
        len(_session_members(build.pid)) > workers and len(list(index.glob("gen-*"))) > len(serving)
    ):
        time.sleep(0.05)
    assert build.poll() is None, "the build ended before it could be interrupted"
    os.killpg(build.pid, signal.SIGINT)  # as Ctrl-C does: the build and its workers
    out, err = build.communicate(timeout=60)
    assert build.returncode == 130 and err == b"interrupted\n" and out == b""
    assert _session_members(build.pid) == []  # no worker left behind
    assert sorted(p.name for p in index.iterdir() if p.name.startswith(("gen-", ".current-"))) == serving
    assert json.loads(run("search", "", "--index", index, "--json").output)["total"] == 1  # the old index answers
    assert "1 replies indexed" in run("index", "--archive", small, "--index", index, "--rebuild").output


def test_ctrl_c_anywhere_in_a_command_exits_130_in_one_line(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("reply_archive.indexer.sync.refresh_index", interrupted)
    run("ingest", SEED, "--archive", tmp_path / "a")
    result = run("index", "--archive", tmp_path / "a", "--index", tmp_path / "i")
    assert result.exit_code == 130 and result.stderr == "interrupted\n" and result.stdout == ""


def test_serve_names_no_versions_in_its_server_header(tmp_path, monkeypatch):
    import threading
    import urllib.request

    from werkzeug.serving import make_server

    calls = {}
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *args, **kwargs: calls.update(kwargs, args=args))
    run("ingest", SEED, "--archive", tmp_path / "a")
    assert run("serve", "--archive", tmp_path / "a", "--index", tmp_path / "i").exit_code == 0
    server = make_server("127.0.0.1", 0, calls["args"][2], request_handler=calls["request_handler"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz", timeout=10) as response:
            assert response.headers.get_all("Server") == ["reply-archive"]  # was Werkzeug/3.1.9 Python/3.11.7
    finally:
        server.shutdown()
        server.server_close()


def test_search_and_export_search_within_the_results_as_the_web_does(tmp_path, archive_dir):
    index = _sample_index(tmp_path)
    client = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index)}).test_client()
    web = client.get("/api/search?q=答复&within=资金&within=养老&per_page=100").get_json()
    found = json.loads(run("search", "答复", "--within", "资金", "--within", "养老", "--per-page", 100,
                           "--index", index, "--json").output)
    assert [hit["id"] for hit in found["hits"]] == [hit["id"] for hit in web["hits"]]
    wider = json.loads(run("search", "答复", "--within", "资金", "--per-page", 100, "--index", index, "--json").output)
    assert 0 < found["total"] < wider["total"]
    exported = [json.loads(line) for line in run("export", "答复", "--within", "资金", "--within", "养老",
                                                 "--index", index).stdout.splitlines()]
    assert [row["id"] for row in exported] == [hit["id"] for hit in web["hits"]]
    many = [arg for n in range(12) for arg in ("--within", f"词{n}")]
    refused = run("search", "答复", *many, "--index", index)
    assert refused.exit_code == 1 and "within" in refused.output
