"""The finite-size extrapolation of box-counting dimensions, validated on shapes of known
dimension (``tests/fractals.py``) before it is believed; its refusals; the verdict against the
paper's value; the ``dimension --extrapolate`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from fractals import GENERATORS, TRUE_DIMENSION
from scipy.stats import t as student

from trainability.analysis.dimension import estimate_2d
from trainability.analysis.extrapolation import (
    MIN_RESOLUTIONS,
    OMEGA,
    TOO_FEW_RESOLUTIONS,
    extrapolate,
    extrapolate_images,
)
from trainability.analysis.tables import resolution_summary, verdict
from trainability.cli import main

RESOLUTIONS = (64, 128, 256, 512, 1024, 2048)  # the study's resolutions, and one more


@pytest.fixture(scope="module")
def raw():
    """The paper's estimate (None if refused) and its interval for each shape at each
    resolution: one object per shape, drawn at every resolution (computed once)."""
    out = {}
    for name, draw in GENERATORS.items():
        estimates = [estimate_2d(draw(n)) for n in RESOLUTIONS]
        out[name] = ([e.median_local_slope for e in estimates], [e.median_ci for e in estimates])
    return out


CASES = [(name, 1024) for name in GENERATORS] + [
    (name, 2048) for name in ("koch", "minkowski", "rabbit", "smooth")
]


@pytest.mark.parametrize(("name", "top"), CASES)
def test_the_true_dimension_lies_in_the_extrapolated_interval(raw, name, top):
    m = RESOLUTIONS.index(top) + 1
    est, ci = raw[name][0][:m], raw[name][1][:m]
    assert est[0] is None  # 64 px is refused by the estimator and left out of the fit
    result = extrapolate(RESOLUTIONS[:m], est, ci)
    true = TRUE_DIMENSION[name]
    low, high = result.interval
    assert low <= true <= high, f"{name}: {true:.4f} outside [{low:.3f}, {high:.3f}]"
    # either the extrapolated value is at least as close to the truth as the raw estimate at
    # the largest resolution, or its interval says honestly that it knows less
    closer = abs(result.extrapolated - true) <= abs(est[-1] - true)
    wider = high - low > ci[-1][1] - ci[-1][0]
    assert closer or wider, (name, result.extrapolated, est[-1])
    assert result.used == list(range(1, m)) and result.dof == m - 3


def test_synthetic_sequence_on_the_model_is_recovered_exactly():
    ns = [128, 256, 512, 1024, 2048]
    d_inf, a, h = 1.3, 0.8, 0.01
    est = [d_inf - a * n**-OMEGA for n in ns]
    result = extrapolate(ns, est, [(d - h, d + h) for d in est])
    assert result.extrapolated == pytest.approx(d_inf, abs=1e-12)
    assert result.slope == pytest.approx(a, abs=1e-9)
    assert result.scatter == 0.0  # the points lie on the model: nothing beyond the intervals
    # equal variances sigma^2 = (h / 1.96)^2: se(intercept)^2 = sigma^2 sum x^2 / (m Sxx)
    x = np.array(ns, dtype=float) ** -OMEGA
    sigma = h / 1.959963984540054
    se = sigma * math.sqrt(np.sum(x**2) / (x.size * np.sum((x - x.mean()) ** 2)))
    half = student.ppf(0.975, x.size - 2) * se
    assert result.interval == pytest.approx((d_inf - half, d_inf + half), abs=1e-9)


def test_scatter_beyond_the_raw_intervals_widens_the_interval():
    ns = [128, 256, 512, 1024]
    d = [1.5 - 0.5 * n**-OMEGA + w for n, w in zip(ns, [0.05, -0.05] * 2, strict=True)]
    tight = extrapolate(ns, d, [(v - 0.001, v + 0.001) for v in d])
    loose = extrapolate(ns, d, [(v - 0.3, v + 0.3) for v in d])
    assert tight.scatter > 0.03  # the wobble is not in the raw intervals: tau takes it up
    assert loose.scatter == 0.0  # wide raw intervals already explain it
    assert tight.interval[1] - tight.interval[0] > 0.1
    # the Paule-Mandel rule: the weighted residuals have m - 2 degrees of freedom
    x = np.array(ns, dtype=float) ** -OMEGA
    w = 1 / ((0.001 / 1.959963984540054) ** 2 + tight.scatter**2)
    fitted = tight.extrapolated - tight.slope * x
    assert np.sum(w * (np.array(d) - fitted) ** 2) == pytest.approx(len(ns) - 2, rel=1e-6)


def test_refuses_fewer_than_three_measured_resolutions():
    ci = [(1.1, 1.3)] * 3
    result = extrapolate([64, 256, 1024], [None, 1.2, 1.2], ci)
    assert result.refused.startswith(TOO_FEW_RESOLUTIONS)
    assert result.extrapolated is None and result.interval is None and result.slope is None
    assert "2 have one (256, 1024 px)" in result.refused
    # one sentence, no number that means nothing
    assert result.refused.count(". ") == 0 and result.refused.endswith(".")
    nothing = extrapolate([32, 48, 64], [None] * 3, [None] * 3)
    assert nothing.refused.endswith("and none has one.")
    # the same resolution twice is one resolution
    twice = extrapolate([128, 128, 512], [1.2, 1.25, 1.3], ci)
    assert twice.refused.startswith(TOO_FEW_RESOLUTIONS)
    assert MIN_RESOLUTIONS == 3


def test_refuses_resolutions_spanning_less_than_a_factor_four():
    ns = [128, 192, 256, 384]
    result = extrapolate(ns, [1.2] * 4, [(1.1, 1.3)] * 4)
    assert result.refused.startswith(TOO_FEW_RESOLUTIONS) and "factor 3" in result.refused
    assert extrapolate([128, 256, 512], [1.2] * 3, [(1.1, 1.3)] * 3).refused is None


def test_extrapolate_bad_inputs():
    with pytest.raises(ValueError, match="one estimate and one interval per resolution"):
        extrapolate([128, 256], [1.2], [None])
    with pytest.raises(ValueError, match="does not contain its estimate"):
        extrapolate([128, 256, 512], [1.2, 1.2, 1.2], [(1.3, 1.4)] * 3)
    with pytest.raises(ValueError, match="finite"):
        extrapolate([128, 256, 512], [1.2, math.nan, 1.2], [None] * 3)
    with pytest.raises(ValueError, match="positive integers"):
        extrapolate([0, 256, 512], [1.2] * 3, [None] * 3)


def test_extrapolate_images_measures_each_image_alone():
    images = [GENERATORS["smooth"](n) for n in (64, 128, 256, 512)]
    raw, result = extrapolate_images(images, n_boot=20)
    assert [r.n_images for r in raw] == [1, 1, 1, 1] and raw[0].refused
    assert result.resolutions == [64, 128, 256, 512] and result.used == [1, 2, 3]
    assert result.interval[0] <= 1.0 <= result.interval[1]


def test_verdict():
    assert verdict((1.2, 1.4), 1.3) == "agrees"
    assert verdict((1.2, 1.4), 1.4) == "agrees"  # the ends belong to the interval
    assert verdict((1.2, 1.4), 1.5) == "lower"  # ours lies entirely below the paper's value
    assert verdict((1.2, 1.4), 1.1) == "higher"
    # an interval holding every dimension a boundary curve can have says nothing either way
    assert verdict((0.24, 2.93), 1.66) == "uninformative"
    assert verdict((1.0, 2.0), 3.0) == "uninformative"
    assert verdict((0.77, 1.98), 1.17) == "agrees"  # 2 is outside: it could have disagreed
    for bad in [(None, 1.3), ((1.4, 1.2), 1.3), ((1.2, math.nan), 1.3), ((1.2, 1.4), None)]:
        with pytest.raises(ValueError):
            verdict(*bad)


def test_cli_extrapolate(tmp_path, capsys):
    paths = []
    for n in (64, 128, 256, 512):
        paths.append(str(tmp_path / f"smooth{n}.npy"))
        np.save(paths[-1], GENERATORS["smooth"](n))
    assert main(["dimension", "--extrapolate", *paths, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [i["resolution"] for i in out["images"]] == [64, 128, 256, 512]
    assert out["images"][0]["median_local_slope"] is None and out["images"][0]["refused"]
    assert out["images"][1]["median_local_slope"] > 0.9
    low, high = out["extrapolated_interval"]
    assert low <= out["extrapolated"] <= high and out["refused"] is None
    # too few resolutions: the raw estimates and the refusal, no number
    assert main(["dimension", "--extrapolate", *paths[:3], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["extrapolated"] is None and out["extrapolated_interval"] is None
    assert out["refused"].startswith(TOO_FEW_RESOLUTIONS)
    assert main(["dimension", "--extrapolate", *paths[:3]]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("64 px: D = not enough scales") and TOO_FEW_RESOLUTIONS in text[-1]
    # without --extrapolate images of different sizes are still one zoom sequence: an error
    assert main(["dimension", *paths]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _row(name, side, d, half, paper):
    return {"condition": name, "title": name, "paper": paper, "resolution": f"{side}x{side}",
            "median_local_slope": d, "median_ci_low": None if d is None else d - half,
            "median_ci_high": None if d is None else d + half}  # fmt: skip


def test_the_resolution_summary_verdicts_follow_from_its_numbers():
    """Rows on D(n) = 1.5 − 2/√n exactly (128, 256, 512 px; 64 px refused): the summary
    extrapolates to 1.5 with an interval around it, and each verdict is what its interval says
    of the paper's value — for the raw estimate at the largest resolution as for the
    extrapolation. A condition with too few resolutions keeps its raw verdict and says why it
    has no extrapolation."""
    exact = {n: 1.5 - 2 / math.sqrt(n) for n in (128, 256, 512)}
    rows = [_row("a", 64, None, 0, 1.5)] + [_row("a", n, d, 0.02, 1.5) for n, d in exact.items()]
    rows += [_row("b", n, 1.2, 0.05, 1.55) for n in (128, 256)]
    a, b = resolution_summary(rows)
    assert a["largest"] == 512 and a["raw"] == pytest.approx(exact[512])
    assert a["extrapolated"] == pytest.approx(1.5, abs=1e-9)
    assert a["extrapolated_ci_low"] <= 1.5 <= a["extrapolated_ci_high"]
    assert a["verdict"] == verdict((a["extrapolated_ci_low"], a["extrapolated_ci_high"]), 1.5)
    assert a["verdict"] == "agrees" and a["raw_verdict"] == "lower"  # 1.41 ± 0.02, below 1.5
    assert b["raw_verdict"] == "lower" and "verdict" not in b
    assert b["refused"].startswith("too few resolutions")
