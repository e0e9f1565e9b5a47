"""float64x2 by perturbation (`trainability.train.arithmetics.perturbation`): agrees with the
double-double
engine
on a deep window and with float64 on a shallow one, puts the analytic linear-regression boundary
within one pixel of a 1e-22-decade window, merges tiles to the whole bit for bit, repeats itself
bit for bit, computes again in double-double what its reference cannot carry, and refuses what
it does not compute in one line."""

from fractions import Fraction

import numpy as np
import pytest
from test_float64x2 import _quadratic

from trainability.core.condition import Condition
from trainability.core.precision import PrecisionError
from trainability.core.window import Window
from trainability.train.pixels import axis_values
from trainability.train.sweep import Engine, sweep

PT = Engine(dtype="float64x2", arithmetic="perturbation")
DD = Engine(dtype="float64x2", arithmetic="doubledouble")
TANH = Condition(width=4, dataset_size=6, steps=20)


def _same(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("values", "converged", "diverged_at", "blowup_at")
    )


def _deep_window(cond: Condition, width: Fraction, n: int) -> Window:
    """Bisect a boundary along y at x = 0.5 (perturbation, 17 rows a level) down to a square
    window ``width`` decades wide around it."""
    x, lo, hi = Fraction("0.5"), Fraction(0), Fraction(2)
    while hi - lo > width:
        column = sweep(cond, Window(x, x + Fraction(1, 10**6), lo, hi, 2, 17), PT).converged
        assert column[0, 0] and not column[-1, 0]
        j = int(np.argmin(column[:, 0]))  # first diverged row: the boundary in (j − 1, j)
        lo, hi = lo + (hi - lo) * Fraction(j - 1, 16), lo + (hi - lo) * Fraction(j, 16)
    c, half = (lo + hi) / 2, width / 2
    return Window(x - half, x + half, c - half, c + half, n, n)


def test_agrees_with_double_double_on_a_deep_window():
    window = _deep_window(TANH, Fraction(1, 10**19), 8)
    with pytest.raises(PrecisionError):
        sweep(TANH, window)  # float64 cannot
    a, b = sweep(TANH, window, PT), sweep(TANH, window, DD)
    assert a.meta["arithmetic"] == "perturbation" and b.meta["arithmetic"] == "doubledouble"
    assert a.converged.any() and not a.converged.all()  # both phases
    assert (a.converged == b.converged).mean() >= 0.998
    assert np.allclose(a.values, b.values, rtol=1e-12, atol=0)  # 20 steps: nothing chaotic yet
    assert a.meta["fallback_pixels"] == 0


@pytest.mark.parametrize(
    "cond",
    [TANH, Condition(width=4, dataset_size=6, steps=20, activation="relu", batch_size=3)],
)
def test_agrees_with_float64_on_a_shallow_window(cond):
    window = Window(-1.0, 2.0, -1.0, 2.0, 8, 8)
    a, b = sweep(cond, window), sweep(cond, window, PT)
    assert b.meta["dtype"] == "float64x2" and b.meta["arithmetic"] == "perturbation"
    assert 0.1 < a.converged.mean() < 0.9
    assert (a.converged == b.converged).mean() >= 0.998
    calm = a.converged & b.converged & (a.values > -0.9 * cond.steps)  # well converged
    assert np.allclose(a.values[calm], b.values[calm], rtol=1e-9, atol=0)


def test_quadratic_boundary_within_one_pixel_of_a_1e22_window():
    cond, critical, centre = _quadratic()
    half = Fraction(1, 2 * 10**22)
    window = Window(centre - half, centre + half, Fraction(-1), Fraction(0), 16, 2)
    grid = sweep(cond, window, PT)
    assert grid.meta["arithmetic"] == "perturbation" and grid.meta["fallback_pixels"] == 0
    _boundary_within_one_pixel(cond, window, critical, grid)


def _boundary_within_one_pixel(cond, window, critical, grid):
    x, _ = axis_values(cond, window, "float64x2")
    below = sum(Fraction(h) + Fraction(lo) < critical for h, lo in x.tolist())
    assert 0 < below < window.nx
    for row in grid.converged:
        first = int(np.argmin(row))  # first diverged column
        assert row[:first].all() and not row[first:].any()
        assert abs(first - below) <= 1


@pytest.mark.parametrize(
    "left, right, reference_x, fallback",
    [
        (Fraction("-0.3"), Fraction("0.5"), "1/6", False),  # the centre diverges, 1/6 does not
        (Fraction("-0.02"), Fraction("1.5"), "1/6", True),  # all candidates blow up
    ],
)
def test_a_diverging_centre_and_the_double_double_fallback(left, right, reference_x, fallback):
    """Linear regression with η* near the left edge: the centre diverges, so the reference is
    another candidate; where every candidate blows up, the converging pixels are flagged and
    computed again in double-double. Either way: the double-double engine's labels, the
    boundary within one pixel, tiles = whole bit for bit (fallback counts added up)."""
    from trainability.core.grid import merge_tiles

    cond, critical, centre = _quadratic()
    window = Window(centre + left, centre + right, Fraction(-1), Fraction(0), 16, 2)
    grid = sweep(cond, window, PT)
    assert grid.meta["reference"]["x"] == reference_x
    assert (grid.meta["reference"]["blowup_at"] >= 0) == fallback
    assert (grid.meta["fallback_pixels"] > 0) == fallback
    assert np.array_equal(grid.converged, sweep(cond, window, DD).converged)
    _boundary_within_one_pixel(cond, window, critical, grid)
    parts = [sweep(cond, window, PT, tile=(i, j), tiles=(2, 2)) for i in (0, 1) for j in (0, 1)]
    merged = merge_tiles(parts)
    assert _same(merged, grid) and merged.meta == grid.meta


