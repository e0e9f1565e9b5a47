"""Zoom sequences: keyframe windows that halve, and the path they follow.

A zoom is K square keyframe windows in log10 hyperparameter space, each half as wide as the one
before (exactly: widths are power-of-two multiples of one another) and lying inside it, which the
video needs. K keyframes reach log10(2^(K−1)) ≈ 0.301·(K−1) decades below the outer window.

Three ways to place them:

- **Concentric on a panel** (`concentric_path`, config ``zoom.target: panel``), the way the
  paper's own tool builds its sequences: the user's deepest window (here: the condition's panel,
  the paper's published window) is one keyframe, and the keyframes above it are 2×, 4×, … as
  wide about the same centre, up to the first that is at least ``outer_width`` decades wide (the
  paper stops at 6). The panel's keyframe is the panel's bounds bit for bit; the one 2^j times
  as wide is c ± 2^j·h, with c the panel's centre and h its half-width.
- **Around a given centre** (`fixed_path`, ``zoom.target: [log10 x, log10 y]``).
- **Automatically** (`auto_path`, ``zoom.target: auto``), for conditions without a published
  window: each level is swept at low resolution and the next centre is a boundary point whose
  half-width window holds the most boundary *among clean windows*: windows whose boundary is a
  few large structures, not speckle (`trainability.analysis.dimension.boundary_texture`). Following
  raw edge density alone dives into the chaotic band where nearly every pixel flips.

Keyframes below a panel go on by `descend`: the centre is kept while the next, half-width window
around it holds a clean boundary; where it does not, the next centre is the nearest boundary point
of the central half of the current keyframe whose window is clean. Where no candidate window is
clean (the boundary has turned to speckle at the search resolution), the search takes the best
unclean one and says so: every searched level records its texture and ``next_clean`` in the path
file. The search is deterministic: ties go to the nearest point, then the lowest pixel index.

A fourth, `boundary_path` (``zoom.target: boundary``), is concentric about a boundary point found
by bisection (`trainability.zoom.boundary`) to a small fraction of the deepest keyframe's pixel.

**Exact keyframes.** Below ~14 decades the bounds of a keyframe cannot be doubles (its two edges
round to the same float64). A path is then carried in exact rational arithmetic (bounds are
`fractions.Fraction`, see `trainability.core.coordinates`): it is exact from the start when any
input
is exact (decimal text, a `Fraction` or `Decimal`), and otherwise switches to exact arithmetic at
the first keyframe whose float64 bounds would fail float64's guard at the keyframe resolution
(``resolution``); a float bound stands for the decimal it prints as. Paths float64 resolves are
computed in floats exactly as before. Exact bounds are terminating decimals (widths are the outer
width over powers of two, re-centred positions are snapped to 1/2²⁰ of the keyframe), so the path
file writes them as decimal text with every digit and reads them back exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np

from trainability.analysis.dimension import boundary_texture, edges
from trainability.core.atomic import atomic_path
from trainability.core.condition import Condition
from trainability.core.coordinates import coordinate, exact, is_exact, text
from trainability.core.precision import PrecisionError, float64x2_axes
from trainability.core.window import Window
from trainability.train.sweep import Engine, sweep

Bounds = tuple[float, float, float, float]  # floats, or exact `Fraction`s past float64
SNAP = 2**20  # exact re-centred positions are multiples of a keyframe's width / SNAP
POINT_PIXELS = 16  # `boundary_path` locates its point to 1/16 of the deepest keyframe's pixel


@dataclass(frozen=True)
class ZoomPath:
    """The keyframes of one zoom as log10 bounds (x_min, x_max, y_min, y_max), outermost first,
    with what the search measured at each level (``notes``: texture, whether it re-centred)."""

    bounds: tuple[Bounds, ...]
    notes: tuple[dict, ...] = field(default=(), compare=False)

    @property
    def levels(self) -> int:
        return len(self.bounds)

    @property
    def centres(self) -> tuple[tuple[float, float], ...]:
        return tuple(_centre(b) for b in self.bounds)

    @property
    def exact(self) -> bool:
        """Whether any keyframe bound is an exact number (the path went past float64)."""
        return any(is_exact(v) for b in self.bounds for v in b)

    @property
    def outer_width(self) -> float:
        return self.width(0)

    def width(self, k: int) -> float:
        """Width of keyframe k in decades (its x extent; keyframes are square), as a float
        (computed exactly from exact bounds)."""
        x0, x1, _, _ = self.bounds[k]
        return float(exact(x1) - exact(x0)) if _any_exact(x0, x1) else x1 - x0

    def window(self, k: int, resolution: int) -> Window:
        """Square keyframe window k at ``resolution`` pixels per side."""
        return Window.square(self.bounds[k], resolution)

    def to_dict(self) -> dict:
        """Plain data; exact bounds and centres as decimal text with every digit."""
        return {
            "keyframes": [
                {"k": k, "bounds": _plain(b), "centre": _plain(c), "width": self.width(k),
                 **(self.notes[k] if k < len(self.notes) else {})}
                for k, (b, c) in enumerate(zip(self.bounds, self.centres, strict=True))
            ]
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> ZoomPath:
        keyframes = data["keyframes"]
        notes = tuple(
            {k: v for k, v in kf.items() if k not in ("k", "bounds", "centre", "width")}
            for kf in keyframes
        )
        return cls(tuple(tuple(_read(b) for b in kf["bounds"]) for kf in keyframes), notes)


def _any_exact(*values) -> bool:
    """Whether any value is exact (or must be read as such: decimal text, `Decimal`)."""
    return any(is_exact(v) or isinstance(v, str | Decimal) for v in values)


def _centre(bounds) -> tuple:
    x0, x1, y0, y1 = bounds
    if _any_exact(*bounds):
        return tuple(coordinate((exact(a) + exact(b)) / 2) for a, b in ((x0, x1), (y0, y1)))
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def _plain(values) -> list:
    """Bounds as JSON holds them: floats as numbers, exact ones as their decimal text."""
    return [text(v) if is_exact(v) else v for v in values]


def _read(value):
    """A bound from the path file: decimal text read exactly, numbers as floats (as written)."""
    return coordinate(value) if isinstance(value, str) else float(value)


def _square(centre: tuple[float, float], width: float) -> Bounds:
    if _any_exact(*centre, width):  # exact arithmetic: every digit kept
        (cx, cy), half = (exact(c) for c in centre), exact(width) / 2
        return tuple(coordinate(v) for v in (cx - half, cx + half, cy - half, cy + half))
    (cx, cy), half = centre, width / 2
    return (cx - half, cx + half, cy - half, cy + half)


def _resolves(bounds: Bounds, resolution: int | None) -> bool:
    """Whether float64 draws the float keyframe ``bounds`` at ``resolution`` (its guard);
    True without a resolution (the caller guards)."""
    if resolution is None:
        return True
    try:
        Window.square(bounds, resolution).axes()
    except ValueError:  # a PrecisionError, or bounds already equal as doubles
        return False
    return True


def levels_for_depth(depth_decades: float, doublings: int = 1) -> int:
    """Number of keyframes K whose last is at least ``depth_decades`` below the first, each
    2^``doublings`` times narrower than the one before."""
    if not depth_decades >= 0:
        raise ValueError(f"zoom depth must be >= 0 decades, got {depth_decades}")
    if depth_decades > 300:  # float64 spans ~600 decades and resolves ~15 below any window
        raise ValueError(f"zoom depth must be at most 300 decades, got {depth_decades}")
    return math.ceil(depth_decades / (doublings * math.log10(2)) - 1e-9) + 1


def fixed_path(
    target: tuple[float, float],
    outer_width: float,
    levels: int,
    *,
    doublings: int = 1,
    resolution: int | None = None,
) -> ZoomPath:
    """Concentric keyframes around ``target`` (log10 x, log10 y), the outer one
    ``outer_width`` decades wide, each 2^``doublings`` times narrower than the one before; in
    exact arithmetic when an input is exact or float64 cannot draw the deepest keyframe at
    ``resolution`` (module docstring)."""
    ratio = 2**doublings
    if not _any_exact(*target, outer_width):
        centre = (float(target[0]), float(target[1]))
        path = tuple(_square(centre, outer_width / float(ratio) ** k) for k in range(levels))
        if _resolves(path[-1], resolution):
            return ZoomPath(path)
    centre, outer = tuple(exact(c) for c in target), exact(outer_width)
    return ZoomPath(tuple(_square(centre, outer / ratio**k) for k in range(levels)))


def panel_levels(panel: Bounds, min_outer_width: float) -> int:
    """m such that 2^m × the panel's width is the first doubling ≥ ``min_outer_width``."""
    x0, x1, y0, y1 = panel
    if _any_exact(*panel):
        width = float(min(exact(x1) - exact(x0), exact(y1) - exact(y0)))
    else:
        width = min(x1 - x0, y1 - y0)
    return max(0, math.ceil(math.log2(min_outer_width / width) - 1e-12))


