"""The library's optimizers and schedules against optax, trajectory by trajectory.

The training step of the library (`trainability.train.step.update`: weight decay, optimizer,
per-layer learning rates η_i, schedule s(t)) is driven here by the gradient of a fixed
quadratic, f(W) = Σ_i ½·tr((W_i − T_i)ᵀ H_i (W_i − T_i)) with H_i symmetric positive definite,
for three pixels with their own learning rates, and compared after every step with optax's own
optimizers (one optax optimizer per pixel and layer, learning rate η_i and optax's schedule).
On a quadratic at these rates nothing is chaotic, so differences stay at rounding level; the
tolerance `RTOL` = 10⁻¹² relative (to the largest weight) allows for the library's split form
(train/optimizers.py: W − η·g − η·μ·v instead of W − η·(g + μ·v), which "would differ in the
last bits") and for XLA's fused multiply-adds, and is 10⁴ times below any real change.

Where the library's definition is optax's:
- heavy-ball momentum = ``optax.sgd(η, momentum=μ)``; Nesterov = ``optax.sgd(η, μ, nesterov=True)``
  (v ← μv + g, step g + μv: the Sutskever form);
- Adam = ``optax.adam(η, β1, β2, ε)`` (ε added to √v̂, eps_root = 0, bias correction with the
  step count t + 1);
- l2 weight decay = ``optax.add_decayed_weights(λ)`` before the optimizer;
- cosine = ``optax.cosine_decay_schedule(η, T − 1, alpha=f)``; step =
  ``optax.exponential_decay(η, every, factor, staircase=True)`` (optax's schedule functions,
  evaluated at the step count as a float64, `at_f64`: at optax's int32 count JAX computes them
  in float32, ~10⁻⁸ off).

Where it deliberately differs, the difference is tested as documented:
- **warm-up**: s(t) = min(1, (t + 1)/w) (train/schedules.py), so the first step already moves
  the weights by η/w; ``optax.linear_schedule(0, η, w)`` starts at 0. The library's warm-up is
  optax's evaluated one step later, and differs from it as written;
- **decoupled weight decay**: W ← W − η·s·λ·W is applied *after* the optimizer step, to the
  stepped weights (train/step.py), where ``optax.adamw`` decays the weights before the step:
  W' = (W − η·d)(1 − ηλ) against W − η·(d + λW), which differ by exactly η²λ·d.

Finally the stability limits of momentum on f(x) = λx²/2 (`test_stability_limits_...`).
"""

from __future__ import annotations

import numpy as np
import optax
import pytest

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.core.condition import Condition
from trainability.numerics.jax64 import jax, jnp
from trainability.train.optimizers import optimizer
from trainability.train.step import update

RTOL = 1e-12
STEPS = 60
SHAPES = ((4, 4), (4, 1))
RATES = np.array([[0.05, 0.2], [0.3, 0.1], [0.15, 0.15]])  # η_i of 3 pixels × 2 layers


def quadratic(seed=0):
    """(H_i, T_i, W_i(0)) of the quadratic: H_i with eigenvalues in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    hs, targets, starts = [], [], []
    for fan_in, fan_out in SHAPES:
        q, _ = np.linalg.qr(rng.normal(size=(fan_in, fan_in)))
        hs.append(q @ np.diag(np.linspace(0.5, 2.0, fan_in)) @ q.T)
        targets.append(rng.normal(size=(fan_in, fan_out)))
        starts.append(rng.normal(size=(fan_in, fan_out)))
    return hs, targets, starts


def gradient(hs, targets, weights):
    """∂f/∂W_i = H_i (W_i − T_i), for one pixel (arrays a × b) or pixel-major (P × a × b)."""
    return tuple(jnp.matmul(h, w - t) for h, t, w in zip(hs, targets, weights, strict=True))


def library_trajectory(cond, rates, steps=STEPS, hp_extra=None):
    """Weights after every step, (steps, P, a, b) per layer, from the library's `update`."""
    hs, targets, starts = quadratic()
    P = len(rates)
    hp = {"lr": jnp.asarray(rates), **(hp_extra or {})}
    weights = tuple(jnp.asarray(np.broadcast_to(w, (P, *w.shape)).copy()) for w in starts)
    state = optimizer(cond, hp).init(weights)

    @jax.jit
    def step(weights, state, t):
        return update(weights, gradient(hs, targets, weights), state, t, hp, cond)

    out = [[] for _ in SHAPES]
    for t in range(steps):
        weights, state = step(weights, state, jnp.asarray(t))
        for i, w in enumerate(weights):
            out[i].append(np.asarray(w))
    return [np.stack(o) for o in out]


