"""The Flask front end: a thin layer over ``indexer.search`` and ``archive.store``.

This package never imports Whoosh; every index access goes through the app's one
:class:`~indexer.search.ReplyIndex` (:func:`reply_index`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

from . import config

# Flask and the indexer are imported by the functions that use them: the command line
# (web/cli.py) is a module of this package, and `reply-archive --help` would wait for
# them.
if TYPE_CHECKING:
    from flask import Flask

    from reply_archive.indexer.backend import Deadline
    from reply_archive.indexer.search import ReplyIndex


def create_app(test_config: dict[str, Any] | None = None, **overrides: Any) -> Flask:
    """Create the app; settings come from the environment, instance config or tests.

    :param overrides: config keys set last, over the instance config (the CLI's
        ``serve --archive/--index``).
    """
    from flask import Flask
    from flask.json.provider import DefaultJSONProvider

    from reply_archive.indexer.search import ReplyIndex
    from reply_archive.indexer.settings import Settings

    app = Flask(__name__, instance_path=str(config.instance_dir()), instance_relative_config=True)
    app.config.from_mapping(
        ARCHIVE_DIR=str(config.archive_dir()),
        INDEX_DIR=str(config.index_dir()),
        # Absolute links in exports and citations; unset, they follow the request's host.
        BASE_URL=os.environ.get(config.BASE_URL_ENV) or None,
        CORS_ORIGINS=os.environ.get("REPLY_ARCHIVE_CORS_ORIGINS", ""),  # origins whose scripts may read /api, or *
        # Proxies in front whose X-Forwarded-* headers are believed (web/serving.py); 0: none.
        PROXIES=os.environ.get("REPLY_ARCHIVE_PROXIES") or 0,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)
    app.config.update(overrides)
    app.config["ARCHIVE_DIR"] = str(config.archive_dir(app.config["ARCHIVE_DIR"]))
    app.config["INDEX_DIR"] = str(config.index_dir(app.config["INDEX_DIR"]))
    # app.json is typed as the JSONProvider base; this app keeps Flask's default class.
    cast(DefaultJSONProvider, app.json).ensure_ascii = False
    # The tunables (indexer/settings.py): from this config, else the environment.
    app.extensions["reply_index"] = ReplyIndex(app.config["INDEX_DIR"], Settings.from_mapping(app.config))

    from . import api, errors, health, pages, serving

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    errors.register_error_handlers(app)
    serving.init_app(app)

    @app.after_request
    def security_headers(response):
        # No inline script anywhere: a payload that slips into a page cannot run.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def reply_index() -> ReplyIndex:
    """Return the current app's index."""
    from flask import current_app

    return current_app.extensions["reply_index"]


def request_deadline() -> Deadline:
    """Return the time budget of the current request, shared by every query it makes:
    a page of results and its statistics stop together, not each after the limit."""
    from flask import g

    if "deadline" not in g:
        g.deadline = reply_index().deadline()
    return g.deadline
