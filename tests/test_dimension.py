"""Known-answer tests for trainability.analysis.dimension: box counting (Sohl-Dickstein 2024) with
its
scaling-range rule and intervals, the tables' rounding, the boundary texture, Liu's 1-D counting."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import fractals
import numpy as np
import pytest

from trainability.analysis.dimension import (
    MAX_SPECKLE,
    NO_BOUNDARY,
    NOT_ENOUGH_SCALES,
    Dimension1D,
    Dimension2D,
    alpha_1d,
    boundary_counts_1d,
    boundary_texture,
    box_counts,
    clusters,
    default_box_sizes,
    edges,
    estimate_2d,
    local_slopes,
    scale_ratio,
)
from trainability.analysis.tables import (
    DIMENSION_COLUMNS,
    dimension_row,
    format_estimate,
    markdown,
    read_table,
    supported_decimals,
    write_table,
)

N = 1024  # side of the synthetic 2-D fields
KOCH = np.log(4) / np.log(3)  # the Koch curve's dimension

# ----------------------------------------------------------------------------- helpers


def pixel_centres(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (y, x) of an n x n image, in pixels."""
    c = np.arange(n) + 0.5
    return c[:, None], c[None, :]


def rasterise(poly: np.ndarray, n: int = N) -> np.ndarray:
    """Even-odd fill of a closed polygon (vertices (x, y) in px) at pixel centres
    (`fractals.rasterise`, shared with the extrapolation's known fractals)."""
    return fractals.rasterise(poly, n)


def koch_snowflake(iterations: int, n: int = N) -> np.ndarray:
    """Vertices (x, y) of a Koch snowflake centred in an n-px square, triangle side 0.75 n."""
    side = 0.75 * n
    h = side * np.sqrt(3) / 2
    cx, cy = n / 2, n / 2
    tri = np.array([[cx - side / 2, cy + h / 3], [cx + side / 2, cy + h / 3], [cx, cy - 2 * h / 3]])
    z = tri[:, 0] + 1j * tri[:, 1]
    rot = np.exp(1j * np.pi / 3)  # outward bump for this (y-down) orientation
    for _ in range(iterations):
        a, b = z, np.roll(z, -1)
        d = (b - a) / 3
        p1, p3 = a + d, a + 2 * d
        p2 = p1 + d * rot
        z = np.stack([a, p1, p2, p3], axis=1).ravel()
    return np.stack([z.real, z.imag], axis=1)


def cantor_gap_labels(n: int, digits: int = 38) -> np.ndarray:
    """Labels on the grid x_j = j / 2**n (j = 0..2**n) whose changes mark the Cantor set.

    Each removed middle-third interval (gap) gets its own label: the base-3
    prefix up to its first digit 1 (computed exactly with integer arithmetic).
    Points with no digit 1 among the first `digits` ternary digits lie within
    3**-digits << 2**-n of the Cantor set C and get a unique label each.  Then
    two neighbours at any level k differ iff their dyadic cell meets C, so
    #B_k is exactly the dyadic box count N(2**-k) of C, whose slope is
    log 2 / log 3.  (A plain 0/1 indicator would not do: a cell holding a whole
    chunk of C has an even number of crossings and equal end labels.)
    """
    j = np.arange(2**n + 1, dtype=np.int64)
    r = j.copy()
    label = np.full(j.size, -1, dtype=np.int64)
    prefix = np.zeros(j.size, dtype=np.int64)
    mask = (1 << n) - 1
    for d in range(1, digits + 1):
        r = r * 3
        dig = r >> n
        r &= mask
        prefix = prefix * 3 + dig
        new = (label < 0) & (dig == 1)
        label[new] = 3**d + prefix[new]  # leading marker 3**d keeps prefixes unique
    # x = 1 (j = 2**n) reads as digits 3, 0, 0, ... (never 1): it stays open, as 1 is in C.
    open_ = label < 0
    label[open_] = -(j[open_] + 1)
    return label


def gd_quadratic_labels(lrs: np.ndarray, steps: int = 1000, bound: float = 1e4) -> np.ndarray:
    """Diverged (True) iff |x_T| > bound or non-finite, for GD on x**2 from x0 = 1."""
    x = np.ones_like(lrs)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x = x - lrs * 2 * x
    return ~np.isfinite(x) | (np.abs(x) > bound)


