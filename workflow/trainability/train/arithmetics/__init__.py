"""The arithmetics a sweep trains pixels in, behind one interface
(`trainability.train.arithmetics.base.Arithmetic`):

- ``plain``: float64 (the reference's) or float32, `trainability.train.arithmetics.plain`;
- ``doubledouble``: every pixel in double-double, the float64x2 precision's default,
  `trainability.train.arithmetics.doubledouble`;
- ``perturbation``: one double-double reference run, every pixel as its float64 difference
  from it, `trainability.train.arithmetics.perturbation`.

`of(engine)` is the one the engine names (made concrete by
`trainability.core.precision.resolve` first).
"""

from __future__ import annotations

from trainability.core.precision import FLOAT64X2
from trainability.train.arithmetics.base import Arithmetic
from trainability.train.arithmetics.doubledouble import DOUBLEDOUBLE
from trainability.train.arithmetics.perturbation import PERTURBATION
from trainability.train.arithmetics.plain import PLAIN

ARITHMETICS = {a.name: a for a in (PLAIN, DOUBLEDOUBLE, PERTURBATION)}


def of(engine) -> Arithmetic:
    """The arithmetic a concrete engine trains in: float64x2's own, else plain floating point."""
    if engine.dtype != FLOAT64X2:
        return PLAIN
    if engine.arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic {engine.arithmetic!r} is not concrete: resolve the engine")
    return ARITHMETICS[engine.arithmetic]
