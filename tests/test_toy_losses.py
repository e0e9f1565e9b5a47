"""Tests for trainability.toys.losses against the numbers of docs/methods.md §6."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import trainability.toys.losses as toy_losses
from trainability.analysis.dimension import boundary_counts_1d
from trainability.toys.losses import (
    CRITICAL_ROUGHNESS,
    ToyLoss,
    is_convex,
    loss_grad,
    loss_value,
    lr_grid,
    min_curvature,
    roughness,
    sweep_lr,
    toy_dimension,
)

TWO_PI = 2 * math.pi

# ----------------------------------------------------------------- loss formulas


def _np_value(loss, x):
    """docs/methods.md §6 formulas, written independently in numpy (x: (..., d))."""
    k, k2 = TWO_PI / loss.wavelength, TWO_PI / loss.wavelength2
    if loss.kind == "multiplicative":
        return (x**2).sum(-1) * (1 + loss.eps * np.cos(k * x).sum(-1))
    f = (x**2 + loss.eps * np.cos(k * x)).sum(-1)
    if loss.kind == "two_cosines":
        f = f + loss.eps2 * np.cos(k2 * x).sum(-1)
    return f


GRAD_CASES = [
    ToyLoss("additive", 0.2, 0.1),
    ToyLoss("multiplicative", 0.2, 0.1),
    ToyLoss("two_cosines", 0.006, 0.3, eps2=-0.015, wavelength2=0.5),
    ToyLoss("additive", 0.2, 0.1, dim=5),
    ToyLoss("multiplicative", 0.2, 0.1, dim=5),
    ToyLoss("two_cosines", 0.006, 0.3, eps2=0.015, dim=3),
]


@pytest.mark.parametrize("loss", GRAD_CASES, ids=lambda c: f"{c.kind}-d{c.dim}")
def test_value_and_analytic_gradient_match_formula_and_autodiff(loss):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(16, loss.dim))
    xs = x[:, 0] if loss.dim == 1 else x
    np.testing.assert_allclose(loss_value(loss, xs), _np_value(loss, x), rtol=1e-13, atol=1e-13)
    g = np.asarray(loss_grad(loss, xs))
    assert g.shape == xs.shape
    auto = jax.vmap(jax.grad(lambda p: loss_value(loss, p)))(jnp.asarray(xs))
    np.testing.assert_allclose(g, auto, rtol=1e-12, atol=1e-12)


def test_roughness_and_critical_value():
    assert CRITICAL_ROUGHNESS == pytest.approx(0.050660, abs=1e-6)
    assert roughness(ToyLoss("additive", 0.2, 0.1)) == pytest.approx(20.0)
    assert roughness(ToyLoss("multiplicative", 0.2, 0.1)) == 0.2
    with pytest.raises(ValueError, match="roughness"):
        roughness(ToyLoss("two_cosines", 0.001, 0.3))


@pytest.mark.parametrize("lam", [0.1, 0.5, 1.0])
def test_additive_convex_iff_below_critical_roughness(lam):
    below = ToyLoss("additive", CRITICAL_ROUGHNESS * lam**2 * (1 - 1e-9), lam)
    above = ToyLoss("additive", CRITICAL_ROUGHNESS * lam**2 * (1 + 1e-9), lam)
    assert min_curvature(below) > 0 and is_convex(below)
    assert min_curvature(above) < 0 and not is_convex(above)
    # min f'' = 2 - eps (2 pi / lam)^2 (checked against a dense grid)
    loss = ToyLoss("additive", 0.3 * lam**2, lam)
    xg = np.linspace(0, lam, 100_001)
    brute = np.min(2 - loss.eps * (TWO_PI / lam) ** 2 * np.cos(TWO_PI * xg / lam))
    assert min_curvature(loss) == pytest.approx(brute, abs=1e-9)


def test_two_cosines_min_curvature():
    # Liu's two-cosine loss (lam1 = 0.3, lam2 = 0.5): single-cosine thresholds
    # eps_c = lam^2 / (2 pi^2) = 0.00456 and 0.01267 (docs/methods.md §6, Fig. 4a).
    for e1c, e2c in [(0.3**2 * CRITICAL_ROUGHNESS, 0.0), (0.0, 0.5**2 * CRITICAL_ROUGHNESS)]:
        for f, convex in [(1 - 1e-9, True), (1 + 1e-9, False)]:
            loss = ToyLoss("two_cosines", e1c * f, 0.3, eps2=e2c * f, wavelength2=0.5)
            assert is_convex(loss) is convex
    assert 0.3**2 * CRITICAL_ROUGHNESS == pytest.approx(0.00456, abs=1e-5)
    assert 0.5**2 * CRITICAL_ROUGHNESS == pytest.approx(0.01267, abs=1e-5)
    # Mixed signs: the maxima of the two cosines do not coincide -> numerical.
    for e1, e2 in [(0.004, -0.01), (-0.003, 0.012), (0.002, -0.02)]:
        loss = ToyLoss("two_cosines", e1, 0.3, eps2=e2, wavelength2=0.5)
        xg = np.linspace(0.0, 1.5, 1_500_001)  # one common period
        fpp = 2 - e1 * (TWO_PI / 0.3) ** 2 * np.cos(TWO_PI * xg / 0.3)
        fpp -= e2 * (TWO_PI / 0.5) ** 2 * np.cos(TWO_PI * xg / 0.5)
        m = min_curvature(loss)
        assert m <= fpp.min() + 1e-12
        assert m == pytest.approx(fpp.min(), abs=1e-7)
        a, b = e1 * (TWO_PI / 0.3) ** 2, e2 * (TWO_PI / 0.5) ** 2
        assert m > 2 - abs(a) - abs(b) + 1e-3  # strictly better than the crude bound
    # Incommensurate wavelengths: phases are dense on the torus -> 2 - |a| - |b|.
    loss = ToyLoss("two_cosines", 0.004, 0.3, eps2=-0.01, wavelength2=0.3 * math.sqrt(2))
    a, b = 0.004 * (TWO_PI / 0.3) ** 2, 0.01 * (TWO_PI / loss.wavelength2) ** 2
    assert min_curvature(loss) == pytest.approx(2 - a - b)


def test_multiplicative_is_never_globally_convex():
    assert min_curvature(ToyLoss("multiplicative", 1e-6, 0.1)) == -math.inf
    assert min_curvature(ToyLoss("multiplicative", 0.0, 0.1)) == 2.0


# ----------------------------------------------------------------------- sweeps


def test_lr_grid():
    g = lr_grid(1.5, 4)
    assert g.size == 17 and g[0] == 0.0 and g[-1] == 1.5
    np.testing.assert_array_equal(g, 1.5 * np.arange(17) / 16)


def test_pure_quadratic_single_boundary_at_lr_one():
    """docs/methods.md §6: f = x^2 diverges iff lr > 1; lr = 1 oscillates, bounded."""
    quad = ToyLoss("additive", 0.0, 1.0)
    # Threshold = f(x0): any growth diverges, so the boundary is exactly lr = 1.
    levels = 16
    lrs = lr_grid(1.5, levels)
    lab = sweep_lr(quad, 5.0, levels=levels, threshold=25.0)
    np.testing.assert_array_equal(lab, lrs <= 1.0)
    # lr = 1 exactly on the grid (lr_max = 2): bounded; 1 + 2**-12 diverges.
    lab = sweep_lr(quad, 5.0, lr_max=2.0, levels=13, threshold=25.0)
    assert lab[2**12] and not lab[2**12 + 1]
    # Liu's threshold 1e8: still exactly one change, at the finite-step boundary
    # |1 - 2 lr|^(2*1000) x0^2 = 1e8, i.e. just above lr = 1.
    lab = sweep_lr(quad, 5.0, levels=levels, steps=1000, threshold=1e8)
    (change,) = np.nonzero(lab[1:] != lab[:-1])[0]
    lr_star = (1 + (1e8 / 25.0) ** (1 / 2000)) / 2
    assert lab[change] and not lab[change + 1]
    assert lrs[change] <= lr_star < lrs[change + 1]
    assert 1.0 < lr_star < 1.005
    # f(x0) = 25 > threshold: every run diverges at t = 0 (nothing left to step).
    lab, val = sweep_lr(quad, 5.0, levels=4, threshold=24.0, return_values=True)
    assert not lab.any() and np.all(val == 0.0)
    res = toy_dimension(quad, 5.0, levels=levels)
    assert res.alpha == 0.0 and res.counts == [1] * (levels + 1)


def test_exactly_steps_updates_and_last_iterate_checked():
    """x_1..x_steps are all checked: on x^2, x_t = (1 - 2 lr)^t x0."""
    quad = ToyLoss("additive", 0.0, 1.0)
    # lrs 0, .5, 1, 1.5, 2 -> |q| = 1, 0, 1, 2, 3; x_t^2 = q^2t; threshold 10
    one = sweep_lr(quad, 1.0, lr_max=2.0, levels=2, steps=1, threshold=10.0)
    two = sweep_lr(quad, 1.0, lr_max=2.0, levels=2, steps=2, threshold=10.0)
    np.testing.assert_array_equal(one, [True, True, True, True, True])  # 9 <= 10
    np.testing.assert_array_equal(two, [True, True, True, False, False])  # 16, 81 > 10


def test_strip_values_closed_form():
    """Values = log1p(sum f) (bounded) / log1p(sum 1/f up to divergence) on f = x^2."""
    quad = ToyLoss("additive", 0.0, 1.0)
    lab, val = sweep_lr(quad, 1.0, lr_max=2.0, levels=3, return_values=True)
    # lrs 0, .25, .5, .75, 1, 1.25, 1.5, 1.75, 2  ->  q = 1 - 2 lr
    np.testing.assert_array_equal(lab, [True] * 5 + [False] * 4)
    np.testing.assert_array_equal(lab, sweep_lr(quad, 1.0, lr_max=2.0, levels=3))
    s = np.log1p
    assert val[0] == pytest.approx(s(1000.0), rel=1e-12)  # q = 1
    assert val[1] == pytest.approx(s(1 / 3), rel=1e-12)  # q = 1/2: sum 4^-t
    assert val[2] == 0.0  # q = 0: x_1 = 0
    assert val[3] == pytest.approx(s(1 / 3), rel=1e-12)
    assert val[4] == pytest.approx(s(1000.0), rel=1e-12)  # q = -1
    for i, q in [(6, 2.0), (8, 3.0)]:
        big_t = math.floor(math.log(1e8) / math.log(q**2)) + 1  # first t with q^2t > 1e8
        expect = sum(q ** (-2 * t) for t in range(1, big_t + 1))
        assert val[i] == pytest.approx(s(expect), rel=1e-12)


def test_additive_alpha_zero_below_and_positive_above_critical():
    """docs/methods.md §6: x0 = 5, lam = 1, 2**16 grid, threshold 1e8."""
    for theta, fractal in [(0.01, False), (0.04, False), (0.1, True), (0.2, True)]:
        res = toy_dimension(ToyLoss("additive", theta, 1.0), 5.0, levels=16, threshold=1e8)
        if fractal:
            assert res.alpha > 0.5, (theta, res)
            assert res.counts[-1] > 100
        else:
            assert res.alpha == 0.0, (theta, res)
            assert max(res.counts) <= 3


def test_multiplicative_boundary_counts_match_liu():
    """docs/methods.md §6: f_x, eps 0.2, lam 0.1, x0 1, threshold 1e8, lr in [0, 1.5].

    Liu's #B_12..16 = 247, 423, 683, 1215, 2303.  The boundary is chaotic: float-
    equivalent orderings of the same formulas give #B_12 anywhere in 247-255, and
    perturbing x0 by 1e-12 moves it by 3 %.  So each level is held to 3 %, and
    the total to 1 %.
    """
    lab = sweep_lr(ToyLoss("multiplicative", 0.2, 0.1), 1.0, levels=16, threshold=1e8)
    counts = boundary_counts_1d(lab)[12:]
    liu = np.array([247, 423, 683, 1215, 2303])
    np.testing.assert_allclose(counts, liu, rtol=0.03)
    assert abs(counts.sum() / liu.sum() - 1) < 0.01
    assert boundary_counts_1d(lab)[4] == 3  # "3 at 2**4" (docs/methods.md §6)


def test_renormalisation_is_exact():
    """docs/methods.md §6: f_x (eps, lam, x0, B) and (eps, lam/2, x0/2, B/4) agree 100 %."""
    a = sweep_lr(ToyLoss("multiplicative", 0.2, 0.1), 1.0, levels=14, threshold=1e8)
    b = sweep_lr(ToyLoss("multiplicative", 0.2, 0.05), 0.5, levels=14, threshold=0.25e8)
    np.testing.assert_array_equal(a, b)
    assert boundary_counts_1d(a)[-1] > 500  # a fractal case, not a trivial one
    # Additive: (eps, lam, x0, B) -> (eps/4, lam/2, x0/2, B/4).  our numpy check saw 99.96 %
    # in numpy; here every operation scales by a power of two, so it is exact.
    a = sweep_lr(ToyLoss("additive", 0.2, 1.0), 5.0, levels=14, threshold=1e8)
    b = sweep_lr(ToyLoss("additive", 0.05, 0.5), 2.5, levels=14, threshold=0.25e8)
    np.testing.assert_array_equal(a, b)
    assert boundary_counts_1d(a)[-1] > 50


def test_additive_d_dim_separable_equals_1d():
    """docs/methods.md §6 (Fig. 4b): with x0 = c*1 the d-dim additive loss is the 1-D problem."""
    one = sweep_lr(ToyLoss("additive", 0.2, 1.0), 5.0, levels=14)
    assert boundary_counts_1d(one)[-1] > 50
    np.testing.assert_array_equal(
        sweep_lr(ToyLoss("additive", 0.2, 1.0, dim=3), 5.0, levels=14), one
    )
    vec = np.full(4, 5.0)  # x0 given as a vector
    np.testing.assert_array_equal(
        sweep_lr(ToyLoss("additive", 0.2, 1.0, dim=4), vec, levels=14), one
    )
    # The threshold is 1e8 * d: on a pure quadratic the finite-step boundary
    # would move by ~3.5e-4 (> 3 grid cells) if it were not scaled.
    quad1 = sweep_lr(ToyLoss("additive", 0.0, 1.0), 5.0, levels=14)
    quad4 = sweep_lr(ToyLoss("additive", 0.0, 1.0, dim=4), 5.0, levels=14)
    np.testing.assert_array_equal(quad1, quad4)
    unscaled = sweep_lr(ToyLoss("additive", 0.0, 1.0, dim=4), 5.0, levels=14, threshold=0.25e8)
    assert np.count_nonzero(unscaled != quad4) >= 3


def test_multiplicative_2d_equal_coordinates_is_1d_with_double_eps():
    """(sum x^2)(1 + eps sum cos) with x = y*1 in d = 2 is 1-D f_x with eps*2.

    Mathematically exact (docs/methods.md §6, Fig. 4c: "effective amplitude eps*d"),
    but XLA contracts ``1 + eps*sum(cos)`` into an FMA in one kernel and not the
    other, so a handful of chaotic learning rates may flip.
    """
    two = sweep_lr(ToyLoss("multiplicative", 0.1, 0.1, dim=2), 0.7, levels=14)
    one = sweep_lr(ToyLoss("multiplicative", 0.2, 0.1), 0.7, levels=14)
    assert np.count_nonzero(two != one) <= 5  # of 16385
    c1, c2 = boundary_counts_1d(one)[-1], boundary_counts_1d(two)[-1]
    assert c1 > 300 and abs(c2 - c1) <= 10
    # and d = 2 with eps is *not* the 1-D loss with the same eps
    same_eps = sweep_lr(ToyLoss("multiplicative", 0.1, 0.1), 0.7, levels=14)
    assert np.count_nonzero(two != same_eps) > 100


def test_chunking_and_compaction_do_not_change_labels(monkeypatch):
    loss = ToyLoss("multiplicative", 0.2, 0.1)
    ref = sweep_lr(loss, 1.0, levels=12)
    np.testing.assert_array_equal(sweep_lr(loss, 1.0, levels=12, chunk=300), ref)
    monkeypatch.setattr(toy_losses, "_COMPACT_AT", ())
    lab, val = sweep_lr(loss, 1.0, levels=12, return_values=True)
    np.testing.assert_array_equal(lab, ref)
    monkeypatch.undo()
    lab2, val2 = sweep_lr(loss, 1.0, levels=12, chunk=1000, return_values=True)
    np.testing.assert_array_equal(lab2, ref)
    np.testing.assert_array_equal(val2, val)
    assert np.all(np.isfinite(val))


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "cubic", "eps": 0.1, "wavelength": 1.0}, "kind"),
        ({"kind": "additive", "eps": 0.1, "wavelength": 0.0}, "wavelength"),
        ({"kind": "additive", "eps": 0.1, "wavelength": -1.0}, "wavelength"),
        ({"kind": "two_cosines", "eps": 0.1, "wavelength": 1.0, "wavelength2": 0}, "wavelength2"),
        ({"kind": "additive", "eps": 0.1, "wavelength": 1.0, "dim": 0}, "dim"),
        ({"kind": "additive", "eps": 0.1, "wavelength": 1.0, "dim": 1.5}, "dim"),
        ({"kind": "additive", "eps": float("nan"), "wavelength": 1.0}, "eps"),
        ({"kind": "additive", "eps": 0.1, "wavelength": 1.0, "eps2": 0.1}, "eps2"),
    ],
)
def test_bad_loss_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ToyLoss(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": 1}, "levels"),
        ({"levels": 2.5}, "levels"),
        ({"steps": 0}, "steps"),
        ({"lr_max": 0.0}, "lr_max"),
        ({"lr_max": -1.0}, "lr_max"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"x0": [1.0, 2.0]}, "x0"),
        ({"x0": float("inf")}, "x0"),
    ],
)
def test_bad_sweep_arguments_raise(kwargs, match):
    args = {"x0": 1.0, "levels": 4, "steps": 10}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sweep_lr(ToyLoss("additive", 0.1, 1.0), **args)


def test_bad_point_shape_raises():
    with pytest.raises(ValueError, match="dim=3"):
        loss_value(ToyLoss("additive", 0.1, 1.0, dim=3), np.zeros(2))
