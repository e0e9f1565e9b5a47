"""Lyapunov exponents of gradient descent over a learning-rate window (papers.md §3).

The follow-up report [ASU] (papers.md §3) colours the lr_vs_lr plane by a "Lyapunov exponent" of
training. Two quantities are computed here, per pixel of a `Window`, for plain gradient descent
on the network of `trainability.model` (float64; layer i uses the learning rate
η_i = lr_x if i is even else lr_y; full batch, or the minibatch sequence of `init_problem`).

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

**2. The maximal Lyapunov exponent of the gradient-descent map** (`maximal_exponent`), by
Benettin's method. Gradient descent iterates F_t(W) = W − η ⊙ ∇ℓ_t(W) (ℓ_t the full-batch loss,
or the loss of minibatch t); its maximal exponent is

    λ_max = lim_{T→∞} (1/T) ln ‖J_{T−1} ⋯ J_1 J_0 u_0‖ = lim_{T→∞} (1/T) Σ_{t<T} ln ‖J_t u_t‖,

with J_t = ∂F_t/∂W at W_t, u_{t+1} = J_t u_t / ‖J_t u_t‖ (renormalised), and u_0 a unit vector.
‖·‖ is the Euclidean norm over all weight entries, all layers concatenated. J_t u_t is one
`jax.jvp` of the step map (a Hessian-vector product: J u = u − η ⊙ H u). u_0 is one fixed draw
(``tangent_seed``), the same for every pixel. The estimate is the average over the steps t
during which the run is finite: ℓ_t finite, ℓ_t ≤ 10²⁰·ℓ_0 (`measure.RETIRE_FACTOR`) and
‖J_t u_t‖ finite and nonzero; the first step that fails ends the average for that pixel. Pixels
that never pass get NaN. For a quadratic loss (depth-1 identity network) F is linear and the
estimate over T steps is exactly (1/T) ln ‖(I − ηH)ᵀ u_0‖ → ln max_i |1 − ηλ_i(H)|.

Neither function labels pixels converged/diverged: overlay the boundary from the sweep grid
(`trainability.sweep.sweep` on the same condition and window; the pixels are the same).

Pixels are computed in chunks of ``chunk`` (the last padded with copies), each chunk one
compiled `lax.scan` over all steps. As in `trainability.sweep`, the chunk size can change results
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

from trainability._jax import jax, jnp
from trainability.condition import Condition
from trainability.grid import Window
from trainability.measure import RETIRE_FACTOR
from trainability.model import (
    forward,
    fused_loss,
    fused_loss_and_grads,
    init_problem,
    perturb_weights,
)

GAP_FLOOR = 1e-10  # the report's constant inside the log: ln((|Z' − Z| + 1e-10)/ε)
TANGENT_SEED = 20240502  # key of the initial tangent direction u_0 of `maximal_exponent`


def twin_trajectory_exponent(
    cond: Condition, window: Window, epsilon: float = 1e-5, chunk: int = 128
) -> np.ndarray:
    """The report's "Lyapunov exponent" per pixel, (ny, nx) float64 (row = y = lr of odd layers).

    value = (1/T) Σ_{t=1}^{T} mean_{n,k} ln((|Z'_t − Z_t|_{nk} + 1e-10)/ε) / t, with Z_t, Z'_t
    the outputs on the training set before update t of the unperturbed run and of its twin
    started from W + ε·N(0, 1); non-finite values become NaN (see the module docstring for why
    this is not a Lyapunov exponent in the strict sense).

    The twin's noise is `model.perturb_weights(W, ε, cond.seed, p)` for pixel p = row·nx + col:
    an independent draw per pixel, as in the report's notebook (which draws one (P, …) normal
    array from a key split from PRNGKey(42)); the bits differ from the notebook's, the
    distribution does not. So the twin starts from exactly the weights `sweep` uses for
    ``cond.replace(epsilon=ε)`` on the same window. ``cond.epsilon`` itself is not used: the
    reference run always starts from the unperturbed weights. With minibatches both runs see
    the same minibatch sequence (the notebook would draw the twin's from other keys, but it only
    ran full batch). ``cond.steps`` is T.
    """
    _check(cond, chunk)
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    problem, rates, pixel_index, data, size, base = _setup(cond, window, chunk)
    run = jax.jit(partial(_twin_chunk, cond=cond, epsilon=float(epsilon)))

    values = np.empty(rates.shape[0])
    for idx in _chunks(rates.shape[0], size):
        padded = np.resize(idx, size)  # pad the last chunk with copies
        twin = perturb_weights(problem.weights, epsilon, cond.seed, pixel_index[padded])
        out = run(base, twin, rates[padded], data)
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
    """Maximal Lyapunov exponent of the gradient-descent map per pixel, by Benettin's method.

    Returns the (ny, nx) float64 array of λ = (1/S) ln ‖J_{S−1} ⋯ J_0 u_0‖ = (1/S) Σ_{t<S}
    ln ‖J_t u_t‖ (u_t renormalised), where S ≤ cond.steps is the number of leading steps during
    which the run stays finite (ℓ_t finite, ℓ_t ≤ 1e20·ℓ_0, tangent growth finite and nonzero);
    NaN where S = 0. With ``return_steps`` also returns S as an (ny, nx) int array.

    The tangent vector is divided by its norm every ``renorm_every`` steps, and the growth is
    accumulated in logs, so the result does not depend on ``renorm_every`` except through
    rounding (and overflow of the unnormalised tangent if it is too large). u_0 is a standard
    normal draw from PRNGKey(tangent_seed), one array per layer, scaled to unit norm over all
    layers together, the same for every pixel. Weights start unperturbed (``cond.epsilon`` is
    not used).
    """
    _check(cond, chunk)
    if not isinstance(renorm_every, int) or renorm_every < 1:
        raise ValueError(f"renorm_every must be an integer >= 1, got {renorm_every!r}")
    _, rates, _, data, size, base = _setup(cond, window, chunk)
    tangent = tuple(
        jnp.broadcast_to(jnp.asarray(u), (size, *u.shape))
        for u in initial_tangent(cond, tangent_seed)
    )
    run = jax.jit(partial(_benettin_chunk, cond=cond, renorm_every=renorm_every))

    n = rates.shape[0]
    growth = np.empty(n)
    steps = np.empty(n, np.int64)
    for idx in _chunks(n, size):
        padded = np.resize(idx, size)
        total, count = run(base, tangent, rates[padded], data)
        growth[idx] = np.asarray(total)[: idx.size]
        steps[idx] = np.asarray(count)[: idx.size]
    with np.errstate(invalid="ignore", divide="ignore"):
        exponent = np.where(steps > 0, growth / np.maximum(steps, 1), np.nan)
    exponent = exponent.reshape(window.shape)
    if return_steps:
        return exponent, steps.reshape(window.shape)
    return exponent


def initial_tangent(cond: Condition, tangent_seed: int = TANGENT_SEED) -> tuple[np.ndarray, ...]:
    """u_0: one N(0, 1) array per layer from split(PRNGKey(tangent_seed), depth), scaled so that
    the Euclidean norm over all layers together is 1."""
    keys = jax.random.split(jax.random.PRNGKey(tangent_seed), cond.depth)
    parts = [
        np.asarray(jax.random.normal(keys[i], shape, dtype=jnp.float64))
        for i, shape in enumerate(cond.layer_shapes)
    ]
    norm = np.sqrt(sum(float(np.sum(p * p)) for p in parts))
    return tuple(p / norm for p in parts)


def _check(cond: Condition, chunk: int) -> None:
    if cond.phase_space != "lr_vs_lr":
        raise ValueError(
            f"Lyapunov exponents need phase_space 'lr_vs_lr', got {cond.phase_space!r}"
        )
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")


def _setup(cond: Condition, window: Window, chunk: int):
    """What both estimators start from: the problem, per-pixel rates and indices, the data,
    the chunk size and the initial weights broadcast over one chunk."""
    problem = init_problem(cond)
    rates, pixel_index = _pixel_rates(cond, window)
    size = min(chunk, rates.shape[0])
    base = tuple(jnp.broadcast_to(jnp.asarray(w), (size, *w.shape)) for w in problem.weights)
    return problem, rates, pixel_index, _data(problem), size, base


def _pixel_rates(cond: Condition, window: Window):
    """Per-pixel layer learning rates (P × depth, row-major over (ny, nx)) and pixel indices."""
    x, y = window.axes()
    xs = np.broadcast_to(x[None, :], window.shape).ravel()
    ys = np.broadcast_to(y[:, None], window.shape).ravel()
    rates = np.stack([xs if i % 2 == 0 else ys for i in range(cond.depth)], axis=1)
    return np.ascontiguousarray(rates, np.float64), np.arange(xs.size)


def _data(problem):
    mb = None if problem.minibatches is None else jnp.asarray(problem.minibatches)
    return jnp.asarray(problem.X), jnp.asarray(problem.Y), mb


def _chunks(n: int, size: int):
    return [np.arange(a, min(a + size, n)) for a in range(0, n, size)]


def _gradient(weights, t, data, cond: Condition):
    """(full-batch loss ℓ_t, gradient of step t) for a pixel-major chunk of weights."""
    X, Y, minibatches = data
    if minibatches is None:
        return fused_loss_and_grads(weights, X, Y, cond.activation)
    idx = minibatches[jnp.minimum(t, cond.steps - 1)]
    grads = fused_loss_and_grads(weights, X[idx], Y[idx], cond.activation)[1]
    return fused_loss(weights, X, Y, cond.activation), grads


def _descend(weights, grads, rates):
    return tuple(
        w - rates[:, i, None, None] * g for i, (w, g) in enumerate(zip(weights, grads, strict=True))
    )


def _twin_chunk(base, twin, rates, data, *, cond: Condition, epsilon: float):
    """Σ_t λ_t / T of one chunk (see `twin_trajectory_exponent`), one `lax.scan` over T steps."""
    X = data[0]
    outputs = jax.vmap(forward, in_axes=(0, None, None))

    def step(carry, t):
        w, v, total = carry
        gap = jnp.abs(outputs(v, X, cond.activation) - outputs(w, X, cond.activation))
        lam = jnp.mean(jnp.log((gap + GAP_FLOOR) / epsilon), axis=(1, 2)) / (t + 1)
        w = _descend(w, _gradient(w, t, data, cond)[1], rates)
        v = _descend(v, _gradient(v, t, data, cond)[1], rates)
        return (w, v, total + lam), None

    start = (base, twin, jnp.zeros(rates.shape[0]))
    (_, _, total), _ = jax.lax.scan(step, start, jnp.arange(cond.steps))
    return total / cond.steps


def _benettin_chunk(weights, tangent, rates, data, *, cond: Condition, renorm_every: int):
    """(ln ‖J_{S−1}⋯J_0 u_0‖, S) per pixel of one chunk, one `lax.scan` over cond.steps steps."""
    p = rates.shape[0]

    def step(carry, t):
        w, u, log_scale, total, count, alive, loss0 = carry

        def step_map(w):
            loss, grads = _gradient(w, t, data, cond)
            return _descend(w, grads, rates), loss

        w_new, u_new, loss = jax.jvp(step_map, (w,), (u,), has_aux=True)
        loss0 = jnp.where(t == 0, loss, loss0)
        norm = jnp.sqrt(sum(jnp.sum(a * a, axis=(1, 2)) for a in u_new))
        growth = log_scale + jnp.log(norm)  # ln ‖J_t ⋯ J_0 u_0‖
        alive = alive & jnp.isfinite(loss) & (loss <= RETIRE_FACTOR * loss0) & jnp.isfinite(growth)
        total = jnp.where(alive, growth, total)
        count = jnp.where(alive, t + 1, count)
        renorm = (t + 1) % renorm_every == 0
        scale = jnp.where(renorm & (norm > 0) & jnp.isfinite(norm), norm, 1.0)
        u_new = tuple(a / scale[:, None, None] for a in u_new)
        log_scale = log_scale + jnp.log(scale)
        return (w_new, u_new, log_scale, total, count, alive, loss0), None

    zeros = jnp.zeros(p)
    start = (
        weights,
        tangent,
        zeros,
        zeros,
        jnp.zeros(p, jnp.int64),
        jnp.ones(p, bool),
        jnp.ones(p),
    )
    carry, _ = jax.lax.scan(step, start, jnp.arange(cond.steps))
    return carry[3], carry[4]
