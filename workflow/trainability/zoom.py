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
  few large structures, not speckle (`trainability.dimension.boundary_texture`). Following raw
  edge density alone dives into the chaotic band where nearly every pixel flips.

Keyframes below a panel go on by `descend`: the centre is kept while the next, half-width window
around it holds a clean boundary; where it does not, the next centre is the nearest boundary point
of the central half of the current keyframe whose window is clean. Where no candidate window is
clean (the boundary has turned to speckle at the search resolution), the search takes the best
unclean one and says so: every searched level records its texture and ``next_clean`` in the path
file. The search is deterministic: ties go to the nearest point, then the lowest pixel index.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from trainability.atomic import atomic_path
from trainability.condition import Condition
from trainability.dimension import boundary_texture, edges
from trainability.sweep import Engine, sweep
from trainability.window import PrecisionError, Window

Bounds = tuple[float, float, float, float]


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
        return tuple(((x0 + x1) / 2, (y0 + y1) / 2) for x0, x1, y0, y1 in self.bounds)

    @property
    def outer_width(self) -> float:
        return self.width(0)

    def width(self, k: int) -> float:
        """Width of keyframe k in decades (its x extent; keyframes are square)."""
        x0, x1, _, _ = self.bounds[k]
        return x1 - x0

    def window(self, k: int, resolution: int) -> Window:
        """Square keyframe window k at ``resolution`` pixels per side."""
        return Window.square(self.bounds[k], resolution)

    def to_dict(self) -> dict:
        return {
            "keyframes": [
                {"k": k, "bounds": list(b), "centre": list(c), "width": self.width(k),
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
        return cls(tuple(tuple(float(b) for b in kf["bounds"]) for kf in keyframes), notes)


def _square(centre: tuple[float, float], width: float) -> Bounds:
    (cx, cy), half = centre, width / 2
    return (cx - half, cx + half, cy - half, cy + half)


def levels_for_depth(depth_decades: float) -> int:
    """Number of keyframes K whose last is at least ``depth_decades`` below the first."""
    if not depth_decades >= 0:
        raise ValueError(f"zoom depth must be >= 0 decades, got {depth_decades}")
    if depth_decades > 300:  # float64 spans ~600 decades and resolves ~15 below any window
        raise ValueError(f"zoom depth must be at most 300 decades, got {depth_decades}")
    return math.ceil(depth_decades / math.log10(2) - 1e-9) + 1


def fixed_path(target: tuple[float, float], outer_width: float, levels: int) -> ZoomPath:
    """Concentric keyframes around ``target`` (log10 x, log10 y), the outer one
    ``outer_width`` decades wide."""
    centre = (float(target[0]), float(target[1]))
    return ZoomPath(tuple(_square(centre, outer_width / 2.0**k) for k in range(levels)))


def panel_levels(panel: Bounds, min_outer_width: float) -> int:
    """m such that 2^m × the panel's width is the first doubling ≥ ``min_outer_width``."""
    x0, x1, y0, y1 = panel
    width = min(x1 - x0, y1 - y0)
    return max(0, math.ceil(math.log2(min_outer_width / width) - 1e-12))


def concentric_path(panel: Bounds, min_outer_width: float = 6.0) -> ZoomPath:
    """Keyframes 2^m, …, 2, 1 times the panel's size about its centre (module docstring): the
    last is the panel itself, bit for bit; the first is ≥ ``min_outer_width`` decades wide."""
    x0, x1, y0, y1 = (float(b) for b in panel)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    m = panel_levels(panel, min_outer_width)
    outer = tuple(
        (cx - hx * 2.0**j, cx + hx * 2.0**j, cy - hy * 2.0**j, cy + hy * 2.0**j)
        for j in range(m, 0, -1)
    )
    return ZoomPath((*outer, (x0, x1, y0, y1)))


def check_precision(path_or_centre, outer_width: float, levels: int, resolution: int) -> None:
    """Raise `PrecisionError` if the deepest keyframe around this centre (or, for an unknown
    auto path, anywhere with coordinates this large) is past float64's resolution."""
    cx, cy = path_or_centre
    half = outer_width / 2.0 ** (levels - 1) / 2
    if not (cx - half < cx + half and cy - half < cy + half):
        raise PrecisionError(
            f"a zoom {levels - 1} doublings below {outer_width} decades is {2 * half:.2g} decades "
            f"wide, below float64's resolution around ({cx:.4g}, {cy:.4g}); zoom less deep"
        )
    Window(cx - half, cx + half, cy - half, cy + half, resolution, resolution).axes()


def auto_path(
    cond: Condition,
    centre: tuple[float, float],
    width: float,
    levels: int,
    search_resolution: int = 32,
    engine: Engine | None = None,
) -> ZoomPath:
    """Descend level by level from the square window (``centre``, ``width``), re-centring on
    the boundary point of richest boundary density among clean windows."""
    return _search(cond, ZoomPath((_square(centre, width),)), levels, search_resolution, engine,
                   keep_centre=False)  # fmt: skip


def descend(
    cond: Condition,
    path: ZoomPath,
    levels: int,
    search_resolution: int = 32,
    engine: Engine | None = None,
) -> ZoomPath:
    """Extend ``path`` to ``levels`` keyframes below its last one, keeping the centre while the
    next window holds a clean boundary, else moving to the nearest clean boundary point."""
    return _search(cond, path, levels, search_resolution, engine, keep_centre=True)


def _search(cond, path, levels, resolution, engine, *, keep_centre) -> ZoomPath:
    bounds, notes = list(path.bounds), list(path.notes) + [{}] * (path.levels - len(path.notes))
    while len(bounds) < levels:
        k = len(bounds) - 1
        window = Window.square(bounds[k], resolution)
        values = sweep(cond, window, engine or Engine()).values
        centre, note = _next_centre(values, window, k, keep_centre)
        notes[k] = {**notes[k], **note}
        bounds.append(_square(centre, (bounds[k][1] - bounds[k][0]) / 2))
        notes.append({})
    return ZoomPath(tuple(bounds), tuple(notes))


def _next_centre(values: np.ndarray, window: Window, level: int, keep_centre: bool):
    """Centre of keyframe ``level`` + 1 inside ``window`` (swept as ``values``) and a note of
    what the search measured. Positions are in grid-pixel units: an edge pixel (i, j) sits at
    (i + ½, j + ½), and the half-width window about (ci, cj) spans ci ± (n − 1)/4."""
    n = values.shape[0]
    reach = (n - 1) / 4
    mid = (n - 1) / 2

    def part(ci: float, cj: float) -> np.ndarray:
        rows = slice(math.ceil(ci - reach), math.floor(ci + reach) + 1)
        cols = slice(math.ceil(cj - reach), math.floor(cj + reach) + 1)
        return values[rows, cols]

    note = {"texture": asdict(boundary_texture(values))}
    if keep_centre and _clean_boundary(part(mid, mid)):
        return window.centre(), {**note, "recentred": False}
    edge = edges(values)
    inside = np.argwhere(edge)
    inside = inside[np.all(np.abs(inside + 0.5 - mid) <= reach, axis=1)]  # next window fits
    if inside.size == 0:
        raise ValueError(
            f"the zoom lost the boundary at level {level} (window {window.bounds}): no boundary "
            f"in its central half; zoom less deep, raise zoom.search_resolution or give zoom.target"
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
    step_x = (window.x_max - window.x_min) / (window.nx - 1)
    step_y = (window.y_max - window.y_min) / (window.ny - 1)
    centre = (window.x_min + cj * step_x, window.y_min + ci * step_y)
    return centre, {**note, "recentred": True, "next_clean": not key[0]}


def _clean_boundary(values: np.ndarray) -> bool:
    """Both phases, and a boundary of large structures rather than speckle."""
    return bool(edges(values).any() and boundary_texture(values).clean)


def save_path(path_file, path: ZoomPath) -> None:
    with atomic_path(path_file) as tmp:
        tmp.write_text(json.dumps(path.to_dict(), indent=1))


def load_path(path_file) -> ZoomPath:
    return ZoomPath.from_dict(json.loads(open(path_file).read()))
