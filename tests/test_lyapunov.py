"""Lyapunov exponents: exact results for the linear network, independent per-pixel references
(explicit Jacobians, autodiff gradients) for the nonlinear one, for every optimizer and a
residual net, and the phase picture."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from reference import pixel_hyperparameters, reference_step, start, step_hyperparameters

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.analysis.lyapunov import (
    initial_tangent,
    maximal_exponent,
    twin_trajectory_exponent,
)
from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.models.mlp import forward, init_problem, perturb_weights, reference_loss
from trainability.train.sweep import axis_values, sweep

LINEAR = Condition(activation="identity", width=8, depth=1, dataset_size=40, steps=200)


def linear_hessian(cond):
    """ℓ(W) = mean((X·W/n − Y)²) for the depth-1 identity net: H = 2·XᵀX/(N·n²)."""
    p = init_problem(cond)
    n, N = cond.width, cond.n_data
    return p, 2 * p.X.T @ p.X / (N * n * n)


def test_linear_hessian_matches_the_model():
    p, H = linear_hessian(LINEAR)
    X, Y = jnp.asarray(p.X), jnp.asarray(p.Y)

    def loss(w):
        return reference_loss((w.reshape(LINEAR.width, 1),), X, Y, "identity")

    autodiff = np.asarray(jax.hessian(loss)(jnp.asarray(p.weights[0]).ravel()))
    np.testing.assert_allclose(autodiff, H, rtol=0, atol=1e-15)


def test_maximal_exponent_of_linear_gradient_descent_is_exact():
    """F(W) = (I − ηH)·W + const: over S steps Benettin gives exactly (1/S)·ln‖(I − ηH)^S u_0‖,
    which tends to ln max_i |1 − ηλ_i| (negative below η = 2/λ_max, positive above)."""
    p, H = linear_hessian(LINEAR)
    lam, V = np.linalg.eigh(H)
    critical = np.log10(2 / lam.max())
    window = Window(critical - 1.5, critical + 0.3, -1, 0, 10, 2)
    exponent, steps = maximal_exponent(LINEAR, window, return_steps=True)
    # depth 1: only the x learning rate is used, so both rows agree
    np.testing.assert_array_equal(exponent[0], exponent[1])
    c = V.T @ initial_tangent(LINEAR)[0].ravel()
    etas = window.axes()[0]
    asymptote, errors = [], []
    for j, eta in enumerate(etas):
        r = np.abs(1 - eta * lam)
        S = int(steps[0, j])
        exact = 0.5 * np.log(np.sum(c**2 * r ** (2 * S))) / S
        assert abs(exponent[0, j] - exact) < 1e-12
        limit = np.log(r.max())
        asymptote.append(limit)
        # finite-S bracket: ln|c_d|/S ≤ λ_S − λ_∞ ≤ 0 (d the dominant direction)
        d = np.argmax(r)
        assert limit + np.log(abs(c[d])) / S - 1e-12 <= exponent[0, j] <= limit + 1e-12
        # with the leading 1/S correction removed, the limit is matched to 1e-6 where the
        # spectral gap has washed out the other directions
        rest = np.delete(np.arange(r.size), d)
        if np.sum((c[rest] / c[d]) ** 2 * (r[rest] / r[d]) ** (2 * S)) < 1e-8:
            errors.append(abs(exponent[0, j] - np.log(abs(c[d])) / S - limit))
    asymptote = np.array(asymptote)
    stable = etas < 2 / lam.max()
    assert stable.sum() >= 3 and (~stable).sum() >= 2
    assert np.all(exponent[0, stable] < 0) and np.all(exponent[0, ~stable] > 0)
    assert np.all(asymptote[stable] < 0) and np.all(asymptote[~stable] > 0)
    assert len(errors) >= 5 and max(errors) < 1e-6
    # the divergent runs stop counting once the loss passes 1e20 × initial, yet the average over
    # the steps they had is still the exact finite-S value (checked above)
    assert np.all(steps[0, stable] == LINEAR.steps)
    assert np.all(steps[0, etas > 2.5 / lam.max()] < LINEAR.steps)
    # renormalising less often changes nothing but rounding
    sparse = maximal_exponent(LINEAR, window, renorm_every=7)
    np.testing.assert_allclose(sparse, exponent, rtol=0, atol=1e-12)


def test_twin_estimate_of_the_linear_network_is_the_analytic_formula():
    """Linear net: Z'_t − Z_t = X·(I − ηH)^{t−1}·δ/n with δ the twin's weight offset, so the
    report's value is (1/T)·Σ_t mean ln((|X(I − ηH)^{t−1}δ|/n + 1e-10)/ε)/t exactly."""
    cond = LINEAR.replace(steps=60)
    eps = 1e-5
    p, H = linear_hessian(cond)
    n = cond.width
    window = Window(-1, 1.7, -1, 0, 4, 2)
    values = twin_trajectory_exponent(cond, window, epsilon=eps)
    twins = perturb_weights(p.weights, eps, cond.seed, np.arange(window.nx * window.ny))
    for i in range(window.ny):
        for j, eta in enumerate(window.axes()[0]):
            delta = np.asarray(twins[0][i * window.nx + j]) - p.weights[0]
            terms = []
            for t in range(1, cond.steps + 1):
                gap = np.abs(p.X @ delta) / n
                terms.append(np.mean(np.log((gap + 1e-10) / eps)) / t)
                delta = delta - eta * H @ delta
            assert abs(values[i, j] - np.mean(terms)) < 1e-8


