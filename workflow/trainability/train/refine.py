"""Label-only refinement: a grid's labels from a coarse lattice and the cells near the boundary.

A box-counting dimension reads only the labels (converged / diverged), and far from the boundary
they are constant. The rule, for a grid of ny × nx pixels and a stride s:

1. **Lattice.** Compute the pixels on rows and columns 0, s, 2s, … and the last one (the lattice
   is a subset of the grid's own pixels: the same hyperparameters, the same bits). Consecutive
   lattice lines bound *cells* of at most (s+1) × (s+1) pixels, corners and edges included.
2. **Flag.** A cell may hold boundary when its four corners disagree in label, or when their
   values disagree: the value (the convergence measure, −Σv converged, +Σ1/v diverged) is a
   smooth function of the hyperparameters away from the boundary and changes fast near it, so a
   cell whose corners' log |value| spread by more than ``roughness`` is evidence of boundary
   close by. Cells whose corners disagree in label, and every cell within ``guard`` cells of
   one (Chebyshev distance), and the cells with that evidence are computed in full.
3. **Follow.** A cell not computed whose edge pixels, computed as a flagged neighbour's, hold a
   label other than its corners' is flagged too (with its guard ring); repeat until none is.
   A boundary that enters a cell across an edge is thus always followed into it; what can be
   missed is an island lying wholly inside an unflagged cell, which only the evidence can reveal.
4. **Infer.** Every pixel not computed takes the common label of its cell's corners.

`refine` runs the rule against any ``compute`` function (pixel rows, cols → values, labels), so
the same code measures the rule on a grid already computed in full (`oracle`) and drives a
sweep (`trainability.train.sweep`, ``Engine(refine=s)``). Its result says which pixels were
computed;
the saving is pixels / computed pixels. ``GUARD`` and ``ROUGHNESS`` are the settings that kept
every label of the paper's six panels at 64² and 128² (docs/speed.md, *Label-only refinement*);
what they save depends on the boundary's dimension D: the cells along the boundary number
~(n/s)^D, so the computed share falls like n^(D−2) with the resolution n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GUARD = 1  # cells around a cell whose corners disagree
ROUGHNESS = 0.02  # spread of log |value| over a cell's corners that flags it

Compute = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Refinement:
    """Labels of a whole grid, values where computed (NaN elsewhere), and which were computed."""

    values: np.ndarray  # (ny, nx) float64, NaN where inferred
    converged: np.ndarray  # (ny, nx) bool, computed or inferred
    computed: np.ndarray  # (ny, nx) bool
    passes: int  # compute calls: the lattice, then one per round of flagged cells

    @property
    def fraction(self) -> float:
        """Share of the grid's pixels that were computed."""
        return float(self.computed.mean())


def lattice(n: int, stride: int) -> np.ndarray:
    """Indices of the lattice lines along an axis of n pixels: 0, s, 2s, … and n − 1."""
    return np.unique(np.r_[np.arange(0, n, stride), n - 1])


def oracle(values: np.ndarray, converged: np.ndarray) -> Compute:
    """A ``compute`` that looks pixels up in a grid computed in full."""
    return lambda rows, cols: (values[rows, cols], converged[rows, cols])


