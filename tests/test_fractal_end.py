"""Where the fractal ends: d*(T) by its rule on synthetic estimates, on a quadratic Koch island
that is smooth below a known scale, the Lyapunov prediction, the config's refusals, and the
study's table and figure from a tiny run of the workflow."""

import math
import re

import numpy as np
import pytest
import yaml
from conftest import REPO, snakemake
from test_dimension import rasterise

from trainability.analysis.dimension import Dimension2D
from trainability.analysis.tables import read_table
from trainability.study.config import ConfigError, load_study
from trainability.zoom.fractal_end import (
    boundary_exponent,
    predicted_depth,
    smooth_depth,
    study_rows,
)

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _estimate(slope, half=0.05, refused=None) -> Dimension2D:
    if refused:
        return Dimension2D(None, None, None, None, 0.95, [], [], [], 1, [], refused, refused)
    return Dimension2D(slope, (slope - half, slope + half), None, None, 0.95, [], [], [], 1, [0])


@pytest.mark.parametrize(
    ("slopes", "expected"),
    [
        ([1.6, 1.5, 1.3, 1.0, 1.02], ("reached", 3.0, 2.0)),
        ([1.6, 1.0, 1.5, 1.0, 0.98], ("reached", 3.0, 2.0)),  # a straight-looking one above
        ([1.6, 1.5, 1.4, 1.3, 1.2], ("deeper", None, 4.0)),
        ([1.0, 1.0, 0.9, 1.0, 1.0], ("above", 0.0, None)),
        ([1.6, "refused", 1.5, 1.0, "refused"], ("reached", 3.0, 2.0)),
        (["refused"] * 5, ("unmeasured", None, None)),
    ],
)
def test_smooth_depth_rule(slopes, expected):
    estimates = [_estimate(None, refused="not enough scales: small") if s == "refused"
                 else _estimate(s) for s in slopes]  # fmt: skip
    found = smooth_depth(np.arange(5.0), estimates, 1.1)
    assert (found.status, found.d_star, found.d_above) == expected


def test_the_interval_decides_not_the_estimate():
    found = smooth_depth(np.arange(2.0), [_estimate(1.6), _estimate(1.05, half=0.1)])
    assert found.status == "deeper"  # 1.05 ± 0.1 reaches above 1.1: not sure it is smooth


def quadratic_koch(iterations: int) -> np.ndarray:
    """Vertices of the quadratic Koch island (dimension 3/2) on the unit square [0, 1]²: each
    segment becomes 8 of a quarter its length. It is self-similar about the corner (0, 0) with
    ratio 4, down to its segments, 4^-iterations long; below that it is two straight lines."""
    z = np.array([0, 1, 1 + 1j, 1j], dtype=complex)
    for _ in range(iterations):
        a, b = z, np.roll(z, -1)
        d = (b - a) / 4
        pts = [a, a + d]
        for turn in (1j, 1, -1j, -1j, 1, 1j):
            pts.append(pts[-1] + d * turn)
        z = np.stack(pts, axis=1).ravel()
    return np.stack([z.real, z.imag], axis=1)


def _koch_zoom(level: int, keyframes: int, n: int = 128):
    """Keyframes n² about the island's corner, 1, 1/4, 1/16, … wide: d*'s study rows."""
    island = quadratic_koch(level)
    widths = [4.0**-k for k in range(keyframes)]
    fields = [np.where(rasterise((island + w / 2) / w * n, n), -1.0, 1.0) for w in widths]
    windows = [(-w / 2, w / 2, -w / 2, w / 2) for w in widths]
    lam = boundary_exponent(np.full((2, 2), 0.1), np.full((2, 2), 100), 100)
    return study_rows(100, windows, fields, 1.0, lam, n_boot=50)


def test_a_koch_island_ends_where_its_segments_begin():
    """The island's boundary is fractal down to its segments (4^-level wide) and two straight
    lines below: d* lies between the keyframe 4 segments wide and the one a segment wide, and
    one more level of the construction moves it exactly one keyframe (log10 4) deeper."""
    summary, rows = _koch_zoom(4, 6)
    assert [r["depth"] for r in rows] == pytest.approx([k * math.log10(4) for k in range(6)])
    assert summary["status"] == "reached"
    four, one = math.log10(4**4 / 4), math.log10(4**4)  # keyframes 4 segments and 1 wide
    assert four - 1e-9 <= summary["d_star"] <= one + 1e-9
    assert not any(r["smooth"] for r in rows if r["depth"] < summary["d_star"] - 1e-9)
    finer, _ = _koch_zoom(5, 7)
    assert finer["d_star"] == pytest.approx(summary["d_star"] + math.log10(4))
    assert summary["exponent"] == pytest.approx(0.1)
    assert summary["predicted"] == pytest.approx(predicted_depth(0.1, 100, 1.0))


