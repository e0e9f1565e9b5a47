"""Optimizers, weight decay, schedules, residual blocks and custom axes in the sweep engines."""

import math

import numpy as np
import pytest
from reference import reference_pixels

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.cli import main
from trainability.core.condition import Condition, ConditionError
from trainability.core.precision import PrecisionError
from trainability.core.window import Window
from trainability.models.mlp import init_problem
from trainability.train.sweep import Engine, axis_values, sweep

BASE = Condition(width=6, steps=30)  # 30 steps: the optimizer state crosses a segment boundary


def pixels_of(grid):
    xs = np.broadcast_to(grid.x[None, :], grid.values.shape).ravel()
    ys = np.broadcast_to(grid.y[:, None], grid.values.shape).ravel()
    return xs, ys


def same_bytes(a, b):
    return all(
        getattr(a, k).tobytes() == getattr(b, k).tobytes()
        for k in ("values", "converged", "diverged_at")
    )


def test_degenerate_settings_are_plain_gradient_descent_byte_for_byte():
    cond = Condition(width=6, steps=40, batch_size=5)
    window = Window.square((-1, 3, 0, 4), 5)
    plain = sweep(cond, window)
    assert plain.converged.any() and not plain.converged.all()
    for changes in (
        {"optimizer": "momentum", "momentum": 0.0},
        {"optimizer": "nesterov", "momentum": 0.0, "schedule": "constant"},
        {"schedule": "warmup", "warmup_steps": 0, "weight_decay": 0.0},
        {"schedule": "cosine", "final_lr_fraction": 1.0, "weight_decay_mode": "decoupled"},
        {"schedule": "step", "decay_factor": 1.0},
    ):
        assert same_bytes(sweep(cond.replace(**changes), window), plain), changes
    assert not np.array_equal(sweep(cond.replace(schedule="cosine"), window).values, plain.values)


def test_zero_on_an_axis_is_plain_gradient_descent_byte_for_byte():
    """λ = 0, μ = 0 and warmup 0 computed through the per-pixel code paths (no shortcut)."""
    custom = {"phase_space": "custom", "y_axis": "lr", "x_scale": "linear"}
    plain = sweep(
        BASE.replace(phase_space="offset_vs_lr", offset_mode="init", x_scale="linear"),
        Window(0.0, 0.2, -1, 1, nx=2, ny=5),
    )
    for changes, x_max in (
        ({"x_axis": "weight_decay"}, 0.2),
        ({"x_axis": "momentum", "optimizer": "momentum"}, 0.2),
        ({"x_axis": "warmup_steps", "schedule": "warmup"}, 20.0),
    ):
        grid = sweep(BASE.replace(**custom, **changes), Window(0.0, x_max, -1, 1, nx=2, ny=5))
        assert grid.values[:, 0].tobytes() == plain.values[:, 0].tobytes(), changes
        assert not np.array_equal(grid.values[:, 1], grid.values[:, 0]), changes


def test_the_papers_phase_spaces_are_custom_axes():
    window = Window.square((-1, 2, 0, 3), 4)
    for phase, axes in (("lr_vs_lr", ("lr_even", "lr_odd")), ("offset_vs_lr", ("offset", "lr"))):
        paper = sweep(BASE.replace(phase_space=phase), window)
        custom = sweep(BASE.replace(phase_space="custom", x_axis=axes[0], y_axis=axes[1]), window)
        assert same_bytes(paper, custom), phase


@pytest.mark.parametrize(
    "cond, bounds, engine",
    [
        (BASE.replace(optimizer="adam"), (-3, -1, -3, -1), "fused"),
        (
            BASE.replace(
                optimizer="adam",
                beta1=0.5,
                beta2=0.9,
                weight_decay=0.3,
                schedule="warmup",
                warmup_steps=10,
            ),
            (-3, -1, -3, -1),
            "autodiff",
        ),
        (
            BASE.replace(optimizer="adam", weight_decay=0.5, weight_decay_mode="decoupled"),
            (-3, -1, -3, -1),
            "fused",
        ),
        (
            BASE.replace(optimizer="momentum", momentum=0.7, schedule="cosine"),
            (-1, 0.5, -1, 0.5),
            "fused",
        ),
        (
            BASE.replace(optimizer="nesterov", momentum=0.7, weight_decay=0.05),
            (-1, 0.5, -1, 0.5),
            "fused",
        ),
        (
            BASE.replace(depth=3, residual=True, schedule="step", decay_every=7, decay_factor=0.6),
            (-1, 0.5, -1, 0.5),
            "fused",
        ),
        (BASE.replace(depth=3, residual=True), (-1, 0.5, -1, 0.5), "autodiff"),
        (
            BASE.replace(
                optimizer="adam",
                phase_space="custom",
                x_axis="beta1",
                y_axis="lr_output",
                x_scale="linear",
                lr=0.02,
            ),
            (0.5, 0.95, -3, -1),
            "fused",
        ),
        (
            BASE.replace(
                depth=4,
                optimizer="momentum",
                schedule="warmup",
                phase_space="custom",
                x_axis="momentum",
                y_axis="warmup_steps",
                x_scale="linear",
                y_scale="linear",
                lr_hidden=0.3,
                init_scale=0.8,
            ),
            (0.0, 0.8, 0.0, 20.0),
            "fused",
        ),
    ],
    ids=[
        "adam",
        "adam-l2-warmup-autodiff",
        "adamw",
        "momentum-cosine",
        "nesterov-l2",
        "residual3-step",
        "residual3-autodiff",
        "beta1-x-lr_output",
        "momentum-x-warmup-depth4",
    ],
)
def test_matches_the_plain_reference_loop(cond, bounds, engine):
    """Modest learning rates: no chaos, so the engines agree with the loop to rounding."""
    grid = sweep(cond, Window.square(bounds, 3), Engine(name=engine))
    values, converged, _ = reference_pixels(cond, *pixels_of(grid))
    np.testing.assert_array_equal(grid.converged.ravel(), converged)
    np.testing.assert_allclose(grid.values.ravel(), values, rtol=1e-12)


