"""Zoom sequences: keyframe windows that halve, and the path they follow (papers.md §1.5).

A zoom is K square keyframe windows in log10 hyperparameter space. Keyframe k has width
w_k = w_0 / 2^k (exactly: a power-of-two division) and centre c_k, so K keyframes reach
log10(2^(K−1)) ≈ 0.301·(K−1) decades below the outer window. Each window lies inside the
previous one, which the video needs.

The centres are either one given target (all keyframes concentric on it, as the paper builds its
sequences by zooming out from a hand-picked deep window) or found automatically
(`auto_path`): starting from the outer window, each level is swept at low resolution, and the
next centre is the boundary point of richest boundary density among those whose (half-width)
window still fits inside the current one, so every keyframe contains boundary by construction.
The search is deterministic: ties go to the point nearest the current centre, then the lowest
pixel index.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from trainability.condition import Condition
from trainability.dimension import edges
from trainability.grid import PrecisionError, Window
from trainability.io import atomic_path
from trainability.sweep import Engine, sweep


@dataclass(frozen=True)
class ZoomPath:
    """Centres (log10) and widths (decades) of the keyframes of one zoom."""

    centres: tuple[tuple[float, float], ...]
    outer_width: float

    @property
    def levels(self) -> int:
        return len(self.centres)

    def width(self, k: int) -> float:
        return self.outer_width / 2.0**k

    def window(self, k: int, resolution: int) -> Window:
        """Square keyframe window k at ``resolution`` pixels per side."""
        (cx, cy), half = self.centres[k], self.width(k) / 2
        return Window(cx - half, cx + half, cy - half, cy + half, resolution, resolution)

    def to_dict(self) -> dict:
        return {
            "outer_width": self.outer_width,
            "keyframes": [
                {"k": k, "centre": list(c), "width": self.width(k)}
                for k, c in enumerate(self.centres)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ZoomPath:
        centres = tuple(tuple(kf["centre"]) for kf in data["keyframes"])
        return cls(centres, float(data["outer_width"]))


def levels_for_depth(depth_decades: float) -> int:
    """Number of keyframes K whose last is at least ``depth_decades`` below the first."""
    if not depth_decades >= 0:
        raise ValueError(f"zoom depth must be >= 0 decades, got {depth_decades}")
    if depth_decades > 300:  # float64 spans ~600 decades and resolves ~15 below any window
        raise ValueError(f"zoom depth must be at most 300 decades, got {depth_decades}")
    return math.ceil(depth_decades / math.log10(2) - 1e-9) + 1


def fixed_path(target: tuple[float, float], outer_width: float, levels: int) -> ZoomPath:
    """Concentric keyframes around ``target`` (log10 x, log10 y)."""
    return ZoomPath(tuple((float(target[0]), float(target[1])) for _ in range(levels)), outer_width)


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
    """Descend level by level from the square window (``centre``, ``width``), re-centring on the
    boundary point of richest boundary density."""
    centres = [tuple(float(c) for c in centre)]
    for k in range(levels - 1):
        path = ZoomPath(tuple(centres), width)
        window = path.window(k, search_resolution)
        grid = sweep(cond, window, engine or Engine())
        centres.append(_richest_boundary_point(grid.values, window, k))
    return ZoomPath(tuple(centres), width)


def _richest_boundary_point(values: np.ndarray, window: Window, level: int) -> tuple[float, float]:
    """Centre of the next keyframe: an edge point in the central half of ``window`` (so the
    half-width window around it fits inside), maximising the edge count within that window."""
    edge = edges(values)
    n = edge.shape[0]  # edge pixel (i, j) sits between grid pixels i, i+1 and j, j+1
    half = n // 4
    csum = np.pad(edge, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    i0 = np.clip(np.arange(n) - half, 0, n)
    i1 = np.clip(np.arange(n) + half + 1, 0, n)
    density = (
        csum[i1[:, None], i1[None, :]]
        - csum[i0[:, None], i1[None, :]]
        - csum[i1[:, None], i0[None, :]]
        + csum[i0[:, None], i0[None, :]]
    )
    centre = (n - 1) / 2
    allowed = np.zeros_like(edge)
    lo, hi = math.ceil(centre - n / 4), math.floor(centre + n / 4)
    allowed[lo : hi + 1, lo : hi + 1] = True
    candidates = np.argwhere(edge & allowed)
    if candidates.size == 0:
        raise ValueError(
            f"automatic zoom lost the boundary at level {level} (window {window.bounds}); "
            f"raise zoom.search_resolution or give zoom.target"
        )
    score = density[candidates[:, 0], candidates[:, 1]]
    distance = np.abs(candidates - centre).sum(axis=1)
    best = candidates[np.lexsort((candidates[:, 1], candidates[:, 0], distance, -score))[0]]
    step_x = (window.x_max - window.x_min) / (window.nx - 1)
    step_y = (window.y_max - window.y_min) / (window.ny - 1)
    return (window.x_min + (best[1] + 0.5) * step_x, window.y_min + (best[0] + 0.5) * step_y)


def save_path(path_file, path: ZoomPath) -> None:
    with atomic_path(path_file) as tmp:
        tmp.write_text(json.dumps(path.to_dict(), indent=1))


def load_path(path_file) -> ZoomPath:
    return ZoomPath.from_dict(json.loads(open(path_file).read()))
