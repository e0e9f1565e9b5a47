"""Finite-size extrapolation of box-counting dimensions: from images of one object at several
resolutions to the dimension at infinite resolution, with an interval (pure numpy; the Student
quantile from scipy).

**Model.**  The paper's estimator (:func:`~trainability.analysis.dimension.estimate_2d`) is the
median of ten local slopes at box sizes spaced evenly in log from 10 px to the image side
``n``; the median sits at the geometric middle of that range, ``s ~ sqrt(10 n)`` px, i.e. at
the fraction ``sqrt(10 / n)`` of the image.  A correction to the box count that is linear in
the box size, on either side of the scaling range -- the boundary's own large-scale shape
(``N(s) ~ s^-D (1 + b s / L)``) or the pixel-thick edge map (``N(s) ~ s^-D (1 + w / s)``) --
then moves the median by an amount proportional to ``n^(-1/2)``:

    D(n) = D_inf - a * n^(-omega),   omega = 1/2  (:data:`OMEGA`).

On the known shapes of ``docs/dimension.md`` (section 7) the mean error of the estimator over
grid placements falls roughly like ``n^(-1/2)`` from 128 to 1024 px (a smooth curve: +0.16 at
128, +0.02 at 1024), with an oscillation in ``log n`` on top (the integer box sizes and the
lacunarity of self-similar sets) that does not decay.  The alternative ``D(n) = D_inf - a /
log n`` extrapolates from ``1 / log 1024 = 0.14`` to 0 across more than twice the span of the
data (``1 / log 128 = 0.21``): on the same shapes it missed by an RMS 0.13-0.23 (0.04-0.09 for
``n^(-1/2)``) with intervals three times as wide.  A free exponent ``omega`` cannot be
determined from 3 to 5 noisy points.

**Fit and interval.**  Weighted least squares of the raw estimates ``D_i`` on ``x_i =
n_i^(-omega)``, with variance ``s_i^2 + tau^2`` per point: ``s_i = h_i / 1.96``, ``h_i`` the
half-width of the raw estimate's own 95 % interval (the spread over box-grid placements), and
``tau^2`` the scatter about the model that those intervals do not explain (the oscillation),
chosen by the Paule-Mandel rule: the weighted residual sum of squares equals its degrees of
freedom ``m - 2`` (``tau = 0`` when the raw intervals already explain the scatter).  The
interval is ``D_inf -+ t * se``, ``se`` the standard error of the intercept from the weighted
normal equations and ``t`` the Student quantile with ``m - 2`` degrees of freedom (12.7 for 3
resolutions, 4.3 for 4, 3.2 for 5): it carries both the raw intervals and the fit's own
uncertainty, and does not contain its estimate's bias if the model is wrong beyond the scatter
it has seen.

**Validation** (``benchmarks/extrapolation.py``, ``docs/dimension.md`` section 7).  On five
shapes of known dimension at 64-1024 and 64-2048 px, over 12 placements each, the interval held
the truth in 118 of 120 fits; the raw interval at the largest resolution in 89.  The
extrapolated *value* is not sharper than the largest image's raw estimate (RMS error 2-4 times
larger from 64-1024 px): read the result as an honest interval, not a better number.

**Refusal.**  Fewer than :data:`MIN_RESOLUTIONS` distinct resolutions with a measured (not
refused) dimension, or resolutions spanning less than a factor :data:`MIN_SPAN`, give no number:
``refused`` holds one sentence beginning with :data:`TOO_FEW_RESOLUTIONS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainability.analysis.dimension import CONFIDENCE, Dimension2D, estimate_2d

__all__ = [
    "MIN_RESOLUTIONS",
    "MIN_SPAN",
    "OMEGA",
    "TOO_FEW_RESOLUTIONS",
    "Extrapolation",
    "extrapolate",
    "extrapolate_images",
    "resolution",
]

OMEGA = 0.5  # D(n) = D_inf - a n^-OMEGA
MIN_RESOLUTIONS = 3  # distinct resolutions with a measured dimension
MIN_SPAN = 4.0  # largest / smallest of those resolutions
TOO_FEW_RESOLUTIONS = "too few resolutions"  # how a refusal begins


@dataclass(frozen=True)
class Extrapolation:
    """Result of :func:`extrapolate` (None where refused).

    ``extrapolated`` is ``D_inf`` of ``D(n) = D_inf - slope * n^-omega`` and ``interval`` its
    interval at ``confidence``; ``scatter`` is ``tau``, the spread about the model beyond the
    raw intervals; ``dof`` the fit's degrees of freedom.  ``resolutions``, ``estimates`` and
    ``intervals`` are the inputs (an estimate is None where it was refused); ``used`` lists the
    indices that entered the fit.  ``refused`` says why there is no number.
    """

    extrapolated: float | None
    interval: tuple[float, float] | None
    slope: float | None
    scatter: float | None
    dof: int
    omega: float
    confidence: float
    resolutions: list[int]
    estimates: list[float | None]
    intervals: list[tuple[float, float] | None]
    used: list[int]
    refused: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-python, JSON-serialisable dict."""
        return {
            "extrapolated": self.extrapolated,
            "extrapolated_interval": None if self.interval is None else list(self.interval),
            "slope": self.slope,
            "scatter": self.scatter,
            "dof": self.dof,
            "model": f"D(n) = D_inf - a * n^-{self.omega:g}",
            "confidence": self.confidence,
            "resolutions": [int(n) for n in self.resolutions],
            "estimates": list(self.estimates),
            "intervals": [None if i is None else list(i) for i in self.intervals],
            "used": [int(i) for i in self.used],
            "refused": self.refused,
        }


