"""The sweep engines: exactness against the reference loop, analytic boundaries, invariances."""

import numpy as np
import pytest
from reference import reference_pixels

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.core.condition import Condition
from trainability.core.grid import Grid, load_grid, merge_tiles, save_grid, window_bounds
from trainability.core.precision import PrecisionError
from trainability.core.window import Window
from trainability.models.mlp import init_problem, perturb_weights
from trainability.train.sweep import Engine, sweep

EXACT = Engine(early_exit=False)


def pixels_of(grid):
    xs = np.broadcast_to(grid.x[None, :], grid.values.shape).ravel()
    ys = np.broadcast_to(grid.y[:, None], grid.values.shape).ravel()
    return xs, ys


@pytest.mark.parametrize(
    "cond, bounds",
    [
        (Condition(width=6, steps=40), (-1, 2, 0, 4)),
        (Condition(activation="relu", width=6, steps=40), (-1, 2, 0, 4)),
        (Condition(activation="sigmoid", width=6, depth=3, steps=40), (-1, 2, 0, 3.5)),
        (Condition(width=6, batch_size=5, steps=40), (-1, 2, 0, 4)),
        (Condition(width=6, phase_space="offset_vs_lr", steps=40), (-3, 0, 0, 3)),
        (
            Condition(width=6, phase_space="offset_vs_lr", offset_mode="init", steps=40),
            (-3, 0, 0, 3),
        ),
        (
            Condition(width=6, dataset_size=1, target_dim=2, steps=40, readout="probe"),
            (-1, 2, 0.5, 4),
        ),
    ],
    ids=["tanh", "relu", "sigmoid-depth3", "minibatch", "offset", "offset-init", "single-probe"],
)
@pytest.mark.parametrize("engine", ["fused", "autodiff"])
def test_engines_match_the_reference_loop(cond, bounds, engine):
    grid = sweep(cond, Window.square(bounds, 4), Engine(name=engine))
    values, converged, probe = reference_pixels(cond, *pixels_of(grid))
    assert converged.any() and not converged.all()
    np.testing.assert_array_equal(grid.converged.ravel(), converged)
    np.testing.assert_allclose(grid.values.ravel(), values, rtol=1e-6)
    if cond.readout == "probe":
        np.testing.assert_allclose(grid.probe.ravel(), probe, rtol=1e-5)


def test_perturbed_weights_match_the_reference_loop():
    cond = Condition(width=6, steps=30, epsilon=0.1)
    window = Window.square((-1, 1, 0, 4), 3)
    grid = sweep(cond, window)
    start = perturb_weights(init_problem(cond).weights, 0.1, cond.seed, np.arange(9))
    perturbed = [[w[k] for w in start] for k in range(9)]
    values, converged, _ = reference_pixels(cond, *pixels_of(grid), perturbed=perturbed)
    np.testing.assert_array_equal(grid.converged.ravel(), converged)
    np.testing.assert_allclose(grid.values.ravel(), values, rtol=1e-6)
    assert not np.array_equal(grid.values, sweep(cond.replace(epsilon=0.0), window).values)


def test_epsilon_zero_is_the_unperturbed_grid():
    cond = Condition(width=6, steps=30)
    window = Window.square((-1, 3, 0, 4), 5)
    a = sweep(cond, window)
    b = sweep(cond.replace(epsilon=0.0), window)
    assert a.values.tobytes() == b.values.tobytes()


def test_linear_regression_diverges_exactly_past_two_over_curvature():
    """Depth-1 identity net: ℓ(W) = mean((XW/n − Y)²) is quadratic with Hessian
    H = 2·XᵀX/(N·n²); gradient descent diverges iff lr > 2/λ_max(H). The label flips within
    one pixel above 2/λ_max: just past it the unstable direction grows by (lr·λ_max − 1)^t,
    too slowly to lift the last 20 losses above the first within 400 steps."""
    cond = Condition(activation="identity", width=8, depth=1, dataset_size=40, steps=400)
    p = init_problem(cond)
    n, N = cond.width, cond.n_data
    lam = np.linalg.eigvalsh(2 * p.X.T @ p.X / (N * n * n)).max()
    critical = np.log10(2 / lam)
    window = Window(critical - 0.5, critical + 0.5, 0, 1, nx=101, ny=2)
    grid = sweep(cond, window)
    labels = grid.converged[0]
    assert np.array_equal(labels, grid.converged[1])  # no dependence on y at depth 1
    first_diverged = np.argmin(labels)
    assert labels[:first_diverged].all() and not labels[first_diverged:].any()
    lr = grid.x
    assert lr[first_diverged - 2] <= 2 / lam <= lr[first_diverged]


