"""The precision policy: which dtype and arithmetic compute a window, and every guard that
refuses one, with its message (docs/precision.md).

Two precisions compute pixels:

- ``float64`` (and ``float32``, a preview): pixel values are doubles from the window's bounds
  rounded to doubles (`trainability.core.window.Window.axes`). float64 has ~16 significant
  digits, so a window narrower than ~1e-14 decades around a coordinate of order one maps
  neighbouring pixels onto one double and the image turns into stripes: `float64_guard`
  refuses a window whose adjacent pixels (or, on a log axis, their log10 coordinates) are not
  strictly increasing as doubles.
- ``float64x2``: the bounds are exact (`trainability.core.coordinates`) and each pixel value
  is the double-double (hi, lo) nearest the exact value; `float64x2_axes` refuses a window
  whose adjacent pixel values lie within `GUARD_ULPS` units of 2⁻¹⁰⁶ (relative) of each other
  (≈ 2e-31: ~1e-30 decades at 16 pixels).

float64x2 trains in one of two arithmetics: ``doubledouble`` (every pixel in double-double) or
``perturbation`` (one double-double reference run, every pixel as its float64 difference from
it). Each computes only part of what a condition can ask for; `unsupported` names the first
thing it does not, and `check` refuses it in one line. `resolve` makes an engine concrete for
one window: ``dtype: auto`` → float64 while float64's guard passes, else float64x2;
``arithmetic: auto`` → perturbation where it supports the condition, else double-double.
`pixel_axes` gives the pixel values a dtype computes, after that dtype's guard. Every consumer
(the sweep, the config, the plan, zoom paths) asks these functions and nothing else.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np

from trainability.core.condition import LR_AXES, Condition
from trainability.core.coordinates import axis_x2, exact, is_exact, text

FLOAT64X2 = "float64x2"
DOUBLEDOUBLE = "doubledouble"
PERTURBATION = "perturbation"
GUARD_ULPS = 16  # adjacent double-double pixel values must differ by this many 2⁻¹⁰⁶
PERTURBATION_ACTIVATIONS = ("tanh", "relu", "identity")


class PrecisionError(ValueError):
    """Adjacent pixels of a window would share one value in the precision that computes it."""


# --- the guards ----------------------------------------------------------------------------


def float64_guard(window, x: np.ndarray, y: np.ndarray, x_scale: str, y_scale: str) -> None:
    """Raise `PrecisionError` unless the float64 pixel values ``x``, ``y`` of ``window`` (and on
    a log axis their log10 coordinates) are strictly increasing."""
    for name, values, scale in (("x", x, x_scale), ("y", y, y_scale)):
        lo, hi = getattr(window, f"{name}_min"), getattr(window, f"{name}_max")
        shown_lo, shown_hi = (text(b) if is_exact(b) else repr(b) for b in (lo, hi))
        width = float(exact(hi) - exact(lo))
        if scale == "linear":
            if not np.all(np.diff(values) > 0):
                raise PrecisionError(
                    f"linear window {name} = [{shown_lo}, {shown_hi}] is {width:.3g} wide: at "
                    f"{len(values)} pixels adjacent pixels share a float64 value; widen "
                    f"the window, lower the resolution or use dtype float64x2 (or auto)"
                )
            continue
        logs = np.linspace(float(lo), float(hi), len(values))
        if not (np.all(np.diff(values) > 0) and np.all(np.diff(logs) > 0)):
            limit = min_width(float(lo), float(hi), len(values))
            raise PrecisionError(
                f"window {name} = [{shown_lo}, {shown_hi}] is {width:.3g} decades wide: at "
                f"{len(values)} pixels adjacent pixels share a float64 value (the limit is "
                f"about {limit:.1g} decades here); widen the window, lower the resolution or "
                f"use dtype float64x2 (or auto)"
            )


def min_width(lo: float, hi: float, n: int) -> float:
    """Narrowest window (decades) whose n pixels stay distinct in float64 near [lo, hi]:
    a few ulps of the log10 coordinate, or of 10**coordinate, per pixel step."""
    ulp_log = np.spacing(max(abs(lo), abs(hi), 1e-300))
    ulp_rel = np.finfo(np.float64).eps / math.log(10)
    return 4 * (n - 1) * max(ulp_log, ulp_rel)


def float64x2_axes(window, x_scale: str = "log", y_scale: str = "log"):
    """Double-double pixel values (x, y), (n, 2) arrays of (hi, lo), of ``window`` from its
    exact bounds (`trainability.core.coordinates.axis_x2`), after float64x2's guard."""
    out = []
    for name, lo, hi, n, scale in (
        ("x", window.x_min, window.x_max, window.nx, x_scale),
        ("y", window.y_min, window.y_max, window.ny, y_scale),
    ):
        if scale not in ("log", "linear"):
            raise ValueError(f"{name}_scale must be one of log, linear; got {scale!r}")
        values = axis_x2(lo, hi, n, scale)
        exact_values = [Fraction(h) + Fraction(lo_) for h, lo_ in values.tolist()]
        steps = [b - a for a, b in zip(exact_values[:-1], exact_values[1:], strict=True)]
        tolerance = Fraction(GUARD_ULPS) * Fraction(2) ** -106
        if any(s <= tolerance * abs(v) for s, v in zip(steps, exact_values[1:], strict=True)):
            width = float(exact(hi) - exact(lo))
            unit = " decades" if scale == "log" else ""
            size = 1 / math.log(10) if scale == "log" else float(abs(exact_values[-1]))
            limit = (n - 1) * GUARD_ULPS * 2.0**-106 * size
            raise PrecisionError(
                f"window {name} = [{text(lo)}, {text(hi)}] is {width:.3g}{unit} wide: at {n} "
                f"pixels adjacent pixels lie closer than float64x2 resolves (about "
                f"{limit:.1g}{unit} here); widen the window or lower the resolution"
            )
        out.append(values)
    return out[0], out[1]


