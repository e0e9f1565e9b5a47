"""Numerics: JAX in float64 with its compilation cache kept on disk, and double-double
arithmetic (~32 digits) built from pairs of doubles.

The ground floor: imports nothing of the package but itself.
"""
