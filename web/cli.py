"""The ``reply-archive`` command: parse, ingest, index, check, search, export and serve.

Each subcommand calls one core function and turns archive and indexer errors into clear
messages with a non-zero exit status. The heavy modules (the indexer with jieba and
Whoosh, the extractors, Flask) are imported by the commands that use them, so that
``--help`` and a mistyped option answer at once.
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reply_archive import data
from reply_archive.archive.errors import ArchiveError
from reply_archive.indexer.errors import IndexerError

from . import config

if TYPE_CHECKING:
    from reply_archive.archive.ingest import IngestReport
    from reply_archive.indexer.search import ReplyIndex
    from reply_archive.indexer.settings import Settings
    from reply_archive.indexer.sync import IndexRun

DISTRIBUTION = "reply-archive"
INTERRUPTED = 130  # 128 + SIGINT: what shells report for a command stopped by Ctrl-C


class _Lines(logging.Handler):
    """Show each warning or error logged, by our code or a library, as ``warning: <message>``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info:  # an unexpected error (a failed request of `serve`): its traceback is wanted
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        click.echo(line, err=True)


class _Commands(click.Group):
    """The command group: logging set up for the run, Ctrl-C ending it in one line."""

    def invoke(self, ctx: click.Context) -> Any:
        lines = _Lines()
        logging.getLogger().addHandler(lines)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Builds and ingests leave nothing half-written: there is nothing to explain.
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None
        finally:
            logging.getLogger().removeHandler(lines)


class _Choice(click.Choice):
    """A choice among the values of a constant, read from its module only when the option
    is parsed or its help shown (the modules that define them are slow to import)."""

    def __init__(self, module: str, name: str) -> None:
        # Not Choice.__init__, which would set the choices.
        self.case_sensitive = True
        self._source = module, name

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]  # read-only where Choice has an attribute
        module, name = self._source
        return tuple(getattr(importlib.import_module(module), name))


_archive_option = click.option(
    "--archive", "archive", type=click.Path(file_okay=False, path_type=Path), default=None,
    help=f"Archive folder (default: ${config.ARCHIVE_ENV} or {config.DEFAULT_ARCHIVE}).",
)
_index_option = click.option(
    "--index", "index", type=click.Path(file_okay=False, path_type=Path), default=None,
    help=f"Index folder (default: ${config.INDEX_ENV} or {config.DEFAULT_INDEX}).",
)
_filter_option = click.option(
    "--filter", "-f", "filters", multiple=True, metavar="FACET=VALUE", help="Facet filter, repeatable."
)
_within_option = click.option(
    "--within", "within", multiple=True, metavar="QUERY",
    help="Search within the results (结果中检索): a further query every hit must also match, repeatable.",
)
_sort_option = click.option(
    "--sort", type=_Choice("reply_archive.indexer.backend", "SORTS"), default="relevance", show_default=True
)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION, prog_name=DISTRIBUTION)
def cli() -> None:
    """Searchable archive of replies to CPPCC proposals and NPC suggestions."""


@contextmanager
def _reported() -> Iterator[None]:
    """Turn an archive or indexer error into its message and exit status 1."""
    from reply_archive.indexer.settings import SettingError

    try:
        yield
    except (ArchiveError, IndexerError, SettingError) as exc:
        raise click.ClickException(str(exc)) from None


def _index(index: Path | None) -> ReplyIndex:
    """Open the index folder with the settings of the environment (REPLY_ARCHIVE_*):
    its backend among them."""
    from reply_archive.indexer.search import ReplyIndex

    return ReplyIndex(config.index_dir(index), _settings())


def _settings() -> Settings:
    """Return the settings of the environment (REPLY_ARCHIVE_*)."""
    from reply_archive.indexer.settings import Settings

    return Settings.from_mapping({})


@contextmanager
def _progress(label: str, length: Callable[[], int]) -> Iterator[Callable[..., None] | None]:
    """Yield what advances a progress bar on stderr by a number of steps (and, optionally,
    sets the status shown after it), or None, and no bar, when stderr is no terminal
    (piped or logged)."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length(), label=label, file=sys.stderr, show_pos=True,
                           item_show_func=lambda status: status) as bar:
        yield bar.update


def _ocr_status(advance: Callable[..., None]) -> Callable[[int, int], None]:
    """Return what shows the OCR of a scan after the bar: pages read, pages a minute."""
    started = time.monotonic()
    read = 0

    def show(done: int, total: int) -> None:
        nonlocal read
        read += done > 0
        minutes = (time.monotonic() - started) / 60
        rate = f", {read / minutes:.1f} pages/min" if read and minutes else ""
        advance(0, f"OCR page {done}/{total}{rate}" if done < total else None)

    return show


def _refresh(archive: Path, index: Path, *, rebuild: bool = False) -> IndexRun:
    """Bring the index up to date, with a progress bar over the archive's records."""
    from reply_archive.archive.store import snapshot
    from reply_archive.indexer.sync import refresh_index

    with _progress("indexing", lambda: len(snapshot(archive))) as advance:
        return refresh_index(archive, index, rebuild=rebuild, progress=advance, settings=_settings())


