"""What the machine lets this process use."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Return the CPU cores this process may run on (its affinity: a container's or a
    ``taskset``'s share, not every core of the machine)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
