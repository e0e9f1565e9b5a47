"""The ``float64x2`` engine precision: training in double-double arithmetic (~32 digits).

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

The forward and backward passes are those of `trainability.models.mlp.fused_loss_and_grads`, written
with `trainability.numerics.doubledouble` (contractions as broadcast products reduced with
double-double additions; tanh evaluated to ~2⁻¹⁰³). Supported: the fused engine, gradient
descent, tanh, ReLU, identity and sigmoid networks of any depth (residual or not), full batch
or minibatch, learning-rate axes. Anything else is refused with one line by `check` before any
work (the others would need their own double-double state: momentum buffers, Adam moments,
schedules and weight decay multiplying η, axis values other than learning rates).

Layout: a double-double array travels between compiled segments as one float64 array with a
trailing axis of two (hi, lo), so the sweep's host-side pixel bookkeeping is unchanged.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from trainability.core.condition import FIXED_LR, FIXED_LR_HIDDEN, LR_AXES, Condition
from trainability.models.mlp import SQRT2, residual_scale
from trainability.numerics import doubledouble as dd
from trainability.numerics.doubledouble import DD
from trainability.numerics.jax64 import jnp
from trainability.train import measure
from trainability.train.measure import LOSS_CAP, TAIL, Tally

NAME = "float64x2"


def check(cond: Condition, engine_name: str = "fused") -> None:
    """Refuse, with one line, what the float64x2 engine does not compute."""
    unsupported = [
        (engine_name != "fused", f"engine {engine_name}", "engine fused"),
        (cond.optimizer != "gd", f"optimizer {cond.optimizer}", "optimizer gd"),
        (cond.weight_decay != 0.0, "weight_decay", "weight_decay 0"),
        (cond.schedule != "constant", f"schedule {cond.schedule}", "schedule constant"),
        (cond.readout != "loss", f"readout {cond.readout}", "readout loss"),
    ]
    for axis in cond.axis_names:
        unsupported.append((axis not in LR_AXES, f"a {axis} axis", "learning-rate axes"))
    for bad, what, needed in unsupported:
        if bad:
            raise ValueError(
                f"dtype {NAME} does not support {what} (it computes {needed} only); use dtype "
                "float64"
            )


def auto_dtype(cond: Condition, window) -> str:
    """``auto``'s choice: float64 while the window's float64 guard passes, else float64x2."""
    from trainability.core.window import PrecisionError

    try:
        window.axes(cond.x_scale, cond.y_scale)
    except PrecisionError:
        return NAME
    return "float64"


def resolve(engine, cond: Condition, window):
    """``engine`` with its dtype made concrete (``auto`` → `auto_dtype`), float64x2 checked to
    support the condition (`check`) and its arithmetic made concrete (`resolve_arithmetic`)."""
    dtype = auto_dtype(cond, window) if engine.dtype == "auto" else engine.dtype
    arithmetic = engine.arithmetic
    if dtype == NAME:
        check(cond, engine.name)
        arithmetic = resolve_arithmetic(engine.arithmetic, cond, engine.name)
    if (dtype, arithmetic) == (engine.dtype, engine.arithmetic):
        return engine
    return dataclasses.replace(engine, dtype=dtype, arithmetic=arithmetic)


def resolve_arithmetic(arithmetic: str, cond: Condition, engine_name: str = "fused") -> str:
    """The arithmetic float64x2 computes ``cond`` with: ``auto`` → perturbation where it
    supports the condition, else doubledouble; ``perturbation`` refuses what it does not
    compute (`trainability.train.perturbation.check`)."""
    from trainability.train import perturbation

    if arithmetic == "auto":
        supported = perturbation.problem(cond, engine_name) is None
        return perturbation.NAME if supported else "doubledouble"
    if arithmetic == perturbation.NAME:
        perturbation.check(cond, engine_name)
    return arithmetic


def pixel_table(cond: Condition, xs, ys) -> dict[str, np.ndarray]:
    """`trainability.train.pixels.pixel_table` in double-double: ``xs``, ``ys`` (P, 2) axis values
    as
    (hi, lo); ``lr`` (P, depth, 2), fixed rates exact as doubles (lo = 0)."""
    on_axis = dict(zip(cond.axis_names, (xs, ys), strict=True))
    fixed = {FIXED_LR: cond.lr, FIXED_LR_HIDDEN: cond.lr_hidden}
    columns = []
    for src in cond.lr_sources():
        if src in on_axis:
            columns.append(np.asarray(on_axis[src], np.float64))
        else:
            columns.append(np.stack([np.full(len(xs), fixed[src], np.float64)] * 2, axis=1))
            columns[-1][:, 1] = 0.0
    return {"lr": np.stack(columns, axis=1)}


def to_dd(array) -> DD:
    """A (..., 2) array as a double-double."""
    return DD(array[..., 0], array[..., 1])


def from_dd(x: DD):
    """A double-double as one (..., 2) array."""
    return jnp.stack([x.hi, x.lo], axis=-1)


def activate(name: str, z: DD) -> DD:
    """φ(z) of `trainability.models.mlp.activate` in double-double."""
    if name == "tanh":
        return dd.tanh(z * SQRT2)
    if name == "relu":
        return dd.where(z.hi > 0, z, DD(jnp.zeros_like(z.hi))) * SQRT2
    if name == "sigmoid":  # sigmoid(y) = (1 + tanh(y/2))/2, y = √2·z
        return dd.scale(dd.tanh(dd.scale(z * SQRT2, 0.5)) + 1.0, 0.5)
    if name == "identity":
        return z
    raise ValueError(f"activation must be one of tanh, relu, identity, sigmoid; got {name!r}")


def activation_slope(name: str, z: DD, h: DD):
    """φ'(z) from z and h = φ(z), as `trainability.models.mlp.activation_slope`."""
    if name == "tanh":
        return (1.0 - h * h) * SQRT2
    if name == "relu":
        return jnp.where(z.hi > 0, SQRT2, 0.0)
    if name == "sigmoid":
        return h * (1.0 - h) * SQRT2
    if name == "identity":
        return None
    raise ValueError(f"activation must be one of tanh, relu, identity, sigmoid; got {name!r}")


