"""From a training trajectory to a signed pixel value: the paper's convergence measure.

Let ℓ_t be the full-batch loss *before* update t, t = 0 … T−1 (docs/methods.md §2):

1. non-finite ℓ_t → 10⁶;   2. v_t = ℓ_t / ℓ_0;   3. v_t → min(v_t, 10⁶);
4. converged ⇔ mean(v over the last 20 steps) < θ, θ = 1 (the paper's; θ = ½ for the
   cross-entropy, `threshold`);
5. value = −Σ_t v_t if converged, +Σ_t 1/v_t if diverged (the sign is the label).

`measure_trajectory` applies this to a whole trajectory (the reference's way, used by tests and
the baseline benchmark). The sweep never stores trajectories: it streams ℓ_t into a `Tally`
(Σv, Σ1/v, Σ of the last 20 v) with `tally_step`, and `tally_values` finishes it.

**Early exit.** A pixel is retired at step t when ℓ_t is non-finite, or when ℓ_t exceeds
``retire_factor`` × ℓ_0 (default 10²⁰) while ℓ_0 ≤ 1. Its remaining T − 1 − t steps then
contribute v_ret = min(10⁶/ℓ_0, 10⁶) each, which is exactly what they would have contributed:
a non-finite loss stays non-finite (NaN weights stay NaN), and a loss past 10²⁰·ℓ_0 only grows
(the assumption the tests check), so every later v is capped at 10⁶ — the same number as
10⁶/ℓ_0 capped when ℓ_0 ≤ 1. When ℓ_0 > 1 a finite huge loss (v = 10⁶) and its later
overflow (v = 10⁶/ℓ_0) differ, so only non-finite losses retire a pixel. Labels never change;
values change only by the order of summation. (A threshold of 10⁶ would not be safe: losses
that cross it can still come back and converge.)

**Two labels.** Besides the paper's *trainability* label above, each pixel gets a *stability*
label (docs/seeds.md): it **blows up** at the first step t with ℓ_t non-finite or
ℓ_t > ``BLOWUP_FACTOR`` × ℓ_0 (10⁶, the cap of the normalised loss: beyond it the paper's measure
no longer tells losses apart), and is *stable* if no step does (``blowup_at`` = −1). A pixel
may be trainable and blown up (the loss spiked past 10⁶·ℓ_0, then came back) or stable and
untrainable (it never improved nor blew up). The stability label is exact under early exit:
a pixel is retired only at a non-finite loss (a blow-up at that very step) or at
ℓ_t > 10²⁰·ℓ_0 > 10⁶·ℓ_0 (ditto), and every step before its retirement is tallied, so the
first crossing is always seen; later steps cannot change a first crossing.

**Other networks, other losses** (the generic path, `trainability.train.arithmetics.generic`:
the cnn, the transformer, the mlp on digits). The same rule and the same tally label them,
with one addition: v_t is also clamped from below, v_t ← max(v_t, `V_FLOOR` = 10⁻⁶), the cap
mirrored. The cross-entropy of a network that separates its training images by a margin past
~37 is exactly 0 in float64 (and may round to −0), so v_t = 0 (or −0) and the diverged value
Σ 1/v_t would be +∞ (or −∞); clamped, a step contributes at most 10⁶ to either sum, as a
blown-up step does. Labels change only where the tail mean lies within 10⁻⁶ of 1.

**The rule for classification** (`threshold`; measured in docs/real_networks.md). For the
cross-entropy the label is converged ⇔ mean(v over the last 20 steps) < θ = ½: the tail's loss
must be at most half the initial one. The paper's θ = 1 counts a network that learnt nothing as
trained: a relu network whose units died (too large a step) outputs the same logits for every
image, and its cross-entropy settles at the entropy of the class frequencies, ≈ log 10 ≈ ℓ_0,
a hair below it (v̄ = 0.993–0.997). On the cnn (relu, 16², 200 steps) 63 of 256 pixels with
gradient descent and 42 of 256 with Adam sit there, finite and "converged" by θ = 1. With
gradient descent the tail means are bimodal (cnn and transformer: 2 and 8 of 256 pixels in
[0.2, 0.95]; trained below, at chance or diverged above); with Adam and for the mlp, partial
learners fill the gap (9–37 % of the pixels), and the converged share hardly moves for θ from
0.1 to ½ (cnn: 31 % to 32 %) but jumps at θ = 1 (57 %). θ = ½, "the loss at least halved",
lies in that plateau; ½ ℓ_0 ≈ 1.15 nats is a geometric-mean probability of the true class of
at least 0.32, three times chance. The mean squared error keeps the paper's θ = 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from trainability.numerics.jax64 import jnp

LOSS_CAP = 1e6
V_FLOOR = 1 / LOSS_CAP  # the generic path's lower clamp of v_t (module docstring)
TAIL = 20
THRESHOLD = 1.0  # the paper's: converged ⇔ mean of the last TAIL v_t < 1
CROSS_ENTROPY_THRESHOLD = 0.5  # classification: the tail's loss at most half the first's
RETIRE_FACTOR = 1e20
BLOWUP_FACTOR = 1e6  # stability label: blown up once ℓ_t > BLOWUP_FACTOR·ℓ_0 (or non-finite)


class Tally(NamedTuple):
    """Streamed sums of one chunk of pixels (all arrays of shape (P,))."""

    loss0: jnp.ndarray  # ℓ_0 after the non-finite → 10⁶ rule
    total: jnp.ndarray  # Σ v_t
    total_inv: jnp.ndarray  # Σ 1/v_t
    tail: jnp.ndarray  # Σ v_t over the last TAIL steps
    alive: jnp.ndarray  # bool: not retired yet
    retired_at: jnp.ndarray  # int: step of retirement, −1 if never
    blowup_at: jnp.ndarray  # int: first step that blew up (stability label), −1 if none


def tally_start(n: int, dtype=np.float64) -> Tally:
    zeros = np.zeros(n, dtype)
    return Tally(
        np.ones(n, dtype),
        zeros,
        zeros.copy(),
        zeros.copy(),
        np.ones(n, bool),
        -np.ones(n, np.int32),
        -np.ones(n, np.int32),
    )


def tally_step(
    tally: Tally,
    loss,
    t,
    steps: int,
    retire_factor: float | None = RETIRE_FACTOR,
    floor: float | None = None,
) -> Tally:
    """Add step t's loss ℓ_t (shape (P,)) to the sums and retire pixels that have diverged;
    ``retire_factor=None`` retires no pixel (no early exit), ``inf`` only non-finite ones;
    ``floor``: v_t ← max(v_t, floor) (the generic path's `V_FLOOR`; None: no floor, the
    paper's measure)."""
    active = tally.alive & (t < steps)
    finite = jnp.isfinite(loss)
    capped_loss = jnp.where(finite, loss, LOSS_CAP)
    loss0 = jnp.where(t == 0, capped_loss, tally.loss0)
    v = jnp.minimum(capped_loss / loss0, LOSS_CAP)
    if floor is not None:
        v = jnp.maximum(v, floor)
    in_tail = t >= steps - TAIL
    total = tally.total + jnp.where(active, v, 0.0)
    total_inv = tally.total_inv + jnp.where(active, 1.0 / v, 0.0)
    tail = tally.tail + jnp.where(active & in_tail, v, 0.0)
    blows = active & (tally.blowup_at < 0) & (~finite | (loss > BLOWUP_FACTOR * loss0))
    blowup_at = jnp.where(blows, t, tally.blowup_at).astype(tally.blowup_at.dtype)

    if retire_factor is None:
        return Tally(loss0, total, total_inv, tail, tally.alive, tally.retired_at, blowup_at)
    threshold = jnp.where(loss0 <= 1.0, retire_factor * loss0, jnp.inf)
    retire = active & (~finite | (loss > threshold)) & (t < steps - 1)
    remaining = jnp.asarray(steps - 1 - t, loss.dtype)
    v_ret = jnp.minimum(LOSS_CAP / loss0, LOSS_CAP)
    total = total + jnp.where(retire, remaining * v_ret, 0.0)
    total_inv = total_inv + jnp.where(retire, remaining / v_ret, 0.0)
    tail = tail + jnp.where(retire, jnp.minimum(remaining, TAIL) * v_ret, 0.0)
    return Tally(
        loss0,
        total,
        total_inv,
        tail,
        tally.alive & ~retire,
        jnp.where(retire, t, tally.retired_at).astype(tally.retired_at.dtype),
        blowup_at,
    )


def threshold(cond) -> float:
    """θ of the label converged ⇔ mean of the last 20 v_t < θ: ½ for a condition trained on
    the cross-entropy, 1 (the paper's) for the mean squared error (module docstring)."""
    return CROSS_ENTROPY_THRESHOLD if cond.objective == "cross_entropy" else THRESHOLD


def tally_values(
    tally: Tally, steps: int, threshold: float = THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Signed values and labels: (−Σv or +Σ1/v, converged) per pixel, converged ⇔ the mean
    of the last 20 v_t is below ``threshold`` (`threshold`)."""
    converged = np.asarray(tally.tail) / min(steps, TAIL) < threshold
    values = np.where(converged, -np.asarray(tally.total), np.asarray(tally.total_inv))
    return values.astype(np.float64), converged


def blowup_trajectory(losses) -> np.ndarray:
    """The reference stability label over whole trajectories (..., T): the first step whose
    loss is non-finite or above ``BLOWUP_FACTOR`` × ℓ_0 (ℓ_0 non-finite → 10⁶), −1 if none."""
    ell = np.asarray(losses, dtype=np.float64)
    loss0 = np.where(np.isfinite(ell[..., :1]), ell[..., :1], LOSS_CAP)
    with np.errstate(invalid="ignore"):
        blows = ~np.isfinite(ell) | (ell > BLOWUP_FACTOR * loss0)
    return np.where(blows.any(axis=-1), blows.argmax(axis=-1), -1)


def measure_trajectory(losses, threshold: float = THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """The reference measure over whole trajectories, losses of shape (..., T); converged ⇔
    the mean of the last 20 v_t is below ``threshold``."""
    v = np.asarray(losses, dtype=np.float64)
    v = np.where(np.isfinite(v), v, LOSS_CAP)
    v = np.minimum(v / v[..., :1], LOSS_CAP)
    converged = v[..., -TAIL:].mean(axis=-1) < threshold
    return np.where(converged, -v.sum(axis=-1), (1.0 / v).sum(axis=-1)), converged
