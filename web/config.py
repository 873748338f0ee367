"""Where the archive and the index live, from the environment or the defaults."""

from __future__ import annotations

import os
from pathlib import Path

ARCHIVE_ENV = "REPLY_ARCHIVE_DIR"
INDEX_ENV = "REPLY_ARCHIVE_INDEX"
BASE_URL_ENV = "REPLY_ARCHIVE_BASE_URL"  # the address users reach the archive at
INSTANCE_ENV = "REPLY_ARCHIVE_INSTANCE"  # the folder of the deployment's own config.py
# Relative to the working directory: `make serve` runs from the checkout, so the demo
# archive and its index land in ./var (git-ignored).
DEFAULT_ARCHIVE = Path("var/archive")
DEFAULT_INDEX = Path("var/index")
DEFAULT_INSTANCE = Path("instance")


# Folders are made absolute when configuration is read: a relative one would be
# resolved later against whatever folder the reader assumes (Flask's send_file takes
# the package's folder: the original-file download was a 500).


def archive_dir(given: str | Path | None = None) -> Path:
    """Return the archive folder: the given one, $REPLY_ARCHIVE_DIR, or the default."""
    return Path(given or os.environ.get(ARCHIVE_ENV) or DEFAULT_ARCHIVE).absolute()


def index_dir(given: str | Path | None = None) -> Path:
    """Return the index folder: the given one, $REPLY_ARCHIVE_INDEX, or the default."""
    return Path(given or os.environ.get(INDEX_ENV) or DEFAULT_INDEX).absolute()


def instance_dir() -> Path:
    """Return the instance folder (which may hold ``config.py``), made absolute: Flask
    cannot derive one for a package of a namespace."""
    return Path(os.environ.get(INSTANCE_ENV) or DEFAULT_INSTANCE).absolute()
