"""Shapes of known boundary dimension, drawn as two-phase images at any resolution.

Each generator describes ONE object in the unit square and rasterises it at ``n x n`` pixels
(True inside, False outside, sampled at pixel centres), so a list of resolutions gives images
of the same object, as a trainability study's windows at growing resolution are. The object is
drawn with detail finer than half a pixel at every resolution asked for (more iterations, more
escape-time steps, more walk steps than the pixel grid can show).

=================  ==================================================  ========================
name               object                                              true boundary dimension
=================  ==================================================  ========================
``koch``           Koch snowflake                                      log 4 / log 3 = 1.2619
``minkowski``      quadratic Koch island (Minkowski sausage on a       log 8 / log 4 = 1.5
                   square: 8 segments of 1/4 per step)
``rabbit``         filled Julia set of z^2 + c, c^3 + 2c^2 + c + 1 = 0  1.3934 (McMullen 1998)
                   (Douady's rabbit, c = -0.1226 + 0.7449i)
``brownian``       hull of a random-walk path (the path and the          4/3 (Lawler, Schramm &
                   regions it encloses)                                 Werner 2001)
``smooth``         smooth star-shaped blob r(t) = 0.3 (1 + 0.2 cos 3t   1
                   + 0.1 sin 5t)
=================  ==================================================  ========================

Used by ``tests/test_extrapolation.py`` and ``benchmarks/extrapolation.py``; not library code.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import binary_fill_holes

KOCH = math.log(4) / math.log(3)
RABBIT_C = complex(-0.12256116687665362, 0.74486176661974423)  # root of c^3 + 2c^2 + c + 1
TRUE_DIMENSION = {
    "koch": KOCH,
    "minkowski": 1.5,
    "rabbit": 1.3934,  # McMullen (1998), Hausdorff dimension and conformal dynamics III
    "brownian": 4 / 3,
    "smooth": 1.0,
}


def rasterise(poly: np.ndarray, n: int) -> np.ndarray:
    """Even-odd fill of a closed polygon (vertices (x, y) in px) at the pixel centres of an
    n x n image. Scanline: each edge crossing the row through y_c = r + 0.5 contributes its
    x-intersection; a pixel is inside iff an odd number of crossings lie left of its centre
    (the half-open rule [y_lo, y_hi) avoids counting a vertex twice)."""
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    r_lo = np.ceil(ylo - 0.5).astype(int)
    r_hi = np.ceil(yhi - 0.5).astype(int)  # exclusive
    nrow = np.maximum(np.clip(r_hi, 0, n) - np.clip(r_lo, 0, n), 0)
    e = np.repeat(np.arange(poly.shape[0]), nrow)
    start = np.repeat(np.clip(r_lo, 0, n), nrow)
    row = start + np.arange(e.size) - np.repeat(np.cumsum(nrow) - nrow, nrow)
    yc = row + 0.5
    t = (yc - y0[e]) / (y1[e] - y0[e])
    xc = x0[e] + t * (x1[e] - x0[e])
    col = np.clip(np.ceil(xc - 0.5).astype(int), 0, n)
    diff = np.zeros((n, n + 1), dtype=np.int64)
    np.add.at(diff, (row, col), 1)
    return (np.cumsum(diff, axis=1)[:, :n] % 2).astype(bool)


def _refine(z: np.ndarray, motif: np.ndarray, n: int, finest: float) -> np.ndarray:
    """Replace every edge of the closed polygon z (complex, unit square) by the motif (points
    of the generator on the unit segment [0, 1], without its end 1) until edges are shorter
    than ``finest`` pixels at resolution n."""
    while np.abs(np.roll(z, -1) - z).max() * n >= finest:
        a, d = z, np.roll(z, -1) - z
        z = (a[:, None] + d[:, None] * motif[None, :]).ravel()
    return z


def _polygon(z: np.ndarray, n: int) -> np.ndarray:
    return rasterise(np.stack([z.real * n, z.imag * n], axis=1), n)


def koch(n: int, shift: complex = 0) -> np.ndarray:
    """Koch snowflake: triangle of side 0.68 with outward bumps, centred off the pixel grid."""
    side, cx, cy = 0.68, 0.5 + 0.0123, 0.5 + 0.0071
    h = side * math.sqrt(3) / 2
    tri = np.array([cx - side / 2 + 1j * (cy + h / 3), cx + side / 2 + 1j * (cy + h / 3)])
    tri = np.append(tri, cx + 1j * (cy - 2 * h / 3))
    bump = np.exp(1j * np.pi / 3) / 3  # outward for this (y-down) orientation
    motif = np.array([0, 1 / 3, 1 / 3 + bump, 2 / 3])
    return _polygon(_refine(tri + shift, motif, n, 0.5), n)


def minkowski(n: int, shift: complex = 0) -> np.ndarray:
    """Quadratic Koch island: the 8-segment generator (side / 4 each) on a square of side 0.45."""
    side, cx, cy = 0.45, 0.5 + 0.0093, 0.5 - 0.0047
    sq = cx + 1j * cy + side / 2 * np.array([-1 - 1j, 1 - 1j, 1 + 1j, -1 + 1j])
    q = 0.25
    motif = np.array(
        [0, q, q + 1j * q, 2 * q + 1j * q, 2 * q, 2 * q - 1j * q, 3 * q - 1j * q, 3 * q]
    )
    return _polygon(_refine(sq + shift, motif, n, 0.5), n)


def rabbit(n: int, shift: complex = 0, max_iter: int = 4000) -> np.ndarray:
    """Filled Julia set of z^2 + c (Douady's rabbit) over [-1.35, 1.35]^2 (centres shifted off
    the symmetry axes): a pixel is inside unless its orbit leaves |z| < 2 within ``max_iter``
    steps; an orbit that comes within 1e-9 of the superattracting 3-cycle is inside."""
    half, shift = 1.35, complex(0.00113, -0.00071) + 2.7 * shift
    t = (np.arange(n) + 0.5) / n * 2 * half - half
    z = (t[None, :] + 1j * t[:, None] + shift).ravel()
    inside = np.ones(z.size, dtype=bool)
    live = np.arange(z.size)
    c = RABBIT_C
    for _ in range(max_iter):
        z = z * z + c
        out = (z.real * z.real + z.imag * z.imag) > 4.0
        caught = np.abs(z) < 1e-9  # on the cycle 0 -> c -> c^2 + c -> 0
        inside[live[out]] = False
        keep = ~(out | caught)
        z, live = z[keep], live[keep]
        if live.size == 0:
            break
    return inside.reshape(n, n)


def brownian_path(steps: int = 2_000_000, seed: int = 1) -> np.ndarray:
    """A Gaussian random walk scaled into [0.1, 0.9]^2 (complex, unit square)."""
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.standard_normal(steps) + 1j * rng.standard_normal(steps))
    lo = complex(z.real.min(), z.imag.min())
    span = max(z.real.max() - lo.real, z.imag.max() - lo.imag)
    return 0.1 + 0.1j + 0.8 * (z - lo) / span


def brownian(n: int, shift: complex = 0, path: np.ndarray | None = None) -> np.ndarray:
    """Hull of the walk at resolution n: the pixels it visits, and every pixel they enclose
    (not 4-connected to the border through unvisited pixels). Each step is drawn as sub-steps
    of under 0.9 px, so the visited pixels are 8-connected and the outside cannot leak in."""
    p = (brownian_path() if path is None else path) + shift
    step = np.diff(p)
    k = max(1, math.ceil(np.abs(step).max() * n / 0.9))  # sub-steps of under 0.9 px
    visited = np.zeros((n, n), dtype=bool)
    for j in range(k):
        q = p[:-1] + step * (j / k)
        ix = np.clip((q.real * n).astype(int), 0, n - 1)
        iy = np.clip((q.imag * n).astype(int), 0, n - 1)
        visited[iy, ix] = True
    visited[min(int(p[-1].imag * n), n - 1), min(int(p[-1].real * n), n - 1)] = True
    return binary_fill_holes(visited)


def smooth(n: int, shift: complex = 0) -> np.ndarray:
    """Star-shaped blob r(t) = 0.3 (1 + 0.2 cos 3t + 0.1 sin 5t) about (0.49, 0.52)."""
    c = (np.arange(n) + 0.5) / n
    x, y = c[None, :] - 0.49 - shift.real, c[:, None] - 0.52 - shift.imag
    t = np.arctan2(y, x)
    return np.hypot(x, y) < 0.3 * (1 + 0.2 * np.cos(3 * t) + 0.1 * np.sin(5 * t))


GENERATORS = {
    "koch": koch,
    "minkowski": minkowski,
    "rabbit": rabbit,
    "brownian": brownian,
    "smooth": smooth,
}
