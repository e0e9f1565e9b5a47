"""A view of the explorer: a condition of the study, a window and a step count, validated.

A view is what the page's URL names (``condition``, ``window`` = ``x_min,x_max,y_min,y_max`` in
the condition's window units: log10 on a log axis, the values on a linear one; ``steps``). It
is computed at several resolutions (`passes`) but is one thing: it is valid only if it is valid
at the largest of them, so no pass can be refused after the first was shown.

The float64 limit. On a log axis the n pixel values are 10^(x_min + k·w/(n−1)), w = x_max −
x_min; neighbouring pixels stay distinct only while w/(n−1) is several ulps of the log10
coordinate and of the relative spacing of 10^x (`trainability.core.window.min_width` is that limit
w_min, in decades). On a linear axis w_min = 4·(n−1)·ulp(max |bound|). The *headroom* is
log10(w / w_min), minimised over the two axes: how many decades deeper the view can go at the
largest resolution. The explorer refuses a view with negative headroom (the engine's own guard,
`Window.axes`, would only refuse it later, when pixels already coincide and the picture turns
into stripes), so the page shows a message at the limit, never a blocky picture.

The *depth* is log10 of how much narrower the view is than the condition's start window,
the geometric mean over the two axes: (log10(w0x/wx) + log10(w0y/wy))/2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from trainability.core.condition import AXES, Condition
from trainability.core.precision import min_width
from trainability.core.window import Window
from trainability.figures.heatmap import clean_number
from trainability.study.config import StudyCondition
from trainability.train.sweep import axis_values
from trainability.zoom.paths import levels_for_depth

VIEW_KEYS = ("condition", "window", "steps")
MAX_STEPS = 100_000


class ViewError(ValueError):
    """A query parameter is missing, malformed or names a view that cannot be computed."""


@dataclass(frozen=True)
class Limits:
    """Resolutions of the passes: ``coarse``, 2·coarse, … up to ``max_resolution``."""

    coarse: int = 16
    max_resolution: int = 256

    def __post_init__(self) -> None:
        if not 2 <= self.coarse <= self.max_resolution:
            raise ValueError(
                f"the coarse resolution must be between 2 and the maximum resolution "
                f"{self.max_resolution}, got {self.coarse}"
            )

    def ladder(self) -> list[int]:
        out, n = [], self.coarse
        while n < self.max_resolution:
            out.append(n)
            n *= 2
        return out + [self.max_resolution]


@dataclass(frozen=True)
class View:
    """One view: ``name`` of the study's condition, the condition with the view's steps, and
    the window bounds (x_min, x_max, y_min, y_max)."""

    name: str
    condition: Condition
    bounds: tuple[float, float, float, float]

    def window(self, resolution: int) -> Window:
        return Window(*self.bounds, nx=resolution, ny=resolution)

    @property
    def scales(self) -> tuple[str, str]:
        return (self.condition.x_scale, self.condition.y_scale)

    def query(self) -> str:
        """The URL query that names this view (floats in shortest round-trip form)."""
        window = ",".join(repr(float(b)) for b in self.bounds)
        return f"condition={self.name}&window={window}&steps={self.condition.steps}"


def parse_view(
    params: Mapping[str, str] | list[tuple[str, str]],
    study: Mapping[str, StudyCondition],
    default: str,
    limits: Limits,
    extra: tuple[str, ...] = (),
) -> tuple[View, dict[str, str]]:
    """The view a query names (missing keys: the default condition, its window, its steps),
    and the values of the ``extra`` keys the caller reads itself. Raises `ViewError` with one
    sentence naming the parameter."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    allowed = VIEW_KEYS + extra
    given: dict[str, str] = {}
    for key, value in items:
        if key not in allowed:
            raise ViewError(f"unknown query parameter {key!r}; allowed: {', '.join(allowed)}")
        if key in given:
            raise ViewError(f"query parameter {key!r} is given twice; give it once")
        given[key] = value

    name = given.get("condition", default)
    if name not in study:
        raise ViewError(f"unknown condition {name!r}; the study has {', '.join(study)}")
    entry = study[name]
    bounds = entry.window.bounds
    if "window" in given:
        bounds = _parse_window(given["window"])
    steps = entry.condition.steps
    if "steps" in given:
        steps = parse_int("steps", given["steps"], 1, MAX_STEPS)
    view = View(name, entry.condition.replace(steps=steps), bounds)
    check_view(view, limits.max_resolution)
    return view, {k: given[k] for k in extra if k in given}