# ----------------------------------------------------------------------------- fields

Y, X = np.broadcast_arrays(*pixel_centres())


def half_plane() -> np.ndarray:
    return X - 0.5 * N - 0.3  # vertical boundary between columns


def tilted_line() -> np.ndarray:
    a = np.deg2rad(27.0)
    return np.cos(a) * (X - 0.4 * N) + np.sin(a) * (Y - 0.55 * N)


def disc() -> np.ndarray:
    return np.hypot(X - 0.5 * N - 0.17, Y - 0.5 * N + 0.31) - 0.4 * N


def disc_of(n: int) -> np.ndarray:
    """A disc of radius 0.3 n off the centre of an n x n image."""
    y, x = np.mgrid[:n, :n] + 0.5
    return np.hypot(x - 0.47 * n, y - 0.52 * n) - 0.3 * n


# ----------------------------------------------------------------------------- edges


def test_edges_rule_and_zero():
    f = np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, -3.0, -4.0]])
    e = edges(f)
    assert e.shape == (2, 2)
    # block with 0 and negatives only is not an edge (max * min = 0)
    assert e.tolist() == [[True, True], [True, False]]


def test_bool_mask_equals_pm1_field():
    rng = np.random.default_rng(1)
    mask = rng.random((64, 80)) < 0.3
    assert np.array_equal(edges(mask), edges(np.where(mask, 1.0, -1.0)))
    assert np.array_equal(edges(mask), edges(np.where(mask, 7.5, -0.1)))


def test_default_box_sizes():
    s = default_box_sizes((4095, 4095))
    assert s.tolist() == [10, 19, 38, 74, 144, 282, 551, 1075, 2098, 4095]
    assert default_box_sizes((N - 1, 2000))[0] == 10 and default_box_sizes((N - 1, N))[-1] == N - 1


# ----------------------------------------------------------------------------- box counts


def test_box_counts_hand_made():
    e = np.zeros((5, 5), dtype=bool)
    e[0:2, 0:2] = True  # full 2x2 box at (0, 0): must NOT count at s = 2
    e[2, 3] = True  # partial edge in box (1, 1)
    e[4, 4] = True  # 1x1 border box, entirely edge: must NOT count
    e[4, 0] = True  # 1x2 border box (4, 0:2), half edge: MUST count
    assert box_counts(e, [2]).tolist() == [2]
    # s = 3: box (0,0) holds 4 edge px out of 9 -> counts; (0,1) [0:3,3:5] has (2,3);
    # (1,0) [3:5,0:3] partial 2x3 holds (4,0); (1,1) [3:5,3:5] holds (4,4) -> 4
    assert box_counts(e, [3]).tolist() == [4]
    # s = 5: one box, partially edge
    assert box_counts(e, [5]).tolist() == [1]
    full = np.ones((4, 4), dtype=bool)
    assert box_counts(full, [2, 3, 4]).tolist() == [0, 0, 0]
    # offset (1, 1) at s = 2: boundaries {0,1,3,5} on both axes -> 3x3 boxes.  Rows [0,1),
    # [1,3), [3,5): the 1x1 box (0,0) is entirely edge -> not counted; (0,1) has (0,1);
    # (1,0) has (1,0); (1,1) has (1,1); (1,2) has (2,3); (2,0) has (4,0); (2,2) has (4,4);
    # (0,2) and (2,1) are empty -> 6
    assert box_counts(e, [2], offset=(1, 1)).tolist() == [6]


def test_box_counts_matches_brute_force():
    rng = np.random.default_rng(3)
    e = rng.random((37, 53)) < 0.05
    e[10:20, 10:20] = True
    for s in (2, 3, 7, 10, 16, 40):
        for off in ((0, 0), (1, 2), (s - 1, 0)):
            oy, ox = off[0] % s, off[1] % s
            by = [0, *[b for b in range(s - oy, 37, s) if b > 0], 37]
            bx = [0, *[b for b in range(s - ox, 53, s) if b > 0], 53]
            ref = sum(
                bool(blk.any() and not blk.all())
                for a, b in zip(by[:-1], by[1:], strict=True)
                for c, d in zip(bx[:-1], bx[1:], strict=True)
                for blk in [e[a:b, c:d]]
            )
            assert box_counts(e, [s], offset=off)[0] == ref


