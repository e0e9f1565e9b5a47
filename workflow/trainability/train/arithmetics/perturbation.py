"""``float64x2`` by perturbation: one reference run in double-double, every pixel as a float64
difference from it.

Deep in a zoom every pixel's learning rates η_p lie within 1e-20 or so (relative) of one
another. The double-double arithmetic (`trainability.train.arithmetics.doubledouble`) carries
each pixel's whole state in ~32 digits and pays ~100× float64 for it. Here one *reference*
run r, at an exact point of the window, is trained in double-double, and each pixel p carries
only its difference from it,

    δW = W_p − W_r   in float64,   δη = η_p − η_r   (exact, then rounded once to a double).

δW starts at 0 (every pixel starts from the same weights) and grows from δη. Its recurrences
are derived operation by operation so that no step subtracts two nearly equal numbers:

- data are exact doubles, so δ(X·W) = X·δW: a float64 matrix product, as in the float64 engine;
- products: (A + a)(B + b) − AB = a·(B + b) + A·b (δZ_i = δH·W_p + H_r·δW, and alike backwards);
- tanh (φ(z) = tanh(√2 z), x = √2 z_r, d = √2 δz, t = tanh x, T = tanh d):
  δφ = T·(1 − t²)/(1 + t·T). The denominator cancels when t and T have opposite signs and
  are both near 1; then it is formed as (1 − |t|) + |t|(1 − |T|) with 1 − |t| = sech²x/(1 + |t|)
  and 1 − |T| = 2/(e^{2|d|} + 1), both free of cancellation (T from one expm1: e^{2|d|} − 1 = m,
  |T| = m/(m + 2), 1 − |T| = 2/(m + 2)). The slope's difference is δφ' = −√2·δφ·(2t + δφ)
  and φ'_p = φ'_r + δφ' (`pixel_slopes`). Past |x| = 40 the double-double tanh is ±1;
  arguments are clamped there alike;
- ReLU: δφ = √2·δz where z_r and z_p = z_r + δz have the same sign (z_p's sign from z_r in
  double-double plus δz), else −√2·z_r or √2·z_p, and δφ' = √2·([z_p > 0] − [z_r > 0]);
- identity: δφ = δz;
- loss: δℓ = mean(δr·(2r_r + δr)); the gradient's δ by the same product rule backwards;
- update: δW' = δW − (η_r·δg + δη·(g_r + δg)).

In every δ term a reference quantity multiplies a δ, so it is needed to float64's relative
precision only (a relative error u of the factor is a relative error u of the term): the
reference's pre-activations, residuals, weights and gradient enter as doubles, rounded from its
double-double run. Only the reference's own trajectory must be double-double: an error in it
is an error in every pixel at once. A step of a pixel is float64 arithmetic: the two large
products against X as in the float64 engine, the hidden-to-output products twice, one expm1
per hidden unit where the float64 engine has one tanh (`benchmarks/precision.py` measures the
cost).

**Why the differences stay accurate while they are small.** A δ computed in float64 carries a
rounding error of about u = 2⁻⁵³ of its own size per operation. While δ is small, errors and δ
grow alike (both are differences between nearby trajectories, amplified by the same Jacobians,
e^{λt} in the chaotic band), so after t steps the error is ~t·u·|δ_t|: relative to the
separation, not to the weights. Two pixels p, q at distance Δη of each other and D from the
reference differ by ~(Δη/D)·|δ_t| ≥ |δ_t|/n (n pixels across the window) and carry errors
~t·u·|δ_t|: their difference stays resolved to ~t·u·n of itself (1e-11 at t = 1000, n = 64).
The same holds for the label: ℓ_p = ℓ_r (double-double) + δℓ, and the mean of the last 20
ℓ_t/ℓ_0 is compared with 1 to within ~t·u·|δℓ| — where pixels still lie close to the reference
(the linear-regression boundary of a 1e-22-decade window) that is ~1e-38 of ℓ. Once a pixel has
parted from the reference to O(1), its differences and their rounding errors are O(1): from
then on it carries float64's rounding, amplified like a float64 run's, and long chaotic runs
(~1000 steps of the tanh network) leave some labels to that noise (docs/precision.md measures
it). Hence double-double, not perturbation, is the default float64x2 arithmetic.

**The one failure** is a reference that blows up while a pixel does not: then δW ≈ −W_r grows
with the reference and W_r + δW cancels, the errors u·|δ| outgrowing the pixel's own weights
and its differences to its neighbours. The ratio κ = max|δW| / max|W_p| measures it: κ ≲ 1
wherever the differences are honest (pixels that blow up themselves have κ ≈ 1). So:

1. the reference is chosen not to blow up: the window's centre, else the first of a fixed 3×3
   lattice of exact points (1/6, 1/2, 5/6 of each axis) that does not blow up, else the one
   whose loss peaks lowest, else the one that blows up last (`reference`); the choice depends
   on the window only, so tiles compute the same reference and merge to the whole grid bit for
   bit;
2. a pixel whose κ exceeds `KAPPA` (2²⁰: six of float64's 16 digits lost relative to its own
   weights), or that is alive when the reference's loss stops being finite, is *flagged*: it
   stops, and is computed again from scratch by the double-double engine (on chunks of
   `FALLBACK_CHUNK` pixels). The grid's metadata counts these pixels (``fallback_pixels``).
   Never a silent wrong result; a rebase onto another reference would need the flagged
   pixel's differences to its neighbours, which are exactly what was lost.

Supported: the fused engine, gradient descent, tanh/ReLU/identity networks of any depth without
residual blocks, full batch or minibatch, learning-rate axes, every pixel starting from the same
weights. Anything else is refused in one line (`trainability.core.precision.check`); the
double-double arithmetic computes more of it.

**Why the differences have passes of their own.** The reference run is the network's own
passes (`trainability.models.mlp`) over double-doubles. The pixels' passes below are those
passes *differenced*: each operation replaced by the rule for its difference (linear maps
as they are, products by the product rule, activations by `activation_delta`), with the
reference's quantities read from its recorded run. They follow the network's structure line
for line, but they are a different computation, not the same one in other numbers, so they
are written here; an activation the network gains is refused by perturbation
(`trainability.core.precision.PERTURBATION_ACTIVATIONS`) until its δφ is derived here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache

import numpy as np

from trainability.core.condition import Condition
from trainability.core.coordinates import axis_x2
from trainability.core.precision import DOUBLEDOUBLE, PERTURBATION_ACTIVATIONS
from trainability.models.mlp import SQRT2, fused_forward, fused_loss_and_grads
from trainability.numerics import doubledouble as dd
from trainability.numerics.doubledouble import DD
from trainability.numerics.jax64 import jax, jnp
from trainability.numerics.number_systems import DOUBLE_DOUBLE
from trainability.train.arithmetics.base import Arithmetic, Start
from trainability.train.arithmetics.doubledouble import tally_start, tally_step, tally_values, to_dd
from trainability.train.measure import blowup_trajectory
from trainability.train.pixels import initial_weights, pixel_table

KAPPA = 2.0**20  # a pixel is flagged once max|δW| > KAPPA · max|W_p|
FALLBACK_CHUNK = 16  # pixels per compiled chunk of the double-double fallback
SATURATE = 40.0  # |√2 z| beyond which the double-double tanh is ±1 (doubledouble._SATURATE)
LATTICE = 6  # candidate points at k/6 of each axis, k = 3 (the centre), 1, 5
CANDIDATES = ((3, 3), (1, 1), (5, 1), (1, 5), (5, 5), (3, 1), (1, 3), (5, 3), (3, 5))


# --- the reference run ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The reference run: its point (fractions of the window along x and y), its learning
    rates (depth, 2) as double-doubles, the step it blew up (−1: never), and its trajectory,
    one row per step t = 0 … T−1 of float64 arrays (the double-double run rounded): ``W`` and
    ``G`` (weights the step sees and their gradient, per layer), ``Z`` (pre-activations of the
    hidden layers on the full batch; with ReLU also ``Zlo``, their low parts), ``R`` (residuals
    on the full batch) and ``loss`` ((T, 2): ℓ_t in double-double)."""

    point: tuple[Fraction, Fraction]
    lr: np.ndarray
    blowup_at: int
    trajectory: dict

    def segment_data(self):
        """The reference's part of the compiled segment's data: (η_r (depth,) leading doubles,
        its trajectory as device arrays)."""
        return jnp.asarray(self.lr[:, 0]), jax.tree_util.tree_map(jnp.asarray, self.trajectory)

    def meta(self) -> dict:
        return {
            "x": str(self.point[0]),
            "y": str(self.point[1]),
            "blowup_at": self.blowup_at,
        }


