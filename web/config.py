"""Where the archive and the index live, from the environment or the defaults."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ARCHIVE_ENV = "REPLY_ARCHIVE_DIR"
INDEX_ENV = "REPLY_ARCHIVE_INDEX"
BASE_URL_ENV = "REPLY_ARCHIVE_BASE_URL"  # the address users reach the archive at
INSTANCE_ENV = "REPLY_ARCHIVE_INSTANCE"  # the folder of the deployment's own config.py
HOME_ENV = "REPLY_ARCHIVE_HOME"  # the folder of all three, unless each is given


def data_home() -> Path:
    """Return the folder that holds the archive, the index and the instance config by
    default: $REPLY_ARCHIVE_HOME, else the user's data folder of the platform (never
    the working directory, which would scatter archives wherever a command ran)."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).absolute()
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:  # the XDG base directory specification
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "reply-archive"


# `make serve` names ./var/archive and ./var/index of the checkout (git-ignored) itself.
DEFAULT_ARCHIVE = data_home() / "archive"
DEFAULT_INDEX = data_home() / "index"
DEFAULT_INSTANCE = data_home() / "instance"


# Folders are made absolute when configuration is read: a relative one would be
# resolved later against whatever folder the reader assumes (Flask's send_file takes
# the package's folder: the original-file download was a 500).


def archive_dir(given: str | Path | None = None) -> Path:
    """Return the archive folder: the given one, $REPLY_ARCHIVE_DIR, or the default."""
    return Path(given or os.environ.get(ARCHIVE_ENV) or data_home() / "archive").absolute()


def index_dir(given: str | Path | None = None) -> Path:
    """Return the index folder: the given one, $REPLY_ARCHIVE_INDEX, or the default."""
    return Path(given or os.environ.get(INDEX_ENV) or data_home() / "index").absolute()


def instance_dir() -> Path:
    """Return the instance folder (which may hold ``config.py``), made absolute: Flask
    cannot derive one for a package of a namespace."""
    return Path(os.environ.get(INSTANCE_ENV) or data_home() / "instance").absolute()