def parse_int(key: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ViewError(f"{key} must be an integer from {low} to {high}, got {text!r}")
    return value


def _parse_window(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise ViewError(
            f"window must be four comma-separated numbers x_min,x_max,y_min,y_max; got {text!r}"
        )
    return values  # type: ignore[return-value]


def check_view(view: View, resolution: int) -> None:
    """Refuse a view that cannot be computed at ``resolution``: reversed or non-finite edges,
    values outside an axis's interval, or past the float64 limit (module docstring)."""
    try:
        window = view.window(resolution)
    except ValueError as err:
        raise ViewError(str(err)) from None
    for axis in ("x", "y"):
        room, width, limit = _headroom(view, axis, resolution)
        if room < 0:
            scale = view.scales[0 if axis == "x" else 1]
            unit = " decades" if scale == "log" else ""
            raise ViewError(
                f"the view is {width:.2g}{unit} wide on the {axis} axis, narrower than float64 "
                f"can tell apart at {resolution} pixels here (about {limit:.1g}{unit}); zoom out"
            )
    try:
        axis_values(view.condition, window)  # the axes' intervals and the engine's own guard
    except ValueError as err:
        raise ViewError(str(err)) from None


def headroom(view: View, resolution: int) -> float:
    """Decades the view can still narrow at ``resolution`` before the float64 limit."""
    return min(_headroom(view, axis, resolution)[0] for axis in ("x", "y"))


def _headroom(view: View, axis: str, n: int) -> tuple[float, float, float]:
    """(headroom in decades, width, limit width) of one axis at n pixels."""
    x0, x1, y0, y1 = view.bounds
    lo, hi = (x0, x1) if axis == "x" else (y0, y1)
    scale = view.scales[0 if axis == "x" else 1]
    if scale == "log":
        limit = min_width(lo, hi, n)
    else:
        limit = 4 * (n - 1) * float(np.spacing(max(abs(lo), abs(hi), 1e-300)))
    width = hi - lo
    return math.log10(width / limit) if width > 0 else -math.inf, width, limit


def depth(view: View, start: Window) -> float:
    """Decades below the start window (module docstring)."""
    x0, x1, y0, y1 = view.bounds
    dx = math.log10((start.x_max - start.x_min) / (x1 - x0))
    dy = math.log10((start.y_max - start.y_min) / (y1 - y0))
    return (dx + dy) / 2


def tick_labels(lo: float, hi: float, scale: str, count: int = 5) -> tuple[list[str], int]:
    """Labels of ``count`` evenly spaced ticks from lo to hi (window units; shown as 10^x on
    a log axis, x on a linear one), all with the same significant digits, enough to tell
    neighbours apart, and the number of digits. For two ticks these are exactly
    `trainability.figures.heatmap.format_edge_ticks`' labels."""
    positions = [lo + (hi - lo) * k / (count - 1) for k in range(count - 1)] + [hi]
    values = [10.0**p if scale == "log" else p for p in positions]
    # the fewest digits that tell the closest pair of neighbours apart (format_edge_ticks' rule)
    digits = max(_pair_digits(a, b, scale) for a, b in zip(positions, positions[1:], strict=False))
    while True:
        alt = "#" if digits > 3 else ""  # keep trailing zeros: labels of equal length
        labels = [clean_number(f"{v:{alt}.{digits}g}") for v in values]
        if all(a != b for a, b in zip(labels, labels[1:], strict=False)) or digits >= 17:
            return labels, digits
        digits += 1


def _pair_digits(lo: float, hi: float, scale: str) -> int:
    """Significant digits for two ticks differing relatively by δ: ceil(−log10 δ) + 2, in
    [3, 17] (as `format_edge_ticks`)."""
    if scale == "linear":
        delta = abs(hi - lo) / max(abs(lo), abs(hi), 1e-300)
    else:
        width = abs(hi - lo)
        delta = math.expm1(math.log(10.0) * width) if width > 0 else 0.0
    return 3 if delta <= 0 else int(min(17, max(3, math.ceil(-math.log10(delta)) + 2)))


def axis_info(view: View) -> dict:
    """Names, titles, scales, ticks and allowed intervals of the view's two axes."""
    out = {}
    x0, x1, y0, y1 = view.bounds
    for key, name, scale, (lo, hi) in zip(
        ("x", "y"), view.condition.axis_names, view.scales, ((x0, x1), (y0, y1)), strict=True
    ):
        labels, digits = tick_labels(lo, hi, scale)
        axis = AXES[name]
        out[key] = {
            "name": name,
            "title": axis.title,
            "scale": scale,
            "ticks": labels,
            "digits": digits,
            "low": None if math.isinf(axis.interval.low) else axis.interval.low,
            "high": None if math.isinf(axis.interval.high) else axis.interval.high,
            "high_open": axis.interval.high_open,
        }
    return out


def zoom_target(view: View, name: str, start: Window, study_steps: int) -> dict:
    """The config lines that make the workflow zoom onto this view.

    The workflow's zoom keyframes are squares, each 2× narrower, concentric on ``target`` from
    the overview's narrower side w0 (``outer_width``'s default) down ``depth`` decades, i.e.
    m = ⌈depth/log10 2⌉ doublings. With w the view's narrower side, m = ⌈log2(w0/w)⌉ makes
    the deepest keyframe the widest of those squares not wider than w, so it lies inside the
    view; depth is m·log10 2 rounded down to 1e-4 decades (which keeps m).
    """
    x0, x1, y0, y1 = view.bounds
    outer = min(start.x_max - start.x_min, start.y_max - start.y_min)
    width = min(x1 - x0, y1 - y0)
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    doublings = math.ceil(math.log2(outer / width) - 1e-9)
    if doublings <= 0:
        return {
            "text": None,
            "reason": "this view is not narrower than the condition's window; zoom in first",
        }
    value = math.floor(doublings * math.log10(2) * 1e4) / 1e4
    levels = levels_for_depth(value)
    deepest = outer / 2.0 ** (levels - 1)
    unit = "log10 x, log10 y" if view.scales == ("log", "log") else "window units"
    lines = ["conditions:", f"  {name}:"]
    if view.condition.steps != study_steps:
        lines.append(f"    steps: {view.condition.steps}")
    lines += [
        "    zoom:",
        f"      # view centre ({unit}): {levels} keyframes down to {deepest:.3g}",
        f"      target: [{centre[0]!r}, {centre[1]!r}]",
        f"      depth: {value}",
    ]
    return {
        "text": "\n".join(lines) + "\n",
        "target": list(centre),
        "depth": value,
        "levels": levels,
        "deepest_width": deepest,
    }
