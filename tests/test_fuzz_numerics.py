"""Generated numerics: random small windows (log and linear axes), tilings, chunk sizes, blocks
and thread counts over a few conditions (activation, depth, minibatches, optimizer).

Three properties, each on grids of at most 6x6 pixels, 40 steps, width 4:

1. **The decomposition changes no bit.** For one chunk size, the tiles of any split merged by
   `merge_tiles` equal the whole sweep byte for byte (values, labels, step counts, axes), and so
   does the whole sweep on other block sizes and thread counts. (The chunk size is part of the
   numerical definition — XLA picks kernels by operand size — so it is drawn, then held fixed
   within an example: `trainability.train.sweep`.)
2. **fused and autodiff agree on every resolved label.** The two engines compute the same
   arithmetic in another order, so they differ by rounding (~1e-16 relative per step), which a
   chaotic pixel amplifies into another label. The chaos floor: a pixel is *unresolved* when
   its label, in either engine, flips when the learning rate on the x axis is nudged by 1e-9
   relative (the window moved by ±log10(1 + 1e-9) decades, every pixel's x value multiplied
   by 1 ± 1e-9 up to the rounding of logspace). Labels may differ only at unresolved pixels.
   A perturbation of 1e-9 is ~1e7 times the engines' rounding difference: a pixel that does
   not move under it is taken to be resolved, and must agree exactly.
3. **float64x2 agrees with float64 wherever float64 resolves the window.** The windows are
   decades wide, so float64's own guard passes. Labels may differ only at *boundary pixels*: a
   pixel whose 4-neighbourhood (itself and its up/down/left/right neighbours inside the grid)
   holds both labels in the float64 grid, or an unresolved pixel as in 2 (float64's label flips
   under the ±1e-9 nudge). Away from the boundary the two precisions must give the same label.

Profiles as in ``tests/test_fuzz.py``: under ``CI`` derandomized with a handful of examples
per property (the whole file in well under a minute), more and at random otherwise; no example
database on disk. Conditions are drawn from a short list so compiled segments are reused.
"""

import math
import os
from random import Random

