"""Fractal dimension of trainability boundaries (pure numpy).

Two estimators, one per paper (sections refer to ``papers.md``):

**2-D box counting, Sohl-Dickstein 2024 (§1.3).** A field of signed values
(negative = converged) is turned into an ``(ny-1) x (nx-1)`` edge map: pixel
``(i, j)`` is an edge iff ``max * min < 0`` over its 2x2 block.  The edge map is
tiled by non-overlapping ``s x s`` boxes anchored at ``(0, 0)`` (partial border
boxes count) and ``N(s)`` is the number of boxes that hold an edge pixel but are
not entirely edge (porespy's ``boxcount`` rule).  With the default 10 sizes
``s = unique(int(logspace(1, log10(min(shape)), 10)))`` the local slopes are
``-d log N / d log s`` (``np.gradient``) and the paper's number is the median of
all local slopes pooled over the images of a zoom sequence.  :func:`estimate_2d`
also reports a least-squares slope over an automatically chosen scaling range,
with a bootstrap 95 % interval.

**1-D boundary counting, Liu 2024 (§2.3).** Labels on a uniform grid of
``2**n + 1`` points are subsampled to ``2**k + 1`` points (``k = 0..n``);
``#B_k`` is the number of adjacent pairs with different labels and
``alpha`` is the least-squares slope of ``log2 #B_k`` against ``k`` over the
levels with ``#B_k > 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Dimension1D",
    "Dimension2D",
    "alpha_1d",
    "box_counts",
    "boundary_counts_1d",
    "default_box_sizes",
    "edges",
    "estimate_2d",
    "local_slopes",
]

MIN_IMAGE_SIZE = 20  # smallest field side accepted by estimate_2d (edge map >= 19 px)


def _nan_to_none(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


# --------------------------------------------------------------------------- 2-D


def edges(field: np.ndarray) -> np.ndarray:
    """Edge map of a 2-D phase field (SD §1.3).

    ``field`` holds signed values (negative = converged) or is a boolean phase
    mask (True -> +1, False -> -1).  Returns a bool array of shape
    ``(ny-1, nx-1)`` with ``E[i, j] = max(B) * min(B) < 0`` for the 2x2 block
    ``B = {f[i,j], f[i+1,j], f[i,j+1], f[i+1,j+1]}``, i.e. the block holds both a
    strictly positive and a strictly negative value.  Exactly the paper's rule:
    a zero counts as neither sign, so a block holding only 0 and negative values
    is *not* an edge (the paper's colouring calls 0 "non-negative").  NaN counts
    as neither sign (SD's fields are finite: non-finite losses become 1e6).
    Evaluated as "block holds a value > 0 and a value < 0" with boolean 2x2
    ORs: the same test, free of the product's overflow and underflow.
    """
    f = np.asarray(field)
    if f.ndim != 2:
        raise ValueError(f"field must be a 2-D array, got shape {f.shape}.")
    if f.dtype == bool:
        pos, neg = f, ~f
    else:
        with np.errstate(invalid="ignore"):
            pos, neg = f > 0, f < 0

    def block_any(m: np.ndarray) -> np.ndarray:
        v = m[:-1] | m[1:]
        return v[:, :-1] | v[:, 1:]

    return block_any(pos) & block_any(neg)


def default_box_sizes(shape: Sequence[int]) -> np.ndarray:
    """porespy's default box sizes: ``unique(int(logspace(1, log10(min(shape)), 10)))``.

    Ten log-spaced sizes from 10 px up to the smallest image side (fewer after
    ``unique``).  Raises ValueError if ``min(shape) < 10``.
    """
    m = int(min(shape))
    if m < 10:
        raise ValueError(f"image side {m} px is smaller than the smallest default box (10 px).")
    return np.unique(np.logspace(1, np.log10(m), 10).astype(int))


def _integral(edge: np.ndarray) -> np.ndarray:
    """Summed-area table ``S[i, j] = edge[:i, :j].sum()``, shape ``(ny+1, nx+1)``."""
    dtype = np.int32 if edge.size < 2**31 else np.int64
    s = np.zeros((edge.shape[0] + 1, edge.shape[1] + 1), dtype=dtype)
    np.cumsum(edge, axis=0, dtype=dtype, out=s[1:, 1:])
    np.cumsum(s[1:, 1:], axis=1, out=s[1:, 1:])
    return s


def _grid(n: int, s: int, o: int) -> np.ndarray:
    """Box boundaries along an axis of length n: {0, n} and {k*s - o} inside (0, n)."""
    inner = np.arange(s - o, n, s)
    return np.concatenate(([0], inner[inner > 0], [n]))


def _count(table: np.ndarray, s: int, offset: tuple[int, int]) -> int:
    """Boxes of size s (grid shifted by offset) with 0 < #edge pixels < box area."""
    ny, nx = table.shape[0] - 1, table.shape[1] - 1
    by, bx = _grid(ny, s, offset[0] % s), _grid(nx, s, offset[1] % s)
    t = table[np.ix_(by, bx)].astype(np.int64)
    inside = t[1:, 1:] - t[:-1, 1:] - t[1:, :-1] + t[:-1, :-1]
    area = np.outer(np.diff(by), np.diff(bx))
    return int(np.count_nonzero((inside > 0) & (inside < area)))


def box_counts(
    edge: np.ndarray, sizes: Sequence[int] | None = None, offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Box counts ``N(s)`` of an edge map (porespy rule, SD §1.3).

    For each size ``s`` the image is tiled with non-overlapping ``s x s`` boxes
    anchored at ``(0, 0)``; partial boxes at the bottom/right border count.  A
    box is counted iff it holds >= 1 edge pixel and is not entirely edge
    (``0 < sum(box) < area(box)``).  ``offset=(oy, ox)`` (taken modulo ``s``)
    shifts the grid up/left, so box boundaries sit at ``k*s - o``; the first row
    of boxes is then ``s - oy`` px tall.  Uses one summed-area table, so each
    size costs only O(#boxes).  ``sizes`` defaults to :func:`default_box_sizes`.
    """
    e = np.asarray(edge)
    if e.ndim != 2:
        raise ValueError(f"edge map must be a 2-D array, got shape {e.shape}.")
    e = e.astype(bool, copy=False)
    sz = default_box_sizes(e.shape) if sizes is None else np.asarray(sizes, dtype=int)
    if sz.ndim != 1 or np.any(sz < 1):
        raise ValueError("box sizes must be a 1-D sequence of positive integers.")
    table = _integral(e)
    return np.array([_count(table, int(s), offset) for s in sz], dtype=np.int64)


def local_slopes(sizes: Sequence[float], counts: Sequence[float]) -> np.ndarray:
    """Local dimensions ``-d log N / d log s`` by ``np.gradient``.

    Central differences inside, one-sided at the two ends (porespy).  Slopes
    that touch a zero count are NaN (never an error); fewer than 2 sizes give
    all-NaN.
    """
    s = np.asarray(sizes, dtype=float)
    n = np.asarray(counts, dtype=float)
    if s.shape != n.shape or s.ndim != 1:
        raise ValueError("sizes and counts must be 1-D arrays of the same length.")
    if s.size < 2:
        return np.full(s.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -np.gradient(np.log(n), np.log(s))
    return np.where(np.isfinite(g), g, np.nan)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on x and its standard error sqrt(SSR/(m-2)/Sxx)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    xm = x - x.mean()
    sxx = float(np.dot(xm, xm))
    slope = float(np.dot(xm, y - y.mean()) / sxx)
    m = x.size
    if m <= 2:
        return slope, 0.0
    resid = y - y.mean() - slope * xm
    return slope, float(np.sqrt(np.dot(resid, resid) / (m - 2) / sxx))


@dataclass(frozen=True)
class Dimension2D:
    """Result of :func:`estimate_2d`.

    ``median_local_slope`` is the paper's D (median of all finite local slopes
    pooled over images); ``fit_slope`` the pooled least-squares slope over
    ``fit_range`` with bootstrap 95 % interval ``fit_ci``; ``counts[i][j]`` is
    ``N(box_sizes[j])`` for image ``i``.
    """

    median_local_slope: float
    fit_slope: float
    fit_ci: tuple[float, float]
    fit_range: list[int]
    box_sizes: list[int]
    counts: list[list[int]]
    n_images: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-python, JSON-serialisable dict (NaN -> None)."""
        return {
            "median_local_slope": _nan_to_none(self.median_local_slope),
            "fit_slope": _nan_to_none(self.fit_slope),
            "fit_ci": [_nan_to_none(v) for v in self.fit_ci],
            "fit_range": [int(s) for s in self.fit_range],
            "box_sizes": [int(s) for s in self.box_sizes],
            "counts": [[int(c) for c in row] for row in self.counts],
            "n_images": int(self.n_images),
        }


def _as_fields(fields: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(fields, np.ndarray) and fields.ndim == 2:
        items = [fields]
    elif isinstance(fields, np.ndarray):
        raise ValueError(f"fields must be a 2-D array or a list of them, got shape {fields.shape}.")
    else:
        items = [np.asarray(f) for f in fields]
    if not items:
        raise ValueError("fields is empty: give at least one 2-D array.")
    for i, f in enumerate(items):
        if f.ndim != 2:
            raise ValueError(f"field {i} must be 2-D, got shape {f.shape}.")
        if f.shape != items[0].shape:
            raise ValueError(f"field {i} has shape {f.shape}, but field 0 has {items[0].shape}.")
    if min(items[0].shape) < MIN_IMAGE_SIZE:
        raise ValueError(
            f"field shape {items[0].shape} is too small: box counting needs at least "
            f"{MIN_IMAGE_SIZE} px per side (smallest box is 10 px)."
        )
    return items


def _extent(edge: np.ndarray) -> int:
    """Larger side of the bounding box of the edge pixels."""
    rows, cols = np.flatnonzero(edge.any(axis=1)), np.flatnonzero(edge.any(axis=0))
    return int(max(rows[-1] - rows[0], cols[-1] - cols[0])) + 1


def _fit_range(
    sizes: np.ndarray,
    counts: np.ndarray,
    boxes: np.ndarray,
    extent: int,
    min_size: int,
    max_fill: float,
    max_frac: float,
) -> np.ndarray:
    """Boolean mask over sizes used by the least-squares fit (rule in estimate_2d)."""
    valid = (sizes >= min_size) & np.all(counts > 0, axis=0)
    fill = counts.sum(axis=0) / (boxes * counts.shape[0])
    use = valid & (fill < max_fill) & (sizes <= max_frac * extent)
    if use.sum() < 3:
        use = np.zeros_like(valid)
        use[np.flatnonzero(valid)[:3]] = True
    if use.sum() < 2:
        raise ValueError(
            "fewer than 2 box sizes have a non-zero count in every image: "
            "the boundary cannot be box-counted at these sizes."
        )
    return use


def _pooled_slope(sizes: np.ndarray, counts: np.ndarray) -> float:
    """Least-squares slope of -log N on log s, pooling rows (images) of counts."""
    x = np.broadcast_to(np.log(sizes.astype(float)), counts.shape).ravel()
    with np.errstate(divide="ignore"):
        y = -np.log(counts.astype(float)).ravel()
    ok = np.isfinite(y)
    if np.unique(x[ok]).size < 2:
        return float("nan")
    return _ols(x[ok], y[ok])[0]


def _slack_offsets(shape: tuple[int, int], s: int, u: float) -> tuple[int, int]:
    """Grid offset for uniform draw u in [0, 1): o = floor(u * (slack + 1)) per axis.

    ``slack = ceil(n/s) * s - n`` is how far the grid can move without adding a
    row/column of boxes, so G(s) stays ``ceil(ny/s) * ceil(nx/s)``.
    """
    oy, ox = (int(u * (-(-n // s) * s - n + 1)) for n in shape)
    return oy, ox


def estimate_2d(
    fields: np.ndarray | Sequence[np.ndarray],
    sizes: Sequence[int] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    min_size: int = 10,
    max_fill: float = 0.5,
    max_frac: float = 0.25,
) -> Dimension2D:
    """Box-counting dimension of the sign boundary of one field or a zoom sequence.

    ``counts``: ``N_i(s)`` of :func:`box_counts` on each image's :func:`edges`,
    grid anchored at (0, 0); ``sizes`` defaults to :func:`default_box_sizes`.

    ``median_local_slope``: median of all finite :func:`local_slopes` over all
    sizes and images (SD §1.3, the paper's number; no range selection).

    ``fit_slope``: least-squares slope of ``-log N`` on ``log s`` pooled over
    images and the sizes ``s`` (the scaling range ``fit_range``) that satisfy

    1. ``s >= min_size`` (10 px, the smallest default box) and ``N_i(s) > 0``
       for every image;
    2. ``s <= max_frac * L`` (1/4), ``L`` the smallest over images of the larger
       side of the edge pixels' bounding box: >= 4 boxes across the set;
    3. fill ``F(s) = sum_i N_i(s) / (n_images * G(s)) < max_fill`` (1/2), with
       ``G(s) = ceil(ny/s) * ceil(nx/s)`` boxes in the grid.

    Rules 2-3 drop the saturated large sizes, where nearly every box near the set
    counts, so ``N`` measures the set's area (slope -> 2) and partial border boxes
    (``ceil`` steps) dominate; on synthetic sets the fit then returns 1.00 for
    lines and circles and log 4/log 3 for a Koch snowflake.  If fewer than 3
    sizes pass, the 3 smallest sizes passing rule 1 are used: a space-filling
    boundary (random signs) saturates at every size, and at the finest sizes
    ``N ~ (n/s)^2`` with the least partial-box error (slope ~2).  Fewer than 2
    sizes passing rule 1 raise ValueError.

    ``fit_ci``: 95 % percentile bootstrap interval of the fit slope over the same
    ``fit_range``.  Each of ``n_boot`` replicates resamples the images with
    replacement and, per image and size, shifts the box grid by a random offset
    (see :func:`box_counts`) drawn uniformly within the slack
    ``ceil(n/s) * s - n`` of each axis, from one uniform draw for both axes (so
    transposition leaves the result unchanged).  Offsets within the slack keep
    the number of grid boxes fixed; offsets anywhere in ``[0, s)`` would add a
    partial row and column of boxes on average and bias every replicate's
    slope low against the anchored estimate.  Deterministic for a given
    ``seed``; ``n_boot=0`` gives ``(nan, nan)``.

    Raises ValueError for non-2-D, empty or mismatched fields, fields smaller
    than 20 px, and fields with a single phase (no sign change, no boundary).
    """
    items = _as_fields(fields)
    emaps = [edges(f) for f in items]
    for i, e in enumerate(emaps):
        if not e.any():
            raise ValueError(
                f"field {i} has a single phase (no sign change), so it has no boundary to measure."
            )
    shape = emaps[0].shape
    sz = default_box_sizes(shape) if sizes is None else np.unique(np.asarray(sizes, dtype=int))
    if sz.size < 2 or sz[0] < 1:
        raise ValueError("need at least 2 distinct positive box sizes.")
    tables = [_integral(e) for e in emaps]
    counts = np.array([[_count(t, int(s), (0, 0)) for s in sz] for t in tables])
    boxes = np.array([-(-shape[0] // s) * -(-shape[1] // s) for s in sz])

    slopes = np.concatenate([local_slopes(sz, c) for c in counts])
    finite = slopes[np.isfinite(slopes)]
    median = float(np.median(finite)) if finite.size else float("nan")

    extent = min(_extent(e) for e in emaps)
    use = _fit_range(sz, counts, boxes, extent, min_size, max_fill, max_frac)
    fsz = sz[use]
    fit = _pooled_slope(fsz, counts[:, use])

    rng = np.random.default_rng(seed)
    n = len(tables)
    boot = np.full(n_boot, np.nan)
    for b in range(n_boot):
        pick = rng.integers(0, n, size=n)
        u = rng.random((n, fsz.size))
        c = np.array(
            [
                [
                    _count(tables[i], int(s), _slack_offsets(shape, int(s), uu))
                    for s, uu in zip(fsz, ui, strict=True)
                ]
                for i, ui in zip(pick, u, strict=True)
            ]
        )
        boot[b] = _pooled_slope(fsz, c)
    if n_boot and np.isfinite(boot).any():
        lo, hi = np.nanpercentile(boot, [2.5, 97.5])
        ci = (float(lo), float(hi))
    else:
        ci = (float("nan"), float("nan"))

    return Dimension2D(
        median_local_slope=median,
        fit_slope=float(fit),
        fit_ci=ci,
        fit_range=[int(s) for s in fsz],
        box_sizes=[int(s) for s in sz],
        counts=[[int(v) for v in row] for row in counts],
        n_images=n,
    )


# --------------------------------------------------------------------------- 1-D


def boundary_counts_1d(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Liu's boundary counts ``#B_k``, k = 0..n (LIU §2.3).

    ``labels`` lie on a uniform grid of ``2**n + 1`` points.  Level ``k`` keeps
    every ``2**(n-k)``-th point (``2**k + 1`` points) and ``#B_k`` is the number of
    adjacent kept pairs whose labels differ.  Raises ValueError for any other
    length or non-1-D input.
    """
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {lab.shape}.")
    m = lab.size - 1
    if m < 1 or m & (m - 1):
        raise ValueError(f"labels must have 2**n + 1 points (e.g. 1025, 4097), got {lab.size}.")
    n = m.bit_length() - 1
    out = np.empty(n + 1, dtype=np.int64)
    for k in range(n + 1):
        sub = lab[:: 2 ** (n - k)]
        out[k] = np.count_nonzero(sub[1:] != sub[:-1])
    return out


@dataclass(frozen=True)
class Dimension1D:
    """Result of :func:`alpha_1d`: ``alpha`` (slope of log2 #B_k on k), its OLS
    standard error, ``counts`` (#B_k, k = 0..n) and the levels used by the fit."""

    alpha: float
    alpha_stderr: float
    counts: list[int]
    levels_used: list[int]

    def to_dict(self) -> dict[str, Any]:
        """Plain-python, JSON-serialisable dict."""
        return {
            "alpha": float(self.alpha),
            "alpha_stderr": float(self.alpha_stderr),
            "counts": [int(c) for c in self.counts],
            "levels_used": [int(k) for k in self.levels_used],
        }


def alpha_1d(
    labels: Sequence[Any] | np.ndarray, levels: tuple[int, int] | None = None
) -> Dimension1D:
    """Liu's 1-D boundary dimension ``alpha`` (LIU §2.3).

    ``alpha`` is the least-squares slope of ``log2 #B_k`` against ``k`` over the
    levels ``kmin <= k <= kmax`` (``levels``, inclusive; default all) that have
    ``#B_k > 1``.  ``alpha_stderr = sqrt(SSR / (m - 2) / Sxx)`` for ``m`` fitted
    levels (equal to ``np.polyfit(..., cov=True)`` in numpy >= 1.16), 0 when
    ``m == 2``.  Fewer than 2 such levels means the boundary is not fractal
    (e.g. a single step): ``alpha = alpha_stderr = 0``.
    """
    counts = boundary_counts_1d(labels)
    k = np.arange(counts.size)
    kmin, kmax = (0, counts.size - 1) if levels is None else levels
    use = (k >= kmin) & (k <= kmax) & (counts > 1)
    if use.sum() < 2:
        return Dimension1D(0.0, 0.0, counts.tolist(), [int(i) for i in k[use]])
    slope, err = _ols(k[use], np.log2(counts[use]))
    return Dimension1D(slope, err, counts.tolist(), [int(i) for i in k[use]])


# PROVISIONAL (replaced by the dimension branch's implementation on merge)
@dataclass(frozen=True)
class BoundaryTexture:
    speckle: float
    clean: bool


def boundary_texture(field) -> BoundaryTexture:
    f = np.asarray(field) < 0
    n = f.size
    same = 0
    for axis in (0, 1):
        same += (np.diff(f, axis=axis) == 0).sum()
    speckle = 1 - same / (2 * n)
    return BoundaryTexture(float(speckle), bool(speckle < 0.25))
