"""Describe the machine a benchmark ran on, for the report."""

from __future__ import annotations

import os
import platform
from datetime import date


def describe_machine() -> str:
    """Return one line: date, CPU model, cores, memory, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kib = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
            memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return (
        f"machine: {date.today().isoformat()}, {cpu}, {os.cpu_count()} cores{memory}, "
        f"Python {platform.python_version()}"
    )
