"""One training step of a chunk of pixels: the one place where a condition trains a network.

The sweep (`trainability.train.sweep`), both Lyapunov estimators (`trainability.analysis.lyapunov`)
and any other consumer advance networks with `train_step`, so every field of a condition means the
same everywhere. Per pixel, at step t = 0 … T−1, with η_i the learning rate of layer i (the
``lr`` column of the pixel table, `trainability.train.pixels`):

1. ``offset_mode="every_step"``: W_0 ← W_0 + c (c = the offset axis or field ``offset``);
   these are the weights the step *sees*;
2. ℓ_t = ℓ(W; X, Y) on the full batch, and g = ∇ℓ on the full batch or on minibatch t
   (``engine`` ``fused``: the hand-written backward pass; ``autodiff``: `jax.grad`);
3. e = λW for ``weight_decay_mode="l2"`` (λ = ``weight_decay``), else none;
4. the optimizer turns (g, e) into a direction (d, e') and its new state
   (`trainability.train.optimizers`);
5. W ← (W − η·s(t)·d) − η·s(t)·e' (s the schedule, `trainability.train.schedules`); then
   ``weight_decay_mode="decoupled"``: W ← W − η·s(t)·λ·W (AdamW style, after the step).

Every choice is made in Python when the step is traced, so plain gradient descent is exactly
W_i − η_i·g_i with no state, and what a condition leaves at its neutral value (λ = 0, μ = 0,
s ≡ 1, c = 0) costs nothing and changes no bit.
"""

from __future__ import annotations

from functools import partial

from trainability.core.condition import Condition
from trainability.core.engine import ENGINES
from trainability.models.mlp import fused_loss, fused_loss_and_grads, reference_loss
from trainability.numerics.jax64 import jax, jnp
from trainability.numerics.number_systems import FLOAT
from trainability.train.optimizers import optimizer
from trainability.train.pixels import hyperparameter
from trainability.train.schedules import schedule


def train_step(
    weights, opt_state, t, hp, data, *, cond: Condition, engine: str = "fused", numbers=FLOAT
):
    """One step of a chunk: ``((weights', opt_state'), (ℓ_t, seen))``, in the number system
    ``numbers`` (`trainability.numerics.number_systems`: float64 arrays, or double-doubles for
    the float64x2 precision, whose weights and ``hp["lr"]`` are double-doubles too).

    ``weights``: pixel-major arrays (P × fan_in × fan_out); ``opt_state``: the optimizer's
    state (`trainability.train.optimizers`, from its ``init``); ``t``: the step number; ``hp``: the
    chunk's rows of the pixel table (`trainability.train.pixels.step_table`); ``data``: (X, Y,
    minibatches or None), X and Y shared or with a leading pixel axis (per-pixel data,
    `trainability.models.mlp.draw_per_pixel`). ℓ_t (P,) is the full-batch loss of the weights the
    step sees, ``seen`` (W_0 + c in every-step offset mode, else ``weights``).
    """
    X, Y, minibatches = data
    if cond.offset_mode == "every_step" and ("offset" in hp or cond.offset != 0.0):
        weights = (weights[0] + hyperparameter(cond, hp, "offset"),) + tuple(weights[1:])
    loss_fn, grad_fn = _gradient(cond, engine, jnp.ndim(X) == 3, numbers)
    if minibatches is None:
        loss, grads = grad_fn(weights, X, Y)
    else:
        idx = minibatches[jnp.minimum(t, cond.steps - 1)]
        loss = loss_fn(weights, X, Y)
        batch = (X[:, idx], Y[:, idx]) if jnp.ndim(X) == 3 else (X[idx], Y[idx])
        grads = grad_fn(weights, *batch)[1]
    return update(weights, grads, opt_state, t, hp, cond, numbers), (loss, weights)


def update(weights, grads, opt_state, t, hp, cond: Condition, numbers=FLOAT):
    """Steps 3 to 5 of the module docstring: the new weights and optimizer state."""
    depth = len(weights)
    lrs = numbers.rates(hp["lr"])
    s_of = schedule(cond, hp)
    if s_of is not None:
        s = s_of(t, weights[0].dtype)
        lrs = lrs * (s[:, None] if jnp.ndim(s) == 1 else s)
    lr = [lrs[:, i, None, None] for i in range(depth)]
    decay = None
    if "weight_decay" in hp or cond.weight_decay != 0.0:
        decay = hyperparameter(cond, hp, "weight_decay")
    l2 = decay is not None and cond.weight_decay_mode == "l2"
    extra = tuple(decay * w for w in weights) if l2 else None
    direction, extra, opt_state = optimizer(cond, hp).update(grads, extra, opt_state, t)
    new = tuple(w - lr[i] * d for i, (w, d) in enumerate(zip(weights, direction, strict=True)))
    if extra is not None:
        new = tuple(w - lr[i] * e for i, (w, e) in enumerate(zip(new, extra, strict=True)))
    if decay is not None and cond.weight_decay_mode == "decoupled":
        new = tuple(w - lr[i] * decay * w for i, w in enumerate(new))
    return new, opt_state


def _gradient(cond: Condition, engine: str, per_pixel: bool = False, numbers=FLOAT):
    """(loss, loss-and-gradients) of a pixel-major chunk for the engine's gradient; with
    ``per_pixel`` the data too are pixel-major. ``autodiff`` (`jax.grad`) is float64's only."""
    act, residual = cond.activation, cond.residual
    if engine == "fused":
        return (
            partial(fused_loss, activation=act, residual=residual, numbers=numbers),
            partial(fused_loss_and_grads, activation=act, residual=residual, numbers=numbers),
        )
    if engine == "autodiff" and numbers is FLOAT:
        one_loss = partial(reference_loss, activation=act, residual=residual)
        axes = (0, 0, 0) if per_pixel else (0, None, None)
        return (
            jax.vmap(one_loss, in_axes=axes),
            jax.vmap(jax.value_and_grad(one_loss), in_axes=axes),
        )
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
