"""The float64x2 engine: agrees with float64 where float64 resolves, goes where it cannot (a
window 1e-20 decades wide), and puts an analytic boundary (gradient descent on a quadratic
diverges iff η > 2/λ_max) within one pixel of a window 1e-22 decades wide."""

from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest

from trainability.core.condition import Condition
from trainability.core.coordinates import exact, text
from trainability.core.precision import PrecisionError
from trainability.core.window import Window
from trainability.models.mlp import init_problem
from trainability.train.pixels import axis_values
from trainability.train.sweep import Engine, sweep

X2 = Engine(dtype="float64x2", arithmetic="doubledouble")  # perturbation: test_perturbation
SMALL = {"width": 4, "dataset_size": 6, "steps": 30}


@pytest.mark.parametrize(
    "changes",
    [
        {"activation": "tanh"},
        {"activation": "relu", "batch_size": 3},
        {"activation": "identity", "depth": 3, "residual": True},
    ],
)
def test_agrees_with_float64_where_float64_resolves(changes):
    cond = Condition(**SMALL, **changes)
    window = Window(-1.0, 2.0, -1.0, 2.0, 8, 8)
    a, b = sweep(cond, window), sweep(cond, window, X2)
    assert b.meta["dtype"] == "float64x2"
    assert 0.1 < a.converged.mean() < 0.9  # both phases
    assert (a.converged == b.converged).mean() >= 0.998
    calm = a.converged & b.converged & (a.values > -0.9 * SMALL["steps"])  # well converged
    assert np.allclose(a.values[calm], b.values[calm], rtol=1e-9, atol=0)


def _quadratic():
    """Linear regression on one data point: depth 1, identity. With ŷ = x·w/n the residual
    obeys r ← (1 − 2η|x|²/n²)·r, so the loss shrinks iff η < η* = n²/|x|²."""
    cond = Condition(activation="identity", depth=1, width=4, dataset_size=1, steps=25)
    x = init_problem(cond).X[0]
    critical = Fraction(cond.width**2) / sum(Fraction(float(v)) ** 2 for v in x)
    with localcontext() as ctx:
        ctx.prec = 50
        log10 = (Decimal(critical.numerator) / Decimal(critical.denominator)).log10()
    return cond, critical, exact(str(log10))


def test_quadratic_boundary_within_one_pixel_of_a_1e22_window():
    cond, critical, centre = _quadratic()
    half = Fraction(1, 2 * 10**22)
    window = Window(centre - half, centre + half, Fraction(-1), Fraction(0), 16, 2)
    with pytest.raises(PrecisionError, match="float64x2"):
        sweep(cond, window)  # float64 cannot
    grid = sweep(cond, window, X2)
    x, _ = axis_values(cond, window, "float64x2")
    lrs = [Fraction(h) + Fraction(lo) for h, lo in x.tolist()]
    below = sum(lr < critical for lr in lrs)  # pixels left of the exact boundary
    assert 0 < below < 16
    for row in grid.converged:
        first = int(np.argmin(row))  # first diverged column
        assert row[:first].all() and not row[first:].any()
        assert abs(first - below) <= 1


def test_deep_tanh_window_has_both_phases_and_distinct_rates():
    """Bisect a tanh boundary down to a 1e-20-decade window; float64 refuses it, float64x2
    draws it with distinct learning rates and both phases."""
    cond = Condition(width=4, dataset_size=6, steps=20)
    x, lo, hi = Fraction("0.5"), Fraction(0), Fraction(2)  # along y at fixed x
    while hi - lo > Fraction(1, 10**20):
        window = Window(x, x + Fraction(1, 10**6), lo, hi, 2, 17)
        column = sweep(cond, window, X2).converged[:, 0]
        assert column[0] and not column[-1]
        j = int(np.argmin(column))  # first diverged row: the boundary lies in (j − 1, j)
        lo, hi = lo + (hi - lo) * Fraction(j - 1, 16), lo + (hi - lo) * Fraction(j, 16)
    c, half = (lo + hi) / 2, Fraction(1, 2 * 10**20)
    window = Window(x - half, x + half, c - half, c + half, 8, 8)
    with pytest.raises(PrecisionError, match="float64x2"):
        sweep(cond, window)
    grid = sweep(cond, window, X2)
    for values in axis_values(cond, window, "float64x2"):
        pairs = [tuple(p) for p in values.tolist()]
        assert len(set(pairs)) == len(pairs)
    assert grid.converged.any() and not grid.converged.all()
    assert Window(**grid.meta["window"]) == window  # exact bounds survive the metadata
    assert exact(grid.meta["window"]["y_min"]) == c - half
    assert text(c - half) == grid.meta["window"]["y_min"]


def test_auto_picks_float64_while_it_suffices():
    cond = Condition(**SMALL)
    wide = sweep(cond, Window(-1.0, 2.0, -1.0, 2.0, 4, 4), Engine(dtype="auto"))
    assert wide.meta["dtype"] == "float64"
    c = Fraction("0.3")
    narrow = Window(c, c + Fraction(1, 10**18), c, c + Fraction(1, 10**18), 4, 4)
    assert sweep(cond, narrow, Engine(dtype="auto")).meta["dtype"] == "float64x2"


