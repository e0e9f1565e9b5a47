"""Plain floating point: every pixel trained in the engine's dtype (float64, the reference's; or
float32, a preview), the step `trainability.train.step.train_step` over plain arrays and the
measure `trainability.train.measure` as they stand."""

from __future__ import annotations

import numpy as np

from trainability.core.condition import Condition
from trainability.models.mlp import forward
from trainability.numerics.jax64 import jax, jnp
from trainability.train.arithmetics.base import Arithmetic, Start
from trainability.train.measure import tally_start, tally_step, tally_values
from trainability.train.optimizers import optimizer
from trainability.train.pixels import initial_weights, pixel_table, step_table
from trainability.train.step import train_step


def start(cond: Condition, xs, ys, pixel_index, weights0, dtype, prepared=None) -> Start:
    """The pixels' hyperparameters (`pixel_table`), initial weights (`initial_weights`), the
    optimizer's zero state and a fresh tally."""
    table = pixel_table(cond, xs, ys, dtype)
    weights = initial_weights(cond, weights0, table, pixel_index, dtype)
    opt_state = [np.array(s) for s in optimizer(cond, {}).init(weights)]
    tally = tally_start(len(xs), dtype)
    return Start(weights, opt_state, step_table(table), tally)


def step(carry, t, hp, data, *, cond: Condition, engine_name: str, retire_factor):
    """One step of a chunk, the probe readout at the last step, and the tally."""
    weights, opt_state, tally, probe = carry
    X, Y, minibatches, x_probe = data
    (weights, opt_state), (loss, seen) = train_step(
        weights, opt_state, t, hp, (X, Y, minibatches), cond=cond, engine=engine_name
    )
    if cond.readout == "probe":
        outputs = jax.vmap(forward, in_axes=(0, None, None, None))
        out = outputs(seen, x_probe, cond.activation, cond.residual)
        out = jnp.where(jnp.isfinite(out[:, 0, 0]), out[:, 0, 0], 1e6)
        probe = jnp.where(t == cond.steps - 1, out, probe)
    tally = tally_step(tally, loss, t, cond.steps, retire_factor)
    return weights, opt_state, tally, probe


PLAIN = Arithmetic(
    name="plain",
    start=start,
    step=step,
    finish=tally_values,
)