def optax_trajectory(make, rates, steps=STEPS):
    """The same with optax: ``make(η)`` builds the optimizer of one layer of one pixel."""
    hs, targets, starts = quadratic()
    out = [np.empty((steps, len(rates), *s)) for s in SHAPES]
    for p, pixel_rates in enumerate(rates):
        txs = [make(float(eta)) for eta in pixel_rates]
        weights = tuple(jnp.asarray(w) for w in starts)
        states = [tx.init(w) for tx, w in zip(txs, weights, strict=True)]
        for t in range(steps):
            grads = gradient(hs, targets, weights)
            new = []
            for i, (tx, g, w) in enumerate(zip(txs, grads, weights, strict=True)):
                u, states[i] = tx.update(g, states[i], w)
                new.append(optax.apply_updates(w, u))
                out[i][t, p] = np.asarray(new[-1])
            weights = tuple(new)
    return out


def at_f64(schedule):
    """An optax schedule evaluated at its step count as a float64: optax counts in int32, and
    JAX turns int32 arithmetic into float32, which would round the learning rate to 10⁻⁸."""
    return lambda count: schedule(jnp.asarray(count, jnp.float64))


def assert_same_trajectory(got, want, rtol=RTOL):
    for layer, (a, b) in enumerate(zip(got, want, strict=True)):
        scale = np.abs(b).max()
        assert scale > 0.1  # the weights moved and stayed of order one: not a vacuous check
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale, err_msg=f"layer {layer}")


