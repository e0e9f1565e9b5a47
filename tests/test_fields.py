"""One declaration per condition field: the schema file, the sweep flags and the config
reference carry every field as declared, and each refuses what the declaration refuses."""

import argparse
import dataclasses
import math
import re

import jsonschema
import pytest
import yaml
from conftest import REPO

from trainability.cli import build_parser, main
from trainability.core.condition import AXES, GROUPS, Condition, ConditionError
from trainability.core.engine import ARITHMETICS, DTYPES, ENGINES
from trainability.core.fields import (
    choice,
    controlling,
    flag,
    from_arguments,
    integer,
    number,
    problem,
    read_with,
    reference_table,
    specs,
)

SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
CONDITION = SCHEMA["definitions"]["condition"]["properties"]
STUDY_KEYS = {
    "title", "paper_dimension", "group", "window", "resolution", "tiles", "zoom", "panel", "seeds"
}
DECLARED = specs(Condition)
HOW = "print the generated text with: python -m trainability.core.condition"


def sweep_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["sweep"]


def test_the_schema_file_carries_every_field_as_declared():
    from trainability.core.fields import schema_properties

    assert set(CONDITION) == set(DECLARED) | STUDY_KEYS
    for name, prop in schema_properties(Condition).items():
        assert CONDITION[name] == prop, f"schema property {name} differs; {HOW}"
    engine = SCHEMA["properties"]["engine"]["properties"]
    assert tuple(engine["name"]["enum"]) == ENGINES and tuple(engine["dtype"]["enum"]) == DTYPES
    assert tuple(engine["arithmetic"]["enum"]) == ARITHMETICS


def test_the_config_reference_is_the_generated_table():
    text = (REPO / "config" / "README.md").read_text()
    pattern = r"<!-- condition fields:.*?-->\n(.*?)\n<!-- end of condition fields -->"
    block = re.search(pattern, text, re.S)
    assert block is not None, "config/README.md lost its condition-fields markers"
    assert block.group(1) == reference_table(Condition, GROUPS), f"config/README.md differs; {HOW}"
    for name in DECLARED:
        assert f"| `{name}` |" in block.group(1)


def test_types_groups_and_axes_of_the_declarations():
    python_type = {"integer": "int", "number": "float", "choice": "str", "boolean": "bool"}
    for field in dataclasses.fields(Condition):
        spec, default = DECLARED[field.name]
        want = python_type[spec.kind] + (" | None" if spec.nullable else "")
        assert field.type == want, field.name
        assert spec.group in GROUPS, field.name
        assert problem(field.name, spec, default) is None, field.name
        if spec.axis:
            assert AXES[field.name].interval == spec.interval
    assert all(AXES[name].interval == DECLARED["lr"][0].interval for name in AXES if "lr" in name)


def probes(spec):
    """Values around the edges of a declaration (finite ones only: JSON Schema cannot say
    "finite", and integer-valued floats count as integers there, so both are left out)."""
    if spec.kind == "choice":
        return [*spec.allowed, "nope", 1, None]
    if spec.kind == "boolean":
        return [True, False, 0, "yes", None]
    low, high = spec.interval.low, spec.interval.high
    edges = [v for v in (low, high) if math.isfinite(v)] or [0]
    if spec.kind == "integer":
        return [*edges, *(e - 1 for e in edges), 1000, "7", None, True]
    near = [math.nextafter(e, d) for e in edges for d in (-math.inf, math.inf)]
    return [*edges, *near, 0.5, 1e6, -1e6, "0.5", None, True]


@pytest.mark.parametrize("name", list(DECLARED))
def test_schema_and_declaration_refuse_the_same_values(name):
    spec, _ = DECLARED[name]
    validator = jsonschema.Draft7Validator(
        {"type": "object", "properties": {name: CONDITION[name]}}
    )
    for value in probes(spec):
        by_schema = validator.is_valid({name: value})
        assert by_schema == (problem(name, spec, value) is None), (name, value)


def test_every_field_is_a_sweep_flag_parsed_by_its_declaration(capsys):
    parser = sweep_parser()
    actions = {a.dest: a for a in parser._actions}
    titles = {g.title for g in parser._action_groups}
    for name, (spec, default) in DECLARED.items():
        action = actions[name]
        assert action.option_strings == [flag(name)], name
        assert action.default == default, name
        assert spec.help.replace("%", "%%") in action.help, name
        assert GROUPS[spec.group] in titles
        if spec.kind == "choice":
            assert tuple(action.choices) == spec.allowed, name
    assert "--inputs" not in parser._option_string_actions  # renamed --input-distribution
    defaults = parser.parse_args(["--out", "x.npz"])
    assert from_arguments(Condition, defaults) == Condition()
    helptext = parser.format_help()
    assert all(flag(name) in helptext for name in DECLARED)


