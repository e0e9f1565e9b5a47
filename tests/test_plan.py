"""The cost estimate (trainability.study.plan): the jobs it counts against Snakemake's DAG, the
budget and memory refusals before any job, and the hard limits of the arithmetic. Its time
against a tiny study timed on this machine is a benchmark (benchmarks/plan.py), not a test."""

import json
import re

import pytest
import yaml
from conftest import REPO, snakemake

from trainability.core.condition import Condition
from trainability.study.calibration import (
    FALLBACK,
    Calibration,
    calibration_key,
    load_calibration,
    network_size,
    save_calibration,
)
from trainability.study.config import ConfigError, load_study
from trainability.study.plan import (
    Work,
    check_study,
    estimate,
    resolution_workloads,
    workloads,
)

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
TEST = yaml.safe_load((REPO / "config" / "test.yaml").read_text())


@pytest.fixture(autouse=True)
def no_cached_calibration(tmp_path, monkeypatch):
    """Every test starts without a cached calibration (the built-in fallback figures)."""
    monkeypatch.setenv("TRAINABILITY_CALIBRATION", str(tmp_path / "calibration.json"))


def copy(config):
    return json.loads(json.dumps(config))


def dag_jobs(result) -> int:
    return int(re.search(r"^total\s+(\d+)$", result.stdout, re.M).group(1))


