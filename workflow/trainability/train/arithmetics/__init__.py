"""The arithmetics a sweep trains pixels in, behind one interface
(`trainability.train.arithmetics.base.Arithmetic`):

- ``plain``: float64 (the reference's) or float32, `trainability.train.arithmetics.plain`;
- ``doubledouble``: every pixel in double-double, the float64x2 precision's default,
  `trainability.train.arithmetics.doubledouble`;
- ``perturbation``: one double-double reference run, every pixel as its float64 difference
  from it, `trainability.train.arithmetics.perturbation`;
- ``generic``: any network but the paper's mlp on gaussian data (`Condition.generic`), by
  `jax.grad` and optax in float64 (or float32), `trainability.train.arithmetics.generic`.

`of(engine, cond)` is the one the condition and the engine name (the engine made concrete by
`trainability.core.precision.resolve` first, which refuses float64x2 for generic networks).
"""

from __future__ import annotations

from trainability.core.precision import FLOAT64X2
from trainability.train.arithmetics.base import Arithmetic
from trainability.train.arithmetics.doubledouble import DOUBLEDOUBLE
from trainability.train.arithmetics.generic import GENERIC
from trainability.train.arithmetics.perturbation import PERTURBATION
from trainability.train.arithmetics.plain import PLAIN

ARITHMETICS = {a.name: a for a in (PLAIN, DOUBLEDOUBLE, PERTURBATION, GENERIC)}


def of(engine, cond=None) -> Arithmetic:
    """The arithmetic a concrete engine trains ``cond`` in: the generic path for a generic
    condition (refusing engine autodiff, the mlp's validation engine: `jax.grad` is the generic
    path's only gradient), float64x2's own, else plain floating point."""
    if cond is not None and cond.generic:
        if engine.name != "fused":
            raise ValueError(
                f"engine {engine.name} validates the mlp's hand-written gradient on gaussian "
                f"data; model {cond.model} on data {cond.data} has only its jax.grad gradient: "
                f"use engine fused"
            )
        return GENERIC  # float64x2 refused it already (`trainability.core.precision`)
    if engine.dtype != FLOAT64X2:
        return PLAIN
    if engine.arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic {engine.arithmetic!r} is not concrete: resolve the engine")
    return ARITHMETICS[engine.arithmetic]
