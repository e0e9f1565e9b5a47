"""The generic path: any network of `trainability.models.networks`, trained by `jax.grad` and
optax, in the sweep's blocks, segments and chunks like every other arithmetic.

Every condition but the paper's mlp on gaussian data trains here (`Condition.generic`): the cnn
and the transformer on digits, the mlp on digits. The step of a chunk of P pixels, at step
t = 0 … T−1, with θ a pixel's parameters as leaves θ_j (`Network.leaves`), u(j) the
learning-rate column of leaf j (its mlp layer, or its group) and η_{u} the pixel's learning
rates (the ``lr`` columns of the pixel table, `trainability.train.pixels`):

1. ℓ_t = ℓ(θ; X, Y) on the full batch (`trainability.models.networks.loss`: mean squared
   error or cross-entropy) and g = ∇_θ ℓ on the full batch or on minibatch t, by
   `jax.value_and_grad` of one network's loss, `jax.vmap`-ed over the chunk's pixels (the data
   shared: an operand without a pixel axis);
2. the optimizer's direction d from optax transformations built per pixel from its own
   hyperparameters (inside the vmap they are that pixel's numbers, so an axis of momentum, β1,
   β2 or weight decay is simply a traced value):
   ``weight_decay_mode l2``: ``optax.add_decayed_weights(λ)`` (g ← g + λθ) first; then
   ``gd``: ``optax.identity()`` (d = g); ``momentum``/``nesterov``:
   ``optax.trace(μ, nesterov)`` (v ← μv + g; d = v, or g + μv); ``adam``:
   ``optax.scale_by_adam(β1, β2, adam_eps)`` (d = m̂/(√v̂ + ε), bias-corrected);
3. θ_j ← θ_j − η_{u(j)}·s(t)·d_j (s the schedule, `trainability.train.schedules`); then
   ``weight_decay_mode decoupled``: θ_j ← θ_j − η_{u(j)}·s(t)·λ·θ_j on the new parameters,
   as `trainability.train.step` defines it for the mlp.

These are the rules of `trainability.train.step` for the mlp, so a field means the same on
every path. The per-group learning rates and the schedule multiply the optax direction
outside the transformation: that is where the per-pixel, per-group rate lives, one column per
group, and it keeps the optimizer's state free of the rates. The optimizer's state is optax's
(a pytree: ``EmptyState``, ``TraceState``, ``ScaleByAdamState`` with its step count), carried
as its flat leaves, pixel-major, like the parameters.

The loss enters the same streamed measure as the paper's (`trainability.train.measure`: v_t =
ℓ_t/ℓ_0, converged ⇔ the mean of the last 20 v_t is below 1; early exit; the stability
label), with v_t clamped from below at 10⁻⁶ (a cross-entropy reaches exactly 0);
`trainability.train.measure` says why, and what the rule means for the cross-entropy.

**Formulation.** One chunk's step is the gradient of the network's loss on the shared batch,
per pixel: for the cnn by its chunk formulation (`trainability.models.cnn.chunk_outputs`:
patch products, the first layer's patches shared by every pixel; 2.9× faster than the vmapped
module at the CPU's chunk of 128 pixels, measured there), for the others ``vmap`` over pixels
of ``jax.value_and_grad`` of one network (their layers are matrix products, which vmap turns
into batched products already).

``engine autodiff`` (the mlp's validation engine: `jax.grad` of the reference loss against the
hand-written one) does not exist here, where `jax.grad` is the only gradient: it is refused
(`trainability.train.arithmetics.of`).
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from trainability.core.condition import Condition
from trainability.models.networks import loss, network, objective
from trainability.numerics.jax64 import jax, jnp
from trainability.train.arithmetics.base import Arithmetic, Start
from trainability.train.measure import V_FLOOR, tally_start, tally_step, tally_values
from trainability.train.pixels import initial_weights, pixel_table, step_table
from trainability.train.schedules import schedule


def _value(cond: Condition, row: dict, name: str):
    """One pixel's hyperparameter: its entry of the pixel table's row, else the field."""
    return row[name] if name in row else getattr(cond, name)


def transformation(cond: Condition, row: dict):
    """The optax transformation of one pixel (step 2 of the module docstring), its
    hyperparameters from the pixel table's ``row`` (scalars inside the pixel vmap)."""
    import optax

    parts = []
    decays = "weight_decay" in row or cond.weight_decay != 0.0
    if decays and cond.weight_decay_mode == "l2":
        parts.append(optax.add_decayed_weights(_value(cond, row, "weight_decay")))
    if cond.optimizer in ("momentum", "nesterov"):
        mu = _value(cond, row, "momentum")
        parts.append(optax.trace(decay=mu, nesterov=cond.optimizer == "nesterov"))
    elif cond.optimizer == "adam":
        b1, b2 = _value(cond, row, "beta1"), _value(cond, row, "beta2")
        parts.append(optax.scale_by_adam(b1=b1, b2=b2, eps=cond.adam_eps))
    elif cond.optimizer != "gd":
        raise AssertionError(cond.optimizer)
    return optax.chain(*parts) if parts else optax.identity()


