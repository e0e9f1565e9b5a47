"""Seeds (docs/seeds.md): per-pixel seeds, the stability label on an analytic case, seed
ensembles in the config, and the numbers over an ensemble (statistics, probability map, band)."""

import math

import numpy as np
import pytest
import yaml
from conftest import REPO

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.analysis.dimension import NOT_ENOUGH_SCALES, estimate_2d
from trainability.analysis.lyapunov import maximal_exponent
from trainability.analysis.seeds import band_width, level_length, over_seeds, probability_map
from trainability.core.condition import Condition
from trainability.core.engine import Engine
from trainability.core.grid import Grid, merge_tiles
from trainability.core.window import Window
from trainability.models.mlp import _draw_network, draw_per_pixel, init_problem, random_draws
from trainability.numerics.jax64 import jax
from trainability.study.config import ConfigError, load_study
from trainability.train.measure import blowup_trajectory, measure_trajectory
from trainability.train.sweep import sweep

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SMALL = Condition(width=4, steps=20)
WINDOW = Window.square([-1, 4, 0, 4], 8)
ARRAYS = ("values", "converged", "diverged_at", "blowup_at")


def same(a: Grid, b: Grid) -> bool:
    return all(getattr(a, k).tobytes() == getattr(b, k).tobytes() for k in ARRAYS)


# --------------------------------------------------------------------------- per-pixel seeds


def test_per_pixel_seeds_give_the_same_grid_whole_and_in_tiles():
    cond = SMALL.replace(seed_mode="per_pixel", pixel_draws="both", seed=3)
    whole = sweep(cond, WINDOW)
    tiles = [sweep(cond, WINDOW, tile=(i, j), tiles=(2, 2)) for i in range(2) for j in range(2)]
    assert same(whole, merge_tiles(tiles))
    assert not same(whole, sweep(SMALL.replace(seed=3), WINDOW))  # every pixel its own network
    assert whole.converged.any() and not whole.converged.all()


def test_pixel_draws_are_the_reference_scheme_on_the_pixels_key():
    """Pixel p draws exactly what the reference scheme draws from fold_in(PRNGKey(seed), p)."""
    cond = SMALL.replace(seed_mode="per_pixel", seed=7)
    pixels = np.array([0, 5, 63])
    weights = draw_per_pixel(cond, pixels, "weights")
    X, Y = draw_per_pixel(cond, pixels, "data")
    for k, p in enumerate(pixels):
        with random_draws(cond.draws):
            w, (x, y) = _draw_network(jax.random.fold_in(jax.random.PRNGKey(7), int(p)), cond)
        for mine, ref in zip(weights, w, strict=True):
            assert mine[k].tobytes() == np.asarray(ref).tobytes()
        assert X[k].tobytes() == np.asarray(x).tobytes()
        assert Y[k].tobytes() == np.asarray(y).tobytes()
    assert not np.array_equal(weights[0][0], init_problem(cond).weights[0])


def test_per_pixel_seeds_change_nothing_when_the_weights_do_not_depend_on_the_seed():
    """init_scale 0 and ε = 0: W_1 = 0 and W_0 = the offset c for every seed, so redrawing the
    weights per pixel leaves the grid as the shared seed's (the offset gives real dynamics)."""
    cond = SMALL.replace(
        init_scale=0.0,
        phase_space="custom",
        x_axis="lr",
        y_axis="offset",
        y_scale="linear",
        offset_mode="init",
    )
    window = Window.square([-1, 3, 0.2, 2.0], 8)
    shared = sweep(cond, window)
    per_pixel = sweep(cond.replace(seed_mode="per_pixel", pixel_draws="weights"), window)
    assert same(shared, per_pixel)
    assert shared.converged.any() and not shared.converged.all()


def test_per_pixel_data_fused_agrees_with_autodiff():
    cond = SMALL.replace(seed_mode="per_pixel", pixel_draws="data", batch_size=8)
    fused = sweep(cond, WINDOW)
    auto = sweep(cond, WINDOW, Engine(name="autodiff"))
    np.testing.assert_array_equal(fused.converged, auto.converged)
    np.testing.assert_array_equal(fused.blowup_at, auto.blowup_at)
    np.testing.assert_allclose(fused.values, auto.values, rtol=1e-9)


