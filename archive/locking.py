"""The one kind of lock the project takes: a lock file that a second writer finds held.

Ingest locks the archive and a build locks the index folder, each with its own error,
so that a second run fails at once with a message of its own rather than waiting.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold an exclusive lock on the file at ``path``, or raise ``busy()`` at once if
    another process holds it.

    The file (and its folder) is created when missing; it is never truncated, so a lock
    file that is a link to something else leaves that intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy() from None
        try:
            yield
        finally:
            # Closing alone would not release it while a forked child (a build worker)
            # still has the file open: the lock belongs to the file, not to this process.
            fcntl.flock(fh, fcntl.LOCK_UN)