import numpy as np
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.core.condition import Condition
from trainability.core.grid import merge_tiles
from trainability.core.window import Window
from trainability.train.sweep import Engine, sweep

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, database=None, print_blob=True
)
settings.register_profile("dev", max_examples=300, deadline=None, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
CI = bool(os.environ.get("CI"))
SLOW_OK = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

NUDGE = 1e-9  # relative nudge of the learning rate that decides an unresolved pixel
SHIFT = math.log10(1 + NUDGE)  # the same nudge in decades of a log axis

SMALL = {"width": 4, "dataset_size": 8, "steps": 40}
# (condition, x range in decades, y range: decades or the linear axis's values), from a fixed
# list so that examples share compiled segments; each range holds the condition's boundary
CONDITIONS = [
    (Condition(**SMALL), (-2.0, 4.0), (0.0, 2.5)),
    (Condition(**SMALL, activation="relu", depth=3), (-1.0, 2.0), (0.5, 2.5)),
    (Condition(**SMALL, activation="sigmoid", batch_size=3), (-2.0, 4.0), (0.0, 2.5)),
    (Condition(**SMALL, activation="identity", depth=1), (0.0, 2.0), (-2.0, 4.0)),
    (Condition(**SMALL, epsilon=0.05), (-2.0, 4.0), (0.0, 2.5)),  # per-pixel weight noise
    (
        Condition(
            **SMALL, optimizer="momentum", phase_space="custom", x_axis="lr",
            y_axis="momentum", y_scale="linear",
        ),
        (0.0, 2.0),
        (0.0, 0.95),
    ),
    (
        Condition(
            **SMALL, optimizer="adam", phase_space="custom", x_axis="lr", y_axis="beta2",
            y_scale="linear",
        ),
        (-0.5, 1.0),
        (0.5, 0.999),
    ),
]  # fmt: skip


@st.composite
def cases(draw, max_side=6, min_width=0.02, conditions=CONDITIONS):
    """A condition and a window of 2..max_side pixels per side inside its ranges: x a log axis
    (decades), y log or linear (the condition's y_scale)."""
    cond, (x_lo, x_hi), (y_lo, y_hi) = draw(st.sampled_from(conditions))
    width = draw(st.floats(min_width, x_hi - x_lo))
    x_min = draw(st.floats(x_lo, x_hi - width))
    height = draw(st.floats(min_width, y_hi - y_lo))
    y_min = draw(st.floats(y_lo, y_hi - height))
    nx, ny = draw(st.integers(2, max_side)), draw(st.integers(2, max_side))
    return cond, Window(x_min, x_min + width, y_min, y_min + height, nx, ny)


def same_bytes(a, b, keys=("values", "converged", "x", "y", "diverged_at", "blowup_at")):
    for key in keys:
        left, right = getattr(a, key), getattr(b, key)
        assert left.dtype == right.dtype and left.shape == right.shape, key
        assert left.tobytes() == right.tobytes(), key


def nudged(window, sign):
    """The window with its x axis (log, decades) moved by sign·log10(1 + 1e-9)."""
    d = sign * SHIFT
    return Window(window.x_min + d, window.x_max + d, *window.bounds[2:], window.nx, window.ny)


def unresolved(cond, window, engine):
    """Pixels whose label flips under the ±1e-9 nudge of the learning rate (x axis)."""
    base = sweep(cond, window, engine).converged
    flips = np.zeros_like(base)
    for sign in (-1, 1):
        flips |= sweep(cond, nudged(window, sign), engine).converged != base
    return base, flips


def phases(labels):
    """Report (hypothesis statistics) whether an example's grid holds both phases."""
    event("both phases" if labels.any() and not labels.all() else "one phase")


def boundary(labels):
    """Pixels whose 4-neighbourhood (itself and its neighbours inside the grid) holds both
    labels."""
    out = np.zeros_like(labels)
    row = labels[:, 1:] != labels[:, :-1]
    col = labels[1:] != labels[:-1]
    out[:, 1:] |= row
    out[:, :-1] |= row
    out[1:] |= col
    out[:-1] |= col
    return out


# ----------------------------------------------------------------------------- 1. decomposition


TWO_PHASES = (CONDITIONS[4][0], Window(-1.0, 3.0, 0.0, 2.5, 6, 5))  # tanh, noise: both phases


@settings(max_examples=6 if CI else 30, suppress_health_check=SLOW_OK)
@given(
    case=cases(),
    chunk=st.sampled_from([1, 3, 8, 128]),
    split=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    threads=st.integers(1, 3),
    block=st.integers(1, 40),
    order=st.randoms(use_true_random=False),
)
@example(case=TWO_PHASES, chunk=3, split=(2, 3), threads=2, block=7, order=Random(0))
def test_tiles_blocks_and_threads_change_no_bit(case, chunk, split, threads, block, order):
    cond, window = case
    whole = sweep(cond, window, Engine(chunk=chunk))
    phases(whole.converged)
    ti, tj = min(split[0], window.ny), min(split[1], window.nx)
    engine = Engine(chunk=chunk, threads=threads, block=block)
    tiles = [
        sweep(cond, window, engine, tile=(i, j), tiles=(ti, tj))
        for i in range(ti)
        for j in range(tj)
    ]
    order.shuffle(tiles)  # merge_tiles takes the tiles in any order
    merged = merge_tiles(tiles)
    same_bytes(merged, whole)
    assert merged.meta == whole.meta
    same_bytes(sweep(cond, window, engine), whole)


# ----------------------------------------------------------------------------- 2. engines


@settings(max_examples=4 if CI else 25, suppress_health_check=SLOW_OK)
@given(case=cases())
@example(case=(CONDITIONS[0][0], TWO_PHASES[1]))
def test_fused_and_autodiff_agree_on_every_resolved_label(case):
    cond, window = case
    fused, fused_flips = unresolved(cond, window, Engine(name="fused"))
    autodiff, autodiff_flips = unresolved(cond, window, Engine(name="autodiff"))
    differ = fused != autodiff
    phases(fused)
    event(
        f"{int(differ.sum())} labels differ, {int((fused_flips | autodiff_flips).sum())} unresolved"
    )
    assert not (differ & ~(fused_flips | autodiff_flips)).any(), (
        f"labels differ at resolved pixels:\n{differ.astype(int)}\n"
        f"fused:\n{fused.astype(int)}\nautodiff:\n{autodiff.astype(int)}"
    )


# ----------------------------------------------------------------------------- 3. float64x2

X2_CONDITIONS = CONDITIONS[:3]  # double-double: gd, tanh/relu, full and minibatch


@settings(max_examples=2 if CI else 12, suppress_health_check=SLOW_OK)
@given(case=cases(max_side=5, min_width=0.1, conditions=X2_CONDITIONS))
@example(case=(CONDITIONS[0][0], Window(-1.0, 3.0, 0.0, 2.5, 5, 5)))
def test_float64x2_agrees_with_float64_except_at_boundary_pixels(case):
    cond, window = case
    f64, flips = unresolved(cond, window, Engine())
    x2 = sweep(cond, window, Engine(dtype="float64x2"))
    assert x2.meta["dtype"] == "float64x2"
    np.testing.assert_allclose(x2.x, sweep(cond, window).x, rtol=1e-15)  # the same pixels
    differ = f64 != x2.converged
    phases(f64)
    event(f"{int(differ.sum())} labels differ, {int((boundary(f64) | flips).sum())} allowed")
    allowed = boundary(f64) | flips
    assert not (differ & ~allowed).any(), (
        f"labels differ away from the boundary:\n{differ.astype(int)}\n"
        f"float64:\n{f64.astype(int)}\nfloat64x2:\n{x2.converged.astype(int)}"
    )
