"""A point of the trainability boundary, located by multisection in exact coordinates.

Along the horizontal line y = y₀ (log10), between x = a and x = b whose labels (converged or
not) differ, each level sweeps n = 2^m + 1 pixels spaced evenly over the current bracket
[a, b] and keeps the leftmost pair of neighbours whose labels differ: the bracket shrinks by
2^m per level, and the labels at its two ends differ at every level, so a boundary point lies
inside it however fine it gets. The search stops once the bracket is at most ``precision``
decades wide and returns its midpoint. Brackets are exact rationals
(`trainability.core.coordinates`):
a + j·(b − a)/2^m stays a terminating decimal, which decimal text writes with every digit.

Each level is one row of pixels (the first row of a two-row window, swept alone as tile
(0, 0) of a 2 × 1 split), in one compiled chunk of n pixels. The precision of each level is
the engine's ``dtype``; with ``auto`` it is float64 while float64 tells the row's pixels apart
and float64x2 below that. Where a pixel's label depends on the last bits of its learning rate
(the chaotic band), or where a bracket end lies on the boundary to within the arithmetic's
resolution, that end swept again at the next level may change label. The level then keeps the
leftmost change it finds; if its row has a single label, the end that changed is where the
boundary is, to within the arithmetic's resolution, and the search stops there: it returns
that end as the point, with the last bracket. A row past the engine's precision also ends the
search early, at the finest bracket the arithmetic draws. Either way a note in the last level
says why it stopped.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from trainability.core.condition import Condition
from trainability.core.coordinates import exact, text
from trainability.core.precision import PrecisionError
from trainability.core.window import Window
from trainability.train.sweep import Engine, sweep


@dataclasses.dataclass(frozen=True)
class BoundaryPoint:
    """The midpoint ``x`` of the last bracket [``lo``, ``hi``] on the line y = ``y`` (exact
    log10 values), and what each level of the search saw (``levels``: bracket, dtype)."""

    x: Fraction
    y: Fraction
    lo: Fraction
    hi: Fraction
    levels: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {
            "x": text(self.x),
            "y": text(self.y),
            "bracket": [text(self.lo), text(self.hi)],
            "levels": list(self.levels),
        }


def locate(
    cond: Condition,
    line: tuple,
    precision,
    engine: Engine | None = None,
    points: int = 17,
) -> BoundaryPoint:
    """The leftmost-crossing boundary point on ``line`` = (x_a, x_b, y) to ``precision``
    decades (module docstring). ``points`` = 2^m + 1 pixels per level."""
    m = (points - 1).bit_length() - 1
    if points < 3 or points != 2**m + 1:
        raise ValueError(f"points must be 2^m + 1 >= 3 (e.g. 9, 17, 33), got {points}")
    lo, hi, y = (exact(v) for v in line)
    precision = exact(precision)
    if not lo < hi:
        raise ValueError(f"the line needs x_a < x_b, got {text(lo)} >= {text(hi)}")
    if not precision > 0:
        raise ValueError(f"precision must be > 0 decades, got {text(precision)}")
    engine = dataclasses.replace(engine or Engine(), chunk=points)
    levels, ends = [], None  # ends: the labels the current bracket's ends had when chosen
    while True:
        window = Window(lo, hi, y, y + (hi - lo), points, 2)
        try:
            grid = sweep(cond, window, engine, tile=(0, 0), tiles=(2, 1))
        except PrecisionError:
            if not levels:
                raise
            levels.append({"stopped": "the next row is past the engine's precision"})
            return BoundaryPoint((lo + hi) / 2, y, lo, hi, tuple(levels))
        labels = grid.converged[0]
        if not levels and labels[0] == labels[-1]:
            raise ValueError(
                f"the boundary line x in [{text(lo)}, {text(hi)}] at y = {text(y)} has the same "
                f"label at both ends; choose a line that crosses the boundary"
            )
        changes = np.flatnonzero(labels[1:] != labels[:-1])
        if changes.size == 0:  # an end of the bracket, swept again, changed label
            note = "an end of the bracket changed label when swept again: the boundary is at it"
            levels.append({"stopped": note + " to within the arithmetic's resolution"})
            end = lo if labels[0] == ends[1] else hi
            return BoundaryPoint(end, y, lo, hi, tuple(levels))
        j = int(changes[0])
        ends = labels[j], labels[j + 1]
        step = (hi - lo) / (points - 1)
        lo, hi = lo + j * step, lo + (j + 1) * step  # both from the old lo
        levels.append({"bracket": [text(lo), text(hi)], "dtype": grid.meta["dtype"]})
        if hi - lo <= precision:
            return BoundaryPoint((lo + hi) / 2, y, lo, hi, tuple(levels))
