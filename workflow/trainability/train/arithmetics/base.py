"""The interface every arithmetic of the sweep implements: how a chunk of pixels is trained, in
which numbers, from which start, and how its labels are read.

An `Arithmetic` is a named tuple of functions (in the spirit of optax's
``GradientTransformation``: no class to subclass, instances are values). The sweep
(`trainability.train.sweep`) calls them without knowing which arithmetic it holds:

- ``prepare(cond, window, data, weights0)``: once per sweep, what every chunk shares beyond the
  data, or None (the default; perturbation: its reference run);
  a prepared object has ``segment_data()`` (the last entry of the segment's data in place of the
  probe input) and ``meta()`` (what the grid's metadata records of it);
- ``start(cond, xs, ys, pixel_index, weights0, dtype, prepared)`` → `Start`: the host-side state
  of a block of pixels (flat lists of pixel-major arrays, so that the sweep can pack, pad and
  compact pixels without knowing what the arrays mean);
- ``enter(state)`` and ``leave(carry)``: the state as a compiled segment carries it and back;
- ``step(carry, t, hp, data, *, cond, engine_name, retire_factor)`` → carry: one training step
  and its streamed measure (`trainability.train.measure`), inside the compiled segment;
- ``finish(tally, steps, threshold)`` → (values, converged), converged ⇔ the tail's mean v
  is below ``threshold`` (`trainability.train.measure.threshold`);
- ``flagged(opt_state)``: pixels whose result cannot be trusted, to be computed again by the
  engine ``fallback(engine)`` returns (None: the arithmetic flags nothing).

The carry is (weights, optimizer state, tally, probe) for every arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Start(NamedTuple):
    """The host-side state of a block of pixels: pixel-major arrays, first axis the pixel."""

    weights: list  # one array per layer
    opt_state: list  # the optimizer's state arrays (perturbation: who is flagged)
    hp: dict  # the step's columns of the pixel table (`trainability.train.pixels`)
    tally: tuple  # the streamed measure, `trainability.train.measure.Tally`'s fields


def _nothing_flagged(opt_state) -> np.ndarray:
    return np.zeros(0, np.int64)


def _nothing_prepared(cond, window, data, weights0) -> None:
    return None


def _same(state):
    return state


class Arithmetic(NamedTuple):
    """How a sweep trains pixels (module docstring)."""

    name: str
    start: Callable
    step: Callable
    finish: Callable
    prepare: Callable = _nothing_prepared
    enter: Callable = _same
    leave: Callable = _same
    flagged: Callable = _nothing_flagged
    fallback: Callable | None = None
