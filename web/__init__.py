"""The Flask front end: a thin layer over ``indexer.search`` and ``archive.store``.

This package never imports Whoosh; every index access goes through ``indexer``.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from . import config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app; settings come from the environment, instance config or tests."""
    app = Flask(__name__, instance_path=str(config.instance_dir()), instance_relative_config=True)
    app.config.from_mapping(
        ARCHIVE_DIR=str(config.archive_dir()),
        INDEX_DIR=str(config.index_dir()),
        PER_PAGE=20,
        # Absolute links in exports and citations; unset, they follow the request's host.
        BASE_URL=os.environ.get(config.BASE_URL_ENV) or None,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)
    app.json.ensure_ascii = False

    from . import api, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register_error_handlers(app)

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
