"""Window coordinates carried exactly: decimal text in, double-double pixel values out.

A window 1e-25 decades wide cannot be written in doubles: its two bounds round to the same
float64. So a bound may be an exact number. `coordinate` turns what a user wrote (decimal text
on the command line or a quoted value in the config, a `Decimal` or a `Fraction`) into what a
`trainability.core.window.Window` stores: the float it equals when that float prints as the same
decimal (so ``"-3"`` and ``"0.25"`` are plain floats, and nothing changes for windows float64
resolves), else the exact `Fraction`. A float bound stands for the decimal it prints as
(``repr``, the shortest text that reads back as the same double: what was typed, for up to 15
significant digits): `exact` gives that number.

`axis_x2` computes the pixel values of the ``float64x2`` engine from the exact bounds: on a log
axis v_i = 10^(x_min + i·(x_max − x_min)/(n − 1)) with the exponent an exact rational and the
power evaluated in 60-digit decimal arithmetic, on a linear axis the exact rational; each value
rounded to a double-double (hi, lo). Its guard lives with the others in
`trainability.core.precision` (`float64x2_axes`). `text` writes a bound with every digit it has
(metadata, tick labels).
"""

from __future__ import annotations

import numbers
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

from trainability.numerics.doubledouble import constant

DIGITS = 60  # working precision of the decimal power 10^x


def coordinate(value) -> float | Fraction:
    """What a window stores for a bound written as ``value`` (see the module docstring)."""
    if isinstance(value, numbers.Real) and not isinstance(value, Fraction | bool):
        return float(value)  # floats, ints, numpy scalars: as they are
    try:
        exact_value = Fraction(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"a window bound must be a decimal number, got {value!r}") from None
    if exact_value.denominator > 10**400 or abs(exact_value) > 10**300:
        raise ValueError(f"a window bound must be a decimal number of moderate size: {value!r}")
    rounded = float(exact_value)
    return rounded if Fraction(repr(rounded)) == exact_value else exact_value


def exact(value) -> Fraction:
    """The exact number a window bound stands for (a float: the decimal it prints as)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):  # numpy's too: repr of the plain float
        return Fraction(repr(float(value)))
    return Fraction(value)


def is_exact(value) -> bool:
    """Whether a bound is kept as an exact number (it is no float)."""
    return isinstance(value, Fraction)


def width(lo, hi) -> float:
    """hi − lo as a float, computed exactly first when a bound is exact (decimal text, a
    `Fraction`): two bounds past float64 may round to the same double."""
    if isinstance(lo, str) or isinstance(hi, str) or is_exact(lo) or is_exact(hi):
        return float(exact(hi) - exact(lo))
    return float(hi) - float(lo)


def shifted(windows, origin=None) -> list[tuple[float, ...]]:
    """Windows (x_min, x_max, y_min, y_max) as floats. Floats stay as they are; when a bound is
    exact, every window is first shifted, exactly, by ``origin`` (x, y) — by default the first
    window's lower-left corner — so that what float64 keeps is the offsets, which are all a
    picture of nested windows needs."""
    windows = [tuple(w) for w in windows]
    if not any(isinstance(v, str) or is_exact(v) for w in windows for v in w):
        return [tuple(float(v) for v in w) for w in windows]
    ox, oy = (exact(v) for v in (origin or (windows[0][0], windows[0][2])))
    return [
        tuple(float(exact(v) - o) for v, o in zip(w, (ox, ox, oy, oy), strict=True))
        for w in windows
    ]


def text(value, digits: int = 40) -> str:
    """A bound as decimal text: a float as it prints, an exact number with all its digits when
    it has a finite decimal expansion (decimal text and the zoom's halvings of it do), else
    ``digits`` significant ones."""
    if not is_exact(value):
        return repr(value)
    q = exact(value)
    d = q.denominator
    twos = fives = 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    with localcontext() as ctx:
        if d == 1:  # finite: q·10^k is an integer
            k = max(twos, fives)
            ctx.prec = len(str(abs(q.numerator * 10**k // q.denominator))) + 2
            out = Decimal(q.numerator * 10**k // q.denominator).scaleb(-k)
        else:
            ctx.prec = digits
            out = Decimal(q.numerator) / Decimal(q.denominator)
        return _plain(out)


def _plain(d: Decimal) -> str:
    """Decimal text without an exponent where that stays short, trailing zeros dropped."""
    s = format(d.normalize(), "f") if abs(d.adjusted()) < 30 else format(d.normalize(), "e")
    return s if s != "-0" else "0"


def to_decimal(q: Fraction, digits: int = DIGITS) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = digits
        return Decimal(q.numerator) / Decimal(q.denominator)


def power_of_ten(x: Fraction, digits: int = DIGITS) -> Decimal:
    """10^x to ``digits`` significant digits."""
    with localcontext() as ctx:
        ctx.prec = digits + 5
        return (Decimal(10) ** to_decimal(x, digits + 5)).normalize(ctx)


def axis_x2(lo, hi, n: int, scale: str = "log") -> np.ndarray:
    """(n, 2) double-double pixel values of one axis from its exact bounds."""
    a, b = exact(lo), exact(hi)
    points = [a + (b - a) * Fraction(i, n - 1) for i in range(n)]
    if scale == "log":
        values = [Fraction(power_of_ten(p)) for p in points]
    else:
        values = points
    return np.array([constant(v) for v in values], np.float64).reshape(n, 2)


