"""Learning-rate schedules: the factor s(t) multiplying every layer's learning rate at step t.

With T = ``steps``:

- ``constant``: s(t) = 1;
- ``warmup``: s(t) = min(1, (t + 1)/w), w = ``warmup_steps`` (a field, or one value per pixel
  on a ``warmup_steps`` axis; any real w ≥ 0, and s = 1 where w = 0);
- ``cosine``: s(t) = f + (1 − f)·(1 + cos(π·t/(T − 1)))/2, f = ``final_lr_fraction``, so
  s(0) = 1 and s(T − 1) = f;
- ``step``: s(t) = ``decay_factor``^⌊t/``decay_every``⌋.

`schedule` returns s as a function of the step, or None when s(t) = 1 exactly at every step;
the step then leaves the multiply out, so such a schedule is the constant one to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from trainability.core.condition import Condition
from trainability.numerics.jax64 import jnp


def schedule(cond: Condition, hp: dict) -> Callable | None:
    """s(t, dtype) of the condition: a scalar, or (P,) with a ``warmup_steps`` column in the
    pixel table ``hp``; None when it is exactly 1 at every step."""
    if cond.schedule == "warmup":
        if "warmup_steps" in hp:
            w = hp["warmup_steps"]

            def per_pixel_warmup(t, dtype):
                tf = jnp.asarray(t, dtype)
                return jnp.where(w > 0, jnp.minimum(1.0, (tf + 1) / jnp.where(w > 0, w, 1.0)), 1.0)

            return per_pixel_warmup
        if cond.warmup_steps == 0:
            return None
        return lambda t, dtype: jnp.minimum(1.0, (jnp.asarray(t, dtype) + 1) / cond.warmup_steps)
    if cond.schedule == "cosine":
        f = cond.final_lr_fraction
        if f == 1.0:
            return None
        last = max(cond.steps - 1, 1)
        return lambda t, dtype: (
            f + (1.0 - f) * 0.5 * (1.0 + jnp.cos(math.pi * jnp.asarray(t, dtype) / last))
        )
    if cond.schedule == "step":
        if cond.decay_factor == 1.0:
            return None
        return lambda t, dtype: jnp.power(
            jnp.asarray(cond.decay_factor, dtype), (t // cond.decay_every).astype(dtype)
        )
    if cond.schedule == "constant":
        return None
    raise AssertionError(cond.schedule)
