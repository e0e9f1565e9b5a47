"""What computes one tile of the explorer's pyramid: its sweep, its precision, its cache key.

Tile (z, i, j) of a condition (at the view's step count) in a *mode*, ``full`` (every pixel
trained) or ``labels`` (label-only refinement, `trainability.train.refine`, lattice stride
`LABEL_STRIDE`: only the cells that may hold boundary are trained, the other pixels take their
cell's label and have no value), is

    sweep(cond, *pyramid.sweep_args(z, i, j), engine)

(`trainability.explore.pyramid`) with the study's engine (engine, chunk) and a precision chosen
for the tile:

- ``float64`` while the tile has float64 headroom at n pixels a side (every pixel step at least
  4 ulps of its coordinate and of 10^x's spacing, `headroom`);
- else ``float64x2`` with the explorer's arithmetic (``auto`` unless told: perturbation where it
  computes the condition, else double-double; `trainability.core.precision.resolve_arithmetic`),
  after float64x2's own guard (`trainability.core.precision.float64x2_axes`).

float64x2 tiles are always the sweep of their own window (their pixel values are computed from
exact coordinates, and a perturbation reference belongs to one tile). A tile past float64x2's
guard, or past float64's for a condition float64x2 does not compute, is refused in one sentence
(`TileError`). The key is the cache's (`trainability.explore.cache.grid_key`) of the sweep's
metadata, so a tile computed once is found by every view that meets it, and a workflow grid
with a tile's definition (same condition, steps, engine, window and n pixels) is served as that
tile.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from trainability.core.condition import Condition, check_window_values
from trainability.core.coordinates import exact
from trainability.core.grid import Grid
from trainability.core.precision import (
    FLOAT64X2,
    PrecisionError,
    check,
    float64x2_axes,
    min_width,
    resolve_arithmetic,
)
from trainability.core.window import Window
from trainability.explore.cache import grid_key
from trainability.explore.pyramid import Pyramid
from trainability.train.sweep import Engine, sweep, sweep_meta

MODES = ("full", "labels")
LABEL_STRIDE = 4  # label-only mode: the refinement lattice every 4th pixel (cells of 5 × 5)


class TileError(ValueError):
    """A tile that no precision of the engine can compute (one sentence)."""


class OutsideError(TileError):
    """A tile whose pixels leave an axis's allowed interval (e.g. momentum ≥ 1): not drawn."""


@dataclass(frozen=True)
class TilePlan:
    """Everything that computes tile (z, i, j): the sweep's arguments and the concrete engine."""

    z: int
    i: int
    j: int
    cond: Condition
    window: Window
    tile: tuple[int, int] | None
    tiles: tuple[int, int]
    engine: Engine
    mode: str

    @property
    def key(self) -> tuple[str, int, int]:
        meta = sweep_meta(self.cond, self.window, self.engine, self.tile, self.tiles)
        return grid_key(meta, tiles=True)

    @property
    def arithmetic(self) -> str:
        """What draws the tile: ``float64``, or ``float64x2 (perturbation)`` etc."""
        if self.engine.dtype == FLOAT64X2:
            return f"{FLOAT64X2} ({self.engine.arithmetic})"
        return self.engine.dtype

    def compute(self, cancel=None) -> Grid:
        return sweep(self.cond, self.window, self.engine, self.tile, self.tiles, cancel=cancel)


def plan(
    pyramid: Pyramid,
    cond: Condition,
    engine: Engine,
    z: int,
    i: int,
    j: int,
    mode: str = "full",
    arithmetic: str = "auto",
) -> TilePlan:
    """The tile's plan (module docstring); raises `TileError` (or the pyramid's error for an
    address that names no tile) with one sentence."""
    if mode not in MODES:
        raise TileError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    own = pyramid.tile_window(z, i, j)
    scales = (cond.x_scale, cond.y_scale)
    try:
        check_window_values(cond, own.bounds)
    except ValueError as err:
        raise OutsideError(str(err)) from None
    engine = dataclasses.replace(
        engine, dtype="float64", refine=LABEL_STRIDE if mode == "labels" else 0
    )
    if headroom(own.bounds, scales, pyramid.n) >= 0:
        window, tile, tiles = pyramid.sweep_args(z, i, j)
        return TilePlan(z, i, j, cond, window, tile, tiles, engine, mode)
    try:
        check(cond, engine.name)
        chosen = resolve_arithmetic(arithmetic, cond, engine.name)
    except ValueError as err:
        raise TileError(
            f"tile ({z}, {i}, {j}) is past float64's limit and {err}".replace(
                "; use dtype float64", ""
            ).rstrip(".")
        ) from None
    try:
        float64x2_axes(own, *scales)
    except PrecisionError:
        raise TileError(
            f"tile ({z}, {i}, {j}) is narrower than float64x2 can tell apart at {pyramid.n} "
            f"pixels a side; zoom out"
        ) from None
    engine = dataclasses.replace(engine, dtype=FLOAT64X2, arithmetic=chosen)
    return TilePlan(z, i, j, cond, own, None, (1, 1), engine, mode)


def headroom(bounds, scales: tuple[str, str], n: int) -> float:
    """Decades a window can still narrow at n pixels a side before float64's limit, on its
    tighter axis.

    On a log axis the n pixel values are 10^(x_min + k·w/(n−1)), w = x_max − x_min;
    neighbouring pixels stay distinct only while w/(n−1) is several ulps of the log10
    coordinate and of the relative spacing of 10^x (`trainability.core.precision.min_width`
    is that limit w_min, in decades). On a linear axis w_min = 4·(n−1)·ulp(max |bound|). The
    headroom is log10(w / w_min), the smaller of the two axes'."""
    rooms = []
    for lo, hi, scale in ((*bounds[:2], scales[0]), (*bounds[2:], scales[1])):
        width = float(exact(hi) - exact(lo))
        lo_f, hi_f = float(lo), float(hi)
        if scale == "log":
            limit = min_width(lo_f, hi_f, n)
        else:
            limit = 4 * (n - 1) * float(np.spacing(max(abs(lo_f), abs(hi_f), 1e-300)))
        rooms.append(math.log10(width / limit) if width > 0 else -math.inf)
    return min(rooms)
