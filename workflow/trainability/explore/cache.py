"""Computed grids on disk, under a key of everything that defines their bits.

The key of a grid (a whole grid, or a tile of the explorer's pyramid) is computed from its own
metadata (`trainability.train.sweep.sweep_meta`,
stored in every ``.npz``): the condition (every field, the step count included), the window's
four bounds, and the engine knobs that change results (engine, dtype, chunk, early exit) plus
the versions of the library, JAX, jaxlib and NumPy; a tile adds its index and split, a
label-only grid its refinement stride. The threads, block and segment sizes are
left out: grids do not depend on them (`trainability.train.sweep`). With D the canonical JSON of
those fields (sorted keys, floats in shortest round-trip form),

    key = sha256(D)[:32],    file = {key}-{nx}x{ny}.npz

(nx, ny: the grid's or the tile's pixels). Because the key is a function of the file's
metadata only, a grid the workflow wrote (``results/…/overview.npz``, zoom keyframes) has the
key the explorer would give it: `GridCache.index` reads the metadata of a results tree and
serves those files too (read only; they are never evicted or changed).

The cache holds at most ``max_bytes``; after each write the least recently used files (by
modification time, refreshed on every hit) are deleted until it fits, the newest always kept.
Files are written atomically (`trainability.core.grid.save_grid`), so a killed server leaves none
half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from trainability.core.grid import Grid, save_grid, window_bounds

KEY_FIELDS = ("engine", "dtype", "chunk", "early_exit")
OPTIONAL_KEY_FIELDS = ("arithmetic",)  # float64x2's; absent (None) from float64 grids


def grid_key(meta: dict, tiles: bool = False) -> tuple[str, int, int] | None:
    """(key, nx, ny) of a whole grid from its metadata; None for foreign metadata, and for a
    tile unless ``tiles`` (then the key also holds the tile's index and split, and nx, ny
    are the tile's)."""
    try:
        tile = meta.get("tile")
        if tile is not None and not tiles:
            return None
        w = meta["window"]
        definition = {
            "condition": meta["condition"],
            # exact bounds as their decimal text: two deep windows may round to one double
            "bounds": [b if isinstance(b, str) else float(b) for b in window_bounds(meta)],
            "engine": {k: meta[k] for k in KEY_FIELDS}
            | {k: meta.get(k) for k in OPTIONAL_KEY_FIELDS},
            "versions": meta["versions"],
        }
        if meta.get("refine"):  # label-only refinement (absent: every pixel computed)
            definition["refine"] = int(meta["refine"])
        nx, ny = int(w["nx"]), int(w["ny"])
        if tile is not None:
            definition["tile"] = [int(t) for t in tile]
            definition["tiles"] = [int(t) for t in meta["tiles"]]
            ti, tj = definition["tiles"]
            ny, nx = ny // ti, nx // tj  # the pyramid's splits are exact
    except (KeyError, TypeError, ValueError):
        return None
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32], nx, ny


class GridCache:
    """Grids under ``root`` (at most ``max_bytes``), plus read-only grids found elsewhere."""

    def __init__(self, root: str | os.PathLike, max_bytes: int):
        if max_bytes < 1:
            raise ValueError(f"the cache size must be positive, got {max_bytes} bytes")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.found: dict[tuple[str, int, int], Path] = {}
        self._lock = threading.Lock()

    def path(self, key: str, nx: int, ny: int) -> Path:
        return self.root / f"{key}-{nx}x{ny}.npz"

    def file(self, key: str, nx: int, ny: int) -> Path | None:
        """The stored file of this grid (the cache's, refreshed as recently used, else a found
        one), or None."""
        path = self.path(key, nx, ny)
        try:
            os.utime(path)
            return path
        except FileNotFoundError:
            pass
        found = self.found.get((key, nx, ny))
        return found if found is not None and found.is_file() else None

    def put(self, grid: Grid) -> Path:
        """Store a whole grid under its key, then evict down to the size bound."""
        key = grid_key(grid.meta, tiles=True)
        if key is None:
            raise ValueError("only grids with sweep metadata can be cached")
        path = self.path(*key)
        save_grid(path, grid)
        self.evict(keep=path)
        return path

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Delete least recently used files until the cache fits; returns what was deleted."""
        with self._lock:
            files = []
            for p in self.root.glob("*.npz"):
                if p.name.startswith("."):  # a file being written (atomic_path)
                    continue
                try:
                    st = p.stat()
                except FileNotFoundError:
                    continue
                files.append((st.st_mtime_ns, p.name, p, st.st_size))
            files.sort()
            total = sum(size for *_, size in files)
            removed = []
            for _, _, p, size in files:
                if total <= self.max_bytes:
                    break
                if p == keep:
                    continue
                p.unlink(missing_ok=True)
                total -= size
                removed.append(p)
            return removed

    def index(self, results: str | os.PathLike) -> int:
        """Find the whole grids under a results tree (not inside the cache); returns how many."""
        root = Path(results)
        count = 0
        for path in sorted(root.rglob("*.npz")) if root.is_dir() else ():
            if self.root.resolve() in path.resolve().parents:
                continue
            try:
                with np.load(path, allow_pickle=False) as data:
                    meta = json.loads(str(data["meta"]))
            except (OSError, KeyError, ValueError, EOFError):
                continue
            key = grid_key(meta)
            if key is not None:
                self.found[key] = path
                count += 1
        return count
