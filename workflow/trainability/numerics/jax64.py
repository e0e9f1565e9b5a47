"""JAX, switched to float64 before any array is made, with the persistent compilation cache on
(`trainability.numerics.compile_cache`): every numerical module imports it here."""

import jax
import jax.numpy as jnp

from trainability.numerics import compile_cache

jax.config.update("jax_enable_x64", True)
compile_cache.enable(jax)

__all__ = ["jax", "jnp"]