def reference(cond: Condition, window, weights0, X, Y, minibatches) -> Reference:
    """The reference run of ``window``: the first candidate point (centre first, `CANDIDATES`)
    whose run never blows up (ℓ_t ≤ 10⁶·ℓ_0, the stability label of `trainability.train.measure`),
    else the one whose loss peaks lowest, else (every loss reaches a non-finite value) the one
    that blows up last. Depends on the window's bounds only. ``weights0``: the
    initial weights, pixel-major with one pixel (1 × fan_in × fan_out)."""
    xs = axis_x2(window.x_min, window.x_max, LATTICE + 1, cond.x_scale)
    ys = axis_x2(window.y_min, window.y_max, LATTICE + 1, cond.y_scale)
    best, lowest = None, None
    for i, j in CANDIDATES:
        lr = pixel_table(cond, xs[i : i + 1], ys[j : j + 1])["lr"]
        trajectory = _record(cond)(weights0, lr, X, Y, minibatches)
        trajectory = jax.tree_util.tree_map(np.asarray, trajectory)
        loss = trajectory["loss"][:, 0]
        blowup = int(blowup_trajectory(loss)[()])
        run = Reference((Fraction(i, LATTICE), Fraction(j, LATTICE)), lr[0], blowup, trajectory)
        if blowup < 0:
            return run
        rank = (float(np.max(loss)) if np.isfinite(loss).all() else math.inf, -blowup)
        if lowest is None or rank < lowest:
            best, lowest = run, rank
    return best