@lru_cache(maxsize=16)
def _state_treedef(cond: Condition):
    """The structure of one pixel's optimizer state (it does not depend on the values)."""
    leaves = network(cond).leaves
    state = jax.eval_shape(transformation(cond, {}).init, tuple(jnp.asarray(a) for a in leaves))
    return jax.tree_util.tree_structure(state)


def start(cond: Condition, xs, ys, pixel_index, weights0, dtype, prepared=None) -> Start:
    """The pixels' hyperparameters (`pixel_table`), their initial parameters
    (`initial_weights`: the seed's leaves, scaled and perturbed as the condition says), optax's
    initial state of each pixel (flat leaves, pixel-major) and a fresh tally."""
    table = pixel_table(cond, xs, ys, dtype)
    weights = initial_weights(cond, weights0, table, pixel_index, dtype)
    init = jax.vmap(lambda *leaves: transformation(cond, {}).init(leaves))
    state = init(*(jnp.asarray(w) for w in weights))
    opt_state = [np.array(a) for a in jax.tree_util.tree_leaves(state)]
    return Start(weights, opt_state, step_table(table), tally_start(len(xs), dtype))


def _update(params, grads, state, row, t, *, cond: Condition):
    """Steps 2 and 3 of the module docstring for one pixel: its new parameters and state."""
    tx = transformation(cond, row)
    state = jax.tree_util.tree_unflatten(_state_treedef(cond), state)
    direction, state = tx.update(grads, state, params)
    rates = row["lr"]
    s_of = schedule(cond, row)
    if s_of is not None:
        rates = rates * s_of(t, rates.dtype)
    units = network(cond).units
    new = tuple(p - rates[u] * d for p, d, u in zip(params, direction, units, strict=True))
    decays = "weight_decay" in row or cond.weight_decay != 0.0
    if decays and cond.weight_decay_mode == "decoupled":
        decay = _value(cond, row, "weight_decay")
        new = tuple(p - rates[u] * decay * p for p, u in zip(new, units, strict=True))
    return new, tuple(jax.tree_util.tree_leaves(state))


def _gradient(cond: Condition):
    """(losses, losses-and-gradients) of a chunk, (pixel-major leaves, shared X, Y) → (P,)
    and per-pixel gradients: the network's chunk formulation where it has one (pixels are
    independent, so the gradient of the sum of their losses is each pixel's own), else
    ``jax.vmap`` of one network's ``jax.value_and_grad``."""
    net = network(cond)
    if net.chunk_apply is None:
        one_loss, shared = loss(cond), (0, None, None)
        return (
            jax.vmap(one_loss, in_axes=shared),
            jax.vmap(jax.value_and_grad(one_loss), in_axes=shared),
        )
    of_outputs = objective(cond)

    def losses(leaves, X, Y):
        return of_outputs(net.chunk_apply(leaves, X), Y)

    def total(leaves, X, Y):
        ell = losses(leaves, X, Y)
        return jnp.sum(ell), ell

    def value_and_grad(leaves, X, Y):
        (_, ell), grads = jax.value_and_grad(total, has_aux=True)(leaves, X, Y)
        return ell, grads

    return losses, value_and_grad


def step(carry, t, hp, data, *, cond: Condition, engine_name: str, retire_factor):
    """One step of a chunk (module docstring) and the tally; the probe is untouched (the
    condition refuses the probe readout on this path)."""
    weights, opt_state, tally, probe = carry
    X, Y, minibatches, _ = data
    value, value_and_grad = _gradient(cond)
    weights = tuple(weights)
    if minibatches is None:
        ell, grads = value_and_grad(weights, X, Y)
    else:
        idx = minibatches[jnp.minimum(t, cond.steps - 1)]
        ell = value(weights, X, Y)
        grads = value_and_grad(weights, X[idx], Y[idx])[1]
    update = jax.vmap(partial(_update, t=t, cond=cond))
    weights, opt_state = update(tuple(weights), grads, tuple(opt_state), hp)
    tally = tally_step(tally, ell, t, cond.steps, retire_factor, floor=V_FLOOR)
    return weights, opt_state, tally, probe


GENERIC = Arithmetic(
    name="generic",
    start=start,
    step=step,
    finish=tally_values,
)
