"""Read-only input data shipped with the product: dictionaries, tables, samples."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(*parts: str) -> Path:
    """Return the filesystem path of a file or folder under ``data/``."""
    return Path(str(files(__name__).joinpath(*parts)))
