"""`Engine`: how a sweep is computed, never what (the condition says what).

The engine knobs are the gradient implementation (``fused``: hand-written backward pass, fast;
``autodiff``: `jax.grad` of the reference loss, for validation), the precision, and the work
decomposition: pixels per compiled chunk, steps per segment, pixels per host block, threads,
and early exit of diverged pixels (`trainability.train.sweep`). The chunk size is part of the
numerical definition, like the dtype; block, threads and tiles change no bit.

``refine`` = s ≥ 2 switches on label-only refinement (`trainability.train.refine`, off by default):
a lattice of every s-th pixel, then in full only the cells that may hold boundary; the other
pixels get an inferred label and no value. Every pixel it computes is bit-identical to the
full sweep's; the labels are for the dimension, the grid's values are incomplete.

Precisions (``dtype``): ``float64`` (the reference's), ``float32`` (a preview), ``float64x2``
(double-double arithmetic, ~32 digits, for windows narrower than float64 resolves:
`trainability.train.arithmetics.doubledouble`) and ``auto`` (float64 where the window's float64
guard passes, else float64x2; resolved per window when a sweep starts and recorded as the one used).

The arithmetic inside float64x2 (``arithmetic``): ``perturbation`` (one reference run in
double-double, every pixel as its float64 difference from it: a few times float64's cost,
`trainability.train.arithmetics.perturbation`), ``doubledouble`` (every pixel in double-double,
~100× float64,
computes more conditions) or ``auto`` (perturbation where it supports the condition, else
double-double); resolved when a sweep starts and recorded as the one used. It means nothing for
the other dtypes.

A study's config names the engine in its ``engine:`` mapping (workflow/schemas/config.schema.yaml):
`Engine.from_config` is the one reading of it. There a null ``chunk`` is the machine's default
(`trainability.train.sweep.default_chunk`) and ``refine`` refines zoom keyframes only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ENGINES = ("fused", "autodiff")
DTYPES = ("float64", "float32", "float64x2", "auto")
# float64x2's arithmetics; the first is the default (docs/precision.md)
ARITHMETICS = ("doubledouble", "auto", "perturbation")
# the keys of a config's engine mapping, as the schema declares them (tests/test_engine.py)
CONFIG_KEYS = ("name", "dtype", "arithmetic", "chunk", "refine")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a Slurm or taskset allotment),
    the command line's default number of threads."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Engine:
    """How a sweep is computed (never what): engine, precision and work decomposition."""

    name: str = ENGINES[0]
    dtype: str = DTYPES[0]
    arithmetic: str = ARITHMETICS[0]
    chunk: int = 128
    segment: int = 25
    block: int = 8192
    threads: int = 1
    early_exit: bool = True
    refine: int = 0  # label-only refinement's lattice stride; 0 = off

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {self.name!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {self.dtype!r}")
        if self.arithmetic not in ARITHMETICS:
            raise ValueError(
                f"arithmetic must be one of {', '.join(ARITHMETICS)}; got {self.arithmetic!r}"
            )
        for name in ("chunk", "segment", "block", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        refine = self.refine
        if isinstance(refine, bool) or not isinstance(refine, int) or refine < 0 or refine == 1:
            raise ValueError(f"refine must be 0 (off) or an integer >= 2, got {self.refine!r}")

    @classmethod
    def from_config(
        cls,
        settings: Mapping[str, Any],
        default_chunk: Callable[[], int],
        *,
        keyframe: bool = False,
        **overrides: Any,
    ) -> Engine:
        """The engine a config's ``engine:`` mapping names (keys `CONFIG_KEYS`; an absent one
        takes the field's default). A null ``chunk`` is ``default_chunk()``, the machine's
        (`trainability.train.sweep.default_chunk`, asked only then); ``refine`` applies to zoom
        keyframes only (``keyframe``), null being off. ``overrides`` then replace fields: a
        zoom's dtype, a job's threads. An unknown key is refused in one line."""
        unknown = sorted(set(settings) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(
                f"engine: unknown key {unknown[0]!r}; the keys are {', '.join(CONFIG_KEYS)}"
            )
        fields = {k: settings[k] for k in ("name", "dtype", "arithmetic") if k in settings}
        fields["chunk"] = settings.get("chunk") or default_chunk()
        fields["refine"] = (settings.get("refine") or 0) if keyframe else 0
        return cls(**{**fields, **overrides})