def concentric_path(panel: Bounds, min_outer_width: float = 6.0) -> ZoomPath:
    """Keyframes 2^m, …, 2, 1 times the panel's size about its centre (module docstring): the
    last is the panel itself, bit for bit; the first is ≥ ``min_outer_width`` decades wide.
    An exact panel gives exact keyframes."""
    if _any_exact(*panel):
        x0, x1, y0, y1 = (exact(b) for b in panel)
        centre, m = ((x0 + x1) / 2, (y0 + y1) / 2), panel_levels(panel, min_outer_width)
        half = ((x1 - x0) / 2, (y1 - y0) / 2)
        outer = tuple(
            tuple(coordinate(c + s * h * 2**j) for c, h in zip(centre, half, strict=True)
                  for s in (-1, 1))
            for j in range(m, 0, -1)
        )  # fmt: skip
        return ZoomPath((*outer, tuple(coordinate(b) for b in (x0, x1, y0, y1))))
    x0, x1, y0, y1 = (float(b) for b in panel)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    m = panel_levels(panel, min_outer_width)
    outer = tuple(
        (cx - hx * 2.0**j, cx + hx * 2.0**j, cy - hy * 2.0**j, cy + hy * 2.0**j)
        for j in range(m, 0, -1)
    )
    return ZoomPath((*outer, (x0, x1, y0, y1)))


