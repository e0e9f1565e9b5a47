"""Fractal trainability boundaries."""
