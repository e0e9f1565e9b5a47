"""Atomic writes: a killed job never leaves a half-written file that looks complete.

Every result file (grids, tables, figures, videos, the report) is written under a hidden temporary
name in its own directory and renamed into place (``os.replace``, atomic on one file system).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); on success rename it into place.

    The temporary name is hidden (leading dot) and unique, and is removed if the body raises.
    The parent directory is created if missing.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def save_figure(fig, path) -> None:
    """Save a matplotlib Figure atomically; the format follows the path's suffix."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt)
