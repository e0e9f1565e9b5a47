"""Known-answer tests for trainability.dimension (box counting, SD §1.3; Liu §2.3)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trainability.dimension import (
    Dimension1D,
    Dimension2D,
    alpha_1d,
    boundary_counts_1d,
    box_counts,
    default_box_sizes,
    edges,
    estimate_2d,
    local_slopes,
)

N = 1024  # side of the synthetic 2-D fields

# ----------------------------------------------------------------------------- helpers


def pixel_centres(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (y, x) of an n x n image, in pixels."""
    c = np.arange(n) + 0.5
    return c[:, None], c[None, :]


def rasterise(poly: np.ndarray, n: int = N) -> np.ndarray:
    """Even-odd fill of a closed polygon (vertices (x, y) in px) at pixel centres.

    Scanline: each edge crossing the row through y_c = r + 0.5 contributes its
    x-intersection; a pixel is inside iff an odd number of crossings lie left of
    its centre (half-open rule [y_lo, y_hi) avoids double-counting vertices).
    """
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    r_lo = np.ceil(ylo - 0.5).astype(int)
    r_hi = np.ceil(yhi - 0.5).astype(int)  # exclusive
    nrow = np.clip(r_hi, 0, n) - np.clip(r_lo, 0, n)
    nrow = np.maximum(nrow, 0)
    e = np.repeat(np.arange(poly.shape[0]), nrow)
    start = np.repeat(np.clip(r_lo, 0, n), nrow)
    row = start + np.arange(e.size) - np.repeat(np.cumsum(nrow) - nrow, nrow)
    yc = row + 0.5
    t = (yc - y0[e]) / (y1[e] - y0[e])
    xc = x0[e] + t * (x1[e] - x0[e])
    col = np.clip(np.ceil(xc - 0.5).astype(int), 0, n)  # first pixel centre >= xc
    diff = np.zeros((n, n + 1), dtype=np.int64)
    np.add.at(diff, (row, col), 1)
    return (np.cumsum(diff, axis=1)[:, :n] % 2).astype(bool)


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


# ----------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("make", [half_plane, tilted_line, disc], ids=["half", "tilted", "disc"])
def test_smooth_boundaries_have_dimension_one(make):
    r = estimate_2d(make(), n_boot=20)
    assert abs(r.fit_slope - 1.0) < 0.05, r
    assert abs(r.median_local_slope - 1.0) < 0.1, r
    lo, hi = r.fit_ci
    assert lo <= hi and lo - 0.02 <= r.fit_slope <= hi + 0.02


def test_koch_snowflake():
    # 2048 px: the usable range (10 px to a quarter of the snowflake) then spans
    # ~1.3 decades; at 1024 px it is < 1 decade and the log-periodic wobble of the
    # Koch count moves the fit by up to ~0.05 with the snowflake's placement.
    n = 2048
    for shift in (0.0, 5.3):
        mask = rasterise(koch_snowflake(7, n) + shift, n)
        r = estimate_2d(mask, n_boot=10)
        assert abs(r.fit_slope - np.log(4) / np.log(3)) < 0.05, r
        assert r.fit_range[0] == 10 and len(r.fit_range) >= 5


def test_random_sign_field_is_space_filling():
    rng = np.random.default_rng(0)
    r = estimate_2d(rng.choice([-1.0, 1.0], size=(N, N)), n_boot=5)
    assert r.fit_slope >= 1.9, r


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
    assert lo <= hi and hi - lo < 0.2
    assert estimate_2d(fields, n_boot=30, seed=2) == r  # deterministic
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    for key in ("median_local_slope", "fit_slope", "fit_ci", "box_sizes", "counts", "n_images"):
        assert key in d
    assert d["box_sizes"] == default_box_sizes((N - 1, N - 1)).tolist()
    with pytest.raises(AttributeError):
        r.fit_slope = 2.0  # frozen


# ----------------------------------------------------------------------------- 2-D errors


def test_2d_bad_inputs():
    with pytest.raises(ValueError, match="single phase"):
        estimate_2d(np.ones((64, 64)))
    with pytest.raises(ValueError, match="too small"):
        estimate_2d(np.sign(np.arange(15.0) - 7.2)[None, :] * np.ones((15, 1)))
    with pytest.raises(ValueError, match="2-D"):
        estimate_2d(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="shape"):
        estimate_2d([half_plane(), half_plane()[:, :-1]])
    with pytest.raises(ValueError, match="empty"):
        estimate_2d([])


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