def boundary_path(
    cond: Condition,
    line: tuple,
    outer_width: float,
    levels: int,
    *,
    doublings: int = 1,
    resolution: int = 64,
    points: int = 17,
    engine: Engine | None = None,
) -> ZoomPath:
    """Concentric keyframes (`fixed_path`, exact) about the boundary point that
    `trainability.zoom.boundary.locate` finds on ``line`` = (x_a, x_b, y), located to
    1/`POINT_PIXELS` of a pixel of the deepest keyframe at ``resolution``; the search is in
    keyframe 0's note. A float64 engine searches with ``auto`` (float64 while it resolves the
    search's rows, which may go below the keyframes)."""
    from trainability.zoom.boundary import locate

    engine = engine or Engine()
    if engine.dtype == "float64":
        engine = dataclasses.replace(engine, dtype="auto")
    deepest = exact(outer_width) / 2 ** (doublings * (levels - 1))
    point = locate(cond, line, deepest / (POINT_PIXELS * (resolution - 1)), engine, points)
    path = fixed_path((point.x, point.y), exact(outer_width), levels, doublings=doublings)
    return ZoomPath(path.bounds, ({"boundary_point": point.to_dict()},))


def check_precision(
    path_or_centre,
    outer_width: float,
    levels: int,
    resolution: int,
    *,
    doublings: int = 1,
    dtype: str = "float64",
) -> None:
    """Raise `PrecisionError` if the deepest keyframe around this centre (or, for an unknown
    auto path, anywhere with coordinates this large) is past the resolution of ``dtype``:
    float64's, or with ``float64x2`` and ``auto`` the double-double guard's."""
    cx, cy = (v if _any_exact(v) else float(v) for v in path_or_centre)  # numpy: float
    shrink = 2 ** (doublings * (levels - 1))
    if dtype in ("float64x2", "auto"):
        deepest = _square((cx, cy), exact(outer_width) / shrink)
        float64x2_axes(Window.square(deepest, resolution))
        return
    cx, cy = float(cx), float(cy)
    half = outer_width / float(shrink) / 2
    if not (cx - half < cx + half and cy - half < cy + half):
        raise PrecisionError(
            f"a zoom {doublings * (levels - 1)} doublings below {float(outer_width):g} decades is "
            f"{2 * half:.2g} decades wide, below float64's resolution around ({cx:.4g}, "
            f"{cy:.4g}); zoom less deep or use dtype float64x2 (or auto)"
        )
    Window(cx - half, cx + half, cy - half, cy + half, resolution, resolution).axes()


def auto_path(
    cond: Condition,
    centre: tuple[float, float],
    width: float,
    levels: int,
    search_resolution: int = 32,
    engine: Engine | None = None,
    *,
    resolution: int | None = None,
) -> ZoomPath:
    """Descend level by level from the square window (``centre``, ``width``), re-centring on
    the boundary point of richest boundary density among clean windows. ``resolution``: the
    keyframes' (float64 or exact arithmetic, module docstring)."""
    return _search(cond, ZoomPath((_square(centre, width),)), levels, search_resolution, engine,
                   keep_centre=False, resolution=resolution)  # fmt: skip


