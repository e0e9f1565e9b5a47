"""This machine's resources, as a sweep or a plan needs them: its memory."""

from __future__ import annotations

import os
from pathlib import Path


def machine_memory() -> int:
    """Total memory of this machine in bytes (/proc/meminfo, else sysconf)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