def reference_benettin(cond, u0):
    """Per pixel, the plain way: explicit Jacobian of the autodiff step map at every step.
    Returns a function (x, y) -> (exponent, S)."""
    p = init_problem(cond)
    X, Y = jnp.asarray(p.X), jnp.asarray(p.Y)
    shapes = cond.layer_shapes
    sizes = [a * b for a, b in shapes]
    parity = np.concatenate([np.full(s, i % 2) for i, s in enumerate(sizes)])

    def unflatten(w):
        parts = jnp.split(w, np.cumsum(sizes)[:-1])
        return [q.reshape(s) for q, s in zip(parts, shapes, strict=True)]

    def step(w, t, x, y):
        if p.minibatches is None:
            Xb, Yb = X, Y
        else:
            idx = jnp.asarray(p.minibatches)[t]
            Xb, Yb = X[idx], Y[idx]
        grads = jax.grad(reference_loss)(unflatten(w), Xb, Yb, cond.activation)
        rates = jnp.where(parity == 0, x, y)  # layer i: x if i is even else y
        return w - rates * jnp.concatenate([g.ravel() for g in grads])

    step_j = jax.jit(step)
    jacobian = jax.jit(jax.jacfwd(step))
    loss = jax.jit(lambda w: reference_loss(unflatten(w), X, Y, cond.activation))
    w0 = jnp.concatenate([jnp.asarray(a).ravel() for a in p.weights])
    v0 = np.concatenate([a.ravel() for a in u0])

    def pixel(x, y):
        w, v = w0, v0
        loss0, total, S = float(loss(w)), 0.0, 0
        for t in range(cond.steps):
            ell = float(loss(w))
            v = np.asarray(jacobian(w, t, x, y)) @ v
            norm = np.linalg.norm(v)
            if not (np.isfinite(ell) and ell <= 1e20 * loss0 and np.isfinite(norm) and norm > 0):
                break
            total += np.log(norm)
            v = v / norm
            S += 1
            w = step_j(w, t, x, y)
        return (total / S if S else np.nan), S

    return pixel


@pytest.mark.parametrize(
    "cond",
    [
        Condition(width=4, steps=30),
        Condition(width=4, depth=3, steps=30, batch_size=6),
        Condition(activation="relu", width=4, steps=30),
    ],
    ids=["tanh", "tanh-depth3-minibatch", "relu"],
)
def test_maximal_exponent_matches_explicit_jacobians(cond):
    """Rounding differences between the two gradient implementations grow like e^{λ·t} along
    the weight trajectory, so values are compared tightly only where λ·S ≤ 16 (amplification
    ≤ 1e7); elsewhere (runs that blow up within a few steps) only the phase picture is."""
    window = Window(-1, 2.5, 0, 2.5, 3, 2)  # nx != ny: rows are y, columns x
    exponent, steps = maximal_exponent(cond, window, chunk=4, return_steps=True)
    assert exponent.shape == steps.shape == (2, 3)
    x, y = window.axes()
    reference = reference_benettin(cond, initial_tangent(cond))
    strict, counts = 0, []
    for i in range(window.ny):
        for j in range(window.nx):
            want, S = reference(x[j], y[i])
            counts.append(S)
            assert S >= 1
            if want * S <= 16:
                assert steps[i, j] == S
                assert abs(exponent[i, j] - want) < 1e-8 * max(1.0, abs(want))
                strict += 1
            else:
                assert abs(int(steps[i, j]) - S) <= 1 and exponent[i, j] > 0 and want > 0
    assert strict >= 2 and max(counts) == cond.steps and min(counts) < cond.steps


