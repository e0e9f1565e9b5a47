"""`Engine.from_config`: the one reading of a config's engine mapping (no JAX needed)."""

import pytest
import yaml
from conftest import REPO

from trainability.core.engine import CONFIG_KEYS, Engine


def never() -> int:
    raise AssertionError("default_chunk asked although the config names a chunk")


def test_config_keys_are_the_schemas():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert set(CONFIG_KEYS) == set(schema["properties"]["engine"]["properties"])


def test_defaults_and_a_null_chunk():
    assert Engine.from_config({}, lambda: 77) == Engine(chunk=77)
    settings = {"name": "fused", "dtype": "float64", "arithmetic": "doubledouble", "chunk": None}
    assert Engine.from_config(settings, lambda: 16384) == Engine(chunk=16384)
    named = {"name": "autodiff", "dtype": "auto", "arithmetic": "perturbation", "chunk": 64}
    assert Engine.from_config(named, never) == Engine(
        name="autodiff", dtype="auto", arithmetic="perturbation", chunk=64
    )


def test_refine_is_for_keyframes_only():
    for refine, expected in ((None, 0), (4, 4)):
        settings = {"chunk": 8, "refine": refine}
        assert Engine.from_config(settings, never).refine == 0
        assert Engine.from_config(settings, never, keyframe=True).refine == expected


def test_overrides_win():
    settings = {"dtype": "float64", "arithmetic": "doubledouble", "chunk": 8, "refine": 3}
    engine = Engine.from_config(
        settings, never, keyframe=True, dtype="float64x2", arithmetic="auto", threads=3, refine=0
    )
    assert engine == Engine(dtype="float64x2", arithmetic="auto", chunk=8, threads=3)


def test_unknown_key_is_refused_in_one_line():
    with pytest.raises(ValueError, match="engine: unknown key 'threads'") as err:
        Engine.from_config({"name": "fused", "threads": 2}, never)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="dtype must be one of"):
        Engine.from_config({"dtype": "float16", "chunk": 8}, never)