def test_fused_agrees_with_autodiff_except_next_to_the_boundary():
    cond = Condition(steps=300)
    window = Window.square((-1, 4, 0, 4), 40)
    fused = sweep(cond, window).converged
    autodiff = sweep(cond, window, Engine(name="autodiff")).converged
    differ = fused != autodiff
    assert differ.mean() <= 0.002
    boundary = np.zeros_like(fused)
    for grid in (fused, autodiff):
        edge = np.zeros_like(grid)
        edge[:, 1:] |= grid[:, 1:] != grid[:, :-1]
        edge[:, :-1] |= grid[:, 1:] != grid[:, :-1]
        edge[1:] |= grid[1:] != grid[:-1]
        edge[:-1] |= grid[1:] != grid[:-1]
        boundary |= edge
    assert not (differ & ~boundary).any()


def test_early_exit_changes_no_label_and_values_only_by_rounding():
    cond = Condition(steps=200)
    window = Window.square((-1, 5, 0, 4), 24)
    fast = sweep(cond, window)
    slow = sweep(cond, window, EXACT)
    assert (fast.diverged_at >= 0).sum() > 50  # early exit did happen
    assert (slow.diverged_at == -1).all()
    np.testing.assert_array_equal(fast.converged, slow.converged)
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12)


def test_tiles_blocks_and_threads_do_not_change_a_bit(tmp_path):
    """A pixel's arithmetic is the same wherever it sits. (The chunk size is part of the
    numerical definition, like the dtype: XLA picks matrix kernels by operand size.)"""
    cond = Condition(width=8, steps=60, batch_size=7)
    window = Window(-1, 4, 0, 4, nx=13, ny=10)
    whole = sweep(cond, window)
    tiles = []
    for i in range(2):
        for j in range(3):
            tile = sweep(cond, window, tile=(i, j), tiles=(2, 3))
            save_grid(tmp_path / f"tile_{i}_{j}.npz", tile)
            tiles.append(load_grid(tmp_path / f"tile_{i}_{j}.npz"))
    merged = merge_tiles(tiles[::-1])
    threaded = sweep(cond, window, Engine(threads=2, block=40))
    for grid in (merged, threaded):
        for key in ("values", "converged", "x", "y", "diverged_at"):
            assert getattr(grid, key).tobytes() == getattr(whole, key).tobytes(), key
    save_grid(tmp_path / "whole.npz", whole)
    save_grid(tmp_path / "again.npz", sweep(cond, window))
    assert (tmp_path / "whole.npz").read_bytes() == (tmp_path / "again.npz").read_bytes()


def test_grid_bounds_are_the_window_as_stored(tmp_path):
    """`Grid.bounds` gives the window's bounds as the file holds them, exact ones as decimal
    text, so a window rebuilt from them is the one swept."""
    window = Window.square(("-1", "2", "0.1000000000000000000001", "0.1000000000000000000002"), 2)
    zeros = np.zeros(window.shape)
    grid = Grid(zeros, zeros < 0, np.zeros(2), np.zeros(2), zeros.astype(int),
                meta={"window": window.to_dict()})  # fmt: skip
    save_grid(tmp_path / "grid.npz", grid)
    bounds = load_grid(tmp_path / "grid.npz").bounds
    assert bounds == (-1.0, 2.0, "0.1000000000000000000001", "0.1000000000000000000002")
    assert Window.square(bounds, 2) == window
    assert window_bounds(grid.meta) == bounds


def test_different_seed_gives_a_different_grid():
    window = Window.square((-1, 4, 0, 4), 6)
    a = sweep(Condition(width=6, steps=20), window)
    b = sweep(Condition(width=6, steps=20, seed=1), window)
    assert not np.array_equal(a.values, b.values)


def test_offset_modes_coincide_for_one_step_only():
    window = Window.square((-3, 0, 0, 3), 4)
    every = Condition(width=6, phase_space="offset_vs_lr", steps=1)
    once = every.replace(offset_mode="init")
    assert np.array_equal(sweep(every, window).values, sweep(once, window).values)
    assert not np.array_equal(
        sweep(every.replace(steps=5), window).values, sweep(once.replace(steps=5), window).values
    )


def test_precision_guard_refuses_windows_past_float64():
    centre = np.log10(13.2997)
    Window(centre, centre + 1e-11, 2.3, 2.3 + 1e-11, 64, 64).axes()  # still resolvable
    with pytest.raises(PrecisionError, match="float64"):
        Window(centre, centre + 1e-15, 2.3, 2.31, 64, 64).axes()


def test_float32_preview_runs_and_roughly_agrees():
    cond = Condition(width=6, steps=50)
    window = Window.square((-1, 4, 0, 4), 12)
    f64 = sweep(cond, window).converged
    f32 = sweep(cond, window, Engine(dtype="float32")).converged
    assert (f64 == f32).mean() > 0.9