def test_the_lyapunov_estimators_refuse_per_pixel_data_in_one_line():
    cond = SMALL.replace(seed_mode="per_pixel", pixel_draws="data")
    with pytest.raises(ValueError, match="pixel_draws 'data' is not supported") as err:
        maximal_exponent(cond, Window.square([-1, 1, -1, 1], 2))
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- two boundaries


def test_both_boundaries_of_gradient_descent_on_a_quadratic_lie_at_2_over_lambda_max():
    """Linear regression (identity, depth 1): ℓ(W) is quadratic with Hessian H = 2XᵀX/(N·n²),
    and GD blows up exactly when η > 2/λ_max. Over T steps both labels flip a little above it
    (the top mode must grow past ℓ_0, resp. 10⁶·ℓ_0, first); both within one pixel of
    2/λ_max, and every pixel's labels equal those of GD written out in numpy."""
    cond = Condition(
        activation="identity", width=4, depth=1, dataset_size=8, steps=50,
        phase_space="custom", x_axis="lr", y_axis="init_scale", y_scale="linear",
    )  # fmt: skip
    p = init_problem(cond)
    n, N = cond.width, cond.n_data
    lam_max = np.linalg.eigvalsh(2 * p.X.T @ p.X / (N * n * n)).max()
    critical = math.log10(2 / lam_max)
    window = Window(critical - 0.4, critical + 0.4, 0.5, 2.0, 16, 4)
    grid = sweep(cond, window)

    # the independent implementation: W ← W − η·(2/(N·n))·Xᵀ(X·W/n − Y), loss before each step
    lr, scale = np.meshgrid(grid.x, grid.y)
    W = scale[..., None, None] * p.weights[0]  # (ny, nx, n, 1)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(cond.steps):
            r = p.X @ W / n - p.Y
            losses.append(np.mean(r * r, axis=(-2, -1)))
            W = W - lr[..., None, None] * (2 / (N * n)) * (p.X.T @ r)
    losses = np.stack(losses, axis=-1)
    np.testing.assert_array_equal(grid.converged, measure_trajectory(losses)[1])
    np.testing.assert_array_equal(grid.blowup_at, blowup_trajectory(losses))

    pixel = (window.x_max - window.x_min) / (window.nx - 1)
    log_lr = np.log10(grid.x)
    for label in (~grid.converged, grid.blowup_at >= 0):
        for row in label:
            first = int(np.argmax(row))
            assert row[first:].all() and not row[:first].any()  # one boundary per row
            edge = (log_lr[first - 1] + log_lr[first]) / 2
            assert abs(edge - critical) <= pixel


# --------------------------------------------------------------------------- ensembles


def study(conditions: dict, **extra) -> dict:
    defaults = {"width": 4, "steps": 20, "resolution": 8}
    return {"defaults": defaults, "conditions": conditions, **extra}


def test_an_ensemble_expands_into_one_condition_per_seed():
    relu = {"activation": "relu", "seeds": [2, 0]}
    config = study({"tanh": {"seeds": 3, "seed": 5}, "relu": relu})
    _, conditions = load_study(config, SCHEMA)
    assert list(conditions) == [
        "tanh_seed5", "tanh_seed6", "tanh_seed7", "relu_seed2", "relu_seed0"
    ]  # fmt: skip
    single = load_study(study({"x": {"activation": "relu", "seed": 2}}), SCHEMA)[1]["x"]
    member = conditions["relu_seed2"]
    assert member.condition == single.condition and member.window == single.window
    assert member.ensemble == "relu" and member.title == "relu, seed 2"


def test_seed_k_of_an_ensemble_is_the_condition_with_seed_k():
    member = load_study(study({"tanh": {"seeds": [0, 4]}}), SCHEMA)[1]["tanh_seed4"]
    single = load_study(study({"tanh": {"seed": 4}}), SCHEMA)[1]["tanh"]
    assert same(sweep(member.condition, member.window), sweep(single.condition, single.window))


