"""A deliberately plain re-implementation of the reference training loop, for checking the
engines: one pixel at a time, jax.grad of the loss, trajectories stored whole."""

import jax
import jax.numpy as jnp
import numpy as np

from trainability.measure import measure_trajectory
from trainability.model import forward, init_problem, reference_loss


def reference_pixels(cond, xs, ys, perturbed=None):
    """(values, converged, probe) of pixels with hyperparameters (x, y), the reference way."""
    problem = init_problem(cond)
    act = cond.activation
    X, Y = jnp.asarray(problem.X), jnp.asarray(problem.Y)

    @jax.jit
    def train_step(weights, t, x, y):
        if cond.phase_space == "lr_vs_lr":
            rates = [x if i % 2 == 0 else y for i in range(len(weights))]
        else:
            rates = [y] * len(weights)
            if cond.offset_mode == "every_step":
                weights = [weights[0] + x, *weights[1:]]
        loss = reference_loss(weights, X, Y, act)
        if problem.minibatches is None:
            grads = jax.grad(reference_loss)(weights, X, Y, act)
        else:
            idx = jnp.asarray(problem.minibatches)[t]
            grads = jax.grad(reference_loss)(weights, X[idx], Y[idx], act)
        probe = forward(weights, problem.x_probe, act)[0, 0]
        return [w - r * g for w, g, r in zip(weights, grads, rates, strict=True)], loss, probe

    values, converged, probes = [], [], []
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        weights = [jnp.asarray(w) for w in (problem.weights if perturbed is None else perturbed[k])]
        if cond.phase_space == "offset_vs_lr" and cond.offset_mode == "init":
            weights[0] = weights[0] + x
        losses = []
        for t in range(cond.steps):
            weights, loss, probe = train_step(weights, t, x, y)
            losses.append(float(loss))
        v, c = measure_trajectory(np.array(losses))
        values.append(float(v))
        converged.append(bool(c))
        probes.append(float(probe) if np.isfinite(probe) else 1e6)
    return np.array(values), np.array(converged), np.array(probes)
