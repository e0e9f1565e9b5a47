"""Fractal dimension of trainability boundaries, and the texture test of a boundary (pure numpy).

**2-D box counting, Sohl-Dickstein (2024).** A field of signed values (negative = converged) is
turned into an ``(ny-1) x (nx-1)`` edge map: pixel ``(i, j)`` is an edge iff its 2x2 block holds a
value > 0 and a value < 0 (:func:`edges`).  The edge map is tiled by non-overlapping ``s x s``
boxes anchored at ``(0, 0)`` (partial border boxes count) and ``N(s)`` is the number of boxes that
hold an edge pixel but are not entirely edge (porespy's ``boxcount`` rule, :func:`box_counts`).
With the default 10 sizes ``s = unique(int(logspace(1, log10(min(shape)), 10)))`` the local
slopes are ``-d log N / d log s`` (``np.gradient``, :func:`local_slopes`) and the paper's
dimension is the median of all local slopes pooled over the images of a zoom sequence.

:func:`estimate_2d` computes that number exactly as the paper did, with three additions that let
it refuse instead of printing noise and that make its uncertainty explicit (``docs/dimension.md``
gives the reasoning and the measurements behind every threshold):

* a **scaling-range rule**: an image whose usable box sizes span less than one decade
  (largest / smallest < :data:`MIN_SCALE_RATIO`) contributes nothing; when no image of a set
  qualifies the result is *refused* (``refused`` says "not enough scales" and why);
* a least-squares **fit** over an automatically chosen scaling range, refused on its own when
  that range spans less than a decade;
* an **interval** for each, centred on its estimate: the bootstrap spread of the estimate over
  random placements of the box grid and resampled keyframes.  Both contain their point estimate
  by construction.

**Boundary texture.** :func:`boundary_texture` measures how much of a field is *speckle*: pixels
in 4-connected same-phase clusters smaller than :data:`SPECKLE_CLUSTER_PX` pixels.  A boundary
between a few large connected structures (a fractal boundary resolved by the grid) has little
speckle; a chaotic region where neighbouring pixels flip at random (an i.i.d. random sign field)
has a lot.  ``clean`` is ``speckle <= MAX_SPECKLE``.

**1-D boundary counting, Liu (2024).** Labels on a uniform grid of ``2**n + 1`` points are
subsampled to ``2**k + 1`` points (``k = 0..n``); ``#B_k`` is the number of adjacent pairs with
different labels and ``alpha`` is the least-squares slope of ``log2 #B_k`` against ``k`` over
the levels with ``#B_k > 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CONFIDENCE",
    "MAX_SPECKLE",
    "MIN_SCALE_RATIO",
    "NOT_ENOUGH_SCALES",
    "NO_BOUNDARY",
    "SPECKLE_CLUSTER_PX",
    "BoundaryTexture",
    "Dimension1D",
    "Dimension2D",
    "alpha_1d",
    "boundary_counts_1d",
    "boundary_texture",
    "box_counts",
    "clusters",
    "default_box_sizes",
    "edges",
    "estimate_2d",
    "local_slopes",
    "scale_ratio",
]

MIN_SCALE_RATIO = 10.0  # an image's usable box sizes must span a decade (largest / smallest)
CONFIDENCE = 0.95  # of every interval
NOT_ENOUGH_SCALES = "not enough scales"  # how a refusal for too small images begins
NO_BOUNDARY = "no boundary"  # how a refusal for single-phase images begins
SPECKLE_CLUSTER_PX = 16  # same-phase clusters smaller than a 4x4 block are speckle
MAX_SPECKLE = 0.10  # a picture with more of its pixels in speckle is noise, not a boundary


# --------------------------------------------------------------------------- 2-D


def edges(field: np.ndarray) -> np.ndarray:
    """Edge map of a 2-D phase field.

    ``field`` holds signed values (negative = converged) or is a boolean phase
    mask (True -> +1, False -> -1).  Returns a bool array of shape
    ``(ny-1, nx-1)`` with ``E[i, j] = max(B) * min(B) < 0`` for the 2x2 block
    ``B = {f[i,j], f[i+1,j], f[i,j+1], f[i+1,j+1]}``, i.e. the block holds both a
    strictly positive and a strictly negative value.  Exactly the paper's rule:
    a zero counts as neither sign, so a block holding only 0 and negative values
    is *not* an edge (the paper's colouring calls 0 "non-negative").  NaN counts
    as neither sign (the paper's fields are finite: non-finite losses become 1e6).
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
    """Box counts ``N(s)`` of an edge map (porespy rule).

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


def scale_ratio(sizes: Sequence[int], counts: Sequence[int]) -> float:
    """Largest over smallest *usable* box size of one image: 0 if none, 1 if one.

    A size is usable when its local slope (:func:`local_slopes`) is finite, i.e. the image has
    boxes to count there and at its neighbouring sizes.  The scaling-range rule of
    :func:`estimate_2d` asks for at least :data:`MIN_SCALE_RATIO` (one decade).
    """
    s = np.asarray(sizes, dtype=float)[np.isfinite(local_slopes(sizes, counts))]
    return float(s.max() / s.min()) if s.size else 0.0


def _symmetric_interval(
    estimate: float, replicates: np.ndarray, confidence: float
) -> tuple[float, float] | None:
    """``estimate -+ h``, ``h`` the ``confidence`` quantile of ``|replicate - estimate|``."""
    dev = np.abs(replicates[np.isfinite(replicates)] - estimate)
    if dev.size == 0:
        return None
    h = float(np.quantile(dev, confidence))
    return (estimate - h, estimate + h)


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


def _extent(edge: np.ndarray) -> int:
    """Larger side of the bounding box of the edge pixels."""
    rows, cols = np.flatnonzero(edge.any(axis=1)), np.flatnonzero(edge.any(axis=0))
    return int(max(rows[-1] - rows[0], cols[-1] - cols[0])) + 1


@dataclass(frozen=True)
class Dimension2D:
    """Result of :func:`estimate_2d` (None where an estimate is refused).

    ``median_local_slope`` is the paper's D: the median of the finite local slopes pooled over
    the images listed in ``images_used`` (those that pass the scaling-range rule).
    ``fit_slope`` is the pooled least-squares slope over the box sizes ``fit_range``.
    ``median_ci`` and ``fit_ci`` are their intervals at ``confidence``, each centred on its
    estimate.  ``counts[i][j]`` is ``N(box_sizes[j])`` for image ``i`` (every image, used or
    not).  ``refused`` says why there is no estimate at all (it begins with
    :data:`NOT_ENOUGH_SCALES` or :data:`NO_BOUNDARY`); ``fit_refused`` why there is no fit.
    """

    median_local_slope: float | None
    median_ci: tuple[float, float] | None
    fit_slope: float | None
    fit_ci: tuple[float, float] | None
    confidence: float
    fit_range: list[int]
    box_sizes: list[int]
    counts: list[list[int]]
    n_images: int
    images_used: list[int]
    refused: str | None = None
    fit_refused: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-python, JSON-serialisable dict (refused estimates are None)."""
        return {
            "median_local_slope": self.median_local_slope,
            "median_ci": None if self.median_ci is None else list(self.median_ci),
            "fit_slope": self.fit_slope,
            "fit_ci": None if self.fit_ci is None else list(self.fit_ci),
            "confidence": self.confidence,
            "fit_range": [int(s) for s in self.fit_range],
            "box_sizes": [int(s) for s in self.box_sizes],
            "counts": [[int(c) for c in row] for row in self.counts],
            "n_images": int(self.n_images),
            "images_used": [int(i) for i in self.images_used],
            "refused": self.refused,
            "fit_refused": self.fit_refused,
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
        if min(f.shape) < 2:
            raise ValueError(f"field {i} has shape {f.shape}: a 2x2 block needs 2 px per side.")
        if f.shape != items[0].shape:
            raise ValueError(f"field {i} has shape {f.shape}, but field 0 has {items[0].shape}.")
    return items


def _box_sizes(shape: tuple[int, int], sizes: Sequence[int] | None) -> np.ndarray:
    if sizes is None:
        return default_box_sizes(shape) if min(shape) >= 10 else np.zeros(0, dtype=int)
    sz = np.asarray(sizes)
    if sz.ndim != 1 or sz.size == 0 or np.any(sz < 1) or np.any(sz != np.round(sz)):
        raise ValueError("box sizes must be a non-empty 1-D sequence of positive integers.")
    return np.unique(sz.astype(int))


def _refusal(emaps, sizes: np.ndarray, counts: np.ndarray, confidence: float) -> Dimension2D:
    """The result when no image passes the scaling-range rule, with the reason."""
    shape = emaps[0].shape
    best = max((scale_ratio(sizes, c) for c in counts), default=0.0)
    if not any(e.any() for e in emaps):
        reason = f"{NO_BOUNDARY}: every image has a single phase (no sign change)."
    elif sizes.size == 0:
        reason = (
            f"{NOT_ENOUGH_SCALES}: the {shape[0]}x{shape[1]} px edge map is smaller than the "
            "smallest box (10 px); box counting needs images of at least 101 px per side."
        )
    elif best == 0:
        reason = (
            f"{NOT_ENOUGH_SCALES}: at no box size from {sizes[0]} to {sizes[-1]} px does the "
            "image have a local slope (its boxes are empty or entirely boundary)."
        )
    else:
        reason = (
            f"{NOT_ENOUGH_SCALES}: the usable box sizes ({sizes[0]}-{sizes[-1]} px) span at most "
            f"{math.log10(best):.2f} decades, less than one (largest / smallest box < "
            f"{MIN_SCALE_RATIO:g}); with the default box sizes that takes images of at least "
            "101 px per side."
        )
    return Dimension2D(
        median_local_slope=None,
        median_ci=None,
        fit_slope=None,
        fit_ci=None,
        confidence=confidence,
        fit_range=[],
        box_sizes=[int(s) for s in sizes],
        counts=[[int(v) for v in row] for row in counts],
        n_images=len(emaps),
        images_used=[],
        refused=reason,
        fit_refused=reason,
    )


def _median_slope(sizes: np.ndarray, counts: np.ndarray) -> float:
    """Median of the finite local slopes of every row (image) of counts: the paper's D."""
    slopes = np.concatenate([local_slopes(sizes, c) for c in counts])
    finite = slopes[np.isfinite(slopes)]
    return float(np.median(finite)) if finite.size else float("nan")


def _fit_sizes(sz, counts, emaps, min_size, max_fill, max_frac) -> tuple[np.ndarray, str | None]:
    """Mask of the fit's scaling range over ``sz`` and, if it is too short, why (rules 1-3)."""
    shape = emaps[0].shape
    boxes = np.array([-(-shape[0] // s) * -(-shape[1] // s) for s in sz])
    extent = min(_extent(e) for e in emaps)
    resolved = (sz >= min_size) & np.all(counts > 0, axis=0) & (sz <= max_frac * extent)
    fill = counts.sum(axis=0) / (boxes * counts.shape[0])
    use = resolved & (fill < max_fill)
    if not use.any():
        use = resolved  # saturated at every resolved size: the boundary fills the plane
    fsz = sz[use]
    if fsz.size >= 3 and fsz[-1] >= MIN_SCALE_RATIO * fsz[0]:
        return use, None
    span = (
        f"{fsz[0]}-{fsz[-1]} px, {math.log10(fsz[-1] / fsz[0]):.2f} decades"
        if fsz.size
        else "empty"
    )
    return use, (
        f"{NOT_ENOUGH_SCALES} for the fit: its scaling range (box sizes >= {min_size} px and "
        f"<= {max_frac:g} of the boundary's extent, fewer than {max_fill:g} of the boxes filled) "
        f"is {span}; a fit needs 3 sizes spanning a decade."
    )


def estimate_2d(
    fields: np.ndarray | Sequence[np.ndarray],
    sizes: Sequence[int] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    min_size: int = 10,
    max_fill: float = 0.5,
    max_frac: float = 0.25,
    confidence: float = CONFIDENCE,
) -> Dimension2D:
    """Box-counting dimension of the sign boundary of one field or of a zoom sequence.

    ``counts``: ``N_i(s)`` of :func:`box_counts` on each image's :func:`edges`, grid anchored at
    (0, 0); ``sizes`` defaults to :func:`default_box_sizes` of the edge map.

    **Scaling-range rule.**  Image ``i`` is used iff :func:`scale_ratio` of its counts is at
    least :data:`MIN_SCALE_RATIO` (one decade; with the default sizes: images of at least 101 px
    per side that hold a boundary).  If no image is used the result is refused: ``refused``
    reads "no boundary: ..." when no image changes sign, else "not enough scales: ...".

    **The paper's D.**  ``median_local_slope``: median of all finite :func:`local_slopes` of the
    used images, over all their box sizes (no range selection, as the paper did).

    **The fit.**  ``fit_slope``: least-squares slope of ``-log N`` on ``log s`` pooled over the
    used images and the sizes ``s`` (``fit_range``) that satisfy

    1. ``s >= min_size`` (10 px) and ``N_i(s) > 0`` for every used image;
    2. ``s <= max_frac * L`` (1/4), ``L`` the smallest over used images of the larger side of the
       edge pixels' bounding box: >= 4 boxes across the set;
    3. fill ``F(s) = sum_i N_i(s) / (n_used * G(s)) < max_fill`` (1/2), ``G(s) = ceil(ny/s) *
       ceil(nx/s)`` boxes in the grid: where nearly every box near the set counts, ``N``
       measures the set's area (slope -> 2), not its boundary.  If *no* size passing 1-2 passes
       3, the boundary fills the plane at every resolved size and rule 3 is dropped.

    The fit alone is refused (``fit_refused``; the median stands) when fewer than 3 sizes pass
    or they span less than :data:`MIN_SCALE_RATIO`.

    **Intervals.**  ``n_boot`` bootstrap replicates each resample the used images with
    replacement and, per image and box size, shift the box grid by a random offset (see
    :func:`box_counts`) drawn uniformly within the slack ``ceil(n/s) * s - n`` of each axis,
    from one uniform draw for both axes (so transposition leaves the result unchanged; offsets
    within the slack keep the number of grid boxes ``G(s)`` fixed).  Each replicate gives a
    median ``m_b`` and a fit ``f_b``; ``median_ci = median -+ h`` with ``h`` the ``confidence``
    quantile of ``|m_b - median|``, and likewise ``fit_ci``.  Measuring the spread around the
    estimate itself, rather than taking the replicates' own percentiles, makes each interval
    contain its estimate by construction, and widens it when the anchored grid is atypical.
    The intervals say how far the number moves with the arbitrary placement of the box grid
    and the choice of keyframes; the bias of a finite resolution is not in them.
    Deterministic for a given ``seed``; ``n_boot=0`` gives no intervals (None).

    Raises ValueError for non-2-D, empty or mismatched fields, bad sizes, a confidence outside
    (0, 1) and a negative ``n_boot``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}.")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot!r}.")
    items = _as_fields(fields)
    emaps = [edges(f) for f in items]
    shape = emaps[0].shape
    sz = _box_sizes(shape, sizes)
    tables = [_integral(e) for e in emaps]
    counts = np.array(
        [[_count(t, int(s), (0, 0)) for s in sz] for t in tables], dtype=np.int64
    ).reshape(len(items), sz.size)
    used = [i for i, c in enumerate(counts) if scale_ratio(sz, c) >= MIN_SCALE_RATIO]
    if not used:
        return _refusal(emaps, sz, counts, confidence)

    median = _median_slope(sz, counts[used])
    in_fit, fit_refused = _fit_sizes(
        sz, counts[used], [emaps[i] for i in used], min_size, max_fill, max_frac
    )
    fsz = sz[in_fit]
    fit = None if fit_refused else _pooled_slope(fsz, counts[used][:, in_fit])

    rng = np.random.default_rng(seed)
    boot = np.full((n_boot, 2), np.nan)
    memo: dict[tuple[int, int, tuple[int, int]], int] = {}  # offsets repeat: count each once

    def count(i: int, s: int, u: float) -> int:
        key = (i, s, _slack_offsets(shape, s, u))
        if key not in memo:
            memo[key] = _count(tables[i], s, key[2])
        return memo[key]

    for b in range(n_boot):
        pick = rng.choice(used, size=len(used))
        u = rng.random((len(used), sz.size))
        c = np.array(
            [
                [count(int(i), int(s), x) for s, x in zip(sz, ui, strict=True)]
                for i, ui in zip(pick, u, strict=True)
            ]
        )
        boot[b, 0] = _median_slope(sz, c)
        if fit is not None:
            boot[b, 1] = _pooled_slope(fsz, c[:, in_fit])
    return Dimension2D(
        median_local_slope=median,
        median_ci=_symmetric_interval(median, boot[:, 0], confidence),
        fit_slope=fit,
        fit_ci=None if fit is None else _symmetric_interval(fit, boot[:, 1], confidence),
        confidence=confidence,
        fit_range=[int(s) for s in fsz] if fit is not None else [],
        box_sizes=[int(s) for s in sz],
        counts=[[int(v) for v in row] for row in counts],
        n_images=len(items),
        images_used=used,
        refused=None,
        fit_refused=fit_refused,
    )


# --------------------------------------------------------------------------- texture


def clusters(phase: np.ndarray) -> np.ndarray:
    """Labels of the 4-connected clusters of equal values of a 2-D array (``0..K-1``).

    Two pixels are in one cluster iff a path of horizontal and vertical steps between pixels of
    the same value joins them.  Labels follow the raster order of each cluster's first pixel.
    Vectorised union-find over the horizontal runs of equal values: runs that touch vertically
    with equal values are linked, then every link hooks the larger of its two roots onto the
    smaller and the parent array is compressed by pointer jumping until no link joins two
    roots.  A 512^2 image takes a few tens of milliseconds.
    """
    p = np.asarray(phase)
    if p.ndim != 2 or p.size == 0:
        raise ValueError(f"phase must be a non-empty 2-D array, got shape {p.shape}.")
    start = np.ones(p.shape, dtype=bool)
    start[:, 1:] = p[:, 1:] != p[:, :-1]
    run = np.cumsum(start.ravel()).reshape(p.shape) - 1  # run index of every pixel
    same = p[1:] == p[:-1]
    a, b = run[:-1][same], run[1:][same]  # vertically touching runs, raster order
    if a.size:
        new = np.ones(a.size, dtype=bool)
        new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b = a[new], b[new]
    parent = np.arange(int(run[-1, -1]) + 1)
    while a.size:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            break
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return np.unique(parent, return_inverse=True)[1][run]


@dataclass(frozen=True)
class BoundaryTexture:
    """Result of :func:`boundary_texture`.

    ``speckle``: share of the pixels that lie in 4-connected same-phase clusters of fewer than
    :data:`SPECKLE_CLUSTER_PX` pixels; ``clusters``: number of such clusters of any size;
    ``largest``: share of the pixels in the largest cluster; ``clean``: ``speckle <=
    MAX_SPECKLE``.
    """

    speckle: float
    clusters: int
    largest: float
    clean: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "speckle": self.speckle,
            "clusters": self.clusters,
            "largest": self.largest,
            "clean": self.clean,
        }


def boundary_texture(field: np.ndarray) -> BoundaryTexture:
    """Is this picture a boundary between large structures (clean) or salt-and-pepper speckle?

    The phases are ``field < 0`` (converged) and the rest (a zero or NaN counts as not
    converged); a boolean field is its own phase.  ``speckle`` is the share of pixels in
    4-connected same-phase clusters (:func:`clusters`) of fewer than :data:`SPECKLE_CLUSTER_PX`
    pixels, and the picture is ``clean`` iff ``speckle <= MAX_SPECKLE``.  An i.i.d. random sign
    field (p = 1/2 is below the square lattice's site-percolation threshold 0.593, so neither
    phase forms large clusters) has speckle ~0.35 at every size; smooth and Koch boundaries have
    none; the paper's published tanh window at 48^2 has 0.026 (``docs/dimension.md``).
    """
    f = np.asarray(field)
    if f.ndim != 2 or f.size == 0:
        raise ValueError(f"field must be a non-empty 2-D array, got shape {f.shape}.")
    if f.dtype == bool:
        phase = f
    else:
        with np.errstate(invalid="ignore"):
            phase = f < 0
    sizes = np.bincount(clusters(phase).ravel())
    speckle = float(sizes[sizes < SPECKLE_CLUSTER_PX].sum() / f.size)
    return BoundaryTexture(
        speckle=speckle,
        clusters=int(sizes.size),
        largest=float(sizes.max() / f.size),
        clean=speckle <= MAX_SPECKLE,
    )


# --------------------------------------------------------------------------- 1-D


def boundary_counts_1d(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Liu's boundary counts ``#B_k``, k = 0..n.

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
    """Liu's 1-D boundary dimension ``alpha``.

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

