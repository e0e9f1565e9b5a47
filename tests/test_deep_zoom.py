"""Zooms past float64: keyframes in exact coordinates (distinct, nested, written and read back
with every digit), descent and bisection in exact arithmetic, the video and plots of exact
keyframes, the config's deep zooms; float zooms computed as before."""

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import REPO
from test_float64x2 import _quadratic as linear_regression

from trainability.core.condition import Condition
from trainability.core.coordinates import exact, shifted, text
from trainability.core.precision import PrecisionError, float64x2_axes
from trainability.study.config import ConfigError, load_study
from trainability.train.sweep import Engine, sweep
from trainability.zoom.boundary import locate
from trainability.zoom.paths import (
    ZoomPath,
    boundary_path,
    check_precision,
    concentric_path,
    descend,
    fixed_path,
    levels_for_depth,
    load_path,
    save_path,
)

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
AUTO = Engine(dtype="auto")
SMALL = {"width": 4, "dataset_size": 6, "steps": 20}


def _nested_and_halving(path: ZoomPath, ratio: int = 2, first_exact: int = 0) -> None:
    """Each keyframe strictly inside the one before; from keyframe ``first_exact`` on (computed
    in exact arithmetic) exactly ``ratio`` times narrower."""
    for k, (a, b) in enumerate(zip(path.bounds, path.bounds[1:], strict=False)):
        a, b = [exact(v) for v in a], [exact(v) for v in b]
        assert a[0] < b[0] < b[1] < a[1] and a[2] < b[2] < b[3] < a[3]  # strictly inside
        if k >= first_exact:
            assert (a[1] - a[0]) == ratio * (b[1] - b[0]) == ratio * (b[3] - b[2])


def test_a_zoom_30_decades_deep_has_distinct_nested_exact_keyframes(tmp_path):
    levels = levels_for_depth(30)
    path = fixed_path(("1.1238", "2.3018"), 9.0, levels)
    assert path.exact and path.levels == levels == 101
    _nested_and_halving(path)
    windows = [path.window(k, 16) for k in range(levels)]
    assert len({w.bounds for w in windows}) == levels  # every keyframe a distinct window
    deepest = windows[-1]
    assert exact(deepest.x_max) - exact(deepest.x_min) == Fraction(9, 2**100)  # 7.1e-30
    assert (exact(deepest.x_min) + exact(deepest.x_max)) / 2 == Fraction("1.1238")
    with pytest.raises(PrecisionError, match="float64x2"):
        deepest.axes()  # float64 cannot draw it
    x, y = float64x2_axes(deepest)  # double-double can: 16 distinct learning rates a side
    assert len({tuple(p) for p in x.tolist()}) == 16
    save_path(tmp_path / "path.json", path)
    loaded = load_path(tmp_path / "path.json")
    assert loaded == path and loaded.bounds == path.bounds  # every digit survives the file
    assert loaded.to_dict()["keyframes"][-1]["bounds"][0] == text(deepest.x_min)


def test_float_inputs_go_exact_where_float64_cannot_draw_the_keyframes():
    deep = fixed_path((1.1238, 2.3018), 9.0, levels_for_depth(30), resolution=16)
    assert deep == fixed_path(("1.1238", "2.3018"), 9, levels_for_depth(30))
    shallow = fixed_path((1.1238, 2.3018), 6.0, 20, resolution=16)  # float64 resolves it
    assert shallow == fixed_path((1.1238, 2.3018), 6.0, 20) and not shallow.exact
    for k, bounds in enumerate(shallow.bounds):  # the float formula, as always
        half = 6.0 / 2.0**k / 2
        assert bounds == (1.1238 - half, 1.1238 + half, 2.3018 - half, 2.3018 + half)


def test_keyframes_several_doublings_apart():
    path = fixed_path(("0.5", "1.5"), 9, levels_for_depth(26, 20), doublings=20)
    assert path.levels == 6  # 0, 6.0, 12.0, 18.1, 24.1, 30.1 decades below 9
    _nested_and_halving(path, 2**20)
    assert math.log10(9 / path.width(path.levels - 1)) >= 26


