"""The tile pyramid of a condition: where level z's tiles lie, exactly, at any depth.

The *root* is the condition's window [a, b] × [c, d] (window units: log10 on a log axis),
taken as the exact decimals its bounds print as (`trainability.core.coordinates.exact`). Level z
splits it into 2^z × 2^z tiles; tile (z, i, j) (i along x, j along y, j = 0 lowest) covers the
*cells*

    [a + i·W/2^z, a + (i+1)·W/2^z] × [c + j·H/2^z, c + (j+1)·H/2^z],   W = b − a, H = d − c,

and holds n × n pixels at the cells' centres: with h = W/(2^z·n), its pixel columns are
x_k = a + i·W/2^z + (k + ½)·h, k = 0 … n−1, i.e. the sweep of the window
[a + i·W/2^z + h/2, a + (i+1)·W/2^z − h/2] at n pixels (`tile_window`). Every bound is a + W times
a dyadic rational, so it is an exact decimal at every depth (no rounding: 25 decades down the
address is still exact, and the float64x2 engine receives exact bounds).

**The lattice** (docs/explorer.md has the argument). Level z's pixels are the centres of a
2^z·n × 2^z·n split of the root, so:

- a level is one grid: the union of its tiles is the sweep of `level_window` (z) =
  [a + h/2, b − h/2] at 2^z·n pixels, and adjacent tiles continue each other's pixel spacing h
  with no shared and no missing column (seamless);
- a tile's four children are exactly its quadrants (a map viewer's quadtree), so a parent tile
  drawn under its children covers exactly their cells;
- levels do not share pixels (a child's centres sit at ¼ and ¾ of the parent's cells). An
  edge-anchored lattice (centres on the tile edges, 2^k + 1 per side) would nest, but a shared
  point is only reusable when both levels compute it to the same bits, and ``logspace`` over
  two different windows does not promise that (the passes' old argument, docs/explorer.md);
  nesting would also make neighbours share a column (computed twice) and put level 0 a pixel
  outside the condition's window.

**What computes a tile** (`sweep_args`): for a level whose whole side has at most
`WHOLE_PIXELS` pixels, tile (z, i, j) is `sweep(cond, level_window(z), tile=(j, i),
tiles=(2^z, 2^z))`: the engine's tiles = whole property makes the level's tiles merge into
the level's whole sweep byte for byte. Deeper, the whole level's coordinates would not fit in
memory (2^z·n values per side), and a tile is the sweep of its own window (`tile_window`):
the same exact pixel positions, whose doubles are ``logspace`` of the tile's own bounds.
Level 0 is the whole root at n pixels: the window [a + W/2n, b − W/2n].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from trainability.core.coordinates import exact
from trainability.core.window import Window

MAX_LEVEL = 110  # 2^110 ≈ 1.3e33: past float64x2's own limit from any window of the study
WHOLE_PIXELS = 2**14  # levels up to this many pixels a side are tiles of their whole sweep


class PyramidError(ValueError):
    """A tile address that names no tile of the pyramid."""


@dataclass(frozen=True)
class Pyramid:
    """The root window (exact bounds x_min, x_max, y_min, y_max) and n pixels a tile side."""

    root: tuple[Fraction, Fraction, Fraction, Fraction]
    n: int

    @classmethod
    def of(cls, bounds, n: int) -> Pyramid:
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"a tile must be at least 2 pixels a side, got {n!r}")
        return cls(tuple(exact(b) for b in bounds), n)

    @property
    def widths(self) -> tuple[Fraction, Fraction]:
        x0, x1, y0, y1 = self.root
        return x1 - x0, y1 - y0

    def check(self, z: int, i: int, j: int) -> None:
        """Refuse, in one sentence, an address that names no tile."""
        if not 0 <= z <= MAX_LEVEL:
            raise PyramidError(f"z must be an integer from 0 to {MAX_LEVEL}, got {z}")
        side = 2**z
        for name, value in (("x", i), ("y", j)):
            if not 0 <= value < side:
                raise PyramidError(
                    f"{name} must be an integer from 0 to 2^{z} - 1 = {side - 1} at level {z}, "
                    f"got {value}"
                )

    def extent(self, z: int, i: int, j: int) -> tuple[Fraction, Fraction, Fraction, Fraction]:
        """The cells tile (z, i, j) covers: exact (x_min, x_max, y_min, y_max)."""
        self.check(z, i, j)
        (x0, _, y0, _), (w, h) = self.root, self.widths
        side = 2**z
        return (x0 + w * i / side, x0 + w * (i + 1) / side,
                y0 + h * j / side, y0 + h * (j + 1) / side)  # fmt: skip

    def tile_window(self, z: int, i: int, j: int) -> Window:
        """The window whose n × n pixels are tile (z, i, j)'s: its cells' centres."""
        x0, x1, y0, y1 = self.extent(z, i, j)
        hx, hy = (x1 - x0) / (2 * self.n), (y1 - y0) / (2 * self.n)
        return Window(x0 + hx, x1 - hx, y0 + hy, y1 - hy, self.n, self.n)

    def level_window(self, z: int) -> Window:
        """The whole of level z: 2^z·n pixels a side at the centres of the root's cells."""
        self.check(z, 0, 0)
        x0, x1, y0, y1 = self.root
        m = 2**z * self.n
        hx, hy = (x1 - x0) / (2 * m), (y1 - y0) / (2 * m)
        return Window(x0 + hx, x1 - hx, y0 + hy, y1 - hy, m, m)

    def sweep_args(self, z: int, i: int, j: int):
        """(window, tile, tiles) for `trainability.train.sweep.sweep` (module docstring)."""
        if z == 0:
            return self.tile_window(0, 0, 0), None, (1, 1)
        if 2**z * self.n <= WHOLE_PIXELS:
            return self.level_window(z), (j, i), (2**z, 2**z)
        return self.tile_window(z, i, j), None, (1, 1)

    def fractions(self, bounds) -> tuple[Fraction, Fraction, Fraction, Fraction]:
        """Window bounds as exact fractions of the root: u = (x − a)/W, v = (y − c)/H."""
        (x0, _, y0, _), (w, h) = self.root, self.widths
        bx0, bx1, by0, by1 = (exact(b) for b in bounds)
        return (bx0 - x0) / w, (bx1 - x0) / w, (by0 - y0) / h, (by1 - y0) / h

    def level_for(self, bounds, pixels: int) -> int:
        """The coarsest level whose pixels are at least ``pixels`` across the view on both
        axes: z = ⌈log2(pixels / (n·f))⌉ with f the view's width as a fraction of the root's,
        in [0, MAX_LEVEL]."""
        u0, u1, v0, v1 = self.fractions(bounds)
        z = 0
        for f in (u1 - u0, v1 - v0):
            need = math.log2(pixels / self.n) - _log2(f)
            z = max(z, math.ceil(need - 1e-9))
        return min(z, MAX_LEVEL)

    def covering(self, bounds, z: int) -> list[tuple[int, int]]:
        """The tiles (i, j) of level z that meet the view, nearest its centre first."""
        u0, u1, v0, v1 = self.fractions(bounds)
        side = 2**z
        i0, i1 = max(0, math.floor(u0 * side)), min(side - 1, math.ceil(u1 * side) - 1)
        j0, j1 = max(0, math.floor(v0 * side)), min(side - 1, math.ceil(v1 * side) - 1)
        cu, cv = (u0 + u1) * side / 2, (v0 + v1) * side / 2
        tiles = [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]
        half = Fraction(1, 2)

        def distance(t):
            return float((t[0] + half - cu) ** 2 + (t[1] + half - cv) ** 2), t

        return sorted(tiles, key=distance)


def _log2(q: Fraction) -> float:
    """log2 of a positive fraction, also where it underflows a double."""
    if q <= 0:
        raise ValueError("a width must be positive")
    return math.log2(q.numerator) - math.log2(q.denominator)
