"""Generated bad input: configs and command lines around the schema's edges (wrong types, NaN
and infinities, empty and reversed windows, extreme sizes, unknown keys at every level, odd
characters in names and paths). Each is either accepted — and a tiny sweep of it runs — or
refused with one line naming the key or flag; never a traceback, never a file written.

Hypothesis profiles: ``ci`` (the ``CI`` environment variable is set) is derandomized with a
fixed number of examples; ``dev`` draws more, at random. Neither keeps a database on disk.
"""

import contextlib
import io
import json
import math
import os
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from trainability.cli import build_parser, main
from trainability.study.calibration import FALLBACK, network_size
from trainability.study.config import ConfigError, load_study
from trainability.study.plan import Work, check_study

# windows like [-1e300, 1e300] overflow to inf in numpy before they are refused
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, database=None, print_blob=True
)
settings.register_profile("dev", max_examples=300, deadline=None, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
FEW = {"max_examples": 12} if os.environ.get("CI") else {"max_examples": 40}
SLOW_OK = [HealthCheck.too_slow, HealthCheck.filter_too_much]

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
BASE = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
BASE["conditions"]["tanh_fullbatch"]["window"] = [-1, 4, 0, 4]
BASE["engine"] = {"name": "fused", "dtype": "float64", "chunk": None}
BASE["budget"] = {"core_hours": 96, "memory_gib": None}
BASE_STUDY = load_study(BASE, SCHEMA)[1]


@pytest.fixture(autouse=True, scope="module")
def fallback_figures(tmp_path_factory):
    """No cached calibration: the estimates use the built-in figures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRAINABILITY_CALIBRATION", str(tmp_path_factory.mktemp("cal") / "x.json"))
        yield


def paths(node, prefix=()):
    """Every key path of a config, list items included."""
    if isinstance(node, dict):
        yield prefix
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        yield prefix
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))
    else:
        yield prefix


PATHS = [p for p in paths(BASE) if p]
ODD_NAMES = [
    "../escape",
    "a/b",
    "tanh fullbatch",
    "tänh",
    "名前",
    "",
    "x" * 300,
    "con",
    "a.b",
    "-rf",
    "tanh\n",
    "$HOME",
    "😀",
]
EDGES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            2,
            10**7,
            2**31,
            2**32 + 1,
            2**63,
            10**30,
            10**400,
            -(10**30),
            0.0,
            -0.0,
            1e-300,
            1e300,
            24.0,
            0.5,
            math.nan,
            math.inf,
            -math.inf,
            "",
            "tanh",
            "1",
            "nan",
            "auto",
            [],
            {},
            [1],
            [1, 2],
            [2, 2, 0, 4],  # empty window
            [4, -1, 4, 0],  # reversed window
            [0, 1e-300, 0, 1e-300],
            [-1e300, 1e300, 0, 4],
            [math.nan, 4, 0, 4],
            [1, 2, 3, 4, 5],
            {"depth": 1},
        ]
    ),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.integers() | st.floats(), max_size=5),
)


def get(config, path):
    for key in path:
        config = config[key]
    return config


@st.composite
def mutated_configs(draw):
    """The test study with one or two edits at any level: a value replaced, a key removed, an
    unknown key added, or a condition renamed. Returns (config, the keys touched)."""
    config = json.loads(json.dumps(BASE))
    touched = set()
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["set", "set", "set", "delete", "unknown", "rename"]))
        path = draw(st.sampled_from(PATHS))
        try:
            parent = get(config, path[:-1])
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(parent, dict | list):
            continue
        key = path[-1]
        if kind == "set" and (isinstance(parent, dict) or key < len(parent)):
            parent[key] = draw(EDGES)
        elif kind == "delete" and isinstance(parent, dict) and key in parent:
            del parent[key]
        elif kind == "unknown" and isinstance(parent, dict):
            key = draw(st.sampled_from(["activaton", "Resolution", "zoom_depth", "ü", "x/y"]))
            parent[key] = draw(EDGES)
        elif kind == "rename" and isinstance(config.get("conditions"), dict):
            if not config["conditions"]:
                continue
            old = draw(st.sampled_from(sorted(config["conditions"])))
            key = draw(st.sampled_from(ODD_NAMES))
            config["conditions"][key] = config["conditions"].pop(old)
        else:
            continue
        touched |= {p for p in (*path[:-1], key) if isinstance(p, str)}
    return config, touched


def condition_names(config) -> set[str]:
    """The base study's condition names (generated ones included) and the edited config's."""
    edited = config.get("conditions") if isinstance(config, dict) else None
    return set(BASE_STUDY) | (set(edited) if isinstance(edited, dict) else set())


def one_line_naming(message: str, touched: set[str], config: dict) -> None:
    assert message.startswith("config error") and len(message.splitlines()) == 1, message
    # the key itself, its section, or the condition it lands in (defaults and follow-up
    # settings land in every condition); a budget refusal names the budget key to raise
    names = touched | {"budget.core_hours", "budget.memory_gib"}
    if touched & {"defaults", "followup", "conditions", "base"}:
        names |= condition_names(config) | {"lyapunov"}
    assert any(repr(n) in message or (n and n in message) for n in names), (message, touched)


@settings(suppress_health_check=SLOW_OK)
@given(mutated_configs())
def test_a_mutated_config_is_accepted_or_refused_in_one_line(tmp_path_factory, case):
    config, touched = case
    workdir = tmp_path_factory.mktemp("cwd")
    with contextlib.chdir(workdir):
        try:
            validated, study = load_study(config, SCHEMA)
            check_study(validated, study)
            event("accepted")
        except ConfigError as err:
            event("refused")
            one_line_naming(str(err), touched, config)
    assert not list(workdir.iterdir())


CONDITION_KEYS = [
    "activation",
    "width",
    "depth",
    "target_dim",
    "dataset_ratio",
    "dataset_size",
    "batch_size",
    "draws",
    "phase_space",
    "steps",
    "seed",
    "epsilon",
    "optimizer",
    "momentum",
    "beta2",
    "adam_eps",
    "weight_decay",
    "schedule",
    "warmup_steps",
    "decay_every",
    "decay_factor",
    "residual",
    "lr",
    "offset",
    "init_scale",
    "window",
    "resolution",
    "tiles",
]


@settings(suppress_health_check=SLOW_OK, **FEW)
@given(st.sampled_from(CONDITION_KEYS), EDGES)
def test_an_accepted_condition_runs_a_tiny_sweep(key, value):
    """Edits of one condition key: refused in one line, or a 2x2 sweep of it runs (capped at
    5 steps; skipped when even that would take long, e.g. a huge network)."""
    from trainability.core.window import Window
    from trainability.train.sweep import sweep

    config = json.loads(json.dumps(BASE))
    config["conditions"]["tanh_fullbatch"][key] = value
    try:
        validated, study = load_study(config, SCHEMA)
        check_study(validated, study)
    except ConfigError as err:
        event("refused")
        one_line_naming(str(err), {key, "tanh_fullbatch"}, config)
        return
    event("accepted")
    sc = study["tanh_fullbatch"]
    cond = sc.condition.replace(steps=min(sc.condition.steps, 5))
    tiny = Work("t", "t", pixels=4, steps=cond.steps, regime="deep", size=network_size(cond))
    if FALLBACK.seconds(tiny) > 2.0:
        return
    grid = sweep(cond, Window.square(sc.window.bounds, 2))
    assert grid.values.shape == (2, 2)


SWEEP_FLAGS = sorted(
    {
        option
        for action in build_parser()._subparsers._group_actions[0].choices["sweep"]._actions
        for option in action.option_strings
        if option.startswith("--") and option not in ("--help", "--out", "--quiet")
    }
)
ARG_EDGES = st.one_of(
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "-1",
            "0",
            "1",
            "2",
            "1e400",
            "abc",
            "",
            "１２",
            "0x10",
            "1_000",
            "2.5",
            "99999999999999999999",  # beyond memory, int32 or uint32: refused (no mid sizes:
            "1" + "0" * 400,  # a valid 10^7-step sweep would just run, for hours)
            "ä",
            "-",
            "--",
        ]
    ),
    st.text(max_size=6).filter(lambda t: "\x00" not in t),
)
OUT_NAMES = ["x.npz", "ä ö.npz", "sub/dir/x.npz", "a/../b.npz", "名前.npz", ".", "dir"]


@settings(suppress_health_check=SLOW_OK, **FEW)
@given(
    st.lists(st.tuples(st.sampled_from(SWEEP_FLAGS), st.lists(ARG_EDGES, max_size=4)), max_size=2),
    st.sampled_from(OUT_NAMES),
    st.booleans(),
)
@example(edits=[("--epsilon", ["0", "\x1f0"])], out="x.npz", bogus=False)  # found locally
def test_sweep_arguments_are_accepted_or_refused_in_one_line(tmp_path_factory, edits, out, bogus):
    """`sweep` with a tiny base grid and some flags given odd values (or an unknown flag): exit
    0 with the grid written, or exit 2 with one line naming the flag and nothing written."""
    workdir = tmp_path_factory.mktemp("sweep")
    (workdir / "dir").mkdir()
    argv = ["sweep", "--resolution", "3", "--steps", "3", "--width", "2", "--quiet"]
    argv += ["--window", "-1", "3", "0", "4", "--out", out]
    for flag, values in edits:
        argv += [flag, *values]
    if bogus:
        argv.append("--bogus")
    code, err = _run(argv, workdir)
    event("accepted" if code == 0 else "refused")
    if code == 0:
        from trainability.core.grid import load_grid

        assert load_grid(workdir / out).values.shape[0] >= 2
        return
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trainability") and "Traceback" not in err
    named = [f for f, _ in edits] + ["--bogus", "--out", "--window", "--resolution"]
    words = {n for f in named for n in (f, f[2:], f[2:].replace("-", "_"))}
    # the refusal shows an unprintable character as its escape (cli._one_line): "\\x1f", not 0x1f
    shown = {
        "".join(c if c.isprintable() else repr(c)[1:-1] for c in v) for _, vs in edits for v in vs
    }
    words |= {f"unrecognized arguments: {v}".rstrip() for v in shown}
    assert any(w in lines[0] for w in words) or "arguments are required" in lines[0], lines[0]
    assert sorted(p.name for p in workdir.rglob("*")) == ["dir"], list(workdir.rglob("*"))


@settings(suppress_health_check=SLOW_OK)
@given(
    st.sampled_from(
        [
            "missing.yaml",
            "dir",
            "empty.yaml",
            "list.yaml",
            "broken.yaml",
            "tänh.yaml",
            "../x/y.yaml",
            "",
        ]
    ),
    st.one_of(st.none(), st.sampled_from(["0", "-2", "x", "1.5", "2"])),
)
def test_plan_arguments_are_accepted_or_refused_in_one_line(tmp_path_factory, name, cores):
    workdir = tmp_path_factory.mktemp("plan")
    (workdir / "dir").mkdir()
    (workdir / "empty.yaml").write_text("")
    (workdir / "list.yaml").write_text("- 1\n- 2\n")
    (workdir / "broken.yaml").write_text("conditions: {a: [\n")
    (workdir / "tänh.yaml").write_text(yaml.safe_dump(BASE))
    before = sorted(workdir.rglob("*"))
    argv = ["plan", "--no-calibrate", "--configfile", name]
    if cores is not None:
        argv += ["--cores", cores]
    code, err = _run(argv, workdir)
    assert sorted(workdir.rglob("*")) == before
    if code == 0:
        return
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "--configfile" in lines[0] or "--cores" in lines[0] or "config error" in lines[0]


def _run(argv, workdir: Path) -> tuple[int, str]:
    """main(argv) in ``workdir``: (exit status, stderr); stdout is discarded."""
    err = io.StringIO()
    with (
        contextlib.chdir(workdir),
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    return code, err.getvalue()