def test_an_exact_panel_zooms_out_exactly_and_is_the_last_keyframe():
    c, h = Fraction("13.2997623100000000000000001"), Fraction(1, 10**24)
    panel = (c - h, c + h, c - h, c + h)
    path = concentric_path(panel, 6.0)
    assert path.bounds[-1] == panel and path.exact
    _nested_and_halving(path)
    assert path.width(0) >= 6.0 > path.width(1)


def test_check_precision_takes_the_zoom_dtype():
    with pytest.raises(PrecisionError, match="float64x2"):
        check_precision((1.12, 2.30), 9.0, levels_for_depth(30), 16)
    check_precision((1.12, 2.30), 9.0, levels_for_depth(30), 16, dtype="auto")
    with pytest.raises(PrecisionError, match="float64x2 resolves"):
        check_precision((1.12, 2.30), 9.0, levels_for_depth(33), 16, dtype="auto")


def _quadratic():
    """Linear regression on one data point (depth 1, identity): gradient descent diverges iff
    η > η* = n²/|x|², an exact rational; its log10 to 50 digits (tests/test_float64x2.py)."""
    cond, _, boundary = linear_regression()
    return cond, boundary


@pytest.mark.parametrize("arithmetic", ["doubledouble", "perturbation"])
def test_bisection_brackets_an_analytic_boundary_to_1e18_decades(arithmetic):
    cond, boundary = _quadratic()
    line = (boundary - Fraction(9, 10), boundary + Fraction(4, 10), -0.5)  # 9/13 of the way:
    engine = Engine(dtype="auto", arithmetic=arithmetic)  # never on a pixel of any level
    point = locate(cond, line, Fraction(1, 10**18), engine)
    assert point.hi - point.lo <= Fraction(1, 10**18)
    slack = Fraction(1, 10**29)  # the pixels' learning rates: double-doubles, 2⁻¹⁰⁶ relative
    assert point.lo - slack <= boundary <= point.hi + slack
    assert [level["dtype"] for level in point.levels][:3] == ["float64"] * 3
    assert point.levels[-1]["dtype"] == "float64x2"  # past float64 below ~1e-14 decades
    with pytest.raises(ValueError, match="same label at both ends"):
        locate(cond, (boundary + 1, boundary + 2, -0.5), Fraction(1, 10**3))


def test_bisection_stops_at_a_bracket_end_on_the_boundary():
    """On this line the boundary is 3/4 of the way, exactly on a pixel of every level (its lr
    1.2e-34 below η*). Perturbation labels that pixel to within ~1e-31 of η* only: at level 14
    it flips, the row has one label, and the search returns that end, which is the boundary."""
    cond, boundary = _quadratic()
    line = (boundary - 1, boundary + Fraction(1, 3), -0.5)
    engine = Engine(dtype="auto", arithmetic="perturbation")
    point = locate(cond, line, Fraction(1, 10**18), engine)
    assert "changed label" in point.levels[-1]["stopped"]
    assert point.x == point.lo == boundary and point.hi - point.lo < Fraction(1, 10**16)


def test_boundary_path_centres_exact_keyframes_on_the_boundary():
    cond, boundary = _quadratic()
    line = (boundary - 1, boundary + Fraction(1, 3), Fraction(-1, 2))
    path = boundary_path(cond, line, 4.0, levels_for_depth(20, 10), doublings=10,
                         resolution=8, engine=AUTO)  # fmt: skip
    assert path.exact and path.levels == 8
    _nested_and_halving(path, 2**10)
    deepest = path.window(path.levels - 1, 8)
    pixel = (exact(deepest.x_max) - exact(deepest.x_min)) / 7
    assert abs(exact(path.centres[-1][0]) - boundary) <= pixel / 16
    grid = sweep(cond, deepest, AUTO)  # 3.4e-21 decades: both phases, split at the boundary
    assert grid.meta["dtype"] == "float64x2"
    assert grid.converged[:, :4].all() and not grid.converged[:, 4:].any()
    assert "boundary_point" in path.notes[0]


