"""A tiny transformer over the rows of an 8×8 image (``model transformer``), with Equinox layers.

An image is a sequence of its 8 rows, each row a token x_r ∈ R⁸ (r = 0 … 7). With d =
``d_model``, h = ``heads`` and φ the condition's activation (with the mlp's gains,
`trainability.models.mlp.activate`):

    E_r = x_r·A + a + p_r                          (embedding: A 8×d, bias a, positions p 8×d)
    E'  = E + MHA(E, E, E)                         (attention: h heads of width d/h, softmax of
                                                    q·k/√(d/h) over all 8 rows; maps W_q, W_k,
                                                    W_v, W_o of d × d, no biases)
    E'' = E' + φ(E'·B_1 + b_1)·B_2 + b_2           (feed-forward: d → 2d → d)
    f(x) = mean_r(E''_r)·R + c ∈ R¹⁰               (readout)

One encoder block, residual around attention and feed-forward, no layer normalisation (every
parameter belongs to one of the four groups and nothing rescales a run that is blowing up: the
divergence the measure looks for stays visible). The attention is **not causal**: the task is
to classify the whole image, every row may look at every other row, and the readout pools all
positions; a causal mask would only make sense for predicting rows one after the other.

Parameter groups (`trainability.core.condition.MODEL_GROUPS`): ``embedding`` (A, a, p),
``attention`` (W_q, W_k, W_v, W_o), ``feedforward`` (B_1, b_1, B_2, b_2), ``readout`` (R, c),
each with its learning rate (axes ``lr_embedding``, ``lr_attention``, ``lr_feedforward``,
``lr_readout``).

Initial weights, from ``key`` split into one key per group (``split(key, 4)``; the embedding's
key split again for A and p): Equinox's defaults for its layers (uniform on
[−1/√fan_in, 1/√fan_in]; the attention's maps likewise, fan_in = d) and p ~ N(0, 1/d).
"""

from __future__ import annotations

from functools import partial

import equinox as eqx

from trainability.core.condition import DIGITS_CLASSES, DIGITS_SIDE, FEEDFORWARD_FACTOR
from trainability.models.mlp import activate
from trainability.numerics.jax64 import jax, jnp


class Embedding(eqx.Module):
    """Row embedding x_r·A + a plus the learned position p_r, for all 8 rows at once."""

    rows: eqx.nn.Linear
    position: jax.Array

    def __init__(self, d_model: int, key):
        k1, k2 = jax.random.split(key)
        self.rows = eqx.nn.Linear(DIGITS_SIDE, d_model, key=k1)
        self.position = jax.random.normal(k2, (DIGITS_SIDE, d_model)) / jnp.sqrt(d_model)

    def __call__(self, x):
        return jax.vmap(self.rows)(x) + self.position


class Transformer(eqx.Module):
    """embedding → attention → feed-forward → mean over rows → readout (module docstring);
    call on one image as 8 rows (8 × 8)."""

    embedding: Embedding
    attention: eqx.nn.MultiheadAttention
    feedforward: eqx.nn.MLP
    readout: eqx.nn.Linear

    def __init__(self, d_model: int, heads: int, activation: str, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.embedding = Embedding(d_model, k1)
        self.attention = eqx.nn.MultiheadAttention(heads, d_model, key=k2)
        self.feedforward = eqx.nn.MLP(
            d_model,
            d_model,
            FEEDFORWARD_FACTOR * d_model,
            depth=1,
            activation=partial(activate, activation),
            key=k3,
        )
        self.readout = eqx.nn.Linear(d_model, DIGITS_CLASSES, key=k4)

    def __call__(self, x):
        e = self.embedding(x)
        e = e + self.attention(e, e, e)
        e = e + jax.vmap(self.feedforward)(e)
        return self.readout(e.mean(axis=0))