def test_the_estimate_counts_every_job_of_the_dag(tmp_path):
    """Every job Snakemake would run is counted (each pays a start-up): the grid list is whole.
    The test study, plus a condition drawn in a group figure and a zoom onto a fixed target."""
    raw = copy(TEST)
    raw["conditions"]["adam_lr"] = {
        "group": "optimizers",
        "optimizer": "adam",
        "phase_space": "custom",
        "x_axis": "lr",
        "y_axis": "beta2",
        "y_scale": "linear",
        "window": [0, 2.5, 0.5, 0.999],
        "tiles": [1, 2],
        "zoom": {"depth": 0.5, "target": [1.0, 0.7], "outer_width": 0.4, "tiles": [2, 1]},
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    config, study = load_study(raw, SCHEMA)
    counted = sum(work.jobs for work in workloads(config, study))
    assert counted == dag_jobs(snakemake(tmp_path, "-n", "--cores", "1", configfile=path))


def test_the_resolution_study_plan_counts_every_job_of_its_target(tmp_path):
    """`plan --target resolution_study` lists the grids and jobs Snakemake runs for the named
    target: the full grids, the label-only ones and their checks, the panel where a resolution
    is its own (tiles [1, 2] there, the study's [2, 2] elsewhere), the table."""
    raw = copy(TEST)
    raw["resolution_study"] = {
        "resolutions": [16, 24, 40],  # 24: the panel itself
        "tiles": [2, 2],
        "labels_only": {"conditions": ["tanh_fullbatch"], "resolutions": [24, 32]},
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    config, study = load_study(raw, SCHEMA)
    works = resolution_workloads(config, study)
    owners = [w.owner for w in works if w.regime != "none"]
    assert owners == [f"tanh_fullbatch at {n}²" for n in (16, 24, 24, 32, 32, 40)]
    counted = sum(work.jobs for work in works)
    dry = snakemake(tmp_path, "-n", "--cores", "1", "resolution_study", configfile=path)
    assert counted == dag_jobs(dry) == 5 + 6 + 6 + 5 + 1  # 16, 24 and 32 with checks, 40, table
    for report in (False, True):  # report: true puts it in the default target, panel excepted
        raw["resolution_study"]["report"] = report
        path.write_text(yaml.safe_dump(raw))
        config, study = load_study(raw, SCHEMA)
        counted = sum(work.jobs for work in workloads(config, study))
        dry = snakemake(tmp_path, "-n", "--cores", "1", configfile=path)
        assert counted == dag_jobs(dry)


def test_label_only_conditions_must_have_a_panel():
    raw = copy(TEST)
    raw["resolution_study"]["labels_only"] = {"conditions": ["tanh_minibatch"], "resolutions": [8]}
    with pytest.raises(ConfigError, match="labels_only.conditions: .tanh_minibatch. is not") as err:
        load_study(raw, SCHEMA)
    assert len(str(err.value).splitlines()) == 1


TYPO = copy(TEST)
TYPO["defaults"]["resolution"] = 10_000_000  # one extra zero... or five


def test_a_typo_in_the_resolution_is_refused_before_any_job_with_its_estimate(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(TYPO))
    result = snakemake(tmp_path, "-n", "--cores", "1", configfile=path, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "config error" in line]
    assert len(lines) == 1, result.stderr
    assert "budget.core_hours" in lines[0] and "Traceback" not in result.stderr
    hours = float(
        re.search(r"needs about ([\d.e+,]+) core-hours", lines[0]).group(1).replace(",", "")
    )
    assert hours > 1e6  # 10^14 pixels x 40 steps: core-centuries at any plausible speed
    assert not (tmp_path / "results").exists()


def test_raising_the_budget_lets_the_same_config_through_to_a_dry_run(tmp_path):
    config = copy(TYPO)
    config["budget"] = {"core_hours": 1e15}
    with pytest.raises(ConfigError) as err:  # its tiles would need petabytes: the next limit
        check_study(*load_study(config, SCHEMA))
    assert "budget.memory_gib" in str(err.value) and "conditions.tanh_fullbatch" in str(err.value)
    config["budget"]["memory_gib"] = 1e9
    path = tmp_path / "raised.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "-n", "--cores", "1", configfile=path)
    assert "results/tanh_fullbatch/tiles/overview/1_0.npz" in result.stdout
    assert not (tmp_path / "results").exists()


def test_a_run_prints_the_cost_block_once(tmp_path):
    config = {
        "defaults": {"width": 4, "steps": 10, "window": [-1, 4, 0, 4], "resolution": 8},
        "conditions": {"tanh_fullbatch": {}},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(
        tmp_path, "--cores", "1", "results/tanh_fullbatch/tiles/overview/0_0.npz", configfile=path
    )
    assert result.stderr.count("cost of this study") == 1
    assert "built-in fallback figures" in result.stderr  # says where its figures come from


def test_the_calibration_is_cached_per_engine_and_the_fallback_says_so(tmp_path):
    engine = {"name": "fused", "dtype": "float64", "chunk": None}
    cal, source = load_calibration(engine)
    assert cal is FALLBACK and "fallback" in source
    measured = Calibration(**{**FALLBACK.__dict__, "measured": "just now"})
    save_calibration(engine, "cpu", measured)
    assert load_calibration(engine) == (measured, "measured just now")
    other, source = load_calibration({**engine, "name": "autodiff"})
    assert other is FALLBACK and "fallback" in source
    gpu, source = load_calibration(engine, "gpu")
    assert gpu == measured and source.startswith("no GPU figure measured, CPU figures used")
    # a GPU node measured it (`plan --recalibrate` there): any host's GPU figure will do
    path = tmp_path / "calibration.json"
    entries = json.loads(path.read_text())
    (key,) = entries
    suffix = calibration_key(engine, "gpu").split(" | ", 2)[2]
    entries[f"gpu-node-7 | some CPU x64 | {suffix}"] = {**entries[key], "measured": "on a GPU"}
    path.write_text(json.dumps(entries))
    assert load_calibration(engine, "gpu")[1] == "measured on a GPU"


def test_time_scales_with_pixels_steps_and_network_and_regimes_differ():
    cal = FALLBACK
    ref = network_size(Condition())  # the paper's network: N = 272 points, 272 parameters
    assert ref == 272 * 272 and cal.relative_step(ref) == pytest.approx(1.0)
    deep = Work("x", "grid", pixels=128 * 100, steps=300, regime="deep", size=ref)
    assert cal.seconds(deep) == pytest.approx(128 * 100 * 300 / cal.rates["deep"])
    assert cal.seconds(Work(**{**deep.__dict__, "grids": 3})) == pytest.approx(
        3 * cal.seconds(deep)
    )
    # overview: the retired fraction f stops at step t_bar, so live(T) = 1 - f + f t_bar / T
    overview = Work(**{**deep.__dict__, "regime": "overview"})
    live = 1 - cal.retired + cal.retired * cal.retire_step / 300
    assert cal.seconds(overview) == pytest.approx(
        cal.seconds(deep) * live * cal.rates["deep"] / cal.rates["overview"]
    )
    # the products dominate large networks: r(s) grows linearly beyond the largest measured
    big, bigger = cal.relative_step(10**7), cal.relative_step(2 * 10**7)
    slope = (cal.sizes[-1][1] - cal.sizes[-2][1]) / (cal.sizes[-1][0] - cal.sizes[-2][0])
    assert bigger - big == pytest.approx(10**7 * slope / cal.sizes[-1][1])
    # a tile of 1 pixel still computes a whole chunk of 128
    one = Work(**{**deep.__dict__, "pixels": 1})
    assert cal.seconds(one) == pytest.approx(cal.seconds(deep) / 100)


@pytest.mark.parametrize("arithmetic", ["doubledouble", "auto"])
def test_float64x2_sweeps_are_priced_at_their_measured_factor_of_float64(arithmetic):
    """engine.dtype float64x2 (or auto, as an upper bound): every sweep's training costs its
    arithmetic's factor times the float64 figure (perturbation where engine.arithmetic takes
    it for the condition, else double-double); toys and the Lyapunov grid are float64."""
    from trainability.study.plan import FLOAT64X2_FACTOR, PERTURBATION_FACTOR, float64x2_factor

    base = copy(TEST)
    base["conditions"] = {k: base["conditions"][k] for k in ("tanh_minibatch", "relu_auto_zoom")}
    del base["resolution_study"]  # it names tanh_fullbatch, left out here
    config, study = load_study(base, SCHEMA)
    plain = estimate(config, study, FALLBACK, "test")
    for dtype in ("float64x2", "auto"):
        engine = {"dtype": dtype, "arithmetic": arithmetic}
        config, study = load_study({**base, "engine": engine}, SCHEMA)
        extended = estimate(config, study, FALLBACK, "test")
        for a, b in zip(plain.works, extended.works, strict=True):
            factor = 1.0  # toys, Lyapunov: float64
            if a.owner in study:  # a condition's sweeps
                factor = float64x2_factor(study[a.owner].condition, arithmetic)
            assert extended.train_seconds(b) == pytest.approx(factor * plain.train_seconds(a))
    named = {float64x2_factor(study[k].condition, arithmetic) for k in base["conditions"]}
    assert named == {FLOAT64X2_FACTOR if arithmetic == "doubledouble" else PERTURBATION_FACTOR}
    assert {"lyapunov", "toys.strip"} <= {w.owner for w in plain.works if plain.train_seconds(w)}


def test_the_calibration_times_float64_for_double_double_and_the_engine_default_otherwise():
    from trainability.study.calibration import _timed_dtype

    assert [_timed_dtype(d) for d in ("float64x2", "auto", "float64", "float32")] == [
        "float64", "float64", "float64", "float32"
    ]  # fmt: skip


def test_a_job_over_the_memory_limit_is_refused_naming_the_condition():
    config = copy(TEST)
    config["budget"] = {"memory_gib": 0.1}
    config, study = load_study(config, SCHEMA)
    with pytest.raises(ConfigError) as err:
        check_study(config, study)
    message = str(err.value)
    assert "\n" not in message and "budget.memory_gib = 0.1" in message
    assert re.search(r"needs about [\d.]+ MiB", message)


@pytest.mark.parametrize(
    "edit, words",
    [
        (  # float64 cannot resolve 1e-14 decades at 64 pixels around 10^3
            lambda c: c["conditions"]["tanh_fullbatch"]["zoom"].update(depth=15, target=[3.0, 3.0]),
            ["conditions.tanh_fullbatch", "float64"],
        ),
        (lambda c: c["defaults"].update(tiles=[25, 1]), ["conditions.tanh_fullbatch", "tiles"]),
        (
            lambda c: c["conditions"]["tanh_fullbatch"]["zoom"].update(tiles=[1, 99]),
            ["conditions.tanh_fullbatch", "tiles"],
        ),
        (  # noise keys fold in uint32 pixel indices: 70000^2 > 2^32
            lambda c: c["followup"]["base"].update(resolution=70_000),
            ["perturbations_1", "32 bits"],
        ),
        (lambda c: c["defaults"].update(steps=2**31), ["int32", "steps"]),
    ],
    ids=["float64-window", "tiles-over-grid", "zoom-tiles-over-grid", "noise-index", "steps"],
)
def test_hard_limits_stay_errors_whatever_the_budget(edit, words):
    config = copy(TEST)
    config["budget"] = {"core_hours": 1e300, "memory_gib": 1e300}
    edit(config)
    with pytest.raises(ConfigError) as err:
        config, study = load_study(config, SCHEMA)
        check_study(config, study)
    assert "\n" not in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_plan_prints_the_paper_study_within_its_explicit_budget(capsys):
    from trainability.cli import main

    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    assert set(paper["budget"]) == {"core_hours", "memory_gib"}
    args = ["plan", "--no-calibrate", "--cores", "256", "--configfile"]
    assert main([*args, str(REPO / "config" / "paper.yaml")]) == 0
    out = capsys.readouterr().out
    assert "within budget" in out and "tanh_fullbatch" in out
    hours = float(re.search(r"([\d.e+]+) core-hours of CPU time", out).group(1))
    assert 1e3 < hours < paper["budget"]["core_hours"]
    assert main([*args, str(REPO / "config" / "test.yaml"), "--gpu"]) == 0
    assert "no GPU figure measured, CPU figures used" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adam"])
def test_the_memory_of_optimizer_state_is_its_declared_arrays(name):
    """Per pixel, the sweep's network memory grows over gradient descent's by the optimizer
    state's arrays × the weights' size in float64: the arrays its ``init`` gives."""
    import numpy as np

    from trainability.study.plan import _sweep_arrays
    from trainability.train.optimizers import optimizer, state_arrays

    cond = Condition(width=5, depth=3, target_dim=2, optimizer=name)
    pixels, chunk = 100, 16
    weights = tuple(np.zeros((7, a, b)) for a, b in cond.layer_shapes)
    per_pixel = sum(s[0].size for s in optimizer(cond, {}).init(weights))
    assert per_pixel == state_arrays(name) * cond.n_params
    extra = (
        _sweep_arrays(cond, pixels, 10.0, chunk)["network"]
        - _sweep_arrays(cond.replace(optimizer="gd"), pixels, 10.0, chunk)["network"]
    )
    assert extra == (pixels + chunk) * 8 * per_pixel
