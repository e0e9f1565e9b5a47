"""Lyapunov exponents of training over a hyperparameter window (docs/methods.md §7).

The follow-up report (docs/methods.md §7) colours the lr_vs_lr plane by a "Lyapunov exponent" of
training. Two quantities are computed here, per pixel of a `Window`, for any condition: each
pixel starts from the weights `trainability.train.sweep.sweep` starts it from and trains with the
step the sweep takes (`trainability.train.step.train_step`: the condition's network, residual
blocks, offset, optimizer, weight decay, schedule, full batch or minibatches), with the pixel's
hyperparameters from the window's axes (`trainability.train.pixels`), in float64 with the fused
gradient. (``readout`` says what a sweep stores, not how it trains: it changes nothing here.)

**1. The report's twin-trajectory estimate** (`twin_trajectory_exponent`). Train the unperturbed
network W and a twin W' started from W + ε·N(0, 1) side by side with the same learning rates. Let
Z_t, Z'_t (N × target_dim) be their outputs on the training set *before* update t, t = 1 … T
(so Z_1 is the output at initialisation). Then

    λ_t = mean over points n and outputs k of  ln((|Z'_t − Z_t|_{nk} + 10⁻¹⁰) / ε) / t,
    value = (1/T) Σ_{t=1}^{T} λ_t,

and a non-finite value becomes NaN. This is the notebook's computation [S:asu-code]. It is *not*
a Lyapunov exponent in the strict sense: the denominator is ε, not the initial output gap
|Z'_1 − Z_1| (so even an isometric flow gives ln(|Z'_1 − Z_1|/ε)·H_T/T ≠ 0, H_T the harmonic
number); the time is finite (T steps, each term divided by its own t, then averaged, which weights
early steps most); the log is taken per output entry and then averaged (a mean of logs, not the
log of a norm); and it measures separation in output space, not in weight space.

**2. The maximal Lyapunov exponent of the training map** (`maximal_exponent`), by Benettin's
method. Training iterates F_t(W, s) = (W', s'), one `train_step` on the weights W and the
optimizer state s (for gradient descent F_t(W) = W − η ⊙ ∇ℓ_t(W), ℓ_t the full-batch loss or the
loss of minibatch t, and there is no state); its maximal exponent is

    λ_max = lim_{T→∞} (1/T) ln ‖J_{T−1} ⋯ J_1 J_0 u_0‖ = lim_{T→∞} (1/T) Σ_{t<T} ln ‖J_t u_t‖,

with J_t = ∂F_t/∂(W, s) at (W_t, s_t), u_{t+1} = J_t u_t / ‖J_t u_t‖ (renormalised), and u_0 a
unit vector. ‖·‖ is the Euclidean norm over all weight and optimizer-state entries, all layers
concatenated. J_t u_t is one `jax.jvp` of the whole step map, optimizer state included (for
gradient descent a Hessian-vector product: J u = u − η ⊙ H u). u_0 is one fixed draw on the
weights (``tangent_seed``) and zero on the state, the same for every pixel. The estimate is
the average over the steps t during which the run is finite: ℓ_t finite, ℓ_t ≤ 10²⁰·ℓ_0
(`measure.RETIRE_FACTOR`) and ‖J_t u_t‖ finite and nonzero; the first step that fails ends the
average for that pixel. Pixels that never pass get NaN. For a quadratic loss (depth-1 identity
network) and gradient descent F is linear and the estimate over T steps is exactly
(1/T) ln ‖(I − ηH)ᵀ u_0‖ → ln max_i |1 − ηλ_i(H)|.

Neither function labels pixels converged/diverged: overlay the boundary from the sweep grid
(`trainability.train.sweep.sweep` on the same condition and window; the pixels are the same).

Pixels are computed in chunks of ``chunk`` (the last padded with copies), each chunk one
compiled `lax.scan` over all steps. As in `trainability.train.sweep`, the chunk size can change
results
in the last bits, which chaotic pixels (large positive exponents) amplify; values elsewhere are
reproducible to ~1e-12.

What it shows (tanh, width 8, 100 steps, log10 η ∈ [−1, 3] × [0, 4], tests/test_lyapunov.py):
λ_max ≈ 0 in the converged phase (0 to 0.03 deep inside, slightly positive: the loss is not
convex along the way, and |λ_max| = O(η) as η → 0), up to ~1 at converged pixels next to the
boundary, and positive in the diverged phase (0.02 just beyond the boundary, 3 to 9 where runs
blow up within 4 to 14 steps). The twin estimate is ≈ −0.1 deep in the converged phase, positive
on diverged runs that stay finite, and NaN where they overflow.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.models.mlp import draws_per_pixel, forward, init_problem
from trainability.numerics.jax64 import jax, jnp
from trainability.train.measure import RETIRE_FACTOR
from trainability.train.optimizers import optimizer
from trainability.train.pixels import initial_weights, pixel_table, step_table, window_pixels
from trainability.train.step import train_step

GAP_FLOOR = 1e-10  # the report's constant inside the log: ln((|Z' − Z| + 1e-10)/ε)
TANGENT_SEED = 20240502  # key of the initial tangent direction u_0 of `maximal_exponent`


def twin_trajectory_exponent(
    cond: Condition, window: Window, epsilon: float = 1e-5, chunk: int = 128
) -> np.ndarray:
    """The report's "Lyapunov exponent" per pixel, (ny, nx) float64 (row = y).

    value = (1/T) Σ_{t=1}^{T} mean_{n,k} ln((|Z'_t − Z_t|_{nk} + 1e-10)/ε) / t, with Z_t, Z'_t
    the outputs on the training set before update t of the run and of its twin; non-finite
    values become NaN (see the module docstring for why this is not a Lyapunov exponent in the
    strict sense). ``cond.steps`` is T.

    The run starts from the weights `sweep` starts pixel p = row·nx + col from; the twin from
    those of the condition with ``epsilon`` raised by ε, i.e. the run's weights plus ε times
    the per-pixel noise of `model.perturb_weights` (an independent draw per pixel, as in the
    report's notebook, which draws one (P, …) normal array from a key split from
    PRNGKey(42); the bits differ from the notebook's, the distribution does not). With
    ``cond.epsilon`` = 0 the twin starts from exactly the weights `sweep` uses for
    ``cond.replace(epsilon=ε)`` on the same window. Both runs take the condition's training
    step (`trainability.train.step`) with their own optimizer state and see the same minibatch
    sequence (the notebook would draw the twin's from other keys, but it only ran full batch).
    """
    _check(chunk, cond)
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    pixels = _Pixels(cond, window, chunk)
    twin_cond = cond.replace(epsilon=cond.epsilon + epsilon)
    twin_table = dict(pixels.table)
    if "epsilon" in twin_table:
        twin_table["epsilon"] = twin_table["epsilon"] + epsilon
    run = jax.jit(partial(_twin_chunk, cond=cond, epsilon=float(epsilon)))

    values = np.empty(pixels.n)
    for idx, padded in pixels.chunks():
        base = pixels.weights(cond, pixels.table, padded)
        twin = pixels.weights(twin_cond, twin_table, padded)
        out = run(base, twin, pixels.hp(padded), pixels.data)
        values[idx] = np.asarray(out)[: idx.size]
    values[~np.isfinite(values)] = np.nan
    return values.reshape(window.shape)


def maximal_exponent(
    cond: Condition,
    window: Window,
    chunk: int = 128,
    renorm_every: int = 1,
    tangent_seed: int = TANGENT_SEED,
    return_steps: bool = False,
):
    """Maximal Lyapunov exponent of the training map per pixel, by Benettin's method.

    Returns the (ny, nx) float64 array of λ = (1/S) ln ‖J_{S−1} ⋯ J_0 u_0‖ = (1/S) Σ_{t<S}
    ln ‖J_t u_t‖ (u_t renormalised), where S ≤ cond.steps is the number of leading steps during
    which the run stays finite (ℓ_t finite, ℓ_t ≤ 1e20·ℓ_0, tangent growth finite and nonzero);
    NaN where S = 0. With ``return_steps`` also returns S as an (ny, nx) int array.

    The tangent vector is divided by its norm every ``renorm_every`` steps, and the growth is
    accumulated in logs, so the result does not depend on ``renorm_every`` except through
    rounding (and overflow of the unnormalised tangent if it is too large). u_0 is
    `initial_tangent` on the weights and zero on the optimizer state, the same for every
    pixel; the run starts from the weights `sweep` starts the pixel from.
    """
    _check(chunk, cond)
    if not isinstance(renorm_every, int) or renorm_every < 1:
        raise ValueError(f"renorm_every must be an integer >= 1, got {renorm_every!r}")
    pixels = _Pixels(cond, window, chunk)
    tangent = tuple(
        jnp.broadcast_to(jnp.asarray(u), (pixels.size, *u.shape))
        for u in initial_tangent(cond, tangent_seed)
    )
    run = jax.jit(partial(_benettin_chunk, cond=cond, renorm_every=renorm_every))

    growth = np.empty(pixels.n)
    steps = np.empty(pixels.n, np.int64)
    for idx, padded in pixels.chunks():
        weights = pixels.weights(cond, pixels.table, padded)
        total, count = run(weights, tangent, pixels.hp(padded), pixels.data)
        growth[idx] = np.asarray(total)[: idx.size]
        steps[idx] = np.asarray(count)[: idx.size]
    with np.errstate(invalid="ignore", divide="ignore"):
        exponent = np.where(steps > 0, growth / np.maximum(steps, 1), np.nan)
    exponent = exponent.reshape(window.shape)
    if return_steps:
        return exponent, steps.reshape(window.shape)
    return exponent


def initial_tangent(cond: Condition, tangent_seed: int = TANGENT_SEED) -> tuple[np.ndarray, ...]:
    """u_0 on the weights: one N(0, 1) array per layer from split(PRNGKey(tangent_seed), depth),
    scaled so that the Euclidean norm over all layers together is 1."""
    keys = jax.random.split(jax.random.PRNGKey(tangent_seed), cond.depth)
    parts = [
        np.asarray(jax.random.normal(keys[i], shape, dtype=jnp.float64))
        for i, shape in enumerate(cond.layer_shapes)
    ]
    norm = np.sqrt(sum(float(np.sum(p * p)) for p in parts))
    return tuple(p / norm for p in parts)


def _check(chunk: int, cond: Condition) -> None:
    if cond.generic:  # both estimators differentiate the mlp's own step
        raise ValueError(
            f"the Lyapunov estimators compute model mlp on data gaussian only, got model "
            f"{cond.model} on data {cond.data}"
        )
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")


class _Pixels:
    """What both estimators start from: the window's pixels and their table, the data, and
    chunks of ``chunk`` pixels (the last padded with copies)."""

    def __init__(self, cond: Condition, window: Window, chunk: int):
        if draws_per_pixel(cond, "data"):
            raise ValueError(
                f"the Lyapunov estimators train every pixel on the seed's data; pixel_draws "
                f"{cond.pixel_draws!r} is not supported there (per-pixel weights are)"
            )
        problem = init_problem(cond)
        _, _, xs, ys, self.index = window_pixels(cond, window)
        self.table = pixel_table(cond, xs, ys)
        self.weights0 = problem.weights
        mb = None if problem.minibatches is None else jnp.asarray(problem.minibatches)
        self.data = (jnp.asarray(problem.X), jnp.asarray(problem.Y), mb)
        self.n = xs.size
        self.size = min(chunk, self.n)

    def chunks(self):
        for a in range(0, self.n, self.size):
            idx = np.arange(a, min(a + self.size, self.n))
            yield idx, np.resize(idx, self.size)

    def hp(self, padded) -> dict:
        return {k: v[padded] for k, v in step_table(self.table).items()}

    def weights(self, cond: Condition, table: dict, padded) -> tuple:
        rows = {k: v[padded] for k, v in table.items()}
        start = initial_weights(cond, self.weights0, rows, self.index[padded])
        return tuple(jnp.asarray(w) for w in start)


def _twin_chunk(base, twin, hp, data, *, cond: Condition, epsilon: float):
    """Σ_t λ_t / T of one chunk (see `twin_trajectory_exponent`), one `lax.scan` over T steps."""
    X = data[0]
    outputs = jax.vmap(forward, in_axes=(0, None, None, None))
    init = optimizer(cond, hp).init
    step = partial(train_step, hp=hp, data=data, cond=cond)

    def body(carry, t):
        w, w_state, v, v_state, total = carry
        (w, w_state), (_, w_seen) = step(w, w_state, t)
        (v, v_state), (_, v_seen) = step(v, v_state, t)
        z_w = outputs(w_seen, X, cond.activation, cond.residual)
        z_v = outputs(v_seen, X, cond.activation, cond.residual)
        gap = jnp.abs(z_v - z_w)
        lam = jnp.mean(jnp.log((gap + GAP_FLOOR) / epsilon), axis=(1, 2)) / (t + 1)
        return (w, w_state, v, v_state, total + lam), None

    start = (base, init(base), twin, init(twin), jnp.zeros(base[0].shape[0]))
    carry, _ = jax.lax.scan(body, start, jnp.arange(cond.steps))
    return carry[-1] / cond.steps


def _benettin_chunk(weights, tangent, hp, data, *, cond: Condition, renorm_every: int):
    """(ln ‖J_{S−1}⋯J_0 u_0‖, S) per pixel of one chunk, one `lax.scan` over cond.steps steps.

    The map is the whole training step on (weights, optimizer state); the tangent lives in
    the same space and its norm is taken over both."""
    p = weights[0].shape[0]
    opt_state = optimizer(cond, hp).init(weights)
    tangent = (tangent, tuple(jnp.zeros_like(s) for s in opt_state))

    def body(carry, t):
        state, u, log_scale, total, count, alive, loss0 = carry

        def step_map(state):
            new_state, (loss, _) = train_step(*state, t, hp, data, cond=cond)
            return new_state, loss

        state, u_new, loss = jax.jvp(step_map, (state,), (u,), has_aux=True)
        loss0 = jnp.where(t == 0, loss, loss0)
        norm = jnp.sqrt(sum(jnp.sum(a * a, axis=(1, 2)) for a in jax.tree.leaves(u_new)))
        growth = log_scale + jnp.log(norm)  # ln ‖J_t ⋯ J_0 u_0‖
        alive = alive & jnp.isfinite(loss) & (loss <= RETIRE_FACTOR * loss0) & jnp.isfinite(growth)
        total = jnp.where(alive, growth, total)
        count = jnp.where(alive, t + 1, count)
        renorm = (t + 1) % renorm_every == 0
        scale = jnp.where(renorm & (norm > 0) & jnp.isfinite(norm), norm, 1.0)
        u_new = jax.tree.map(lambda a: a / scale[:, None, None], u_new)
        log_scale = log_scale + jnp.log(scale)
        return (state, u_new, log_scale, total, count, alive, loss0), None

    zeros = jnp.zeros(p)
    start = (
        (weights, opt_state),
        tangent,
        zeros,
        zeros,
        jnp.zeros(p, jnp.int64),
        jnp.ones(p, bool),
        jnp.ones(p),
    )
    carry, _ = jax.lax.scan(body, start, jnp.arange(cond.steps))
    return carry[3], carry[4]