def test_reference_whose_loss_peaks_lowest_where_every_candidate_spikes():
    """A tanh window 2e-12 decades wide on a boundary (400 steps): every candidate's loss passes
    10⁶·ℓ_0 at step 29 and most then converge. The reference is the one whose loss peaks
    lowest, a converging run, so no pixel needs the double-double fallback (the centre diverges:
    the converging pixels would be flagged); labels as double-double's but for the chaos floor."""
    cond = Condition(activation="tanh", width=4, steps=400)
    c, h = Fraction("2.0998540523374711884121391659"), Fraction(1, 10**12)
    window = Window(c - h, c + h, 1 - h, 1 + h, 16, 16)
    grid = sweep(cond, window, PT)
    assert grid.meta["reference"]["blowup_at"] >= 0  # no candidate stays below 10⁶·ℓ_0
    assert grid.meta["fallback_pixels"] == 0
    assert (grid.converged == sweep(cond, window, DD).converged).mean() >= 0.99


def test_tiles_are_the_whole_and_runs_repeat_bit_for_bit():
    from trainability.core.grid import merge_tiles

    window = Window(-1.0, 2.0, -1.0, 2.0, 6, 5)
    whole = sweep(TANH, window, PT)
    assert _same(whole, sweep(TANH, window, PT))
    parts = [sweep(TANH, window, PT, tile=(i, j), tiles=(2, 2)) for i in (0, 1) for j in (0, 1)]
    merged = merge_tiles(parts)
    assert _same(merged, whole) and merged.meta == whole.meta


@pytest.mark.parametrize(
    "changes, what",
    [
        ({"activation": "sigmoid"}, "activation sigmoid"),
        ({"depth": 3, "residual": True}, "residual blocks"),
        ({"epsilon": 0.01}, "epsilon"),
        ({"seed_mode": "per_pixel"}, "per-pixel seeds"),
    ],
)
def test_unsupported_conditions_are_refused_in_one_line(changes, what):
    cond = Condition(width=4, dataset_size=6, steps=20, **changes)
    window = Window(-1.0, 0.0, -1.0, 0.0, 2, 2)
    with pytest.raises(ValueError, match=what) as err:
        sweep(cond, window, PT)
    assert "\n" not in str(err.value) and "arithmetic doubledouble" in str(err.value)


def test_auto_takes_double_double_where_perturbation_cannot():
    from trainability.core.precision import resolve
    from trainability.train.sweep import sweep_meta

    window = Window(-1.0, 0.0, -1.0, 0.0, 2, 2)
    for activation, arithmetic in (("sigmoid", "doubledouble"), ("tanh", "perturbation")):
        cond = Condition(width=4, dataset_size=6, steps=5, activation=activation)
        engine = resolve(Engine(dtype="float64x2", arithmetic="auto"), cond, window)
        assert sweep_meta(cond, window, engine, None, (1, 1))["arithmetic"] == arithmetic
    plain = resolve(Engine(), cond, window)  # float64: no arithmetic to speak of
    assert sweep_meta(cond, window, plain, None, (1, 1))["arithmetic"] is None


def test_cli_and_config_carry_the_arithmetic(tmp_path):
    from pathlib import Path

    from trainability.cli import main
    from trainability.core.grid import load_grid
    from trainability.study.config import ConfigError, load_study

    deep = ["0.5", "0.50000000000000000001", "1", "1.00000000000000000001"]
    args = ["sweep", "--width", "4", "--dataset-size", "6", "--steps", "20", "--quiet"]
    args += ["--resolution", "3", "--window", *deep, "--dtype", "float64x2"]
    for arithmetic in ("perturbation", "doubledouble"):
        out = tmp_path / f"{arithmetic}.npz"
        assert main([*args, "--arithmetic", arithmetic, "--out", str(out)]) == 0
        assert load_grid(out).meta["arithmetic"] == arithmetic
    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    config = {"conditions": {"deep": {"activation": "sigmoid", "window": deep}}}
    engine = {"dtype": "float64x2", "arithmetic": "perturbation"}
    with pytest.raises(ConfigError, match="activation sigmoid") as err:
        load_study({**config, "engine": engine}, schema)
    assert "\n" not in str(err.value)
    load_study({**config, "engine": {"dtype": "float64x2"}}, schema)  # auto: double-double