def test_heavy_ball_diverges_exactly_past_its_analytic_limit():
    """Depth-1 identity net (linear regression, Hessian H = 2XᵀX/(N·n²)): heavy-ball momentum
    is stable iff lr·λ_max < 2(1 + μ). One sweep, x = lr, y = μ ∈ {0.5, 0.9}. Each critical
    rate sits half a pixel from its neighbours, where the slowest mode still converges (or
    diverges) at a rate ~2(1+μ)·d/(1−μ) per step (d = 0.29%), well within 300 steps."""
    cond = Condition(
        activation="identity",
        width=8,
        depth=1,
        dataset_size=40,
        steps=300,
        optimizer="momentum",
        phase_space="custom",
        x_axis="lr",
        y_axis="momentum",
        y_scale="linear",
    )
    p = init_problem(cond)
    n, N = cond.width, cond.n_data
    lam = np.linalg.eigvalsh(2 * p.X.T @ p.X / (N * n * n)).max()
    critical = [2 * (1 + mu) / lam for mu in (0.5, 0.9)]
    step = math.log10(critical[1] / critical[0]) / 41  # both limits at half-pixel positions
    lo = math.log10(critical[0]) - 20.5 * step
    window = Window(lo, lo + 81 * step, 0.5, 0.9, nx=82, ny=2)
    grid = sweep(cond, window)
    np.testing.assert_array_equal(grid.y, [0.5, 0.9])
    for row, expected_first, crit in zip(grid.converged, (21, 62), critical, strict=True):
        first_diverged = int(np.argmin(row))
        assert row[:first_diverged].all() and not row[first_diverged:].any()
        assert first_diverged == expected_first
        assert grid.x[first_diverged - 1] < crit < grid.x[first_diverged]


def test_early_exit_changes_no_label_with_momentum_and_adam():
    """Adam's steps are bounded by ~η, so its losses pass 10²⁰·ℓ_0 only at huge rates."""
    window = Window.square((-2, 12, -2, 12), 12)
    for cond in (
        Condition(width=8, steps=80, optimizer="nesterov", momentum=0.8),
        Condition(width=8, steps=80, optimizer="adam"),
    ):
        fast = sweep(cond, window)
        slow = sweep(cond, window, Engine(early_exit=False))
        assert (fast.diverged_at >= 0).sum() > 10
        np.testing.assert_array_equal(fast.converged, slow.converged)
        np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12)