@lru_cache(maxsize=8)
def _record(cond: Condition):
    """The compiled double-double run of one point for T steps, recording `Reference`'s
    trajectory (the network's double-double passes for each step)."""

    def run(weights0, lr, X, Y, minibatches):
        lrs = to_dd(lr)

        def step(weights, t):
            act = cond.activation
            loss, r, Zs, _, _ = fused_forward(weights, X, Y, act, numbers=DOUBLE_DOUBLE)
            batch = (X, Y) if minibatches is None else (X[minibatches[t]], Y[minibatches[t]])
            grads = fused_loss_and_grads(weights, *batch, act, numbers=DOUBLE_DOUBLE)[1]
            row = {
                "W": [w.hi[0] for w in weights],
                "G": [g.hi[0] for g in grads],
                "Z": [z.hi[0] for z in Zs],
                "R": r.hi[0],
                "loss": jnp.stack([loss.hi[0], loss.lo[0]]),
            }
            if cond.activation == "relu":
                row["Zlo"] = [z.lo[0] for z in Zs]
            pairs = enumerate(zip(weights, grads, strict=True))
            return tuple(w - lrs[:, i, None, None] * g for i, (w, g) in pairs), row

        start = tuple(DD(jnp.asarray(w)) for w in weights0)
        return jax.lax.scan(step, start, jnp.arange(cond.steps))[1]

    return jax.jit(run)


def lr_differences(lr, reference_lr) -> np.ndarray:
    """δη = η_p − η_r (P, depth): the exact difference of the double-double rates (P, depth, 2)
    and (depth, 2), rounded once to a double."""
    ref = [Fraction(float(h)) + Fraction(float(lo)) for h, lo in reference_lr]
    out = np.empty(lr.shape[:2])
    for p, rates in enumerate(lr.tolist()):
        for i, (h, lo) in enumerate(rates):
            out[p, i] = float(Fraction(h) + Fraction(lo) - ref[i])
    return out


# --- one step of the differences ----------------------------------------------------------


def activation_delta(name: str, z_hi, z_lo, dz):
    """(φ_r, δφ, φ'_r, φ'_p) of one hidden layer: the reference's activation and slope (N, k)
    from its pre-activation z_r = z_hi + z_lo, the pixels' (P, N, k) activation differences
    from δz (module docstring), and their slopes where they are not formed from δφ
    (`pixel_slopes`; None for tanh). ``z_lo`` is read by ReLU only."""
    if name == "identity":
        one = jnp.ones_like(z_hi)
        return z_hi, dz, one, one
    if name == "relu":
        positive_r = z_hi > 0
        z_p = dd.add(DD(z_hi[None], z_lo[None]), dz)
        positive_p = z_p.hi > 0
        change = jnp.where(positive_r, -z_hi, 0.0)[None] + jnp.where(positive_p, z_p.hi, 0.0)
        delta = jnp.where(positive_r[None] & positive_p, dz, change) * SQRT2
        slope_r = jnp.where(positive_r, SQRT2, 0.0)
        return jnp.maximum(z_hi, 0.0) * SQRT2, delta, slope_r, jnp.where(positive_p, SQRT2, 0.0)
    if name == "tanh":
        x = z_hi * SQRT2
        d = dz * SQRT2
        inside = (jnp.abs(x) < SATURATE)[None] & (jnp.abs(x + d) < SATURATE)
        xc = jnp.clip(x, -SATURATE, SATURATE)
        d = jnp.where(inside, d, jnp.clip(x + d, -SATURATE, SATURATE) - xc)
        t = jnp.tanh(xc)
        q = 1.0 / jnp.square(jnp.cosh(xc))  # sech²x = 1 − t², without cancellation
        # the reference's part once per step: XLA would fuse it into the pixels' loop and
        # evaluate tanh and cosh once per pixel
        t, q = jax.lax.optimization_barrier((t, q))
        m = jnp.expm1(2.0 * jnp.abs(d))
        inv = 1.0 / (m + 2.0)
        T = jnp.copysign(m * inv, d)  # |T| = m/(m + 2)
        tT = T * t[None]
        opposite = (q / (1.0 + jnp.abs(t)))[None] + jnp.abs(t)[None] * (2.0 * inv)
        delta = T * q[None] / jnp.where(tT >= 0, 1.0 + tT, opposite)
        return t, delta, SQRT2 * q, None
    raise ValueError(
        f"activation must be one of {', '.join(PERTURBATION_ACTIVATIONS)}; got {name!r}"
    )


