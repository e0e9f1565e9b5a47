"""The ``doubledouble`` arithmetic of the ``float64x2`` precision: every pixel trained in
double-double arithmetic (~32 digits).

Deep in a zoom the learning rates of neighbouring pixels differ by far less than a float64 ulp
(a window 1e-20 decades wide: relative differences of ~1e-23). After the first step the weights
W − η·g differ between pixels by that much, so from then on *every* quantity that depends on
the weights must carry hi + lo: weights, pre-activations, activations, residuals, gradients and
the updates. What does not depend on the learning rate stays a double and is exact as such: the
data X, Y (float64 values), the initial weights (the float64 engine's, with lo = 0), the
model's constants (1/√fan_in, √2 as the float64 engine uses them: the model is *defined* with
these doubles) and the minibatch indices. The loss enters the convergence measure as its
leading double (the measure is a float64 computation of ℓ_t/ℓ_0; rounding ℓ_t to a double
changes ℓ_t by 1e-16 relative, far below what separates the two phases).

The convergence measure keeps one more thing in double-double: the label compares the mean of
v_t = ℓ_t/ℓ_0 over the last 20 steps with 1, and where training is barely unstable that mean
exceeds 1 by as little as the learning rates differ (gradient descent on a quadratic at
η = (2/λ_max)(1 + δ) multiplies the loss by (1 + δ)² per step). So ℓ_0, v_t and the tail sum
are double-doubles (`tally_step`); the values −Σv and Σ1/v and the early exit use the leading
doubles exactly as `trainability.train.measure` does.

The step is the float64 engine's own (`trainability.train.step.train_step`, the network's
passes `trainability.models.mlp.fused_loss_and_grads`) over the double-double number system
(`trainability.numerics.number_systems.DOUBLE_DOUBLE`: contractions as broadcast products
reduced with double-double additions; tanh evaluated to ~2⁻¹⁰³), so a layer or activation is
written once for both. Supported: what `trainability.core.precision.unsupported` allows
(gradient descent at constant learning rates on learning-rate axes, any activation and depth,
residual or not, full batch or minibatch); anything else is refused with one line before any
work (the others would need their own double-double state: momentum buffers, Adam moments,
schedules and weight decay multiplying η, axis values other than learning rates).

Layout: a double-double array travels between compiled segments as one float64 array with a
trailing axis of two (hi, lo), so the sweep's host-side pixel bookkeeping is unchanged.
"""

from __future__ import annotations

import numpy as np

from trainability.core.condition import Condition
from trainability.numerics import doubledouble as dd
from trainability.numerics.doubledouble import DD
from trainability.numerics.jax64 import jnp
from trainability.numerics.number_systems import DOUBLE_DOUBLE
from trainability.train import measure
from trainability.train.arithmetics import plain
from trainability.train.arithmetics.base import Arithmetic, Start
from trainability.train.measure import LOSS_CAP, TAIL, Tally
from trainability.train.step import train_step

NAME = "doubledouble"


def to_dd(array) -> DD:
    """A (..., 2) array as a double-double."""
    return DD(array[..., 0], array[..., 1])


def from_dd(x: DD):
    """A double-double as one (..., 2) array."""
    return jnp.stack([x.hi, x.lo], axis=-1)


def tally_start(n: int) -> Tally:
    """`trainability.train.measure.tally_start` with ℓ_0 and the tail sum as (n, 2)
    double-doubles."""
    plain = measure.tally_start(n)
    zeros = np.zeros(n)
    return plain._replace(loss0=np.stack([plain.loss0, zeros], -1), tail=np.zeros((n, 2)))


def tally_step(tally: Tally, loss: DD, t, steps: int, retire_factor) -> Tally:
    """`trainability.train.measure.tally_step` on the leading doubles, with ℓ_0, v_t = ℓ_t/ℓ_0
    and the tail sum Σ v_t (which decides the label) in double-double."""
    loss0, tail = to_dd(tally.loss0), to_dd(tally.tail)
    plain = measure.tally_step(
        tally._replace(loss0=loss0.hi, tail=tail.hi), loss.hi, t, steps, retire_factor
    )
    cap = DD(jnp.full_like(loss.hi, LOSS_CAP))
    capped = dd.where(jnp.isfinite(loss.hi), loss, cap)
    loss0 = dd.where(t == 0, capped, loss0)
    v = capped / loss0
    v = dd.where(v.hi < LOSS_CAP, v, cap)
    tail = dd.where(tally.alive & (t < steps) & (t >= steps - TAIL), tail + v, tail)
    retired = tally.alive & ~plain.alive  # the rest of the tail at v_ret, as measure does
    rest = jnp.minimum(steps - 1 - t, TAIL) * jnp.minimum(LOSS_CAP / loss0.hi, LOSS_CAP)
    tail = dd.where(retired, tail + rest, tail)
    return plain._replace(loss0=from_dd(loss0), tail=from_dd(tail))


def tally_values(
    tally: Tally, steps: int, threshold: float = measure.THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """`trainability.train.measure.tally_values`, the label decided on the double-double tail
    sum: converged ⇔ Σ v_t − θ·min(T, 20) < 0."""
    hi = tally._replace(loss0=tally.loss0[:, 0], tail=tally.tail[:, 0])
    values, _ = measure.tally_values(hi, steps, threshold)
    excess = DD(np.asarray(tally.tail[:, 0]), np.asarray(tally.tail[:, 1])) - float(
        threshold * min(steps, TAIL)
    )
    return values, np.asarray(excess.hi) < 0


def start(cond: Condition, xs, ys, pixel_index, weights0, dtype, prepared=None) -> Start:
    """The float64 start (`trainability.train.arithmetics.plain.start`) with the weights as
    double-doubles (the initial weights are exact doubles: lo = 0) and the double-double
    tally."""
    state = plain.start(cond, xs, ys, pixel_index, weights0, dtype, prepared)
    weights = [np.stack([w, np.zeros_like(w)], axis=-1) for w in state.weights]
    return state._replace(weights=weights, tally=tally_start(len(xs)))


def step(carry, t, hp, data, *, cond: Condition, engine_name: str, retire_factor):
    """One gradient-descent step of a chunk in double-double and its double-double tally."""
    weights, opt_state, tally, probe = carry
    X, Y, minibatches, _ = data
    (weights, opt_state), (loss, _) = train_step(
        weights, opt_state, t, hp, (X, Y, minibatches), cond=cond, engine=engine_name,
        numbers=DOUBLE_DOUBLE,
    )  # fmt: skip
    tally = tally_step(tally, loss, t, cond.steps, retire_factor)
    return weights, opt_state, tally, probe


DOUBLEDOUBLE = Arithmetic(
    name=NAME,
    start=start,
    step=step,
    finish=tally_values,
    enter=lambda state: (tuple(to_dd(w) for w in state[0]),) + tuple(state[1:]),
    leave=lambda carry: (tuple(from_dd(w) for w in carry[0]),) + tuple(carry[1:]),
)
