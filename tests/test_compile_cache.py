"""The persistent compilation cache: same code hits it (same bits), changed code misses it."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from conftest import REPO

from trainability.numerics import compile_cache

SWEEP = """
import sys
import trainability.train.measure
from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.train.sweep import sweep
trainability.train.measure.LOSS_CAP = float(sys.argv[1])  # a constant traced into the step
grid = sweep(Condition(width=4, steps=3), Window.square((-1, 2, 0, 3), 4))
sys.stdout.buffer.write(grid.values.tobytes() + grid.converged.tobytes())
"""


def _sweep_in_a_new_process(cache, loss_cap: float) -> tuple[bytes, set[str]]:
    """(the grid's bytes, the compiled segments in the cache afterwards) of a fresh process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "workflow"),
        compile_cache.ENV: str(cache),
        "JAX_COMPILATION_CACHE_DIR": "",
    }
    cmd = [sys.executable, "-c", SWEEP, repr(loss_cap)]
    out = subprocess.run(cmd, env=env, capture_output=True, check=True).stdout
    return out, {p.name for p in cache.iterdir() if p.name.startswith("jit__segment")}


def test_same_code_hits_the_cache_and_a_changed_traced_constant_misses(tmp_path):
    first, stored = _sweep_in_a_new_process(tmp_path, 1e6)
    assert len(stored) == 1  # the segment was compiled and stored
    again, after = _sweep_in_a_new_process(tmp_path, 1e6)
    assert after == stored  # a hit: nothing new compiled
    assert again == first  # the cached executable computes the same bits
    _, changed = _sweep_in_a_new_process(tmp_path, 1e7)
    assert len(changed - stored) == 1  # a miss: compiled afresh and stored beside the old one


class _Config:
    def __init__(self, configured=None):
        self.jax_compilation_cache_dir = configured
        self.updates = {}

    def update(self, name, value):
        self.updates[name] = value


@pytest.mark.parametrize("value", ["off", "OFF", "0", "none"])
def test_the_off_switch_leaves_jax_alone(monkeypatch, value):
    monkeypatch.setenv(compile_cache.ENV, value)
    jax = SimpleNamespace(config=_Config())
    assert compile_cache.enable(jax) is None
    assert jax.config.updates == {}


def test_default_directory_and_thresholds(monkeypatch, tmp_path):
    monkeypatch.delenv(compile_cache.ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert compile_cache.cache_dir() == tmp_path / ".cache" / "trainability" / "jax"
    jax = SimpleNamespace(config=_Config())
    assert compile_cache.enable(jax) == tmp_path / ".cache" / "trainability" / "jax"
    assert jax.config.updates["jax_persistent_cache_min_compile_time_secs"] == 0.0
    assert jax.config.updates["jax_persistent_cache_min_entry_size_bytes"] == -1


def test_a_directory_jax_was_given_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "ours"))
    jax = SimpleNamespace(config=_Config(configured=str(tmp_path / "theirs")))
    assert compile_cache.enable(jax) == tmp_path / "theirs"
    assert jax.config.updates == {}


def test_an_uncreatable_directory_switches_the_cache_off_with_a_warning(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "file" / "cache"))
    jax = SimpleNamespace(config=_Config())
    with pytest.warns(UserWarning, match="compilation cache off"):
        assert compile_cache.enable(jax) is None
    assert jax.config.updates == {}