def pixel_slopes(name: str, layer):
    """(φ'_p, δφ') of the pixels from `activation_delta`'s ``layer``. tanh: δφ' =
    −√2·δφ·(2t + δφ) (from 1 − tanh², no cancellation) and φ'_p = φ'_r + δφ', which is exact to
    u·φ'_r: a relative error u of the term it multiplies where the pixel is near the reference,
    and u of the reference's scale where it has separated from it (the float64 engine's own
    rounding of 1 − A² is no better there)."""
    A_r, delta, slope_r, slope_p = layer
    if name == "tanh":
        slope_delta = -SQRT2 * delta * (2.0 * A_r + delta)
        return slope_r + slope_delta, slope_delta
    return slope_p, slope_p - slope_r


def _forward(dW, Wp, ref, X, activation: str):
    """δr (P, N, t) and the hidden layers' `activation_delta` on the full batch."""
    scale = [1.0 / math.sqrt(w.shape[1]) for w in dW]
    dZ = jnp.einsum("nk,pkj->pnj", X, dW[0]) * scale[0]
    layers = []
    for i in range(1, len(dW)):
        z_lo = ref["Zlo"][i - 1] if "Zlo" in ref else None
        layer = activation_delta(activation, ref["Z"][i - 1], z_lo, dZ)
        A_r, dA = layer[:2]
        layers.append(layer)
        dZ = jnp.einsum("pnk,pkj->pnj", dA, Wp[i]) + jnp.einsum("nk,pkj->pnj", A_r, dW[i])
        dZ = dZ * scale[i]
    return dZ * scale[-1], layers


def _gradient(dW, Wp, dr, layers, ref, X, activation: str):
    """δg_i (P × fan_in × fan_out) on the batch whose rows ``dr``, ``layers``, ``ref["R"]``
    and X hold: the backward pass of `trainability.models.mlp.fused_loss_and_grads`, differenced."""
    depth = len(dW)
    scale = [1.0 / math.sqrt(w.shape[1]) for w in dW]
    c = 2.0 / dr.shape[1] / dr.shape[2] * scale[-1]
    ddZ = dr * c  # δ(∂ℓ/∂Z_{L−1})
    dZ_r = ref["R"] * c
    grads = [None] * depth
    for i in range(depth - 1, 0, -1):
        A_r, dA, slope_r, _ = layers[i - 1]
        slope_p, dslope = pixel_slopes(activation, layers[i - 1])
        dZ_p = dZ_r[None] + ddZ
        grads[i] = jnp.einsum("nk,pnj->pkj", A_r, ddZ) + jnp.einsum("pnk,pnj->pkj", dA, dZ_p)
        grads[i] = grads[i] * scale[i]
        ddH = jnp.einsum("pnj,pkj->pnk", ddZ, Wp[i]) + jnp.einsum("nj,pkj->pnk", dZ_r, dW[i])
        ddH = ddH * scale[i]
        dH_r = jnp.einsum("nj,kj->nk", dZ_r, ref["W"][i]) * scale[i]
        ddZ = ddH * slope_p + dH_r[None] * dslope
        dZ_r = dH_r * slope_r
    grads[0] = jnp.einsum("nk,pnj->pkj", X, ddZ) * scale[0]
    return grads