def test_tanh_exponent_separates_the_phases():
    """8×8 tanh grid, 100 steps. Measured: converged pixels ≈ 0 (0.000–0.03 deep inside, up to
    ~1 right at the boundary; slightly positive at small η, the non-convex transient), diverged
    pixels positive (0.02 just past the boundary, 3–9 where runs blow up within ~4–14 steps)."""
    cond = Condition(width=8, steps=100)
    window = Window.square((-1, 3, 0, 4), 8)
    converged = sweep(cond, window).converged
    exponent, steps = maximal_exponent(cond, window, return_steps=True)
    assert converged.sum() >= 10 and (~converged).sum() >= 10
    assert np.all(np.isfinite(exponent)) and np.all(steps >= 1)
    assert np.all(steps[converged] == cond.steps)
    assert np.median(exponent[converged]) < 0.1 < 1.0 < np.median(exponent[~converged])
    assert np.all(exponent[~converged] > 0)
    # η → 0 is the gradient-flow limit: |λ| ≤ ln‖J‖ = O(η); the smallest-lr corner is ≈ 0
    assert abs(exponent[0, 0]) < 1e-3
    # the exponent grows with the learning rates deep in the converged phase
    assert exponent[0, 0] < exponent[2, 2] < exponent[2, 4]


def test_twin_estimate_separates_the_phases():
    """The report's estimate on the same grid: finite on every converged pixel (≈ −0.1 deep
    inside), NaN where a diverging run overflows, positive on the diverged runs that stay finite."""
    cond = Condition(width=8, steps=100)
    window = Window.square((-1, 3, 0, 4), 8)
    converged = sweep(cond, window).converged
    values = twin_trajectory_exponent(cond, window)
    assert values.shape == (8, 8)
    assert np.all(np.isfinite(values[converged]))
    finite_diverged = ~converged & np.isfinite(values)
    assert finite_diverged.sum() >= 5
    assert np.mean(values[converged]) + 0.5 < np.mean(values[finite_diverged])
    assert np.all(values[:2, :3] < 0)  # small learning rates: the twins stay within ~ε


def test_twin_estimate_matches_a_plain_loop():
    """Per pixel, autodiff gradients, the notebook's formula, 1-based t, outputs before update.
    Tight on converged pixels; on diverged ones the twins decorrelate (the gap saturates) and
    rounding differences between the gradient implementations grow to O(1e-2) relative."""
    cond = Condition(width=4, steps=25)
    eps = 1e-5
    window = Window(-1, 1, 0, 1.5, 3, 2)
    values = twin_trajectory_exponent(cond, window, epsilon=eps, chunk=4)
    converged = sweep(cond, window).converged
    assert converged.sum() == 3  # bottom row converges, top row diverges
    p = init_problem(cond)
    X, Y = jnp.asarray(p.X), jnp.asarray(p.Y)

    @jax.jit
    def descend(w, rates):
        grads = jax.grad(reference_loss)(w, X, Y, "tanh")
        return [a - r * g for a, r, g in zip(w, rates, grads, strict=True)]

    gap_of = jax.jit(lambda v, w: jnp.abs(forward(v, X, "tanh") - forward(w, X, "tanh")))
    twins = perturb_weights(p.weights, eps, cond.seed, np.arange(6))
    x, y = window.axes()
    for i in range(2):
        for j in range(3):
            rates = [x[j], y[i]]
            w = [jnp.asarray(a) for a in p.weights]
            v = [twins[k][i * 3 + j] for k in range(2)]
            total = 0.0
            for t in range(1, cond.steps + 1):
                gap = np.asarray(gap_of(v, w))
                total += np.mean(np.log((gap + 1e-10) / eps)) / t
                w, v = descend(w, rates), descend(v, rates)
            want = total / cond.steps
            if converged[i, j]:
                assert want < 0 and abs(values[i, j] - want) < 1e-9
            else:
                assert want > 0 and abs(values[i, j] - want) < 0.1 * want