@pytest.mark.parametrize(
    "conditions, extra, words",
    [
        ({"a": {"seeds": 0}}, {}, "conditions.a.seeds"),
        ({"a": {"seeds": [1, 1]}}, {}, "conditions.a.seeds"),
        ({"a": {"seeds": 2, "seed": -1}}, {}, "must be >= 0"),
        ({"a": {"seeds": [1]}, "a_seed1": {}}, {}, "already uses"),
        ({"a": {}}, {"followup": {"base": {"seeds": 2}}}, "followup.base: seeds"),
    ],
)
def test_bad_ensembles_are_refused_in_one_line(conditions, extra, words):
    with pytest.raises(ConfigError) as err:
        load_study(study(conditions, **extra), SCHEMA)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_seed_study_has_ensembles_that_box_counting_can_measure():
    """The seed study's grids have the 101 pixels a decade of box sizes needs (the default
    study's small ensembles are pictures and fractions; their dimensions are refused)."""
    sides = {}
    for name in ("config.yaml", "seeds.yaml"):
        config = yaml.safe_load((REPO / "config" / name).read_text())
        members = [sc for sc in load_study(config, SCHEMA)[1].values() if sc.ensemble]
        assert members, name
        sides[name] = {sc.window.nx for sc in members}
    assert min(sides["seeds.yaml"]) >= 101
    def half_plane(n):  # a straight boundary: D = 1
        return np.where(np.arange(n) < n // 2, 1.0, -1.0)[None, :].repeat(n, axis=0)

    assert estimate_2d(half_plane(min(sides["seeds.yaml"]))).refused is None
    small = half_plane(max(sides["config.yaml"]))
    assert estimate_2d(small).refused.startswith(NOT_ENOUGH_SCALES)


# --------------------------------------------------------------------------- numbers


def test_statistics_over_seeds():
    stats = over_seeds([1.0, 2.0, None, 3.0, float("nan")])
    assert stats["n"] == 3 and stats["mean"] == 2.0 and stats["sd"] == 1.0
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2)
    assert stats["ci_low"] == pytest.approx(2 - half)
    assert stats["ci_high"] == pytest.approx(2 + half)
    assert over_seeds([1.5])["sd"] is None and over_seeds([])["mean"] is None


def test_the_probability_map_of_identical_seeds_is_zero_or_one():
    grid = sweep(SMALL, WINDOW)
    p = probability_map([grid, sweep(SMALL, WINDOW), grid])
    assert set(np.unique(p)) == {0.0, 1.0}
    band = band_width(p, np.log10(grid.x), np.log10(grid.y))
    assert band["band_area"] == 0 and band["band_width"] == 0 and band["level_length"] > 0


def test_band_width_of_a_straight_ramp_is_its_width_to_a_pixel():
    """P = logistic((x − x0)/s) rises from 0.1 to 0.9 over w = 2·s·ln 9, along a straight level
    set as long as the window is high."""
    x, y = np.linspace(0, 3, 61), np.linspace(0, 2, 41)
    s = 0.15
    p = np.broadcast_to(1 / (1 + np.exp(-(x - 1.3) / s)), (y.size, x.size))
    band = band_width(p, x, y)
    assert band["level_length"] == pytest.approx(2.0)
    assert abs(band["band_width"] - 2 * s * math.log(9)) <= band["pixel"]
    assert level_length(np.zeros((4, 4)), np.arange(4.0), np.arange(4.0)) == 0


def test_band_width_of_a_ramp_seen_through_eight_draws_per_pixel():
    """Each pixel the fraction of 8 Bernoulli draws with the ramp's probability p (per-pixel
    seeds): the level set of P itself meanders several times the window's height, the mean
    boundary does not. The band is where the 8 draws disagree (1 to 7 successes: P in
    [0.125, 0.875]), whose expected width is ∫ 1 − p⁸ − (1 − p)⁸ dx; measured to two pixels."""
    x, y = np.linspace(0, 1, 128), np.linspace(0, 1, 128)
    s = 0.05
    ramp = 1 / (1 + np.exp(-(x - 0.5) / s))
    p = np.random.default_rng(0).binomial(8, np.broadcast_to(ramp, (y.size, x.size))) / 8
    band = band_width(p, x, y)
    assert level_length(p, x, y) > 3.0  # the raw 0.5 level set: noise
    assert band["level_length"] == pytest.approx(1.0, abs=0.1)
    disagree = (1 - ramp**8 - (1 - ramp) ** 8).sum() * (x[1] - x[0])
    assert abs(band["band_width"] - disagree) <= 2 * band["pixel"]