def train_step(dW, t, hp, data, *, cond: Condition):
    """One gradient-descent step of the differences: ``(δW', ℓ_t, κ_t)``, ℓ_t the full-batch
    loss of the weights the step sees as a double-double (P,), κ_t = max|δW|/max|W_p|.

    ``hp["dlr"]``: δη (P, depth); ``data``: (X, Y, minibatches, (η_r (depth,), the reference's
    row of step t))."""
    X, _, minibatches, (lr_r, ref) = data
    Wp = [w[None] + d for w, d in zip(ref["W"], dW, strict=True)]
    dr, layers = _forward(dW, Wp, ref, X, cond.activation)
    dloss = jnp.mean(dr * (2.0 * ref["R"][None] + dr), axis=(1, 2))
    loss = dd.add(DD(jnp.full_like(dloss, ref["loss"][0]), jnp.full_like(dloss, ref["loss"][1])),
                  dloss)  # fmt: skip
    if minibatches is None:
        grads = _gradient(dW, Wp, dr, layers, ref, X, cond.activation)
    else:
        idx = minibatches[jnp.minimum(t, cond.steps - 1)]
        rows = [tuple(_rows(a, idx) for a in layer) for layer in layers]
        batch = {"R": ref["R"][idx], "W": ref["W"]}
        grads = _gradient(dW, Wp, dr[:, idx], rows, batch, X[idx], cond.activation)
    dlr = hp["dlr"]
    new = tuple(
        d - (lr_r[i] * g + dlr[:, i, None, None] * (ref["G"][i][None] + g))
        for i, (d, g) in enumerate(zip(dW, grads, strict=True))
    )
    size_d = jnp.max(jnp.stack([jnp.max(jnp.abs(d), axis=(1, 2)) for d in dW]), axis=0)
    size_p = jnp.max(jnp.stack([jnp.max(jnp.abs(w), axis=(1, 2)) for w in Wp]), axis=0)
    kappa = size_d / size_p
    return new, loss, kappa


def _rows(a, idx):
    """Rows ``idx`` (data points) of a reference (N, k) or pixels' (P, N, k) array, or None."""
    if a is None:
        return None
    return a[idx] if a.ndim == 2 else a[:, idx]


def segment_step(carry, t, hp, data, *, cond: Condition, engine_name: str, retire_factor):
    """`train_step` and the double-double tally (`doubledouble.tally_step`) of one step; a live
    pixel is flagged, and stops, once κ_t > `KAPPA` or the reference's loss is not finite.
    ``carry`` = (δW, (flagged,), tally, probe) as the sweep holds it."""
    dW, (flagged,), tally, probe = carry
    X, Y, minibatches, (lr_r, trajectory) = data
    ref = jax.tree_util.tree_map(lambda a: a[jnp.minimum(t, cond.steps - 1)], trajectory)
    new, loss, kappa = train_step(dW, t, hp, (X, Y, minibatches, (lr_r, ref)), cond=cond)
    bad = ~jnp.isfinite(ref["loss"][0]) | (jnp.isfinite(kappa) & (kappa > KAPPA))
    flag = tally.alive & (t < cond.steps) & bad
    tally = tally_step(tally, loss, t, cond.steps, retire_factor)
    tally = tally._replace(alive=tally.alive & ~flag)
    return (new, (flagged | flag,), tally, probe)


# --- the arithmetic, as the sweep calls it ------------------------------------------------


def prepare(cond: Condition, window, data, weights0) -> Reference:
    """The window's reference run (`reference`), from the one initial network."""
    start = initial_weights(cond, weights0, {}, np.zeros(1, np.int64), weights0[0].dtype)
    return reference(cond, window, start, *data[:3])


def start(cond: Condition, xs, ys, pixel_index, weights0, dtype, prepared: Reference) -> Start:
    """Differences δW = 0 from the reference, no pixel flagged, δη per pixel and layer
    (`lr_differences`) and the double-double tally."""
    table = pixel_table(cond, xs, ys)
    weights = initial_weights(cond, weights0, table, pixel_index, dtype)
    n = len(xs)
    hp = {"dlr": lr_differences(table["lr"], prepared.lr)}
    return Start([np.zeros_like(w) for w in weights], [np.zeros(n, bool)], hp, tally_start(n))


PERTURBATION = Arithmetic(
    name="perturbation",
    prepare=prepare,
    start=start,
    step=segment_step,
    finish=tally_values,
    flagged=lambda opt_state: np.flatnonzero(opt_state[0]),
    fallback=lambda engine: replace(
        engine, arithmetic=DOUBLEDOUBLE, chunk=min(engine.chunk, FALLBACK_CHUNK)
    ),
)