T = STEPS
CASES = {
    "momentum": (
        dict(optimizer="momentum", momentum=0.7),
        lambda eta: optax.sgd(eta, momentum=0.7),
    ),
    "nesterov": (
        dict(optimizer="nesterov", momentum=0.7),
        lambda eta: optax.sgd(eta, momentum=0.7, nesterov=True),
    ),
    "adam": (
        dict(optimizer="adam", beta1=0.8, beta2=0.95, adam_eps=1e-6),
        lambda eta: optax.adam(eta, b1=0.8, b2=0.95, eps=1e-6),
    ),
    "momentum-l2": (
        dict(optimizer="momentum", momentum=0.5, weight_decay=0.3),
        lambda eta: optax.chain(optax.add_decayed_weights(0.3), optax.sgd(eta, momentum=0.5)),
    ),
    "adam-l2": (
        dict(optimizer="adam", weight_decay=0.3),
        lambda eta: optax.chain(optax.add_decayed_weights(0.3), optax.adam(eta)),
    ),
    "nesterov-cosine": (
        dict(optimizer="nesterov", momentum=0.6, schedule="cosine", final_lr_fraction=0.2),
        lambda eta: optax.sgd(
            at_f64(optax.cosine_decay_schedule(eta, T - 1, alpha=0.2)), 0.6, nesterov=True
        ),
    ),
    "adam-cosine": (
        dict(optimizer="adam", schedule="cosine"),
        lambda eta: optax.adam(at_f64(optax.cosine_decay_schedule(eta, T - 1))),
    ),
    "momentum-step": (
        dict(optimizer="momentum", momentum=0.6, schedule="step", decay_every=7,
             decay_factor=0.6),
        lambda eta: optax.sgd(
            at_f64(optax.exponential_decay(eta, 7, 0.6, staircase=True)), momentum=0.6
        ),
    ),
    "gd-step": (
        dict(schedule="step", decay_every=10, decay_factor=0.3),
        lambda eta: optax.sgd(at_f64(optax.exponential_decay(eta, 10, 0.3, staircase=True))),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_library_optimizer_is_optax(name):
    fields, make = CASES[name]
    cond = Condition(steps=T, **fields)
    rates = RATES / 10 if cond.optimizer == "adam" else RATES  # Adam steps are ~η each
    assert_same_trajectory(library_trajectory(cond, rates), optax_trajectory(make, rates))


def test_warmup_is_optax_linear_warmup_one_step_later():
    """s(t) = min(1, (t+1)/w): optax's ``linear_schedule(0, η, w)`` at count t + 1. As optax
    writes it (at count t) the first step would not move the weights: the trajectories part."""
    w = 12
    cond = Condition(optimizer="momentum", momentum=0.5, schedule="warmup", warmup_steps=w)
    got = library_trajectory(cond, RATES)

    def shifted(eta):
        ramp = optax.linear_schedule(0.0, eta, w)
        return optax.sgd(lambda count: ramp(jnp.asarray(count, jnp.float64) + 1), momentum=0.5)

    assert_same_trajectory(got, optax_trajectory(shifted, RATES))
    def plain(eta):
        return optax.sgd(at_f64(optax.linear_schedule(0.0, eta, w)), momentum=0.5)

    plain = optax_trajectory(plain, RATES)
    assert np.abs(got[0] - plain[0]).max() > 1e-3


def test_decoupled_weight_decay_acts_after_the_step_unlike_optax_adamw():
    """Library: W' = (W − η·d) − η·λ·(W − η·d), d Adam's direction (optax.scale_by_adam);
    optax.adamw: W' = W − η·(d + λ·W). Whole trajectories of the first form, and, from one state,
    a gap of exactly η²·λ·d to adamw's step."""
    lam = 0.4
    cond = Condition(optimizer="adam", weight_decay=lam, weight_decay_mode="decoupled")
    rates = RATES / 10

    def after_the_step(eta):
        def update_fn(grads, state, params):
            d, state = optax.scale_by_adam().update(grads, state)
            stepped = params - eta * d
            return stepped - eta * lam * stepped - params, state

        return optax.GradientTransformation(optax.scale_by_adam().init, update_fn)

    got = library_trajectory(cond, rates)
    assert_same_trajectory(got, optax_trajectory(after_the_step, rates))

    adamw = optax_trajectory(lambda eta: optax.adamw(eta, weight_decay=lam), rates, steps=1)
    first = [g[0] for g in got]
    hs, targets, starts = quadratic()
    for i, (w0, g) in enumerate(zip(starts, gradient(hs, targets, starts), strict=True)):
        d = np.asarray(g) / (np.abs(np.asarray(g)) + 1e-8)  # Adam's first direction: m̂/(√v̂ + ε)
        eta = rates[:, i, None, None]
        np.testing.assert_allclose(first[i] - adamw[i][0], eta**2 * lam * d, rtol=1e-9, atol=0)
        assert np.abs(first[i] - w0).max() > 0


def nesterov_limit(mu: float) -> float:
    """ηλ at Nesterov's stability limit: 2(1 + μ)/(1 + 2μ) (`test_stability_limits_...`)."""
    return 2 * (1 + mu) / (1 + 2 * mu)


@pytest.mark.parametrize("kind", ["momentum", "nesterov"])
def test_stability_limits_on_a_one_dimensional_quadratic(kind):
    """f(x) = λx²/2, g = λx, a = ηλ. Heavy ball (v ← μv + g, x ← x − ηv) iterates
    (x, u = ηv) with the matrix [[1 − a, −μ], [a, μ]]; its characteristic polynomial is
    z² − (1 + μ − a)z + μ, and Jury's conditions |μ| < 1, 1 − (1 + μ − a) + μ = a > 0,
    1 + (1 + μ − a) + μ > 0 give the known limit a < 2(1 + μ).

    Nesterov in optax's (Sutskever's) form, v ← μv + g, x ← x − η(g + μv): with u = ηv,
    u' = μu + a·x and x' = (1 − a(1 + μ))x − μ²u, the matrix [[1 − a(1 + μ), −μ²], [a, μ]] has
    trace (1 + μ)(1 − a) and determinant μ(1 − a), so z² − (1 + μ)(1 − a)z + μ(1 − a). Jury:
    1 − T + D = a > 0; 1 + T + D = 1 + (1 + 2μ)(1 − a) > 0 ⇔ a < 2(1 + μ)/(1 + 2μ); and
    |D| < 1 ⇔ a < 1 + 1/μ, which is weaker. So Nesterov is stable iff
    **ηλ < 2(1 + μ)/(1 + 2μ)** (1.1 at μ = 0.9, where heavy ball allows 3.8); at the limit a root
    sits at z = −1.

    The library's optimizer (through `update`, pixels μ ∈ {0.3, 0.6, 0.9} on a pixel axis,
    η = (1 ∓ 1 %)·limit/λ) must converge just below (|x| < 10⁻³ after the steps) and diverge just
    above (|x| > 10³). Nesterov is also run at the midpoint between its limit and heavy ball's,
    where it must diverge (it is not heavy ball)."""
    lam, steps = 3.0, 4000
    mus = np.array([0.3, 0.6, 0.9])
    limit = 2 * (1 + mus) if kind == "momentum" else nesterov_limit(mus)
    factors = [0.99, 1.01]
    if kind == "nesterov":
        factors.append((2 * (1 + mus) + nesterov_limit(mus)) / 2 / nesterov_limit(mus))
    columns = [np.broadcast_to(f, mus.shape) * limit / lam for f in factors]
    eta = np.concatenate(columns)
    mu = np.tile(mus, len(factors))
    cond = Condition(optimizer=kind, depth=1, width=1)
    hp = {"lr": jnp.asarray(eta[:, None]), "momentum": jnp.asarray(mu)}
    x = (jnp.ones((eta.size, 1, 1)),)
    state = optimizer(cond, hp).init(x)

    @jax.jit
    def run(x, state):
        def body(carry, t):
            x, state = carry
            return update(x, (lam * x[0],), state, t, hp, cond), None

        return jax.lax.scan(body, (x, state), jnp.arange(steps))[0][0][0]

    final = np.abs(np.asarray(run(x, state)).ravel()).reshape(len(factors), mus.size)
    with np.errstate(invalid="ignore"):
        assert (final[0] < 1e-3).all(), final[0]
        assert (~(final[1] < 1e3)).all(), final[1]  # NaN/inf count as diverged
        if kind == "nesterov":
            assert (~(final[2] < 1e3)).all(), final[2]
