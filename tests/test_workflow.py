"""The Snakemake workflow on config/test.yaml: outputs, named targets, bad configs, resuming."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import imageio.v3 as iio
import numpy as np
import pytest
import yaml
from conftest import REPO, snakemake, snakemake_command

from trainability.analysis.tables import read_table
from trainability.core.grid import load_grid

TEST_CONFIG = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
SINGLE = {name: e for name, e in TEST_CONFIG["conditions"].items() if "seeds" not in e}


def test_study_outputs(test_study):
    results = test_study / "results"
    for name, entry in SINGLE.items():
        grid = load_grid(results / name / "overview.npz")
        resolution = TEST_CONFIG["defaults"]["resolution"]
        assert grid.values.shape == (resolution, resolution)
        meta = grid.meta["condition"]
        assert meta["steps"] == TEST_CONFIG["defaults"]["steps"]
        assert meta["width"] == TEST_CONFIG["defaults"]["width"]
        assert meta["batch_size"] == entry.get("batch_size")
        window = entry.get("window", TEST_CONFIG["defaults"]["window"])
        assert grid.meta["window"]["x_min"] == window[0]
        image = iio.imread(results / name / "overview.png")
        assert image.shape[0] > 300 and image.shape[1] > 300
        row = read_table(results / name / "dimension.csv").iloc[0]
        assert row["condition"] == name
    tanh = load_grid(results / "tanh_fullbatch" / "overview.npz")
    assert tanh.converged.any() and not tanh.converged.all()
    figure = iio.imread(results / "figures" / "paper_conditions.png")
    assert figure.shape[1] > figure.shape[0] / 2
    assert iio.imread(results / "figures" / "overviews.png").shape[1] > 300
    adam = load_grid(results / "adam_beta2" / "overview.npz")  # optimizer, custom, linear axis
    assert adam.meta["condition"]["optimizer"] == "adam"
    np.testing.assert_array_equal(adam.y, np.linspace(0.5, 0.999, adam.values.shape[0]))
    assert iio.imread(results / "figures" / "optimizers.png").shape[1] > 300
    table = read_table(results / "tables" / "fractal_dimensions.csv")
    assert list(table["condition"]) == list(SINGLE)
    assert "| tanh_fullbatch |" in (results / "tables" / "fractal_dimensions.md").read_text()


def test_outputs_equal_the_library_computed_whole(test_study):
    """Tiles through Snakemake merge to the grid the library computes in one go."""
    from trainability.core.condition import Condition
    from trainability.core.window import Window
    from trainability.train.sweep import sweep

    d = TEST_CONFIG["defaults"]
    cond = Condition(activation="tanh", width=d["width"], steps=d["steps"])
    whole = sweep(cond, Window.square(d["window"], d["resolution"]))
    merged = load_grid(test_study / "results" / "tanh_fullbatch" / "overview.npz")
    assert merged.values.tobytes() == whole.values.tobytes()


def test_seed_ensembles(test_study):
    """Seed k of an ensemble is the condition with seed: k (tanh_seeds_seed0 is tanh_fullbatch's
    overview, array for array); every ensemble is tabled over its seeds and drawn."""
    from trainability.core.condition import Condition
    from trainability.core.window import Window
    from trainability.train.sweep import sweep

    results = test_study / "results"
    member = load_grid(results / "tanh_seeds_seed0" / "overview.npz")
    single = load_grid(results / "tanh_fullbatch" / "overview.npz")
    assert member.meta == single.meta
    for key in ("values", "converged", "diverged_at", "blowup_at", "x", "y"):
        assert getattr(member, key).tobytes() == getattr(single, key).tobytes(), key
    d = TEST_CONFIG["defaults"]
    cond = Condition(activation="tanh", width=d["width"], steps=d["steps"], seed=1)
    seed1 = load_grid(results / "tanh_seeds_seed1" / "overview.npz")
    assert seed1.values.tobytes() == sweep(cond, Window.square(d["window"], 24)).values.tobytes()
    rows = read_table(results / "tables" / "seeds.csv").to_dict("records")
    assert [(r["ensemble"], r["seeds"], r["seed_mode"]) for r in rows] == [
        ("tanh_seeds", "0 1", "shared"),
        ("tanh_per_pixel", "0 1", "per_pixel"),
    ]
    assert all(r["converged_n"] == "2" and r["band_width"] for r in rows)
    members = read_table(results / "tables" / "seeds_members.csv").to_dict("records")
    assert len(members) == 4 and members[2]["pixel_draws"] == "both"
    assert (results / "figures" / "seeds.png").stat().st_size > 10_000
    assert not (results / "tanh_seeds").exists()  # an ensemble is its members only


def test_a_seed_builds_alone_by_its_name(tmp_path):
    dry = snakemake(tmp_path, "-n", "--cores", "1", "tanh_seeds_seed1")
    out = dry.stdout + dry.stderr
    assert "results/tanh_seeds_seed1/tiles/overview/0_0.npz" in out
    assert "tanh_seeds_seed0" not in out and "tanh_fullbatch/" not in out


def test_panel_is_the_library_grid_at_the_panel_window(test_study):

    from trainability.core.condition import Condition
    from trainability.core.window import Window
    from trainability.train.sweep import sweep

    d, entry = TEST_CONFIG["defaults"], TEST_CONFIG["conditions"]["tanh_fullbatch"]
    cond = Condition(activation="tanh", width=d["width"], steps=d["steps"])
    bounds = [math.log10(v) for v in entry["panel"]["edges"]]
    whole = sweep(cond, Window.square(bounds, entry["panel"]["resolution"]))
    panel = load_grid(test_study / "results" / "tanh_fullbatch" / "panel.npz")
    assert panel.values.tobytes() == whole.values.tobytes()
    assert (test_study / "results" / "tanh_fullbatch" / "panel.png").stat().st_size > 5000


def test_resolution_study_refuses_what_it_cannot_measure(test_study):
    snakemake(test_study, "--cores", "2", "resolution_study")
    rows = read_table(test_study / "results" / "tables" / "resolution_study.csv")
    entry = TEST_CONFIG["resolution_study"]
    labels_only = entry["labels_only"]["resolutions"]
    assert [(r["condition"], r["resolution"]) for r in rows.to_dict("records")] == [
        ("tanh_fullbatch", f"{n}x{n}") for n in sorted(entry["resolutions"] + labels_only)
    ]
    assert (rows["dimension"] == "not enough scales").all()  # 16 to 32 px: no decade
    stride = str(entry["labels_only"]["stride"])
    assert rows["label_only"].tolist() == ["0", "0", stride]
    summary = read_table(test_study / "results" / "tables" / "resolution_summary.csv")
    (row,) = summary.to_dict("records")  # nothing measured: no estimate, no verdict, a reason
    assert row["condition"] == "tanh_fullbatch" and row["refused"].startswith("too few resolutions")
    assert all(row[k] in ("", None) or row[k] != row[k] for k in ("raw", "verdict", "raw_verdict"))
    assert (test_study / "results" / "figures" / "resolution_study.png").stat().st_size > 5000


def test_the_label_only_grid_and_its_check_agree_with_a_full_sweep(test_study):
    """The resolution study's label-only grid: computed share as in its table; the check's
    counts recomputed from one full sweep of the whole window (tiles = whole)."""
    from trainability.core.condition import Condition
    from trainability.core.window import Window
    from trainability.train.sweep import sweep

    snakemake(test_study, "--cores", "2", "resolution_study")
    results = test_study / "results"
    (n,) = TEST_CONFIG["resolution_study"]["labels_only"]["resolutions"]
    per_side = TEST_CONFIG["resolution_study"]["labels_only"]["check_tiles"]
    fine = load_grid(results / "tanh_fullbatch" / f"panel_{n}.npz")
    d, entry = TEST_CONFIG["defaults"], TEST_CONFIG["conditions"]["tanh_fullbatch"]
    cond = Condition(activation="tanh", width=d["width"], steps=d["steps"])
    window = Window.square([math.log10(v) for v in entry["panel"]["edges"]], n)
    full = sweep(cond, window)
    c = fine.computed
    assert fine.refined and fine.values[c].tobytes() == full.values[c].tobytes()
    rows = read_table(results / "tables" / "resolution_study.csv")
    assert float(rows["computed"].iloc[-1]) == c.mean()
    checks = read_table(results / "tables" / "refinement_check.csv").to_dict("records")
    assert len(checks) == TEST_CONFIG["resolution_study"]["labels_only"]["check"]
    for row in checks:
        i, j = (int(v) for v in row["tile"].split("_"))
        r, cols = window.tile(i, j, (per_side, per_side))
        wrong = fine.converged[r, cols] != full.converged[r, cols]
        assert int(row["inferred"]) == int((~c[r, cols]).sum())
        assert int(row["inferred_wrong"]) == int((wrong & ~c[r, cols]).sum())
        assert int(row["computed_wrong"]) == 0 == int((wrong & c[r, cols]).sum())
    assert np.mean(fine.converged == full.converged) > 0.99


def test_nothing_to_do_after_a_complete_run(test_study):
    dry = snakemake(test_study, "-n", "--cores", "1")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_named_target_builds_only_that_condition(tmp_path):
    snakemake(tmp_path, "--cores", "2", "tanh_minibatch")
    assert (tmp_path / "results" / "tanh_minibatch" / "overview.png").exists()
    assert not (tmp_path / "results" / "tanh_fullbatch").exists()


def test_changed_parameters_rerun_only_that_condition(test_study, tmp_path):
    config = json.loads(json.dumps(TEST_CONFIG))
    config["conditions"]["tanh_minibatch"]["batch_size"] = 5
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    dry = snakemake(test_study, "-n", "--cores", "1", configfile=path)
    out = dry.stdout + dry.stderr
    assert "results/tanh_minibatch/tiles/overview/0_0.npz" in out
    assert "results/tanh_fullbatch/tiles" not in out


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda c: c["defaults"].update(activaton="tanh"), ["activaton", "allowed keys"]),
        (
            lambda c: c["conditions"]["tanh_fullbatch"].update(activation="softplus"),
            ["conditions.tanh_fullbatch.activation", "tanh, relu, identity, sigmoid"],
        ),
        (lambda c: c["defaults"].update(steps=-5), ["defaults.steps", ">= 1"]),
        (lambda c: c["defaults"].update(width="wide"), ["defaults.width", "integer"]),
        (lambda c: c["defaults"].update(window=[3, 1, 0, 4]), ["conditions.", "x_min < x_max"]),
        (lambda c: c["defaults"].update(window=[1, 2, 0]), ["defaults.window", "4 items"]),
        (
            lambda c: c["conditions"]["tanh_minibatch"].update(batch_size=10_000),
            ["tanh_minibatch", "batch_size"],
        ),
        (lambda c: c["conditions"].update({"Bad-Name": {}}), ["Bad-Name", "snake_case"]),
        (lambda c: c["engine"].update(name="turbo"), ["engine.name", "fused, autodiff"]),
    ],
    ids=[
        "unknown-key",
        "activation",
        "negative-steps",
        "type",
        "empty-window",
        "window-length",
        "batch-too-large",
        "bad-name",
        "engine",
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, edit, words):
    config = json.loads(json.dumps(TEST_CONFIG))
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "1", configfile=path, check=False)
    assert result.returncode != 0
    message = [line for line in result.stderr.splitlines() if "config error" in line]
    assert len(message) == 1, result.stderr
    for word in words:
        assert word in message[0]
    assert not (tmp_path / "results").exists()


def test_killed_run_resumes_without_redoing_finished_tiles(tmp_path):
    """SIGKILL Snakemake and its jobs mid-run; the rerun finishes, keeps the tiles that were
    complete, and gives the grid an uninterrupted run gives. No file is half-written."""
    config = json.loads(json.dumps(TEST_CONFIG))
    config["conditions"] = {"tanh_fullbatch": config["conditions"]["tanh_fullbatch"]}
    config["defaults"].update(steps=150, resolution=32, tiles=[4, 1])
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(config))
    work = tmp_path / "work"
    target = "results/tanh_fullbatch/overview.npz"  # the tiles and their merge, nothing after
    # targets after an option: right after --configfile they would be read as config files
    cmd = snakemake_command(work, "--cores", "1", target, configfile=path)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    tiles = work / "results" / "tanh_fullbatch" / "tiles" / "overview"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(tiles.glob("*.npz"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in tiles.glob("*.npz")}
    assert 2 <= len(done) < 4, "the kill should land between the second and the last tile"
    for tile in done:
        load_grid(tiles / tile)  # every file under a final name is complete

    snakemake(work, "--unlock", configfile=path)  # a SIGKILL leaves Snakemake's lock behind
    snakemake(work, "--cores", "1", target, configfile=path)
    # With one core, a tile's job is recorded as finished before the next one starts; only the
    # newest tile may have been written without that record, and is then rightly recomputed.
    newest = max(done, key=done.get)
    for tile, mtime in done.items():
        if tile != newest:
            assert (tiles / tile).stat().st_mtime_ns == mtime, f"{tile} was recomputed"
    reference = tmp_path / "reference"
    snakemake(reference, "--cores", "2", target, configfile=path)
    a = load_grid(work / "results" / "tanh_fullbatch" / "overview.npz")
    b = load_grid(reference / "results" / "tanh_fullbatch" / "overview.npz")
    assert a.values.tobytes() == b.values.tobytes()
    leftovers = [p for p in work.rglob(".*tmp-*")]
    assert not leftovers


def test_zoom_outputs(test_study):
    zoom = TEST_CONFIG["conditions"]["tanh_fullbatch"]["zoom"]
    results = test_study / "results" / "tanh_fullbatch"
    levels = len(list((results / "zoom").glob("keyframe_*.npz")))
    assert levels == 5
    widths = []
    panel = load_grid(results / "panel.npz").meta["window"]
    for k in range(levels):
        grid = load_grid(results / "zoom" / f"keyframe_{k:02d}.npz")
        if k == 2:  # the keyframes are concentric on the panel: 4 and 2 decades, then the panel
            keys = ("x_min", "x_max", "y_min", "y_max")
            assert [grid.meta["window"][key] for key in keys] == [panel[key] for key in keys]
        assert grid.values.shape == (zoom["resolution"], zoom["resolution"])
        assert grid.converged.any() and not grid.converged.all(), f"keyframe {k}"
        widths.append(grid.meta["window"]["x_max"] - grid.meta["window"]["x_min"])
    assert np.allclose(np.array(widths[:-1]) / np.array(widths[1:]), 2.0)
    frames = list(iio.imiter(results / "zoom.mp4"))
    assert len(frames) == zoom["frames_per_doubling"] * (levels - 1) + 1
    assert frames[0].shape[:2] == (zoom["video_size"], zoom["video_size"])
    assert len(list(iio.imiter(results / "zoom.gif"))) >= 2
    assert iio.imread(results / "zoom_keyframes.png").shape[1] > 500
    n_images = int(read_table(results / "dimension.csv").iloc[0]["n_images"])
    assert n_images == levels + 1  # the keyframes and the panel
    path = json.loads((results / "zoom" / "path.json").read_text())["keyframes"]
    assert all("texture" in kf for kf in path[2:-1])  # every searched level reports its texture
    auto = json.loads((results.parent / "relu_auto_zoom" / "zoom" / "path.json").read_text())
    assert all("texture" in kf and "next_clean" in kf for kf in auto["keyframes"][:-1])


def test_followup_families(test_study):
    from trainability.study.config import followup_entries, load_study

    config, study = load_study(TEST_CONFIG, REPO / "workflow" / "schemas" / "config.schema.yaml")
    arch = config["followup"]["architectures"]
    generated = [name for name, s in study.items() if s.family == "architectures"]
    assert len(generated) == len(arch["widths"]) * len(arch["depths"])
    assert len(followup_entries(config["followup"])) == sum(
        1 for s in study.values() if s.family in ("activations", "architectures", "perturbations")
    )
    results = test_study / "results"
    table = read_table(results / "tables" / "architectures.csv")
    assert list(table["condition"]) == generated
    assert table["converged_fraction"].astype(float).between(0.0, 1.0).all()
    for family in ("activations", "perturbations", "architectures"):
        assert iio.imread(results / "figures" / f"{family}.png").shape[1] > 400
    # epsilon = 0 is the unperturbed tanh condition, byte for byte
    unperturbed = load_grid(results / "activations_tanh" / "overview.npz")
    zero = load_grid(results / "perturbations_0" / "overview.npz")
    assert zero.values.tobytes() == unperturbed.values.tobytes()
    assert load_grid(results / "perturbations_1" / "overview.npz").values.tobytes() != (
        unperturbed.values.tobytes()
    )
    with np.load(results / "lyapunov" / "maximal.npz") as data:
        assert data["values"].shape == data["converged"].shape
        assert np.isfinite(data["values"]).any()


def test_toy_studies(test_study):
    results = test_study / "results" / "toys"
    for study in ("strip", "roughness", "dimension", "initial", "two_cosines"):
        assert (results / f"{study}.png").stat().st_size > 5000
        assert len(read_table(results / f"{study}.csv")) > 0
    strip = read_table(results / "strip.csv")
    assert len(strip) == 2 ** TEST_CONFIG["toys"]["sweep"]["levels"] + 1
    roughness = read_table(results / "roughness.csv")
    convex = roughness[(roughness["loss"] == "additive") & (roughness["convex"] == "True")]
    assert len(convex) and (convex["alpha"].astype(float) == 0.0).all()


def test_a_config_file_replaces_the_default_study():
    """--configfile names a whole study: the default study's conditions do not leak in."""
    args = ["-n", "--cores", "1", "--configfile", str(REPO / "config" / "test.yaml")]
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "results/tanh_minibatch/" in result.stdout
    assert "relu_fullbatch" not in result.stdout


def test_a_group_figure_shows_the_deepest_keyframe_of_a_member_that_zooms(tmp_path):
    """The default study's deep_zoom group is one condition zoomed 25 decades deep: its figure
    must draw the deepest keyframe (its 16² overview is context, not what the title promises)."""
    result = snakemake(
        tmp_path, "-n", "results/figures/deep_zoom.png", configfile=REPO / "config" / "config.yaml"
    )
    job = result.stdout.split("rule family_figure:", 1)[1].split("\n\n", 1)[0]
    inputs = re.search(r"input: (.*)", job).group(1).split(", ")
    assert "results/tanh_deep_zoom/zoom/keyframe_04.npz" in inputs, job
    assert not any(path.endswith("overview.npz") for path in inputs), job