def test_prediction_and_boundary_exponent():
    assert predicted_depth(0.0, 100, 9.0) == pytest.approx(math.log10(9 * math.log(10)))
    assert predicted_depth(math.log(10), 7, 1 / math.log(10)) == pytest.approx(7.0)
    lam = np.array([[0.1, 0.2], [0.3, 5.0]])
    steps = np.array([[100, 100], [100, 12]])  # the last run blew up at step 12: left out
    got = boundary_exponent(lam, steps, 100)
    assert got["exponent"] == pytest.approx(0.2) and got["exponent_pixels"] == 3
    assert math.isnan(boundary_exponent(lam, steps * 0, 100)["exponent"])


def _study(block, engine="float64"):
    config = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    config["fractal_end"] = block
    config["engine"] = {"dtype": engine}
    return load_study(config, SCHEMA)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"condition": "nope", "steps": [10], "depth": 2}, "'nope' is not a condition"),
        ({"condition": "tanh_seeds", "steps": [10], "depth": 2}, "is not a condition"),
        ({"condition": "tanh_fullbatch", "steps": [10], "first": 3, "depth": 2}, "first"),
        ({"condition": "tanh_fullbatch", "steps": [10, 20], "depth": [2]}, "1 values for 2"),
        ({"condition": "tanh_fullbatch", "steps": [10], "depth": 20}, "float64x2"),
        ({"condition": "tanh_fullbatch", "steps": [0], "depth": 2}, "steps.0"),
        ({"condition": "tanh_fullbatch", "steps": [10], "depth": 2, "smooth": 1}, "smooth"),
        ({"condition": "tanh_fullbatch", "steps": [10], "depth": 35, "dtype": "auto"},
         "float64x2 resolves"),
        ({"condition": "adam_beta2", "steps": [10], "depth": 2}, "log axes"),
    ],
)
def test_bad_fractal_end_blocks_are_refused_in_one_line(block, message):
    with pytest.raises(ConfigError, match=message) as err:
        _study(block)
    assert "\n" not in str(err.value)


def test_a_deep_fractal_end_zoom_is_accepted_with_auto():
    from trainability.study.config import fractal_end_zooms

    config, study = _study({"condition": "tanh_fullbatch", "steps": [10, 20], "first": [1, 2],
                            "depth": 20, "dtype": "auto"})  # fmt: skip
    zooms = fractal_end_zooms(config, study)
    assert list(zooms) == [10, 20] and zooms[20]["condition"]["steps"] == 20
    assert zooms[10]["outer_width"] == "0.5" and zooms[20]["outer_width"] == "0.03125"
    assert zooms[10]["line"] == ["-1", "4", "2"]  # across the overview through its centre


def test_the_arithmetic_is_the_engines_or_its_own_and_checked_before_any_job():
    from trainability.study.config import fractal_end_zooms

    block = {"condition": "tanh_fullbatch", "steps": [10], "depth": 20, "dtype": "auto"}
    config, study = _study(block)
    assert fractal_end_zooms(config, study)[10]["arithmetic"] == "doubledouble"  # the engine's
    config, study = _study({**block, "arithmetic": "perturbation"})
    assert fractal_end_zooms(config, study)[10]["arithmetic"] == "perturbation"
    config = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    config["conditions"]["sigmoid"] = {**config["conditions"]["tanh_fullbatch"],
                                       "activation": "sigmoid"}  # fmt: skip
    config["fractal_end"] = {**block, "condition": "sigmoid", "arithmetic": "perturbation"}
    with pytest.raises(ConfigError, match="arithmetic perturbation does not support activation"):
        load_study(config, SCHEMA)


TINY = {  # the test study's tanh condition at 10 and 20 steps, 16² keyframes
    "condition": "tanh_fullbatch",
    "steps": [10, 20],
    "line": [-1, 4, 1.5],  # crosses the boundary at both lengths
    "first": 1,
    "depth": 4,
    "resolution": 16,
    "lyapunov": {"resolution": 4, "width": 1.0e-4},
}


def test_fractal_end_study_reports_what_it_cannot_measure(tmp_path):
    """The named target on the test study: 16² keyframes are too small to measure, and the
    table and figure say so instead of printing numbers."""
    config = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({**config, "fractal_end": TINY}))
    snakemake(tmp_path, "--cores", "2", "fractal_end", configfile=tmp_path / "study.yaml")
    summary = read_table(tmp_path / "results" / "tables" / "fractal_end.csv")
    assert list(summary["steps"]) == ["10", "20"]
    assert (summary["status"] == "unmeasured").all() and (summary["d_star"] == "").all()
    assert all(float(v) > 0 for v in summary["exponent_pixels"])
    rows = read_table(tmp_path / "results" / "tables" / "fractal_end_keyframes.csv")
    assert rows["refused"].str.startswith("not enough scales").all()
    assert (rows["slope"] == "").all()
    assert (tmp_path / "results" / "figures" / "fractal_end.png").stat().st_size > 10_000
    dry = snakemake(tmp_path, "-n", "--cores", "1", configfile=tmp_path / "study.yaml")
    assert not re.search(r"^(local)?rule fractal_end", dry.stdout + dry.stderr, re.M)  # not in all
