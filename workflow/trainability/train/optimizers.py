"""Optimizers as pure ``init``/``update`` pairs over a chunk of pixels, their states named.

Arrays are pixel-major (P × fan_in × fan_out), one per weight matrix W_0 … W_{L−1}. Each
optimizer's state is declared as a `NamedTuple` (optax's convention) whose every field holds
one array per weight matrix, of that matrix's shape, all zero at the start:

- ``gd``: `EmptyState()`, no arrays;
- ``momentum``, ``nesterov``: `MomentumState(velocity)`, the velocity v_i of each W_i;
- ``adam``: `AdamState(mu, nu)`, the first moments m_i and the second moments v_i.

`STATES` names each optimizer's state class, and `state_arrays` the number of its fields: the
arrays the optimizer keeps per weight matrix, so a pixel's state holds ``state_arrays × n_params``
numbers (what `trainability.study.plan` prices). Hyperparameters (μ, β1, β2, Adam's ε) are
bound when the optimizer is built: Python numbers, or (P, 1, 1) columns of the pixel table.

The state travels *flat*: ``init`` returns the fields' arrays concatenated in field order, a
plain tuple of per-pixel arrays (`flatten`; Adam's is (m_0 … m_{L−1}, v_0 … v_{L−1})), which
the sweep slices per pixel and carries through `jax.lax.scan`, and the Lyapunov estimate
pairs with a tangent of the same structure. ``update`` accepts that flat tuple or the
`NamedTuple` itself (`unflatten` reads fields k·L … (k+1)·L − 1 as field k) and returns the new
state in the form it was given, so a scan's carry keeps its structure.

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


class EmptyState(NamedTuple):
    """Gradient descent's state: nothing."""


class MomentumState(NamedTuple):
    """Heavy-ball and Nesterov momentum: ``velocity`` v_i of each weight matrix W_i."""

    velocity: tuple


class AdamState(NamedTuple):
    """Adam: first moments ``mu`` (m_i) and second moments ``nu`` (v_i) of each W_i."""

    mu: tuple
    nu: tuple


# the state of each optimizer that `Condition.optimizer` names
STATES: dict[str, type] = {
    "gd": EmptyState,
    "momentum": MomentumState,
    "nesterov": MomentumState,
    "adam": AdamState,
}


def state_arrays(name: str) -> int:
    """Arrays of the optimizer ``name``'s state per weight matrix (the fields of its state)."""
    return len(STATES[name]._fields)


def flatten(state) -> tuple:
    """The flat layout of a state: its fields' per-layer arrays, concatenated in field order."""
    return tuple(a for field in state for a in field)


def unflatten(cls: type, state, depth: int):
    """A state of class ``cls`` from its flat layout over ``depth`` weight matrices (field k
    is arrays k·depth … (k+1)·depth − 1); a state that already is a ``cls`` as it is."""
    if isinstance(state, cls):
        return state
    fields = len(cls._fields)
    if len(state) != fields * depth:
        raise ValueError(
            f"a flat {cls.__name__} of {depth} weight matrices has {fields * depth} arrays, "
            f"got {len(state)}"
        )
    return cls(*(tuple(state[k * depth : (k + 1) * depth]) for k in range(fields)))


def _as_given(given, new):
    """``new`` (a state NamedTuple) in the form ``given`` came in: flat or named."""
    return new if isinstance(given, type(new)) else flatten(new)


class Optimizer(NamedTuple):
    """``init(weights) -> state`` (flat); ``update(grads, extra, state, t) -> (d, e', state)``,
    ``state`` flat or named (module docstring)."""

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
    """Plain gradient descent: no state (`EmptyState`), the direction is the gradient."""

    def init(weights):
        return flatten(EmptyState())

    def update(grads, extra, state, t):
        return grads, extra, _as_given(state, unflatten(EmptyState, state, len(grads)))

    return Optimizer(init, update)


def momentum(mu, nesterov: bool = False) -> Optimizer:
    """Heavy-ball momentum (W ← W − η·v) or Nesterov's (W ← W − η·(g + μ·v)), v ← μ·v + g;
    the state is `MomentumState` (v)."""

    def init(weights):
        return flatten(MomentumState(velocity=tuple(jnp.zeros_like(w) for w in weights)))

    def update(grads, extra, state, t):
        before = unflatten(MomentumState, state, len(grads)).velocity
        total = grads if extra is None else tuple(g + e for g, e in zip(grads, extra, strict=True))
        velocity = tuple(mu * v + g for v, g in zip(before, total, strict=True))
        looking = velocity if nesterov else before
        if extra is None:
            extra = tuple(mu * v for v in looking)
        else:
            extra = tuple(e + mu * v for e, v in zip(extra, looking, strict=True))
        return grads, extra, _as_given(state, MomentumState(velocity=velocity))

    return Optimizer(init, update)


def adam(b1, b2, eps: float) -> Optimizer:
    """Adam with bias correction; the state is `AdamState` (m, v), flat (m_0 … m_{L−1},
    v_0 … v_{L−1})."""

    def init(weights):
        mu, nu = (tuple(jnp.zeros_like(w) for w in weights) for _ in AdamState._fields)
        return flatten(AdamState(mu=mu, nu=nu))

    def update(grads, extra, state, t):
        if extra is not None:
            grads = tuple(g + e for g, e in zip(grads, extra, strict=True))
        before = unflatten(AdamState, state, len(grads))
        dtype = grads[0].dtype
        m = tuple(b1 * m + (1.0 - b1) * g for m, g in zip(before.mu, grads, strict=True))
        v = tuple(b2 * v + (1.0 - b2) * g * g for v, g in zip(before.nu, grads, strict=True))
        k = jnp.asarray(t + 1, dtype)
        c1 = 1.0 - jnp.power(jnp.asarray(b1, dtype), k)
        c2 = 1.0 - jnp.power(jnp.asarray(b2, dtype), k)
        direction = tuple(
            (mi / c1) / (jnp.sqrt(vi / c2) + eps) for mi, vi in zip(m, v, strict=True)
        )
        return direction, None, _as_given(state, AdamState(mu=m, nu=v))

    return Optimizer(init, update)
