"""Windows in hyperparameter space, their pixel coordinates, tiles and the float64 guard.

A `Window` is the rectangle [x_min, x_max] × [y_min, y_max] sampled by nx × ny pixels. On a
``log`` axis (the default, the reference's) the bounds are log10 values and the pixel values are
exactly ``logspace(x_min, x_max, nx)``; on a ``linear`` axis the bounds are the values
themselves and the pixel values are exactly ``np.linspace(x_min, x_max, nx)`` (pixel centres on
the edges in both cases, as in the reference). Row index = y. The scale of each axis belongs to
the condition (``Condition.x_scale``, ``y_scale``) and is passed to `Window.axes`.

float64 has ~16 significant digits, so a window narrower than ~1e-14 decades around a
coordinate of order one maps neighbouring pixels onto the same float64 value and the image
turns into stripes. `Window.axes` refuses such a window (the guard of
`trainability.core.precision`); the engine's ``float64x2`` precision goes ~15 decades further.
For it a bound may be exact (decimal text, a `Decimal` or `Fraction`:
`trainability.core.coordinates`); `axes` rounds exact bounds to doubles.

A tile (i, j) of a ti × tj split is the block of rows ``split(ny, ti)[i]`` and columns
``split(nx, tj)[j]``; its coordinates are slices of the whole window's, so a grid merged from
tiles is the grid computed whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trainability.core.coordinates import coordinate, exact, is_exact, text
from trainability.core.machine import machine_memory
from trainability.core.precision import float64_guard
from trainability.numerics.jax64 import jnp

AXIS_BYTES = 64  # peak bytes per pixel of one side while its coordinates are computed
PAPER_WINDOW = (-3.0, 6.0, -3.0, 6.0)  # log10 bounds: the paper's 9-decade overview
# log10 bounds of a network's learning-rate plane that hold a trained and an untrainable phase
# (the cross-entropy's rule: the tail's mean v below ½), measured on 16² grids, 50–200 steps
# (benchmarks/real_windows.py, docs/real_networks.md): the mlp on digits diverges past
# η_output ≈ 10^5.4; the cnn (relu) diverges past η_dense ≈ 10^1.4 and dies (stuck at chance)
# past η_conv ≈ 10^0 … 10^1.5 — its tanh network with the cross-entropy has no untrainable phase
# up to 10^8 on either axis; the transformer diverges across a diagonal through
# η_embedding ≈ 10^0.5 … 10^2
LR_WINDOWS = {"mlp": PAPER_WINDOW, "cnn": (-2.0, 4.0, -2.0, 4.0),
              "transformer": (-1.0, 3.0, -1.0, 3.0)}  # fmt: skip
# with Adam (a step of about η per weight whatever the gradient's size) the phases lie lower:
# the cnn (relu) dies past η_conv2 ≈ 10^0.8 and diverges past η_dense ≈ 10^1 (η_conv2 above
# 10^−0.8); the transformer diverges past η_attention ≈ 10^0.4 or η_feedforward ≈ 10^1.2 (the
# other groups at 10^−3; 16², 50 steps, 40 digits)
ADAM_LR_WINDOWS = {"cnn": (-4.0, 2.0, -4.0, 2.0), "transformer": (-4.0, 2.0, -4.0, 2.0)}


def default_bounds(cond) -> tuple[float, float, float, float]:
    """The window a sweep of ``cond`` takes when none is given: its network's
    learning-rate plane (`LR_WINDOWS`; `ADAM_LR_WINDOWS` with Adam) when both axes are learning
    rates on log scales, else the paper's overview bounds."""
    from trainability.core.condition import LR_AXES

    rates = all(name in LR_AXES for name in cond.axis_names)
    if rates and (cond.x_scale, cond.y_scale) == ("log", "log"):
        if cond.optimizer == "adam" and cond.model in ADAM_LR_WINDOWS:
            return ADAM_LR_WINDOWS[cond.model]
        return LR_WINDOWS[cond.model]
    return PAPER_WINDOW


