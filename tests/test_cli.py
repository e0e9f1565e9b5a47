"""The command line: a working sweep, and one-line errors for every kind of bad value."""

import argparse
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from trainability.cli import main
from trainability.core.flags import integer
from trainability.core.grid import load_grid


def test_sweep_writes_a_grid(tmp_path):
    out = tmp_path / "x.npz"
    code = main(
        [
            "sweep",
            "--resolution",
            "6",
            "5",
            "--steps",
            "10",
            "--width",
            "4",
            "--quiet",
            "--window",
            "-1",
            "3",
            "0",
            "4",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    grid = load_grid(out)
    assert grid.values.shape == (5, 6)
    np.testing.assert_array_equal(grid.x, jnp.logspace(-1, 3, 6))  # as the reference
    assert grid.meta["condition"]["width"] == 4


def test_tiles_through_the_cli_merge_to_the_whole(tmp_path):
    common = ["--resolution", "7", "--steps", "10", "--width", "4", "--quiet"]
    main(["sweep", *common, "--out", str(tmp_path / "whole.npz")])
    for i in range(2):
        main(
            [
                "sweep",
                *common,
                "--tile",
                str(i),
                "0",
                "--tiles",
                "2",
                "1",
                "--out",
                str(tmp_path / f"t{i}.npz"),
            ]
        )
    main(
        [
            "merge",
            str(tmp_path / "t0.npz"),
            str(tmp_path / "t1.npz"),
            "--out",
            str(tmp_path / "merged.npz"),
        ]
    )
    assert (
        load_grid(tmp_path / "merged.npz").values.tobytes()
        == load_grid(tmp_path / "whole.npz").values.tobytes()
    )
    assert main(["render", str(tmp_path / "merged.npz"), "--out", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "args, words",
    [
        (["--activation", "softplus"], ["--activation", "tanh"]),
        (["--resolution", "1"], ["--resolution", ">= 2"]),
        (["--window", "3", "1", "0", "1"], ["x_min < x_max"]),
        (["--steps", "0"], ["--steps", ">= 1"]),
        (["--batch-size", "500"], ["batch_size", "272"]),
        (["--depth", "0"], ["--depth", ">= 1"]),
        (["--window", "1", "1.00000000000001", "0", "1"], ["float64"]),
        (["--epsilon", "-1"], ["--epsilon"]),
        (["--tile", "2", "0", "--tiles", "2", "1"], ["--tile"]),
        (["--engine", "fast"], ["--engine", "fused"]),
        (["--refine", "1"], ["--refine", ">= 2"]),
        (["--refine", "-2"], ["--refine", "0 (off) or an integer >= 2, got -2"]),
    ],
)
def test_bad_values_give_one_line(tmp_path, capsys, args, words):
    argv = ["sweep", "--quiet", "--out", str(tmp_path / "x.npz"), *args]
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    "parse, text, message",
    [
        (integer(1), "0", "must be an integer >= 1, got 0"),
        (integer(1), "1.5", "must be an integer >= 1, got '1.5'"),
        (integer(0, 65535), "65536", "must be an integer >= 0 and <= 65535, got 65536"),
        (integer(2, off=0), "1", "must be 0 (off) or an integer >= 2, got 1"),
        (integer(2, off=0), "off", "must be 0 (off) or an integer >= 2, got 'off'"),
    ],
)
def test_integer_flags_refuse_in_one_sentence(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        parse(text)
    assert str(err.value) == message


def test_integer_flags_accept_their_range():
    assert [integer(0, 65535)(t) for t in ("0", "65535", " 7 ")] == [0, 65535, 7]
    assert [integer(2, off=0)(t) for t in ("0", "2", "9")] == [0, 2, 9]


def test_unwritable_output_is_refused_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "trainability", "sweep", "--out", str(blocker / "x.npz")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--out" in result.stderr
    assert "Traceback" not in result.stderr


def run_json(capsys, argv):
    import json

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_dimension_cli_known_answers(tmp_path, capsys):
    n = 1024
    yy, xx = np.mgrid[:n, :n]
    disc = np.where((xx - 500.3) ** 2 + (yy - 520.7) ** 2 < 380.0**2, -1.0, 1.0)
    np.save(tmp_path / "disc.npy", disc)
    out = run_json(capsys, ["dimension", str(tmp_path / "disc.npy"), "--json"])
    assert abs(out["fit_slope"] - 1.0) < 0.05 and out["fit_ci"][0] <= out["fit_ci"][1]
    noise = np.random.default_rng(0).random((n, n)) < 0.5
    np.save(tmp_path / "noise.npy", noise)
    assert run_json(capsys, ["dimension", str(tmp_path / "noise.npy"), "--json"])["fit_slope"] > 1.9
    step = np.zeros(2**12 + 1, bool)
    step[1000:] = True
    np.save(tmp_path / "step.npy", step)
    assert run_json(capsys, ["dimension", str(tmp_path / "step.npy"), "--json"])["alpha"] == 0.0


def test_dimension_cli_errors(tmp_path, capsys):
    np.save(tmp_path / "flat.npy", -np.ones((64, 64)))
    (tmp_path / "junk.npy").write_text("not an array")
    for path in ("flat.npy", "junk.npy", "missing.npy"):
        assert main(["dimension", str(tmp_path / path)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_toy_cli(capsys):
    quadratic = ["toy", "--eps", "0", "--wavelength", "1", "--levels", "10", "--json"]
    out = run_json(capsys, quadratic)
    assert out["alpha"] == 0.0 and out["counts"][-1] == 1
    rough = [
        "toy",
        "--loss",
        "multiplicative",
        "--eps",
        "0.2",
        "--wavelength",
        "0.1",
        "--levels",
        "14",
        "--json",
    ]
    assert run_json(capsys, rough)["alpha"] > 0.5
    assert main(["toy", "--eps", "0.1", "--wavelength", "0"]) == 2
    assert "wavelength" in capsys.readouterr().err
