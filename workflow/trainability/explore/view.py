"""A view of the explorer: a condition of the study, a window, a step count and a mode, validated.

A view is what the page's URL names (``condition``, ``window`` = ``x_min,x_max,y_min,y_max`` in
the condition's window units: log10 on a log axis, the values on a linear one, as exact
decimals (`trainability.core.coordinates.coordinate`: a bound that a double prints as stays that
double, a longer decimal is kept exactly); ``steps``; ``mode`` ``full`` or ``labels``). It is
drawn from the tiles of the condition's pyramid (`trainability.explore.pyramid`) that meet it: a
*coarse* level (about `Limits.tile` pixels across the view) and the *finest* level,
`Pyramid.level_for` the view at `Limits.detail` pixels across.

The precision limit. A tile is computed in float64 while it has float64 *headroom*
(`trainability.explore.tiles.headroom`), else in float64x2 (`trainability.explore.tiles`). A
view is refused only when the tile of its finest level under its centre is past float64x2's own
guard (or past float64's, for a condition float64x2 does not compute): the page shows the
sentence, never a blocky picture.

The *depth* is log10 of how much narrower the view is than the condition's start window,
the geometric mean over the two axes: (log10(w0x/wx) + log10(w0y/wy))/2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

from trainability.core.condition import AXES, Condition, check_window_values
from trainability.core.coordinates import coordinate, exact, power_of_ten, text, to_decimal
from trainability.core.engine import ARITHMETICS, Engine
from trainability.core.window import Window
from trainability.explore.pyramid import MAX_LEVEL, Pyramid
from trainability.explore.tiles import MODES, OutsideError, plan
from trainability.figures.heatmap import clean_number
from trainability.study.config import StudyCondition
from trainability.zoom.paths import levels_for_depth

VIEW_KEYS = ("condition", "window", "steps", "mode")
MAX_STEPS = 100_000
MAX_DIGITS = 120  # digits of a window bound in the address


class ViewError(ValueError):
    """A query parameter is missing, malformed or names a view that cannot be computed."""


@dataclass(frozen=True)
class Limits:
    """Pixels a side of a tile, pixels across a view at its finest level, and float64x2's
    arithmetic past float64 (``auto``: perturbation where it computes the condition)."""

    tile: int = 64
    detail: int = 256
    arithmetic: str = "auto"

    def __post_init__(self) -> None:
        if not 2 <= self.tile <= self.detail:
            raise ValueError(
                f"the tile size must be between 2 and the view's detail {self.detail} "
                f"pixels, got {self.tile}"
            )
        if self.arithmetic not in ARITHMETICS:
            raise ValueError(
                f"arithmetic must be one of {', '.join(ARITHMETICS)}; got {self.arithmetic!r}"
            )


@dataclass(frozen=True)
class View:
    """One view: ``name`` of the study's condition, the condition with the view's steps, the
    window bounds (x_min, x_max, y_min, y_max: floats, or exact fractions where a double
    cannot hold them), the root (the condition's window) and the mode."""

    name: str
    condition: Condition
    bounds: tuple
    root: tuple
    mode: str = "full"

    @property
    def scales(self) -> tuple[str, str]:
        return (self.condition.x_scale, self.condition.y_scale)

    def pyramid(self, n: int) -> Pyramid:
        return Pyramid.of(self.root, n)

    def window_text(self) -> list[str]:
        return [text(b) for b in self.bounds]

    def query(self) -> str:
        """The URL query that names this view (every bound as its exact decimal)."""
        out = f"condition={self.name}&window={','.join(self.window_text())}"
        out += f"&steps={self.condition.steps}"
        return out + ("" if self.mode == "full" else f"&mode={self.mode}")


def parse_view(
    params: Mapping[str, str] | list[tuple[str, str]],
    study: Mapping[str, StudyCondition],
    default: str,
    limits: Limits,
    extra: tuple[str, ...] = (),
    keys: tuple[str, ...] = VIEW_KEYS,
    check: bool = True,
    engine: Engine | None = None,
) -> tuple[View, dict[str, str]]:
    """The view a query names (missing keys: the default condition, its window, its steps,
    mode full), and the values of the ``extra`` keys the caller reads itself. Raises
    `ViewError` with one sentence naming the parameter."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    allowed = keys + extra
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
    mode = given.get("mode", "full")
    if mode not in MODES:
        raise ViewError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    view = View(name, entry.condition.replace(steps=steps), bounds, entry.window.bounds, mode)
    if check:
        check_view(view, limits, engine)
    return view, {k: given[k] for k in extra if k in given}


def parse_int(key: str, text_: str, low: int, high: int) -> int:
    value = None
    if len(text_) <= 40:  # int() of a huge digit string is refused, not slow
        try:
            value = int(text_)
        except ValueError:
            value = None
    if value is None or not low <= value <= high:
        shown = text_ if len(text_) <= 40 else text_[:37] + "..."
        raise ViewError(f"{key} must be an integer from {low} to {high}, got {shown!r}")
    return value


def _parse_window(text_: str) -> tuple:
    parts = text_.split(",")
    shown = text_ if len(text_) <= 4 * MAX_DIGITS + 3 else text_[:60] + "..."
    if len(parts) != 4 or any(len(p.strip()) > MAX_DIGITS for p in parts):
        raise ViewError(
            f"window must be four comma-separated decimal numbers x_min,x_max,y_min,y_max of "
            f"at most {MAX_DIGITS} characters each; got {shown!r}"
        )
    names = ("x_min", "x_max", "y_min", "y_max")
    out = []
    for name, part in zip(names, parts, strict=True):
        try:
            value = coordinate(part)
            ok = math.isfinite(float(value))
        except (ValueError, OverflowError):
            ok = False
        if not ok:
            raise ViewError(f"window {name} must be a finite decimal number, got {part!r}")
        out.append(value)
    return tuple(out)


def check_view(view: View, limits: Limits, engine: Engine | None = None) -> None:
    """Refuse a view that cannot be drawn: reversed or non-finite edges, values outside an axis's
    interval, or a finest level whose centre tile is past float64x2's limit (`plan`)."""
    try:
        Window(*view.bounds, nx=2, ny=2)
    except ValueError as err:
        raise ViewError(str(err)) from None
    try:
        check_window_values(view.condition, view.bounds)
    except ValueError as err:
        raise ViewError(str(err)) from None
    pyramid = view.pyramid(limits.tile)
    z = pyramid.level_for(view.bounds, limits.detail)
    if z >= MAX_LEVEL:
        raise ViewError(f"the view is deeper than the explorer's {MAX_LEVEL} levels; zoom out")
    i, j = centre_tile(pyramid, view.bounds, z)
    try:
        plan(pyramid, view.condition, engine or Engine(), z, i, j, view.mode, limits.arithmetic)
    except OutsideError:
        pass  # the view's centre lies outside the axis's interval: nothing drawn there
    except ValueError as err:
        raise ViewError(f"the view cannot be drawn: {err}") from None


def centre_tile(pyramid: Pyramid, bounds, z: int) -> tuple[int, int]:
    """The tile of level z under the view's centre (clamped to the root)."""
    u0, u1, v0, v1 = pyramid.fractions(bounds)
    side = 2**z
    return tuple(
        min(side - 1, max(0, math.floor((a + b) / 2 * side))) for a, b in ((u0, u1), (v0, v1))
    )


def depth(view: View, start: Window) -> float:
    """Decades below the start window (module docstring)."""
    x0, x1, y0, y1 = (exact(b) for b in view.bounds)
    s0, s1, t0, t1 = (exact(b) for b in start.bounds)
    return (_log10((s1 - s0) / (x1 - x0)) + _log10((t1 - t0) / (y1 - y0))) / 2


def _log10(q) -> float:
    return math.log10(q.numerator) - math.log10(q.denominator)


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


def exact_tick_labels(lo, hi, scale: str, count: int = 5) -> tuple[list[str], int]:
    """`tick_labels` of exact bounds, for views narrower than doubles can label: each tick's
    position is exact, 10^x is evaluated in decimal arithmetic (60 digits), and the labels get
    the digits that tell neighbours apart (up to 50)."""
    a, b = exact(lo), exact(hi)
    positions = [a + (b - a) * k / (count - 1) for k in range(count)]
    values = [power_of_ten(p) if scale == "log" else to_decimal(p) for p in positions]
    width = float(b - a)
    rel = width / max(abs(float(a)), abs(float(b)), 1e-300) if scale == "linear" else width
    delta = rel * (math.log(10) if scale == "log" else 1) / (count - 1)
    digits = int(min(50, max(3, math.ceil(-math.log10(delta)) + 2)))
    while True:
        with localcontext() as ctx:
            ctx.prec = digits
            labels = [clean_number(format(+Decimal(v), f".{digits - 1}e")) for v in values]
        if all(x != y for x, y in zip(labels, labels[1:], strict=False)) or digits >= 60:
            return labels, digits
        digits += 1


def axis_info(view: View) -> dict:
    """Names, titles, scales, ticks and allowed intervals of the view's two axes."""
    out = {}
    x0, x1, y0, y1 = view.bounds
    for key, name, scale, (lo, hi) in zip(
        ("x", "y"), view.condition.axis_names, view.scales, ((x0, x1), (y0, y1)), strict=True
    ):
        labels, digits = tick_labels(float(lo), float(hi), scale)
        if digits >= 17:  # past what doubles label: the exact ticks
            labels, digits = exact_tick_labels(lo, hi, scale)
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
    x0, x1, y0, y1 = (float(b) for b in view.bounds)
    if not (x0 < x1 and y0 < y1):
        return {"text": None, "reason": "this view is narrower than a zoom target's "
                "double-precision coordinates can name; zoom out to use it as one"}  # fmt: skip
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
