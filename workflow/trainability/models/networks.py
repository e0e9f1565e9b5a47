"""Every network a condition names, behind one interface: what the generic training path
(`trainability.train.arithmetics.generic`) trains.

`network(cond)` is a `Network`: the seed's parameters as a flat tuple of arrays (*leaves*, in
the order `jax.tree_util` flattens the parameter tree), how to rebuild the tree, which
learning-rate column each leaf reads, and ``apply(leaves, X)``, the outputs of one network on
a batch of inputs. Per pixel a sweep holds each leaf pixel-major (P × leaf shape), so its
host-side bookkeeping (packing, padding, compacting pixels) never needs to know what a leaf is.

- ``mlp``: the paper's network (`trainability.models.mlp.forward`, the reference's one-pixel
  pass: mean-field scaling, the activation's gains, residual blocks), its matrices drawn by the
  reference scheme (``normal(split(split(PRNGKey(seed))[1], depth)[i], shape_i)``); leaf i is
  W_i and reads learning-rate column i (the condition's per-layer rules);
- ``cnn``: `trainability.models.cnn.CNN`; ``transformer``:
  `trainability.models.transformer.Transformer`; Equinox modules built from
  ``PRNGKey(seed)``, their array leaves the parameters, each leaf reading the column of its
  group (`trainability.core.condition.MODEL_GROUPS`: the module's top-level attribute). The cnn
  also has ``chunk_apply``, the outputs of a chunk of networks at once
  (`trainability.models.cnn.chunk_outputs`: patch products, faster than vmapping the module).

Every draw happens under the condition's ``draws`` setting (`trainability.models.mlp.random_draws`).

`loss(cond)` is the loss of one network on a batch, ℓ(θ; X, Y) (`Condition.objective`): the
mean squared error (the paper's; on digits against one-hot targets), or the mean
cross-entropy of the softmax over 10 classes (`optax.softmax_cross_entropy` against one-hot
labels), the default on digits. `init_problem(cond)` gathers what a
sweep shares: the seed's leaves, the data (`trainability.models.datasets`), the minibatch
indices (`trainability.models.mlp.minibatch_indices`, the same sequence for every network).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import NamedTuple

import numpy as np

from trainability.core.condition import MODEL_GROUPS, Condition
from trainability.models import mlp
from trainability.models.datasets import digits_data
from trainability.numerics.jax64 import jax, jnp

LOSSES = {"mse": "mean squared error", "cross_entropy": "cross-entropy"}


class Network(NamedTuple):
    """One condition's network (module docstring)."""

    leaves: tuple  # the seed's parameters (numpy arrays), in tree order
    treedef: object  # the parameter tree's structure
    static: object  # Equinox's non-array part of the module, or None (the mlp)
    units: tuple  # per leaf: its column of the pixel table's ``lr`` (layer or group)
    names: tuple  # per leaf: where it sits, e.g. "conv1.weight"
    apply: Callable  # (leaves, X) -> outputs (N × outputs) of one network
    chunk_apply: Callable | None = None  # (pixel-major leaves, shared X) -> (P × N × outputs)


@lru_cache(maxsize=16)
def network(cond: Condition) -> Network:
    """The condition's network with the seed's parameters (module docstring)."""
    with mlp.random_draws(cond.draws):
        if cond.model == "mlp":
            return _mlp(cond)
        return _equinox(cond)


def _mlp(cond: Condition) -> Network:
    weights, _ = mlp._draw_network(jax.random.PRNGKey(cond.seed), cond, "weights")
    leaves = tuple(np.asarray(w) for w in weights)
    _, treedef = jax.tree_util.tree_flatten(leaves)

    def apply(leaves, X):
        return mlp.forward(tuple(leaves), X, cond.activation, cond.residual)

    names = tuple(f"W_{i}" for i in range(len(leaves)))
    return Network(leaves, treedef, None, tuple(range(len(leaves))), names, apply)


def _equinox(cond: Condition) -> Network:
    import equinox as eqx

    key = jax.random.PRNGKey(cond.seed)
    chunk_apply = None
    if cond.model == "cnn":
        from trainability.models.cnn import CNN, chunk_outputs

        module = CNN(cond.channels, cond.activation, key)
        chunk_apply = partial(chunk_outputs, activation=cond.activation)
    elif cond.model == "transformer":
        from trainability.models.transformer import Transformer

        module = Transformer(cond.d_model, cond.heads, cond.activation, key)
    else:
        raise ValueError(f"model must be one of {', '.join(MODEL_GROUPS)}; got {cond.model!r}")
    params, static = eqx.partition(module, eqx.is_array)
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(params)
    groups = MODEL_GROUPS[cond.model]
    units = tuple(groups.index(path[0].name) for path, _ in with_paths)
    names = tuple(jax.tree_util.keystr(path)[1:] for path, _ in with_paths)
    leaves = tuple(np.asarray(leaf) for _, leaf in with_paths)

    def apply(leaves, X):
        model = eqx.combine(jax.tree_util.tree_unflatten(treedef, list(leaves)), static)
        return jax.vmap(model)(X)

    return Network(leaves, treedef, static, units, names, apply, chunk_apply)


def objective(cond: Condition) -> Callable:
    """The loss of outputs against targets, (…, N, outputs) → (…): the mean over the N points
    of the cross-entropy, or the mean over points and outputs of the squared error
    (`Condition.objective`)."""
    if cond.objective == "cross_entropy":
        import optax

        def cross_entropy(outputs, Y):
            return jnp.mean(optax.softmax_cross_entropy(outputs, Y), axis=-1)

        return cross_entropy

    def squared_error(outputs, Y):
        return jnp.mean((outputs - Y) ** 2, axis=(-2, -1))

    return squared_error


def loss(cond: Condition) -> Callable:
    """ℓ(leaves, X, Y) of one network on a batch (module docstring)."""
    apply, of_outputs = network(cond).apply, objective(cond)
    return lambda leaves, X, Y: of_outputs(apply(leaves, X), Y)


def init_problem(cond: Condition) -> mlp.Problem:
    """What every pixel of a sweep shares: the paper's problem for the mlp on gaussian data
    (`trainability.models.mlp.init_problem`), else the seed's leaves, the digits and the
    minibatch indices (no probe input: the probe readout is the paper's network's)."""
    if not cond.generic:
        return mlp.init_problem(cond)
    X, Y = digits_data(cond)
    with mlp.random_draws(cond.draws):
        minibatches = mlp.minibatch_indices(cond)
    return mlp.Problem(network(cond).leaves, X, Y, minibatches, None)
