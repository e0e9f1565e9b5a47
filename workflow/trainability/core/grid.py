"""The result format: a computed grid and its ``.npz`` file with JSON metadata.

A grid file holds ``values`` (ny × nx float64, row = y, negative = converged), ``converged``
(bool), ``x`` and ``y`` (hyperparameter values, not log10), ``diverged_at`` (step of early exit,
−1 if never), optionally ``probe`` and ``blowup_at`` (first step that blew up, −1 if stable:
the stability label of `trainability.train.measure`), and ``meta`` (a JSON string: condition,
window, tile, steps, seed, engine, dtype, versions). Files are written atomically
(`trainability.core.atomic`).

A grid swept with label-only refinement (``Engine(refine=s)``, `trainability.train.refine`) also
holds
``computed`` (bool): where it is False the label was inferred, not trained, the value is NaN and
``diverged_at`` and ``blowup_at`` are ``NOT_COMPUTED`` (−2); its meta has ``refine`` = s.
Consumers that need values call `need_values` (one-line refusal); the dimension reads
`phase_field`, which is the values for a full grid and ∓1 from the labels for a refined one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from trainability.core.atomic import atomic_path


@dataclass(frozen=True)
class Grid:
    """A computed window (or tile of one), as the project's .npz files hold it (README)."""

    values: np.ndarray  # (ny, nx) float64, negative = converged
    converged: np.ndarray  # (ny, nx) bool
    x: np.ndarray  # (nx,) hyperparameter values
    y: np.ndarray  # (ny,)
    diverged_at: np.ndarray  # (ny, nx) int, step of early exit, −1 if never retired
    # by keyword only, so that a field added here can never silently take another's argument
    probe: np.ndarray | None = field(default=None, kw_only=True)  # (ny, nx) output at the probe
    blowup_at: np.ndarray | None = field(default=None, kw_only=True)  # (ny, nx) first blow-up, −1
    computed: np.ndarray | None = field(default=None, kw_only=True)  # (ny, nx) refined grids only
    meta: dict = field(default_factory=dict, kw_only=True)

    @property
    def bounds(self) -> tuple:
        """The window's (x_min, x_max, y_min, y_max) as `window_bounds` reads them."""
        return window_bounds(self.meta)

    @property
    def refined(self) -> bool:
        """Whether some labels were inferred, not computed (label-only refinement)."""
        return self.computed is not None and not bool(self.computed.all())


GRID_KEYS = ("values", "converged", "x", "y", "diverged_at")
BOUNDS = ("x_min", "x_max", "y_min", "y_max")  # the window's bounds in its metadata
OPTIONAL_KEYS = ("probe", "blowup_at", "computed")
NOT_COMPUTED = -2  # diverged_at and blowup_at of a pixel whose label was inferred


def window_bounds(meta: dict) -> tuple:
    """(x_min, x_max, y_min, y_max) of a grid's window from its metadata, as stored: numbers,
    or decimal text where a bound is exact (`trainability.core.window.Window.to_dict`). Callers
    convert as they need: `trainability.core.coordinates.coordinate` keeps every digit,
    ``float`` rounds to the nearest double."""
    window = meta["window"]
    return tuple(window[key] for key in BOUNDS)


def need_values(grid: Grid, what: str) -> None:
    """Refuse, in one line, a grid whose values are not all computed for ``what`` needs them."""
    if grid.refined:
        share = float(np.mean(grid.computed))
        raise ValueError(
            f"{what} needs every pixel's value, but this grid was swept with label-only "
            f"refinement (refine = {grid.meta.get('refine')}; {share:.0%} of its pixels "
            "computed): sweep it without refine"
        )


def phase_field(grid: Grid) -> np.ndarray:
    """What the dimension reads: the values (negative = converged), or for a refined grid −1
    (converged) and +1 (diverged) from its labels — the same signs, hence the same edges."""
    computed = getattr(grid, "computed", None)  # absent from grid-like objects with values
    if computed is None or computed.all():
        return grid.values
    return np.where(grid.converged, -1.0, 1.0)


def save_grid(path, grid: Grid) -> None:
    """Write ``grid`` as an ``.npz`` file, atomically."""
    arrays = {key: getattr(grid, key) for key in GRID_KEYS}
    for key in OPTIONAL_KEYS:
        if getattr(grid, key) is not None:
            arrays[key] = getattr(grid, key)
    arrays["meta"] = np.array(json.dumps(grid.meta, sort_keys=True))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_grid(path) -> Grid:
    """Read a grid written by `save_grid` (clear `ValueError` if it is not one)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"cannot read grid file {path}: {err}") from err
    missing = [k for k in (*GRID_KEYS, "meta") if k not in arrays]
    if missing:
        raise ValueError(f"{path} is not a grid file: it lacks {', '.join(missing)}")
    meta = json.loads(str(arrays.pop("meta")))
    optional = {k: arrays.get(k) for k in OPTIONAL_KEYS}
    return Grid(**{k: arrays[k] for k in GRID_KEYS}, **optional, meta=meta)


def merge_tiles(tiles: list[Grid]) -> Grid:
    """Assemble the tiles of one window (any order) into the whole grid.

    Each tile's meta names its position (``tile``, ``tiles``); all tiles must come from the
    same computation (identical meta apart from the tile index and per-tile counts,
    `PER_TILE`, which add up) and cover the split exactly.
    """
    if not tiles:
        raise ValueError("merge_tiles needs at least one tile")
    ti, tj = tiles[0].meta["tiles"]
    common = _without_tile(tiles[0].meta)
    by_index = {}
    for grid in tiles:
        if _without_tile(grid.meta) != common:
            raise ValueError("tiles come from different computations (their meta differ)")
        by_index[tuple(grid.meta["tile"])] = grid
    expected = {(i, j) for i in range(ti) for j in range(tj)}
    if set(by_index) != expected:
        raise ValueError(f"tiles do not cover the {ti}x{tj} split: got {sorted(by_index)}")

    def block(key):
        return np.block([[getattr(by_index[(i, j)], key) for j in range(tj)] for i in range(ti)])

    x = np.concatenate([by_index[(0, j)].x for j in range(tj)])
    y = np.concatenate([by_index[(i, 0)].y for i in range(ti)])
    optional = {k: block(k) if getattr(tiles[0], k) is not None else None for k in OPTIONAL_KEYS}
    meta = dict(common, tile=None, tiles=[1, 1])
    for key in PER_TILE:
        if key in tiles[0].meta:
            meta[key] = sum(grid.meta[key] for grid in tiles)
    return Grid(
        values=block("values"),
        converged=block("converged"),
        x=x,
        y=y,
        diverged_at=block("diverged_at"),
        **optional,
        meta=meta,
    )


# counts of a tile's pixels in its meta, summed over the tiles by `merge_tiles`: pixels the
# perturbation arithmetic computed again in double-double
# (`trainability.train.arithmetics.perturbation`)
PER_TILE = ("fallback_pixels",)


def _without_tile(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k not in ("tile", *PER_TILE)}
