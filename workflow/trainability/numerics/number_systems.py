"""Number systems the network's passes are written over: plain arrays (float64, float32) and
double-doubles (`trainability.numerics.doubledouble`).

The network (`trainability.models.mlp`) is written once with the arithmetic operators, which
arrays and `DD` both have (a `DD` mixes with plain arrays and Python floats, taken as exact),
and with the few operations below, which differ between the two:

- ``contract(subscripts, a, b)``: an einsum of two operands over exactly one summed index,
  e.g. ``"pnk,pkj->pnj"``. Arrays: `jnp.einsum`. Double-doubles: the broadcast product summed
  over that index with double-double additions (`doubledouble.dot`), the operands laid out
  along the network's index order p (pixel), n (data point), k (a layer's input), j (its
  output);
- ``mean(x, axes)``: the mean over ``axes``;
- ``tanh``, ``sigmoid``, ``relu``: the activations' functions (double-double: `dd.tanh`, and
  sigmoid(y) = (1 + tanh(y/2))/2, ReLU by the sign of the leading double);
- ``leading(x)``: the leading double of x (x itself for arrays), where a decision is made
  (ReLU's slope);
- ``rates(table)``: a column of the pixel table as numbers of the system (double-doubles
  travel as arrays with a trailing axis (hi, lo)).

A `NumberSystem` is a named tuple of these functions (optax's way: functions, no classes to
subclass); `FLOAT` and `DOUBLE_DOUBLE` are the two instances.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from trainability.numerics import doubledouble as dd
from trainability.numerics.doubledouble import DD
from trainability.numerics.jax64 import jax, jnp

INDEX_ORDER = "pnkj"  # pixel, data point, a layer's input, its output


class NumberSystem(NamedTuple):
    """The operations the network needs beyond +, −, ×, ÷ (module docstring)."""

    name: str
    contract: Callable
    mean: Callable
    tanh: Callable
    sigmoid: Callable
    relu: Callable
    leading: Callable
    rates: Callable


FLOAT = NumberSystem(
    name="float",
    contract=jnp.einsum,
    mean=lambda x, axes: jnp.mean(x, axis=axes),
    tanh=jnp.tanh,
    sigmoid=jax.nn.sigmoid,
    relu=jax.nn.relu,
    leading=lambda x: x,
    rates=lambda table: table,
)


def _dd_contract(subscripts: str, a, b) -> DD:
    """``subscripts`` (one summed index) in double-double: both operands broadcast to the
    layout of their indices in `INDEX_ORDER` (others after, alphabetically), multiplied, and
    summed over the index that the output lacks."""
    inputs, output = subscripts.replace(" ", "").split("->")
    spec_a, spec_b = inputs.split(",")
    letters = sorted(set(spec_a + spec_b), key=lambda c: (c not in INDEX_ORDER,
                                                          INDEX_ORDER.find(c), c))  # fmt: skip
    (summed,) = [c for c in letters if c not in output]
    if "".join(c for c in letters if c != summed) != output:
        raise ValueError(f"contract: output {output!r} must keep the index order {letters}")

    def laid_out(x, spec):
        order = sorted(range(len(spec)), key=lambda i: letters.index(spec[i]))
        x = x if order == list(range(len(spec))) else _transpose(x, order)
        index = tuple(slice(None) if c in spec else None for c in letters)
        return x[index]

    return dd.dot(laid_out(a, spec_a), laid_out(b, spec_b), letters.index(summed))


def _transpose(x, order):
    if isinstance(x, DD):
        return DD(jnp.transpose(x.hi, order), jnp.transpose(x.lo, order))
    return jnp.transpose(x, order)


def _dd_relu(z: DD) -> DD:
    return dd.where(z.hi > 0, z, DD(jnp.zeros_like(z.hi)))


def _dd_sigmoid(y: DD) -> DD:
    """sigmoid(y) = (1 + tanh(y/2))/2, halvings exact."""
    return dd.scale(dd.tanh(dd.scale(y, 0.5)) + 1.0, 0.5)


DOUBLE_DOUBLE = NumberSystem(
    name="doubledouble",
    contract=_dd_contract,
    mean=lambda x, axes: dd.sum(x, axes) / float(_count(x.shape, axes)),
    tanh=dd.tanh,
    sigmoid=_dd_sigmoid,
    relu=_dd_relu,
    leading=lambda x: x.hi,
    rates=lambda table: DD(table[..., 0], table[..., 1]),
)


def _count(shape, axes) -> int:
    n = 1
    for a in (axes,) if isinstance(axes, int) else axes:
        n *= shape[a]
    return n