def _facet_filters(items: tuple[str, ...]) -> dict[str, list[str]]:
    """Return ``--filter FACET=VALUE`` options as the values selected per facet."""
    chosen: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not FACET=VALUE", param_hint="--filter")
        chosen.setdefault(name, []).append(value)
    return chosen


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
def parse(file: Path, as_json: bool) -> None:
    """Parse one source file and print the record (nothing is written).

    \b
    Example:
        reply-archive parse data/seed/seed_reply.txt --json
    """
    from reply_archive.archive.ingest import read_source

    with _reported():
        reply = read_source(file)
    if as_json:
        click.echo(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
        return
    for key, value in reply.to_dict().items():
        if key not in ("body", "sections", "commitments") and value not in (None, [], False, {}):
            click.echo(f"{key}: {value}")
    click.echo(f"sections: {len(reply.sections)}, commitments: {len(reply.commitments)}, body: {len(reply.body)} chars")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_archive_option
@click.option("--sample", is_flag=True, help="Mark the records as fictional sample data.")
def ingest(paths: tuple[Path, ...], archive: Path | None, sample: bool) -> None:
    """Parse source files and folders (recursively) into the archive.

    Reads .txt (UTF-8, UTF-16, GBK/GB18030, Big5), .pdf, .docx, .doc, saved web pages
    and archive records (.md); scanned PDFs and page images (.png, .jpg, .tif) are read
    by OCR (REPLY_ARCHIVE_OCR: rapidocr, tesseract or off). Files that fail are listed with their reason, and also
    written to a report in the archive's .reports/ folder; the others are ingested all
    the same, and the exit status is 1. A record corrected by hand is kept, its fresh
    parse written beside it as <id>.md.new (a conflict).

    \b
    Example:
        reply-archive ingest replies/2023 --archive var/archive
    """
    from reply_archive.archive.ingest import ingest_sources, iter_sources, write_report

    archive = config.archive_dir(archive)
    sources = list(iter_sources(paths))
    with _reported(), _progress("ingesting", lambda: len(sources)) as advance:
        report = ingest_sources(sources, archive, sample=sample, progress=advance and (lambda _name: advance(1)),
                                pages=advance and _ocr_status(advance))
    try:
        report_file = write_report(report, archive)
    except OSError as exc:
        raise click.ClickException(f"cannot write the ingest report in {archive}: {exc}") from None
    _print_report(report, archive, report_file)
    if not report.ok:
        sys.exit(1)


def _print_report(report: IngestReport, archive: Path, report_file: Path | None = None) -> None:
    """Print the run's counts, then each failure and conflict, then where the report is."""
    from reply_archive.archive.model import REVIEW_KINDS

    from .render import labels

    click.echo(
        f"{archive}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed, {len(report.conflicts)} conflicts"
    )
    for name, reason in report.failed:
        click.echo(f"  failed: {name}: {reason}", err=True)
    for name, message in report.conflicts:
        click.echo(f"  conflict: {name}: {message}", err=True)
    if report.review:
        click.echo("  to check (待核对), records written in this run, by what to check (listed at /review):")
        for kind, count in sorted(report.review.items(), key=lambda kv: REVIEW_KINDS.index(kv[0])):
            click.echo(f"    {count:>5}  {kind}  {labels()['values']['review'][kind]}")
    if report_file is not None:
        click.echo(f"  report: {report_file}")


@cli.command()
@_archive_option
@_index_option
@click.option("--rebuild", is_flag=True, help="Build even if the index is up to date.")
def index(archive: Path | None, index: Path | None, rebuild: bool) -> None:
    """Bring the search index up to date with the archive.

    Only the records added, changed or removed since the last run are indexed again;
    --rebuild starts over. A running web app sees the new index without a restart.
    Interrupted, the build leaves the index as it was.

    \b
    Example:
        reply-archive index --archive var/archive --index var/index
    """
    archive, index = config.archive_dir(archive), config.index_dir(index)
    if not archive.is_dir():
        raise click.ClickException(f"no archive at {archive}: run `reply-archive ingest` first")
    with _reported():
        run = _refresh(archive, index, rebuild=rebuild)
    click.echo(run.describe(_index(index).backend.where()))
    for exc in run.errors:
        click.echo(f"  skipped: {exc}", err=True)
    if run.errors:
        sys.exit(1)


@cli.command()
@_archive_option
@_index_option
def check(archive: Path | None, index: Path | None) -> None:
    """Verify that the archive and the index agree, record for record.

    Reports malformed records, records missing from the index, index entries with no
    record, and whether the index was built from the archive as it is now. Exit status
    1 on any mismatch.

    \b
    Example:
        reply-archive check --archive var/archive --index var/index
    """
    from reply_archive.indexer.sync import check_index

    archive, index = config.archive_dir(archive), config.index_dir(index)
    with _reported():
        report = check_index(archive, index, _settings())
    click.echo(f"archive {archive}: {report.records} records, {len(report.errors)} malformed")
    click.echo(f"index {index}: {report.indexed} replies")
    for exc in report.errors:
        click.echo(f"  malformed: {exc}", err=True)
    for reply_id in report.missing:
        click.echo(f"  not in the index: {reply_id}", err=True)
    for reply_id in report.extra:
        click.echo(f"  in the index but not the archive: {reply_id}", err=True)
    if report.stale:
        click.echo("  the index was not built from the archive as it is now: run `reply-archive index`", err=True)
    if not report.ok:
        sys.exit(1)
    click.echo("archive and index agree")


@cli.command()
@click.argument("query", default="")
@_index_option
@_filter_option
@_within_option
@_sort_option
@click.option("--page", default=1, show_default=True)
@click.option("--per-page", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def search(
    query: str,
    index: Path | None,
    filters: tuple[str, ...],
    within: tuple[str, ...],
    sort: str,
    page: int,
    per_page: int,
    as_json: bool,
) -> None:
    """Search the index, as the web page does.

    \b
    Examples:
        reply-archive search '"现答复如下"' -f year=2023 --sort newest
        reply-archive search 养老 --within 资金 --within '"下一步"'
    """
    chosen = _facet_filters(filters)
    with _reported():
        results = _index(index).search(
            query, filters=chosen, page=page, per_page=per_page, sort=sort, within=within
        )
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{results.total} replies (page {results.page}/{results.pages})")
    for hit in results.hits:
        click.echo(f"\n{hit.id}  {hit.title}\n  {hit.department or ''} {hit.qualified_session or ''} {hit.date or ''}")
        for snippet in hit.snippets:
            text = html.unescape(snippet.html.replace("<mark>", "[").replace("</mark>", "]"))
            click.echo(f"  {snippet.section or ''} | {text}" if snippet.section else f"  {text}")


@cli.command()
@click.argument("query", default="")
@_index_option
@_filter_option
@_within_option
@_sort_option
@click.option(
    "--format", "fmt", type=_Choice("reply_archive.web.formats", "FORMATS"), default="jsonl", show_default=True,
    help="JSON Lines, CSV (UTF-8 with a byte-order mark) or XLSX for spreadsheets, "
    "RIS (EndNote, NoteExpress, Zotero) or BibTeX.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="File to write (default: standard output).",
)
def export(
    query: str,
    index: Path | None,
    filters: tuple[str, ...],
    within: tuple[str, ...],
    sort: str,
    fmt: str,
    output: Path | None,
) -> None:
    """Write every hit of a search, in the formats of the web app's export.

    Each row holds the hit's fields and its url: $REPLY_ARCHIVE_BASE_URL followed by
    /replies/<id> when that variable is set, else the path alone.

    \b
    Examples:
        reply-archive export -f year=2023 --format xlsx -o replies-2023.xlsx
        reply-archive export '"现答复如下"' --sort newest > replies.jsonl
        reply-archive export 养老 --within 资金 --format csv -o replies.csv
    """
    from .formats import EXPORT_COLUMNS, FORMATS, hit_row

    chosen = _facet_filters(filters)
    with _reported():
        hits = _index(index).export(query, filters=chosen, sort=sort, within=within)
    base = (os.environ.get(config.BASE_URL_ENV) or "").rstrip("/")
    rows = (hit_row(hit, f"{base}/replies/{hit.id}") for hit in hits)
    # Written once whole: an export that fails on the way leaves no half a file.
    body = b"".join(FORMATS[fmt].writer(rows, EXPORT_COLUMNS))
    if output is None:
        sys.stdout.buffer.write(body)
        return
    try:
        output.write_bytes(body)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{output}: {len(hits)} replies", err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@_archive_option
@_index_option
def serve(host: str, port: int, archive: Path | None, index: Path | None) -> None:
    """Serve the web app. With no archive given or configured, serve the bundled samples.

    \b
    Example:
        reply-archive serve --port 8080
    """
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from reply_archive.archive.ingest import ingest_sources, iter_sources
    from reply_archive.indexer.analysis import segmenter

    from . import create_app, reply_index

    archive, index = config.archive_dir(archive), config.index_dir(index)
    with _reported():
        if not archive.is_dir():
            click.echo(f"{archive}: no archive yet; ingesting the bundled sample replies")
            _print_report(ingest_sources(iter_sources([data.path("seed")]), archive), archive)
            _print_report(ingest_sources(iter_sources([data.path("samples")]), archive, sample=True), archive)
        run = _refresh(archive, index)
        skipped = f", {len(run.errors)} malformed records skipped" if run.errors else ""
        click.echo(run.describe(_index(index).backend.where()) + skipped)
        segmenter()  # load the dictionary now, not on the first user's request
        app = create_app(ARCHIVE_DIR=str(archive), INDEX_DIR=str(index))
        with app.app_context():
            reply_index().search("")  # open the app's index and read its facet arrays once
    click.echo(f"serving {archive} on http://{host}:{port}/")
    class Handler(WSGIRequestHandler):
        def version_string(self) -> str:
            return "reply-archive"  # not Werkzeug's and Python's versions: a map for attackers

    run_simple(host, port, app, threaded=True, use_debugger=False, use_reloader=False, request_handler=Handler)
