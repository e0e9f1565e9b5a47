"""Label-only refinement checked against full sweeps on sampled tiles of the refined grid.

A refined grid (`trainability.train.refine`) computes the pixels of a lattice and of the cells
that may hold boundary, and infers every other label from its cell's corners. What the rule can
miss is an island wholly inside an unflagged cell. `check_refinement` measures that on the grid
itself: it splits the grid's window into ``per_side`` × ``per_side`` tiles, sweeps ``count`` of
them in full and compares. Because tiles = whole (`trainability.train.sweep`), a tile swept on
its own holds exactly the pixels a full sweep of the whole window would: its labels are the
truth for that tile, bit for bit.

Which tiles (`sample_tiles`): half of them where the boundary is densest (most label changes
between horizontal and vertical neighbours in the refined grid: where a missed island is
likeliest), the other half drawn uniformly from the rest with a fixed seed (so that the check
also speaks for the typical tile). Each row says how many pixels of the tile were inferred and
how many of them — and of the computed ones, which must be equal by construction — differ.
"""

from __future__ import annotations

import numpy as np

from trainability.core.condition import Condition
from trainability.core.engine import Engine
from trainability.core.grid import Grid
from trainability.core.window import Window
from trainability.train.sweep import sweep

SAMPLE_SEED = 0  # the random half of the sampled tiles
COLUMNS = ("tile", "pixels", "boundary_changes", "inferred", "inferred_wrong", "computed_wrong")


def boundary_density(converged: np.ndarray, per_side: int, window: Window) -> np.ndarray:
    """Label changes between neighbouring pixels, per tile of a ``per_side``² split: a change
    is counted in the tile of the pixel after it (to its right, or below)."""
    changes = np.zeros(converged.shape, dtype=np.int64)
    changes[:, 1:] += converged[:, 1:] != converged[:, :-1]
    changes[1:, :] += converged[1:, :] != converged[:-1, :]
    density = np.zeros((per_side, per_side), dtype=np.int64)
    for i in range(per_side):
        for j in range(per_side):
            rows, cols = window.tile(i, j, (per_side, per_side))
            density[i, j] = changes[rows, cols].sum()
    return density


def sample_tiles(density: np.ndarray, count: int) -> list[tuple[int, int]]:
    """``count`` tiles (i, j): ⌈count/2⌉ of the densest, the rest at random among the others."""
    n = density.size
    count = min(count, n)
    order = np.argsort(-density, axis=None, kind="stable")  # densest first, ties by position
    dense = [int(k) for k in order[: (count + 1) // 2]]
    rest = np.setdiff1d(np.arange(n), dense)
    drawn = np.random.default_rng(SAMPLE_SEED).choice(rest, count - len(dense), replace=False)
    return [tuple(int(v) for v in divmod(k, density.shape[1])) for k in dense + sorted(drawn)]


def check_refinement(
    grid: Grid, cond: Condition, window: Window, engine: Engine, per_side: int, count: int
) -> list[dict]:
    """Rows (one per sampled tile) comparing ``grid``, refined, with full sweeps of its tiles.

    ``window`` is the grid's window and ``engine`` the full sweep's (``refine`` 0)."""
    if engine.refine:
        raise ValueError("the check's engine must sweep every pixel (refine 0)")
    if grid.converged.shape != (window.ny, window.nx):
        raise ValueError(
            f"the grid has {grid.converged.shape[1]}x{grid.converged.shape[0]} pixels, its "
            f"window {window.nx}x{window.ny}"
        )
    computed = np.ones(grid.converged.shape, bool) if grid.computed is None else grid.computed
    density = boundary_density(grid.converged, per_side, window)
    rows = []
    for i, j in sample_tiles(density, count):
        full = sweep(cond, window, engine, tile=(i, j), tiles=(per_side, per_side))
        r, c = window.tile(i, j, (per_side, per_side))
        inferred = ~computed[r, c]
        differ = grid.converged[r, c] != full.converged
        counts = (differ.size, density[i, j], inferred.sum(), (differ & inferred).sum(),
                  (differ & ~inferred).sum())  # fmt: skip
        rows.append(dict(zip(COLUMNS, (f"{i}_{j}", *map(int, counts)), strict=True)))
    return rows
