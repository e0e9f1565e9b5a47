"""The mean-field multilayer perceptron of Sohl-Dickstein (2024), docs/methods.md §1.

A network of ``depth`` bias-free weight matrices W_0 … W_{L-1} (shapes from
`Condition.layer_shapes`) maps inputs H_0 = X (N × n) to outputs

    Z_i = H_i · W_i / √fan_in_i,      H_{i+1} = φ(Z_i)   (i < L − 1),
    ŷ   = Z_{L-1} / √fan_in_{L-1},

so the one-hidden-layer net is ŷ = (1/n)·φ(X·W0/√n)·W1. With ``residual=True`` (depth L ≥ 3)
the hidden-to-hidden layers become residual blocks,

    H_1 = φ(Z_0),      H_{i+1} = H_i + φ(Z_i)/√(L − 2)   (1 ≤ i ≤ L − 2),

one branch scale 1/√(number of blocks): at initialisation the L − 2 branches are roughly
independent with O(1) entries, so the residual stream keeps O(1) entries at every depth (a 1/L
scale would let the branches vanish, 1 would let the stream grow like √L), the scaling of
stable/depth-μP residual networks (Hayou et al. 2021, Yang et al. 2023); at depth 3 it is the
plain sum H_2 = H_1 + φ(Z_1). The input layer has no skip connection.

The loss is the mean squared error ℓ = mean over points and output dimensions of (ŷ − y)².
Activations keep the reference's gains: tanh → tanh(√2·z), relu → √2·relu(z), identity → z,
and our choice for sigmoid, sigmoid(√2·z) = (1 + tanh(z/√2))/2, which puts the √2 where the
reference puts it for tanh.

Two implementations of the training gradient live here:

- `reference_loss`: the reference's computation for one pixel, to be differentiated by
  `jax.grad` (the ``autodiff`` engine);
- `fused_loss_and_grads`: a hand-written forward and backward pass over a chunk of P pixels
  whose parameters are stored pixel-major (P × fan_in × fan_out), with the first layer written
  as one product against the shared inputs X (the ``fused`` engine).

`init_problem` draws weights, data and minibatch indices with the reference seed scheme and, by
default, JAX's random generator as the reference ran it in January 2024 (`random_draws`), so a
given seed gives the reference's network and data bit for bit.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from trainability.core.condition import ACTIVATIONS, Condition
from trainability.numerics.jax64 import jax, jnp
from trainability.numerics.number_systems import FLOAT, NumberSystem

SQRT2 = math.sqrt(2.0)
MINIBATCH_SEED = 42
PROBE_SEED = -1234567
DRAW_BATCH = 128  # pixels per compiled per-pixel draw (`draw_per_pixel`)


def activate(name: str, z, numbers: NumberSystem = FLOAT):
    """φ(z) for the named activation (with the reference's √2 gains), in ``numbers``.

    A new activation is its φ here, its φ' in `activation_slope` and its name in
    `trainability.core.condition.ACTIVATIONS`; every engine and arithmetic then has it. A
    function neither number system offers yet goes into `trainability.numerics.number_systems`
    (double-double needs it to ~2⁻¹⁰⁶, or `trainability.core.precision` refuses the activation
    for float64x2); perturbation refuses it until its δφ is derived
    (`trainability.train.arithmetics.perturbation.activation_delta`)."""
    if name == "tanh":
        return numbers.tanh(z * SQRT2)
    if name == "relu":
        return numbers.relu(z) * SQRT2
    if name == "sigmoid":
        return numbers.sigmoid(z * SQRT2)
    if name == "identity":
        return z
    raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")


def activation_slope(name: str, z, h, numbers: NumberSystem = FLOAT):
    """φ'(z), computed from the pre-activation z and the activation h = φ(z); None where it is
    1 (the identity: multiplying by it would change nothing)."""
    if name == "tanh":
        return SQRT2 * (1.0 - h * h)
    if name == "relu":
        leading = numbers.leading(z)
        return jnp.where(leading > 0, SQRT2, 0.0).astype(leading.dtype)
    if name == "sigmoid":
        return SQRT2 * h * (1.0 - h)
    if name == "identity":
        return None
    raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")


@dataclass(frozen=True)
class Problem:
    """The fixed ingredients of a sweep: initial weights, data, minibatches and probe input."""

    weights: tuple[np.ndarray, ...]
    X: np.ndarray  # (N, width)
    Y: np.ndarray  # (N, target_dim)
    minibatches: np.ndarray | None  # (steps, batch_size) int indices, or None for full batch
    x_probe: np.ndarray | None  # (1, width); None: no probe (the other networks)


def random_draws(draws: str):
    """Context in which `jax.random` draws as ``draws`` says (`Condition.draws`).

    ``legacy``: ``jax_threefry_partitionable`` off, JAX ≤ 0.4's way of turning a key into
    random bits and of splitting keys, which the paper's notebook ran on (JAX 0.5 switched it
    on, so the same key now draws other numbers). ``partitionable``: today's default. The
    setting is part of JAX's trace context, so compiled functions are cached per setting. A JAX
    without the setting cannot draw the paper's networks: that is an error, never a silent change.
    """
    if draws == "partitionable":
        return contextlib.nullcontext()
    if draws != "legacy":
        raise ValueError(f"draws must be one of legacy, partitionable; got {draws!r}")
    switch = getattr(jax, "threefry_partitionable", None)
    if switch is None:
        raise RuntimeError(
            f"JAX {jax.__version__} has no jax_threefry_partitionable setting, so it cannot draw "
            "the paper's 2024 networks (draws: legacy); install the pinned JAX or use draws: "
            "partitionable"
        )
    return switch(False)


def init_problem(cond: Condition) -> Problem:
    """Weights, data and minibatches from the reference seed scheme, drawn per ``cond.draws``
    (`random_draws`)."""
    with random_draws(cond.draws):
        return _draw_problem(cond)


def _draw_problem(cond: Condition) -> Problem:
    """Weights, data and minibatches from the reference seed scheme (docs/methods.md §1):

    key = PRNGKey(seed), then `_draw_network`;
    minibatch t uses randint(split(PRNGKey(42), steps)[t], (m,), 0, N).
    """
    weights, (X, Y) = _draw_network(jax.random.PRNGKey(cond.seed), cond)
    minibatches = minibatch_indices(cond)
    x_probe = np.asarray(jax.random.normal(jax.random.PRNGKey(PROBE_SEED), (1, cond.width)))
    weights = tuple(np.asarray(w) for w in weights)
    return Problem(weights, np.asarray(X), np.asarray(Y), minibatches, x_probe)


def minibatch_indices(cond: Condition) -> np.ndarray | None:
    """The minibatch of every step, (steps, batch_size) indices into the data set, or None
    (full batch): minibatch t = randint(split(PRNGKey(42), steps)[t], (m,), 0, N), the same
    sequence for every pixel and every network (drawn under the caller's `random_draws`)."""
    if cond.batch_size is None:
        return None
    step_keys = jax.random.split(jax.random.PRNGKey(MINIBATCH_SEED), cond.steps)
    draw = jax.vmap(lambda s: jax.random.randint(s, (cond.batch_size,), 0, cond.n_data))
    return np.asarray(draw(step_keys))


def _draw_network(key, cond: Condition, what: str = "both"):
    """(weights, (X, Y)) from one key by the reference scheme:

    (key, k) = split(key); W_i = normal(split(k, depth)[i], shape_i);
    (key, k) = split(key); X = normal(k, (N, n)); (key, k) = split(key); Y = normal(k, (N, t)).
    Inputs may instead be drawn U(0, 1) (``input_distribution="uniform"``, the report's text).
    ``what`` = "weights" or "data" draws only those (the other is None).
    """
    key, k = jax.random.split(key)
    weights = None
    if what != "data":
        layer_keys = jax.random.split(k, cond.depth)
        weights = tuple(
            jax.random.normal(layer_keys[i], shape) for i, shape in enumerate(cond.layer_shapes)
        )
    if what == "weights":
        return weights, None
    key, k = jax.random.split(key)
    shape_x = (cond.n_data, cond.width)
    if cond.input_distribution == "uniform":
        X = jax.random.uniform(k, shape_x, dtype=jnp.float64)
    else:
        X = jax.random.normal(k, shape_x)
    key, k = jax.random.split(key)
    Y = jax.random.normal(k, (cond.n_data, cond.target_dim))
    return weights, (X, Y)


def draws_per_pixel(cond: Condition, what: str) -> bool:
    """Whether each pixel draws its own ``what`` ("weights" or "data") under ``cond``."""
    return cond.seed_mode == "per_pixel" and cond.pixel_draws in (what, "both")


def draw_per_pixel(cond: Condition, pixel_index, what: str):
    """Per-pixel seeds (``seed_mode="per_pixel"``): pixel p runs `_draw_network` on its own key
    fold_in(PRNGKey(seed), p), p its index in the whole window, so a pixel draws the same network
    and data whether computed whole or in tiles (docs/seeds.md). Returns, with a leading pixel
    axis, the weights (P × fan_in × fan_out each) for ``what="weights"``, or (X, Y) (P × N × n,
    P × N × t) for ``what="data"``, drawn per ``cond.draws``; minibatch indices stay the shared
    sequence of PRNGKey(42).

    Pixels are drawn in batches of exactly `DRAW_BATCH` (the last padded with copies), so every
    pixel goes through one compiled program of one shape, wherever it sits: its draw cannot
    depend on how many pixels are drawn with it.
    """
    index = np.asarray(pixel_index, dtype=np.uint32)
    padded = np.resize(index, -(-index.size // DRAW_BATCH) * DRAW_BATCH)
    draw = _pixel_draw(cond, what)
    with random_draws(cond.draws):
        batches = [draw(padded[a : a + DRAW_BATCH]) for a in range(0, padded.size, DRAW_BATCH)]
    return tuple(
        np.concatenate([np.asarray(b[i]) for b in batches])[: index.size]
        for i in range(len(batches[0]))
    )


@lru_cache(maxsize=16)
def _pixel_draw(cond: Condition, what: str):
    """`draw_per_pixel`'s compiled draw over a vector of pixel indices (traced under the
    caller's `random_draws` setting, which JAX keeps apart in its cache)."""
    def one(p):
        key = jax.random.fold_in(jax.random.PRNGKey(cond.seed), p)
        weights, data = _draw_network(key, cond, what)
        return weights if what == "weights" else data

    return jax.jit(jax.vmap(one))


def perturb_weights(weights, epsilon, seed: int, pixel_index):
    """Initial-weight perturbation of the follow-up report: W_i + ε·N(0, 1), drawn per pixel.

    The noise of global pixel p comes from fold_in(fold_in(PRNGKey(42), seed), p), split into
    one key per layer, so a pixel gets the same noise whether computed whole or in tiles.
    ``pixel_index`` is a 1-D integer array; ``epsilon`` a number or one value per pixel (an
    ``epsilon`` axis); the result is pixel-major (P × fan_in × fan_out).
    """
    base = jax.random.fold_in(jax.random.PRNGKey(MINIBATCH_SEED), seed)

    def one(p, eps):
        keys = jax.random.split(jax.random.fold_in(base, p), len(weights))
        return tuple(w + eps * jax.random.normal(keys[i], w.shape) for i, w in enumerate(weights))

    pixels = jnp.asarray(pixel_index, dtype=jnp.uint32)
    if np.ndim(epsilon) == 0:
        return jax.vmap(one, in_axes=(0, None))(pixels, epsilon)
    return jax.vmap(one)(pixels, jnp.asarray(epsilon))


def residual_scale(depth: int) -> float:
    """Branch multiplier of the residual blocks: 1/√(depth − 2) (module docstring)."""
    return 1.0 / math.sqrt(depth - 2)


def forward(weights, X, activation: str, residual: bool = False):
    """ŷ for one pixel's weights, written as the reference writes it (plus residual blocks)."""
    H = X
    depth = len(weights)
    for i, W in enumerate(weights):
        Z = jnp.dot(H, W) / jnp.sqrt(W.shape[0])
        if i < depth - 1:
            if residual and i >= 1:
                H = H + activate(activation, Z) * residual_scale(depth)
            else:
                H = activate(activation, Z)
    return Z / jnp.sqrt(weights[-1].shape[0])


def reference_loss(weights, X, Y, activation: str, residual: bool = False):
    """ℓ = mean((ŷ − Y)²) for one pixel; `jax.grad` of this is the autodiff engine's gradient."""
    return jnp.mean((forward(weights, X, activation, residual) - Y) ** 2)


def fused_loss(weights, X, Y, activation: str, residual: bool = False, numbers=FLOAT):
    """ℓ for a chunk of pixels (weights pixel-major), without the backward pass: (P,)."""
    return fused_forward(weights, X, Y, activation, residual, numbers)[0]


def fused_loss_and_grads(weights, X, Y, activation: str, residual: bool = False, numbers=FLOAT):
    """ℓ and ∂ℓ/∂W_i for a chunk of P pixels, by a hand-written backward pass, in the number
    system ``numbers`` (`trainability.numerics.number_systems`: float64 arrays, or
    double-doubles for the float64x2 precision; one pass for both).

    With r = ŷ − Y and M = N·target_dim: ∂ℓ/∂ŷ = 2r/M, ∂ℓ/∂Z_{L-1} = ∂ℓ/∂ŷ / √fan_in_{L-1},
    ∂ℓ/∂W_i = H_iᵀ·∂ℓ/∂Z_i / √fan_in_i, ∂ℓ/∂H_i = ∂ℓ/∂Z_i·W_iᵀ / √fan_in_i and
    ∂ℓ/∂Z_{i-1} = ∂ℓ/∂H_i ⊙ φ'(Z_{i-1}). The first layer's products against the shared X are
    single matrix products over all pixels at once (batched products when every pixel has its
    own data: X of shape P × N × n, Y of P × N × t). Residual blocks (H_{i+1} = H_i + α·φ(Z_i),
    α = 1/√(L − 2), 1 ≤ i ≤ L − 2) add the skip path ∂ℓ/∂H_i += ∂ℓ/∂H_{i+1} and scale the
    branch: ∂ℓ/∂Z_i = α·∂ℓ/∂H_{i+1} ⊙ φ'(Z_i).
    """
    loss, r, Zs, Hs, As = fused_forward(weights, X, Y, activation, residual, numbers)
    depth = len(weights)
    scale = [1.0 / math.sqrt(w.shape[1]) for w in weights]  # 1/√fan_in (weights are P×in×out)
    dZ = (2.0 / r.shape[1] / r.shape[2]) * r * scale[-1]
    grads = [None] * depth
    dH_next = None  # ∂ℓ/∂H_{i+1}, for the skip path of residual blocks
    for i in range(depth - 1, -1, -1):
        if i == 0:
            grads[0] = numbers.contract(_first_layer(X, "pnj->pkj"), X, dZ) * scale[0]
        else:
            grads[i] = numbers.contract("pnk,pnj->pkj", Hs[i], dZ) * scale[i]
            dH = numbers.contract("pnj,pkj->pnk", dZ, weights[i]) * scale[i]
            if residual and i <= depth - 2:
                dH = dH + dH_next
            if residual and i >= 2:
                dH_branch = dH * residual_scale(depth)
            else:
                dH_branch = dH
            slope = activation_slope(activation, Zs[i - 1], As[i], numbers)
            dZ = dH_branch if slope is None else dH_branch * slope
            dH_next = dH
    return loss, tuple(grads)


def fused_forward(weights, X, Y, activation: str, residual: bool = False, numbers=FLOAT):
    """Pixel-major forward pass: returns ℓ (P,), residuals r (P, N, t), and the lists Z_i,
    H_i (layer inputs) and A_i = φ(Z_{i-1}) (equal to H_i without residual blocks)."""
    depth = len(weights)
    scale = [1.0 / math.sqrt(w.shape[1]) for w in weights]
    Zs, Hs, As = [], [None], [None]
    Z = numbers.contract(_first_layer(X, "pkj->pnj"), X, weights[0]) * scale[0]
    for i in range(1, depth):
        A = activate(activation, Z, numbers)
        H = Hs[i - 1] + A * residual_scale(depth) if residual and i >= 2 else A
        Zs.append(Z)
        Hs.append(H)
        As.append(A)
        Z = numbers.contract("pnk,pkj->pnj", H, weights[i]) * scale[i]
    r = Z * scale[-1] - Y
    loss = numbers.mean(r * r, (1, 2))
    return loss, r, Zs, Hs, As


def _first_layer(X, rest: str) -> str:
    """einsum subscripts of a product against the inputs X: shared (N × n) or per pixel."""
    return ("pnk," if jnp.ndim(X) == 3 else "nk,") + rest