def test_linear_axis_values_and_tiles_with_optimizer_state(tmp_path):
    from trainability.core.grid import merge_tiles

    cond = Condition(
        width=6,
        steps=60,
        optimizer="momentum",
        phase_space="custom",
        x_axis="momentum",
        y_axis="lr",
        x_scale="linear",
    )
    window = Window(0.0, 0.95, -1, 1.5, nx=9, ny=7)
    x, y = axis_values(cond, window)
    assert x.tobytes() == np.linspace(0.0, 0.95, 9).tobytes()
    assert y.tobytes() == Window(0, 1, -1, 1.5, 2, 7).axes()[1].tobytes()  # log: logspace
    whole = sweep(cond, window)
    assert whole.x.tobytes() == x.tobytes()
    assert (whole.diverged_at >= 0).any() and whole.converged.any()
    tiles = [sweep(cond, window, tile=(i, j), tiles=(2, 3)) for i in range(2) for j in range(3)]
    threaded = sweep(cond, window, Engine(threads=2, block=20))
    for grid in (merge_tiles(tiles), threaded):
        for key in ("values", "converged", "x", "y", "diverged_at"):
            assert getattr(grid, key).tobytes() == getattr(whole, key).tobytes(), key


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"optimizer": "momentum", "momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"beta1": 1.0}, "beta1"),
        ({"beta2": -0.1}, "beta2"),
        ({"adam_eps": 0.0}, "adam_eps"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"weight_decay_mode": "l1"}, "weight_decay_mode"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"schedule": "linear"}, "schedule"),
        ({"warmup_steps": -1}, "warmup_steps"),
        ({"decay_every": 0}, "decay_every"),
        ({"decay_factor": 0.0}, "decay_factor"),
        ({"x_scale": "log2"}, "x_scale"),
        ({"lr": -0.1}, "lr"),
        ({"phase_space": "custom", "x_axis": "lrr", "y_axis": "lr"}, "x_axis"),
        ({"phase_space": "custom", "x_axis": "lr", "y_axis": "lr"}, "x_axis"),
        ({"phase_space": "custom", "x_axis": "lr"}, "y_axis"),
        ({"x_axis": "lr"}, "x_axis"),
        ({"phase_space": "custom", "x_axis": "momentum", "y_axis": "lr"}, "optimizer"),
        ({"phase_space": "custom", "x_axis": "beta2", "y_axis": "lr"}, "optimizer"),
        ({"phase_space": "custom", "x_axis": "lr_hidden", "y_axis": "lr"}, "lr_hidden"),
        (
            {"phase_space": "custom", "depth": 1, "x_axis": "lr_input", "y_axis": "lr_output"},
            "layer 0",
        ),
    ],
)
def test_bad_fields_are_refused_in_one_sentence(changes, field):
    with pytest.raises(ConditionError, match=field) as err:
        Condition(**changes)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "changes, bounds, field",
    [
        ({"optimizer": "momentum", "x_axis": "momentum"}, (0.5, 1.2), "momentum"),
        ({"optimizer": "momentum", "x_axis": "momentum"}, (-0.1, 0.5), "momentum"),
        ({"optimizer": "adam", "x_axis": "beta2", "x_scale": "log"}, (-3, 0), "beta2"),
        ({"x_axis": "weight_decay"}, (-1.0, 0.5), "weight_decay"),
        ({"x_axis": "lr_input"}, (-0.1, 0.5), "lr_input"),
        ({"x_axis": "epsilon"}, (-1.0, 0.0), "epsilon"),
    ],
)
def test_windows_outside_an_axis_range_are_refused(changes, bounds, field):
    cond = Condition(**{"phase_space": "custom", "y_axis": "lr", "x_scale": "linear", **changes})
    with pytest.raises(ConditionError, match=field) as err:
        sweep(cond, Window(*bounds, -1, 0, nx=4, ny=4))
    assert "\n" not in str(err.value)


def test_linear_precision_guard():
    Window(0.3, 0.3 + 1e-13, 0, 1, 64, 2).axes("linear")  # still resolvable
    with pytest.raises(PrecisionError, match="float64"):
        Window(0.3, 0.3 + 1e-15, 0, 1, 64, 2).axes("linear")


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--optimizer", "momentum", "--momentum", "1.0"], "momentum"),
        (["--weight-decay", "-1"], "weight_decay"),
        (["--phase-space", "custom", "--x-axis", "nope", "--y-axis", "lr"], "--x-axis"),
        (
            ["--phase-space", "custom", "--x-axis", "momentum", "--y-axis", "lr"]
            + ["--optimizer", "momentum", "--x-scale", "linear", "--window", "0", "1", "0", "1"],
            "momentum",
        ),
    ],
)
def test_cli_refuses_bad_flags_in_one_line(flags, needle, tmp_path, capsys):
    out = tmp_path / "grid.npz"
    try:
        code = main(["sweep", "--out", str(out), "--quiet", *flags])
    except SystemExit as exit:  # argparse's own errors (unknown choice)
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adam"])
def test_states_are_named_and_travel_flat(name):
    """``init`` gives the state flat, one per-pixel array per field and weight matrix; ``update``
    takes it flat or as its NamedTuple and returns it in the form given, with the same numbers."""
    from trainability.train.optimizers import STATES, flatten, optimizer, state_arrays, unflatten

    cond = Condition(width=3, depth=3, target_dim=2, optimizer=name)
    rng = np.random.default_rng(0)
    shapes = [(4, a, b) for a, b in cond.layer_shapes]
    weights = tuple(rng.standard_normal(s) for s in shapes)
    grads = tuple(rng.standard_normal(s) for s in shapes)
    opt = optimizer(cond, {})
    flat = opt.init(weights)
    assert type(flat) is tuple and len(flat) == state_arrays(name) * cond.depth
    assert [s.shape for s in flat] == shapes * state_arrays(name)
    named = unflatten(STATES[name], flat, cond.depth)
    assert type(named) is STATES[name] and flatten(named) == flat
    for t, extra in enumerate((None, tuple(0.1 * w for w in weights))):
        d_flat, e_flat, s_flat = opt.update(grads, extra, flat, t)
        d_named, e_named, s_named = opt.update(grads, extra, named, t)
        assert type(s_flat) is tuple and type(s_named) is STATES[name]
        for a, b in zip(flatten(s_named), s_flat, strict=True):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
        assert all(np.array_equal(a, b) for a, b in zip(d_flat, d_named, strict=True))
        assert (e_flat is None) == (e_named is None)
        flat, named = s_flat, s_named
    with pytest.raises(ValueError, match="arrays"):
        unflatten(STATES[name], (*flat, flat[0]) if flat else (weights[0],), cond.depth)
