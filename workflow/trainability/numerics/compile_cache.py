"""Compiled steps kept on disk, so that each new process (a Snakemake job, a test's subprocess, a
command-line sweep) loads what an earlier one compiled instead of compiling it again.

This is JAX's persistent compilation cache. An entry's key hashes everything the executable
depends on: the computation's StableHLO text (so every constant traced into it: a condition's
fields, the measure's caps, the chunk and segment sizes), the compile options, the XLA flags,
the JAX and jaxlib versions and the backend and device kind. Changed code that changes the traced
computation, or changed flags, therefore misses the cache and compiles afresh; unchanged code hits
it and runs the very executable it compiled before (the same bits). Every compilation is stored,
however quick or small (on a CPU most take well under JAX's default threshold of one second).

The directory is ``$TRAINABILITY_COMPILE_CACHE``, default ``~/.cache/trainability/jax`` (beside
the throughput calibration, `trainability.study.calibration`); ``TRAINABILITY_COMPILE_CACHE=off``
switches the cache off. A cache directory that cannot be created switches it off with a warning,
never an error. Entries are not evicted: delete the directory to reclaim the space (entries of
the paper's network are a few hundred KiB each).
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from pathlib import Path

ENV = "TRAINABILITY_COMPILE_CACHE"
OFF = ("off", "0", "false", "no", "none")


def cache_dir() -> Path | None:
    """The cache directory from ``$TRAINABILITY_COMPILE_CACHE``, or None when switched off."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in OFF:
        return None
    return Path(value).expanduser() if value else Path.home() / ".cache" / "trainability" / "jax"


def enable(jax) -> Path | None:
    """Point ``jax`` at the cache directory (unless the caller configured one for JAX already);
    returns the directory in use, or None when there is none."""
    configured = jax.config.jax_compilation_cache_dir
    if configured:
        return Path(configured)
    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        warnings.warn(f"compilation cache off: cannot create {path} ({err})", stacklevel=2)
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path


@contextmanager
def suspended():
    """Inside the block JAX neither reads nor writes the persistent cache, so every compilation
    in it is a real one: what the throughput calibration times
    (`trainability.study.calibration`)."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    enabled = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", enabled)
        compilation_cache.reset_cache()
