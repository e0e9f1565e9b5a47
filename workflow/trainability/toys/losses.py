r"""Toy losses whose learning-rate trainability boundary is fractal (Liu 2024).

Reproduces the 1-D experiments of Y. Liu, *Complex fractal trainability boundary
can arise from trivial non-convexity*, arXiv:2406.13971 (2024) [LIU], which
explain the fractal boundaries found in neural-network training by
J. Sohl-Dickstein, *The boundary of neural network trainability is fractal*,
arXiv:2402.06184 (2024).  Section numbers refer to docs/methods.md §6.

**Losses** (§2.1).  A quadratic bowl ``x**2`` (curvature 2, so plain gradient
descent diverges iff ``lr > 1``) perturbed by a cosine of amplitude ``eps`` and
wavelength ``lam`` (``k = 2*pi/lam``):

* additive: ``f = x**2 + eps*cos(k*x)``, ``f' = 2*x - eps*k*sin(k*x)``;
* multiplicative: ``f = x**2 * (1 + eps*cos(k*x))``,
  ``f' = 2*x*(1 + eps*cos(k*x)) - eps*k*x**2*sin(k*x)``;
* two_cosines: ``f = x**2 + eps*cos(k*x) + eps2*cos(k2*x)`` (Liu: wavelengths
  0.3 and 0.5), ``f' = 2*x - eps*k*sin(k*x) - eps2*k2*sin(k2*x)``.

In ``d = dim`` dimensions the additive (and two-cosine) loss is the separable
sum ``sum_i f(x_i)``; the multiplicative loss is
``(sum_i x_i**2) * (1 + eps * sum_i cos(k*x_i))`` with gradient
``2*x_i*(1 + eps*sum_j cos(k*x_j)) - eps*k*(sum_j x_j**2)*sin(k*x_i)``.

**Roughness and convexity** (§2.2).  ``theta_+ = eps/lam**2`` (additive) and
``theta_x = eps`` (multiplicative).  ``f_+'' = 2 - eps*k**2*cos(k*x)`` is
non-negative everywhere iff ``|eps|/lam**2 <= 1/(2*pi**2)``
(:data:`CRITICAL_ROUGHNESS`, about 0.0507); Liu finds the learning-rate boundary
fractal (``alpha > 0``) essentially exactly when the loss is non-convex.  The
multiplicative loss has ``f'' -> -inf`` for large ``|x|`` whenever ``eps != 0``.

**Renormalisation** (§2.2).  Substituting ``x = b*y`` maps the additive loss
``(eps, lam)`` to ``(eps/b**2, lam/b)`` and the multiplicative one to
``(eps, lam/b)``, with the learning rate unchanged, ``x0 -> x0/b`` and the loss
(hence the divergence threshold) scaled by ``1/b**2``.  For ``b = 2`` every
floating-point operation of the sweep scales exactly by a power of two (barring
underflow), so the labels agree bit for bit.

**Trainability label** (§2.3).  Gradient descent ``x_{t+1} = x_t - lr*f'(x_t)``
runs ``steps`` (1000) steps from ``x0``.  A run *diverges* if the loss of any
iterate ``x_0 .. x_steps`` exceeds ``threshold*dim`` (1e8 per dimension in
Liu's CPU runs) or is not finite; it is frozen there.  :func:`sweep_lr` labels
the ``2**levels + 1`` learning rates ``lr_k = lr_max*k/2**levels`` (Liu: lr_max
= 1.5), and :func:`toy_dimension` turns the labels into Liu's box-counting
exponent ``alpha`` with :func:`trainability.analysis.dimension.alpha_1d`.

**Strip colouring** (§2.4, ``gputest-3``).  With ``return_values=True`` a
bounded run gets ``log1p(sum_{t=1..steps} f(x_t))`` and a divergent one
``log1p(sum_{t=1..T} 1/f(x_t))`` up to and including its divergent step ``T``
(non-finite ``1/f`` terms count 0).  The sums are accumulated inside the loop,
so no ``steps x lrs`` array is ever built.  ``log1p`` is applied as
``sign(s)*log1p(|s|)``, which equals Liu's value for non-negative sums and stays
finite when an additive loss dips below zero.

All arithmetic is float64: importing this module enables ``jax_enable_x64``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

from trainability.analysis.dimension import Dimension1D, alpha_1d
from trainability.numerics.jax64 import jax, jnp

__all__ = [
    "CRITICAL_ROUGHNESS",
    "KINDS",
    "ToyLoss",
    "is_convex",
    "loss_grad",
    "loss_value",
    "loss_value_and_grad",
    "lr_grid",
    "min_curvature",
    "roughness",
    "sweep_lr",
    "toy_dimension",
]

#: Liu's critical roughness: the additive loss is convex iff eps/lam**2 <= 1/(2 pi^2).
CRITICAL_ROUGHNESS: float = 1.0 / (2.0 * math.pi**2)

KINDS: tuple[str, ...] = ("additive", "multiplicative", "two_cosines")

_TWO_PI = 2.0 * math.pi


def _finite_real(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return v


@dataclass(frozen=True)
class ToyLoss:
    """One of Liu's toy losses (see the module docstring for the formulas).

    ``kind``: ``"additive"``, ``"multiplicative"`` or ``"two_cosines"``;
    ``eps``/``wavelength``: amplitude and wavelength of the (first) cosine;
    ``eps2``/``wavelength2``: the second cosine, used only by ``"two_cosines"``
    (Liu: wavelength 0.3 and 0.5); ``dim``: number of coordinates.
    """

    kind: str
    eps: float
    wavelength: float
    eps2: float = 0.0
    wavelength2: float = 0.5
    dim: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}.")
        for name in ("eps", "wavelength", "eps2", "wavelength2"):
            object.__setattr__(self, name, _finite_real(name, getattr(self, name)))
        if self.wavelength <= 0:
            raise ValueError(f"wavelength must be positive, got {self.wavelength!r}.")
        if self.wavelength2 <= 0:
            raise ValueError(f"wavelength2 must be positive, got {self.wavelength2!r}.")
        if self.kind != "two_cosines" and self.eps2 != 0.0:
            raise ValueError(
                f"eps2 is only used by kind='two_cosines'; got eps2={self.eps2!r} "
                f"for kind={self.kind!r}."
            )
        if isinstance(self.dim, bool) or not isinstance(self.dim, int | np.integer):
            raise ValueError(f"dim must be an integer, got {self.dim!r}.")
        if self.dim < 1:
            raise ValueError(f"dim must be at least 1, got {self.dim!r}.")
        object.__setattr__(self, "dim", int(self.dim))

    @property
    def k(self) -> float:
        """Angular wavenumber ``2*pi/wavelength`` of the first cosine."""
        return _TWO_PI / self.wavelength

    @property
    def k2(self) -> float:
        """Angular wavenumber ``2*pi/wavelength2`` of the second cosine."""
        return _TWO_PI / self.wavelength2

    def _params(self) -> tuple[float, float, float, float]:
        return (self.eps, self.k, self.eps2, self.k2)


# ------------------------------------------------------------------ loss kernels
#
# ``x`` has shape (..., d).  The same kernel serves the public functions and the
# sweep, so the labels are computed with exactly the formulas that the gradient
# test checks against jax.grad.


def _value_and_grad(kind: str, x: jax.Array, params: Any) -> tuple[jax.Array, jax.Array]:
    eps, k, eps2, k2 = params
    a = x * k
    c, s = jnp.cos(a), jnp.sin(a)
    if kind == "multiplicative":
        sq = jnp.sum(x * x, axis=-1, keepdims=True)
        m = 1.0 + eps * jnp.sum(c, axis=-1, keepdims=True)
        f = (sq * m)[..., 0]
        g = 2.0 * x * m - (eps * k) * sq * s
        return f, g
    f = jnp.sum(x * x + eps * c, axis=-1)
    g = 2.0 * x - (eps * k) * s
    if kind == "two_cosines":
        a2 = x * k2
        f = f + eps2 * jnp.sum(jnp.cos(a2), axis=-1)
        g = g - (eps2 * k2) * jnp.sin(a2)
    return f, g


def _value(kind: str, x: jax.Array, params: Any) -> jax.Array:
    eps, k, eps2, k2 = params
    c = jnp.cos(x * k)
    if kind == "multiplicative":
        return jnp.sum(x * x, axis=-1) * (1.0 + eps * jnp.sum(c, axis=-1))
    f = jnp.sum(x * x + eps * c, axis=-1)
    if kind == "two_cosines":
        f = f + eps2 * jnp.sum(jnp.cos(x * k2), axis=-1)
    return f


def _points(loss: ToyLoss, x: Any) -> tuple[jax.Array, bool]:
    """x as an array of shape (..., dim); flag whether a trailing axis was added."""
    xa = jnp.asarray(x, dtype=jnp.float64)
    if loss.dim == 1:
        return xa[..., None], True
    if xa.ndim == 0 or xa.shape[-1] != loss.dim:
        raise ValueError(
            f"x must have a last axis of length dim={loss.dim}, got shape {tuple(xa.shape)}."
        )
    return xa, False


def loss_value(loss: ToyLoss, x: Any) -> jax.Array:
    """The loss ``f(x)``.

    For ``dim == 1`` every element of ``x`` is a point (any shape, result has
    the same shape); for ``dim > 1`` the last axis of ``x`` holds the ``dim``
    coordinates and is reduced.
    """
    xa, _ = _points(loss, x)
    return _value(loss.kind, xa, loss._params())


def loss_value_and_grad(loss: ToyLoss, x: Any) -> tuple[jax.Array, jax.Array]:
    """``(f(x), grad f(x))`` from the analytic formulas (shapes as in :func:`loss_value`;
    the gradient has the shape of ``x``)."""
    xa, squeeze = _points(loss, x)
    f, g = _value_and_grad(loss.kind, xa, loss._params())
    return f, (g[..., 0] if squeeze else g)


def loss_grad(loss: ToyLoss, x: Any) -> jax.Array:
    """Analytic gradient ``grad f(x)``, same shape as ``x``."""
    return loss_value_and_grad(loss, x)[1]


# ------------------------------------------------------------ roughness, convexity


def roughness(loss: ToyLoss) -> float:
    """Liu's roughness: ``theta_+ = eps/wavelength**2`` (additive), ``theta_x = eps``
    (multiplicative).  Not defined for ``two_cosines`` (use :func:`min_curvature`)."""
    if loss.kind == "additive":
        return loss.eps / loss.wavelength**2
    if loss.kind == "multiplicative":
        return loss.eps
    raise ValueError(
        "roughness is defined only for kind 'additive' or 'multiplicative'; "
        "use min_curvature for 'two_cosines'."
    )


def _max_two_cosines(a: float, b: float, ratio: float) -> float:
    """max over x of ``a*cos(phi) + b*cos(ratio*phi)``, ``phi = k1*x``.

    With ``ratio = m/n`` (lowest terms, n, m <= 1000) the sum is periodic; put
    ``phi = n*psi`` and maximise ``a*cos(n psi) + b*cos(m psi)`` over one period
    on a grid of 64 points per shortest period, refining every grid local
    maximum by Newton's method.  For an (effectively) irrational ratio the two
    phases are dense on the torus and the supremum is ``|a| + |b|``.
    """
    frac = Fraction(ratio).limit_denominator(1000)
    if abs(float(frac) - ratio) > 1e-12 * ratio:
        return abs(a) + abs(b)
    m, n = frac.numerator, frac.denominator
    npts = 64 * max(m, n, 16)
    psi = np.arange(npts) * (2.0 * math.pi / npts)

    def g(p: np.ndarray) -> np.ndarray:
        return a * np.cos(n * p) + b * np.cos(m * p)

    v = g(psi)
    peak = (v >= np.roll(v, 1)) & (v >= np.roll(v, -1))
    p = psi[peak]
    h = 2.0 * math.pi / npts
    for _ in range(30):
        d1 = -a * n * np.sin(n * p) - b * m * np.sin(m * p)
        d2 = -a * n * n * np.cos(n * p) - b * m * m * np.cos(m * p)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(d2 < 0, -d1 / d2, 0.0)
        p = p + np.clip(step, -h, h)
    return float(max(np.max(v), np.max(g(p))))


def min_curvature(loss: ToyLoss) -> float:
    """Infimum over x of the smallest Hessian eigenvalue of the loss.

    additive: ``2 - |eps|*k**2`` (the Hessian is diagonal with entries
    ``f''(x_i)``, so the same in every dimension); two_cosines:
    ``2 - max_x [eps*k**2*cos(k*x) + eps2*k2**2*cos(k2*x)]``, analytic when one
    amplitude is 0 or both are positive (the maximum is at x = 0), otherwise
    numerical over one common period (see :func:`_max_two_cosines`);
    multiplicative: ``-inf`` for ``eps != 0`` (the ``-eps*k**2*x**2*cos`` term is
    unbounded), 2 for ``eps == 0``.  The loss is convex iff the result is >= 0.
    """
    if loss.kind == "multiplicative":
        return 2.0 if loss.eps == 0.0 else -math.inf
    a = loss.eps * loss.k**2
    if loss.kind == "additive":
        return 2.0 - abs(a)
    b = loss.eps2 * loss.k2**2
    if a == 0.0 or b == 0.0 or (a > 0.0 and b > 0.0):
        return 2.0 - abs(a) - abs(b)
    return 2.0 - _max_two_cosines(a, b, loss.wavelength / loss.wavelength2)


def is_convex(loss: ToyLoss) -> bool:
    """True iff :func:`min_curvature` is >= 0."""
    return min_curvature(loss) >= 0.0


# ----------------------------------------------------------------------- sweep


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}.")
    return int(value)


def lr_grid(lr_max: float = 1.5, levels: int = 20) -> np.ndarray:
    """Liu's learning-rate grid ``lr_k = lr_max*k/2**levels``, k = 0..2**levels."""
    levels = _check_int("levels", levels, 2)
    if levels > 40:
        raise ValueError(f"levels must be at most 40, got {levels}.")
    lr_max = _finite_real("lr_max", lr_max)
    if lr_max <= 0:
        raise ValueError(f"lr_max must be positive, got {lr_max!r}.")
    return lr_max * np.arange(2**levels + 1, dtype=np.float64) / 2.0**levels