def _times(x: DD, slope) -> DD:
    return x if slope is None else x * slope


def forward(weights, X, Y, activation: str, residual: bool = False):
    """ℓ (P,), residuals r and the lists Z_i, H_i, A_i of `trainability.models.mlp._fused_forward`,
    for pixel-major double-double weights (P × fan_in × fan_out) and float64 data."""
    depth = len(weights)
    scale = [1.0 / math.sqrt(w.shape[1]) for w in weights]
    Zs, Hs, As = [], [None], [None]
    Z = dd.dot(weights[0][:, None, :, :], X[None, :, :, None], 2) * scale[0]  # (P, N, out)
    for i in range(1, depth):
        A = activate(activation, Z)
        H = Hs[i - 1] + A * residual_scale(depth) if residual and i >= 2 else A
        Zs.append(Z)
        Hs.append(H)
        As.append(A)
        Z = dd.dot(H[:, :, :, None], weights[i][:, None, :, :], 2) * scale[i]
    r = Z * scale[-1] - Y[None]
    loss = dd.sum(r * r, (1, 2)) / float(r.shape[1] * r.shape[2])
    return loss, r, Zs, Hs, As


def loss_and_grads(weights, X, Y, activation: str, residual: bool = False):
    """ℓ and ∂ℓ/∂W_i: `trainability.models.mlp.fused_loss_and_grads` in double-double."""
    loss, r, Zs, Hs, As = forward(weights, X, Y, activation, residual)
    depth = len(weights)
    scale = [1.0 / math.sqrt(w.shape[1]) for w in weights]
    dZ = r * ((2.0 / r.shape[1] / r.shape[2]) * scale[-1])
    grads = [None] * depth
    dH_next = None
    for i in range(depth - 1, -1, -1):
        if i == 0:
            grads[0] = dd.dot(dZ[:, :, None, :], X[None, :, :, None], 1) * scale[0]
        else:
            grads[i] = dd.dot(Hs[i][:, :, :, None], dZ[:, :, None, :], 1) * scale[i]
            dH = dd.dot(dZ[:, :, None, :], weights[i][:, None, :, :], 3) * scale[i]
            if residual and i <= depth - 2:
                dH = dH + dH_next
            slope = activation_slope(activation, Zs[i - 1], As[i])
            if residual and i >= 2:
                dZ = _times(dH * residual_scale(depth), slope)
            else:
                dZ = _times(dH, slope)
            dH_next = dH
    return loss, tuple(grads)


def train_step(weights, t, hp, data, *, cond: Condition):
    """One gradient-descent step of a chunk in double-double: ``(weights', ℓ_t)``, ℓ_t the
    full-batch loss of the weights the step sees (`trainability.train.step`)."""
    X, Y, minibatches = data
    if cond.offset_mode == "every_step" and cond.offset != 0.0:
        weights = (weights[0] + cond.offset,) + tuple(weights[1:])
    if minibatches is None:
        loss, grads = loss_and_grads(weights, X, Y, cond.activation, cond.residual)
    else:
        idx = minibatches[jnp.minimum(t, cond.steps - 1)]
        loss = forward(weights, X, Y, cond.activation, cond.residual)[0]
        grads = loss_and_grads(weights, X[idx], Y[idx], cond.activation, cond.residual)[1]
    lrs = to_dd(hp["lr"])
    new = tuple(
        w - lrs[:, i, None, None] * g for i, (w, g) in enumerate(zip(weights, grads, strict=True))
    )
    return new, loss


def tally_start(n: int) -> Tally:
    """`trainability.train.measure.tally_start` with ℓ_0 and the tail sum as (n, 2)
    double-doubles."""
    plain = measure.tally_start(n)
    zeros = np.zeros(n)
    return plain._replace(loss0=np.stack([plain.loss0, zeros], -1), tail=np.zeros((n, 2)))


def tally_step(tally: Tally, loss: DD, t, steps: int, retire_factor) -> Tally:
    """`trainability.train.measure.tally_step` on the leading doubles, with ℓ_0, v_t = ℓ_t/ℓ_0 and
    the tail sum Σ v_t (which decides the label) in double-double."""
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


def tally_values(tally: Tally, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """`trainability.train.measure.tally_values`, the label decided on the double-double tail sum:
    converged ⇔ Σ v_t − min(T, 20) < 0."""
    hi = tally._replace(loss0=tally.loss0[:, 0], tail=tally.tail[:, 0])
    values, _ = measure.tally_values(hi, steps)
    excess = DD(np.asarray(tally.tail[:, 0]), np.asarray(tally.tail[:, 1])) - float(
        min(steps, TAIL)
    )
    return values, np.asarray(excess.hi) < 0
