"""Double-double arithmetic: the error-free transformations are exact under jit (bit for bit,
checked in exact rational arithmetic on adversarial inputs), and the operations and tanh are
accurate to a few units of 2^-106 against Python's decimal module."""

from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest

from trainability.numerics import doubledouble as dd
from trainability.numerics.jax64 import jax, jnp

U = 2.0**-106  # unit roundoff of a double-double


def adversarial(n=4000, seed=0):
    """Pairs (a, b) where naive or reassociated arithmetic loses bits: wildly different
    magnitudes, near-cancellation, ties, powers of two, 53-bit odd significands, huge and tiny."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n) * 2.0 ** rng.integers(-60, 60, n)
    b = rng.normal(size=n) * 2.0 ** rng.integers(-60, 60, n)
    b[: n // 4] = -a[: n // 4] * (1 + rng.normal(size=n // 4) * 2.0**-40)  # cancellation
    b[n // 4 : n // 2] = a[n // 4 : n // 2] * 2.0**-53  # ties at half an ulp
    odd = (2.0**53 - 1) * 2.0 ** rng.integers(-80, 20, n // 4)  # all 53 bits set
    a[n // 2 : 3 * n // 4] = odd
    b[n // 2 : 3 * n // 4] = -odd * (1 - 2.0**-52)
    a[-4:] = [1e140, 1e-140, 2.0**500, -(2.0**-500)]  # far from overflow and underflow:
    b[-4:] = [1e-140, -1e140, 2.0**-30, 3.0]  # halves of ~1e-300 are flushed to zero
    return a, b


def exact(x):
    return Fraction(float(x))


def test_two_sum_is_error_free_under_jit():
    a, b = adversarial()
    s, e = jax.jit(dd.two_sum)(jnp.asarray(a), jnp.asarray(b))
    s, e = np.asarray(s), np.asarray(e)
    for i in range(a.size):
        assert exact(s[i]) + exact(e[i]) == exact(a[i]) + exact(b[i]), (a[i], b[i])
        assert s[i] == a[i] + b[i]  # s is the rounded sum


def test_two_prod_is_error_free_under_jit():
    a, b = adversarial(seed=1)
    p, e = jax.jit(dd.two_prod)(jnp.asarray(a), jnp.asarray(b))
    p, e = np.asarray(p), np.asarray(e)
    for i in range(a.size):
        assert exact(p[i]) + exact(e[i]) == exact(a[i]) * exact(b[i]), (a[i], b[i])


def test_split_halves_have_26_bits():
    a, _ = adversarial(seed=2)
    hi, lo = (np.asarray(v) for v in jax.jit(dd.split)(jnp.asarray(a)))
    assert np.array_equal(hi + lo, a)
    for part in (hi, lo):
        mantissa, _ = np.frexp(part)
        assert np.array_equal(np.ldexp(mantissa, 26), np.round(np.ldexp(mantissa, 26)))


def value(x: dd.DD, i):
    return Fraction(float(x.hi[i])) + Fraction(float(x.lo[i]))


@pytest.mark.parametrize("op", ["add", "mul", "div"])
def test_operations_are_accurate(op):
    rng = np.random.default_rng(3)
    n = 300
    x = dd.DD(*(jnp.asarray(v) for v in _normalised(rng, n)))
    y = dd.DD(*(jnp.asarray(v) for v in _normalised(rng, n)))
    fn = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b}[op]
    out = jax.jit(fn)(x, y)
    for i in range(n):
        a, b = value(x, i), value(y, i)
        ref = {"add": a + b, "mul": a * b, "div": a / b}[op]
        bound = 4 * U * (abs(a) + abs(b) if op == "add" else abs(ref))
        assert abs(value(out, i) - ref) <= bound


def _normalised(rng, n):
    hi = rng.normal(size=n) * 2.0 ** rng.integers(-20, 20, n)
    lo = hi * rng.uniform(-1, 1, n) * 2.0**-53
    return hi + lo, lo - ((hi + lo) - hi)


def test_tanh_is_accurate_and_propagates_nan():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(size=150) * 4, rng.normal(size=50) * 1e-6, [0.35, 39.9, 60]])
    lo = x * rng.uniform(-1, 1, x.size) * 2.0**-54
    x, lo = np.append(x, [np.nan, np.inf, -np.inf]), np.append(lo, [0.0, 0.0, 0.0])
    t = jax.jit(dd.tanh)(dd.DD(jnp.asarray(x), jnp.asarray(lo)))
    assert np.isnan(t.hi[-3]) and list(t.hi[-2:]) == [1.0, -1.0]
    with localcontext() as ctx:
        ctx.prec = 60
        for i in range(x.size - 3):
            X = Decimal(x[i]) + Decimal(lo[i])
            e = (2 * X).exp()
            ref = (e - 1) / (e + 1)
            got = Decimal(float(t.hi[i])) + Decimal(float(t.lo[i]))
            assert abs(got - ref) <= Decimal(16 * U) * abs(ref), x[i]


def test_sum_and_dot_agree_with_exact_sums():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(3, 40)) * 2.0 ** rng.integers(-30, 30, (3, 40))
    b = rng.normal(size=(3, 40))
    out = jax.jit(lambda a, b: dd.dot(dd.DD(a), b, 1))(jnp.asarray(a), jnp.asarray(b))
    for r in range(3):
        ref = sum(Fraction(float(p)) * Fraction(float(q)) for p, q in zip(a[r], b[r], strict=True))
        scale = sum(
            abs(Fraction(float(p)) * Fraction(float(q))) for p, q in zip(a[r], b[r], strict=True)
        )
        assert abs(value(out, r) - ref) <= 64 * U * scale