@partial(jax.jit, static_argnames=("kind", "with_values"))
def _segment(kind, lrs, x, alive, sums, params, thr, t0, t1, with_values):
    """Advance one call's worth of runs through iterations ``t0 <= t < t1``.

    Iteration t evaluates f and grad f at x_t (one sin/cos pair per cosine),
    marks the run diverged if f(x_t) > thr or is NaN, and otherwise steps to
    x_{t+1}; iteration ``steps`` only checks (its update is never used).
    ``sums`` = (sum of f, sum of finite 1/f) over t >= 1, or None.
    """
    lr = lrs[:, None]

    def body(t, carry):
        x, alive, sums = carry
        f, g = _value_and_grad(kind, x, params)
        now = alive & (f <= thr)  # NaN compares False
        if with_values:
            counted = t > 0
            inv = 1.0 / f
            inv = jnp.where(jnp.isfinite(inv), inv, 0.0)
            sums = (
                sums[0] + jnp.where(now & counted, f, 0.0),
                sums[1] + jnp.where(alive & counted, inv, 0.0),
            )
        return jnp.where(now[:, None], x - lr * g, x), now, sums

    return jax.lax.fori_loop(t0, t1, body, (x, alive, sums))


# Runs are compacted (diverged ones dropped) before these iterations: most
# divergent learning rates blow up within a few dozen steps.
_COMPACT_AT = (64, 256)


