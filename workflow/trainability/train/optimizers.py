"""Optimizers as pure ``init``/``update`` pairs over a chunk of pixels.

Arrays are pixel-major (P × fan_in × fan_out), one per weight matrix; an optimizer's state is a
flat tuple of such arrays (none for gd, the velocity v for momentum and Nesterov, then the
moments m and v for Adam), all zero at the start. Hyperparameters (μ, β1, β2, Adam's ε) are
bound when the optimizer is built: Python numbers, or (P, 1, 1) columns of the pixel table.

``update(grads, extra, state, t)`` takes the gradient in *split form*: g = ∇ℓ, and ``extra`` e
(None, or the part of the gradient beyond ∇ℓ: λW for l2 weight decay). It returns the
direction in split form (d, e') and the new state; the step is then W ← (W − η·d) − η·e'
(`trainability.train.step`). With s = the state before the step:

- ``gd``: (d, e') = (g, e);
- ``momentum`` (heavy ball): v ← μ·s + (g + e); (d, e') = (g, e + μ·s), so d + e' = v;
- ``nesterov``: v ← μ·s + (g + e); (d, e') = (g, e + μ·v), so d + e' = g + e + μ·v;
- ``adam``: g' = g + e; m ← β1·m + (1 − β1)·g'; v ← β2·v + (1 − β2)·g'²;
  (d, e') = (m̂/(√v̂ + ε), None), m̂ = m/(1 − β1^(t+1)), v̂ = v/(1 − β2^(t+1)).

Why split: the linear optimizers' extra part e' is built as such (λW, μv) and never by
subtraction, and the first term is the gradient-descent step operation for operation. With
λ = 0 or μ = 0 (fixed or on an axis) e' is exactly zero, so the result is plain gradient
descent to the bit whatever the compiler rewrites (XLA folds the gradient's 1/√fan_in into the
learning rate, and contracts multiply-adds into FMAs, differently when the step reads a
momentum buffer: the literal W − η·(μv + g) would differ in the last bits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from trainability.core.condition import Condition
from trainability.numerics.jax64 import jnp
from trainability.train.pixels import hyperparameter


class Optimizer(NamedTuple):
    """``init(weights) -> state``; ``update(grads, extra, state, t) -> (d, e', state)``."""

    init: Callable
    update: Callable


def optimizer(cond: Condition, hp: dict) -> Optimizer:
    """The condition's optimizer, its hyperparameters read from the pixel table ``hp`` where
    they are axes and from the condition's fields elsewhere."""
    if cond.optimizer == "gd":
        return gd()
    if cond.optimizer in ("momentum", "nesterov"):
        return momentum(hyperparameter(cond, hp, "momentum"), cond.optimizer == "nesterov")
    if cond.optimizer == "adam":
        b1 = hyperparameter(cond, hp, "beta1")
        b2 = hyperparameter(cond, hp, "beta2")
        return adam(b1, b2, cond.adam_eps)
    raise AssertionError(cond.optimizer)


def gd() -> Optimizer:
    """Plain gradient descent: no state, the direction is the gradient."""

    def init(weights):
        return ()

    def update(grads, extra, state, t):
        return grads, extra, state

    return Optimizer(init, update)


def momentum(mu, nesterov: bool = False) -> Optimizer:
    """Heavy-ball momentum (W ← W − η·v) or Nesterov's (W ← W − η·(g + μ·v)), v ← μ·v + g."""

    def init(weights):
        return tuple(jnp.zeros_like(w) for w in weights)

    def update(grads, extra, state, t):
        total = grads if extra is None else tuple(g + e for g, e in zip(grads, extra, strict=True))
        velocity = tuple(mu * v + g for v, g in zip(state, total, strict=True))
        looking = velocity if nesterov else state
        if extra is None:
            extra = tuple(mu * v for v in looking)
        else:
            extra = tuple(e + mu * v for e, v in zip(extra, looking, strict=True))
        return grads, extra, velocity

    return Optimizer(init, update)


def adam(b1, b2, eps: float) -> Optimizer:
    """Adam with bias correction; the state is (m_0 … m_{L−1}, v_0 … v_{L−1})."""

    def init(weights):
        return tuple(jnp.zeros_like(w) for _ in range(2) for w in weights)

    def update(grads, extra, state, t):
        if extra is not None:
            grads = tuple(g + e for g, e in zip(grads, extra, strict=True))
        depth = len(grads)
        dtype = grads[0].dtype
        m = tuple(b1 * m + (1.0 - b1) * g for m, g in zip(state[:depth], grads, strict=True))
        v = tuple(b2 * v + (1.0 - b2) * g * g for v, g in zip(state[depth:], grads, strict=True))
        k = jnp.asarray(t + 1, dtype)
        c1 = 1.0 - jnp.power(jnp.asarray(b1, dtype), k)
        c2 = 1.0 - jnp.power(jnp.asarray(b2, dtype), k)
        direction = tuple(
            (mi / c1) / (jnp.sqrt(vi / c2) + eps) for mi, vi in zip(m, v, strict=True)
        )
        return direction, None, m + v

    return Optimizer(init, update)
