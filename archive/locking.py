"""The one kind of lock the project takes: a lock file that a second writer finds held.

Ingest locks the archive and a build locks the index folder, each with its own error,
so that a second run fails at once with a message of its own rather than waiting.
POSIX systems lock with flock, Windows with msvcrt's byte-range lock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fh: IO[str]) -> bool:
        fh.seek(0)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fh: IO[str]) -> bool:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fh: IO[str]) -> None:
        fcntl.flock(fh, fcntl.LOCK_UN)


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
        if not _try_lock(fh):
            raise busy()
        try:
            yield
        finally:
            # Closing alone would not release it while a forked child (a build worker)
            # still has the file open: the lock belongs to the file, not to this process.
            _unlock(fh)