def test_flags_reach_the_condition():
    """Every field set away from its default through its flag (one valid condition)."""
    values = {
        "activation": "relu", "width": 5, "depth": 3, "target_dim": 2, "dataset_ratio": 2.0,
        "dataset_size": 40, "batch_size": 8, "input_distribution": "uniform",
        "draws": "partitionable", "phase_space": "custom", "offset_mode": "init", "steps": 7,
        "seed": 3, "seed_mode": "per_pixel", "pixel_draws": "both", "epsilon": 0.01,
        "readout": "probe", "optimizer": "nesterov",
        "momentum": 0.5, "beta1": 0.8, "beta2": 0.99, "adam_eps": 1e-6, "weight_decay": 0.1,
        "weight_decay_mode": "decoupled", "schedule": "warmup", "warmup_steps": 2.5,
        "final_lr_fraction": 0.2, "decay_every": 3, "decay_factor": 0.9, "residual": True,
        "lr_hidden": 0.0, "lr": 0.2, "offset": -0.5, "init_scale": 0.5, "x_axis": "momentum",
        "y_axis": "lr_output", "x_scale": "linear", "y_scale": "linear", "channels": 3,
        "d_model": 16, "heads": 4, "loss": "mse",
    }  # fmt: skip
    # model and data away from theirs make the generic path, which refuses residual blocks,
    # per-pixel seeds, the probe and the offset set above: they get a condition of their own
    other = {"model": "cnn", "data": "digits"}
    assert set(values) | set(other) == set(DECLARED)
    argv = ["--out", "x.npz", "--model", "cnn", "--data", "digits"]
    assert from_arguments(Condition, sweep_parser().parse_args(argv)) == Condition(**other)
    argv = ["--out", "x.npz"]
    for name, value in values.items():
        if value is True:
            argv.append(flag(name))
        else:
            argv += [flag(name), str(value)]
    cond = from_arguments(Condition, sweep_parser().parse_args(argv))
    assert cond == Condition(**values)
    assert all(getattr(cond, n) != d for n, (_, d) in DECLARED.items() if n not in other)


@pytest.mark.parametrize(
    "name, text",
    [("steps", "0"), ("width", "2.5"), ("momentum", "1"), ("lr", "-0.1"), ("lr", "nan"),
     ("adam_eps", "0"), ("warmup_steps", "inf"), ("offset", "x"), ("lr_hidden", "-1"),
     ("input_distribution", "gamma")],
)  # fmt: skip
def test_a_bad_flag_is_one_line_naming_flag_and_field(tmp_path, capsys, name, text):
    out = tmp_path / "x.npz"
    with pytest.raises(SystemExit) as exit:
        main(["sweep", "--quiet", "--out", str(out), flag(name), text])
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag(name) in err, err
    if name != "input_distribution":  # argparse's own "invalid choice" names only the flag
        assert name in err.replace(flag(name), ""), err
    assert not out.exists()


def test_the_condition_refuses_what_the_flag_refuses():
    for name, value in (("steps", 0), ("momentum", 1.0), ("lr", -0.1), ("lr", math.nan),
                        ("warmup_steps", math.inf), ("width", 2.5), ("seed", "3")):  # fmt: skip
        with pytest.raises(ConditionError, match=name) as err:
            Condition(**{name: value})
        assert str(err.value) == problem(name, DECLARED[name][0], value)


def test_every_axis_has_its_declared_title():
    """Each axis of the registry carries a title (figures label the axis with it); an axis that
    is a field carries the title of the field's declaration, and only axis fields have one."""
    for name, axis in AXES.items():
        assert isinstance(axis.title, str) and axis.title.strip() == axis.title != "", name
        if name in DECLARED and DECLARED[name][0].axis:
            assert axis.title == DECLARED[name][0].title
    assert all((spec.title is not None) == spec.axis for spec, _ in DECLARED.values())
    with pytest.raises(ValueError, match="title"):
        number(0.0, "axes", "an axis field without a title", axis=True)
    with pytest.raises(ValueError, match="title"):
        number(0.0, "axes", "a titled field that is no axis", title="Title")


def test_read_with_names_the_fields_whose_needs_hold():
    """`read_with` and `controlling` follow the ``needs=`` declarations alone."""

    @dataclasses.dataclass(frozen=True)
    class Toy:
        mode: str = choice("a", ("a", "b", "c"), "network", "mode")
        alpha: float = number(1.0, "network", "read with a or b", needs=("mode", ("a", "b")))
        beta: int = integer(2, "network", "read with b", needs=("mode", ("b",)))
        gamma: float = number(3.0, "network", "always read")

    assert controlling(Toy) == ("mode",)
    assert read_with(Toy(mode="a"), "mode") == ("alpha",)
    assert read_with(Toy(mode="b"), "mode") == ("alpha", "beta")
    assert read_with(Toy(mode="c"), "mode") == ()
    assert controlling(Condition) == ("optimizer", "schedule", "model")
    assert read_with(Condition(), "model") == ()  # the mlp reads no setting of the others
    assert read_with(Condition(model="cnn", data="digits"), "model") == ("channels",)
    assert read_with(Condition(optimizer="adam"), "optimizer") == ("beta1", "beta2", "adam_eps")
    assert read_with(Condition(schedule="step"), "schedule") == ("decay_every", "decay_factor")
