"""Zoom paths: halving keyframes, the automatic boundary search, the float64 guard."""

import math

import numpy as np
import pytest
from conftest import REPO

from trainability.core.condition import Condition
from trainability.core.precision import PrecisionError
from trainability.study.config import ConfigError, load_study
from trainability.train.sweep import sweep
from trainability.zoom.paths import (
    ZoomPath,
    auto_path,
    check_precision,
    fixed_path,
    levels_for_depth,
)

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_levels_reach_the_requested_depth():
    assert levels_for_depth(0) == 1
    assert levels_for_depth(10) == 35  # 2**34 = 1.7e10 >= 1e10 > 2**33
    for depth in (0.5, 3, 10, 14.4):
        k = levels_for_depth(depth)
        assert 2.0 ** (k - 1) >= 10**depth > 2.0 ** (k - 2)


def test_keyframes_halve_exactly_and_stay_on_the_path():
    path = fixed_path((1.1238, 2.3018), 6.0, 20)
    for k in range(19):
        assert path.width(k + 1) * 2 == path.width(k)  # exact: powers of two
        a, b = path.window(k, 64), path.window(k + 1, 64)
        assert a.centre() == pytest.approx(b.centre(), abs=1e-15)
        assert b.x_max - b.x_min == pytest.approx((a.x_max - a.x_min) / 2, rel=1e-9)
    assert ZoomPath.from_dict(path.to_dict()) == path


def test_auto_path_is_deterministic_and_every_level_has_boundary():
    cond = Condition(width=6, steps=60)
    args = (cond, (1.5, 2.0), 5.0, 6, 16)
    path = auto_path(*args)
    assert path == auto_path(*args)
    for k in range(path.levels):
        window = path.window(k, 16)
        labels = sweep(cond, window).converged
        assert labels.any() and not labels.all(), f"level {k} has a single phase"
        if k + 1 < path.levels:  # the next keyframe lies inside this one
            inner = path.window(k + 1, 16)
            assert window.x_min <= inner.x_min and inner.x_max <= window.x_max
            assert window.y_min <= inner.y_min and inner.y_max <= window.y_max


def test_precision_guard_knows_the_float64_limit():
    check_precision((1.12, 2.30), 6.0, levels_for_depth(12), 256)
    with pytest.raises(PrecisionError):
        check_precision((1.12, 2.30), 6.0, levels_for_depth(16), 256)


def study(zoom, **defaults):
    config = {
        "defaults": {"width": 6, "steps": 20, "resolution": 16, **defaults, "zoom": zoom},
        "conditions": {"tanh": {}},
    }
    return load_study(config, SCHEMA)[1]["tanh"]


def test_config_builds_zoom_settings():
    assert study({"depth": 0}).zoom is None
    zoom = study({"depth": 3, "target": [1.0, 2.0], "resolution": 32}).zoom
    assert zoom.levels == levels_for_depth(3) and zoom.target == (1.0, 2.0)
    assert zoom.outer_width == 9.0
    assert study({"depth": 1}, window=[-1, 4, 0, 4]).zoom.outer_width == 4.0


def test_config_refuses_a_zoom_past_float64_before_any_job():
    with pytest.raises(ConfigError, match="float64"):
        study({"depth": 16, "target": [1.12, 2.3], "resolution": 256})
    with pytest.raises(ConfigError, match="zoom.target"):
        study({"depth": 2, "target": "deep"})


def test_fixed_path_is_concentric():
    path = fixed_path((0.3, -0.2), 4.0, 5)
    assert np.ptp(np.array(path.centres), axis=0).max() < 1e-15  # bounds c ± w/2, rounded
    assert math.isclose(path.width(4), 0.25)
    assert np.allclose(path.window(4, 8).centre(), (0.3, -0.2))
