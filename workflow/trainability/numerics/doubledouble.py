"""Double-double arithmetic (``float64x2``): each number an unevaluated sum hi + lo of two doubles.

A double-double x = hi + lo is *normalised* when hi = fl(hi + lo), so |lo| ≤ ulp(hi)/2 and x
carries 106 significant bits (~32 digits). Everything rests on two error-free transformations,
exact for finite operands that neither overflow nor underflow (XLA flushes subnormals to zero,
so products and halves must stay above ~1e-290):

- ``two_sum(a, b)`` = (s, e) with s = fl(a + b) and e = a + b − s exactly (Knuth: six
  additions, no assumption on |a|, |b|);
- ``two_prod(a, b)`` = (p, e) with p = fl(a·b) and e = a·b − p exactly (Dekker's product).

Dekker's product needs each factor split into two halves of at most 26 significant bits. The
textbook split c = (2²⁷ + 1)·a, a_hi = c − (c − a) breaks when the compiler contracts c − a
into a fused multiply-add (XLA does contract on CPU and GPU). Here the split works on the bit
pattern instead: a_hi is a rounded to its 26 leading significant bits by adding 2²⁶ to the
64-bit pattern and clearing its 27 low bits (a carry into the exponent is the correct rounding),
and a_lo = a − a_hi is exact (a multiple of ulp(a) no larger than 2²⁶·ulp(a): 26 bits). All
four partial products a_x·b_y then have at most 52 bits and are exact, each partial sum of
e = ((a_hi·b_hi − p) + a_hi·b_lo + a_lo·b_hi) + a_lo·b_lo is exactly representable, so
contracting any of them into an FMA rounds nothing and changes no bit. XLA does not reassociate
floating-point additions unless fast-math is on (it is off in JAX); tests/test_doubledouble.py
checks both transformations bit for bit under ``jit`` on adversarial inputs.

On top: ``add`` (accurate, two TwoSums: error ≤ 2·2⁻¹⁰⁶·|x + y|), ``mul`` (error ≤ ~4·2⁻¹⁰⁶
relative), ``div`` and `tanh` (Taylor series of expm1 after argument reduction; relative error a
few 2⁻¹⁰⁶). Non-finite input gives non-finite output (inf turns into nan through the error
terms); overflow happens a factor 2²⁷ earlier than in float64 (only in runs long diverged).

`DD` is a JAX pytree with the arithmetic operators, mixing with plain float64 arrays (exact
values: their lo is zero); `sum` reduces along axes and `dot` contracts one axis of a
broadcast product, both with double-double additions.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

from trainability.numerics.jax64 import jax, jnp

_ROUND = np.uint64(1 << 26)
_MASK = np.uint64(~((1 << 27) - 1) & (2**64 - 1))


def two_sum(a, b):
    """(s, e): s = fl(a + b), e = a + b − s exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a, b):
    """(s, e) as `two_sum`, valid when |a| ≥ |b| (or a = 0): three operations."""
    s = a + b
    return s, b - (s - a)


def split(a):
    """(a_hi, a_lo): a = a_hi + a_lo exactly, each with at most 26 significant bits, by
    rounding the bit pattern (no multiplication that a compiler could fuse)."""
    bits = jax.lax.bitcast_convert_type(a, jnp.uint64)
    hi = jax.lax.bitcast_convert_type((bits + _ROUND) & _MASK, jnp.float64)
    return hi, a - hi


def two_prod(a, b):
    """(p, e): p = fl(a·b), e = a·b − p exactly (Dekker, with `split`)."""
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@jax.tree_util.register_pytree_node_class
class DD:
    """A double-double array hi + lo (normalised: hi = fl(hi + lo)). Operators take DD or plain
    float64 operands (arrays or Python floats, taken as exact)."""

    __slots__ = ("hi", "lo")
    __array_priority__ = 1000  # numpy arrays defer to DD's reflected operators

    def __init__(self, hi, lo=None):
        self.hi = hi
        self.lo = jnp.zeros_like(hi) if lo is None else lo

    def tree_flatten(self):
        return (self.hi, self.lo), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)

    def __getitem__(self, index) -> DD:
        return DD(self.hi[index], self.lo[index])

    @property
    def shape(self):
        return jnp.shape(self.hi)

    def __add__(self, other) -> DD:
        return add(self, other)

    __radd__ = __add__

    def __sub__(self, other) -> DD:
        return add(self, -other)

    def __rsub__(self, other) -> DD:
        return add(-self, other)

    def __neg__(self) -> DD:
        return DD(-self.hi, -self.lo)

    def __mul__(self, other) -> DD:
        return mul(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other) -> DD:
        return div(self, other)

    def __rtruediv__(self, other) -> DD:
        return div(DD(jnp.asarray(other, jnp.float64)), self)


def add(x: DD, y) -> DD:
    """x + y (accurate double-double addition; y a DD or a double)."""
    if not isinstance(y, DD):
        s, e = two_sum(x.hi, y)
        return DD(*fast_two_sum(s, e + x.lo))
    s, e = two_sum(x.hi, y.hi)
    t, f = two_sum(x.lo, y.lo)
    s, e = fast_two_sum(s, e + t)
    return DD(*fast_two_sum(s, e + f))


def add_sloppy(x: DD, y: DD) -> DD:
    """x + y with one TwoSum: error ≤ ~2⁻¹⁰⁵·(|x| + |y|) (not relative to |x + y|), the bound
    a dot product has anyway; used by `sum`."""
    s, e = two_sum(x.hi, y.hi)
    return DD(*fast_two_sum(s, e + (x.lo + y.lo)))


