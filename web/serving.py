"""How responses leave the app in production: behind proxies, compressed, revalidated.

- ``REPLY_ARCHIVE_PROXIES`` (config ``PROXIES``) says how many proxies in front of the
  app to believe about the client's address, scheme, host and path prefix
  (``X-Forwarded-For/-Proto/-Host/-Prefix``); 0, the default, believes none of them.
- Text and JSON bodies of :data:`GZIP_MIN_BYTES` or more are gzipped for clients that
  accept it; streamed exports and files go as they are.
- Pages and API answers carry a weak ETag keyed to the index generation (and, for a
  reply, its record file), with ``Cache-Control: no-cache``: a browser or proxy asks
  again each time, gets a bodiless 304 until the next build, and sees a build at once.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from pathlib import Path

from flask import Flask, Response, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from reply_archive.archive.model import ID_PATTERN
from reply_archive.archive.store import record_path
from reply_archive.indexer.errors import IndexerError
from reply_archive.indexer.settings import SettingError

from . import reply_index

# Below about a kilobyte gzip saves less than a packet and costs a compression.
GZIP_MIN_BYTES = 1024

# The endpoints whose answer is fixed by the index generation and the app's own code:
# True for those that also read the reply's record file. Those reading other archive
# files (the 待核对 page reads a page of records, a source download has its own
# validators) are left out, as is any endpoint not listed: never a wrong 304.
KEYED_ENDPOINTS = {
    "pages.index": False,
    "pages.search": False,
    "pages.facet": False,
    "pages.stats": False,
    "pages.commitments": False,
    "pages.reply": True,
    "pages.help": False,
    "api.search": False,
    "api.reply": True,
    "api.similar": False,
    "api.commitments": False,
    "api.export": False,
    "api.stats": False,
}
_STARTED = "serving.started"  # app.extensions key: what changes every ETag on a restart


def init_app(app: Flask) -> None:
    """Trust the configured proxies and install the compression and revalidation hooks."""
    proxies = _proxies(app.config["PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    # A restart may bring new code, templates or settings with the same index: a page
    # revalidated across it is sent anew. Preloaded gunicorn workers share the value.
    app.extensions[_STARTED] = str(time.time_ns())
    app.before_request(_not_modified)
    # after_request hooks run last-registered first: the ETag is set on the plain body,
    # then the body is compressed (the ETag is weak, the same for both encodings).
    app.after_request(_compress)
    app.after_request(_validators)


def _proxies(value: object) -> int:
    """Return the number of trusted proxies a PROXIES setting (text from the environment) says.

    :raise SettingError: for anything but a whole number of 0 or more.
    """
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise SettingError("proxies", value)


def _etag() -> str | None:
    """Return the (weak) ETag of the current request's answer, or None when it has none."""
    keyed = KEYED_ENDPOINTS.get(request.endpoint or "")
    if request.method not in ("GET", "HEAD") or keyed is None:
        return None
    try:
        parts = [current_app.extensions[_STARTED], reply_index().generation_id()]
    except IndexerError:  # no index: the view answers 503, with no ETag
        return None
    if keyed:
        reply_id = (request.view_args or {}).get("reply_id", "")
        if not ID_PATTERN.fullmatch(reply_id):  # no such record (a NUL byte, a path): the view says 404
            return None
        try:
            stat = record_path(Path(current_app.config["ARCHIVE_DIR"]), reply_id).stat()
        except OSError:  # a record in a subfolder, or none: found (or not) by the view
            return None
        parts.append(f"{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _not_modified() -> Response | None:
    """Answer 304 at once, with no search done, when the client holds the current answer."""
    # The generation is read before the view runs: a build swapped in meanwhile makes
    # the ETag older than the body, so the next request gets the new body.
    g.serving_started = time.monotonic()
    g.serving_etag = etag = _etag()
    if etag is None or not request.if_none_match.contains_weak(etag):
        return None
    response = current_app.response_class(status=304)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept-Encoding")
    return response


def _validators(response: Response) -> Response:
    """Let a keyed, successful answer be revalidated: ETag and ``Cache-Control: no-cache``."""
    etag = g.get("serving_etag")
    if etag is None or response.status_code != 200:
        return response
    response.headers["Cache-Control"] = "no-cache"
    # A query that ran out of time answers with part of its matches, and the next try
    # may finish: such an answer must not be kept. It took QUERY_SECONDS at least, so
    # every answer that took that long goes without an ETag.
    if time.monotonic() - g.serving_started < reply_index().settings.query_seconds:
        response.set_etag(etag, weak=True)
    return response


def _compress(response: Response) -> Response:
    """Gzip a text body of a kilobyte or more for a client that accepts gzip."""
    mimetype = response.mimetype or ""
    if (
        response.status_code < 200
        or response.status_code in (204, 304)
        or response.direct_passthrough  # a file sent as it is (static files, sources)
        or response.is_streamed  # an export written row by row: never held whole in memory
        or "Content-Encoding" in response.headers
        or not (mimetype.startswith("text/") or mimetype == "application/json")
    ):
        return response
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES or request.accept_encodings["gzip"] <= 0:
        return response
    # Level 6 (zlib's default) is nearly as small as 9 at a fraction of the time; a
    # zero mtime makes the same body compress to the same bytes.
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response