def reference_estimator(cond, epsilon):
    """Both estimates of one pixel the plain way, through the reference loop's step
    (tests/reference.py): a function (x, y, pixel) -> (twin value, Benettin's exponent, S),
    Benettin's method with the explicit Jacobian of the step map on the flattened (weights,
    optimizer state), the tangent renormalised every step in numpy."""
    p = init_problem(cond)
    step = reference_step(cond, p)
    X = jnp.asarray(p.X)
    zeros = tuple(np.zeros_like(w) for w in p.weights)

    def outputs(weights):
        return forward(weights, X, cond.activation, cond.residual)

    @jax.jit
    def advance(run, twin, u, t, rates, h):
        flat, unravel = ravel_pytree(run)

        def step_map(flat):
            new_w, new_s, *_ = step(*unravel(flat), t, rates, h)
            return ravel_pytree((new_w, new_s))[0]

        u = jax.jacfwd(step_map)(flat) @ u
        w, s, loss, _, seen = step(*run, t, rates, h)
        v, v_s, _, _, v_seen = step(*twin, t, rates, h)
        gap = jnp.abs(outputs(v_seen) - outputs(seen))
        return (w, s), (v, v_s), u, loss, jnp.mean(jnp.log((gap + 1e-10) / epsilon)) / (t + 1)

    def pixel(x, y, index):
        rates, get, hp = pixel_hyperparameters(cond, x, y)
        weights, state = start(cond, p, get)
        noise = perturb_weights(zeros, epsilon, cond.seed, np.array([index]))
        run = (weights, state)
        twin = ([w + e[0] for w, e in zip(weights, noise, strict=True)], state)
        u_state = jax.tree.map(jnp.zeros_like, state)
        u = ravel_pytree((list(initial_tangent(cond)), u_state))[0]
        twin_total, total, S, alive, loss0 = 0.0, 0.0, 0, True, None
        for t in range(cond.steps):
            h = step_hyperparameters(cond, get, hp, t)
            run, twin, u, loss, term = advance(run, twin, u, t, rates, h)
            twin_total += float(term)
            loss0 = float(loss) if loss0 is None else loss0
            norm = float(np.linalg.norm(u))
            alive = alive and np.isfinite(loss) and loss <= 1e20 * loss0
            alive = alive and np.isfinite(norm) and norm > 0
            if alive:
                total += np.log(norm)
                S += 1
            u = u / norm
        return twin_total / cond.steps, (total / S if S else np.nan), S

    return pixel


@pytest.mark.parametrize(
    "cond, window",
    [
        (
            Condition(
                width=4, steps=16, batch_size=6, optimizer="momentum", momentum=0.5,
                weight_decay=0.01, schedule="cosine",
            ),
            Window(-1, 0.5, -1, 0.5, 2, 2),
        ),
        (
            Condition(
                width=4, depth=3, residual=True, steps=16, optimizer="nesterov", momentum=0.5,
                phase_space="offset_vs_lr", init_scale=0.8, schedule="step", decay_every=5,
                decay_factor=0.6,
            ),
            Window(-2, -1, -1.5, -0.5, 2, 2),
        ),
        (
            Condition(
                width=4, steps=16, optimizer="adam", weight_decay=0.1,
                weight_decay_mode="decoupled", schedule="warmup", warmup_steps=5,
                phase_space="custom", x_axis="beta1", y_axis="lr", x_scale="linear",
            ),
            Window(0.5, 0.9, -2, -1, 2, 2),
        ),
    ],
    ids=["momentum-l2-cosine-minibatch", "nesterov-residual3-offset-step", "adamw-warmup-beta1"],
)  # fmt: skip
def test_estimators_take_the_conditions_training_step(cond, window):
    """Optimizer state, weight decay, schedules, offsets, custom and linear axes, residual
    blocks, minibatches and init_scale all reach both estimators: they agree with a per-pixel
    loop over the reference step, for the twin estimate and for Benettin's method on the
    explicit Jacobian of the whole update map, optimizer state included. (The estimators'
    own gradient descent of before, which ignored all of these, fails this test.) Modest
    rates: every run stays finite and nothing chaotic amplifies rounding differences."""
    eps = 1e-5
    twin = twin_trajectory_exponent(cond, window, epsilon=eps, chunk=4)
    exponent, steps = maximal_exponent(cond, window, chunk=4, return_steps=True)
    x, y = axis_values(cond, window)
    reference = reference_estimator(cond, eps)
    for i in range(window.ny):
        for j in range(window.nx):
            want_twin, want, S = reference(x[j], y[i], i * window.nx + j)
            assert S == cond.steps == steps[i, j]
            assert abs(exponent[i, j] - want) < 1e-8 * max(1.0, abs(want))
            assert abs(twin[i, j] - want_twin) < 1e-8 * max(1.0, abs(want_twin))


def test_arguments_are_checked():
    window = Window.square((-1, 1, -1, 1), 2)
    with pytest.raises(ValueError, match="epsilon"):
        twin_trajectory_exponent(Condition(width=4, steps=3), window, epsilon=0.0)
    with pytest.raises(ValueError, match="renorm_every"):
        maximal_exponent(Condition(width=4, steps=3), window, renorm_every=0)
    with pytest.raises(ValueError, match="momentum") as err:  # the sweep's axis-range check
        cond = Condition(
            width=4,
            steps=3,
            optimizer="momentum",
            phase_space="custom",
            x_axis="momentum",
            y_axis="lr",
            x_scale="linear",
        )
        maximal_exponent(cond, Window(0.5, 1.5, -1, 0, 2, 2))
    assert "\n" not in str(err.value)