def mul(x: DD, y) -> DD:
    """x · y (y a DD or a double)."""
    if not isinstance(y, DD):
        p, e = two_prod(x.hi, y)
        return DD(*fast_two_sum(p, e + x.lo * y))
    p, e = two_prod(x.hi, y.hi)
    return DD(*fast_two_sum(p, e + (x.hi * y.lo + x.lo * y.hi)))


def scale(x: DD, factor) -> DD:
    """x · 2^k for ``factor`` = 2^k (a number or an array): exact, two multiplications."""
    return DD(x.hi * factor, x.lo * factor)


def div(x: DD, y) -> DD:
    """x / y by long division: three quotient digits q1 + q2 + q3 (y a DD or a double)."""
    y = y if isinstance(y, DD) else DD(jnp.asarray(y, jnp.float64))
    q1 = x.hi / y.hi
    r = x - y * q1
    q2 = r.hi / y.hi
    r = r - y * q2
    q3 = r.hi / y.hi
    return add(DD(*fast_two_sum(q1, q2)), q3)


def where(condition, x: DD, y: DD) -> DD:
    """Elementwise choice between two DD arrays."""
    return DD(jnp.where(condition, x.hi, y.hi), jnp.where(condition, x.lo, y.lo))


def sum(x: DD, axis) -> DD:  # noqa: A001  (the double-double counterpart of jnp.sum)
    """Σ of x over ``axis`` (an int or tuple) with double-double additions (one XLA reduce):
    error ≤ ~n·2⁻¹⁰⁵·Σ|x| for n terms."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % len(x.shape) for a in axes)
    zero = jnp.zeros((), jnp.float64)

    def combine(a, b):
        s = add_sloppy(DD(*a), DD(*b))
        return (s.hi, s.lo)

    hi, lo = jax.lax.reduce((x.hi, x.lo), (zero, zero), combine, axes)
    return DD(hi, lo)


def dot(a, b, axis: int) -> DD:
    """Σ over ``axis`` of the broadcast product a·b (either operand a DD, the other a DD or
    float64 array): an einsum contraction written as product then `sum`."""
    product = a * b if isinstance(a, DD) else b * a
    return sum(product, axis)


# --- constants and tanh -------------------------------------------------------------------


def constant(value) -> tuple[float, float]:
    """(hi, lo) of an exact number (Fraction, Decimal, int or decimal text): hi the nearest
    double, lo the nearest double to the rest."""
    exact = Fraction(value)
    hi = float(exact)
    return hi, float(exact - Fraction(hi))


def _ln2() -> tuple[float, float]:
    with localcontext() as ctx:
        ctx.prec = 60
        return constant(Decimal(2).ln())


LN2 = _ln2()
_HALVINGS = 5  # expm1 is summed at u = r/2^5, |u| ≤ 0.0109, then doubled back 5 times
_DD_TERMS = 7  # Taylor terms u^j/j! summed in double-double; j = 8 … 13 in float64
_TAYLOR = tuple(constant(Fraction(1, math.factorial(j))) for j in range(1, _DD_TERMS + 1))
_TAIL = tuple(1.0 / math.factorial(j) for j in range(_DD_TERMS + 1, 14))
_SATURATE = 40.0  # 1 − tanh(40) = 3.6e-35, below half an ulp of a double-double at 1


def expm1_small(r: DD) -> DD:
    """e^r − 1 for |r| ≤ ln(2)/2: the Taylor series of e^u − 1 at u = r/2^5 to u^13/13! (the
    first omitted term is below 2⁻¹¹⁰ of the sum; terms from u^8/8! on, each below 5e-19 of
    the sum, are summed in float64, which rounds them far below 2⁻¹⁰⁶ of the sum), then five
    doublings e^{2u} − 1 = s·(s + 2), which involve no cancellation."""
    u = scale(r, 2.0**-_HALVINGS)
    tail = jnp.zeros_like(u.hi)
    for c in reversed(_TAIL):
        tail = (tail + c) * u.hi
    hi, lo = _TAYLOR[-1]
    p = DD(jnp.full_like(u.hi, hi), jnp.full_like(u.hi, lo)) + tail
    for hi, lo in reversed(_TAYLOR[:-1]):
        p = p * u + DD(jnp.full_like(u.hi, hi), jnp.full_like(u.hi, lo))
    s = p * u
    for _ in range(_HALVINGS):
        s = s * (s + 2.0)
    return s


def tanh(x: DD) -> DD:
    """tanh x = m/(m + 2), m = e^{2|x|} − 1, sign restored; ±1 beyond |x| = 40.

    With 2|x| = k·ln 2 + r (k an integer, |r| ≤ ln(2)/2, r formed in double-double from a
    two-double ln 2): m = expm1(r) for k = 0 (no cancellation for small x), else
    2^k·(1 + expm1(r)) − 1, where the subtraction loses at most two bits (2^k·e^r ≥ √2)."""
    saturated = jnp.abs(x.hi) >= _SATURATE  # False for nan, which goes through as nan
    sign = jnp.where(x.hi < 0, -1.0, 1.0)
    a = DD(jnp.where(saturated, _SATURATE, x.hi * sign), jnp.where(saturated, 0.0, x.lo * sign))
    y = scale(a, 2.0)
    k = jnp.round(y.hi / LN2[0])
    r = y - DD(jnp.full_like(k, LN2[0]), jnp.full_like(k, LN2[1])) * k
    s = expm1_small(r)
    big = scale(s + 1.0, jnp.ldexp(1.0, k.astype(jnp.int32))) - 1.0  # exp2 is not exact
    m = where(k == 0, s, big)
    t = m / (m + 2.0)
    t = where(saturated, DD(jnp.ones_like(x.hi)), t)
    return DD(t.hi * sign, t.lo * sign)