@pytest.mark.parametrize(
    "changes, what",
    [
        ({"optimizer": "momentum"}, "optimizer momentum"),
        ({"schedule": "cosine"}, "schedule cosine"),
        ({"phase_space": "offset_vs_lr"}, "a offset axis"),
        ({"readout": "probe"}, "readout probe"),
    ],
)
def test_unsupported_conditions_are_refused_in_one_line(changes, what):
    cond = Condition(**SMALL, **changes)
    with pytest.raises(ValueError, match=what) as err:
        sweep(cond, Window(-1.0, 0.0, -1.0, 0.0, 2, 2), X2)
    assert "\n" not in str(err.value)


def test_cli_reads_the_window_exactly_and_picks_the_precision(tmp_path, capsys):
    from trainability.cli import main
    from trainability.core.grid import load_grid

    deep = ["0.5", "0.50000000000000000001", "1", "1.00000000000000000001"]
    common = ["sweep", "--width", "4", "--dataset-size", "6", "--steps", "20", "--quiet"]
    common += ["--resolution", "3", "--window", *deep]
    assert main([*common, "--out", str(tmp_path / "a.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "float64x2 (or auto)" in err and "0.50000000000000000001" in err
    assert main([*common, "--dtype", "auto", "--out", str(tmp_path / "b.npz")]) == 0
    meta = load_grid(tmp_path / "b.npz").meta
    assert meta["dtype"] == "float64x2"
    assert [meta["window"][k] for k in ("x_min", "x_max", "y_min", "y_max")] == [
        0.5, deep[1], 1.0, deep[3]
    ]  # fmt: skip


def test_config_reads_quoted_windows_exactly_and_checks_the_precision():
    from pathlib import Path

    from trainability.study.config import ConfigError, load_study

    root = Path(__file__).resolve().parents[1]
    deep = ["0.5", "0.50000000000000000001", "1", "1.00000000000000000001"]
    config = {"conditions": {"deep": {"width": 4, "steps": 20, "window": deep}}}
    schema = root / "workflow" / "schemas" / "config.schema.yaml"
    with pytest.raises(ConfigError, match="float64x2") as err:
        load_study(config, schema)
    assert "\n" not in str(err.value)
    _, study = load_study({**config, "engine": {"dtype": "auto"}}, schema)
    window = study["deep"].window
    assert window.x_max == Fraction(deep[1]) and window.to_dict()["x_max"] == deep[1]
    bad = {"conditions": {"deep": {"window": ["0.5", "0.5x", "1", "2"]}}}
    with pytest.raises(ConfigError):
        load_study(bad, schema)
    momentum = {"deep": {"window": deep, "optimizer": "momentum"}}
    with pytest.raises(ConfigError, match="optimizer momentum"):
        load_study({"conditions": momentum, "engine": {"dtype": "float64x2"}}, schema)


def test_tiles_are_the_whole_bit_for_bit():
    from trainability.core.grid import merge_tiles

    cond = Condition(**SMALL)  # compiled by the agreement test already
    window = Window(-1.0, 2.0, -1.0, 2.0, 6, 5)
    whole = sweep(cond, window, X2)
    parts = [sweep(cond, window, X2, tile=(i, j), tiles=(2, 2)) for i in (0, 1) for j in (0, 1)]
    merged = merge_tiles(parts)
    assert np.array_equal(merged.values, whole.values)
    assert np.array_equal(merged.converged, whole.converged)


@pytest.mark.parametrize(
    "written, stored",
    [
        ("0.25", 0.25),  # a float prints as the same decimal: stored as that float
        ("-3", -3.0),
        ("0.1", 0.1),
        ("0.10000000000000000001", Fraction("0.10000000000000000001")),  # past float64: exact
        ("-1.5e-30", -1.5e-30),
    ],
)
def test_bounds_are_read_exactly_from_decimal_text(written, stored):
    from trainability.core.coordinates import coordinate

    value = coordinate(written)
    assert value == stored and type(value) is type(stored)
    assert exact(value) == Fraction(written)
    assert Fraction(text(value)) == Fraction(written)


def test_a_float_bound_beside_an_exact_one_is_its_decimal():
    """2.3018 as a float is 2.30180000000000006…; beside an exact bound it stands for 2.3018,
    so a row 1e-20 above it is a window and one 1e-20 below it is not (the bisection of
    `fractal_end` at a float height needs the first)."""
    c, tiny = Fraction("2.3018"), Fraction(1, 10**20)
    assert Fraction(2.3018) > c + tiny  # the float's own value lies above both
    window = Window(Fraction(1), 1 + tiny, 2.3018, c + tiny, 3, 2)
    assert Fraction(window.to_dict()["y_max"]) - exact(window.y_min) == tiny
    with pytest.raises(ValueError, match="y_min < y_max"):
        Window(Fraction(1), 1 + tiny, 2.3018, c - tiny, 3, 2)


def test_float64x2_guard_names_its_limit():
    cond = Condition(**SMALL)
    c = Fraction("0.3")
    window = Window(c, c + Fraction(1, 10**33), c, c + 1, 16, 2)
    with pytest.raises(PrecisionError, match="closer than float64x2 resolves"):
        sweep(cond, window, X2)
