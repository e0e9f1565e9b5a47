"""JAX, switched to float64 before any array is made: every numerical module imports it here."""

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

__all__ = ["jax", "jnp"]
