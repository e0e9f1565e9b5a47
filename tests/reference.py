"""A deliberately plain re-implementation of the reference training loop, for checking the
engines: one pixel at a time, jax.grad of the loss, trajectories stored whole.

Beyond the reference (plain gradient descent), it writes out the extensions of
`trainability.core.condition` the obvious way: the layer learning-rate rules as a chain of
overrides,
the optimizers with explicit state lists, the schedule multiplier and Adam's bias corrections
computed in Python from the step number.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from trainability.models.mlp import forward, init_problem, reference_loss
from trainability.train.measure import measure_trajectory

PHASE_AXES = {"lr_vs_lr": ("lr_even", "lr_odd"), "offset_vs_lr": ("offset", "lr")}


def layer_rates(cond, hp):
    """Learning rate of each layer: later rules override earlier ones."""
    rates = []
    depth = cond.depth
    for i in range(depth):
        hidden = 0 < i < depth - 1
        rate = cond.lr
        if "lr" in hp:
            rate = hp["lr"]
        parity = "lr_even" if i % 2 == 0 else "lr_odd"
        if parity in hp:
            rate = hp[parity]
        if hidden and cond.lr_hidden is not None:
            rate = cond.lr_hidden
        if i == 0 and "lr_input" in hp:
            rate = hp["lr_input"]
        if i == depth - 1 and "lr_output" in hp:
            rate = hp["lr_output"]
        if hidden and "lr_hidden" in hp:
            rate = hp["lr_hidden"]
        rates.append(rate)
    return rates


def schedule(cond, hp, t):
    """Learning-rate multiplier s(t), in plain Python."""
    if cond.schedule == "warmup":
        w = hp.get("warmup_steps", cond.warmup_steps)
        return 1.0 if w == 0 else min(1.0, (t + 1) / w)
    if cond.schedule == "cosine":
        f = cond.final_lr_fraction
        return f + (1 - f) * (1 + math.cos(math.pi * t / max(cond.steps - 1, 1))) / 2
    if cond.schedule == "step":
        return cond.decay_factor ** (t // cond.decay_every)
    return 1.0


def reference_step(cond, problem):
    """One training step of one pixel, the plain way: ``step(weights, state, t, rates, h)`` ->
    (weights, state, loss, probe output, the weights the step saw), jitted; ``h`` holds the
    pixel's hyperparameters for step t (`step_hyperparameters`)."""
    act, residual = cond.activation, cond.residual
    X, Y = jnp.asarray(problem.X), jnp.asarray(problem.Y)

    def loss_fn(weights, X, Y):
        return reference_loss(weights, X, Y, act, residual)

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
        probe = forward(weights, problem.x_probe, act, residual)[0, 0]
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
    """(layer rates, get) of the pixel (x, y): get(name) is the axis value or the field."""
    names = PHASE_AXES.get(cond.phase_space, (cond.x_axis, cond.y_axis))
    hp = {names[0]: float(x), names[1]: float(y)}

    def get(name):
        return hp.get(name, getattr(cond, name))

    return layer_rates(cond, hp), get, hp


def start(cond, problem, get):
    """Initial weights (init_scale, offset in init mode; no noise) and zero optimizer state."""
    weights = [get("init_scale") * jnp.asarray(w) for w in problem.weights]
    if cond.offset_mode == "init":
        weights[0] = weights[0] + get("offset")
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
        "s": schedule(cond, hp, t),
    }


def reference_pixels(cond, xs, ys, perturbed=None):
    """(values, converged, probe) of pixels with hyperparameters (x, y), the reference way."""
    problem = init_problem(cond)
    train_step = reference_step(cond, problem)
    values, converged, probes = [], [], []
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        rates, get, hp = pixel_hyperparameters(cond, x, y)
        weights, state = start(cond, problem, get)
        if perturbed is not None:
            weights = [jnp.asarray(w) for w in perturbed[k]]
            if cond.offset_mode == "init":
                weights[0] = weights[0] + get("offset")
        losses = []
        for t in range(cond.steps):
            h = step_hyperparameters(cond, get, hp, t)
            weights, state, loss, probe, _ = train_step(weights, state, t, rates, h)
            losses.append(float(loss))
        v, c = measure_trajectory(np.array(losses))
        values.append(float(v))
        converged.append(bool(c))
        probes.append(float(probe) if np.isfinite(probe) else 1e6)
    return np.array(values), np.array(converged), np.array(probes)