def refine(
    compute: Compute,
    shape: tuple[int, int],
    stride: int,
    guard: int = GUARD,
    roughness: float = ROUGHNESS,
) -> Refinement:
    """Labels of a ``shape`` grid by the rule of this module (``compute`` is asked for each
    pixel at most once, in a few batches)."""
    ny, nx = shape
    if not (isinstance(stride, int | np.integer) and not isinstance(stride, bool) and stride >= 2):
        raise ValueError(f"stride must be an integer >= 2, got {stride!r}")
    rows, cols = lattice(ny, stride), lattice(nx, stride)
    values = np.full(shape, np.nan)
    labels = np.zeros(shape, bool)
    computed = np.zeros(shape, bool)

    def ask(mask):
        r, c = np.nonzero(mask & ~computed)
        if r.size:
            values[r, c], labels[r, c] = compute(r, c)
            computed[r, c] = True

    on_lattice = np.zeros(shape, bool)
    on_lattice[np.ix_(rows, cols)] = True
    if min(shape) < 2:  # a single row or column has no cells: every pixel is on the lattice
        on_lattice[:] = True
    ask(on_lattice)
    passes = 1
    corner = labels[np.ix_(rows, cols)]
    mixed = _cell_any(corner) & ~_cell_all(corner)
    flagged = _dilate(mixed, guard) | (_cell_spread(values[np.ix_(rows, cols)]) > roughness)
    done = np.zeros_like(flagged)
    while (flagged & ~done).any():
        ask(_cell_pixels(flagged & ~done, rows, cols, shape))
        passes += 1
        done |= flagged
        crossed = _crossed(labels, computed, corner, rows, cols) & ~done
        flagged = done | _dilate(crossed, guard)
    inferred = _cell_pixels(~done, rows, cols, shape) & ~computed
    cell_label = _cell_all(corner)  # unflagged cells have uniform corners
    labels[inferred] = _spread(cell_label, rows, cols, shape)[inferred]
    return Refinement(values, labels, computed, passes)


def _cell_spread(corner_values: np.ndarray) -> np.ndarray:
    """max − min of log |value| over each cell's four corners."""
    a = np.log(np.abs(corner_values))
    four = np.stack([a[:-1, :-1], a[1:, :-1], a[:-1, 1:], a[1:, 1:]])
    return four.max(axis=0) - four.min(axis=0)


def _cell_any(corner: np.ndarray) -> np.ndarray:
    return corner[:-1, :-1] | corner[1:, :-1] | corner[:-1, 1:] | corner[1:, 1:]


def _cell_all(corner: np.ndarray) -> np.ndarray:
    return corner[:-1, :-1] & corner[1:, :-1] & corner[:-1, 1:] & corner[1:, 1:]


def _dilate(cells: np.ndarray, radius: int) -> np.ndarray:
    """Cells within Chebyshev distance ``radius`` of a true cell."""
    out = cells.copy()
    ci, cj = cells.shape
    for di in range(-radius, radius + 1):
        for dj in range(-radius, radius + 1):
            src = cells[max(0, -di) : ci - max(0, di), max(0, -dj) : cj - max(0, dj)]
            out[max(0, di) : ci - max(0, -di), max(0, dj) : cj - max(0, -dj)] |= src
    return out


def _cell_pixels(cells: np.ndarray, rows, cols, shape) -> np.ndarray:
    """Pixel mask of the closed rectangles of the true cells."""
    mask = np.zeros(shape, bool)
    for i, j in zip(*np.nonzero(cells), strict=True):
        mask[rows[i] : rows[i + 1] + 1, cols[j] : cols[j + 1] + 1] = True
    return mask


def _spread(cell_value: np.ndarray, rows, cols, shape) -> np.ndarray:
    """Each pixel gets the value of the cell it lies in (edge pixels: the later cell's)."""
    ri = np.clip(np.searchsorted(rows, np.arange(shape[0]), side="right") - 1, 0, len(rows) - 2)
    cj = np.clip(np.searchsorted(cols, np.arange(shape[1]), side="right") - 1, 0, len(cols) - 2)
    return cell_value[np.ix_(ri, cj)]


def _crossed(labels, computed, corner, rows, cols) -> np.ndarray:
    """Cells holding a computed pixel whose label differs from the cell's (uniform) corners."""
    uniform = _cell_all(corner) | ~_cell_any(corner)
    label = _cell_all(corner)
    out = np.zeros(uniform.shape, bool)
    for i, j in zip(*np.nonzero(uniform), strict=True):
        block = np.s_[rows[i] : rows[i + 1] + 1, cols[j] : cols[j + 1] + 1]
        seen = computed[block]
        out[i, j] = bool((labels[block][seen] != label[i, j]).any())
    return out
