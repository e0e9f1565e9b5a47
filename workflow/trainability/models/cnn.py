"""A small convolutional network for 8×8 images (``model cnn``), written with Equinox layers.

For one image x (1 × 8 × 8), with C = ``channels`` and φ the condition's activation (with the
mlp's gains, `trainability.models.mlp.activate`: tanh(√2·z) by default):

    H_1 = φ(conv1(x)),   H_2 = φ(conv2(H_1)),   f(x) = dense(vec(H_2)) ∈ R¹⁰,

conv1: 1 → C and conv2: C → C channels, 3×3 kernels, stride 1, no padding ("valid": H_1 is
C × 6 × 6, H_2 is C × 4 × 4), each with a bias per channel; dense: C·16 → 10 with biases. No
pooling: the image is small enough to read whole. Valid rather than same padding: the zero
border would add nothing an 8×8 digit needs, and same padding costs 3.3× the arithmetic per
image (64 + 64 positions against 36 + 16, and a dense map 4× larger) — the dominant cost of a
sweep (benchmarks/real_networks.py). The three layers are the parameter groups ``conv1``,
``conv2`` and ``dense`` (`trainability.core.condition.MODEL_GROUPS`), each with its learning
rate (axes ``lr_conv1``, ``lr_conv2``, ``lr_dense``).

**Over a chunk of pixels** (`chunk_outputs`, what a sweep computes): P networks with their own
parameters on the same images. Vmapping the module over the pixels turns each convolution
into one grouped convolution (a pixel's kernels are a group), which XLA's CPU backend runs
slowly; `chunk_outputs` writes the same layers as products of *patches* (im2col): the 3×3
patches of the shared images are cut once, (N, 36, 9), and conv1 of every pixel is one matrix
product against them; conv2 is a batched product of each pixel's patches of H_1, (N, 16, 9C),
with its kernels (9C × C); dense a batched product. Measured on 2 CPU cores (C = 4, N = 83,
one step's loss and gradient, benchmarks/real_networks.py): 650 ms per chunk of 128 pixels
vmapped, 226 ms as patches (58 ms against 46 ms at 32 pixels). `CNN.__call__` stays the
definition; the tests check that both agree (to 1e-15).

Initial weights are Equinox's defaults, drawn from ``key``: every weight and bias of a layer
uniform on [−1/√fan_in, 1/√fan_in] (fan_in = 9 for conv1, 9C for conv2, 16C for dense), one
key per layer from ``split(key, 3)``.
"""

from __future__ import annotations

from functools import partial

import equinox as eqx

from trainability.core.condition import DIGITS_CLASSES, DIGITS_SIDE
from trainability.models.mlp import activate
from trainability.numerics.jax64 import jax, jnp


class CNN(eqx.Module):
    """conv1 → φ → conv2 → φ → dense (module docstring); call on one image (1 × 8 × 8)."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    dense: eqx.nn.Linear
    activation: str = eqx.field(static=True)

    def __init__(self, channels: int, activation: str, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.conv1 = eqx.nn.Conv2d(1, channels, 3, key=k1)
        self.conv2 = eqx.nn.Conv2d(channels, channels, 3, key=k2)
        features = channels * (DIGITS_SIDE - 4) ** 2
        self.dense = eqx.nn.Linear(features, DIGITS_CLASSES, key=k3)
        self.activation = activation

    def __call__(self, x):
        phi = partial(activate, self.activation)
        h = phi(self.conv1(x))
        h = phi(self.conv2(h))
        return self.dense(h.reshape(-1))


def _patches(h, n: int):
    """The 3×3 patches of images ``h`` (…, C, n+2, n+2) at the n×n unpadded positions:
    (…, n·n, 9C), each patch ordered (channel, row, column) as a kernel (C_out, C, 3, 3)
    flattens."""
    cols = [h[..., dy : dy + n, dx : dx + n] for dy in range(3) for dx in range(3)]
    stacked = jnp.stack(cols, axis=-3)  # (…, C, 9, n, n)
    shape = stacked.shape
    flat = stacked.reshape(shape[:-4] + (shape[-4] * 9, n * n))
    return jnp.swapaxes(flat, -1, -2)


def chunk_outputs(leaves, X, activation: str):
    """Outputs (P, N, 10) of P networks (their leaves pixel-major, in `CNN`'s tree order:
    conv1 weight and bias, conv2 weight and bias, dense weight and bias) on the shared images
    X (N, 1, 8, 8), by patch products (module docstring)."""
    w1, b1, w2, b2, wd, bd = leaves
    pixels, channels = w1.shape[0], w1.shape[1]
    side = X.shape[-1]
    first, second = side - 2, side - 4
    z1 = jnp.einsum("nsk,pck->pncs", _patches(X, first), w1.reshape(pixels, channels, 9))
    h1 = activate(activation, z1 + b1.reshape(pixels, 1, channels, 1))  # (P, N, C, 36)
    h1 = h1.reshape(h1.shape[:3] + (first, first))
    kernels = w2.reshape(pixels, channels, 9 * channels)
    z2 = jnp.einsum("pnsk,pck->pncs", _patches(h1, second), kernels)
    h2 = activate(activation, z2 + b2.reshape(pixels, 1, channels, 1))  # (P, N, C, 16)
    features = h2.reshape(h2.shape[:2] + (-1,))  # (c, row, column), as dense reads vec(H_2)
    return jnp.einsum("pnf,pkf->pnk", features, wd) + bd[:, None, :]
