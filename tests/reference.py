"""The plain reference loop the engine tests compare against, built on the independent
reference (tests/independent.py), which imports nothing from `trainability`: its own draws,
network, loss, measure and optimizers (optax's), written from docs/methods.md.

`reference_pixels` trains pixels one at a time with it. `reference_step` is the one training
step written out with explicit state lists (heavy-ball and Nesterov velocities, Adam's moments,
its bias corrections computed in Python from the step number), for the Lyapunov tests, which
differentiate the step map with respect to the weights *and* the optimizer state; its loss and
forward pass are the independent ones.
"""

import jax
import jax.numpy as jnp
import numpy as np
from independent import (
    layer_rates,
    multiplier,
    pixels,
    predict,
    starting_weights,
)
from independent import mse as independent_loss
from independent import pixel_hyperparameters as axis_hyperparameters

__all__ = [
    "layer_rates",
    "pixel_hyperparameters",
    "reference_pixels",
    "reference_step",
    "start",
    "step_hyperparameters",
]


def reference_step(cond, problem):
    """One training step of one pixel, the plain way: ``step(weights, state, t, rates, h)`` ->
    (weights, state, loss, probe output, the weights the step saw), jitted; ``h`` holds the
    pixel's hyperparameters for step t (`step_hyperparameters`). ``problem``: anything with the
    fields X, Y, minibatches and x_probe (`independent.draw`, or the library's)."""
    act, residual = cond.activation, cond.residual
    X, Y = jnp.asarray(problem.X), jnp.asarray(problem.Y)

    def loss_fn(weights, X, Y):
        return independent_loss(weights, X, Y, act, residual)

    @jax.jit
    def train_step(weights, state, t, rates, h):
        if cond.offset_mode == "every_step":
            weights = [weights[0] + h["offset"], *weights[1:]]
        loss = loss_fn(weights, X, Y)
        if problem.minibatches is None:
            grads = jax.grad(loss_fn)(weights, X, Y)
        else:
            idx = jnp.asarray(problem.minibatches)[t]
            grads = jax.grad(loss_fn)(weights, X[idx], Y[idx])
        probe = predict(weights, jnp.asarray(problem.x_probe), act, residual)[0, 0]
        lam = h["weight_decay"]
        if cond.weight_decay_mode == "l2":
            grads = [g + lam * w for g, w in zip(grads, weights, strict=True)]
        if cond.optimizer == "gd":
            directions = grads
        elif cond.optimizer == "momentum":
            state = [h["momentum"] * v + g for v, g in zip(state, grads, strict=True)]
            directions = state
        elif cond.optimizer == "nesterov":
            state = [h["momentum"] * v + g for v, g in zip(state, grads, strict=True)]
            directions = [g + h["momentum"] * v for g, v in zip(grads, state, strict=True)]
        else:
            ms, vs = state
            ms = [h["beta1"] * m + (1 - h["beta1"]) * g for m, g in zip(ms, grads, strict=True)]
            vs = [h["beta2"] * v + (1 - h["beta2"]) * g**2 for v, g in zip(vs, grads, strict=True)]
            directions = [
                (m / h["c1"]) / (jnp.sqrt(v / h["c2"]) + cond.adam_eps)
                for m, v in zip(ms, vs, strict=True)
            ]
            state = (ms, vs)
        rates = [r * h["s"] for r in rates]
        new = [w - r * d for w, d, r in zip(weights, directions, rates, strict=True)]
        if cond.weight_decay_mode == "decoupled":
            new = [w - r * lam * w for w, r in zip(new, rates, strict=True)]
        return new, state, loss, probe, weights

    return train_step


def pixel_hyperparameters(cond, x, y):
    """(layer rates, get, hp) of the pixel (x, y): get(name) is the axis value or the field."""
    hp = axis_hyperparameters(cond, x, y)

    def get(name):
        return hp.get(name, getattr(cond, name))

    return layer_rates(cond, hp), get, hp


def start(cond, problem, get):
    """Initial weights (init_scale, offset in init mode; no noise) and zero optimizer state."""
    hp = {name: get(name) for name in ("init_scale", "offset")}
    weights = starting_weights(cond, problem, hp)
    return weights, initial_state(cond, weights)


def initial_state(cond, weights):
    zeros = [jnp.zeros_like(w) for w in weights]
    return (zeros, zeros) if cond.optimizer == "adam" else zeros


def step_hyperparameters(cond, get, hp, t):
    """The hyperparameters of step t, bias corrections and schedule computed in Python."""
    return {
        "offset": get("offset"),
        "weight_decay": get("weight_decay"),
        "momentum": get("momentum"),
        "beta1": get("beta1"),
        "beta2": get("beta2"),
        "c1": 1 - get("beta1") ** (t + 1),
        "c2": 1 - get("beta2") ** (t + 1),
        "s": multiplier(cond, hp, t),
    }


def reference_pixels(cond, xs, ys, perturbed=None):
    """(values, converged, probe) of pixels with hyperparameters (x, y), by the independent
    reference (`independent.pixels`: its own draws, loop, optax optimizers and measure)."""
    values, converged, probes = pixels(cond, np.asarray(xs), np.asarray(ys), perturbed)
    return values, converged, probes