def descend(
    cond: Condition,
    path: ZoomPath,
    levels: int,
    search_resolution: int = 32,
    engine: Engine | None = None,
    *,
    resolution: int | None = None,
) -> ZoomPath:
    """Extend ``path`` to ``levels`` keyframes below its last one, keeping the centre while the
    next window holds a clean boundary, else moving to the nearest clean boundary point."""
    return _search(cond, path, levels, search_resolution, engine, keep_centre=True,
                   resolution=resolution)  # fmt: skip


def _search(cond, path, levels, search_resolution, engine, *, keep_centre, resolution) -> ZoomPath:
    bounds, notes = list(path.bounds), list(path.notes) + [{}] * (path.levels - len(path.notes))
    while len(bounds) < levels:
        k = len(bounds) - 1
        window = Window.square(bounds[k], search_resolution)
        values = sweep(cond, window, engine or Engine()).values
        position, note = _next_position(values, window, k, keep_centre)
        notes[k] = {**notes[k], **note}
        bounds.append(_next_bounds(bounds[k], window, position, resolution))
        notes.append({})
    return ZoomPath(tuple(bounds), tuple(notes))


def _next_bounds(bounds: Bounds, window: Window, position, resolution: int | None) -> Bounds:
    """The half-width keyframe about grid position ``position`` = (row, column) of the swept
    ``window`` (None: its centre), in floats while float64 draws it at ``resolution``, else in
    exact arithmetic, the position snapped to 1/`SNAP` of the window."""
    if not _any_exact(*bounds):
        if position is None:
            centre = window.centre()
        else:
            ci, cj = position
            step_x = (window.x_max - window.x_min) / (window.nx - 1)
            step_y = (window.y_max - window.y_min) / (window.ny - 1)
            centre = (window.x_min + cj * step_x, window.y_min + ci * step_y)
        following = _square(centre, (bounds[1] - bounds[0]) / 2)
        if _resolves(following, resolution):
            return following
    x0, x1, y0, y1 = (exact(b) for b in bounds)
    if position is None:
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    else:
        ci, cj = (Fraction(round(Fraction(p) * SNAP / (window.nx - 1)), SNAP) for p in position)
        centre = (x0 + cj * (x1 - x0), y0 + ci * (y1 - y0))
    return _square(centre, (x1 - x0) / 2)


def _next_position(values: np.ndarray, window: Window, level: int, keep_centre: bool):
    """Grid position (row, column) of the centre of keyframe ``level`` + 1 inside ``window``
    (swept as ``values``; None: its centre) and a note of what the search measured. Positions
    are in grid-pixel units: an edge pixel (i, j) sits at (i + ½, j + ½), and the half-width
    window about (ci, cj) spans ci ± (n − 1)/4."""
    n = values.shape[0]
    reach = (n - 1) / 4
    mid = (n - 1) / 2

    def part(ci: float, cj: float) -> np.ndarray:
        rows = slice(math.ceil(ci - reach), math.floor(ci + reach) + 1)
        cols = slice(math.ceil(cj - reach), math.floor(cj + reach) + 1)
        return values[rows, cols]

    note = {"texture": asdict(boundary_texture(values))}
    if keep_centre and _clean_boundary(part(mid, mid)):
        return None, {**note, "recentred": False}
    edge = edges(values)
    inside = np.argwhere(edge)
    inside = inside[np.all(np.abs(inside + 0.5 - mid) <= reach, axis=1)]  # next window fits
    if inside.size == 0:
        raise ValueError(
            f"the zoom lost the boundary at level {level} (window "
            f"{[text(b) for b in window.bounds]}): no boundary in its central half; zoom less "
            f"deep, raise zoom.search_resolution or give zoom.target"
        )
    best = None
    for i, j in inside:
        ci, cj = i + 0.5, j + 0.5
        sub = part(ci, cj)
        distance = abs(ci - mid) + abs(cj - mid)
        richness = 0 if keep_centre else -int(edges(sub).sum())
        key = (not _clean_boundary(sub), richness, distance, i, j)  # clean windows first
        best = min(best, (key, ci, cj)) if best else (key, ci, cj)
    key, ci, cj = best
    return (ci, cj), {**note, "recentred": True, "next_clean": not key[0]}


def _clean_boundary(values: np.ndarray) -> bool:
    """Both phases, and a boundary of large structures rather than speckle."""
    return bool(edges(values).any() and boundary_texture(values).clean)


def save_path(path_file, path: ZoomPath) -> None:
    with atomic_path(path_file) as tmp:
        tmp.write_text(json.dumps(path.to_dict(), indent=1))


def load_path(path_file) -> ZoomPath:
    return ZoomPath.from_dict(json.loads(open(path_file).read()))