def test_descend_goes_on_in_exact_arithmetic_past_float64():
    """From a float keyframe 4e-14 decades wide at a tanh boundary point, four halvings: the
    deeper ones are exact (float64 cannot draw them at 64 pixels) and each holds both phases."""
    cond = Condition(**SMALL)
    point = locate(cond, (0, 3, 1), Fraction(1, 10**15), AUTO)
    start = fixed_path((float(point.x), float(point.y)), 4e-14, 1)  # a float keyframe
    path = descend(cond, start, 5, 8, AUTO, resolution=64)  # searched at 8², keyframes of 64²
    assert all(isinstance(b, float) for b in path.bounds[0])
    assert any(isinstance(b, Fraction) for b in path.bounds[-1])  # 2.5e-15 decades: exact
    with pytest.raises(PrecisionError):
        path.window(path.levels - 1, 64).axes()  # float64 could not draw it
    exact_ones = [any(isinstance(v, Fraction) for v in b) for b in path.bounds]
    first_exact = exact_ones.index(True)
    _nested_and_halving(path, first_exact=first_exact - 1)  # its parent halved exactly
    for k in range(path.levels):
        labels = sweep(cond, path.window(k, 8), AUTO).converged
        assert labels.any() and not labels.all(), f"keyframe {k} has a single phase"


def test_exact_windows_are_drawn_in_offsets():
    deep = ("1.5", "1.5000000000000000000000004", "2", "2.0000000000000000000000004")
    half = ("1.5000000000000000000000001", "1.5000000000000000000000003", "2",
            "2.0000000000000000000000002")  # fmt: skip
    a, b = shifted([deep, half])
    assert a == (0.0, 4e-25, 0.0, 4e-25) and b == (1e-25, 3e-25, 0.0, 2e-25)
    assert shifted([(0.5, 1.0, 2, 3)]) == [(0.5, 1.0, 2.0, 3.0)]  # floats as they are


def test_video_strip_and_dimension_plot_take_exact_keyframes(tmp_path):
    from trainability.figures.line_plots import save_zoom_dimension
    from trainability.figures.video import save_keyframe_strip, write_zoom_video

    path = fixed_path(("1.5", "2"), 1, 3, doublings=40)  # 1, 9e-13, 8e-25 decades
    rng = np.random.default_rng(0)
    keyframes = [(rng.normal(size=(12, 12)), [text(v) for v in b]) for b in path.bounds]
    frames = write_zoom_video(tmp_path / "z.mp4", keyframes, frames_per_doubling=1, size=16,
                              doublings=40)  # fmt: skip
    assert frames == 40 * 2 + 1
    save_keyframe_strip(tmp_path / "strip.png", keyframes)
    save_zoom_dimension(tmp_path / "dim.png", [v for v, _ in keyframes],
                        [w for _, w in keyframes], "deep")  # fmt: skip
    assert (tmp_path / "strip.png").stat().st_size > 1000


def _config(zoom, engine="float64", **condition):
    config = {
        "defaults": {**SMALL, "resolution": 8, "zoom": zoom},
        "conditions": {"deep": condition},
        "engine": {"dtype": engine},
    }
    return load_study(config, SCHEMA)[1]["deep"]


def test_config_zooms_past_float64_with_zoom_dtype_auto():
    zoom = {"depth": 26, "target": ["0.5", "1.5"], "doublings": 20, "resolution": 8}
    with pytest.raises(ConfigError, match="float64x2") as err:
        _config(zoom)
    assert "\n" not in str(err.value)
    settings = _config({**zoom, "dtype": "auto"}).zoom
    assert settings.levels == 6 and settings.dtype == "auto" and settings.doublings == 20
    assert settings.to_dict()["target"] == [0.5, 1.5]
    assert _config({**zoom, "target": "boundary"}, engine="auto").zoom.dtype == "auto"
    with pytest.raises(ConfigError, match="optimizer momentum"):
        _config({**zoom, "dtype": "auto"}, optimizer="momentum")
    with pytest.raises(ConfigError, match="zoom.doublings 20 needs"):
        _config({**zoom, "target": "auto", "dtype": "auto"})