def pixel_axes(cond: Condition, window, dtype: str):
    """The pixel values (x, y) that ``dtype`` computes ``window`` with, after its guard:
    doubles for float64 and float32, (n, 2) double-doubles for float64x2; ``auto`` as
    `auto_dtype` decides."""
    if dtype == "auto":
        dtype = auto_dtype(cond, window)
    if dtype == FLOAT64X2:
        return float64x2_axes(window, cond.x_scale, cond.y_scale)
    return window.axes(cond.x_scale, cond.y_scale)


# --- what each arithmetic computes ---------------------------------------------------------


def unsupported(cond: Condition, engine_name: str, arithmetic: str) -> str | None:
    """What of ``cond`` float64x2's ``arithmetic`` does not compute, as ``"X (it computes Y
    only)"``, or None. Double-double computes the fused engine, gradient descent at a constant
    learning rate, the loss readout and learning-rate axes of the paper's mlp on gaussian
    data (anything else would need its own double-double state: momentum buffers, Adam
    moments, schedules and weight decay multiplying η, axis values other than learning rates;
    or a network written over double-doubles: the cnn and the transformer are Equinox
    modules in float64); perturbation computes a part of that (its
    recurrences are derived for these activations and plain layers, from one initial
    network)."""
    rules = [
        (cond.generic, f"model {cond.model} on data {cond.data}", "model mlp on data gaussian"),
        (engine_name != "fused", f"engine {engine_name}", "engine fused"),
        (cond.optimizer != "gd", f"optimizer {cond.optimizer}", "optimizer gd"),
        (cond.weight_decay != 0.0, "weight_decay", "weight_decay 0"),
        (cond.schedule != "constant", f"schedule {cond.schedule}", "schedule constant"),
        (cond.readout != "loss", f"readout {cond.readout}", "readout loss"),
    ]
    rules += [(axis not in LR_AXES, f"a {axis} axis", "learning-rate axes")
              for axis in cond.axis_names]  # fmt: skip
    if arithmetic == PERTURBATION:
        rules += [
            (cond.activation not in PERTURBATION_ACTIVATIONS, f"activation {cond.activation}",
             "tanh, relu and identity"),
            (cond.residual, "residual blocks", "plain layers"),
            (cond.epsilon != 0.0, "per-pixel initial noise (epsilon)", "one initial network"),
            (cond.seed_mode == "per_pixel", "per-pixel seeds", "one seed for all pixels"),
            (cond.offset_mode == "every_step" and cond.offset != 0.0, "an every-step offset",
             "offset 0 or offset_mode init"),
        ]  # fmt: skip
    for bad, what, needed in rules:
        if bad:
            return f"{what} (it computes {needed} only)"
    return None


def check(cond: Condition, engine_name: str = "fused", arithmetic: str = DOUBLEDOUBLE) -> None:
    """Refuse, with one line, what float64x2's ``arithmetic`` does not compute; what
    double-double cannot compute either is refused in double-double's words."""
    reason = unsupported(cond, engine_name, DOUBLEDOUBLE)
    if reason is not None:
        raise ValueError(
            f"dtype {FLOAT64X2} does not support {reason}; use dtype float64"
        )
    reason = unsupported(cond, engine_name, arithmetic)
    if reason is not None:
        raise ValueError(
            f"dtype {FLOAT64X2} with arithmetic {arithmetic} does not support {reason}; use "
            f"arithmetic {DOUBLEDOUBLE}"
        )


# --- making an engine concrete for a window ------------------------------------------------


def auto_dtype(cond: Condition, window) -> str:
    """``auto``'s choice: float64 while the window's float64 guard passes, else float64x2."""
    try:
        window.axes(cond.x_scale, cond.y_scale)
    except PrecisionError:
        return FLOAT64X2
    return "float64"


def resolve_arithmetic(arithmetic: str, cond: Condition, engine_name: str = "fused") -> str:
    """The arithmetic float64x2 computes ``cond`` with: ``auto`` → perturbation where it
    supports the condition, else double-double; a named one is checked (`check`)."""
    if arithmetic == "auto":
        supported = unsupported(cond, engine_name, PERTURBATION) is None
        return PERTURBATION if supported else DOUBLEDOUBLE
    check(cond, engine_name, arithmetic)
    return arithmetic


def resolve(engine, cond: Condition, window):
    """``engine`` with its dtype made concrete (``auto`` → `auto_dtype`) and, for float64x2,
    its arithmetic made concrete and checked to support the condition (`resolve_arithmetic`)."""
    dtype = auto_dtype(cond, window) if engine.dtype == "auto" else engine.dtype
    arithmetic = engine.arithmetic
    if dtype == FLOAT64X2:
        check(cond, engine.name)
        arithmetic = resolve_arithmetic(engine.arithmetic, cond, engine.name)
    if (dtype, arithmetic) == (engine.dtype, engine.arithmetic):
        return engine
    return dataclasses.replace(engine, dtype=dtype, arithmetic=arithmetic)