def test_local_slopes_zero_counts_are_nan():
    sl = local_slopes([10, 20, 40, 80], [100, 50, 0, 0])
    assert np.isfinite(sl[0]) and np.isnan(sl[2:]).all()
    assert np.allclose(local_slopes([10, 20, 40], [400, 100, 25]), 2.0)


# ------------------------------------------------------------------------- the paper's estimator


def porespy_boxcount(edge: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """porespy.metrics.boxcount, written out as its loops: sizes, counts, slopes."""
    sizes = np.unique(np.logspace(1, np.log10(min(edge.shape)), 10).astype(int))
    counts = []
    for d in sizes:
        result = 0
        for i in range(0, edge.shape[0], d):
            for j in range(0, edge.shape[1], d):
                tile = edge[i : i + d, j : j + d]
                result += int(np.any(tile)) - int(np.all(tile))
        counts.append(result)
    return sizes, np.array(counts), -np.gradient(np.log(np.array(counts)), np.log(sizes))


def blobs(n: int, seed: int, scale: float = 12.0) -> np.ndarray:
    """A smooth random field (sum of random waves) whose sign has many curved islands."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:n, :n] / scale
    k = rng.normal(size=(12, 2))
    phase = rng.uniform(0, 2 * np.pi, 12)
    return np.sum(
        np.cos(k[:, 0, None, None] * x + k[:, 1, None, None] * y + phase[:, None, None]), 0
    )


def test_paper_estimator_equals_the_notebook_computation():
    # The notebook: edges per keyframe, porespy's boxcount, median of all slopes concatenated.
    fields = [blobs(150, seed) for seed in (1, 2, 3)]
    slopes = np.concatenate([porespy_boxcount(edges(f))[2] for f in fields])
    r = estimate_2d(fields, n_boot=0)
    assert r.median_local_slope == pytest.approx(np.median(slopes), abs=1e-12)
    assert r.images_used == [0, 1, 2] and r.refused is None
    sizes, counts, _ = porespy_boxcount(edges(fields[1]))
    assert r.box_sizes == sizes.tolist() and r.counts[1] == counts.tolist()


def test_refuses_a_24px_image():
    # 24^2 -> 23^2 edge map -> box sizes 10..22: a third of a decade. The old estimator printed
    # a median slope of ~1e-16 and a fit of 2.56 with an interval not containing it here.
    field = np.random.default_rng(0).choice([-1.0, 1.0], size=(24, 24))
    r = estimate_2d(field)
    assert r.refused.startswith(NOT_ENOUGH_SCALES) and "0.34 decades" in r.refused
    assert r.median_local_slope is r.median_ci is r.fit_slope is r.fit_ci is None
    assert r.images_used == [] and r.fit_refused == r.refused
    assert estimate_2d([field, -field]).refused == r.refused


def test_scaling_range_rule_boundary():
    # A 101 px image gives box sizes 10..100 (exactly a decade), a 100 px one 10..99.
    assert estimate_2d(disc_of(101), n_boot=0).refused is None
    assert estimate_2d(disc_of(100), n_boot=0).refused.startswith(NOT_ENOUGH_SCALES)
    assert estimate_2d(disc_of(100), sizes=[2, 5, 10, 20], n_boot=0).refused is None
    assert scale_ratio([10, 20, 40, 100], [9, 5, 3, 0]) == 2.0  # slopes need N > 0 both sides
    assert estimate_2d(disc_of(8)).refused.startswith(NOT_ENOUGH_SCALES)  # below one box
    checker = np.indices((128, 128)).sum(0) % 2 - 0.5  # every box entirely boundary: N = 0
    assert estimate_2d(checker).refused.startswith(NOT_ENOUGH_SCALES)


def test_no_boundary_and_unused_images():
    r = estimate_2d([np.ones((128, 128)), -np.ones((128, 128))])
    assert r.refused.startswith(NO_BOUNDARY) and r.median_local_slope is None
    mixed = estimate_2d([np.ones((128, 128)), disc_of(128)], n_boot=10)
    assert mixed.images_used == [1] and mixed.n_images == 2
    assert mixed.median_local_slope == estimate_2d(disc_of(128), n_boot=0).median_local_slope


def test_koch_snowflake_512():
    # The paper's estimator at 512^2: over 12 random placements and rotations of the snowflake
    # its error was at most 0.066 (docs/dimension.md), hence the tolerance 0.08.
    n = 512
    for shift in (0.0, 5.3):
        r = estimate_2d(rasterise(koch_snowflake(7, n) + shift, n), n_boot=50)
        assert r.refused is None and abs(r.median_local_slope - KOCH) < 0.08, r
        lo, hi = r.median_ci
        assert lo <= r.median_local_slope <= hi and hi - lo < 0.5
        assert lo <= KOCH <= hi, (KOCH, r.median_ci)  # the true dimension, not only the estimate


def test_straight_line_512():
    # Measured error over 12 placements at 512^2: at most 0.026 (docs/dimension.md).
    y, x = np.mgrid[:512, :512] + 0.5
    for angle in (0.0, 27.0, 63.0):
        a = np.deg2rad(angle)
        r = estimate_2d(np.cos(a) * (x - 201.3) + np.sin(a) * (y - 280.6), n_boot=20)
        assert abs(r.median_local_slope - 1.0) < 0.05, (angle, r.median_local_slope)


# ----------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("make", [half_plane, tilted_line, disc], ids=["half", "tilted", "disc"])
def test_smooth_boundaries_have_dimension_one(make):
    r = estimate_2d(make(), n_boot=20)
    assert abs(r.fit_slope - 1.0) < 0.05, r
    assert abs(r.median_local_slope - 1.0) < 0.1, r
    lo, hi = r.fit_ci
    assert lo <= r.fit_slope <= hi and hi - lo < 0.1


def test_koch_snowflake_fit_2048():
    # 2048 px: the fit's range (10 px to a quarter of the snowflake) then spans ~1.3 decades;
    # at 1024 px it is < 1 decade (refused) and the log-periodic wobble of the Koch count
    # moves the fit by up to ~0.05 with the snowflake's placement.
    n = 2048
    for shift in (0.0, 5.3):
        r = estimate_2d(rasterise(koch_snowflake(7, n) + shift, n), n_boot=10)
        assert abs(r.fit_slope - KOCH) < 0.05, r
        assert r.fit_range[0] == 10 and len(r.fit_range) >= 5 and r.fit_refused is None


def test_fit_refused_below_a_decade_of_scaling_range():
    r = estimate_2d(rasterise(koch_snowflake(7, 512), 512), n_boot=5)
    assert r.median_local_slope is not None and r.fit_slope is None and r.fit_ci is None
    assert r.fit_refused.startswith(NOT_ENOUGH_SCALES + " for the fit") and r.fit_range == []


def test_random_sign_field_is_space_filling():
    rng = np.random.default_rng(0)
    r = estimate_2d(rng.choice([-1.0, 1.0], size=(N, N)), n_boot=5)
    assert r.fit_slope >= 1.9 and abs(r.median_local_slope - 2.0) < 0.1, r


def test_sign_flip_and_transpose_invariance():
    f = disc() + 40 * np.sin(X / 37.0) * np.cos(Y / 23.0)
    f = f[:, : N - 100]  # non-square
    base = estimate_2d(f, n_boot=10, seed=4)
    assert estimate_2d(-f, n_boot=10, seed=4) == base
    assert estimate_2d(f.T, n_boot=10, seed=4) == base


def test_zoom_sequence_and_to_dict():
    fields = [half_plane(), tilted_line(), disc()]
    r = estimate_2d(fields, n_boot=30, seed=2)
    assert isinstance(r, Dimension2D) and r.n_images == 3 and len(r.counts) == 3
    assert abs(r.fit_slope - 1.0) < 0.05
    lo, hi = r.fit_ci
    assert lo <= r.fit_slope <= hi and hi - lo < 0.2
    assert estimate_2d(fields, n_boot=30, seed=2) == r  # deterministic
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["median_ci"] == list(r.median_ci) and d["refused"] is None
    assert d["box_sizes"] == default_box_sizes((N - 1, N - 1)).tolist()
    assert d["images_used"] == [0, 1, 2] and d["confidence"] == 0.95
    refused = json.loads(json.dumps(estimate_2d(np.ones((30, 30))).to_dict(), allow_nan=False))
    assert refused["median_local_slope"] is None and refused["refused"].startswith(NO_BOUNDARY)
    with pytest.raises(AttributeError):
        r.fit_slope = 2.0  # frozen


# ----------------------------------------------------------------------------- intervals


def interval_cases():
    """Random, synthetic and degenerate images (and zoom sets) the estimator accepts."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[:160, :160] + 0.5
    yield "axis-aligned line", x - 80.0  # no grid placement moves anything: zero width
    yield "single edge pixel", np.where((y > 100) & (x > 100) & (y < 102) & (x < 102), -1.0, 1.0)
    yield "corner", np.where((x < 3) & (y < 3), -1.0, 1.0)
    yield "random signs", rng.choice([-1.0, 1.0], size=(130, 170))
    yield "sparse random", np.where(rng.random((160, 160)) < 0.02, -1.0, 1.0)
    yield "koch 256", rasterise(koch_snowflake(6, 256) + 2.2, 256)
    for seed in range(12):
        n = int(rng.integers(101, 220))
        yield f"blobs {seed}", blobs(n, seed, scale=float(rng.uniform(3, 30)))
    yield "zoom set", [blobs(128, s, scale=6.0 + 4 * s) for s in range(4)]
    yield "mixed zoom", [blobs(128, 1), np.ones((128, 128)), x[:128, :128] - 64.5]


# cases of interval_cases whose true boundary dimension is known and inside the median's interval
# (the axis-aligned line and the random signs are known too, but their intervals have zero width
# and miss it: test_the_interval_contains_the_true_dimension lists them)
TRUE_IN_INTERVAL = {"koch 256": KOCH}


@pytest.mark.parametrize("case", list(interval_cases()), ids=lambda c: c[0])
def test_every_interval_contains_its_estimate(case):
    r = estimate_2d(case[1], n_boot=30, seed=3)
    assert r.refused is None, r.refused
    lo, hi = r.median_ci
    assert lo <= r.median_local_slope <= hi
    if case[0] in TRUE_IN_INTERVAL:
        assert lo <= TRUE_IN_INTERVAL[case[0]] <= hi, r.median_ci
    if r.fit_slope is not None:
        lo, hi = r.fit_ci
        assert lo <= r.fit_slope <= hi
    else:
        assert r.fit_ci is None and r.fit_refused.startswith(NOT_ENOUGH_SCALES)


def _known(name: str, n: int):
    return lambda: fractals.GENERATORS[name](n)


# The interval measures how far the estimate moves with the box grid's placement and the choice
# of images (docs/dimension.md, section 4): it holds the true dimension only where the
# estimator's bias at that resolution is smaller than that spread. Measured (n_boot 30, seed 3):
# the passing cases below hold it with a margin of at least 0.015. Left out: this Koch snowflake
# at 512 px (margin 0.0007; test_koch_snowflake_512 checks another drawing at 512 px). Known
# misses, kept as strict xfails so that a change in either direction is seen: the random-walk
# hull, whose estimate stays ~0.05 high at 1024 px (docs/dimension.md: the raw interval covers 4/3
# in 2 of 12 placements); an axis-aligned straight boundary, whose interval has zero width (no
# placement moves an edge that lies between pixel columns) around a biased 1.004; the
# least-squares fit of a circle, biased low by 0.02, more than its spread.
TRUE_DIMENSION_CASES = [
    pytest.param("median", _known("koch", 256), fractals.TRUE_DIMENSION["koch"], id="koch-256"),
    pytest.param("median", _known("koch", 1024), fractals.TRUE_DIMENSION["koch"], id="koch-1024"),
    pytest.param("median", _known("minkowski", 512), 1.5, id="minkowski-512"),
    pytest.param(
        "median", _known("rabbit", 512), fractals.TRUE_DIMENSION["rabbit"], id="rabbit-512"
    ),
    pytest.param(
        "median", _known("rabbit", 1024), fractals.TRUE_DIMENSION["rabbit"], id="rabbit-1024"
    ),
    pytest.param("median", _known("smooth", 256), 1.0, id="smooth-blob-256"),
    pytest.param("median", _known("smooth", 1024), 1.0, id="smooth-blob-1024"),
    pytest.param("fit", _known("smooth", 1024), 1.0, id="smooth-blob-1024-fit"),
    pytest.param("median", tilted_line, 1.0, id="tilted-line-1024"),
    pytest.param(
        "fit",
        disc,
        1.0,
        id="disc-1024-fit",
        marks=pytest.mark.xfail(strict=True, reason="fit 0.979, interval [0.963, 0.995]"),
    ),
    pytest.param(
        "median",
        _known("brownian", 1024),
        4 / 3,
        id="brownian-hull-1024",
        marks=pytest.mark.xfail(strict=True, reason="estimate biased ~+0.05 at 1024 px"),
    ),
    pytest.param(
        "median",
        half_plane,
        1.0,
        id="axis-aligned-line-1024",
        marks=pytest.mark.xfail(strict=True, reason="zero-width interval around 1.004"),
    ),
]


@pytest.mark.parametrize("which, make, true", TRUE_DIMENSION_CASES)
def test_the_interval_contains_the_true_dimension(which, make, true):
    """The 95 % interval of a shape of known dimension holds that dimension, not only its own
    estimate (which it holds by construction)."""
    r = estimate_2d(make(), n_boot=30, seed=3)
    assert r.refused is None, r.refused
    interval = r.median_ci if which == "median" else r.fit_ci
    assert interval is not None, r.fit_refused
    lo, hi = interval
    assert lo <= true <= hi, (true, interval)


def test_no_bootstrap_no_interval():
    r = estimate_2d(disc(), n_boot=0)
    assert r.median_ci is None and r.fit_ci is None and r.fit_slope is not None


# ----------------------------------------------------------------------------- rounding


def test_supported_decimals():
    assert supported_decimals(1.5, 1.48, 1.52) == 2  # width 0.04: 4 units of 0.01
    assert supported_decimals(1.5, 1.495, 1.505) == 2  # width 0.01: 1 unit of 0.01
    assert supported_decimals(1.5, 1.45, 1.55) == 1  # width 0.1: 1 unit of 0.1
    assert supported_decimals(1.5, 1.1, 1.6) == 1  # the larger side counts: h = 0.4
    assert supported_decimals(1.5, 1.0, 1.9) is None  # h = 0.5: not even the units digit
    assert supported_decimals(1.5, 1.5, 1.5) == 3 == supported_decimals(1.5, 1.4999, 1.5001)
    assert supported_decimals(None, 1.0, 2.0) is None
    assert supported_decimals(1.5, float("nan"), 2.0) is None


def test_format_estimate():
    assert format_estimate(1.4776, (1.4431, 1.5121)) == "1.48 [1.44, 1.51]"
    assert format_estimate(1.4776, (1.4231, 1.5321)) == "1.5 [1.4, 1.5]"  # h = 0.0545
    assert format_estimate(1.4776, (1.3, 1.6)) == "1.5 [1.3, 1.6]"
    assert format_estimate(1.4776, (0.61, 2.3)) == "undetermined [0.6, 2.3]"
    assert format_estimate(1.4776, None) == "1.48 (no interval)"
    assert format_estimate(None, None) == ""
    rng = np.random.default_rng(0)
    for _ in range(2000):  # the printed interval still contains the printed estimate
        est = rng.uniform(0, 2)
        lo, hi = est - rng.exponential(0.05), est + rng.exponential(0.05)
        text = format_estimate(est, (lo, hi))
        if not text.startswith("undetermined"):
            e, a, b = (float(v) for v in re.fullmatch(r"(\S+) \[(\S+), (\S+)\]", text).groups())
            assert a <= e <= b, text


# ----------------------------------------------------------------------------- tables, CLI, plot


def grid(values: np.ndarray, steps: int = 500) -> SimpleNamespace:
    return SimpleNamespace(values=values, meta={"steps": steps})


def test_table_says_not_enough_scales(tmp_path):
    small = dimension_row("tiny", [grid(disc_of(24))], paper=1.66)
    assert small["dimension"] == NOT_ENOUGH_SCALES == small["fit"] == small["refused"]
    assert small["median_local_slope"] is None and small["paper"] == 1.66
    large = dimension_row("koch", [grid(rasterise(koch_snowflake(7, 512), 512))], paper=None)
    assert large["refused"] == "" and large["dimension"].startswith("1.")
    write_table(tmp_path / "t.csv", [small, large])
    rows = read_table(tmp_path / "t.csv")
    assert list(rows.columns) == list(DIMENSION_COLUMNS)
    assert rows.loc[0, "median_local_slope"] == rows.loc[0, "fit_ci_low"] == ""  # no number: blank
    assert rows.loc[0, "paper"] == "1.66" and rows.loc[1, "paper"] == ""
    assert float(rows.loc[1, "median_local_slope"]) == large["median_local_slope"]  # full precision
    md = markdown(rows)
    assert f"| tiny | {NOT_ENOUGH_SCALES} | 1.66 | {NOT_ENOUGH_SCALES} |" in md
    assert f"| koch | {large['dimension']} |  |" in md


def test_cli_refuses_with_one_line(tmp_path, capsys):
    from trainability.cli import main

    np.save(tmp_path / "small.npy", disc_of(24))
    assert main(["dimension", str(tmp_path / "small.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and NOT_ENOUGH_SCALES in err
    np.save(tmp_path / "disc.npy", disc_of(160))
    assert main(["dimension", str(tmp_path / "disc.npy")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("D = ") and f"fit: {NOT_ENOUGH_SCALES} for the fit" in out


def test_zoom_dimension_plot_leaves_gaps(tmp_path):
    from trainability.figures.line_plots import keyframe_dimensions, save_zoom_dimension

    fields = [disc_of(24), disc_of(128)]  # the first is refused: not enough scales
    dims = keyframe_dimensions(fields)
    assert np.isnan(dims[0]) and abs(dims[1] - 1.0) < 0.3  # refused: NaN, never 0
    windows = [(0.0, 1.0), (0.25, 0.75)]
    save_zoom_dimension(tmp_path / "a.png", fields, windows, "mixed")
    save_zoom_dimension(tmp_path / "b.png", [fields[0]] * 2, windows, "all refused")
    for name in ("a.png", "b.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# ----------------------------------------------------------------------------- 2-D errors


def test_2d_bad_inputs():
    with pytest.raises(ValueError, match="2-D"):
        estimate_2d(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="shape"):
        estimate_2d([half_plane(), half_plane()[:, :-1]])
    with pytest.raises(ValueError, match="empty"):
        estimate_2d([])
    with pytest.raises(ValueError, match="2x2"):
        estimate_2d(np.ones((1, 50)))
    with pytest.raises(ValueError, match="box sizes"):
        estimate_2d(disc(), sizes=[10, 0])
    with pytest.raises(ValueError, match="confidence"):
        estimate_2d(disc_of(128), confidence=95)
    with pytest.raises(ValueError, match="n_boot"):
        estimate_2d(disc_of(128), n_boot=-1)


# ----------------------------------------------------------------------------- texture


def bfs_clusters(phase: np.ndarray) -> np.ndarray:
    """Straightforward flood fill (the reference for `clusters`)."""
    lab = -np.ones(phase.shape, int)
    k = 0
    for start in zip(*np.nonzero(lab < 0), strict=True):
        if lab[start] >= 0:
            continue
        lab[start], stack = k, [start]
        while stack:
            i, j = stack.pop()
            for a, b in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
                inside = 0 <= a < phase.shape[0] and 0 <= b < phase.shape[1]
                if inside and lab[a, b] < 0 and phase[a, b] == phase[i, j]:
                    lab[a, b] = k
                    stack.append((a, b))
        k += 1
    return lab


def test_clusters_match_flood_fill():
    rng = np.random.default_rng(5)
    for _ in range(40):
        shape = tuple(int(v) for v in rng.integers(1, 30, size=2))
        phase = rng.random(shape) < rng.uniform(0.2, 0.8)
        assert np.array_equal(clusters(phase), bfs_clusters(phase))
    snake = np.zeros((64, 64), bool)  # one serpentine cluster of 2x32 + 32 connectors
    snake[:, ::2] = True
    snake[0, 1::4] = snake[-1, 3::4] = True
    assert np.unique(clusters(snake)[snake]).size == 1


@pytest.mark.parametrize("n", [32, 64, 128, 256])
def test_texture_rejects_random_signs(n):
    for seed in range(3):
        field = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, n))
        t = boundary_texture(field)
        assert not t.clean and t.speckle > 2 * MAX_SPECKLE, (seed, t)


@pytest.mark.parametrize("n", [256, 512])
def test_texture_accepts_koch_curve(n):
    t = boundary_texture(rasterise(koch_snowflake(7, n) + 0.37, n))
    assert t.clean and t.speckle < 0.01 and t.largest > 0.5, t


def test_texture_accepts_line_and_circle():
    y, x = np.mgrid[:200, :200] + 0.5
    for field in (np.cos(0.4) * (x - 90) + np.sin(0.4) * (y - 120), np.hypot(x - 97, y - 101) - 60):
        t = boundary_texture(field)
        assert t.clean and t.speckle == 0 and t.clusters == 2, t
    assert boundary_texture(np.ones((40, 40))).clusters == 1
    with pytest.raises(ValueError, match="2-D"):
        boundary_texture(np.ones(5))


# ----------------------------------------------------------------------------- 1-D


def test_boundary_counts_1d_small():
    lab = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1])  # 2**3 + 1 points
    # k=0: [0, 1] -> 1; k=1: [0,0,1] -> 1; k=2: [0,1,0,0,1] -> 3; k=3: 3
    assert boundary_counts_1d(lab).tolist() == [1, 1, 3, 3]
    r = alpha_1d(lab)  # only levels with #B_k > 1 enter the fit
    assert r.levels_used == [2, 3] and r.alpha == 0.0 and r.alpha_stderr == 0.0


def test_cantor_set_alpha():
    n = 20
    lab = cantor_gap_labels(n)
    r = alpha_1d(lab)
    assert isinstance(r, Dimension1D)
    assert abs(r.alpha - np.log(2) / np.log(3)) < 0.03, r.alpha
    assert 0 < r.alpha_stderr < 0.05 and r.levels_used == list(range(1, n + 1))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["counts"] == r.counts and len(r.counts) == n + 1


def test_single_step_and_constant_labels_have_alpha_zero():
    x = np.linspace(0, 1, 2**10 + 1)
    for lab in (x > 0.3141, np.zeros_like(x, dtype=int)):
        r = alpha_1d(lab)
        assert r.alpha == 0.0 and r.alpha_stderr == 0.0


def test_gd_on_quadratic_has_one_boundary():
    lrs = np.linspace(0.0, 1.5, 2**12 + 1)
    div = gd_quadratic_labels(lrs)
    assert not div[lrs <= 1.0].any()  # lr <= 1 converges or oscillates boundedly
    change = np.flatnonzero(div[1:] != div[:-1])
    assert change.size == 1
    # |1 - 2 lr|**1000 > 1e4 iff lr > lr* = (1 + 1e4**(1/1000)) / 2 ~ 1.0046
    lr_star = (1 + 1e4 ** (1 / 1000)) / 2
    assert lrs[change[0]] <= lr_star < lrs[change[0] + 1]
    r = alpha_1d(div)
    assert r.alpha == 0.0 and max(r.counts) == 1


def test_alpha_levels_window():
    lab = cantor_gap_labels(14)
    full = alpha_1d(lab)
    sub = alpha_1d(lab, levels=(4, 12))
    assert sub.levels_used == list(range(4, 13))
    assert abs(sub.alpha - full.alpha) < 0.05


def test_1d_bad_inputs():
    with pytest.raises(ValueError, match=r"2\*\*n \+ 1"):
        boundary_counts_1d(np.zeros(1000))
    with pytest.raises(ValueError, match=r"2\*\*n \+ 1"):
        alpha_1d(np.zeros(1))
    with pytest.raises(ValueError, match="1-D"):
        alpha_1d(np.zeros((3, 3)))


def test_a_condition_pools_only_its_largest_images():
    """A 128² panel and 32² keyframes: only the panel is measured, and the note says so."""
    from types import SimpleNamespace

    from trainability.analysis.tables import dimension_row

    yy, xx = np.mgrid[0:128, 0:128]
    line = np.where(xx + 0.37 * yy < 90, -1.0, 1.0)
    small = np.where(np.add.outer(np.arange(32), np.arange(32)) < 30, -1.0, 1.0)
    grids = [SimpleNamespace(values=v, meta={"steps": 5}) for v in (line, small, small)]
    row = dimension_row("c", grids, 1.0)
    alone = dimension_row("c", grids[:1], 1.0)
    assert row["n_images"] == 1 and row["resolution"] == "128x128"
    assert row["median_local_slope"] == alone["median_local_slope"]
    assert "2 smaller images left out" in row["note"]
