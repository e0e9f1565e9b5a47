"""Where the fractal ends: the depth d*(T) below which a trainability boundary is smooth.

**The zoom.** For a training length T, `trainability.zoom.boundary.locate` finds a boundary point on
a line across the overview, and keyframes concentric about it (`trainability.zoom.paths.fixed_path`,
exact coordinates) narrow from ``first`` to ``last`` decades below the overview, each 2^m times
narrower than the one before. Keyframe k is w_k decades wide and lies at the depth
d_k = log10(W / w_k) below the overview, W decades wide (the paper's 9).

**The slope.** Each keyframe's boundary gets the paper's box-counting estimate alone
(`trainability.analysis.dimension.estimate_2d`: the median local slope D_k with its 95 % interval
[D_k⁻, D_k⁺]). A keyframe the estimator refuses (fewer than 101 pixels a side, or a single
phase) is reported as refused, with its reason, and takes no part in d*.

**d*(T).** A keyframe is *smooth* when its whole interval lies at or below the threshold
(``smooth``, 1.1 by default): D_k⁺ ≤ 1.1. d* is the depth of the first measured keyframe from
which on every measured keyframe is smooth; it is bracketed by the measured keyframe above it
(``d_above`` < d* ≤ ``d_star``). If the deepest measured keyframe is not smooth, the fractal
goes on below the zoom: d* > the deepest depth (``status`` "deeper"); if the first measured
keyframe is already smooth, d* ≤ its depth ("above"). Why the interval's upper end, and why
1.1: a smooth curve has dimension 1 and the estimator reads it within ~0.1 at these resolutions
(docs/dimension.md); the tanh boundaries' fractal values are 1.4–1.7; requiring the whole
interval below 1.1 calls a keyframe smooth only when the estimate is sure of it, and requiring
every deeper keyframe to agree keeps one straight-looking keyframe inside the fractal range
from ending it.

**The prediction.** Two runs whose learning rates differ by a relative δ separate like δ·e^{λt},
λ the maximal Lyapunov exponent (natural log per step, `trainability.analysis.lyapunov`). A
keyframe w
decades wide spans relative learning-rate differences up to 10^w − 1 ≈ w·ln 10, so its pixels'
runs part ways within T steps, and the picture holds structure, while w·ln 10·e^{λT} ≳ 1. The
boundary turns smooth below w* = e^{−λT}/ln 10, that is at the depth

    d*(T) ≈ log10(W · ln 10) + λ·T / ln 10      (decades below the overview),

up to an additive constant of order one (what "parting ways" takes), so the slope λ/ln 10 per
step is the sharp prediction. λ(T) is the median over the pixels of a small window at the
boundary point whose runs stay finite for all T steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trainability.analysis.dimension import Dimension2D, estimate_2d
from trainability.core.coordinates import exact, text, width

SMOOTH = 1.1  # a keyframe is smooth when its slope's whole interval lies at or below this


@dataclass(frozen=True)
class SmoothDepth:
    """d*(T) from one zoom: ``status`` "reached" (d_above < d* ≤ d_star), "deeper" (d* >
    d_above, the deepest measured depth; d_star None), "above" (d* ≤ d_star, the first measured
    depth; d_above None) or "unmeasured" (every keyframe refused)."""

    status: str
    d_star: float | None
    d_above: float | None


def depths(windows, overview_width: float) -> np.ndarray:
    """d_k = log10(W / w_k): decades of each keyframe below the overview (exact bounds
    subtracted exactly)."""
    return np.array([math.log10(overview_width / width(w[0], w[1])) for w in windows])


def slopes(fields, n_boot: int = 200) -> list[Dimension2D]:
    """Each keyframe's box-counting estimate alone (refused ones say why)."""
    return [estimate_2d(field, n_boot=n_boot) for field in fields]


def is_smooth(estimate: Dimension2D, threshold: float = SMOOTH) -> bool | None:
    """Whether the slope's interval lies at or below ``threshold``; None where refused."""
    if estimate.refused is not None:
        return None
    upper = estimate.median_ci[1] if estimate.median_ci else estimate.median_local_slope
    return bool(upper <= threshold)


def smooth_depth(
    depth: np.ndarray, estimates: list[Dimension2D], threshold: float = SMOOTH
) -> SmoothDepth:
    """d*: the first measured depth from which on every measured keyframe is smooth (module
    docstring). ``depth`` increases along ``estimates``."""
    measured = [(float(d), s) for d, e in zip(depth, estimates, strict=True)
                if (s := is_smooth(e, threshold)) is not None]  # fmt: skip
    if not measured:
        return SmoothDepth("unmeasured", None, None)
    first = len(measured)
    while first > 0 and measured[first - 1][1]:
        first -= 1
    if first == len(measured):
        return SmoothDepth("deeper", None, measured[-1][0])
    if first == 0:
        return SmoothDepth("above", measured[0][0], None)
    return SmoothDepth("reached", measured[first][0], measured[first - 1][0])


def predicted_depth(exponent: float, steps: int, overview_width: float) -> float:
    """log10(W·ln 10) + λT/ln 10: where the boundary turns smooth if structure needs the runs
    of a keyframe's pixels to part within T steps (module docstring)."""
    return math.log10(overview_width * math.log(10)) + exponent * steps / math.log(10)


def boundary_exponent(exponents: np.ndarray, finite_steps: np.ndarray, steps: int) -> dict:
    """λ at the boundary: median (and quartiles) of the maximal exponents of the pixels whose
    runs stay finite for all ``steps`` steps; NaN where none does."""
    kept = exponents[(finite_steps == steps) & np.isfinite(exponents)]
    if kept.size == 0:
        return {"exponent": math.nan, "exponent_q25": math.nan, "exponent_q75": math.nan,
                "exponent_pixels": 0}  # fmt: skip
    q25, median, q75 = np.quantile(kept, [0.25, 0.5, 0.75])
    return {"exponent": float(median), "exponent_q25": float(q25), "exponent_q75": float(q75),
            "exponent_pixels": int(kept.size)}  # fmt: skip


def study_rows(
    steps: int,
    windows,
    fields,
    overview_width: float,
    exponent: dict,
    threshold: float = SMOOTH,
    n_boot: int = 200,
) -> tuple[dict, list[dict]]:
    """One T of the study: its summary row (d*, λ, the prediction) and one row per keyframe."""
    depth = depths(windows, overview_width)
    estimates = slopes(fields, n_boot)
    found = smooth_depth(depth, estimates, threshold)
    keyframes = [
        {
            "steps": steps,
            "keyframe": k,
            "depth": float(d),
            "width": width(w[0], w[1]),
            "slope": e.median_local_slope,
            "slope_low": e.median_ci[0] if e.median_ci else None,
            "slope_high": e.median_ci[1] if e.median_ci else None,
            "smooth": is_smooth(e, threshold),
            "refused": e.refused,
        }
        for k, (d, w, e) in enumerate(zip(depth, windows, estimates, strict=True))
    ]
    lam = exponent["exponent"]
    x0, x1, y0, y1 = (exact(v) for v in windows[0])
    summary = {
        "steps": steps,
        "x": text((x0 + x1) / 2),  # the boundary point: every keyframe's centre (log10)
        "y": text((y0 + y1) / 2),
        "status": found.status,
        "d_star": found.d_star,
        "d_above": found.d_above,
        **exponent,
        "predicted": None if math.isnan(lam) else predicted_depth(lam, steps, overview_width),
        "keyframes": len(keyframes),
        "refused": sum(1 for r in keyframes if r["refused"]),
    }
    return summary, keyframes