def resolution(field: np.ndarray) -> int:
    """The resolution of an image: its smaller side in pixels (the estimator's largest box)."""
    return int(min(np.shape(field)))


def _wls(x: np.ndarray, y: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted least squares of y on [1, x]: coefficients, covariance, weighted SSR."""
    w = 1.0 / var
    a = np.stack([np.ones_like(x), x], axis=1)
    normal = a.T @ (w[:, None] * a)
    cov = np.linalg.inv(normal)
    beta = cov @ (a.T @ (w * y))
    r = y - a @ beta
    return beta, cov, float(np.sum(w * r * r))


def _paule_mandel(x: np.ndarray, y: np.ndarray, s2: np.ndarray, dof: int) -> float:
    """tau^2 >= 0 with weighted SSR(tau^2) = dof (0 if the SSR is already <= dof)."""
    if _wls(x, y, s2)[2] <= dof:
        return 0.0
    lo, hi = 0.0, max(float(np.var(y)), 1e-12)
    while _wls(x, y, s2 + hi)[2] > dof:
        hi *= 4.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if _wls(x, y, s2 + mid)[2] > dof:
            lo = mid
        else:
            hi = mid
    return hi


def _refusal_text(resolutions: Sequence[int], used: Sequence[int]) -> str | None:
    measured = sorted({int(resolutions[i]) for i in used})
    if len(measured) < MIN_RESOLUTIONS:
        have = (
            f"{len(measured)} have one ({', '.join(str(n) for n in measured)} px)"
            if measured
            else "none has one"
        )
        return (
            f"{TOO_FEW_RESOLUTIONS}: an extrapolation needs a measured dimension at "
            f"{MIN_RESOLUTIONS} or more resolutions, and {have}."
        )
    if measured[-1] < MIN_SPAN * measured[0]:
        return (
            f"{TOO_FEW_RESOLUTIONS}: the measured resolutions span {measured[0]}-{measured[-1]} "
            f"px, a factor {measured[-1] / measured[0]:.2g}; an extrapolation needs a factor of "
            f"at least {MIN_SPAN:g}."
        )
    return None


def extrapolate(
    resolutions: Sequence[int],
    estimates: Sequence[float | None],
    intervals: Sequence[tuple[float, float] | None],
    confidence: float = CONFIDENCE,
    omega: float = OMEGA,
) -> Extrapolation:
    """Dimension at infinite resolution from estimates of one object at several resolutions.

    ``resolutions[i]`` (pixels per side) carries the raw estimate ``estimates[i]`` with its
    interval ``intervals[i]`` (None for a refused estimate, which is left out; an estimate
    without an interval counts as exact).  Fits ``D(n) = D_inf - a n^-omega`` by weighted least
    squares with variances ``(h_i / z)^2 + tau^2`` (``h_i`` the larger distance from the
    estimate to an end of its interval, ``z`` the normal quantile of ``confidence``, ``tau^2``
    by the Paule-Mandel rule) and returns ``D_inf -+ t_{m-2} * se(D_inf)`` (module docstring).

    Refused (``refused`` set, numbers None) when fewer than :data:`MIN_RESOLUTIONS` distinct
    resolutions have an estimate or they span less than a factor :data:`MIN_SPAN`.  Raises
    ValueError for inputs of different lengths, resolutions below 1, non-finite estimates, an
    interval that does not contain its estimate, or a confidence outside (0, 1).
    """
    from scipy.stats import norm
    from scipy.stats import t as student

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}.")
    if not len(resolutions) == len(estimates) == len(intervals):
        raise ValueError(
            f"give one estimate and one interval per resolution: got {len(resolutions)} "
            f"resolutions, {len(estimates)} estimates and {len(intervals)} intervals."
        )
    res = [int(n) for n in resolutions]
    if any(n < 1 for n in res) or any(n != r for n, r in zip(res, resolutions, strict=True)):
        raise ValueError(f"resolutions must be positive integers (pixels), got {resolutions!r}.")
    used = [i for i, d in enumerate(estimates) if d is not None]
    half = np.zeros(len(res))
    for i in used:
        d, ci = estimates[i], intervals[i]
        if not math.isfinite(d):
            raise ValueError(f"estimate {i} is {d!r}: give a finite number, or None if refused.")
        if ci is not None:
            lo, hi = ci
            if not lo <= d <= hi:
                raise ValueError(f"interval {i} [{lo}, {hi}] does not contain its estimate {d}.")
            half[i] = max(d - lo, hi - d)
    base = {
        "dof": 0,
        "omega": float(omega),
        "confidence": confidence,
        "resolutions": res,
        "estimates": [None if d is None else float(d) for d in estimates],
        "intervals": [None if c is None else (float(c[0]), float(c[1])) for c in intervals],
        "used": used,
    }
    refused = _refusal_text(res, used)
    if refused:
        return Extrapolation(None, None, None, None, refused=refused, **base)

    x = np.array([res[i] ** -omega for i in used], dtype=float)
    y = np.array([estimates[i] for i in used], dtype=float)
    z = float(norm.ppf(0.5 + confidence / 2))
    s2 = np.maximum((half[used] / z) ** 2, 1e-12)  # an exact estimate: a tiny variance
    dof = len(used) - 2
    tau2 = _paule_mandel(x, y, s2, dof)
    beta, cov, _ = _wls(x, y, s2 + tau2)
    d_inf = float(beta[0])
    h = float(student.ppf(0.5 + confidence / 2, dof)) * math.sqrt(float(cov[0, 0]))
    base["dof"] = dof
    return Extrapolation(
        extrapolated=d_inf,
        interval=(d_inf - h, d_inf + h),
        slope=float(-beta[1]),
        scatter=math.sqrt(tau2),
        **base,
    )


def extrapolate_images(
    fields: Sequence[np.ndarray], confidence: float = CONFIDENCE, seed: int = 0, **kwargs
) -> tuple[list[Dimension2D], Extrapolation]:
    """:func:`estimate_2d` of each image alone (one object at several resolutions, each its own
    image; extra keywords go to ``estimate_2d``), then :func:`extrapolate` over them with each
    image's resolution (:func:`resolution`) and median estimate with its interval."""
    items = [np.asarray(f) for f in fields]
    if not items:
        raise ValueError("give at least one image.")
    raw = [estimate_2d(f, confidence=confidence, seed=seed, **kwargs) for f in items]
    result = extrapolate(
        [resolution(f) for f in items],
        [r.median_local_slope for r in raw],
        [r.median_ci for r in raw],
        confidence=confidence,
    )
    return raw, result