@dataclass(frozen=True)
class Window:
    """Bounds (log10 values on a log axis, raw values on a linear one) and resolution of a
    2-D hyperparameter grid."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float
    nx: int
    ny: int

    def __post_init__(self) -> None:
        for name in ("x_min", "x_max", "y_min", "y_max"):
            if not isinstance(getattr(self, name), float | int):  # exact: text, Fraction...
                object.__setattr__(self, name, coordinate(getattr(self, name)))
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"window {name} must be finite, got {getattr(self, name)}")
        # in the numbers the bounds stand for: a float next to an exact bound is its decimal
        if not exact(self.x_min) < exact(self.x_max):
            raise ValueError(f"window needs x_min < x_max, got {self.x_min} >= {self.x_max}")
        if not exact(self.y_min) < exact(self.y_max):
            raise ValueError(f"window needs y_min < y_max, got {self.y_min} >= {self.y_max}")
        for name in ("nx", "ny"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 2:
                raise ValueError(f"resolution {name} must be an integer >= 2, got {value!r}")

    @classmethod
    def square(cls, bounds, resolution: int) -> Window:
        x_min, x_max, y_min, y_max = (coordinate(b) for b in bounds)
        return cls(x_min, x_max, y_min, y_max, resolution, resolution)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x_min, self.x_max, self.y_min, self.y_max)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    def axes(self, x_scale: str = "log", y_scale: str = "log") -> tuple[np.ndarray, np.ndarray]:
        """Hyperparameter values (x, y) of the pixels as doubles, after the float64 guard
        (`trainability.core.precision.float64_guard`)."""
        for name, scale in (("x_scale", x_scale), ("y_scale", y_scale)):
            if scale not in ("log", "linear"):
                raise ValueError(f"{name} must be one of log, linear; got {scale!r}")
        for name, n in (("nx", self.nx), ("ny", self.ny)):
            if AXIS_BYTES * n > machine_memory():  # before numpy tries (or JAX aborts)
                raise ValueError(
                    f"resolution {name} = {n} pixels: the coordinates of one side alone "
                    f"need more than this machine's memory; lower it"
                )
        x_min, x_max, y_min, y_max = (float(b) for b in self.bounds)
        x = _axis(x_min, x_max, self.nx, x_scale)
        y = _axis(y_min, y_max, self.ny, y_scale)
        float64_guard(self, x, y, x_scale, y_scale)
        return x, y

    def tile(self, i: int, j: int, tiles: tuple[int, int]) -> tuple[slice, slice]:
        """Row and column slices of tile (i, j) in a tiles = (ti, tj) split."""
        ti, tj = tiles
        if not (1 <= ti <= self.ny and 1 <= tj <= self.nx):
            raise ValueError(
                f"tiles must be between 1x1 and {self.ny}x{self.nx} for this window, got {ti}x{tj}"
            )
        if not (0 <= i < ti and 0 <= j < tj):
            raise ValueError(f"tile index ({i}, {j}) is outside a {ti}x{tj} split")
        return _split(self.ny, ti)[i], _split(self.nx, tj)[j]

    def centre(self) -> tuple[float, float]:
        return ((self.x_min + self.x_max) / 2, (self.y_min + self.y_max) / 2)

    def to_dict(self) -> dict:
        """Bounds as numbers, exact ones as decimal text (`trainability.core.coordinates.text`)."""
        bound = {name: getattr(self, name) for name in ("x_min", "x_max", "y_min", "y_max")}
        return {
            **{k: text(v) if is_exact(v) else v for k, v in bound.items()},
            "nx": self.nx,
            "ny": self.ny,
        }


def _axis(lo: float, hi: float, n: int, scale: str = "log") -> np.ndarray:
    """``jnp.logspace`` as the reference computes it (log), or ``np.linspace`` of the bounds
    (linear), as a float64 numpy array."""
    if scale == "linear":
        return np.linspace(lo, hi, n, dtype=np.float64)
    return np.asarray(jnp.logspace(lo, hi, n, dtype=jnp.float64))


def _split(n: int, parts: int) -> list[slice]:
    edges = [k * n // parts for k in range(parts + 1)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