def _bucket(n: int) -> int:
    """Round n up to a multiple of 2**(floor(log2 n) - 3) (at least 64): few
    distinct compiled shapes, at most 12.5 % padding."""
    n = max(n, 64)
    q = 1 << (n.bit_length() - 4)
    return -(-n // q) * q


def _calls(n: int, per_call: int) -> list[tuple[int, int, int]]:
    """Split n runs into equal calls of at most per_call: (start, stop, padded size)."""
    if n == 0:
        return []
    ncalls = -(-n // per_call)
    size = -(-n // ncalls)
    return [(i, min(i + size, n), _bucket(size)) for i in range(0, n, size)]


def sweep_lr(
    loss: ToyLoss,
    x0: Any,
    lr_max: float = 1.5,
    levels: int = 20,
    steps: int = 1000,
    threshold: float = 1e8,
    chunk: int = 2**17,
    return_values: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Trainability labels over Liu's learning-rate grid (True = bounded).

    Runs ``steps`` steps of gradient descent on ``loss`` from ``x0`` (a scalar,
    meaning ``x0*ones(dim)``, or a length-``dim`` vector) for each of the
    ``2**levels + 1`` learning rates of :func:`lr_grid`.  A run diverges, and is
    frozen, when the loss of an iterate ``x_0..x_steps`` exceeds
    ``threshold*dim`` or is not finite.

    The runs are independent and elementwise, so they are processed in
    compiled calls of about ``chunk`` (learning rate, coordinate) pairs at most
    (+12.5 % padding; memory O(chunk) per call, O(2**levels * dim) for the
    host-side state), and the
    diverged runs are dropped after iterations 64 and 256; neither changes a
    single label.

    Returns the bool labels (length ``2**levels + 1``); with
    ``return_values=True`` returns ``(labels, values)`` with Liu's strip
    colouring values (module docstring).
    """
    if not isinstance(loss, ToyLoss):
        raise ValueError(f"loss must be a ToyLoss, got {type(loss).__name__}.")
    lrs = lr_grid(lr_max, levels)
    steps = _check_int("steps", steps, 1)
    chunk = _check_int("chunk", chunk, 1)
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a real number, got {threshold!r}.") from None
    if not threshold > 0:  # also rejects NaN; +inf means "only non-finite diverges"
        raise ValueError(f"threshold must be positive, got {threshold!r}.")
    x0a = np.asarray(x0, dtype=np.float64)
    if x0a.ndim == 0:
        x0a = np.full(loss.dim, float(x0a))
    if x0a.shape != (loss.dim,):
        raise ValueError(
            f"x0 must be a scalar or a vector of length dim={loss.dim}, got shape {x0a.shape}."
        )
    if not np.all(np.isfinite(x0a)):
        raise ValueError("x0 must be finite.")

    d, n = loss.dim, lrs.size
    per_call = max(1, chunk // d)
    params = tuple(jnp.float64(p) for p in loss._params())
    thr = jnp.float64(threshold * d)
    with_values = bool(return_values)

    # Host-side state of every run; `idx` lists the runs still alive.
    x = np.broadcast_to(x0a, (n, d)).copy()
    alive = np.ones(n, dtype=np.bool_)
    sums = (np.zeros(n), np.zeros(n)) if with_values else None
    idx = np.arange(n)
    bounds = [0] + [t for t in _COMPACT_AT if t < steps + 1] + [steps + 1]
    for t0, t1 in zip(bounds[:-1], bounds[1:], strict=True):
        for a, b, size in _calls(idx.size, per_call):
            sel = idx[a:b]
            m = b - a
            pad = size - m
            lr_c = np.pad(lrs[sel], (0, pad))
            x_c = np.pad(x[sel], ((0, pad), (0, 0)))
            s_c = None
            if with_values:
                s_c = tuple(jnp.asarray(np.pad(s[sel], (0, pad))) for s in sums)
            x_o, a_o, s_o = _segment(
                loss.kind,
                jnp.asarray(lr_c),
                jnp.asarray(x_c),
                jnp.ones(size, dtype=bool),
                s_c,
                params,
                thr,
                t0,
                t1,
                with_values,
            )
            x[sel] = np.asarray(x_o)[:m]
            alive[sel] = np.asarray(a_o)[:m]
            if with_values:
                for s, so in zip(sums, s_o, strict=True):
                    s[sel] = np.asarray(so)[:m]
        idx = idx[alive[idx]]
    if not with_values:
        return alive
    total = np.where(alive, sums[0], sums[1])
    return alive, np.sign(total) * np.log1p(np.abs(total))


def toy_dimension(
    loss: ToyLoss, x0: Any, *, fit_levels: tuple[int, int] | None = None, **sweep_kw: Any
) -> Dimension1D:
    """Liu's boundary exponent ``alpha`` for a toy loss.

    Sweeps with :func:`sweep_lr` (``sweep_kw``: lr_max, levels, steps,
    threshold, chunk) and returns :func:`trainability.analysis.dimension.alpha_1d` of the
    labels; ``fit_levels = (kmin, kmax)`` restricts the fit (default: all levels).
    """
    if sweep_kw.get("return_values"):
        raise ValueError("return_values cannot be used with toy_dimension.")
    sweep_kw.pop("return_values", None)
    return alpha_1d(sweep_lr(loss, x0, **sweep_kw), levels=fit_levels)
