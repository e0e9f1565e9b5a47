"""Zooms into the boundary: keyframe paths (exact past float64), boundary points by bisection, and
where the fractal ends (the depth below which the boundary is smooth).

May import: every floor below it (`numerics`, `core`, `models`, `train`, `analysis`).
"""
